"""Checkov's own fixtures (converted to pulumi-aws v7 inputs) against the pack.

For every resource type the pack covers, each FAILED fixture makes the pack report a violation,
and the rule that claims the Checkov id reports it. Where the pack and Checkov disagree, the
fixture has an expectation of its own (:data:`EXPECTATIONS`) that names the rule that must fire,
or says why none should and which property no message may name. Every expectation is a
failable assertion: none of them is "some rule fired".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from policies import ALL_RULES, Rule
from preflight.model import RecordedResource
from tests.policies.policy_support import run_rule, urn

CORPUS = Path(__file__).resolve().parent / "data" / "checkov-aws-data-tier.json"
"""A copy of ``shared/corpus/checkov-aws-data-tier.json`` (Checkov's fixtures, Apache-2.0; the
file names its source commit), vendored so the test runs on a fresh clone."""


@dataclass(frozen=True)
class Expect:
    """What the pack does with a fixture where it and Checkov part ways."""

    fires: str | None
    """The rule that must report the fixture; None: the claiming rule (if any) must not."""
    reason: str
    silent_on: str | None = None
    """With ``fires`` None: a property no violation message may name (the check's attribute)."""


_ENGINE_CVE = (
    "engine versions with a published vulnerability are not a guardrail of this pack: the "
    "settings loader only accepts Aurora PostgreSQL 13-17 (AURORA_ENGINE_VERSION), and AWS "
    "retired the affected minors"
)
EXPECTATIONS: dict[tuple[str, str], Expect] = {
    # PASSED in Checkov, and the pack is deliberately stricter (or agrees)
    ("CKV_AWS_133", "aws_db_instance.pass"): Expect(None, "35 days is inside the pack's 7-35"),
    ("CKV_AWS_133", "aws_rds_cluster.pass"): Expect(None, "35 days is inside the pack's 7-35"),
    ("CKV_AWS_133", "aws_db_instance.pass2"): Expect(
        "rds-backup-retention", "unset keeps 1 day of PITR, below the 7-day floor"
    ),
    ("CKV_AWS_133", "aws_rds_cluster.pass2"): Expect(
        "rds-backup-retention", "unset keeps 1 day of PITR, below the 7-day floor"
    ),
    ("CKV_AWS_324", "aws_rds_cluster.pass"): Expect(
        "rds-log-exports", "an Aurora MySQL cluster exporting only audit misses error and slowquery"
    ),
    ("CKV_AWS_325", "aws_rds_cluster.pass"): Expect(
        "rds-log-exports", "an Aurora MySQL cluster exporting only audit misses error and slowquery"
    ),
    ("CKV_AWS_325", "aws_rds_cluster.pass2"): Expect(
        "rds-log-exports", "general and audit, without error and slowquery, are not enough"
    ),
    ("CKV_AWS_118", "TestRDSEnhancedMonitorEnabled.test_success1::aws_db_instance.default"): Expect(
        "rds-enhanced-monitoring", "AWS needs monitoring_role_arn whenever monitoring_interval > 0"
    ),
    ("CKV_AWS_118", "TestRDSEnhancedMonitorEnabled.test_success2::aws_db_instance.default"): Expect(
        "rds-enhanced-monitoring", "AWS needs monitoring_role_arn whenever monitoring_interval > 0"
    ),
    # PASSED in Checkov, stricter here (issue 20, the fraud graph):
    ("CKV_AWS_347", "aws_neptune_cluster.pass"): Expect(
        "neptune-cmk",
        "kms_key_arn without storage_encrypted: the provider needs storage_encrypted=true with it",
    ),
    ("CKV_AWS_44", "aws_neptune_cluster.enabled"): Expect(
        "neptune-cmk", "encrypted with the AWS-managed key: the pack asks for a CMK"
    ),
    ("CKV_AWS_101", "TestNeptuneClusterLogging.test_success::aws_neptune_cluster.test"): Expect(
        "neptune-audit-logs",
        "audit exported, but no parameter group sets neptune_enable_audit_log=1: the export stays empty",
    ),
    # FAILED in Checkov, CAVEAT: an attribute Checkov reads differently from the provider
    ("CKV_AWS_226", "aws_db_instance.fail2"): Expect(
        None, "autoMinorVersionUpgrade is unset and the provider defaults it to true"
    ),
    ("CKV_AWS_226", "aws_rds_cluster_instance.fail2"): Expect(
        None, "autoMinorVersionUpgrade is unset and the provider defaults it to true"
    ),
    ("CKV_AWS_33", "aws_kms_key.fail_0"): Expect(
        "kms-key-policy-no-public-principal",
        'the policy has a trailing comma; the pack reads it as KMS would be asked to, and it grants "*"',
    ),
    ("CKV_AWS_16", "aws_db_instance.disabled"): Expect(
        "rds-storage-encrypted", 'storage_encrypted "False" is the boolean false once typed'
    ),
    # FAILED in Checkov for a check no rule claims
    ("CKV_AWS_326", "aws_rds_cluster.fail"): Expect(
        None,
        "backtracking exists only for Aurora MySQL and not for global-database clusters",
        silent_on="backtrackWindow",
    ),
    ("CKV_AWS_326", "aws_rds_cluster.fail2"): Expect(
        None,
        "backtracking exists only for Aurora MySQL and not for global-database clusters",
        silent_on="backtrackWindow",
    ),
    ("CKV_AWS_250", "aws_db_instance.fail"): Expect(None, _ENGINE_CVE, silent_on="engineVersion"),
    ("CKV_AWS_250", "aws_db_instance.fail_old"): Expect(
        None, _ENGINE_CVE, silent_on="engineVersion"
    ),
    ("CKV_AWS_250", "aws_rds_cluster.fail"): Expect(None, _ENGINE_CVE, silent_on="engineVersion"),
    ("CKV_AWS_388", "aws_db_instance.fail1"): Expect(None, _ENGINE_CVE, silent_on="engineVersion"),
    ("CKV_AWS_388", "aws_db_instance.fail2"): Expect(None, _ENGINE_CVE, silent_on="engineVersion"),
    # Redshift (policies/redshift.py)
    ("CKV_AWS_343", "aws_redshift_cluster.pass2"): Expect(
        "redshift-snapshot-retention", "unset keeps 1 day of snapshots, below the 7-day floor"
    ),
    ("CKV_AWS_64", "TestRedshiftClusterEncryption.test_success"): Expect(
        "redshift-cmk", "encrypted without kms_key_id uses an AWS key, not a customer-managed one"
    ),
    ("CKV_AWS_64", "TestRedshiftClusterEncryption.test_failure"): Expect(
        "redshift-cmk",
        "encrypted is unset and AWS encrypts by default, but kms_key_id is unset too: no CMK",
    ),
    (
        "CKV_AWS_87",
        "TestRedshitClusterPubliclyAccessible.test_failure2::aws_redshift_cluster.public",
    ): Expect(
        "redshift-not-publicly-accessible",
        "publiclyAccessible defaults to false, but without cluster_subnet_group_name the "
        "cluster lands in the account's default VPC",
    ),
    (
        "CKV_AWS_87",
        "TestRedshitClusterPubliclyAccessible.test_success::aws_redshift_cluster.private",
    ): Expect(
        "redshift-not-publicly-accessible",
        "not public, but without cluster_subnet_group_name it lands in the default VPC",
    ),
    ("CKV_AWS_320", "aws_redshift_cluster.fail"): Expect(
        None,
        "the default database name (dev) is no guardrail of this pack: the stack always names "
        "its database (redshiftDatabaseName) and Security Hub lists no such control",
        silent_on="databaseName",
    ),
    ("CKV_AWS_391", "aws_redshift_cluster.fail"): Expect(
        "redshift-not-publicly-accessible",
        "public access is refused outright, whatever the admin user is called",
    ),
}
"""Fixtures (check id, fixture) where the pack's verdict is not simply Checkov's, and why."""


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


def _covered(type_token: str) -> bool:
    return any(r.matches(type_token) and r.targets for r in RESOURCE_RULES)


def _caveat(case: dict[str, Any]) -> bool:
    return any(note.startswith("CAVEAT") for note in case["notes"])


def _key(case: dict[str, Any]) -> tuple[str, str]:
    return case["check_id"], case["fixture"].split("::", 1)[1]


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


def _everything(case: dict[str, Any], index: int) -> dict[str, list[str]]:
    resource = _resource(case, index)
    claimed = CLAIMS.get(case["check_id"], [])
    found = _violations(RESOURCE_RULES, resource)
    return found | _violations([r for r in claimed if r.kind == "stack"], resource)


COVERED = [(i, c) for i, c in enumerate(CASES) if _covered(c["type"])]
FAILED = [x for x in COVERED if x[1]["expected"] == "FAILED"]
PASSED = [x for x in COVERED if x[1]["expected"] == "PASSED" and x[1]["check_id"] in CLAIMS]


def _id(item: tuple[int, dict[str, Any]]) -> str:
    index, case = item
    return f"{case['check_id']}-{case['expected']}-{index}"


def _judge(case: dict[str, Any], found: dict[str, list[str]]) -> None:
    """Assert the pack's verdict on a fixture: its expectation, or the claiming rule's."""
    claimed = {r.name for r in CLAIMS.get(case["check_id"], [])}
    expect = EXPECTATIONS.get(_key(case))
    if expect is None:
        if case["expected"] == "FAILED":
            assert claimed & set(found), f"{case['fixture']}: {sorted(claimed)} did not fire"
        else:
            assert not claimed & set(found), f"{case['fixture']}: {found}"
        return
    if expect.fires is not None:
        assert expect.fires in found, (
            f"{case['fixture']}: {expect.fires} did not fire ({expect.reason})"
        )
        return
    assert not claimed & set(found), f"{case['fixture']}: {found} ({expect.reason})"
    if expect.silent_on is not None:
        named = [m for ms in found.values() for m in ms if f"`{expect.silent_on}`" in m]
        assert named == [], f"{case['fixture']}: {named} ({expect.reason})"


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
        "aws:neptune/cluster:Cluster",
    } <= types
    assert len(FAILED) == 87 + 11  # 11 Redshift cluster fixtures since policies/redshift.py


