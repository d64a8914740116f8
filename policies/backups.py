"""Backups and point-in-time recovery: enough history, kept on deletion, copied out of the region.

The failure this guards against is losing a region *and* the backups that lived in it, or
deleting a stateful resource without a last snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from pulumi_policy import Severity

from policies import resource_types as t
from policies._rule import Config, Finding, Param, Rule
from policies._values import (
    UNKNOWN,
    Res,
    StackView,
    arn_region,
    as_bool,
    as_number,
    dig,
    known_str,
    list_items,
    problem,
    require_set,
    require_true,
    show,
)

CONCERN = "backups"
AWS_MAX_BACKUP_DAYS = 35


def _backup_retention(res: Res, cfg: Config) -> Iterator[str]:
    value = res.get("backupRetentionPeriod")
    if value is UNKNOWN:
        return
    minimum = cfg["minDays"]
    days = 1.0 if value is None else as_number(value)
    shown = "is not set (AWS keeps 1 day)" if value is None else f"is {show(value)}"
    if days is None or days < minimum or days > AWS_MAX_BACKUP_DAYS:
        yield problem(
            res,
            "backupRetentionPeriod",
            f"{shown}; allowed {show(minimum)}-{AWS_MAX_BACKUP_DAYS} days",
            f"set backup_retention_period to at least {show(minimum)}",
        )


def _final_snapshot(res: Res, cfg: Config) -> Iterator[str]:
    skip = res.get("skipFinalSnapshot")
    if skip is not UNKNOWN and as_bool(skip) is True:
        yield problem(res, "skipFinalSnapshot", "is true", "set skip_final_snapshot=False")
        return
    if cfg["requireIdentifier"]:
        yield from require_set(
            res,
            "finalSnapshotIdentifier",
            "name the final snapshot (final_snapshot_identifier) so deletion keeps one",
        )


def _copy_tags(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_true(res, "copyTagsToSnapshot", "set copy_tags_to_snapshot=True")


def _table_pitr(res: Res, cfg: Config) -> Iterator[str]:
    if res.get("pointInTimeRecovery") is None:
        yield problem(
            res,
            "pointInTimeRecovery",
            "is not set (PITR off)",
            "set point_in_time_recovery={enabled: True}",
        )
        return
    yield from require_true(
        res, "pointInTimeRecovery.enabled", "set point_in_time_recovery.enabled=True"
    )
    period = as_number(res.get("pointInTimeRecovery.recoveryPeriodInDays"))
    if period is not None and period < cfg["minRecoveryPeriodDays"]:
        yield problem(
            res,
            "pointInTimeRecovery.recoveryPeriodInDays",
            f"is {show(period)}, below {show(cfg['minRecoveryPeriodDays'])}",
            "raise recovery_period_in_days (or leave it unset for 35)",
        )


def _replica_pitr(res: Res, _cfg: Config) -> Iterator[str]:
    if res.type == t.DYNAMODB_TABLE_REPLICA:
        yield from require_true(res, "pointInTimeRecovery", "set point_in_time_recovery=True")
        return
    for index, replica in enumerate(list_items(res.get("replicas"))):
        value = dig(replica, "pointInTimeRecovery")
        if replica is UNKNOWN or value is UNKNOWN:
            continue
        if as_bool(value) is not True:
            region = dig(replica, "regionName")
            yield problem(
                res,
                f"replicas[{index}].pointInTimeRecovery",
                f"is {show(value)} for the replica in {show(region)}",
                "set point_in_time_recovery=True on every replica",
            )


def _cache_snapshots(res: Res, cfg: Config) -> Iterator[str]:
    value = res.get("snapshotRetentionLimit")
    if value is UNKNOWN:
        return
    if value is None and res.has("globalReplicationGroupId") and cfg["exemptGlobalSecondaries"]:
        return
    days = 0.0 if value is None else as_number(value)
    if days is None or days < cfg["minDays"]:
        shown = "is not set (no automatic snapshots)" if value is None else f"is {show(value)}"
        yield problem(
            res,
            "snapshotRetentionLimit",
            f"{shown}; at least {show(cfg['minDays'])} required",
            f"set snapshot_retention_limit to at least {show(cfg['minDays'])}",
        )


_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


def _field_values(text: str, low: int, high: int) -> list[int] | None:
    """Values a cron field selects (None when it selects every value)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for item in text.split(","):
        part, step = item, 1
        if "/" in item:
            part, step_text = item.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = int(_DAYS.get(first, first)), int(_DAYS.get(last, last))
        else:
            start = int(_DAYS.get(part, part))
            end = high if step > 1 else start
        values.update(range(start, end + 1, step))
    return sorted(values)


