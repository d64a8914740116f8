"""Backups and point-in-time recovery: enough history, kept on deletion, copied out of the region.

The failure this guards against is losing a region *and* the backups that lived in it, or
deleting a stateful resource without a last snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
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
    if value is None and res.type == t.RDS_INSTANCE and res.has("replicateSourceDb"):
        return  # a read replica left at RDS's default: its source keeps and replicates backups
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
    copy_minimum = cfg["minCopyRetentionDays"]
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
                res, f"{path}.copyActions[{copy_index}]", dig(copy, "lifecycle"), copy_minimum
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


# --- Coverage: every data store is selected by a plan of its region -------------------------------


def _arn_parts(text: str) -> tuple[str, str, str] | None:
    """(service, region, resource) of an ARN or ARN pattern; None for anything else."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[2], parts[3], parts[5]


def _matches(pattern: str, service: str, region: str, resource: str) -> bool:
    """Whether a selection entry (an ARN, possibly with AWS Backup's ``*`` wildcards) names the
    store. Accounts are not compared: the plan and the store are in the stack's own account."""
    if pattern == "*":
        return True
    parts = _arn_parts(pattern)
    if parts is None:
        return False
    return (
        fnmatchcase(service, parts[0])
        and fnmatchcase(region, parts[1] or "*")
        and fnmatchcase(resource, parts[2])
    )


class _Entries:
    """A selection's ``resources`` ARNs, the exact ones hashed, so deciding whether it names a
    store is one lookup plus the wildcard entries, not a scan of every ARN it lists (a
    selection lists every table: a scan per store grew with the square of the tables)."""

    def __init__(self, items: list[Any]) -> None:
        self.exact: set[tuple[str, str, str]] = set()
        """(service, region, resource); region "" where the entry leaves it out (any region)."""
        self.wildcards: list[str] = []
        for item in items:
            if not isinstance(item, str):
                continue
            parts = _arn_parts(item)
            if parts is not None and not any(c in item for c in "*?["):
                self.exact.add(parts)
            elif parts is not None or item == "*":
                self.wildcards.append(item)

    def match(self, service: str, region: str, resource: str) -> bool:
        """Whether an entry names the store (``_matches`` over every entry)."""
        if (service, region, resource) in self.exact or (service, "", resource) in self.exact:
            return True
        return any(_matches(p, service, region, resource) for p in self.wildcards)


def _stores(stack: StackView) -> Iterator[tuple[Res, str, Any, str, str]]:
    """(resource, what, region, service, resource-part) of every store a backup plan must cover:
    Aurora/RDS clusters, RDS instances, DynamoDB tables and each of their replicas."""
    for cluster in stack.of_type(t.RDS_CLUSTER):
        name = known_str(cluster.get("clusterIdentifier"))
        yield cluster, "cluster", cluster.region, "rds", f"cluster:{name or '?'}"
    for instance in stack.of_type(t.RDS_INSTANCE):
        if instance.has("replicateSourceDb"):
            continue  # a read replica: covered by its source's plan and replicated backups
        name = known_str(instance.get("identifier"))
        yield instance, "instance", instance.region, "rds", f"db:{name or '?'}"
    for table in stack.of_type(t.DYNAMODB_TABLE):
        name = known_str(table.get("name")) or "?"
        yield table, "table", table.region, "dynamodb", f"table/{name}"
        for replica in list_items(table.get("replicas")):
            region = dig(replica, "regionName")
            yield table, f"replica in {show(region)}", region, "dynamodb", f"table/{name}"
    for replica in stack.of_type(t.DYNAMODB_TABLE_REPLICA):
        arn = known_str(replica.get("globalTableArn")) or ""
        name = arn.rsplit(":", 1)[-1] if ":table/" in arn else "table/?"
        yield replica, "replica", replica.region, "dynamodb", name


def _selects_plan(selection: Res, plans: list[Res]) -> Any:
    """The plan a selection belongs to (None: no plan of the stack; UNKNOWN: not known yet)."""
    plan_id = selection.get("planId")
    for plan in plans:
        if selection.depends_on("planId", plan.urn) or (
            isinstance(plan_id, str) and plan_id in (plan.get("id"), plan.get("name"))
        ):
            return plan
    return UNKNOWN if plan_id is UNKNOWN and not selection.sources("planId") else None


def _covers(
    selection: Res,
    store: Res,
    service: str,
    region: str,
    resource: str,
    entries: _Entries | None = None,
) -> Any:
    """True/False whether a selection names the store; UNKNOWN when it cannot be decided yet.
    ``entries``: the selection's ``_Entries``, when the caller keeps them for many stores."""
    resources = selection.get("resources")
    excluded = [
        p
        for p in list_items(selection.get("notResources"))
        if isinstance(p, str) and _matches(p, service, region, resource)
    ]
    if excluded:
        return False
    if resources is UNKNOWN:
        return True if selection.depends_on("resources", store.urn) else UNKNOWN
    items = list_items(resources)
    if (entries or _Entries(items)).match(service, region, resource):
        return True
    if UNKNOWN in items:
        return True if selection.depends_on("resources", store.urn) else UNKNOWN
    return bool(_tag_selected(selection, store))


