"""Checkov's own fixtures (converted to pulumi-aws v7 inputs) against the pack.

For every resource type the pack covers: each FAILED fixture makes the pack report a violation,
and the rule that claims the Checkov id reports it (CAVEAT fixtures, which fail in Checkov only
because an attribute with a compliant provider default is unset, are excepted from the latter).
PASSED fixtures pass the claiming rule unless the pack is deliberately stricter (listed below).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policies import ALL_RULES, Rule
from preflight.model import RecordedResource
from tests.policies.policy_support import run_rule, urn

CORPUS = Path(__file__).resolve().parent / "data" / "checkov-aws-data-tier.json"
"""A copy of ``shared/corpus/checkov-aws-data-tier.json`` (Checkov's fixtures, Apache-2.0; the
file names its source commit), vendored so the test runs on a fresh clone."""

STRICTER: dict[str, str] = {
    "CKV_AWS_133": "backups must be kept >= 7 days (Checkov accepts 1-35 and an unset period)",
    "CKV_AWS_118": "AWS also needs monitoring_role_arn whenever monitoring_interval > 0",
    "CKV_AWS_324": "Aurora MySQL clusters must export audit, error and slowquery logs",
    "CKV_AWS_325": "Aurora MySQL clusters must export audit, error and slowquery logs",
}
"""Checkov ids whose PASSED fixtures the claiming rule may still reject, and why."""


def _load() -> list[dict[str, Any]]:
    if not CORPUS.exists():
        return []
    return list(json.loads(CORPUS.read_text())["cases"])


CASES = _load()
CLAIMS: dict[str, list[Rule]] = {}
for _rule in ALL_RULES:
    for _check in _rule.checkov:
        CLAIMS.setdefault(_check, []).append(_rule)
RESOURCE_RULES = [r for r in ALL_RULES if r.kind == "resource"]
STACK_CHECKS = {"CKV_AWS_157"}
"""Checkov ids claimed by a stack rule (judged with the fixture as a one-resource stack)."""


def _covered(type_token: str) -> bool:
    return any(r.matches(type_token) and r.targets for r in RESOURCE_RULES)


def _caveat(case: dict[str, Any]) -> bool:
    return any(note.startswith("CAVEAT") for note in case["notes"])


def _resource(case: dict[str, Any], index: int) -> RecordedResource:
    name = f"fixture-{index}"
    return RecordedResource(
        urn=urn(case["type"], name),
        type=case["type"],
        name=name,
        custom=True,
        inputs=case["inputs"],
        parent=None,
        provider=None,
    )


def _violations(rules: list[Rule], resource: RecordedResource) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for rule in rules:
        messages = run_rule(rule, [resource], target=None if rule.kind == "stack" else resource)
        if messages:
            found[rule.name] = messages
    return found


COVERED = [(i, c) for i, c in enumerate(CASES) if _covered(c["type"])]


def _id(item: tuple[int, dict[str, Any]]) -> str:
    index, case = item
    return f"{case['check_id']}-{case['expected']}-{index}"


def test_corpus_covers_the_data_tier_types() -> None:
    assert CASES, f"corpus not found at {CORPUS}"
    types = {c["type"] for _, c in COVERED}
    assert {
        "aws:rds/cluster:Cluster",
        "aws:rds/clusterInstance:ClusterInstance",
        "aws:rds/instance:Instance",
        "aws:rds/globalCluster:GlobalCluster",
        "aws:dynamodb/table:Table",
        "aws:dynamodb/tableReplica:TableReplica",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:kms/key:Key",
        "aws:sns/topic:Topic",
        "aws:backup/vault:Vault",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
    } <= types
    failed = [c for _, c in COVERED if c["expected"] == "FAILED"]
    assert len(failed) >= 60


@pytest.mark.parametrize("item", [x for x in COVERED if x[1]["expected"] == "FAILED"], ids=_id)
def test_failed_fixture_is_caught(item: tuple[int, dict[str, Any]]) -> None:
    index, case = item
    resource = _resource(case, index)
    found = _violations(RESOURCE_RULES, resource)
    claimed = CLAIMS.get(case["check_id"], [])
    found |= _violations([r for r in claimed if r.kind == "stack"], resource)
    assert found, f"{case['fixture']}: no rule fired"
    if claimed and not _caveat(case):
        names = {r.name for r in claimed}
        assert names & set(found), (
            f"{case['fixture']}: {sorted(names)} did not fire (fired: {sorted(found)})"
        )


@pytest.mark.parametrize(
    "item",
    [x for x in COVERED if x[1]["expected"] == "PASSED" and x[1]["check_id"] in CLAIMS],
    ids=_id,
)
def test_passed_fixture_passes_the_claiming_rule(item: tuple[int, dict[str, Any]]) -> None:
    index, case = item
    found = _violations(CLAIMS[case["check_id"]], _resource(case, index))
    assert not found or case["check_id"] in STRICTER, f"{case['fixture']}: {found}"


def test_stricter_exceptions_are_real() -> None:
    """Each listed Checkov id is claimed by a rule and has PASSED fixtures that rule rejects."""
    for check in STRICTER:
        assert check in CLAIMS
        rejected = [
            c
            for i, c in enumerate(CASES)
            if c["check_id"] == check
            and c["expected"] == "PASSED"
            and _violations(CLAIMS[check], _resource(c, i))
        ]
        assert rejected or not CASES, check