def _largest_gap(values: list[int] | None, cycle: int) -> int:
    if values is None or not values:
        return 1
    ordered = sorted(values)
    gaps = [b - a for a, b in pairwise(ordered)]
    gaps.append(ordered[0] + cycle - ordered[-1])
    return max(gaps)


def schedule_gap_hours(expression: str) -> float | None:
    """Longest time between two runs of an AWS Backup schedule, in hours (None: unparseable)."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        amount, unit = float(rate.group(1)), rate.group(2)
        return (
            amount / 60
            if unit.startswith("minute")
            else amount * (24 if unit.startswith("day") else 1)
        )
    cron = _CRON.match(text)
    if not cron:
        return None
    fields = cron.group(1).split()
    if len(fields) != 6:
        return None
    try:
        hours = _field_values(fields[1], 0, 23)
        dom = _field_values(fields[2], 1, 31)
        dow = _field_values(fields[4].upper(), 1, 7)
    except ValueError:
        return None
    hour_gap = _largest_gap(hours, 24) if hours is not None else 1
    if dom is None and dow is None:
        return float(hour_gap)
    day_gap = _largest_gap(dow, 7) if dow is not None else _largest_gap(dom, 31)
    return float(max(hour_gap, day_gap * 24))


def _lifecycle_problem(res: Res, path: str, lifecycle: Any, minimum: float) -> Iterator[str]:
    delete_after = dig(lifecycle, "deleteAfter")
    days = as_number(delete_after)
    if delete_after not in (None, UNKNOWN) and (days is None or days < minimum):
        yield problem(
            res,
            f"{path}.lifecycle.deleteAfter",
            f"is {show(delete_after)}, below {show(minimum)} days",
            f"keep recovery points at least {show(minimum)} days",
        )


def _plan_frequency_retention(res: Res, cfg: Config) -> Iterator[str]:
    minimum = cfg["minRetentionDays"]
    max_gap = cfg["maxIntervalHours"]
    for index, rule in enumerate(list_items(res.get("rules"))):
        if rule is UNKNOWN:
            continue
        path = f"rules[{index}]"
        schedule = dig(rule, "schedule")
        if isinstance(schedule, str):
            gap = schedule_gap_hours(schedule)
            if gap is None:
                yield problem(
                    res,
                    f"{path}.schedule",
                    f"is {show(schedule)}, not a cron()/rate() expression",
                    "use cron(...) or rate(...)",
                )
            elif gap > max_gap:
                yield problem(
                    res,
                    f"{path}.schedule",
                    f"is {show(schedule)}, up to {show(gap)} h between backups",
                    f"back up at least every {show(max_gap)} hours",
                )
        yield from _lifecycle_problem(res, path, dig(rule, "lifecycle"), minimum)
        for copy_index, copy in enumerate(list_items(dig(rule, "copyActions"))):
            yield from _lifecycle_problem(
                res, f"{path}.copyActions[{copy_index}]", dig(copy, "lifecycle"), minimum
            )


def _cross_region_copy(stack: StackView, _cfg: Config) -> Iterator[Finding]:
    plans = stack.of_type(t.BACKUP_PLAN)
    if not plans:
        yield (
            f"No {t.BACKUP_PLAN} in the stack: nothing is copied to the other region. "
            "Fix: add a backup plan whose rules copy to the other region's vault.",
            None,
        )
        return
    vault_regions = {v.urn: v.region for v in stack.of_type(t.BACKUP_VAULT)}
    for plan in plans:
        home = plan.region
        rules = plan.get("rules")
        if home is UNKNOWN or rules is UNKNOWN:
            continue
        dependency_regions = {vault_regions[u] for u in plan.sources("rules") if u in vault_regions}
        for index, rule in enumerate(list_items(rules)):
            if rule is UNKNOWN or dig(rule, "copyActions") is UNKNOWN:
                continue
            destinations: list[Any] = []
            for copy in list_items(dig(rule, "copyActions")):
                arn = dig(copy, "destinationVaultArn")
                destinations.append(UNKNOWN if arn is UNKNOWN else arn_region(arn))
            if any(d is not UNKNOWN and d is not None and d != home for d in destinations):
                continue
            if UNKNOWN in destinations and (
                not dependency_regions or any(r != home for r in dependency_regions)
            ):
                continue  # destination only known after the update
            shown = ", ".join(sorted({str(d) for d in destinations})) or "nowhere"
            yield (
                problem(
                    plan,
                    f"rules[{index}].copyActions",
                    f"copy to {shown}, not to a vault outside {show(known_str(home))}",
                    "add a copy_action whose destination_vault_arn is the other region's vault",
                ),
                plan.urn,
            )


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="rds-backup-retention",
        summary="Aurora/RDS clusters and instances keep automated backups (PITR) for N-35 days.",
        remediation="Set backup_retention_period to at least the configured minimum.",
        severity=Severity.HIGH,
        targets=(t.RDS_CLUSTER, t.RDS_INSTANCE),
        check_resource=_backup_retention,
        params={
            "minDays": Param("integer", 7, "Shortest allowed automated-backup retention in days.")
        },
        checkov=("CKV_AWS_133",),
        aws_config=("db-instance-backup-enabled",),
    ),
    _rule(
        name="rds-final-snapshot",
        summary="Deleting a cluster or instance keeps a named final snapshot.",
        remediation="Leave skip_final_snapshot False and set final_snapshot_identifier.",
        severity=Severity.HIGH,
        targets=(t.RDS_CLUSTER, t.RDS_INSTANCE),
        check_resource=_final_snapshot,
        params={
            "requireIdentifier": Param(
                "boolean", True, "Also require finalSnapshotIdentifier (without it a delete fails)."
            )
        },
    ),
    _rule(
        name="rds-copy-tags-to-snapshot",
        summary="Clusters and database instances copy their tags to snapshots (cost allocation, retention).",
        remediation="Set copy_tags_to_snapshot=True.",
        severity=Severity.LOW,
        targets=(t.RDS_CLUSTER, t.RDS_CLUSTER_INSTANCE, t.RDS_INSTANCE),
        check_resource=_copy_tags,
        checkov=("CKV_AWS_313",),
        aws_config=("rds-cluster-copy-tags-to-snapshots-enabled",),
    ),
    _rule(
        name="dynamodb-table-pitr",
        summary="DynamoDB tables have point-in-time recovery on, with at least N days of history.",
        remediation="Set point_in_time_recovery={enabled: True}.",
        severity=Severity.HIGH,
        targets=(t.DYNAMODB_TABLE,),
        check_resource=_table_pitr,
        params={
            "minRecoveryPeriodDays": Param(
                "integer", 7, "Shortest allowed PITR window when recoveryPeriodInDays is set."
            )
        },
        checkov=("CKV_AWS_28",),
        aws_config=("dynamodb-pitr-enabled",),
    ),
    _rule(
        name="dynamodb-replica-pitr",
        summary="Every DynamoDB replica (inline replicas[] or TableReplica) has point-in-time recovery on.",
        remediation="Set point_in_time_recovery=True on each replica.",
        severity=Severity.HIGH,
        targets=(t.DYNAMODB_TABLE, t.DYNAMODB_TABLE_REPLICA),
        check_resource=_replica_pitr,
    ),
    _rule(
        name="elasticache-snapshot-retention",
        summary="Cache replication groups keep automatic snapshots for at least N days.",
        remediation="Set snapshot_retention_limit to at least the configured minimum.",
        severity=Severity.MEDIUM,
        targets=(t.CACHE_REPLICATION_GROUP,),
        check_resource=_cache_snapshots,
        params={
            "minDays": Param("integer", 1, "Fewest days of automatic snapshots."),
            "exemptGlobalSecondaries": Param(
                "boolean",
                True,
                "Let global-datastore secondaries omit snapshots (the primary keeps them).",
            ),
        },
        aws_config=("elasticache-redis-cluster-automatic-backup-check",),
    ),
    _rule(
        name="backup-plan-frequency-retention",
        summary="AWS Backup plan rules run at least every N hours and keep (and copy) recovery points for at least M days.",
        remediation="Tighten the schedule and raise lifecycle.delete_after of rules and copy actions.",
        severity=Severity.MEDIUM,
        targets=(t.BACKUP_PLAN,),
        check_resource=_plan_frequency_retention,
        params={
            "maxIntervalHours": Param("number", 24, "Longest allowed time between two backups."),
            "minRetentionDays": Param(
                "integer", 7, "Shortest allowed retention of recovery points and copies."
            ),
        },
        aws_config=("backup-plan-min-frequency-and-min-retention-check",),
    ),
    _rule(
        name="backup-cross-region-copy",
        summary="The stack has a backup plan, and every plan rule copies recovery points to a vault in the other region.",
        remediation="Add copy_actions with destination_vault_arn set to the other region's vault.",
        severity=Severity.HIGH,
        check_stack=_cross_region_copy,
    ),
)