def test_every_failed_fixture_is_caught() -> None:
    """Checkov parity: every FAILED fixture of a covered type makes the pack report something."""
    caught = [c["fixture"] for i, c in FAILED if _everything(c, i)]
    print(json.dumps({"failed_fixtures": len(FAILED), "caught": len(caught)}))
    assert len(caught) == len(FAILED)


@pytest.mark.parametrize("item", FAILED, ids=_id)
def test_failed_fixture_gets_its_verdict(item: tuple[int, dict[str, Any]]) -> None:
    index, case = item
    _judge(case, _everything(case, index))


@pytest.mark.parametrize("item", PASSED, ids=_id)
def test_passed_fixture_gets_its_verdict(item: tuple[int, dict[str, Any]]) -> None:
    index, case = item
    _judge(case, _violations(CLAIMS[case["check_id"]], _resource(case, index)))


def test_every_disagreement_has_an_expectation_and_every_expectation_a_fixture() -> None:
    """Unclaimed and CAVEAT FAILED fixtures, and PASSED fixtures the pack rejects, are listed."""
    keys = {_key(c) for _, c in COVERED}
    assert set(EXPECTATIONS) <= keys
    for _index, case in FAILED:
        if _caveat(case) or case["check_id"] not in CLAIMS:
            assert _key(case) in EXPECTATIONS, case["fixture"]
    stricter = {k for k, e in EXPECTATIONS.items() if e.fires is not None}
    for index, case in PASSED:
        if _violations(CLAIMS[case["check_id"]], _resource(case, index)):
            assert _key(case) in stricter, case["fixture"]