def _tag_selected(selection: Res, store: Res) -> bool:
    """Tag-based selection (``selectionTags``, ORed): the store carries one of the tags."""
    from policies.tagging import effective_tags  # tagging imports nothing from here

    tags = effective_tags(store) or {}
    for condition in list_items(selection.get("selectionTags")):
        key, value = dig(condition, "key"), dig(condition, "value")
        if isinstance(key, str) and tags.get(key) == value:
            return True
    return False


def _copies_into(plan: Any, region: str) -> Any:
    """Whether a plan's copy actions put recovery points in ``region`` (UNKNOWN: not known yet)."""
    if not isinstance(plan, Res):
        return False
    verdict: Any = False
    for rule in list_items(plan.get("rules")):
        for copy in list_items(dig(rule, "copyActions")):
            arn = dig(copy, "destinationVaultArn")
            if arn is UNKNOWN:
                verdict = UNKNOWN
            elif arn_region(arn) == region:
                return True
    return verdict


def _copied_replica(
    stack_selections: list[Res],
    owners: Mapping[str, Any],
    entries: Mapping[str, _Entries],
    store: Res,
    region: str,
    resource: str,
) -> bool:
    """A global table's replica is covered by the copies of its home replica's backups: the
    replicas hold the same items, so components/backup.py backs the table up once, in its home
    region, and the plan's copy action puts every recovery point in the replica's region."""
    verdicts = [
        _copies_into(owners[s.urn], region)
        for s in stack_selections
        if s.region == store.region
        and owners[s.urn] is not None
        and _covers(s, store, "dynamodb", str(store.region), resource, entries[s.urn]) is not False
    ]
    return True in verdicts or UNKNOWN in verdicts


def _coverage(stack: StackView, _cfg: Config) -> Iterator[Finding]:
    plans = stack.of_type(t.BACKUP_PLAN)
    selections = stack.of_type(t.BACKUP_SELECTION)
    owners = {s.urn: _selects_plan(s, plans) for s in selections}
    entries = {s.urn: _Entries(list_items(s.get("resources"))) for s in selections}
    for plan in plans:
        if any(owner is plan for owner in owners.values()):
            continue
        if any(owner is UNKNOWN for owner in owners.values()):
            continue
        yield (
            problem(
                plan,
                "Selection.planId",
                "is named by no backup selection, so the plan backs up nothing",
                "add an aws.backup.Selection with plan_id set to this plan and the data stores as resources",
            ),
            plan.urn,
        )
    for store, what, region, service, resource in _stores(stack):
        if region is UNKNOWN or store.region is UNKNOWN:
            continue
        verdicts = []
        for selection in selections:
            owner = owners[selection.urn]
            if owner is None or selection.region not in (region, UNKNOWN):
                continue
            verdicts.append(
                _covers(selection, store, service, str(region), resource, entries[selection.urn])
            )
        if True in verdicts or UNKNOWN in verdicts:
            continue
        if what.startswith("replica in") and _copied_replica(
            selections, owners, entries, store, str(region), resource
        ):
            continue
        yield (
            problem(
                store,
                "backup selection",
                f"is missing: no backup plan in {show(region)} selects the {what}",
                f"add its ARN to the resources of an aws.backup.Selection of a plan in {region}"
                + (
                    f", or copy its home replica's recovery points to a vault in {region}"
                    if what.startswith("replica in")
                    else ""
                ),
            ),
            store.urn,
        )


# --- Copies of DynamoDB backups: the account's advanced DynamoDB backup ---------------------------


def _selects_dynamodb(selection: Res) -> bool:
    """Whether a selection names a DynamoDB table (an ARN or pattern of the dynamodb service)."""
    for item in list_items(selection.get("resources")):
        parts = _arn_parts(item) if isinstance(item, str) else None
        if item == "*" or (parts is not None and fnmatchcase("dynamodb", parts[0])):
            return True
    return False


def _copies_away(plan: Res, home: Any) -> list[str]:
    """Known regions other than ``home`` the plan's rules copy to."""
    regions = set()
    for rule in list_items(plan.get("rules")):
        for copy in list_items(dig(rule, "copyActions")):
            region = arn_region(dig(copy, "destinationVaultArn"))
            if isinstance(region, str) and region != home:
                regions.add(region)
    return sorted(regions)


REGION_SETTINGS_TAG = "BackupRegionSettings"
"""Plan tag by which a stack acknowledges that the account's Region settings are owned elsewhere
(value ``account``): the account baseline, or the one stack of the account that manages them."""


