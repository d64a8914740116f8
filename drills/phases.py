"""The steps a region-switch phase is made of, built from a :class:`~drills.scenarios.Phase`.

A phase moves some stores from one region to the other: canaries first, then each store's move
(with a write probe through the name applications use running throughout, which is what RTO is
measured on), the RPO count, optionally the rebuild of a lost region, and the reconcile of the
Pulumi stack. Every step reads AWS before acting, so a re-run after a crash never repeats a
move that happened and never waits for one that was never sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .canary import Canary, CanaryWriter
from .engine import DrillContext, Step
from .errors import DeferredError, RegionUnavailableError, StepFailedError
from .fault import end_fault, fault_template, start_fault
from .metrics import (
    RPO_LAG,
    aurora_lag,
    first_write,
    first_write_wait,
    loss_fault_time,
    store_fault,
)
from .probes import probe_for, record_path, tls_connector
from .reads import (
    describe_cluster,
    describe_global_cluster,
    member,
    reachable,
    synchronized,
)
from .reconcile_steps import reconcile_steps
from .stores import move, store, undo
from .verify import (
    cleanup_canaries,
    replicates_back,
    verify_aurora,
    verify_cache,
    verify_dynamo,
    write_canaries,
)

if TYPE_CHECKING:
    from .scenarios import Phase

VERB = {"aurora": ("switchover", "failover"), "cache": ("failover", "failover")}
TIMEOUT = {"aurora": "aurora_switch", "cache": "cache_switch", "dynamodb": "dynamodb_evacuation"}


def step_name(store_name: str, lossy: bool) -> str:
    """``aurora-switchover``, ``aurora-failover``, ``cache-failover``, ``dynamodb-move``."""
    if store_name == "dynamodb":
        return "dynamodb-move"
    return f"{store_name}-{VERB[store_name][1 if lossy else 0]}"


def _tables(ctx: DrillContext, stores: tuple[str, ...]) -> list[str]:
    """The tables whose canaries a phase moving ``stores`` writes and counts: every global
    table when it moves DynamoDB, the canary table otherwise."""
    if not ctx.target.tables:
        return []
    if "dynamodb" in stores:
        return [t.name for t in ctx.target.tables.values()]
    return [ctx.target.canary_table().name]


# -- steps ---------------------------------------------------------------------------------


def _canaries(phase: Phase) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        tables = _tables(ctx, phase.stores)
        run = ctx.phase_run(phase.name)
        run.record["started"] = True  # its expected alarms are expected from now
        write_canaries(
            ctx,
            run,
            aurora="aurora" in phase.measure,
            tables=tables,
            cache="cache" in phase.stores and bool(ctx.target.cache_global_id),
        )

    return run


def _declare_loss(phase: Phase) -> Callable[[DrillContext], None]:
    """The primary region is lost. The fault time is the last moment the drill knew it was
    answering (its last acknowledged write or answer), an upper bound on the outage start."""

    def run(ctx: DrillContext) -> None:
        run = ctx.phase_run(phase.name)
        src, ph = run.src, run.record
        asked = time.time()
        up = reachable(ctx, src)
        if not up:
            ctx.mark_unreachable(src)
        contact = [c.acked_at for c in run.attempts() if c.ok and c.region == src]
        ph.setdefault("fault_at", loss_fault_time(contact, answered=up, asked=asked))
        ph.setdefault("fault", "primary region lost" if not up else "primary still answered")
        ph.setdefault("primary_answered", up)
        how = "not answering" if not up else "still answering"
        if ph.get("experiment"):
            how = f"cut off by FIS experiment {ph['experiment']['id']}; its AWS APIs answer"
        ctx.event("loss", f"primary region {src} declared lost ({how})", phase=run.name)

    return run


def _inject(phase: Phase) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        run = ctx.phase_run(phase.name)
        template = fault_template(ctx, run.src)
        if template is None:
            raise StepFailedError(
                f"the stack has no FIS experiment template for {run.src} (output "
                "faultInjectionTemplates): deploy it with drillsFaultInjection"
            )
        start_fault(ctx, run, template)

    return run


def _switch(phase: Phase, store_name: str) -> Callable[[DrillContext], None]:
    """Move one store to the phase's target region and measure its RTO from the phase's fault
    until a write through the applications' name succeeds there."""

    def run(ctx: DrillContext) -> None:
        run = ctx.phase_run(phase.name)
        src, dst, ph = run.src, run.dst, run.record
        m = run.measurement(store_name)
        s = store(store_name)
        # the call actually sent: only Aurora's move of a lost region is AllowDataLoss
        m.update({"action": s.call_for(dst, lossy=phase.lossy), "from": src, "to": dst})
        if store_name == "aurora" and "rpo_lag_before" not in m:
            try:
                sample = aurora_lag(ctx, dst, RPO_LAG)
            except RegionUnavailableError:
                sample = None
            m["rpo_lag_before"] = sample.to_json() if sample else None
        if store_name == "cache":  # the verify step counts the keys when the phase has one
            m.setdefault("rpo_note", "not measured: this phase does not count cache keys")
        ph.setdefault("fault_at", time.time())
        ph.setdefault("fault", "first action")
        probe = probe_for(ctx, store_name, ctx.cache_connector or tls_connector)
        attempt = ctx.attempt

        def write_one(n: int) -> list[Canary]:
            return [
                probe.write(ctx, f"{run.name}-during-{store_name}-a{attempt}-{n:04d}", run.name)
            ]

        with CanaryWriter(ctx.log, write_one, ctx.settings.canary_interval) as writer:
            if not run.region_lost:  # a lost region's clock already runs
                writer.first_attempted(first_write_wait(ctx.settings.canary_interval))
            m.setdefault("requested_at", time.time())
            outcome = move(ctx, s, dst, lossy=phase.lossy, key=f"{run.name}:{store_name}")
            m["request"] = outcome
            settled = ctx.wait_until(
                f"the {store_name} primary to be in {dst}",
                lambda: _arrived(ctx, s, dst),
                tolerate_unreachable=True,
            )
            m["completed_at"] = settled
            s.after_move(ctx, dst)
            writer.nudge()
            since = float(m["requested_at"])
            takeover = ctx.wait_until(
                f"a write through the {store_name} name to succeed in {dst}",
                lambda: first_write(run.acknowledged(store_name), dst, since),
            )
        record_path(ctx, m, probe)
        fault, m["rto_from"] = store_fault(run, m)  # its own fault
        m["fault_at"] = fault
        m["takeover_at"] = takeover
        m["rto_seconds"] = round(takeover - fault, 3)
        ctx.event(
            "takeover",
            f"{store_name} takes writes in {dst} {m['rto_seconds']:.3f}s after {m['rto_from']}",
            store=store_name,
            phase=run.name,
        )

    return run


