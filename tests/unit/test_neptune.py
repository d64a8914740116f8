"""The fraud graph (issue 20): a Neptune global database. What a stack records with it on, that
no stack builds it by default, the settings it refuses, and what a role flip does (nothing)."""

from __future__ import annotations

import pytest

from components.settings import ConfigError, load_settings
from preflight.config import load_stack_config
from tests.support.stacks import STACKS, only, recorded

GLOBAL = "aws:neptune/globalCluster:GlobalCluster"
CLUSTER = "aws:neptune/cluster:Cluster"
INSTANCE = "aws:neptune/clusterInstance:ClusterInstance"
PARAMS = "aws:neptune/clusterParameterGroup:ClusterParameterGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"


@pytest.mark.parametrize("stack", [s for s in STACKS if s != "prod"])
def test_off_outside_prod(stack: str) -> None:
    rec = recorded(stack)
    assert not [r for r in rec.resources if r.type.startswith("aws:neptune/")]
    assert "fraudGraph" not in rec.outputs


def test_prod_with_the_fraud_graph_on() -> None:
    """Issue 20: prod builds all three new stores, the fraud graph on db.r5.large, the Neptune
    class the price table has an AWS-published rate for (docs/cost.md), so prod's estimate
    stays complete."""
    rec = recorded("prod")
    (glob,) = rec.by_type(GLOBAL)
    assert glob.region == "us-east-1"  # the anchor region
    assert glob.inputs["engine"] == "neptune"
    assert glob.inputs["storageEncrypted"] is True
    assert glob.inputs["deletionProtection"] is True
    clusters = {c.region: c for c in rec.by_type(CLUSTER)}
    assert set(clusters) == {"us-east-1", "us-west-2"}
    for region, cluster in clusters.items():
        i = cluster.inputs
        # AWS: every member runs the global database's version (1.2.0.0 or above).
        assert i["engineVersion"] == glob.inputs["engineVersion"] == "1.3.2.1"
        assert glob.urn in cluster.property_dependencies["globalClusterIdentifier"]
        assert i["storageEncrypted"] is True
        assert i["kmsKeyArn"].startswith(f"arn:aws:kms:{region}:")
        assert i["iamDatabaseAuthenticationEnabled"] is True
        assert i["deletionProtection"] is True
        assert i["enableCloudwatchLogsExports"] == ["audit"]
        assert i["backupRetentionPeriod"] == 7
        assert i["skipFinalSnapshot"] is False
        assert i["finalSnapshotIdentifier"] == f"securecart-prod-fraud-{region}-final"
        # No credentials on either cluster: Neptune has no master user (IAM auth).
        assert not {"masterUsername", "masterPassword"} & set(i)
        (params,) = only(rec, PARAMS, region)
        assert params.urn in cluster.property_dependencies["neptuneClusterParameterGroupName"]
        assert params.inputs["family"] == "neptune1.3"
        assert {p["name"]: p["value"] for p in params.inputs["parameters"]} == {
            "neptune_enable_audit_log": "1"
        }
        instances = only(rec, INSTANCE, region)
        assert len(instances) == 2
        for inst in instances:
            assert inst.inputs["instanceClass"] == "db.r5.large"
            assert inst.inputs["publiclyAccessible"] is False
            assert cluster.urn in inst.property_dependencies["clusterIdentifier"]
        (sg,) = [g for g in only(rec, SG, region) if "neptune" in g.name]
        (rule,) = sg.inputs["ingress"]
        assert (rule["fromPort"], rule["toPort"]) == (8182, 8182)
        assert rule["cidrBlocks"] == ["10.200.0.0/16", "10.201.0.0/16"]
        assert sg.inputs["egress"] == []
    # The secondary joins after the primary's writer exists (AWS refuses it before).
    writer = next(r for r in rec.by_type(INSTANCE) if r.name == "neptune-us-east-1-1")
    assert writer.urn in clusters["us-west-2"].dependencies
    out = rec.outputs["fraudGraph"]
    assert set(out["clusters"]) == {"us-east-1", "us-west-2"}
    assert out["clusters"]["us-west-2"]["port"] == 8182


def test_a_role_flip_leaves_the_fraud_graph_untouched() -> None:
    normal = recorded("prod")
    flipped = recorded("prod", "primaryRegion=us-west-2", "secondaryRegion=us-east-1")
    assert flipped.outputs["primaryRegion"] == "us-west-2"
    before = {r.urn: r for r in normal.resources if "NeptuneGlobalDatabase" in r.urn}
    after = {r.urn: r for r in flipped.resources if "NeptuneGlobalDatabase" in r.urn}
    assert before and before.keys() == after.keys()
    for urn, res in before.items():
        assert res.inputs == after[urn].inputs, urn


def _settings(**overrides: object) -> object:
    raw = load_stack_config("staging").project_values()
    raw.update(overrides)
    return load_settings(raw)


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("neptuneInstanceClass", "db.t4g.medium", "one of ['db.r5.large'"),
        ("neptuneEngineVersion", "1.1.1.0", "1.2.0.0 or above"),
        ("neptuneBackupRetentionDays", 1, "an integer from 7 to 35"),
        ("neptuneInstancesPerRegion", 0, "an integer from 1 to 16"),
    ],
)
def test_bad_neptune_settings_name_the_key_value_and_what_is_allowed(
    key: str, value: object, allowed: str
) -> None:
    with pytest.raises(ConfigError) as err:
        _settings(**{key: value})
    assert f"'{key}'" in str(err.value) and repr(value) in str(err.value)
    assert allowed in str(err.value)


def test_prod_refuses_neptune_without_deletion_protection() -> None:
    raw = load_stack_config("prod").project_values()
    raw["neptuneDeletionProtection"] = False
    with pytest.raises(ConfigError, match=r"neptuneDeletionProtection.*true in prod"):
        load_settings(raw)


def test_the_fraud_name_points_at_the_first_primary_and_only_with_the_fraud_graph() -> None:
    """Neptune has no global writer endpoint: ``fraud.<zone>`` is a simple CNAME to the anchor
    cluster's endpoint (the first primary), which the drills move with the writer."""
    rec = recorded("prod")
    zone = rec.outputs["writerDnsName"].removeprefix("writer.")
    (record,) = [
        r for r in rec.by_type("aws:route53/record:Record") if r.inputs["name"] == f"fraud.{zone}"
    ]
    (anchor,) = only(rec, CLUSTER, "us-east-1")
    (other,) = only(rec, CLUSTER, "us-west-2")
    assert record.inputs["type"] == "CNAME"
    # the endpoint is known only after creation (unknown under the mocks): its source is
    assert len(record.inputs["records"]) == 1
    assert anchor.urn in record.property_dependencies["records"]
    assert other.urn not in record.property_dependencies["records"]
    assert not record.inputs.get("setIdentifier")
    assert rec.outputs["fraudGraph"]["dnsName"] == f"fraud.{zone}"
    without = recorded("staging")  # no fraud graph there
    assert not [
        r
        for r in without.by_type("aws:route53/record:Record")
        if r.inputs["name"].startswith("fraud.")
    ]