def _dynamodb_copy_settings(stack: StackView, _cfg: Config) -> Iterator[Finding]:
    """AWS Backup copies a DynamoDB backup to another region only with advanced DynamoDB backup
    (full management) on in the backup's region: a Region setting of the account (AWS Backup,
    Feature availability by resource; Advanced DynamoDB backup)."""
    plans = stack.of_type(t.BACKUP_PLAN)
    selections = stack.of_type(t.BACKUP_SELECTION)
    settings = stack.of_type(t.BACKUP_REGION_SETTINGS)
    for plan in plans:
        home = plan.region
        if home is UNKNOWN or plan.get("rules") is UNKNOWN:
            continue
        acknowledged = plan.get(f"tags.{REGION_SETTINGS_TAG}")
        if acknowledged is UNKNOWN or acknowledged == "account":
            continue
        away = _copies_away(plan, home)
        owned = [s for s in selections if _selects_plan(s, plans) is plan]
        if not away or not any(_selects_dynamodb(s) for s in owned):
            continue
        verdicts: list[Any] = []
        for setting in (s for s in settings if s.region in (home, UNKNOWN)):
            opt_in = dig(setting.get("resourceTypeOptInPreference"), "DynamoDB")
            managed = dig(setting.get("resourceTypeManagementPreference"), "DynamoDB")
            if UNKNOWN in (opt_in, managed, setting.region):
                verdicts.append(UNKNOWN)
            else:
                verdicts.append(as_bool(opt_in) is True and as_bool(managed) is True)
        if True in verdicts or UNKNOWN in verdicts:
            continue
        yield (
            problem(
                plan,
                "RegionSettings resourceTypeManagementPreference.DynamoDB",
                f"is not turned on in {show(home)} by this stack, while the plan copies DynamoDB"
                f" backups to {', '.join(away)} (cross-Region copies need advanced DynamoDB"
                " backup)",
                "manage aws.backup.RegionSettings in this region with DynamoDB opted in and fully"
                " managed (backupManageRegionSettings: true), or tag the plan"
                f" {REGION_SETTINGS_TAG}=account when the account's baseline owns the setting",
            ),
            plan.urn,
        )


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="rds-backup-retention",
        summary="Aurora/RDS clusters and instances keep automated backups (PITR) for N-35 days.",
        remediation="Set auroraBackupRetentionDays in the stack file to at least the configured minimum (backup_retention_period).",
        severity=Severity.HIGH,
        targets=(t.RDS_CLUSTER, t.RDS_INSTANCE),
        check_resource=_backup_retention,
        params={
            "minDays": Param(
                "integer",
                7,
                "Shortest allowed automated-backup retention in days.",
                minimum=1,
                maximum=35,
            )
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
                "integer",
                7,
                "Shortest allowed PITR window (recoveryPeriodInDays; unset means 35).",
                minimum=1,
                maximum=35,
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
        remediation="Set cacheSnapshotRetentionDays in the stack file to at least the configured minimum (snapshot_retention_limit).",
        severity=Severity.MEDIUM,
        targets=(t.CACHE_REPLICATION_GROUP,),
        check_resource=_cache_snapshots,
        params={
            "minDays": Param(
                "integer", 1, "Fewest days of automatic snapshots.", minimum=0, maximum=35
            ),
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
        remediation="Tighten backupSchedule and raise backupRetentionDays / backupCopyRetentionDays in the stack file (the plan rules' schedule and lifecycle.delete_after).",
        severity=Severity.MEDIUM,
        targets=(t.BACKUP_PLAN,),
        check_resource=_plan_frequency_retention,
        params={
            "maxIntervalHours": Param(
                "number",
                24,
                "Longest allowed time between two backups.",
                minimum=1,
                maximum=8784,
            ),
            "minRetentionDays": Param(
                "integer",
                7,
                "Shortest allowed retention of recovery points in the plan's own vault.",
                minimum=1,
                maximum=36500,
            ),
            "minCopyRetentionDays": Param(
                "integer",
                7,
                "Shortest allowed retention of the copies in the other region's vault.",
                minimum=1,
                maximum=36500,
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
    _rule(
        name="backup-dynamodb-copy-region-settings",
        summary=(
            "A backup plan that copies DynamoDB backups to another region has advanced DynamoDB"
            " backup (AWS Backup Region settings, one per account and region) turned on in its"
            " region by the stack, or is tagged BackupRegionSettings=account: the stack"
            " acknowledges that the account owns the setting."
        ),
        remediation=(
            "Add aws.backup.RegionSettings in the plan's region with DynamoDB in"
            " resource_type_opt_in_preference and resource_type_management_preference"
            " (backupManageRegionSettings: true), or tag the plan BackupRegionSettings=account."
        ),
        severity=Severity.MEDIUM,
        check_stack=_dynamodb_copy_settings,
    ),
    _rule(
        name="backup-coverage",
        summary=(
            "Every Aurora/RDS cluster, RDS instance, DynamoDB table and table replica is selected by a "
            "backup plan of its own region (a global table's replica may instead receive the copies "
            "of its home replica's plan), and every plan selects something."
        ),
        remediation="List each data store's ARN in an aws.backup.Selection of its region's plan.",
        severity=Severity.HIGH,
        check_stack=_coverage,
        aws_config=(
            "aurora-resources-protected-by-backup-plan",
            "dynamodb-resources-protected-by-backup-plan",
            "rds-resources-protected-by-backup-plan",
        ),
    ),
)
