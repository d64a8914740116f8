"""The settings loader: valid stacks load; bad config names key, value and what is allowed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.settings import ConfigError, load_settings
from preflight.config import load_stack_config

BASE: dict[str, Any] = load_stack_config("dev").project_values()
# dev's application VPCs (stacks/Pulumi.dev.yaml), copied by hand.
APP_EAST, APP_WEST = "vpc-0a1b2c3d4e5f60718", "vpc-0f1e2d3c4b5a69788"


def with_changes(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is _DELETE:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


_DELETE = object()


def tables_with(index: int, **fields: Any) -> list[dict[str, Any]]:
    tables = copy.deepcopy(BASE["dynamodbTables"])
    tables[index].update(fields)
    return tables


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_stack_loads(stack: str) -> None:
    settings = load_settings(load_stack_config(stack).project_values())
    assert settings.environment == stack
    assert settings.primary_region != settings.secondary_region
    assert {t.name for t in settings.dynamodb.tables} == {"carts", "sessions", "order-history"}
    assert settings.aurora.instances_per_region >= 2
    assert settings.monitoring.cpu_threshold_percent <= 80


def test_defaults_come_from_settings_when_absent() -> None:
    settings = load_settings(with_changes(auroraEngineVersion=_DELETE, cacheEngine=_DELETE))
    assert settings.aurora.engine_version == "16.6"
    assert settings.cache.engine == "valkey"
    assert settings.network.vpc_cidrs == {"us-east-1": "10.16.0.0/16", "us-west-2": "10.18.0.0/16"}


def first_index_with(**fields: Any) -> list[dict[str, Any]]:
    """The dev tables, with ``fields`` set on order-history's first global secondary index."""
    tables = copy.deepcopy(BASE["dynamodbTables"])
    tables[2]["globalSecondaryIndexes"][0].update(fields)
    return tables


