"""The drills: planned switchover, unplanned failover, cache failover, DynamoDB evacuation,
point-in-time recovery and failback, each as a list of journaled, idempotent steps.

Every step reads the real state before acting (so a resumed drill never repeats an action that
already happened) and every undo restores the state the drill started from (writer region,
cache primary, stack config), then removes what the drill created (canaries, restored copies).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from .aws import error_code
from .canary import Canary, CanaryWriter
from .engine import DrillContext, Step
from .errors import RegionUnavailableError, VerificationError
from .health import (
    cache_primaries,
    check_preconditions,
    describe_cluster,
    describe_datastore,
    describe_global_cluster,
    member,
    reachable,
    refuse_unless_ok,
    wait_for_region,
    writer_regions,
)
from .stores import AuroraGlobal, CacheGlobal, move, undo

StepBuilder = Callable[["ScenarioOptions"], list[Step]]


@dataclass(frozen=True, slots=True)
class ScenarioOptions:
    """Choices that shape a drill's plan."""

    failback: bool = False
    has_cache: bool = True


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named drill."""

    name: str
    title: str
    summary: str
    build: StepBuilder
    preconditions: tuple[str, ...]
    moves_region_pair: bool


# -- shared pieces ---------------------------------------------------------------------------


def _phase_regions(ctx: DrillContext, phase: str) -> tuple[str, str]:
    ph = ctx.phase(phase)
    return str(ph["from"]), str(ph["to"])


def init_phases(ctx: DrillContext, scenario: str, failback: bool) -> None:
    """Record the drill's origin and the direction of each phase (once, at creation)."""
    if "origin" in ctx.state:
        return
    primary, secondary = ctx.target.primary_region, ctx.target.secondary_region
    ctx.state["origin"] = {"primary": primary, "secondary": secondary}
    ctx.state["dynamodb_write_region"] = primary
    forward = {
        "planned-switchover": "switch",
        "failback": "failback",
        "unplanned-failover": "failover",
        "cache-failover": "cache",
        "dynamodb-evacuation": "evacuate",
        "pitr": "pitr",
    }[scenario]
    ctx.phase(forward).update({"from": primary, "to": secondary})
    back = {"cache-failover": "cache-return", "dynamodb-evacuation": "return"}.get(scenario)
    if back is None and failback and scenario in {"planned-switchover", "unplanned-failover"}:
        back = "failback"
    if back is not None:
        ctx.phase(back).update({"from": secondary, "to": primary})


def _preconditions(
    *,
    aurora: bool = True,
    cache: bool = True,
    tables: str = "canary",
    pitr: bool = False,
    lossy: bool = False,
) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        origin = ctx.state["origin"]["primary"]
        names: tuple[str, ...]
        if tables == "all":
            names = tuple(t.name for t in ctx.target.tables.values())
        elif tables == "order":
            names = (ctx.target.order_table().name,)
        elif tables == "canary" and ctx.target.tables:
            names = (ctx.target.canary_table().name,)
        else:
            names = ()
        checks = check_preconditions(
            ctx,
            writer=origin,
            aurora=aurora,
            cache=cache,
            dynamodb_tables=names,
            pitr=pitr,
            allow_writer_unreachable=lossy,
        )
        try:
            refuse_unless_ok(ctx, checks)
        except Exception:
            _cleanup_canaries(ctx, best_effort=True)
            ctx.checkpoint()
            raise

    return run


def _write_canaries(ctx: DrillContext, phase: str, *, aurora: bool, tables: list[str]) -> None:
    """Write ``canary_count`` canaries per store in the phase's source region (idempotent)."""
    src, _ = _phase_regions(ctx, phase)
    ph = ctx.phase(phase)
    if ph.get("canaries_written"):
        return
    count = ctx.settings.canary_count
    if aurora:
        ref = ctx.target.aurora[src]
        try:
            ctx.aurora.ensure_schema(src, ref.arn)
        except RegionUnavailableError as exc:
            ctx.event("canary", f"cannot reach the Aurora writer in {src}: {exc}")
        else:
            for cid in ctx.next_canary_ids(f"{phase}-before-aurora", count):
                ctx.log.add(ctx.aurora.write(src, ref.arn, cid, phase, ref.identifier))
    for table in tables:
        for cid in ctx.next_canary_ids(f"{phase}-before-{table}", count):
            ctx.log.add(ctx.dynamo(table).write(src, cid, phase))
    acked = [c for c in ctx.log.attempts(phase) if c.ok]
    ph["canaries_written"] = True
    ctx.event("canaries", f"{len(acked)} canaries acknowledged in {src}", phase=phase)


def _cleanup_canaries(ctx: DrillContext, best_effort: bool = False) -> None:
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
    down = set(ctx.state.get("unreachable_regions", []))
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


# -- Aurora ------------------------------------------------------------------------------------


def _aurora_switch(phase: str, lossy: bool) -> Callable[[DrillContext], None]:
    """Switchover (or lossy failover) of the global cluster to the phase's target region."""

    def run(ctx: DrillContext) -> None:
        src, dst = _phase_regions(ctx, phase)
        m = ctx.measurement(phase, "aurora")
        m.update(
            {
                "action": "failover_global_cluster(AllowDataLoss)"
                if lossy
                else "switchover_global_cluster",
                "from": src,
                "to": dst,
            }
        )
        src_ref, dst_ref = ctx.target.aurora[src], ctx.target.aurora[dst]
        m.setdefault("requested_at", time.time())
        move(ctx, AuroraGlobal(), dst, lossy=lossy, key=f"{phase}:aurora")
        requested = float(m.setdefault("requested_at", time.time()))
        down = set(ctx.state.get("unreachable_regions", []))
        attempt = ctx.attempt

        def write_one(n: int) -> list[Canary]:
            cid = f"{phase}-during-aurora-a{attempt}-{n:04d}"
            first = ctx.aurora.write(dst, dst_ref.arn, cid, phase, dst_ref.identifier)
            if first.ok or src in down or src in ctx.state.get("unreachable_regions", []):
                return [first]
            return [first, ctx.aurora.write(src, src_ref.arn, cid, phase, src_ref.identifier)]

        def took_over() -> float | None:
            for c in ctx.log.acknowledged(phase, "aurora"):
                if c.region == dst and c.written_at >= requested:
                    return c.acked_at
            return None

        with CanaryWriter(ctx.log, write_one, ctx.settings.canary_interval):
            takeover = ctx.wait_until(f"writes to succeed in {dst}", took_over)
        m["takeover_at"] = takeover
        m["rto_seconds"] = round(takeover - requested, 3)
        ctx.event(
            "takeover",
            f"Aurora writes succeed in {dst} after {m['rto_seconds']:.3f}s",
            store="aurora",
            phase=phase,
        )

        def settled() -> bool | None:
            current = describe_global_cluster(ctx, (dst, src))
            return (
                True
                if current.get("Status") == "available" and writer_regions(current) == [dst]
                else None
            )

        ctx.wait_until(f"global cluster available with its writer in {dst}", settled)
        m["completed_at"] = time.time()

    return run


