"""The payments database's rules on changes a single-property mutation cannot make: a backup
replication or a replica that stays in the source's region with that region's key (every key is
right, only the region is wrong), and a source with no replica at all."""

from __future__ import annotations

from policies import RULES_BY_NAME
from policies import resource_types as t
from tests.policies.golden import golden_stack
from tests.policies.policy_support import EAST, KEY, apply, run_rule


def _moved_to_the_source_region(type_token: str, name: str) -> list[str]:
    stack = golden_stack()
    index = next(i for i, r in enumerate(stack) if r.type == type_token and r.name == name)
    stack = apply(stack, index, "region", EAST)
    stack = apply(stack, index, "kmsKeyId", KEY[EAST])
    rule = {
        t.RDS_INSTANCE_BACKUPS_REPLICATION: "rds-instance-backup-replication",
        t.RDS_INSTANCE: "rds-instance-cross-region-replica",
    }[type_token]
    return run_rule(RULES_BY_NAME[rule], stack)


def test_backups_replicated_within_the_source_region_do_not_count() -> None:
    (message,) = _moved_to_the_source_region(
        t.RDS_INSTANCE_BACKUPS_REPLICATION, "legacy-postgres-backups"
    )
    assert message.startswith("legacy-postgres (aws:rds/instance:Instance)")
    assert 'only within "us-east-1" (legacy-postgres-backups' in message


def test_a_replica_in_the_source_region_does_not_count() -> None:
    (message,) = _moved_to_the_source_region(t.RDS_INSTANCE, "legacy-postgres-replica")
    assert message.startswith("legacy-postgres (aws:rds/instance:Instance)")
    assert "`read replica` in another region is missing (1 replica(s)" in message
    assert "legacy-postgres-replica" in message


def test_a_source_without_any_replica_or_replication_fires_both() -> None:
    stack = [
        r
        for r in golden_stack()
        if r.name not in ("legacy-postgres-replica", "legacy-postgres-backups")
    ]
    for rule in ("rds-instance-backup-replication", "rds-instance-cross-region-replica"):
        (message,) = run_rule(RULES_BY_NAME[rule], stack)
        assert message.startswith("legacy-postgres (aws:rds/instance:Instance)"), rule