BAD_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "same region twice",
        {"secondaryRegion": "us-east-1"},
        "secondaryRegion",
        "other than primaryRegion",
    ),
    ("unknown region", {"primaryRegion": "us-moon-1"}, "primaryRegion", "us-west-2"),
    ("two-AZ region", {"secondaryRegion": "us-west-1"}, "secondaryRegion", "one of"),
    ("unknown environment", {"environment": "qa"}, "environment", "'dev', 'staging', 'prod'"),
    (
        "burstable class cannot join a global database",
        {"auroraInstanceClass": "db.t4g.medium"},
        "auroraInstanceClass",
        "global database",
    ),
    (
        "serverless-only class",
        {"auroraInstanceClass": "db.serverless"},
        "auroraInstanceClass",
        "memory-optimised",
    ),
    (
        "engine version without global support",
        {"auroraEngineVersion": "11.9"},
        "auroraEngineVersion",
        "13.x to 17.x",
    ),
    (
        "single instance is not Multi-AZ",
        {"auroraInstancesPerRegion": 1},
        "auroraInstancesPerRegion",
        "from 2 to 15",
    ),
    (
        "negative retention",
        {"auroraBackupRetentionDays": -1},
        "auroraBackupRetentionDays",
        "from 7 to 35",
    ),
    (
        "absurd retention",
        {"auroraBackupRetentionDays": 3650},
        "auroraBackupRetentionDays",
        "from 7 to 35",
    ),
    (
        "retention below PITR floor",
        {"auroraBackupRetentionDays": 3},
        "auroraBackupRetentionDays",
        "from 7 to 35",
    ),
    (
        "retention given as text",
        {"auroraBackupRetentionDays": "seven"},
        "auroraBackupRetentionDays",
        "integer",
    ),
    (
        "PI retention not a PI period",
        {"auroraPerformanceInsightsRetentionDays": 30},
        "auroraPerformanceInsightsRetentionDays",
        "one of",
    ),
    (
        "monitoring interval 0 turns it off",
        {"auroraMonitoringIntervalSeconds": 0},
        "auroraMonitoringIntervalSeconds",
        "one of",
    ),
    (
        "autoscaling max below min",
        {"auroraAutoscalingMinReaders": 3, "auroraAutoscalingMaxReaders": 2},
        "auroraAutoscalingMaxReaders",
        ">= auroraAutoscalingMinReaders",
    ),
    (
        "table without hash key",
        {"dynamodbTables": tables_with(0, hashKey=None)},
        "dynamodbTables[carts].hashKey",
        "partition key",
    ),
    (
        "hash key not an attribute",
        {"dynamodbTables": tables_with(0, hashKey="cartId")},
        "dynamodbTables[carts].hashKey",
        "attribute defined",
    ),
    (
        "GSI on an undefined attribute",
        {
            "dynamodbTables": tables_with(
                2, globalSecondaryIndexes=[{"name": "by-sku", "hashKey": "sku"}]
            )
        },
        "dynamodbTables[order-history].globalSecondaryIndexes[0].hashKey",
        "attribute defined",
    ),
    (
        "attribute used by no key or index",
        {"dynamodbTables": tables_with(1, attributes={"sessionId": "S", "userId": "S"})},
        "dynamodbTables[sessions].attributes",
        "only attributes used",
    ),
    (
        "bad attribute type",
        {"dynamodbTables": tables_with(1, attributes={"sessionId": "STRING"})},
        "dynamodbTables[sessions].attributes.sessionId",
        "'S', 'N', 'B'",
    ),
    (
        "TTL on the key",
        {"dynamodbTables": tables_with(1, ttlAttribute="sessionId")},
        "dynamodbTables[sessions].ttlAttribute",
        "not part of the table key",
    ),
    (
        "provisioned without capacity",
        {"dynamodbTables": tables_with(0, billingMode="PROVISIONED")},
        "dynamodbTables[carts].readCapacity",
        "integer from 1",
    ),
    (
        "duplicate tables",
        {"dynamodbTables": [*BASE["dynamodbTables"], BASE["dynamodbTables"][0]]},
        "dynamodbTables",
        "unique table names",
    ),
    ("no tables", {"dynamodbTables": []}, "dynamodbTables", "non-empty list"),
    (
        "cache node too small for a global datastore",
        {"cacheNodeType": "cache.t4g.medium"},
        "cacheNodeType",
        "global datastore",
    ),
    (
        "cache engine version of the other engine",
        {"cacheEngine": "redis", "cacheEngineVersion": "8.0"},
        "cacheEngineVersion",
        "'6.2', '7.0', '7.1'",
    ),
    (
        "cache without replica has no failover",
        {"cacheReplicasPerRegion": 0},
        "cacheReplicasPerRegion",
        "from 1 to 5",
    ),
    (
        "CPU alarm above the seed's 80%",
        {"monitoringCpuThresholdPercent": 95},
        "monitoringCpuThresholdPercent",
        "from 10 to 80",
    ),
    (
        "open to the internet",
        {"networkAppCidrs": ["0.0.0.0/0"]},
        "networkAppCidrs[0]",
        "no wider than /8",
    ),
    ("not a CIDR", {"networkAppCidrs": ["10.1.2.3/33"]}, "networkAppCidrs[0]", "CIDR notation"),
    (
        "overlapping VPCs",
        {"networkVpcCidrs": {"us-east-1": "10.50.0.0/16", "us-west-2": "10.50.0.0/17"}},
        "networkVpcCidrs.us-west-2",
        "does not overlap",
    ),
    (
        "existing VPC with two subnets",
        {
            "networkExistingVpcs": {
                "us-east-1": {
                    "vpcId": "vpc-0123456789abcdef0",
                    "subnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
                }
            }
        },
        "networkExistingVpcs.us-east-1.subnetIds",
        "exactly three",
    ),
    (
        "existing VPC in a region not in the pair",
        {"networkExistingVpcs": {"eu-west-1": {"vpcId": "vpc-0123456789abcdef0", "subnetIds": []}}},
        "networkExistingVpcs.eu-west-1",
        "among the stack's regions",
    ),
    ("budget of zero", {"budgetMonthlyLimitUsd": 0}, "budgetMonthlyLimitUsd", "from 1"),
    ("budget without recipients", {"budgetAlertEmails": []}, "budgetAlertEmails", "at least one"),
    ("bad e-mail", {"monitoringAlarmEmails": ["oncall"]}, "monitoringAlarmEmails[0]", "e-mail"),
    (
        "backup copy kept too briefly",
        {"backupCopyRetentionDays": 1},
        "backupCopyRetentionDays",
        "from 7",
    ),
    ("backup schedule not cron", {"backupSchedule": "daily"}, "backupSchedule", "cron("),
    (
        "typo in a key",
        {"auroraInstanceClas": "db.r6g.large"},
        "auroraInstanceClas",
        "'auroraInstanceClass'",
    ),
    ("unknown section key", {"cacheNodes": 3}, "cacheNodes", "'cacheNodeType'"),
    ("unknown top-level key", {"region": "us-east-1"}, "region", "known key"),
    ("negative RTO", {"drillsRtoSeconds": -5}, "drillsRtoSeconds", "from 1 to 86400"),
    # --- AWS's own lists (components/settings/data/aurora-postgresql.json) -----------------
    (
        "engine version before global databases",
        {"auroraEngineVersion": "13.3", "auroraDataApiEnabled": False},
        "auroraEngineVersion",
        "13.4 or later",
    ),
    (
        "engine version Aurora never released",
        {"auroraEngineVersion": "16.5"},
        "auroraEngineVersion",
        "16.4, 16.6, 16.8",
    ),
    (
        "master user a reserved word",
        {"auroraMasterUsername": "user"},
        "auroraMasterUsername",
        "reserved word",
    ),
    (
        "master user the RDS admin role",
        {"auroraMasterUsername": "rdsadmin"},
        "auroraMasterUsername",
        "rdsadmin",
    ),
    ("master user a pg_ role", {"auroraMasterUsername": "pg_owner"}, "auroraMasterUsername", "pg_"),
    (
        "database every cluster has",
        {"auroraDatabaseName": "postgres"},
        "auroraDatabaseName",
        "template0",
    ),
    (
        "database a reserved word",
        {"auroraDatabaseName": "select"},
        "auroraDatabaseName",
        "reserved word",
    ),
    (
        "app CIDR inside a data VPC",
        {
            "networkVpcCidrs": {"us-east-1": "10.50.0.0/16", "us-west-2": "10.51.0.0/16"},
            "networkAppCidrs": ["10.200.0.0/16", "10.51.128.0/20"],
        },
        "networkAppCidrs[1]",
        "outside the data VPC of us-west-2 (10.51.0.0/16)",
    ),
    (
        "drill age of a year and more",
        {"drillsMaxAgeDays": 400},
        "drillsMaxAgeDays",
        "from 1 to 366",
    ),
    (
        "prod without deletion protection",
        {"environment": "prod", "auroraDeletionProtection": False},
        "auroraDeletionProtection",
        "true in prod",
    ),
    # --- application VPCs -----------------------------------------------------------------
    (
        "app VPCs in an unknown region",
        {"networkAppVpcIds": {"us-moon-1": ["vpc-0a1b2c3d4e5f60718"]}},
        "networkAppVpcIds.us-moon-1",
        "known region: us-east-1",
    ),
    (
        "app VPC id of 9 hex digits",
        {"networkAppVpcIds": {"us-east-1": ["vpc-0a1b2c3d4"]}},
        "networkAppVpcIds.us-east-1[0]",
        "8 or 17 hex digits",
    ),
    (
        "app VPC id in upper case",
        {"networkAppVpcIds": {"us-east-1": ["vpc-0A1B2C3D"]}},
        "networkAppVpcIds.us-east-1[0]",
        "8 or 17 hex digits",
    ),
    (
        "app VPC listed in two regions",
        {
            "networkAppVpcIds": {
                "us-east-1": ["vpc-0a1b2c3d"],
                "eu-west-1": ["vpc-0a1b2c3d"],
            }
        },
        "networkAppVpcIds.eu-west-1[0]",
        "not listed already (it is networkAppVpcIds.us-east-1[0])",
    ),
    (
        "app VPC that is the data tier's own",
        {
            "networkExistingVpcs": {
                "us-east-1": {
                    "vpcId": "vpc-0123456789abcdef0",
                    "subnetIds": [
                        "subnet-0123456789abcdef0",
                        "subnet-0123456789abcdef1",
                        "subnet-0123456789abcdef2",
                    ],
                }
            },
            "networkAppVpcIds": {"us-east-1": ["vpc-0123456789abcdef0"]},
        },
        "networkAppVpcIds.us-east-1[0]",
        "networkExistingVpcs.us-east-1.vpcId",
    ),
    (
        "app VPCs not a list",
        {"networkAppVpcIds": {"us-east-1": "vpc-0a1b2c3d"}},
        "networkAppVpcIds.us-east-1",
        "a list of VPC ids",
    ),
    # --- application network path (networkAppPeering) --------------------------------------
    (
        "peering a VPC that is not an application VPC",
        {"networkAppPeering": {"vpc-0b0b0b0b": {"cidr": "10.100.0.0/17", "routeTableIds": []}}},
        "networkAppPeering.vpc-0b0b0b0b",
        "a VPC id listed in networkAppVpcIds",
    ),
    (
        "peered CIDR outside the application CIDRs",
        {
            "networkAppPeering": {
                APP_EAST: {"cidr": "10.200.0.0/17", "routeTableIds": ["rtb-0a1b2c3d"]}
            }
        },
        f"networkAppPeering.{APP_EAST}.cidr",
        "inside networkAppCidrs ['10.100.0.0/16']",
    ),
    (
        "two peered VPCs with overlapping CIDRs",
        {
            "networkAppPeering": {
                APP_EAST: {"cidr": "10.100.0.0/17", "routeTableIds": ["rtb-0a1b2c3d"]},
                APP_WEST: {"cidr": "10.100.64.0/18", "routeTableIds": ["rtb-0f1e2d3c"]},
            }
        },
        f"networkAppPeering.{APP_WEST}.cidr",
        f"does not overlap 10.100.0.0/17 of {APP_EAST}",
    ),
    (
        # A peered CIDR lies inside networkAppCidrs, so one overlapping a data VPC (which VPC
        # peering refuses) is caught at the application CIDR that holds it.
        "peered CIDR overlapping a data VPC",
        {
            "networkAppCidrs": ["10.0.0.0/8"],
            "networkAppPeering": {
                APP_EAST: {"cidr": "10.16.0.0/20", "routeTableIds": ["rtb-0a1b2c3d"]}
            },
        },
        "networkAppCidrs[0]",
        "outside the data VPC of us-east-1 (10.16.0.0/16)",
    ),
    (
        "route table id of 9 hex digits",
        {
            "networkAppPeering": {
                APP_EAST: {"cidr": "10.100.0.0/17", "routeTableIds": ["rtb-0a1b2c3d4"]}
            }
        },
        f"networkAppPeering.{APP_EAST}.routeTableIds[0]",
        "rtb- and 8 or 17 hex digits",
    ),
    (
        "no route tables",
        {"networkAppPeering": {APP_EAST: {"cidr": "10.100.0.0/17", "routeTableIds": []}}},
        f"networkAppPeering.{APP_EAST}.routeTableIds",
        "a non-empty list of distinct route table ids",
    ),
    (
        "one route table for two VPCs",
        {
            "networkAppPeering": {
                APP_EAST: {"cidr": "10.100.0.0/17", "routeTableIds": ["rtb-0a1b2c3d"]},
                APP_WEST: {"cidr": "10.100.128.0/17", "routeTableIds": ["rtb-0a1b2c3d"]},
            }
        },
        f"networkAppPeering.{APP_WEST}.routeTableIds",
        f"rtb-0a1b2c3d is listed for {APP_EAST}",
    ),
    (
        "a peering field that does not exist",
        {
            "networkAppPeering": {
                APP_EAST: {"cidr": "10.100.0.0/17", "routeTableIds": ["rtb-0a1b2c3d"], "tgw": 1}
            }
        },
        f"networkAppPeering.{APP_EAST}.tgw",
        "one of the keys",
    ),
    (
        "peering beside a brought data VPC",
        {
            "networkExistingVpcs": {
                "us-east-1": {
                    "vpcId": "vpc-0123456789abcdef0",
                    "subnetIds": [
                        "subnet-0123456789abcdef0",
                        "subnet-0123456789abcdef1",
                        "subnet-0123456789abcdef2",
                    ],
                }
            }
        },
        "networkAppPeering",
        "empty while networkExistingVpcs is set",
    ),
    # --- Data API and engine upgrades ------------------------------------------------------
    (
        "Data API on a version without it",
        {"auroraEngineVersion": "15.2"},
        "auroraEngineVersion",
        "15.3 or later while auroraDataApiEnabled is true",
    ),
    (
        "Data API on 17.2",
        {"auroraEngineVersion": "17.2"},
        "auroraEngineVersion",
        "17.4 or later",
    ),
    (
        "Data API flag as text",
        {"auroraDataApiEnabled": "yes"},
        "auroraDataApiEnabled",
        "true or false",
    ),
    (
        "upgrade flag as a number",
        {"auroraAllowMajorVersionUpgrade": 1},
        "auroraAllowMajorVersionUpgrade",
        "true or false",
    ),
    (
        "backup region settings flag as text",
        {"backupManageRegionSettings": "yes"},
        "backupManageRegionSettings",
        "true or false",
    ),
    # --- windows ---------------------------------------------------------------------------
    (
        "backup window hour 24",
        {"auroraPreferredBackupWindow": "24:00-01:00"},
        "auroraPreferredBackupWindow",
        "hour 24",
    ),
    (
        "backup window minute 60",
        {"auroraPreferredBackupWindow": "03:60-04:30"},
        "auroraPreferredBackupWindow",
        "minute 60",
    ),
    (
        "backup window shorter than 30 minutes",
        {"auroraPreferredBackupWindow": "03:00-03:20"},
        "auroraPreferredBackupWindow",
        "at least 30 minutes (this one is 20)",
    ),
    (
        "backup window without the dash",
        {"auroraPreferredBackupWindow": "03:00 04:00"},
        "auroraPreferredBackupWindow",
        "hh24:mi-hh24:mi",
    ),
    (
        "maintenance window on a bad day",
        {"auroraPreferredMaintenanceWindow": "sun:05:00-sux:06:00"},
        "auroraPreferredMaintenanceWindow",
        "day 'sux' is not one of mon",
    ),
    (
        "maintenance window hour 25",
        {"auroraPreferredMaintenanceWindow": "sun:25:00-sun:26:00"},
        "auroraPreferredMaintenanceWindow",
        "hour 25",
    ),
    (
        "maintenance window longer than a day",
        {"auroraPreferredMaintenanceWindow": "sun:05:00-tue:06:00"},
        "auroraPreferredMaintenanceWindow",
        "at most 24 hours",
    ),
    (
        "backup window overlapping maintenance",
        {
            "auroraPreferredBackupWindow": "04:30-05:30",
            "auroraPreferredMaintenanceWindow": "sun:05:00-sun:06:00",
        },
        "auroraPreferredBackupWindow",
        "does not overlap auroraPreferredMaintenanceWindow (sun:05:00-sun:06:00)",
    ),
    (
        "backup window across midnight into maintenance",
        {
            "auroraPreferredBackupWindow": "23:30-00:30",
            "auroraPreferredMaintenanceWindow": "mon:00:00-mon:00:45",
        },
        "auroraPreferredBackupWindow",
        "does not overlap",
    ),
    (
        "cache snapshot window of 30 minutes",
        {"cacheSnapshotWindow": "02:00-02:30"},
        "cacheSnapshotWindow",
        "at least 60 minutes",
    ),
    (
        "cache maintenance window of 30 minutes",
        {"cacheMaintenanceWindow": "sun:06:00-sun:06:30"},
        "cacheMaintenanceWindow",
        "at least 60 minutes",
    ),
    (
        "cache snapshot overlapping maintenance",
        {"cacheSnapshotWindow": "06:30-07:30"},
        "cacheSnapshotWindow",
        "does not overlap cacheMaintenanceWindow (sun:06:00-sun:07:00)",
    ),
    # --- budget limits -----------------------------------------------------------------------
    (
        "ten thresholds and the forecast are eleven notifications",
        {"budgetThresholdsPercent": list(range(10, 110, 10))},
        "budgetThresholdsPercent",
        "at most 9 thresholds",
    ),
    (
        "threshold repeated",
        {"budgetThresholdsPercent": [80, 100, 80]},
        "budgetThresholdsPercent[2]",
        "not listed already",
    ),
    (
        "eleven budget recipients",
        {"budgetAlertEmails": [f"person{n}@securecart.example" for n in range(11)]},
        "budgetAlertEmails",
        "at most 10 e-mail addresses",
    ),
    (
        "budget recipient repeated in another case",
        {"budgetAlertEmails": ["ops@securecart.example", "Ops@SecureCart.example"]},
        "budgetAlertEmails[1]",
        "not listed already",
    ),
    # A pattern anchored with `$` also matches before a trailing newline; values are matched whole.
    (
        "instance class with a trailing newline",
        {"auroraInstanceClass": "db.r6g.large\n"},
        "auroraInstanceClass",
        "r6g",
    ),
    (
        "VPC CIDRs given as an empty list",
        {"networkVpcCidrs": []},
        "networkVpcCidrs",
        "an object of region -> CIDR",
    ),
    (
        "application VPCs given as false",
        {"networkAppVpcIds": False},
        "networkAppVpcIds",
        "an object of region -> list of VPC ids",
    ),
    (
        "non-key attributes given as a string",
        {"dynamodbTables": first_index_with(projectionType="INCLUDE", nonKeyAttributes="total")},
        "dynamodbTables[order-history].globalSecondaryIndexes[0].nonKeyAttributes",
        "a list of attribute names",
    ),
    (
        "non-key attribute listed twice",
        {
            "dynamodbTables": first_index_with(
                projectionType="INCLUDE", nonKeyAttributes=["total", "total"]
            )
        },
        "dynamodbTables[order-history].globalSecondaryIndexes[0].nonKeyAttributes",
        "attribute names listed once",
    ),
    (
        "alarm recipient repeated",
        {"monitoringAlarmEmails": ["oncall@securecart.example", "oncall@securecart.example"]},
        "monitoringAlarmEmails[1]",
        "not listed already",
    ),
]