def _arrived(ctx: DrillContext, s: Any, region: str) -> float | None:
    state = s.describe(ctx)
    return time.time() if state.settled and state.primary == region else None


def _undo(store_name: str) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        if store_name == "cache" and not ctx.target.cache_global_id:
            return
        back = ctx.state["origin"]["primary"]
        if (
            store_name == "dynamodb"
        ):  # the setting goes back to what it said, not where writers were
            back = ctx.state.get("setting_origin") or back
        undo(ctx, store(store_name), back)

    return run


def _verify(phase: Phase) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        both_ways = not phase.lossy
        tables = _tables(ctx, phase.stores) if "dynamodb" in phase.measure else []
        run = ctx.phase_run(phase.name)
        if "aurora" in phase.measure:
            verify_aurora(ctx, run, both_ways)
        for table in tables:
            verify_dynamo(ctx, run, table, both_ways)
        if "cache" in phase.stores and ctx.target.cache_global_id:
            verify_cache(ctx, run)

    return run


def _rebuild(phase: Phase) -> Callable[[DrillContext], None]:
    """Wait for the lost region, then for its cluster to rejoin as a synchronized secondary."""

    def run(ctx: DrillContext) -> None:
        tables = _tables(ctx, phase.stores)
        run = ctx.phase_run(phase.name)
        src, dst = run.src, run.dst
        m = run.measurement("rebuild")
        if not reachable(ctx, src):
            # the rebuild and the reconcile after it need the lost region: defer them
            # (journaled) rather than hold the drill; resume finishes them once it answers
            ctx.mark_unreachable(src)
            ctx.event("deferred", f"rebuild and reconcile deferred: {src} does not answer")
            raise DeferredError(src, f"the rebuild of {src} and the stack's reconcile")
        m.setdefault("region_back_at", time.time())
        ctx.mark_reachable(src)

        def rejoined() -> float | None:
            gc = describe_global_cluster(ctx, (dst, src))
            old = member(gc, src)
            if (
                old is not None
                and not old.get("IsWriter")
                and synchronized(old)
                and gc.get("Status") == "available"
                and describe_cluster(ctx, src).get("Status") == "available"
            ):
                return time.time()
            return None

        m["rejoined_at"] = ctx.wait_until(
            f"{src} to rejoin as a secondary", rejoined, tolerate_unreachable=True
        )
        ctx.event("rebuilt", f"{src} is a synchronized secondary again", phase=run.name)
        replicates_back(ctx, run, src)
        for table in tables:
            dm = run.measurement(f"dynamodb:{table}")
            late = list(dm.get("canaries_lost", []))
            if late:
                arrived = ctx.dynamo(table).present(dst, late)
                dm["arrived_after_recovery"] = sorted(arrived)
                ctx.event(
                    "replication",
                    f"{len(arrived)} of {len(late)} late {table} canaries reached {dst} "
                    "after the region came back",
                )

    return run


