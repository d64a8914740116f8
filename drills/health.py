"""Reading the data tier's health from AWS: preconditions, stop conditions, the invariant."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .aws import error_code
from .engine import DrillContext, Step
from .errors import RegionUnavailableError, VerificationError


def region_of_arn(arn: str) -> str:
    """The region field of an ARN."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


@dataclass(frozen=True, slots=True)
class Check:
    """One precondition (its name is one of :data:`drills.preconditions.CATALOG`)."""

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


def synchronized(member: dict[str, Any]) -> bool:
    """Whether a global cluster member replicates normally: ``SynchronizationStatus``
    ``connected`` (RDS API Reference, GlobalClusterMember: ``connected | pending-resync``);
    a member that reports none counts as connected."""
    return bool(member.get("SynchronizationStatus", "connected") == "connected")


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


def alarm_matches(name: str, key: str, region: str) -> bool:
    """Whether the stack alarm ``name`` is the alarm ``key`` of ``region``: the stack names
    alarms ``<prefix>-<key>-<region>`` or, per node, ``<prefix>-<key>-<node>-<region>``
    (``components/monitoring.py``)."""
    pattern = rf".+-{re.escape(key)}(-[A-Za-z0-9]+)?-{re.escape(region)}"
    return re.fullmatch(pattern, name) is not None


def expected_alarms(ctx: DrillContext) -> set[str]:
    """``<region>/<name>`` of the alarms the drill sets off itself: those each started phase
    declares (``Phase.expects``) in the region it demotes. An earlier phase's stay expected:
    an alarm takes its evaluation periods to return to OK after the cause is gone."""
    expected: set[str] = set()
    for ph in (ctx.state.get("phases") or {}).values():
        if not ph.get("started"):
            continue
        region = str(ph.get("from", ""))
        for key in ph.get("expected_alarms", []):
            expected.update(
                f"{region}/{n}"
                for n in ctx.target.alarms.get(region, [])
                if alarm_matches(n, str(key), region)
            )
    return expected


def stop_condition_alarms(ctx: DrillContext) -> list[str]:
    """Stop-condition alarms now in ALARM (regions known to be down are skipped); the alarms
    the drill sets off itself (:func:`expected_alarms`) are journaled, not returned."""
    regions = tuple(r for r in ctx.target.regions if r not in ctx.unreachable)
    firing, unreachable = alarms_in_alarm(ctx, regions)
    if unreachable:
        ctx.mark_unreachable(*unreachable)
        ctx.event("unreachable", f"alarms not readable in {', '.join(unreachable)}")
    expected = expected_alarms(ctx)
    seen: list[str] = ctx.state.setdefault("expected_alarms_fired", [])
    for name in firing:
        if name in expected and name not in seen:
            seen.append(name)
            ctx.event("expected-alarm", f"{name} in ALARM: expected, the drill set it off")
    return [name for name in firing if name not in expected]


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
    down = ctx.unreachable
    with ThreadPoolExecutor(max_workers=4) as pool:
        gc_future = pool.submit(describe_global_cluster, ctx)
        cache_future = pool.submit(describe_datastore, ctx) if ctx.target.cache_global_id else None
        answers = {
            region: pool.submit(ctx.aurora.answers_as_writer, region, ref.arn)
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
            for region, future in answers.items():
                try:
                    if future.result():
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
                    "detail": "the Data API answers as a writer where the global cluster has none",
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
        setting = active_region_values(ctx)
        if setting is not None:
            check["dynamodb_active_region"] = setting
            where["dynamodb"] = sorted(set(setting.values()))
        expected = {
            "aurora": [origin],
            "cache": [origin],
            "dynamodb": [ctx.state.get("setting_origin") or origin],
        }
        astray = {store: w for store, w in where.items() if w != expected[store]}
        if astray:
            store_name, writers = next(iter(astray.items()))
            return {
                **check,
                "ok": False,
                "store": store_name,
                "writers": writers,
                "detail": f"after the rollback the {store_name} primary must be in "
                f"{expected[store_name][0]}",
            }
    return check


def active_region_values(ctx: DrillContext) -> dict[str, str] | None:
    """The active-region setting (SSM, one copy per region) in every region that answers, or
    None when the stack has no such parameter anywhere."""
    name = ctx.target.active_region_parameter
    if not name:
        return None
    down = ctx.unreachable
    values: dict[str, str] = {}
    for region in ctx.target.regions:
        if region in down:
            continue
        try:
            result = ctx.aws.call("ssm", region, "get_parameter", Name=name)
        except RegionUnavailableError:
            continue
        except ClientError as exc:
            if error_code(exc) == "ParameterNotFound":
                continue
            raise
        values[region] = str(result["Parameter"]["Value"])
    return values or None
