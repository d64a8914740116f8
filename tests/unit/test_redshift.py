"""The analytics warehouse (components/redshift.py): the inputs each resource receives in prod's
recorded plan, its absence where the stack leaves it off, and the settings loader's refusals.

Expected values come from the issue (CMK, snapshot copy to the other region, not public,
enhanced VPC routing, audit logging), AWS's pages cited in the component, and stacks/
Pulumi.prod.yaml (ra3.xlplus x 2, 35 days, app CIDRs 10.200.0.0/16 and 10.201.0.0/16)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.settings import ConfigError, load_settings
from preflight.config import load_stack_config
from preflight.model import RecordedResource, Recording
from tests.support.stacks import recorded

CLUSTER = "aws:redshift/cluster:Cluster"
REDSHIFT_TYPES = (
    CLUSTER,
    "aws:redshift/logging:Logging",
    "aws:redshift/parameterGroup:ParameterGroup",
    "aws:redshift/snapshotCopy:SnapshotCopy",
    "aws:redshift/snapshotCopyGrant:SnapshotCopyGrant",
    "aws:redshift/subnetGroup:SubnetGroup",
)
PROD_ID = "securecart-prod-analytics-us-east-1"


def _one(recording: Recording, name: str) -> RecordedResource:
    (found,) = [r for r in recording.resources if r.name == name]
    return found


def _from(resource: RecordedResource, prop: str) -> set[str]:
    """Logical names of the resources an input was computed from."""
    return {urn.rsplit("::", 1)[1] for urn in resource.property_dependencies.get(prop, ())}


@pytest.fixture(scope="module")
def prod() -> Recording:
    return recorded("prod")


def test_the_cluster_is_private_encrypted_and_logged_in_the_anchor_region(prod: Recording) -> None:
    cluster = _one(prod, "redshift-us-east-1")
    inputs = cluster.inputs
    assert cluster.type == CLUSTER and cluster.region == "us-east-1"  # min(us-east-1, us-west-2)
    assert {
        k: inputs[k]
        for k in (
            "clusterIdentifier",
            "nodeType",
            "clusterType",
            "numberOfNodes",
            "encrypted",
            "publiclyAccessible",
            "enhancedVpcRouting",
            "manageMasterPassword",
            "automatedSnapshotRetentionPeriod",
            "allowVersionUpgrade",
            "skipFinalSnapshot",
            "finalSnapshotIdentifier",
            "port",
            "masterUsername",
            "databaseName",
        )
    } == {
        "clusterIdentifier": PROD_ID,
        "nodeType": "ra3.xlplus",
        "clusterType": "multi-node",
        "numberOfNodes": 2.0,
        "encrypted": "true",
        "publiclyAccessible": False,
        "enhancedVpcRouting": True,
        "manageMasterPassword": True,
        "automatedSnapshotRetentionPeriod": 35.0,
        "allowVersionUpgrade": True,
        "skipFinalSnapshot": False,
        "finalSnapshotIdentifier": f"{PROD_ID}-final",
        "port": 5439.0,
        "masterUsername": "securecart_admin",
        "databaseName": "analytics",
    }
    # no password ever passes through Pulumi: Secrets Manager generates it
    assert "masterPassword" not in inputs and "masterPasswordWo" not in inputs
    # the warehouse's own CMK in its region; the admin secret under the secrets CMK
    assert _from(cluster, "kmsKeyId") == {"redshift-key-us-east-1"}
    assert inputs["kmsKeyId"].startswith("arn:aws:kms:us-east-1:")
    assert _from(cluster, "masterPasswordSecretKmsKeyId") == {"secrets-key-us-east-1"}
    assert _from(cluster, "clusterSubnetGroupName") == {"redshift-subnets-us-east-1"}
    assert _from(cluster, "clusterParameterGroupName") == {"redshift-params-us-east-1"}
    assert _from(cluster, "vpcSecurityGroupIds") == {"redshift-sg-us-east-1"}


def test_the_parameter_group_requires_tls_and_the_activity_log(prod: Recording) -> None:
    group = _one(prod, "redshift-params-us-east-1")
    assert group.inputs["family"] == "redshift-1.0"
    assert {p["name"]: p["value"] for p in group.inputs["parameters"]} == {
        "require_ssl": "true",
        "enable_user_activity_logging": "true",
    }


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2"])
def test_both_regions_have_the_data_vpcs_subnets_security_group_and_parameters(
    prod: Recording, region: str
) -> None:
    """The cluster's region, and the copy region a restore lands in without creating anything."""
    subnets = _one(prod, f"redshift-subnets-{region}")
    assert subnets.region == region
    assert _from(subnets, "subnetIds") == {f"subnet-{region}{az}" for az in "abc"}
    group = _one(prod, f"redshift-sg-{region}")
    assert _from(group, "vpcId") == {f"vpc-{region}"}
    assert group.inputs["egress"] == []
    (rule,) = group.inputs["ingress"]
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 5439.0, 5439.0)
    assert rule["cidrBlocks"] == ["10.200.0.0/16", "10.201.0.0/16"]
    params = _one(prod, f"redshift-params-{region}")
    assert params.region == region
    assert {p["name"]: p["value"] for p in params.inputs["parameters"]}["require_ssl"] == "true"