def _aurora_already_moving(ctx: DrillContext, exc: ClientError, src: str, dst: str) -> bool:
    """Whether a rejected switchover/failover call is already under way toward ``dst`` (the
    client retried a call whose first attempt timed out after AWS accepted it)."""
    if error_code(exc) not in {"InvalidGlobalClusterStateFault", "InvalidParameterValue"}:
        return False
    current = describe_global_cluster(ctx, (dst, src))
    state = current.get("FailoverState") or {}
    toward = str(state.get("ToDbClusterArn", ""))
    if writer_regions(current) == [dst] or toward == ctx.target.aurora[dst].arn:
        ctx.event("retry", f"switch already under way ({error_code(exc)})", store="aurora")
        return True
    return False


def _undo_aurora(ctx: DrillContext) -> None:
    """Put the Aurora writer back in the origin region, after any in-flight move settles."""
    undo(ctx, AuroraGlobal(), ctx.state["origin"]["primary"])


# -- ElastiCache -------------------------------------------------------------------------------


def _cache_switch(phase: str) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        src, dst = _phase_regions(ctx, phase)
        m = ctx.measurement(phase, "cache")
        m.update(
            {
                "action": "failover_global_replication_group",
                "from": src,
                "to": dst,
                "rpo_note": "cache contents are rebuildable; RPO not measured",
            }
        )
        datastore = describe_datastore(ctx, dst)
        if datastore is None:
            ctx.event("skip", "no global datastore")
            return
        m.setdefault("requested_at", time.time())
        move(ctx, CacheGlobal(), dst, lossy=False, key=f"{phase}:cache")
        requested = float(m.setdefault("requested_at", time.time()))

        def promoted() -> float | None:
            current = describe_datastore(ctx, dst)
            if (
                current
                and current.get("Status") == "available"
                and cache_primaries(current) == [dst]
            ):
                return time.time()
            return None

        takeover = ctx.wait_until(f"the cache primary to be in {dst}", promoted)
        CacheGlobal().after_move(ctx, dst)
        m["takeover_at"] = takeover
        m["rto_seconds"] = round(takeover - requested, 3)
        m["completed_at"] = takeover
        ctx.event(
            "takeover",
            f"cache primary in {dst} after {m['rto_seconds']:.3f}s",
            store="cache",
            phase=phase,
        )

    return run


def _undo_cache(ctx: DrillContext) -> None:
    """Put the cache primary (and ``cache.<zone>``) back in the origin region, after any
    in-flight failover settles."""
    if ctx.target.cache_global_id:
        undo(ctx, CacheGlobal(), ctx.state["origin"]["primary"])


# -- verification --------------------------------------------------------------------------


