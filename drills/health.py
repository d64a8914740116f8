"""Reading the data tier's health from AWS: preconditions, stop conditions, the invariant."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .aws import error_code
from .canary import Canary
from .engine import DrillContext, Step
from .errors import RegionUnavailableError, VerificationError
from .journal import stack_lock_holder


def region_of_arn(arn: str) -> str:
    """The region field of an ARN."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


@dataclass(frozen=True, slots=True)
class Check:
    """One precondition."""

    name: str
    ok: bool
    detail: str
    blocking: bool = True

    def to_json(self) -> dict[str, Any]:
        """JSON-able."""
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "blocking": self.blocking}


# -- reading -------------------------------------------------------------------------------


def describe_global_cluster(
    ctx: DrillContext, regions: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The global cluster, read from the first region that answers."""
    order = regions or (
        ctx.state.get("to") or ctx.target.secondary_region,
        ctx.target.primary_region,
    )
    last: RegionUnavailableError | None = None
    for region in dict.fromkeys(order):
        try:
            result = ctx.aws.call(
                "rds",
                region,
                "describe_global_clusters",
                GlobalClusterIdentifier=ctx.target.global_cluster_id,
            )
        except RegionUnavailableError as exc:
            last = exc
            continue
        wanted = ctx.target.global_cluster_id.lower()
        clusters: list[dict[str, Any]] = [
            c
            for c in result.get("GlobalClusters", [])
            if str(c.get("GlobalClusterIdentifier", "")).lower() == wanted
        ]
        if not clusters:
            raise VerificationError(f"global cluster {ctx.target.global_cluster_id} not found")
        return clusters[0]
    assert last is not None
    raise last


def writer_regions(global_cluster: dict[str, Any]) -> list[str]:
    """Regions of the members that are writers."""
    return [
        region_of_arn(m["DBClusterArn"])
        for m in global_cluster.get("GlobalClusterMembers", [])
        if m.get("IsWriter")
    ]


def member(global_cluster: dict[str, Any], region: str) -> dict[str, Any] | None:
    """The member of ``global_cluster`` in ``region``."""
    for m in global_cluster.get("GlobalClusterMembers", []):
        if region_of_arn(m["DBClusterArn"]) == region:
            found: dict[str, Any] = m
            return found
    return None


def describe_cluster(
    ctx: DrillContext, region: str, identifier: str | None = None
) -> dict[str, Any]:
    """One regional cluster."""
    ident = identifier or ctx.target.aurora[region].identifier
    result = ctx.aws.call("rds", region, "describe_db_clusters", DBClusterIdentifier=ident)
    cluster: dict[str, Any] = result["DBClusters"][0]
    return cluster


def describe_datastore(
    ctx: DrillContext, region: str | tuple[str, ...] | None = None
) -> dict[str, Any] | None:
    """The ElastiCache global datastore, read from the first region that answers (None when
    the stack has none)."""
    if not ctx.target.cache_global_id:
        return None
    if isinstance(region, tuple):
        order = region
    elif region:
        order = (region,)
    else:
        order = (ctx.target.secondary_region, ctx.target.primary_region)
    last: RegionUnavailableError | None = None
    for candidate in dict.fromkeys(order):
        try:
            result = ctx.aws.call(
                "elasticache",
                candidate,
                "describe_global_replication_groups",
                GlobalReplicationGroupId=ctx.target.cache_global_id,
                ShowMemberInfo=True,
            )
        except RegionUnavailableError as exc:
            last = exc
            continue
        groups: list[dict[str, Any]] = result.get("GlobalReplicationGroups", [])
        return groups[0] if groups else None
    assert last is not None
    raise last


def cache_primaries(datastore: dict[str, Any]) -> list[str]:
    """Regions of the PRIMARY members."""
    return [
        m["ReplicationGroupRegion"]
        for m in datastore.get("Members", [])
        if m.get("Role") == "PRIMARY"
    ]


def alarms_in_alarm(
    ctx: DrillContext, regions: tuple[str, ...] | None = None
) -> tuple[list[str], list[str]]:
    """(alarms in ALARM, regions that did not answer) among the stack's alarms."""
    firing: list[str] = []
    unreachable: list[str] = []
    ignored = set(ctx.settings.ignored_alarms)
    for region in regions or ctx.target.regions:
        names = [n for n in ctx.target.alarms.get(region, []) if n not in ignored]
        for start in range(0, len(names), 100):
            try:
                result = ctx.aws.call(
                    "cloudwatch",
                    region,
                    "describe_alarms",
                    AlarmNames=names[start : start + 100],
                    StateValue="ALARM",
                )
            except RegionUnavailableError:
                unreachable.append(region)
                break
            firing.extend(
                f"{region}/{a['AlarmName']}"
                for a in result.get("MetricAlarms", []) + result.get("CompositeAlarms", [])
                if a.get("StateValue") == "ALARM"
            )
    return firing, unreachable


def reachable(ctx: DrillContext, region: str) -> bool:
    """Whether ``region``'s RDS endpoint answers (one attempt)."""
    try:
        ctx.aws.call(
            "rds",
            region,
            "describe_db_clusters",
            retries=False,
            DBClusterIdentifier=ctx.target.aurora[region].identifier,
        )
    except RegionUnavailableError:
        return False
    except ClientError:
        return True
    return True


# -- stop conditions and the invariant ------------------------------------------------------


def stop_condition_alarms(ctx: DrillContext) -> list[str]:
    """Stop-condition alarms now in ALARM (regions known to be down are skipped)."""
    down = set(ctx.state.get("unreachable_regions", []))
    regions = tuple(r for r in ctx.target.regions if r not in down)
    firing, unreachable = alarms_in_alarm(ctx, regions)
    if unreachable:
        ctx.state["unreachable_regions"] = sorted(down | set(unreachable))
        ctx.event("unreachable", f"alarms not readable in {', '.join(unreachable)}")
    return firing


def _wait_available(ctx: DrillContext) -> None:
    """Before the check that closes a rollback: wait (within the step deadline) until neither
    the global cluster nor the global datastore has a move in flight, so the check sees the
    final state instead of skipping a store that is still ``modifying``."""

    def quiet() -> bool | None:
        gc = describe_global_cluster(ctx)
        if gc.get("Status") != "available":
            return None
        datastore = describe_datastore(ctx) if ctx.target.cache_global_id else None
        if datastore is not None and datastore.get("Status") != "available":
            return None
        return True

    ctx.wait_until(
        "every store to be available before the final check", quiet, tolerate_unreachable=True
    )


def single_writer(ctx: DrillContext, step: Step | None) -> dict[str, Any]:
    """Exactly one Aurora writer (control plane, plus the data plane after writer moves) and
    exactly one cache primary; after a rollback both must be in the origin region. A store
    that is not ``available`` fails the check (it is never skipped). The independent reads run
    concurrently."""
    if ctx.in_rollback:
        _wait_available(ctx)
    data_plane = step is None or step.moves_writer
    down = set(ctx.state.get("unreachable_regions", []))
    with ThreadPoolExecutor(max_workers=4) as pool:
        gc_future = pool.submit(describe_global_cluster, ctx)
        cache_future = pool.submit(describe_datastore, ctx) if ctx.target.cache_global_id else None
        recovery = {
            region: pool.submit(ctx.aurora.in_recovery, region, ref.arn)
            for region, ref in ctx.target.aurora.items()
            if data_plane and region not in down
        }
        gc = gc_future.result()
        datastore = cache_future.result() if cache_future is not None else None
        control = writer_regions(gc)
        check: dict[str, Any] = {
            "ok": True,
            "aurora_writers": control,
            "store": "aurora",
            "writers": control,
        }
        if len(control) != 1:
            return {
                **check,
                "ok": False,
                "detail": f"global cluster {gc.get('GlobalClusterIdentifier')}",
            }
        if data_plane:
            data_writers: list[str] = []
            unknown = [f"{r} (not answering)" for r in ctx.target.aurora if r in down]
            for region, future in recovery.items():
                try:
                    if not future.result():
                        data_writers.append(region)
                except RegionUnavailableError:
                    unknown.append(region)
                except ClientError as exc:
                    unknown.append(f"{region} ({error_code(exc)})")
            check["aurora_data_plane_writers"] = data_writers
            check["aurora_unknown"] = unknown
            if len(data_writers) > 1 or (data_writers and data_writers != control):
                return {
                    **check,
                    "ok": False,
                    "writers": sorted(set(data_writers) | set(control)),
                    "detail": "pg_is_in_recovery() disagrees with the global cluster's writer",
                }
    if datastore is not None:
        primaries = cache_primaries(datastore)
        check["cache_primaries"] = primaries
        check["cache_status"] = datastore.get("Status")
        if datastore.get("Status") != "available" or len(primaries) != 1:
            return {
                **check,
                "ok": False,
                "store": "cache",
                "writers": primaries,
                "detail": f"global datastore is {datastore.get('Status')}",
            }
    origin = (ctx.state.get("origin") or {}).get("primary")
    if ctx.in_rollback and origin:
        where = {"aurora": control, "cache": check.get("cache_primaries", [origin])}
        astray = {store: w for store, w in where.items() if w != [origin]}
        if astray:
            store_name, writers = next(iter(astray.items()))
            return {
                **check,
                "ok": False,
                "store": store_name,
                "writers": writers,
                "detail": f"after the rollback the {store_name} primary must be in {origin}",
            }
    return check


# -- preconditions ---------------------------------------------------------------------------


def aurora_lag_probe(
    ctx: DrillContext, writer: str, reader: str, limit: float
) -> tuple[float | None, Canary]:
    """Write a probe canary on the writer, time until it is readable on the reader."""
    ref_w, ref_r = ctx.target.aurora[writer], ctx.target.aurora[reader]
    ctx.aurora.ensure_schema(writer, ref_w.arn)
    (probe_id,) = ctx.next_canary_ids("probe-aurora", 1)
    canary = ctx.log.add(ctx.aurora.write(writer, ref_w.arn, probe_id, "probe", ref_w.identifier))
    if not canary.ok:
        return None, canary
    deadline = canary.written_at + limit
    while time.time() <= deadline:
        if probe_id in ctx.aurora.present(reader, ref_r.arn):
            return time.time() - canary.written_at, canary
        time.sleep(min(ctx.settings.poll_interval, max(0.0, deadline - time.time())) or 0.001)
    return None, canary


def dynamo_lag_probe(
    ctx: DrillContext, table: str, writer: str, reader: str, limit: float
) -> float | None:
    """Write a probe item in ``writer``, time until it is readable in ``reader``."""
    canaries = ctx.dynamo(table)
    (probe_id,) = ctx.next_canary_ids("probe-ddb", 1)
    canary = ctx.log.add(canaries.write(writer, probe_id, "probe"))
    if not canary.ok:
        return None
    deadline = canary.written_at + limit
    while time.time() <= deadline:
        if canaries.present(reader, [probe_id]):
            return time.time() - canary.written_at
        time.sleep(min(ctx.settings.poll_interval, max(0.0, deadline - time.time())) or 0.001)
    return None


def check_preconditions(
    ctx: DrillContext,
    *,
    writer: str,
    aurora: bool = True,
    cache: bool = True,
    dynamodb_tables: tuple[str, ...] = (),
    pitr: bool = False,
    allow_writer_unreachable: bool = False,
) -> list[Check]:
    """Every precondition of a drill; the drill refuses if any blocking one fails."""
    checks: list[Check] = []
    reader = ctx.target.other(writer)
    objectives = ctx.target.objectives
    max_lag = objectives.max_replication_lag_seconds if objectives else 5.0
    writer_up = reachable(ctx, writer)
    if not writer_up:
        ctx.state["unreachable_regions"] = sorted(
            set(ctx.state.get("unreachable_regions", [])) | {writer}
        )
    checks.append(
        Check(
            "primary-region-reachable",
            writer_up or allow_writer_unreachable,
            f"{writer} answers" if writer_up else f"{writer} does not answer",
            blocking=not allow_writer_unreachable,
        )
    )
    holder = stack_lock_holder(ctx.settings.state_dir, ctx.journal.data["stack"])
    other_drill = holder is not None and holder != ctx.drill_id
    checks.append(
        Check(
            "no-other-drill",
            not other_drill,
            f"drill {holder} holds the stack" if other_drill else "none",
        )
    )
    try:
        busy = ctx.reconciler.update_in_progress()
        checks.append(
            Check(
                "no-pulumi-update",
                not busy,
                "an update is in progress" if busy else "none in progress",
            )
        )
    except Exception as exc:  # report, do not crash, when the CLI cannot even list stacks
        checks.append(Check("no-pulumi-update", False, f"cannot read the stack: {exc}"))

    # the groups are independent (each probes its own store): run them concurrently
    groups: list[tuple[str, Callable[[], list[Check]]]] = []
    if aurora:
        groups.append(
            (
                "aurora",
                functools.partial(_aurora_checks, ctx, writer, reader, writer_up, max_lag, pitr),
            )
        )
    region = writer if writer_up else reader
    for table in dynamodb_tables:
        groups.append(
            (
                f"table-{table}",
                functools.partial(_table_checks, ctx, table, region, max_lag, pitr, writer_up),
            )
        )
    if cache and ctx.target.cache_global_id:
        groups.append(("cache-datastore", functools.partial(_cache_checks, ctx, writer)))
    regions = ctx.target.regions if writer_up else (reader,)
    with ThreadPoolExecutor(max_workers=max(1, len(groups) + 1)) as pool:
        futures = [pool.submit(_guarded, name, run) for name, run in groups]
        alarms = pool.submit(alarms_in_alarm, ctx, regions)
        for future in futures:
            checks.extend(future.result())
        firing, unreachable = alarms.result()
    checks.append(
        Check(
            "no-alarm-in-alarm",
            not firing,
            ("in ALARM: " + ", ".join(firing))
            if firing
            else f"{sum(len(ctx.target.alarms.get(r, [])) for r in regions)} alarms OK",
        )
    )
    if unreachable:
        checks.append(
            Check(
                "alarms-readable",
                False,
                "not readable in " + ", ".join(unreachable),
                blocking=False,
            )
        )
    return checks


def _guarded(name: str, run: Callable[[], list[Check]]) -> list[Check]:
    """A group of checks; a region that does not answer or an AWS error fails the group."""
    try:
        return run()
    except RegionUnavailableError as exc:
        return [Check(name, False, str(exc))]
    except ClientError as exc:
        return [Check(name, False, f"{error_code(exc)}: {exc}")]


def _aurora_checks(
    ctx: DrillContext, writer: str, reader: str, writer_up: bool, max_lag: float, pitr: bool
) -> list[Check]:
    checks: list[Check] = []
    try:
        gc = describe_global_cluster(ctx, (reader, writer))
    except RegionUnavailableError as exc:
        return [Check("global-cluster-available", False, str(exc))]
    status = gc.get("Status")
    checks.append(Check("global-cluster-available", status == "available", f"status {status}"))
    writers = writer_regions(gc)
    checks.append(
        Check(
            "aurora-writer-in-primary",
            writers == [writer],
            f"writer in {', '.join(writers) or 'no region'}; expected {writer}",
        )
    )
    unsynced = [
        region_of_arn(m["DBClusterArn"])
        for m in gc.get("GlobalClusterMembers", [])
        if m.get("SynchronizationStatus", "connected") != "connected"
    ]
    checks.append(
        Check(
            "aurora-members-synchronized",
            not unsynced and len(gc.get("GlobalClusterMembers", [])) >= 2,
            f"not synchronized: {', '.join(unsynced)}"
            if unsynced
            else f"{len(gc.get('GlobalClusterMembers', []))} members connected",
        )
    )
    for region in (writer, reader):
        if region == writer and not writer_up:
            continue
        try:
            cluster = describe_cluster(ctx, region)
        except RegionUnavailableError as exc:
            checks.append(Check(f"aurora-cluster-{region}", False, str(exc)))
            continue
        checks.append(
            Check(
                f"aurora-cluster-{region}",
                cluster.get("Status") == "available",
                f"status {cluster.get('Status')}",
            )
        )
        if pitr and region == writer:
            retention = int(cluster.get("BackupRetentionPeriod") or 0)
            checks.append(
                Check("aurora-backups", retention >= 1, f"backup retention {retention} days")
            )
    if writer_up and writers == [writer]:
        try:
            lag, probe = aurora_lag_probe(ctx, writer, reader, max_lag)
        except RegionUnavailableError as exc:
            checks.append(Check("aurora-replication-lag", False, str(exc)))
        else:
            if lag is None:
                detail = probe.error or f"probe not visible in {reader} within {max_lag:g}s"
                checks.append(Check("aurora-replication-lag", False, detail))
            else:
                ctx.state.setdefault("lag", {})["aurora"] = lag
                checks.append(
                    Check(
                        "aurora-replication-lag", True, f"{lag * 1000:.0f} ms (limit {max_lag:g}s)"
                    )
                )
    return checks


def _table_checks(
    ctx: DrillContext, table: str, region: str, max_lag: float, pitr: bool, writer_up: bool
) -> list[Check]:
    checks: list[Check] = []
    other = ctx.target.other(region)
    try:
        desc = ctx.aws.call("dynamodb", region, "describe_table", TableName=table)["Table"]
    except RegionUnavailableError as exc:
        return [Check(f"table-{table}", False, str(exc))]
    except ClientError as exc:
        return [Check(f"table-{table}", False, f"{error_code(exc)}: {exc}")]
    replicas = {r["RegionName"]: r.get("ReplicaStatus") for r in desc.get("Replicas", [])}
    healthy = desc.get("TableStatus") == "ACTIVE" and replicas.get(other) == "ACTIVE"
    checks.append(
        Check(
            f"table-{table}",
            healthy,
            f"{desc.get('TableStatus')} in {region}; replica in {other}: {replicas.get(other, 'missing')}",
        )
    )
    if pitr:
        backups = ctx.aws.call("dynamodb", region, "describe_continuous_backups", TableName=table)
        status = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"
        ]
        checks.append(
            Check(f"table-{table}-pitr", status == "ENABLED", f"point-in-time recovery {status}")
        )
    if healthy and writer_up:
        lag = dynamo_lag_probe(ctx, table, region, other, max_lag)
        if lag is None:
            checks.append(
                Check(
                    f"table-{table}-replication", False, f"probe not in {other} within {max_lag:g}s"
                )
            )
        else:
            ctx.state.setdefault("lag", {})[f"dynamodb:{table}"] = lag
            checks.append(
                Check(
                    f"table-{table}-replication", True, f"{lag * 1000:.0f} ms (limit {max_lag:g}s)"
                )
            )
    return checks