def cleanup_step() -> Step:
    """Remove every canary the drill wrote (also its rollback's last undo)."""
    return Step(
        "cleanup",
        "remove canaries",
        lambda ctx: cleanup_canaries(ctx, best_effort=True),
        "cleanup",
        undo=cleanup_canaries,
        undo_order=2,
    )


def phase_steps(
    phase: Phase, first: bool, has_cache: bool, fault_injection: bool = False
) -> list[Step]:
    """Every step of one phase, named ``<step>`` in the first phase, ``<phase>-<step>`` after.
    A lost region with ``fault_injection`` is impaired by the stack's FIS experiment first and
    restored after the RPO count (drills/fault.py)."""
    fis = phase.lossy and fault_injection
    prefix = "" if first else f"{phase.name}-"
    steps = [
        Step(
            f"{prefix}canaries",
            "write canaries in the current primary",
            _canaries(phase),
            "canaries",
            phase=phase.name,
        )
    ]
    if fis:
        steps.append(
            Step(
                f"{prefix}inject-fault",
                "start the FIS experiment that cuts the primary's data subnets off",
                _inject(phase),
                "canaries",
                # before anything else: moving writers back into a region applications cannot
                # reach is pointless (AWS state is undo order 0)
                undo=lambda ctx: end_fault(ctx, ctx.phase_run(phase.name)),
                undo_order=-1,
                phase=phase.name,
            )
        )
    if phase.lossy:
        steps.append(
            Step(
                f"{prefix}declare-primary-lost",
                "declare the primary region lost",
                _declare_loss(phase),
                "canaries",
                phase=phase.name,
                alarms_first=False,
            )
        )
    for store_name in phase.stores:
        if store_name == "cache" and not has_cache:
            continue
        s = store(store_name)
        steps.append(
            Step(
                f"{prefix}{step_name(store_name, phase.lossy)}",
                f"{s.call_for('the other region', lossy=phase.lossy)};"
                f" RTO through the {store_name} name",
                _switch(phase, store_name),
                TIMEOUT[store_name],
                undo=_undo(store_name),
                moves_writer=True,
                phase=phase.name,
            )
        )
    if phase.measure:
        steps.append(
            Step(
                f"{prefix}verify-canaries",
                "count canaries in the new primary (RPO); replication both ways",
                _verify(phase),
                "verify",
                phase=phase.name,
            )
        )
    if fis:
        steps.append(
            Step(
                f"{prefix}end-fault",
                "stop the FIS experiment: the old region's network comes back",
                lambda ctx: end_fault(ctx, ctx.phase_run(phase.name)),
                "canaries",
                phase=phase.name,
            )
        )
    if phase.rebuild:
        steps.append(
            Step(
                f"{prefix}rebuild-old-primary",
                "wait for the old region and its rejoin as a secondary",
                _rebuild(phase),
                "rebuild",
                pause_on_timeout=True,
                phase=phase.name,
            )
        )
    steps.extend(reconcile_steps(phase.name, prefix, phase.reconcile))
    return steps