def _wait_present(
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


def _presence(ctx: DrillContext, table: str, region: str) -> Callable[[list[str]], set[str]]:
    """Which of some canary ids are readable in ``table`` in ``region``."""

    def check(ids: list[str]) -> set[str]:
        return ctx.dynamo(table).present(region, ids)

    return check


def loss_window(acknowledged_by_old: list[Canary], lost: list[Canary]) -> float:
    """RPO in seconds: the span of acknowledged writes that did not survive, from the oldest
    lost write to the last write the old primary acknowledged (0 when nothing was lost)."""
    if not lost:
        return 0.0
    end = max(c.acked_at for c in [*acknowledged_by_old, *lost])
    return round(max(0.0, end - min(c.written_at for c in lost)), 3)


def _latency_stats(latencies: list[float]) -> dict[str, float] | None:
    if not latencies:
        return None
    return {
        "count": float(len(latencies)),
        "p50": round(statistics.median(latencies), 4),
        "max": round(max(latencies), 4),
    }


def _verify_aurora(ctx: DrillContext, phase: str, both_ways: bool) -> None:
    src, dst = _phase_regions(ctx, phase)
    m = ctx.measurement(phase, "aurora")
    dst_ref = ctx.target.aurora[dst]
    acked = ctx.log.acknowledged(phase, "aurora")
    present = ctx.aurora.present(dst, dst_ref.arn)
    lost = [c for c in acked if c.id not in present]
    m["canaries_acknowledged"] = len(acked)
    m["canaries_lost"] = sorted(c.id for c in lost)
    m["rpo_canaries_lost"] = len(lost)
    m["rpo_seconds"] = loss_window([c for c in acked if c.region == src], lost)
    ctx.event(
        "rpo",
        f"Aurora: {len(acked) - len(lost)}/{len(acked)} acknowledged canaries in {dst}",
        store="aurora",
        phase=phase,
        lost=len(lost),
    )
    if both_ways and src not in ctx.state.get("unreachable_regions", []):
        _replicate_back_aurora(ctx, phase, src, dst)


def _replicate_back_aurora(ctx: DrillContext, phase: str, src: str, dst: str) -> None:
    """Canaries written on the new writer reach the old region (now a secondary)."""
    m = ctx.measurement(phase, "aurora")
    dst_ref, src_ref = ctx.target.aurora[dst], ctx.target.aurora[src]
    written = [
        ctx.log.add(ctx.aurora.write(dst, dst_ref.arn, cid, f"{phase}-after", dst_ref.identifier))
        for cid in ctx.next_canary_ids(f"{phase}-after-aurora-a{ctx.attempt}", 2)
    ]
    pending = {c.id: c.written_at for c in written if c.ok}
    seen = _wait_present(
        ctx,
        f"Aurora {src}",
        pending,
        lambda _ids: ctx.aurora.present(src, src_ref.arn),
        ctx.settings.replication_grace,
    )
    m["replicates_back"] = len(seen) == len(pending) and bool(pending)
    m["replication_back_latency"] = _latency_stats(list(seen.values()))
    if not m["replicates_back"]:
        raise VerificationError(f"Aurora: canaries written in {dst} did not reach {src}")


def _verify_dynamo(ctx: DrillContext, phase: str, table: str, both_ways: bool) -> None:
    src, dst = _phase_regions(ctx, phase)
    m = ctx.measurement(phase, f"dynamodb:{table}")
    m.update({"action": "global table replication", "from": src, "to": dst})
    acked = [
        c for c in ctx.log.acknowledged(phase, "dynamodb") if c.target == table and c.region == src
    ]
    pending = {c.id: c.written_at for c in acked}
    seen = _wait_present(
        ctx,
        f"{table} in {dst}",
        pending,
        _presence(ctx, table, dst),
        ctx.settings.replication_grace,
    )
    lost = [c for c in acked if c.id not in seen]
    m["canaries_acknowledged"] = len(acked)
    m["canaries_lost"] = sorted(c.id for c in lost)
    m["rpo_canaries_lost"] = len(lost)
    m["rpo_seconds"] = loss_window(acked, lost)
    ctx.event(
        "rpo",
        f"DynamoDB {table}: {len(seen)}/{len(acked)} canaries in {dst}",
        store="dynamodb",
        phase=phase,
    )
    if both_ways and src not in ctx.state.get("unreachable_regions", []):
        written = [
            ctx.log.add(ctx.dynamo(table).write(dst, cid, f"{phase}-after"))
            for cid in ctx.next_canary_ids(f"{phase}-after-{table}-a{ctx.attempt}", 2)
        ]
        back = {c.id: c.written_at for c in written if c.ok}
        arrived = _wait_present(
            ctx,
            f"{table} in {src}",
            back,
            _presence(ctx, table, src),
            ctx.settings.replication_grace,
        )
        m["replicates_back"] = len(arrived) == len(back) and bool(back)
        m["replication_back_latency"] = _latency_stats(list(arrived.values()))
        if not m["replicates_back"]:
            raise VerificationError(
                f"DynamoDB {table}: canaries written in {dst} did not reach {src}"
            )


def _verify_phase(phase: str, both_ways: bool) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        _verify_aurora(ctx, phase, both_ways)
        if ctx.target.tables:
            _verify_dynamo(ctx, phase, ctx.target.canary_table().name, both_ways)

    return run


# -- rebuilding the old primary --------------------------------------------------------------


def _rebuild(phase: str) -> Callable[[DrillContext], None]:
    """Wait for the lost region, then for its cluster to rejoin as a synchronized secondary."""

    def run(ctx: DrillContext) -> None:
        src, dst = _phase_regions(ctx, phase)
        m = ctx.measurement(phase, "rebuild")
        if not reachable(ctx, src):
            ctx.event("waiting", f"waiting for {src} to answer again")
            m["region_back_at"] = wait_for_region(ctx, src)
        else:
            m.setdefault("region_back_at", time.time())
        down = [r for r in ctx.state.get("unreachable_regions", []) if r != src]
        ctx.state["unreachable_regions"] = down

        def rejoined() -> float | None:
            gc = describe_global_cluster(ctx, (dst, src))
            old = member(gc, src)
            if (
                old is not None
                and not old.get("IsWriter")
                and old.get("SynchronizationStatus", "connected") == "connected"
                and gc.get("Status") == "available"
                and describe_cluster(ctx, src).get("Status") == "available"
            ):
                return time.time()
            return None

        m["rejoined_at"] = ctx.wait_until(
            f"{src} to rejoin as a secondary", rejoined, tolerate_unreachable=True
        )
        ctx.event("rebuilt", f"{src} is a synchronized secondary again", phase=phase)
        _replicate_back_aurora(ctx, phase, src, dst)
        if ctx.target.tables:
            table = ctx.target.canary_table().name
            dm = ctx.measurement(phase, f"dynamodb:{table}")
            late = list(dm.get("canaries_lost", []))
            if late:
                arrived = ctx.dynamo(table).present(dst, late)
                dm["arrived_after_recovery"] = sorted(arrived)
                ctx.event(
                    "replication",
                    f"{len(arrived)} of {len(late)} late DynamoDB canaries arrived in {dst} after recovery",
                )

    return run


# -- Pulumi ----------------------------------------------------------------------------------


def _refresh(ctx: DrillContext) -> None:
    ctx.reconciler.refresh()


def _swap_config(phase: str) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        src, dst = _phase_regions(ctx, phase)
        if ctx.reconciler.regions() != (dst, src):
            ctx.reconciler.set_regions(dst, src)
        ctx.phase(phase)["config_swapped"] = True
        ctx.event("config", f"stack config: primaryRegion={dst} secondaryRegion={src}", phase=phase)

    return run


def _undo_config(ctx: DrillContext) -> None:
    """Put the origin region pair back in the stack config and, if the deployed stack has the
    swapped pair (read from its outputs, not the journal: a crash may have hidden an ``up``),
    re-apply it."""
    origin = ctx.state["origin"]
    wanted = (origin["primary"], origin["secondary"])
    if ctx.reconciler.regions() != wanted:
        ctx.reconciler.set_regions(*wanted)
        ctx.event("config", f"stack config restored: primaryRegion={wanted[0]}")
    outputs = ctx.reconciler.outputs()
    deployed = (outputs.get("primaryRegion"), outputs.get("secondaryRegion"))
    if deployed != wanted:
        ctx.reconciler.refresh()
        ctx.reconciler.preview()
        _record, fresh = ctx.reconciler.up()
        ctx.state["outputs"] = fresh
        ctx.event("config", "stack re-applied with the origin region pair")


def _preview(ctx: DrillContext) -> None:
    record = ctx.reconciler.preview()
    ctx.event(
        "preview",
        f"{_changes(record.change_summary)}; {len(record.policy)} policy findings",
    )


def _changes(summary: dict[str, int]) -> str:
    return ", ".join(f"{op} {n}" for op, n in sorted(summary.items())) or "no changes"


def _up(phase: str) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        record, outputs = ctx.reconciler.up()
        ph = ctx.phase(phase)
        ph["up_done"] = True
        ctx.state["outputs"] = outputs
        ctx.event("up", _changes(record.change_summary), phase=phase)

    return run


def _verify_outputs(phase: str) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        src, dst = _phase_regions(ctx, phase)
        outputs = ctx.reconciler.outputs()
        ctx.state["outputs"] = outputs
        problems: list[str] = []
        if outputs.get("primaryRegion") != dst or outputs.get("secondaryRegion") != src:
            problems.append(f"outputs say primary {outputs.get('primaryRegion')}, expected {dst}")
        if outputs.get("globalClusterId") not in (None, ctx.target.global_cluster_id):
            problems.append("globalClusterId changed")
        clusters = outputs.get("auroraClusters") or {}
        if set(clusters) and set(clusters) != {src, dst}:
            problems.append(f"auroraClusters regions {sorted(clusters)}")
        writers = writer_regions(describe_global_cluster(ctx, (dst, src)))
        if writers != [dst]:
            problems.append(f"Aurora writer in {writers}, expected {dst}")
        if problems:
            raise VerificationError("; ".join(problems))
        ctx.event("verified", f"stack outputs and AWS agree: primary {dst}", phase=phase)

    return run


def _reconcile_steps(phase: str, prefix: str) -> list[Step]:
    return [
        Step(f"{prefix}refresh", "pulumi refresh", _refresh, "reconcile", phase=phase),
        Step(
            f"{prefix}swap-config",
            "swap primaryRegion/secondaryRegion in the stack config",
            _swap_config(phase),
            "reconcile",
            undo=_undo_config,
            undo_order=1,
            phase=phase,
        ),
        Step(
            f"{prefix}preview",
            "pulumi preview with the policy pack (refuse stateful replace/delete)",
            _preview,
            "reconcile",
            phase=phase,
        ),
        Step(f"{prefix}up", "pulumi up", _up(phase), "reconcile", phase=phase),
        Step(
            f"{prefix}verify-outputs",
            "verify stack outputs against AWS",
            _verify_outputs(phase),
            "verify",
            phase=phase,
        ),
    ]


def _cleanup_undo(ctx: DrillContext) -> None:
    """Rollback: remove every canary the drill wrote (probes included); an incomplete cleanup
    fails the undo so that the next ``rollback`` tries again."""
    _cleanup_canaries(ctx)


def _cleanup_step() -> Step:
    return Step(
        "cleanup",
        "remove canaries",
        lambda ctx: _cleanup_canaries(ctx, best_effort=True),
        "cleanup",
        undo=_cleanup_undo,
        undo_order=2,
    )


# -- region-pair scenarios ---------------------------------------------------------------------


def _canary_step(name: str, description: str, phase: str) -> Step:
    """Write canaries (Aurora and the canary table) in the current primary before acting."""
    return Step(
        name,
        description,
        lambda ctx: _write_canaries(
            ctx,
            phase,
            aurora=True,
            tables=[ctx.target.canary_table().name] if ctx.target.tables else [],
        ),
        "canaries",
        phase=phase,
    )


def _switch_phase(
    phase: str, prefix: str, options: ScenarioOptions, lossy: bool = False
) -> list[Step]:
    steps = [
        _canary_step(f"{prefix}canaries", "write canaries in the current primary", phase),
        Step(
            f"{prefix}aurora-{'failover' if lossy else 'switchover'}",
            ("fail over (AllowDataLoss)" if lossy else "switch over")
            + " the Aurora global cluster",
            _aurora_switch(phase, lossy),
            "aurora_switch",
            undo=_undo_aurora,
            moves_writer=True,
            phase=phase,
        ),
    ]
    if options.has_cache:
        steps.append(
            Step(
                f"{prefix}cache-failover",
                "fail over the ElastiCache global datastore",
                _cache_switch(phase),
                "cache_switch",
                undo=_undo_cache,
                moves_writer=True,
                phase=phase,
            )
        )
    steps.append(
        Step(
            f"{prefix}verify-canaries",
            "count canaries in the new primary (RPO); replication both ways",
            _verify_phase(phase, both_ways=not lossy),
            "verify",
            phase=phase,
        )
    )
    return steps


def _declare_loss(ctx: DrillContext) -> None:
    phase = "failover"
    src, _ = _phase_regions(ctx, phase)
    ph = ctx.phase(phase)
    ph.setdefault("loss_declared_at", time.time())
    up = reachable(ctx, src)
    if not up:
        ctx.state["unreachable_regions"] = sorted(
            set(ctx.state.get("unreachable_regions", [])) | {src}
        )
    ctx.event(
        "loss",
        f"primary region {src} declared lost ({'still answering' if up else 'not answering'})",
        phase=phase,
    )


def planned_switchover(options: ScenarioOptions) -> list[Step]:
    """Switch the writers to the secondary region without losing data."""
    steps = [
        Step(
            "preconditions",
            "check health, lag, alarms, Pulumi",
            _preconditions(tables="canary"),
            "preconditions",
            undo=_cleanup_undo,
            undo_order=2,
        ),
        *_switch_phase("switch", "", options),
        *_reconcile_steps("switch", ""),
    ]
    if options.failback:
        steps += [
            *_switch_phase("failback", "failback-", options),
            *_reconcile_steps("failback", "failback-"),
        ]
    return [*steps, _cleanup_step()]


def failback(options: ScenarioOptions) -> list[Step]:
    """Return the writers to the other region (after a failover drill or an incident)."""
    return [
        Step(
            "preconditions",
            "check health, lag, alarms, Pulumi",
            _preconditions(tables="canary"),
            "preconditions",
            undo=_cleanup_undo,
            undo_order=2,
        ),
        *_switch_phase("failback", "", options),
        *_reconcile_steps("failback", ""),
        _cleanup_step(),
    ]


def unplanned_failover(options: ScenarioOptions) -> list[Step]:
    """Lose the primary region: fail over with data loss allowed, then rebuild the old region."""
    phase = "failover"
    steps = [
        Step(
            "preconditions",
            "check the secondary, lag, alarms, Pulumi",
            _preconditions(tables="canary", lossy=True),
            "preconditions",
            undo=_cleanup_undo,
            undo_order=2,
        ),
        _canary_step("canaries", "write canaries in the primary", phase),
        Step(
            "declare-primary-lost",
            "declare the primary region lost",
            _declare_loss,
            "canaries",
            phase=phase,
        ),
        *_switch_phase(phase, "", options, lossy=True)[1:],
        Step(
            "rebuild-old-primary",
            "wait for the old region and its rejoin as a secondary",
            _rebuild(phase),
            "rebuild",
            pause_on_timeout=True,
            phase=phase,
        ),
        *_reconcile_steps(phase, ""),
    ]
    if options.failback:
        steps += [
            *_switch_phase("failback", "failback-", options),
            *_reconcile_steps("failback", "failback-"),
        ]
    return [*steps, _cleanup_step()]


# -- single-store scenarios ---------------------------------------------------------------------


def _reconcile_check_steps(phase: str, prefix: str) -> list[Step]:
    return [
        Step(f"{prefix}refresh", "pulumi refresh", _refresh, "reconcile", phase=phase),
        Step(
            f"{prefix}preview",
            "pulumi preview with the policy pack (refuse stateful replace/delete)",
            _preview,
            "reconcile",
            phase=phase,
        ),
    ]


def cache_failover(options: ScenarioOptions) -> list[Step]:
    """Fail the ElastiCache global datastore over to the secondary and back."""
    return [
        Step(
            "preconditions",
            "check the datastore, alarms, Pulumi",
            _preconditions(aurora=True, tables="none"),
            "preconditions",
            undo=_cleanup_undo,
            undo_order=2,
        ),
        Step(
            "cache-failover",
            "fail over the global datastore",
            _cache_switch("cache"),
            "cache_switch",
            undo=_undo_cache,
            moves_writer=True,
            phase="cache",
        ),
        *_reconcile_check_steps("cache", ""),
        Step(
            "cache-failback",
            "fail the global datastore back",
            _cache_switch("cache-return"),
            "cache_switch",
            undo=_undo_cache,
            moves_writer=True,
            phase="cache-return",
        ),
        Step("refresh-after", "pulumi refresh", _refresh, "reconcile", phase="cache-return"),
        _cleanup_step(),
    ]


def _dynamo_canaries(phase: str) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        _write_canaries(
            ctx, phase, aurora=False, tables=[t.name for t in ctx.target.tables.values()]
        )

    return run


def _fresh_latency(
    ctx: DrillContext, phase: str, tables: list[str], writer: str, reader: str, label: str
) -> tuple[list[Canary], dict[str, float]]:
    """Write one fresh canary per table in ``writer``, poll ``reader`` at once: replication latency."""
    written = [
        ctx.log.add(ctx.dynamo(t).write(writer, cid, phase))
        for t in tables
        for cid in ctx.next_canary_ids(f"{phase}-{label}-{t}-a{ctx.attempt}", 1)
    ]
    seen: dict[str, float] = {}
    for table in tables:
        pending = {c.id: c.written_at for c in written if c.ok and c.target == table}
        seen.update(
            _wait_present(
                ctx,
                f"{table} in {reader}",
                pending,
                _presence(ctx, table, reader),
                ctx.settings.replication_grace,
            )
        )
    return written, seen


def _evacuate(phase: str) -> Callable[[DrillContext], None]:
    """Move DynamoDB writes to the phase's target region; measure replication both ways."""

    def run(ctx: DrillContext) -> None:
        src, dst = _phase_regions(ctx, phase)
        m = ctx.measurement(phase, "dynamodb")
        m.update({"action": "move application writes", "from": src, "to": dst})
        tables = [t.name for t in ctx.target.tables.values()]
        if not m.get("requested_at"):
            m["requested_at"] = time.time()
            ctx.checkpoint()
            ctx.event(
                "action", f"DynamoDB writes move {src} -> {dst}", store="dynamodb", phase=phase
            )
        requested = float(m["requested_at"])
        if src not in ctx.state.get("unreachable_regions", []):
            _written, drained = _fresh_latency(ctx, phase, tables, src, dst, "last-write")
            m["replication_latency"] = _latency_stats(list(drained.values()))
        ctx.state["dynamodb_write_region"] = dst
        ctx.checkpoint()
        attempt = ctx.attempt

        def write_one(n: int) -> list[Canary]:
            table = tables[n % len(tables)]
            return [
                ctx.dynamo(table).write(
                    dst, f"{phase}-during-{table}-a{attempt}-{n:04d}", f"{phase}-during"
                )
            ]

        def writable() -> float | None:
            for c in ctx.log.acknowledged(f"{phase}-during", "dynamodb"):
                if c.region == dst and c.written_at >= requested:
                    return c.acked_at
            return None

        with CanaryWriter(ctx.log, write_one, ctx.settings.canary_interval):
            takeover = ctx.wait_until(f"writes to succeed in {dst}", writable)
        m["takeover_at"] = takeover
        m["rto_seconds"] = round(takeover - requested, 3)
        acknowledged = 0
        all_acked: list[Canary] = []
        all_lost: list[Canary] = []
        for table in tables:
            acked = [
                c
                for c in ctx.log.acknowledged(phase, "dynamodb")
                if c.target == table and c.region == src
            ]
            seen = _wait_present(
                ctx,
                f"{table} in {dst}",
                {c.id: c.written_at for c in acked},
                _presence(ctx, table, dst),
                ctx.settings.replication_grace,
            )
            acknowledged += len(acked)
            all_acked.extend(acked)
            all_lost.extend(c for c in acked if c.id not in seen)
        m["canaries_acknowledged"] = acknowledged
        m["canaries_lost"] = sorted(c.id for c in all_lost)
        m["rpo_canaries_lost"] = len(all_lost)
        m["rpo_seconds"] = loss_window(all_acked, all_lost)
        ctx.event(
            "rpo",
            f"DynamoDB: {acknowledged - len(all_lost)}/{acknowledged} canaries from {src} in {dst}",
            store="dynamodb",
            phase=phase,
        )

    return run


def _verify_back(phase: str) -> Callable[[DrillContext], None]:
    """Canaries written in the new write region replicate to the old one (latency measured)."""

    def run(ctx: DrillContext) -> None:
        src, dst = _phase_regions(ctx, phase)
        m = ctx.measurement(phase, "dynamodb")
        tables = [t.name for t in ctx.target.tables.values()]
        written, seen = _fresh_latency(ctx, phase, tables, dst, src, "back")
        acked = [c for c in written if c.ok]
        m["replication_back_latency"] = _latency_stats(list(seen.values()))
        m["replicates_back"] = len(seen) == len(acked) and bool(acked)
        if not m["replicates_back"]:
            raise VerificationError(
                f"{len(acked) - len(seen)} canaries written in {dst} did not reach {src}"
            )
        ctx.event("verified", f"canaries replicate {dst} -> {src}", phase=phase)

    return run


def _undo_evacuation(ctx: DrillContext) -> None:
    origin = ctx.state["origin"]["primary"]
    if ctx.state.get("dynamodb_write_region") != origin:
        ctx.state["dynamodb_write_region"] = origin
        ctx.event("undo", f"DynamoDB writes back in {origin}")


def dynamodb_evacuation(options: ScenarioOptions) -> list[Step]:
    """Move writes to the secondary region's replicas and back, measuring replication."""
    return [
        Step(
            "preconditions",
            "check tables, replicas, lag, alarms, Pulumi",
            _preconditions(aurora=True, cache=False, tables="all"),
            "preconditions",
            undo=_cleanup_undo,
            undo_order=2,
        ),
        Step(
            "canaries",
            "write canaries in every table in the primary",
            _dynamo_canaries("evacuate"),
            "canaries",
            phase="evacuate",
        ),
        Step(
            "evacuate",
            "move writes to the secondary; drain replication",
            _evacuate("evacuate"),
            "dynamodb_evacuation",
            undo=_undo_evacuation,
            phase="evacuate",
        ),
        Step(
            "verify-both-ways",
            "canaries written in the secondary reach the primary",
            _verify_back("evacuate"),
            "verify",
            phase="evacuate",
        ),
        *_reconcile_check_steps("evacuate", ""),
        Step(
            "return-writes",
            "move writes back to the primary; drain replication",
            _evacuate("return"),
            "dynamodb_evacuation",
            undo=_undo_evacuation,
            phase="return",
        ),
        Step(
            "verify-return",
            "canaries written in the primary reach the secondary",
            _verify_back("return"),
            "verify",
            phase="return",
        ),
        _cleanup_step(),
    ]


# -- point-in-time recovery ------------------------------------------------------------------


def _pitr_names(ctx: DrillContext) -> tuple[str, str]:
    suffix = ctx.drill_id.rsplit("-", 1)[-1]
    src = ctx.phase("pitr")["from"]
    cluster = f"{ctx.target.aurora[src].identifier}"[:50] + f"-pitr-{suffix}"
    table = ctx.target.order_table().name[:230] + f"-pitr-{suffix}"
    return cluster, table


def _pitr_canaries(ctx: DrillContext) -> None:
    _write_canaries(ctx, "pitr", aurora=True, tables=[ctx.target.order_table().name])
    ph = ctx.phase("pitr")
    if "restore_point" not in ph:
        acked = [c.acked_at for c in ctx.log.attempts("pitr") if c.ok]
        gap = max(ctx.settings.poll_interval, 0.01)
        ph["restore_point"] = (max(acked) if acked else time.time()) + gap
        ctx.sleep(max(0.0, ph["restore_point"] + gap - time.time()))
        ctx.event("restore-point", "restore point recorded", at=ph["restore_point"])


def _pitr_delete(ctx: DrillContext) -> None:
    ph = ctx.phase("pitr")
    if ph.get("deleted"):
        return
    src = ph["from"]
    acked = [c for c in ctx.log.attempts("pitr") if c.ok]
    victims = acked[::2]
    aurora_ids = [c.id for c in victims if c.store == "aurora"]
    table = ctx.target.order_table().name
    ddb_ids = [c.id for c in victims if c.store == "dynamodb"]
    if aurora_ids:
        ctx.aurora.delete(src, ctx.target.aurora[src].arn, aurora_ids)
    if ddb_ids:
        ctx.dynamo(table).delete(src, ddb_ids)
    ph["deleted"] = sorted(aurora_ids + ddb_ids)
    ph["deleted_at"] = time.time()
    ctx.event("deletion", f"accidentally deleted {len(ph['deleted'])} canaries", phase="pitr")


def _exists_cluster(ctx: DrillContext, region: str, identifier: str) -> dict[str, Any] | None:
    try:
        return describe_cluster(ctx, region, identifier)
    except ClientError as exc:
        if error_code(exc) in {"DBClusterNotFoundFault", "DBClusterNotFound"}:
            return None
        raise


def _exists_table(ctx: DrillContext, region: str, name: str) -> dict[str, Any] | None:
    try:
        table: dict[str, Any] = ctx.aws.call("dynamodb", region, "describe_table", TableName=name)[
            "Table"
        ]
        return table
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def _pitr_restore(ctx: DrillContext) -> None:
    ph = ctx.phase("pitr")
    src = ph["from"]
    restore_point = float(ph["restore_point"])
    restore_dt = datetime.fromtimestamp(restore_point, tz=UTC)
    source_ref = ctx.target.aurora[src]
    table = ctx.target.order_table().name
    cluster_id, restored_table = _pitr_names(ctx)
    ma, md = ctx.measurement("pitr", "aurora"), ctx.measurement("pitr", f"dynamodb:{table}")
    ma.update(
        {
            "action": "restore_db_cluster_to_point_in_time",
            "from": src,
            "to": src,
            "restored": cluster_id,
        }
    )
    md.update(
        {
            "action": "restore_table_to_point_in_time",
            "from": src,
            "to": src,
            "restored": restored_table,
        }
    )

    def restorable() -> bool | None:
        latest = describe_cluster(ctx, src).get("LatestRestorableTime")
        backups = ctx.aws.call("dynamodb", src, "describe_continuous_backups", TableName=table)
        table_latest = backups["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"
        ].get("LatestRestorableDateTime")
        ok = all(
            isinstance(v, datetime) and v.timestamp() >= restore_point
            for v in (latest, table_latest)
        )
        return True if ok else None

    ctx.wait_until("the restore point to become restorable", restorable)
    source = describe_cluster(ctx, src)
    if _exists_cluster(ctx, src, cluster_id) is None:
        ma.setdefault("requested_at", time.time())
        ctx.checkpoint()
        kwargs: dict[str, Any] = {
            "DBClusterIdentifier": cluster_id,
            "SourceDBClusterIdentifier": source_ref.identifier,
            "RestoreToTime": restore_dt,
            "RestoreType": "full-copy",
            "DeletionProtection": False,
            "EnableIAMDatabaseAuthentication": True,
            "Tags": [{"Key": "securecart:drill", "Value": ctx.drill_id}],
        }
        if isinstance(source.get("DBSubnetGroup"), str):
            kwargs["DBSubnetGroupName"] = source["DBSubnetGroup"]
        groups = [g["VpcSecurityGroupId"] for g in source.get("VpcSecurityGroups", [])]
        if groups:
            kwargs["VpcSecurityGroupIds"] = groups
        ctx.event(
            "action",
            f"restore Aurora {source_ref.identifier} to {restore_dt.isoformat()} as {cluster_id}",
            store="aurora",
        )
        ctx.aws.call("rds", src, "restore_db_cluster_to_point_in_time", **kwargs)
    if _exists_table(ctx, src, restored_table) is None:
        md.setdefault("requested_at", time.time())
        ctx.checkpoint()
        ctx.event("action", f"restore DynamoDB {table} as {restored_table}", store="dynamodb")
        ctx.aws.call(
            "dynamodb",
            src,
            "restore_table_to_point_in_time",
            SourceTableName=table,
            TargetTableName=restored_table,
            RestoreDateTime=restore_dt,
            BillingModeOverride="PAY_PER_REQUEST",
        )
    ma.setdefault("requested_at", time.time())
    md.setdefault("requested_at", time.time())

    def cluster_ready() -> dict[str, Any] | None:
        found = _exists_cluster(ctx, src, cluster_id)
        return found if found and found.get("Status") == "available" else None

    restored = ctx.wait_until(f"{cluster_id} to be available", cluster_ready)
    instance_id = f"{cluster_id}-1"
    if not restored.get("DBClusterMembers"):
        instances = ctx.aws.call(
            "rds",
            src,
            "describe_db_instances",
            Filters=[{"Name": "db-cluster-id", "Values": [source_ref.identifier]}],
        ).get("DBInstances", [])
        instance_class = instances[0]["DBInstanceClass"] if instances else "db.r6g.large"
        ctx.aws.call(
            "rds",
            src,
            "create_db_instance",
            DBInstanceIdentifier=instance_id,
            DBClusterIdentifier=cluster_id,
            Engine=source.get("Engine", "aurora-postgresql"),
            DBInstanceClass=instance_class,
        )

    def instance_ready() -> bool | None:
        result = ctx.aws.call("rds", src, "describe_db_instances", DBInstanceIdentifier=instance_id)
        return True if result["DBInstances"][0].get("DBInstanceStatus") == "available" else None

    ctx.wait_until(f"{instance_id} to be available", instance_ready)
    ctx.aws.call("rds", src, "enable_http_endpoint", ResourceArn=restored["DBClusterArn"])
    ph["restored_cluster_arn"] = restored["DBClusterArn"]
    ma["restored_at"] = time.time()

    def table_ready() -> bool | None:
        found = _exists_table(ctx, src, restored_table)
        return True if found and found.get("TableStatus") == "ACTIVE" else None

    ctx.wait_until(f"{restored_table} to be ACTIVE", table_ready)
    md["restored_at"] = time.time()
    ctx.event("restored", f"restored copies available: {cluster_id}, {restored_table}")


def _pitr_verify(ctx: DrillContext) -> None:
    ph = ctx.phase("pitr")
    src = ph["from"]
    table = ctx.target.order_table().name
    _, restored_table = _pitr_names(ctx)
    acked = [c for c in ctx.log.attempts("pitr") if c.ok]
    restore_point = float(ph["restore_point"])
    expected_aurora = {c.id for c in acked if c.store == "aurora" and c.acked_at <= restore_point}
    expected_ddb = {c.id for c in acked if c.store == "dynamodb" and c.acked_at <= restore_point}
    in_restored = ctx.aurora.present(src, ph["restored_cluster_arn"])
    in_table = ctx.dynamo(table).present(src, sorted(expected_ddb), table=restored_table)
    now = time.time()
    for store, expected, found in (
        ("aurora", expected_aurora, in_restored),
        (f"dynamodb:{table}", expected_ddb, in_table),
    ):
        m = ctx.measurement("pitr", store)
        lost = sorted(expected - found)
        m["canaries_acknowledged"] = len(expected)
        m["canaries_lost"] = lost
        m["rpo_canaries_lost"] = len(lost)
        m["rpo_seconds"] = (
            0.0
            if not lost
            else round(restore_point - min(c.written_at for c in acked if c.id in lost), 3)
        )
        m["restored_deleted"] = len(set(ph.get("deleted", [])) & found)
        m["takeover_at"] = now
        m["rto_seconds"] = round(now - float(m["requested_at"]), 3)
        m["rto_label"] = "restore time"
    still_there = set(ph.get("deleted", [])) & ctx.aurora.present(src, ctx.target.aurora[src].arn)
    if still_there:
        raise VerificationError(f"the deletion did not happen in the source: {sorted(still_there)}")
    ctx.event(
        "verified",
        f"restored copies hold {len(in_restored)} Aurora and {len(in_table)} DynamoDB canaries",
    )


def _pitr_remove(ctx: DrillContext) -> None:
    ph = ctx.phase("pitr")
    src = ph["from"]
    cluster_id, restored_table = _pitr_names(ctx)
    cluster = _exists_cluster(ctx, src, cluster_id)
    if cluster is not None:
        for m in cluster.get("DBClusterMembers", []):
            try:
                ctx.aws.call(
                    "rds",
                    src,
                    "delete_db_instance",
                    DBInstanceIdentifier=m["DBInstanceIdentifier"],
                    SkipFinalSnapshot=True,
                )
            except ClientError as exc:
                if error_code(exc) not in {"DBInstanceNotFound", "DBInstanceNotFoundFault"}:
                    raise
        try:
            ctx.aws.call(
                "rds",
                src,
                "delete_db_cluster",
                DBClusterIdentifier=cluster_id,
                SkipFinalSnapshot=True,
            )
        except ClientError as exc:
            if error_code(exc) not in {"DBClusterNotFoundFault", "DBClusterNotFound"}:
                raise
    if _exists_table(ctx, src, restored_table) is not None:
        ctx.aws.call("dynamodb", src, "delete_table", TableName=restored_table)
    ctx.wait_until(
        "the restored copies to be gone",
        lambda: (
            True
            if _exists_cluster(ctx, src, cluster_id) is None
            and _exists_table(ctx, src, restored_table) is None
            else None
        ),
    )
    ph["removed_at"] = time.time()
    ctx.event("removed", f"restored copies removed: {cluster_id}, {restored_table}")


def pitr(options: ScenarioOptions) -> list[Step]:
    """Recover from an accidental deletion by restoring to a point in time into new resources."""
    return [
        Step(
            "preconditions",
            "check backups, PITR, health, alarms, Pulumi",
            _preconditions(cache=False, tables="order", pitr=True),
            "preconditions",
            undo=_cleanup_undo,
            undo_order=2,
        ),
        Step(
            "canaries",
            "write canaries; record the restore point",
            _pitr_canaries,
            "canaries",
            phase="pitr",
        ),
        Step(
            "accidental-deletion",
            "delete some canaries (the accident)",
            _pitr_delete,
            "canaries",
            phase="pitr",
        ),
        Step(
            "restore",
            "restore Aurora and DynamoDB to the restore point",
            _pitr_restore,
            "restore",
            undo=_pitr_remove,
            phase="pitr",
        ),
        Step(
            "verify-restored",
            "the restored copies hold every canary",
            _pitr_verify,
            "verify",
            phase="pitr",
        ),
        *_reconcile_check_steps("pitr", ""),
        Step(
            "remove-restored",
            "remove the restored copies",
            _pitr_remove,
            "cleanup",
            undo=_pitr_remove,
            phase="pitr",
        ),
        _cleanup_step(),
    ]


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "planned-switchover",
            "Planned switchover",
            "switchover_global_cluster (+ cache datastore failover) to the secondary region; no canary may be lost",
            planned_switchover,
            (
                "global cluster available",
                "writer in the primary",
                "members synchronized",
                "replication lag",
                "no alarm in ALARM",
                "no Pulumi update",
            ),
            True,
        ),
        Scenario(
            "unplanned-failover",
            "Unplanned failover",
            "the primary region is lost: failover_global_cluster with AllowDataLoss, then the old region rejoins as a secondary",
            unplanned_failover,
            (
                "secondary cluster available",
                "no alarm in ALARM (reachable regions)",
                "no Pulumi update",
            ),
            True,
        ),
        Scenario(
            "cache-failover",
            "ElastiCache global datastore failover",
            "failover_global_replication_group to the secondary, Pulumi refresh/preview, and back",
            cache_failover,
            (
                "datastore available",
                "primary in the primary region",
                "no alarm in ALARM",
                "no Pulumi update",
            ),
            False,
        ),
        Scenario(
            "dynamodb-evacuation",
            "DynamoDB region evacuation",
            "writes move to the secondary's replicas; canaries replicate both ways; replication latency measured",
            dynamodb_evacuation,
            (
                "tables ACTIVE",
                "replicas ACTIVE",
                "replication lag",
                "no alarm in ALARM",
                "no Pulumi update",
            ),
            False,
        ),
        Scenario(
            "pitr",
            "Point-in-time recovery",
            "canaries written, some deleted, Aurora and the order table restored to before the deletion into new resources",
            pitr,
            ("backups retained", "PITR enabled", "no alarm in ALARM", "no Pulumi update"),
            False,
        ),
        Scenario(
            "failback",
            "Failback",
            "switch the writers back to the other region once it is a synchronized secondary",
            failback,
            (
                "global cluster available",
                "members synchronized",
                "replication lag",
                "no alarm in ALARM",
                "no Pulumi update",
            ),
            True,
        ),
    )
}

ALIASES = {
    "point-in-time-recovery": "pitr",
    "switchover": "planned-switchover",
    "failover": "unplanned-failover",
}


def scenario(name: str) -> Scenario:
    """A scenario by name (or alias); ValueError lists the known ones."""
    key = ALIASES.get(name, name)
    if key not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    return SCENARIOS[key]