@pytest.mark.parametrize(
    ("case", "changes", "key", "allowed"), BAD_CASES, ids=[c[0] for c in BAD_CASES]
)
def test_bad_config_names_key_value_and_allowed(
    case: str, changes: dict[str, Any], key: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(with_changes(**changes))
    error = caught.value
    assert error.key == key, case
    message = str(error)
    assert repr(key) in message
    # a missing key reads "is not set", never "has value None"
    assert (repr(error.value) in message) if error.value is not None else "is not set" in message
    assert "has value None" not in message
    assert allowed in message


def test_bad_case_count_meets_the_bar() -> None:
    assert len(BAD_CASES) >= 15


def test_limits_that_are_still_accepted() -> None:
    """The edges AWS allows: nine thresholds (+ forecast = 10 notifications), ten recipients,
    windows that touch without sharing a minute, app VPCs of a third region."""
    settings = load_settings(
        with_changes(
            budgetThresholdsPercent=list(range(10, 100, 10)),
            budgetAlertEmails=[f"person{n}@securecart.example" for n in range(10)],
            auroraPreferredBackupWindow="04:00-05:00",
            auroraPreferredMaintenanceWindow="sun:05:00-sun:06:00",
            cacheSnapshotWindow="23:30-00:30",
            cacheMaintenanceWindow="sat:01:00-sat:02:00",
            networkAppVpcIds={"eu-west-1": ["vpc-0a1b2c3d"], "us-east-1": []},
            networkAppPeering={},
        )
    )
    assert len(settings.budget.thresholds_percent) == 9
    assert len(settings.budget.alert_emails) == 10
    assert settings.network.app_vpc_ids == {"eu-west-1": ("vpc-0a1b2c3d",), "us-east-1": ()}
    assert settings.cache.snapshot_window == "23:30-00:30"
    assert settings.aurora.data_api_enabled is True
    assert settings.aurora.allow_major_version_upgrade is False


def test_data_api_off_allows_older_minor_versions() -> None:
    settings = load_settings(with_changes(auroraEngineVersion="15.2", auroraDataApiEnabled=False))
    assert (settings.aurora.engine_version, settings.aurora.data_api_enabled) == ("15.2", False)


def test_non_key_attributes_summed_over_a_tables_indexes_stay_within_100() -> None:
    # AWS DynamoDB API "Projection": at most 100 NonKeyAttributes summed over the indexes.
    tables = copy.deepcopy(BASE["dynamodbTables"])
    first, second = tables[2]["globalSecondaryIndexes"]
    first.update(projectionType="INCLUDE", nonKeyAttributes=[f"a{n}" for n in range(60)])
    second.update(projectionType="INCLUDE", nonKeyAttributes=[f"a{n}" for n in range(40)])
    assert load_settings(with_changes(dynamodbTables=tables))  # 100: accepted
    second["nonKeyAttributes"].append("a40")
    with pytest.raises(ConfigError) as caught:
        load_settings(with_changes(dynamodbTables=tables))
    assert caught.value.key == "dynamodbTables[order-history].globalSecondaryIndexes"
    assert caught.value.value == 101


def test_application_peering_of_the_dev_stack() -> None:
    """Both dev application VPCs, by VPC id, with their region from networkAppVpcIds."""
    settings = load_settings(with_changes())
    assert [
        (p.vpc_id, p.region, p.cidr, p.route_table_ids) for p in settings.network.app_peering
    ] == [
        (APP_EAST, "us-east-1", "10.100.0.0/17", ("rtb-0a1b2c3d4e5f60718",)),
        (APP_WEST, "us-west-2", "10.100.128.0/17", ("rtb-0f1e2d3c4b5a69788",)),
    ]
    none = load_settings(with_changes(networkAppPeering={}))
    assert none.network.app_peering == ()


def test_backup_region_settings_are_left_to_the_account_unless_a_stack_owns_them() -> None:
    assert load_settings(with_changes()).backup.manage_region_settings is False
    owned = load_settings(with_changes(backupManageRegionSettings=True))
    assert owned.backup.manage_region_settings is True


def test_aws_lists_accept_what_aws_offers() -> None:
    """A listed version after the global-database floor, and names that only look reserved."""
    settings = load_settings(
        with_changes(
            auroraEngineVersion="16.10",
            auroraMasterUsername="users_admin",
            auroraDatabaseName="orders",
        )
    )
    assert settings.aurora.engine_version == "16.10"
    assert load_settings(with_changes(auroraEngineVersion="14.3", auroraDataApiEnabled=False))
