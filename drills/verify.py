"""Canaries before and after a move: writing them, counting the ones that survived (RPO),
replication both ways, and removing them afterwards.

Aurora canaries are read only on the current writer: the RDS Data API refuses statements,
even reads, on a secondary cluster without a writer instance (RDS User Guide, "Limitations
for the RDS Data API"). That a canary written on the new writer reached the old region is
therefore shown by the global cluster's own replication (``AuroraGlobalDBReplicationLag``),
never by reading the secondary.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from .aws import error_code
from .canary import Canary, PhaseRun
from .engine import DrillContext
from .errors import RegionUnavailableError, VerificationError
from .metrics import Resolution, rpo_resolution
from .probes import CacheProbe, app_path, probe_for, record_path, tls_connector
from .reads import describe_global_cluster, synchronized, writer_regions

DATA_API_PATH = "rds data api by cluster arn"
"""The path of canaries written through the Data API on purpose (``pitr``)."""


def write_canaries(
    ctx: DrillContext,
    run: PhaseRun,
    *,
    aurora: bool,
    tables: list[str],
    cache: bool = False,
    aurora_data_api: bool = False,
) -> None:
    """Write ``canary_count`` canaries per store in the phase's source region (idempotent).
    With an application path, Aurora's and the cache's go through the names applications use
    (the probes), one every canary interval, as a steady write load whose acknowledgements the
    RPO counts; without one, or with ``aurora_data_api``, Aurora's go through the Data API
    (and without one the cache gets none)."""
    src, phase, ph = run.src, run.name, run.record
    if ph.get("canaries_written"):
        return
    count = ctx.settings.canary_count
    through_names = app_path(ctx) is not None
    if aurora and (aurora_data_api or not through_names):
        ref = ctx.target.aurora[src]
        for cid in ctx.next_canary_ids(f"{phase}-before-aurora", count):
            ctx.log.add(ctx.aurora.write(src, ref.arn, cid, phase, ref.identifier))
        if aurora_data_api:
            run.measurement("aurora")["path"] = DATA_API_PATH
        aurora = False
    stores = [s for s, wanted in (("aurora", aurora), ("cache", cache)) if wanted]
    if through_names:
        probes = [probe_for(ctx, s, ctx.cache_connector or tls_connector) for s in stores]
        for n in range(count):
            if n:
                time.sleep(ctx.settings.canary_interval)
            for probe in probes:
                (cid,) = ctx.next_canary_ids(f"{phase}-before-{probe.store}", 1)
                ctx.log.add(probe.write(ctx, cid, phase))
        for probe in probes:
            record_path(ctx, run.measurement(probe.store), probe)
    for table in tables:
        for cid in ctx.next_canary_ids(f"{phase}-before-{table}", count):
            ctx.log.add(ctx.dynamo(table).write(src, cid, phase))
    acked = [c for c in run.attempts() if c.ok]
    ph["canaries_written"] = True
    ctx.event("canaries", f"{len(acked)} canaries acknowledged in {src}", phase=phase)


def cleanup_canaries(ctx: DrillContext, best_effort: bool = False) -> None:
    """Delete every canary this drill wrote (Aurora on the writer, DynamoDB where reachable)."""
    problems: list[str] = []
    try:
        gc = describe_global_cluster(ctx)
        writers = writer_regions(gc)
        for region in writers:
            ref = ctx.target.aurora.get(region)
            if ref is not None and any(c.store == "aurora" for c in ctx.log.attempts()):
                ctx.aurora.delete(region, ref.arn)
    except (RegionUnavailableError, ClientError) as exc:
        problems.append(f"aurora: {exc}")
    by_table: dict[str, set[str]] = {}
    for canary in ctx.log.attempts():
        if canary.store == "dynamodb" and canary.target:
            by_table.setdefault(canary.target, set()).add(canary.id)
    down = ctx.unreachable
    write_region = str(ctx.state.get("dynamodb_write_region", ctx.target.primary_region))
    regions = [write_region, *[r for r in ctx.target.regions if r != write_region]]
    for table, ids in by_table.items():
        if table.endswith(tuple(_restored_suffixes(ctx))):
            continue
        for region in regions:
            if region in down:
                continue
            try:
                ctx.dynamo(table).delete(region, sorted(ids))
                break
            except RegionUnavailableError as exc:
                problems.append(f"{table} in {region}: {exc}")
            except ClientError as exc:
                problems.append(f"{table}: {error_code(exc)}")
                break
    ctx.state["cleanup"] = {"at": time.time(), "problems": problems}
    ctx.event("cleanup", "canaries removed" if not problems else "; ".join(problems))
    if problems and not best_effort:
        raise VerificationError("cleanup incomplete: " + "; ".join(problems))


def _restored_suffixes(ctx: DrillContext) -> list[str]:
    return [f"-pitr-{ctx.drill_id.rsplit('-', 1)[-1]}"]


def wait_present(
    ctx: DrillContext,
    what: str,
    pending: dict[str, float],
    check: Callable[[list[str]], set[str]],
    grace: float,
) -> dict[str, float]:
    """Poll until every pending id is present (or ``grace`` passes); id -> latency seconds."""
    seen: dict[str, float] = {}
    deadline = min(time.time() + grace, ctx.deadline)
    while True:
        waiting = [i for i in pending if i not in seen]
        if not waiting:
            return seen
        try:
            found = check(waiting)
        except RegionUnavailableError:
            found = set()
        now = time.time()
        for cid in found:
            if cid in pending and cid not in seen:
                seen[cid] = max(0.0, now - pending[cid])
        if len(seen) == len(pending) or now + ctx.settings.poll_interval > deadline:
            if len(seen) < len(pending):
                ctx.event(
                    "replication",
                    f"{len(pending) - len(seen)} canaries not in {what} after {grace:g}s",
                )
            return seen
        ctx.check_stop_conditions()
        time.sleep(ctx.settings.poll_interval)


def presence(ctx: DrillContext, table: str, region: str) -> Callable[[list[str]], set[str]]:
    """Which of some canary ids are readable in ``table`` in ``region``."""

    def check(ids: list[str]) -> set[str]:
        return ctx.dynamo(table).present(region, ids)

    return check


def loss_window(acknowledged: list[Canary], lost: list[Canary]) -> float:
    """RPO in seconds, an upper bound good to one canary interval: from the last acknowledged
    write that survived before the first lost one (or the first lost write itself when none
    did) to the last lost write's acknowledgement. One lost canary therefore counts as the
    interval it stood for, not as the few milliseconds its own write took."""
    if not lost:
        return 0.0
    first_lost = min(c.written_at for c in lost)
    survivors = [c.acked_at for c in acknowledged if c not in lost and c.acked_at <= first_lost]
    start = max(survivors) if survivors else first_lost
    end = max(c.acked_at for c in lost)
    return round(max(0.0, end - start), 3)


def record_loss(
    m: dict[str, Any],
    acked: list[Canary],
    lost: list[Canary],
    resolution: Resolution | None = None,
) -> None:
    """The RPO figures of one store's measurement: canaries acknowledged, lost, loss window,
    and the resolution the log allows (not measured when a probe stalled around the fault:
    the lost canaries are kept, the figures are not claimed)."""
    m["canaries_acknowledged"] = len(acked)
    m["canaries_lost"] = sorted(c.id for c in lost)
    m["rpo_canaries_lost"] = len(lost)
    m["rpo_seconds"] = loss_window(acked, lost)
    if resolution is None:
        return
    m.pop("rpo_note", None)
    m["rpo_resolution_seconds"] = resolution.seconds
    m["probe_stall_seconds"] = resolution.stall_seconds
    if not resolution.measured:
        m["rpo_canaries_lost"] = None
        m["rpo_seconds"] = None
        m["rpo_note"] = resolution.why


def resolution_of(
    run: PhaseRun, m: dict[str, Any], attempts: list[Canary], interval: float
) -> Resolution:
    """:func:`~drills.metrics.rpo_resolution` of one store's ``attempts`` around its fault
    (its own, ``m["fault_at"]``, once its move ran; the phase's otherwise)."""
    fault = m.get("fault_at", run.record.get("fault_at"))
    if fault is None:
        return Resolution(None, 0.0, False, "no fault recorded in this phase")
    return rpo_resolution(attempts, run.src, float(fault), interval)


def latency_stats(latencies: list[float]) -> dict[str, float] | None:
    if not latencies:
        return None
    return {
        "count": float(len(latencies)),
        "p50": round(statistics.median(latencies), 4),
        "max": round(max(latencies), 4),
    }


def verify_aurora(ctx: DrillContext, run: PhaseRun, both_ways: bool) -> None:
    """RPO of the Aurora move: acknowledged canaries missing on the new writer (read there, the
    only cluster the Data API answers), plus, when both ways, the old region back in the
    global cluster as a synchronized secondary with its replication lag under the limit."""
    src, dst = run.src, run.dst
    m = run.measurement("aurora")
    acked = run.acknowledged("aurora", region=src)
    attempts = run.attempts("aurora")
    present = ctx.aurora.present(dst, ctx.target.aurora[dst].arn)
    lost = [c for c in acked if c.id not in present]
    record_loss(m, acked, lost, resolution_of(run, m, attempts, ctx.settings.canary_interval))
    ctx.event(
        "rpo",
        f"Aurora: {len(acked) - len(lost)}/{len(acked)} acknowledged canaries in {dst}",
        store="aurora",
        phase=run.name,
        lost=len(lost),
    )
    if both_ways and src not in ctx.unreachable:
        replicates_back(ctx, run, src)


def replicates_back(ctx: DrillContext, run: PhaseRun, old: str) -> None:
    """The old writer's region replicates from the new writer: a connected member of the global
    cluster whose ``AuroraGlobalDBReplicationLag`` is under the stack's limit."""
    from .metrics import aurora_lag

    m = run.measurement("aurora")
    limit = ctx.target.objectives.max_replication_lag_seconds if ctx.target.objectives else 5.0

    def caught_up() -> float | None:
        gc = describe_global_cluster(ctx)
        member = next(
            (
                x
                for x in gc.get("GlobalClusterMembers", [])
                if x["DBClusterArn"] == ctx.target.aurora[old].arn
            ),
            None,
        )
        if member is None or member.get("IsWriter"):
            return None
        if not synchronized(member):
            return None
        sample = aurora_lag(ctx, old)
        if sample is None or sample.milliseconds > limit * 1000:
            return None
        return sample.milliseconds / 1000

    lag = ctx.wait_until(
        f"{old} to replicate from the new writer (lag under {limit:g}s)", caught_up
    )
    m["replicates_back"] = True
    m["replication_back_latency"] = latency_stats([lag])
    m["replication_back_source"] = "AuroraGlobalDBReplicationLag"


def verify_cache(ctx: DrillContext, run: PhaseRun) -> None:
    """Cache RPO (issue 18 item 4): keys the primary acknowledged in the old region before the
    failover and missing after it, read with ``EXISTS`` through ``cache.<zone>``, which leads
    to the new primary once its move is done. Needs the application path: without it the
    drill has no way to read keys back, and says so."""
    src, dst = run.src, run.dst
    m = run.measurement("cache")
    acked = run.acknowledged("cache", region=src)
    attempts = run.attempts("cache")
    probe = probe_for(ctx, "cache", ctx.cache_connector or tls_connector)
    if not isinstance(probe, CacheProbe) or probe.app is None:
        m["rpo_note"] = "not measured: no application path to read the keys back"
        return
    present, region = probe.present(ctx, [c.id for c in acked])
    if region != dst:
        raise VerificationError(f"cache: {probe.path} leads to {region or '?'}, not {dst}")
    lost = [c for c in acked if c.id not in present]
    record_loss(m, acked, lost, resolution_of(run, m, attempts, ctx.settings.canary_interval))
    record_path(ctx, m, probe)
    ctx.event(
        "rpo",
        f"cache: {len(acked) - len(lost)}/{len(acked)} acknowledged keys on the primary in {dst}",
        store="cache",
        phase=run.name,
        lost=len(lost),
    )


def verify_dynamo(ctx: DrillContext, run: PhaseRun, table: str, both_ways: bool) -> None:
    """RPO of one global table: canaries acknowledged in the old region that replicated to the
    new one within the grace, the replication latency of fresh items, and back the other way
    when both ways."""
    src, dst = run.src, run.dst
    m = run.measurement(f"dynamodb:{table}")
    acked = run.acknowledged("dynamodb", region=src, table=table)
    attempts = run.attempts("dynamodb", table)
    m.update({"action": "global table replication", "from": src, "to": dst})
    pending = {c.id: c.written_at for c in acked}
    seen = wait_present(
        ctx,
        f"{table} in {dst}",
        pending,
        presence(ctx, table, dst),
        ctx.settings.replication_grace,
    )
    lost = [c for c in acked if c.id not in seen]
    resolution = resolution_of(run, m, attempts, ctx.settings.canary_interval)
    # The canaries above were written before the move, so "seen after" is not a replication
    # latency (it includes the move): that is measured on fresh items, written now.
    m["replication_latency"] = (
        None if src in ctx.unreachable else _fresh_latency(ctx, run.name, table, src, dst)
    )
    record_loss(m, acked, lost, resolution)
    ctx.event(
        "rpo",
        f"DynamoDB {table}: {len(seen)}/{len(acked)} canaries in {dst}",
        store="dynamodb",
        phase=run.name,
    )
    if both_ways and src not in ctx.unreachable:
        back = _probe(ctx, f"{run.name}-after", table, dst)
        arrived = wait_present(
            ctx,
            f"{table} in {src}",
            back,
            presence(ctx, table, src),
            ctx.settings.replication_grace,
        )
        m["replicates_back"] = len(arrived) == len(back) and bool(back)
        m["replication_back_latency"] = latency_stats(list(arrived.values()))
        if not m["replicates_back"]:
            raise VerificationError(
                f"DynamoDB {table}: canaries written in {dst} did not reach {src}"
            )


def _probe(ctx: DrillContext, tag: str, table: str, region: str) -> dict[str, float]:
    """Two fresh canary items written in ``region`` now: id -> when each was written."""
    written = [
        ctx.log.add(ctx.dynamo(table).write(region, cid, tag))
        for cid in ctx.next_canary_ids(f"{tag}-{table}-a{ctx.attempt}", 2)
    ]
    return {c.id: c.written_at for c in written if c.ok}


def _fresh_latency(
    ctx: DrillContext, phase: str, table: str, src: str, dst: str
) -> dict[str, float] | None:
    """Replication latency from ``src`` to ``dst``, measured on items written just now."""
    fresh = _probe(ctx, f"{phase}-forward", table, src)
    seen = wait_present(
        ctx, f"{table} in {dst}", fresh, presence(ctx, table, dst), ctx.settings.replication_grace
    )
    return latency_stats(list(seen.values()))
