"""The key catalogue: every flat stack-config key, its section and how its value is read."""

from __future__ import annotations

import json
from typing import Any

SECTIONS = ("network", "aurora", "dynamodb", "cache", "monitoring", "backup", "budget", "drills")
"""Prefixes of the flat config keys: ``auroraInstanceClass`` is field ``instanceClass`` of ``aurora``."""
TOP_LEVEL_KEYS = (
    "environment",
    "primaryRegion",
    "secondaryRegion",
    "costCenter",
    "owner",
    "dnsZoneName",
)


def flat_key(dotted: str) -> str:
    """``aurora.instanceClass`` -> ``auroraInstanceClass``: the key as written in stack config."""
    head, dot, rest = dotted.partition(".")
    if not dot or head not in SECTIONS:
        return dotted
    return head + rest[:1].upper() + rest[1:]


STRING_KEYS = frozenset(
    {
        "environment",
        "primaryRegion",
        "secondaryRegion",
        "costCenter",
        "owner",
        "dnsZoneName",
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
    }
)
"""Keys whose values are strings as written ("16.6" must stay a string, not become 16.6)."""
STRUCTURED_KEYS = frozenset(
    {"networkVpcCidrs", "networkExistingVpcs", "networkAppVpcIds", "dynamodbTables"}
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
            "budgetMonthlyLimitUsd",
            "budgetThresholdsPercent",
            "budgetAlertEmails",
            "drillsRtoSeconds",
            "drillsRpoSeconds",
            "drillsMaxReplicationLagSeconds",
        }
    )
)
"""Every project config key the program reads (Pulumi.yaml declares all but STRUCTURED_KEYS)."""


def parse_config_value(key: str, text: str) -> Any:
    """Turn the engine's string form of a config value back into its YAML/JSON value."""
    if key in STRING_KEYS:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