def test_every_audit_log_goes_to_cloudwatch(prod: Recording) -> None:
    logging = _one(prod, "redshift-logging-us-east-1")
    assert logging.region == "us-east-1"
    assert logging.inputs["logDestinationType"] == "cloudwatch"
    assert sorted(logging.inputs["logExports"]) == ["connectionlog", "useractivitylog", "userlog"]
    assert _from(logging, "clusterIdentifier") == {"redshift-us-east-1"}


def test_snapshots_are_copied_to_the_other_region_through_a_grant_there(prod: Recording) -> None:
    grant = _one(prod, "redshift-copy-grant-us-west-2")
    assert grant.region == "us-west-2"  # the grant lives in the destination region
    assert _from(grant, "kmsKeyId") == {"redshift-key-us-west-2"}  # the replica key there
    assert grant.inputs["kmsKeyId"].startswith("arn:aws:kms:us-west-2:")
    copy_ = _one(prod, "redshift-snapshot-copy-us-east-1")
    assert copy_.region == "us-east-1"
    assert (copy_.inputs["destinationRegion"], copy_.inputs["retentionPeriod"]) == (
        "us-west-2",
        35.0,
    )
    assert _from(copy_, "clusterIdentifier") == {"redshift-us-east-1"}
    assert _from(copy_, "snapshotCopyGrantName") == {"redshift-copy-grant-us-west-2"}
    replica = _one(prod, "redshift-key-us-west-2")
    assert _from(replica, "primaryKeyArn") == {"redshift-key-us-east-1"}


def test_the_stack_exports_what_a_restore_needs(prod: Recording) -> None:
    out = prod.outputs["redshift"]
    assert (out["region"], out["copyRegion"], out["clusterIdentifier"]) == (
        "us-east-1",
        "us-west-2",
        PROD_ID,
    )
    assert out["snapshotCopyGrantName"] == PROD_ID
    restore = out["restore"]
    assert restore["subnetGroupName"] == restore["parameterGroupName"]
    assert restore["subnetGroupName"] == "securecart-prod-analytics-us-west-2"


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_stacks_that_leave_it_off_have_no_warehouse_and_no_key(stack: str) -> None:
    recording = recorded(stack)
    assert not [r for r in recording.resources if r.type in REDSHIFT_TYPES]
    assert not [r for r in recording.resources if r.name.startswith("redshift-")]
    assert "redshift" not in recording.outputs


# --- settings --------------------------------------------------------------------------------

BASE: dict[str, Any] = load_stack_config("prod").project_values()


def _with(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    raw.update(changes)
    return raw


BAD = [
    ("not RA3", {"redshiftNodeType": "dc2.large"}, "redshiftNodeType", "'ra3.xlplus'"),
    (
        "single ra3.4xlarge",
        {"redshiftNodeType": "ra3.4xlarge", "redshiftNumberOfNodes": 1},
        "redshiftNumberOfNodes",
        "an integer from 2 to 32 for ra3.4xlarge",
    ),
    (
        "too many ra3.xlplus",
        {"redshiftNumberOfNodes": 17},
        "redshiftNumberOfNodes",
        "an integer from 1 to 16 for ra3.xlplus",
    ),
    ("zero nodes", {"redshiftNumberOfNodes": 0}, "redshiftNumberOfNodes", "from 1 to 32"),
    (
        "default admin",
        {"redshiftMasterUsername": "awsuser"},
        "redshiftMasterUsername",
        "not the default awsuser",
    ),
    (
        "uppercase admin",
        {"redshiftMasterUsername": "Admin"},
        "redshiftMasterUsername",
        "a lowercase identifier",
    ),
    (
        "snapshots off",
        {"redshiftSnapshotRetentionDays": 0},
        "redshiftSnapshotRetentionDays",
        "an integer from 1 to 35",
    ),
    (
        "copies kept too long",
        {"redshiftCopyRetentionDays": 36},
        "redshiftCopyRetentionDays",
        "an integer from 1 to 35",
    ),
    (
        "short maintenance window",
        {"redshiftMaintenanceWindow": "sun:07:00-sun:07:10"},
        "redshiftMaintenanceWindow",
        "30",
    ),
    ("switch not a boolean", {"redshiftEnabled": "yes"}, "redshiftEnabled", "true or false"),
    ("unknown key", {"redshiftMultiAz": True}, "redshiftMultiAz", "redshiftCopyRetentionDays"),
]


@pytest.mark.parametrize(("case", "changes", "key", "allowed"), BAD, ids=[b[0] for b in BAD])
def test_bad_redshift_config_names_key_value_and_allowed(
    case: str, changes: dict[str, Any], key: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_with(**changes))
    assert caught.value.key == key, case
    message = str(caught.value)
    assert f"config key '{key}' has value {caught.value.value!r}" in message
    assert allowed in message, message


def test_defaults_and_the_node_count_each_type_starts_at() -> None:
    off = load_settings(load_stack_config("dev").project_values()).redshift
    assert (off.enabled, off.node_type, off.number_of_nodes) == (False, "ra3.large", 1)
    raw = _with(redshiftNodeType="ra3.4xlarge")
    del raw["redshiftNumberOfNodes"]
    big = load_settings(raw).redshift
    assert (big.node_type, big.number_of_nodes) == ("ra3.4xlarge", 2)
    prod = load_settings(BASE).redshift
    assert (prod.enabled, prod.snapshot_retention_days, prod.copy_retention_days) == (True, 35, 35)
