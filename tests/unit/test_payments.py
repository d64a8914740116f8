"""The payments database (issue 20): what each stack records, the settings it refuses, and what
a role flip does to it (nothing)."""

from __future__ import annotations

import pytest

from components.settings import ConfigError, load_settings
from preflight.config import load_stack_config
from tests.support.stacks import only, recorded

INSTANCE = "aws:rds/instance:Instance"
BACKUPS = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def test_dev_builds_no_payments_database() -> None:
    rec = recorded("dev")
    assert rec.by_type(INSTANCE) == [] and rec.by_type(BACKUPS) == []
    assert "payments" not in rec.outputs


@pytest.mark.parametrize(
    ("stack", "source", "replica"),
    [
        ("staging", "us-east-2", "us-west-2"),
        ("prod", "us-east-1", "us-west-2"),
    ],
)
def test_source_in_the_anchor_region_and_a_replica_in_the_other(
    stack: str, source: str, replica: str
) -> None:
    rec = recorded(stack)
    (src,) = only(rec, INSTANCE, source)
    (rep,) = only(rec, INSTANCE, replica)
    for instance, region in ((src, source), (rep, replica)):
        assert instance.inputs["multiAz"] is True
        assert instance.inputs["storageType"] == "gp3"
        assert instance.inputs["maxAllocatedStorage"] > instance.inputs["allocatedStorage"]
        assert instance.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{region}:")
        assert instance.inputs["performanceInsightsKmsKeyId"] == instance.inputs["kmsKeyId"]
        assert instance.inputs["iamDatabaseAuthenticationEnabled"] is True
        assert instance.inputs["deletionProtection"] is True
        assert instance.inputs["publiclyAccessible"] is False
        assert instance.inputs["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
        assert instance.inputs["monitoringInterval"] > 0
    # The replica names its source by ARN and carries no credentials of its own.
    assert rep.inputs["replicateSourceDb"] == src.outputs["arn"]
    assert src.urn in rep.property_dependencies["replicateSourceDb"]
    assert "password" not in rep.inputs and "username" not in rep.inputs
    # No RDS-managed password: AWS refuses a read replica of such a source.
    assert "manageMasterUserPassword" not in src.inputs
    assert src.property_dependencies["password"]
    (backups,) = rec.by_type(BACKUPS)
    assert backups.region == replica
    assert backups.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{replica}:")
    assert backups.inputs["retentionPeriod"] == src.inputs["backupRetentionPeriod"]
    alarms = {a.inputs["dimensions"].get("DBInstanceIdentifier"): a for a in rec.by_type(ALARM)}
    for instance in (src, rep):
        alarm = alarms[instance.inputs["identifier"]]
        assert alarm.inputs["metricName"] == "CPUUtilization"
        assert alarm.inputs["threshold"] == 80
        assert alarm.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm.inputs["alarmActions"]
    outputs = rec.outputs["payments"]
    assert outputs["sourceRegion"] == source
    assert set(outputs["instances"]) == {source, replica}


RECORD = "aws:route53/record:Record"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_payments_name_in_the_private_zone_points_at_the_source_endpoint(stack: str) -> None:
    """``payments.<zone>`` is a simple CNAME to the source instance's endpoint: the name a
    Multi-AZ failover keeps (RDS moves the endpoint to the standby); nothing role-based."""
    rec = recorded(stack)
    source = rec.outputs["payments"]["sourceRegion"]
    (src,) = only(rec, INSTANCE, source)
    zone = rec.outputs["writerDnsName"].removeprefix("writer.")
    named = [r for r in rec.by_type(RECORD) if r.inputs["name"] == f"payments.{zone}"]
    assert len(named) == 1
    (record,) = named
    assert record.inputs["type"] == "CNAME"
    assert record.inputs["records"] == [src.outputs["address"]]
    assert src.urn in record.property_dependencies["records"]
    for routing in ("weightedRoutingPolicies", "failoverRoutingPolicies", "setIdentifier"):
        assert not record.inputs.get(routing)
    assert rec.outputs["payments"]["dnsName"] == f"payments.{zone}"


def test_dev_has_no_payments_name() -> None:
    rec = recorded("dev")
    assert not [r for r in rec.by_type(RECORD) if r.inputs["name"].startswith("payments.")]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_a_role_flip_leaves_the_payments_database_untouched(stack: str) -> None:
    normal = recorded(stack)
    primary, secondary = normal.outputs["primaryRegion"], normal.outputs["secondaryRegion"]
    flipped = recorded(stack, f"primaryRegion={secondary}", f"secondaryRegion={primary}")
    before = {r.urn: r for r in normal.resources if "PaymentsDatabase" in r.urn}
    after = {r.urn: r for r in flipped.resources if "PaymentsDatabase" in r.urn}
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
        ("paymentsInstanceClass", "db.t3.micro", "one of ['db.m6g.large'"),
        ("paymentsMaxAllocatedStorageGb", 100, "more than paymentsAllocatedStorageGb (100)"),
        ("paymentsAllocatedStorageGb", 10, "an integer from 20 to 65536"),
        ("paymentsBackupRetentionDays", 3, "an integer from 7 to 35"),
        ("paymentsEngineVersion", "12.4", "an RDS for PostgreSQL version 13.x to 17.x"),
        ("paymentsMonitoringIntervalSeconds", 0, "one of [1, 5, 10, 15, 30, 60]"),
    ],
)
def test_bad_payments_settings_name_the_key_value_and_what_is_allowed(
    key: str, value: object, allowed: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(**{key: value})
    assert caught.value.key == key
    assert caught.value.value == value
    assert allowed in caught.value.allowed


def test_prod_refuses_payments_without_deletion_protection() -> None:
    raw = load_stack_config("prod").project_values()
    raw["paymentsDeletionProtection"] = False
    with pytest.raises(ConfigError, match="paymentsDeletionProtection"):
        load_settings(raw)
