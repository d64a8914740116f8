"""The key catalogue: every flat stack-config key, its section and how its value is read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

SECTIONS = (
    "network",
    "aurora",
    "dynamodb",
    "cache",
    "monitoring",
    "backup",
    "budget",
    "drills",
    "payments",
    "neptune",
    "redshift",
)
"""Prefixes of the flat config keys: ``auroraInstanceClass`` is field ``instanceClass`` of ``aurora``."""
TOP_LEVEL_KEYS = (
    "environment",
    "primaryRegion",
    "secondaryRegion",
    "costCenter",
    "owner",
    "dnsZoneName",
)


def split_key(key: str) -> tuple[str, str] | None:
    """``auroraInstanceClass`` -> ``("aurora", "instanceClass")``; None for a key of no section."""
    section = next(
        (p for p in SECTIONS if key.startswith(p) and key[len(p) : len(p) + 1].isupper()), None
    )
    if section is None:
        return None
    return section, key[len(section)].lower() + key[len(section) + 1 :]


def flat_key(dotted: str) -> str:
    """``aurora.instanceClass`` -> ``auroraInstanceClass``: the key as written in stack config."""
    head, dot, rest = dotted.partition(".")
    if not dot or head not in SECTIONS:
        return dotted
    return head + rest[:1].upper() + rest[1:]


STRING_KEYS = frozenset(
    {
        *TOP_LEVEL_KEYS,
        "auroraEngineVersion",
        "auroraInstanceClass",
        "auroraDatabaseName",
        "auroraMasterUsername",
        "auroraPreferredBackupWindow",
        "auroraPreferredMaintenanceWindow",
        "cacheEngine",
        "cacheEngineVersion",
        "cacheNodeType",
        "cacheSnapshotWindow",
        "cacheMaintenanceWindow",
        "backupSchedule",
        "paymentsEngineVersion",
        "paymentsInstanceClass",
        "neptuneEngineVersion",
        "neptuneInstanceClass",
        "redshiftNodeType",
        "redshiftDatabaseName",
        "redshiftMasterUsername",
        "redshiftMaintenanceWindow",
    }
)
"""Keys whose values are strings as written ("16.6" must stay a string, not become 16.6)."""
STRUCTURED_KEYS = frozenset(
    {
        "networkVpcCidrs",
        "networkExistingVpcs",
        "networkAppVpcIds",
        "networkAppPeering",
        "dynamodbTables",
    }
)
"""Object-valued keys Pulumi's project schema cannot type; validated here instead."""
CONFIG_KEYS = (
    STRING_KEYS
    | STRUCTURED_KEYS
    | frozenset(
        {
            "networkAppCidrs",
            "auroraInstancesPerRegion",
            "auroraBackupRetentionDays",
            "auroraPerformanceInsightsRetentionDays",
            "auroraMonitoringIntervalSeconds",
            "auroraAutoscalingMinReaders",
            "auroraAutoscalingMaxReaders",
            "auroraAutoscalingTargetCpuPercent",
            "auroraDeletionProtection",
            "auroraDataApiEnabled",
            "auroraAllowMajorVersionUpgrade",
            "cacheReplicasPerRegion",
            "cacheSnapshotRetentionDays",
            "monitoringCpuThresholdPercent",
            "monitoringReplicationLagThresholdMs",
            "monitoringFreeableMemoryThresholdBytes",
            "monitoringDynamoReplicationLatencyMs",
            "monitoringCacheMemoryThresholdPercent",
            "monitoringAlarmEmails",
            "backupRetentionDays",
            "backupCopyRetentionDays",
            "backupManageRegionSettings",
            "budgetMonthlyLimitUsd",
            "budgetThresholdsPercent",
            "budgetAlertEmails",
            "drillsRtoSeconds",
            "drillsRpoSeconds",
            "drillsMaxReplicationLagSeconds",
            "drillsMaxAgeDays",
            "drillsRoleEnabled",
            "drillsFaultInjection",
            "drillsProbes",
            "paymentsEnabled",
            "paymentsAllocatedStorageGb",
            "paymentsMaxAllocatedStorageGb",
            "paymentsBackupRetentionDays",
            "paymentsPerformanceInsightsRetentionDays",
            "paymentsMonitoringIntervalSeconds",
            "paymentsDeletionProtection",
            "neptuneEnabled",
            "neptuneInstancesPerRegion",
            "neptuneBackupRetentionDays",
            "neptuneDeletionProtection",
            "redshiftEnabled",
            "redshiftNumberOfNodes",
            "redshiftSnapshotRetentionDays",
            "redshiftCopyRetentionDays",
        }
    )
)
"""Every project config key the program reads (Pulumi.yaml declares all but STRUCTURED_KEYS)."""


def _section_fields() -> dict[str, frozenset[str]]:
    fields: dict[str, set[str]] = {section: set() for section in SECTIONS}
    for key in CONFIG_KEYS - set(TOP_LEVEL_KEYS):
        split = split_key(key)
        if split is not None:
            fields[split[0]].add(split[1])
    return {section: frozenset(names) for section, names in fields.items()}


SECTION_FIELDS: Mapping[str, frozenset[str]] = _section_fields()
"""The fields each section's object may hold (any other is a typo the loader refuses)."""


def parse_config_value(key: str, text: str) -> Any:
    """Turn the engine's string form of a config value back into its YAML/JSON value."""
    if key in STRING_KEYS:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