def _cache_checks(ctx: DrillContext, writer: str) -> list[Check]:
    try:
        datastore = describe_datastore(ctx)
    except RegionUnavailableError as exc:
        return [Check("cache-datastore", False, str(exc))]
    if datastore is None:
        return [
            Check(
                "cache-datastore", False, f"global datastore {ctx.target.cache_global_id} not found"
            )
        ]
    members = datastore.get("Members", [])
    associated = all(m.get("Status") == "associated" for m in members) and len(members) >= 2
    primaries = cache_primaries(datastore)
    return [
        Check(
            "cache-datastore",
            datastore.get("Status") == "available" and associated,
            f"status {datastore.get('Status')}, {len(members)} members",
        ),
        Check(
            "cache-primary-in-primary",
            primaries == [writer],
            f"primary in {', '.join(primaries) or 'no region'}; expected {writer}",
        ),
    ]


def refuse_unless_ok(ctx: DrillContext, checks: list[Check]) -> None:
    """Record the checks; raise PreconditionFailedError naming every blocking failure."""
    from .errors import PreconditionFailedError

    ctx.state["preconditions"] = [c.to_json() for c in checks]
    failed = [f"{c.name}: {c.detail}" for c in checks if c.blocking and not c.ok]
    for check in checks:
        ctx.event(
            "check", f"{'ok' if check.ok else 'FAIL'} {check.name}: {check.detail}", ok=check.ok
        )
    if failed:
        raise PreconditionFailedError(failed)


def wait_for_region(ctx: DrillContext, region: str) -> float:
    """Block until ``region`` answers (bounded by the step deadline); returns when it did."""

    def probe() -> float | None:
        return time.time() if reachable(ctx, region) else None

    return ctx.wait_until(f"{region} to answer again", probe)
