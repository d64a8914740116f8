"""A remediation names the stack key a user sets (``auroraDeletionProtection: true``), not the
provider property the program derives from it; every key a remediation names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from components.settings.keys import STRUCTURED_KEYS
from policies import ALL_RULES, RULES_BY_NAME

REPO = Path(__file__).resolve().parents[2]
KEYS = set(yaml.safe_load((REPO / "Pulumi.yaml").read_text())["config"]) | STRUCTURED_KEYS
"""Declared keys, and the object-valued ones Pulumi.yaml describes only in comments."""
STACK_KEY = re.compile(
    r"\b((?:aurora|cache|backup|budget|monitoring|network|primary|secondary)[A-Z]\w*)"
)

SETS = {
    "rds-deletion-protection": "auroraDeletionProtection: true",
    "rds-backup-retention": "auroraBackupRetentionDays",
    "elasticache-snapshot-retention": "cacheSnapshotRetentionDays",
    "backup-plan-frequency-retention": "backupRetentionDays",
    "cost-performance-insights-retention": "auroraPerformanceInsightsRetentionDays: 7",
    "rds-enhanced-monitoring": "auroraMonitoringIntervalSeconds",
    "rds-multi-az": "auroraInstancesPerRegion",
    "elasticache-multi-az": "cacheReplicasPerRegion",
    "cost-allowed-instance-classes": "auroraInstanceClass",
    "cost-allowed-cache-node-types": "cacheNodeType",
    "cost-allowed-regions": "primaryRegion",
    "cost-reader-count-cap": "auroraAutoscalingMaxReaders",
    "cost-budget-present": "budgetMonthlyLimitUsd",
    "alarm-topic-subscribed": "monitoringAlarmEmails",
}


@pytest.mark.parametrize(("rule", "key"), sorted(SETS.items()))
def test_the_remediation_names_the_stack_key(rule: str, key: str) -> None:
    text = RULES_BY_NAME[rule].remediation
    assert key in text and "in the stack file" in text


def test_every_key_a_remediation_names_is_a_stack_key() -> None:
    named = {k for rule in ALL_RULES for k in STACK_KEY.findall(rule.remediation)}
    assert named and named <= KEYS, named - KEYS


def test_the_violation_itself_says_which_key_to_set() -> None:
    from preflight.pipeline import run_preflight

    result = run_preflight("dev", overrides={"auroraDeletionProtection": False})
    found = [f for f in result.findings if f.policy_name == "rds-deletion-protection"]
    assert found
    for finding in found:
        assert "set auroraDeletionProtection: true in the stack file" in finding.message
        assert "auroraDeletionProtection: true" in finding.remediation
