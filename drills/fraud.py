"""The fraud graph's drills (issue 20): a Neptune global database switchover and failover.

Both go through the store interface (drills/stores.py :class:`~drills.stores.NeptuneGlobal`):
:func:`~drills.stores.move` requests the move unless AWS shows it done or under way,
:func:`~drills.stores.undo` waits for a move in flight (AWS cannot cancel it) and moves the
writer back. Neptune has no global writer endpoint, so ``fraud.<zone>`` is moved right after the
writer (the store's ``after_move``). RTO: from the request until a write through ``fraud.<zone>``
succeeds in the new region. RPO: a switchover synchronizes the secondary first (0 by design); a
failover (``AllowDataLoss``) loses what was not replicated yet (Neptune User Guide, "Disaster
recovery with a Neptune global database"); the emulator has no Neptune data plane to count
lost writes in, so the report says what it is rather than a number.

``neptune-failover`` is lossy by request: like ``unplanned-failover`` of a primary that still
answers, it needs ``--allow-data-loss``; the old primary then rejoins as a secondary before the
switchover home.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from .canary import Canary, CanaryWriter
from .engine import DrillContext, Step
from .errors import PreconditionFailedError, RegionUnavailableError, VerificationError
from .metrics import first_write_wait
from .stores import NeptuneGlobal, StoreState, move, neptune_ref, undo
from .zone import cname

SWITCH = "neptune"
BACK = "neptune-failback"


class NeptuneProbe:
    """A write through ``fraud.<zone>`` as the control plane shows it (no Neptune data plane
    in the emulator): the name's CNAME from the Route 53 API, then the cluster at that endpoint;
    the write succeeds when that cluster is the global database's writer and nothing moves."""

    store = "neptune"
    path = "route53 api fraud.<zone> -> neptune global writer (no application path)"

    def write(self, ctx: DrillContext, canary_id: str, phase: str) -> Canary:
        """One attempt; failures are returned, not raised."""
        started = time.time()
        try:
            ref = neptune_ref(ctx)
            target = cname(ctx, ref.dns_name)
            region = next((r for r, e in ref.endpoints.items() if e == target), "")
            state = NeptuneGlobal().describe(ctx)
            if not region or state.primary != region or not state.settled:
                raise VerificationError(
                    f"{ref.dns_name} -> {target}; writer {state.primary} ({state.status})"
                )
        except (VerificationError, RegionUnavailableError, ClientError, BotoCoreError) as exc:
            took = time.time() - started
            return Canary(canary_id, "neptune", "", phase, started, False, str(exc), "", took)
        took = time.time() - started
        return Canary(canary_id, "neptune", region, phase, started, True, "", target or "", took)


def _origin(ctx: DrillContext) -> str:
    return str(ctx.state["neptune"]["origin"])


def _check(ctx: DrillContext) -> None:
    """One settled writer, a ready secondary, ``fraud.<zone>`` on the writer; a lossy drill
    needs the operator's consent."""
    state = NeptuneGlobal().describe(ctx)
    ref = neptune_ref(ctx)
    problems: list[str] = []
    if not state.settled or state.primary is None:
        problems.append(
            f"neptune-settled: global database {state.status}, writers {state.primaries}"
        )
    elif ctx.target.other(state.primary) not in state.ready:
        problems.append(f"neptune-secondary: {ctx.target.other(state.primary)} is not a secondary")
    elif ref.dns_name and cname(ctx, ref.dns_name) != ref.endpoints[state.primary]:
        problems.append(f"neptune-name: {ref.dns_name} does not point at the writer")
    if ctx.state.get("neptune_lossy") and not ctx.allow_data_loss:
        problems.append(
            "data-loss-accepted: FailoverGlobalCluster with AllowDataLoss of a primary that "
            "answers loses what is not replicated yet: pass --allow-data-loss"
        )
    if problems:
        raise PreconditionFailedError(problems)
    ctx.state.setdefault("neptune", {}).setdefault("origin", state.primary)


def _switch(phase: str, *, out: bool, lossy: bool) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        origin = _origin(ctx)
        other = ctx.target.other(origin)
        src, dst = (origin, other) if out else (other, origin)
        ph = ctx.phase(phase)
        ph.setdefault("from", src)
        ph.setdefault("to", dst)
        s = NeptuneGlobal()
        m = ctx.measurement(phase, "neptune")
        m.update({"action": s.call_for(dst, lossy=lossy), "from": src, "to": dst})
        m.setdefault(
            "rpo_note",
            "not measured: no Neptune data plane; AWS: a failover loses up to the replication lag"
            if lossy
            else "not measured: a switchover synchronizes the secondary first (RPO 0 by design)",
        )
        probe = NeptuneProbe()
        attempt = ctx.attempt

        def write_one(n: int) -> list[Canary]:
            return [probe.write(ctx, f"{phase}-neptune-a{attempt}-{n:04d}", phase)]

        with CanaryWriter(ctx.log, write_one, ctx.settings.canary_interval) as writer:
            writer.first_attempted(first_write_wait(ctx.settings.canary_interval))
            m.setdefault("requested_at", time.time())
            m["request"] = move(ctx, s, dst, lossy=lossy, key=f"{phase}:neptune")
            m["completed_at"] = ctx.wait_until(
                f"the neptune writer to be in {dst}",
                lambda: _arrived(s.describe(ctx), dst),
                tolerate_unreachable=True,
            )
            s.after_move(ctx, dst)
            writer.nudge()
            since = float(m["requested_at"])
            takeover = ctx.wait_until(
                f"a write through the fraud name to succeed in {dst}",
                lambda: min(
                    (
                        c.acked_at
                        for c in ctx.log.acknowledged(phase, "neptune")
                        if c.region == dst and c.written_at >= since
                    ),
                    default=None,
                ),
            )
        m["fault_at"] = since
        m["takeover_at"] = takeover
        m["rto_seconds"] = round(takeover - since, 3)
        m["rto_from"] = "the request"
        m["rto_label"] = "from the request until a write through fraud.<zone> succeeds"
        ctx.event(
            "takeover",
            f"neptune takes writes in {dst} {m['rto_seconds']:.3f}s after the request",
            store="neptune",
            phase=phase,
        )

    return run


def _arrived(state: StoreState, region: str) -> float | None:
    return time.time() if state.settled and state.primary == region else None


def _rejoin(ctx: DrillContext) -> None:
    """After a failover the old primary is rebuilt from the new one: wait until it is a
    secondary again (a switchover back needs it)."""
    origin = _origin(ctx)
    s = NeptuneGlobal()
    ctx.wait_until(
        f"the neptune cluster in {origin} to rejoin as a secondary",
        lambda: True if (st := s.describe(ctx)).settled and origin in st.ready else None,
        tolerate_unreachable=True,
    )
    ctx.event("rebuilt", f"neptune {origin} is a secondary again", store="neptune")


def _undo(ctx: DrillContext) -> None:
    if "neptune" not in ctx.state or "origin" not in ctx.state["neptune"]:
        return
    undo(ctx, NeptuneGlobal(), _origin(ctx))


def _lossy(ctx: DrillContext) -> None:
    ctx.state["neptune_lossy"] = True


def switchover_steps() -> list[Step]:
    """Switchover out, then back home."""
    return [
        Step(
            "neptune-check", "neptune: one writer, a secondary, the name", _check, "preconditions"
        ),
        Step(
            "neptune-switchover",
            "neptune switchover_global_cluster; fraud.<zone> to it; RTO",
            _switch(SWITCH, out=True, lossy=False),
            "aurora_switch",
            undo=_undo,
            phase=SWITCH,
        ),
        Step(
            "neptune-failback",
            "neptune switchover_global_cluster home; fraud.<zone> back; RTO",
            _switch(BACK, out=False, lossy=False),
            "aurora_switch",
            undo=_undo,
            phase=BACK,
        ),
    ]


def failover_steps() -> list[Step]:
    """Lossy failover out, the old primary rejoins, switchover home."""

    def check(ctx: DrillContext) -> None:
        _lossy(ctx)
        _check(ctx)

    return [
        Step("neptune-check", "neptune: one writer, a secondary, the name", check, "preconditions"),
        Step(
            "neptune-failover",
            "neptune failover_global_cluster AllowDataLoss; fraud.<zone> to it; RTO",
            _switch(SWITCH, out=True, lossy=True),
            "aurora_switch",
            undo=_undo,
            phase=SWITCH,
        ),
        Step(
            "neptune-rejoin",
            "the old primary rejoins as a secondary",
            _rejoin,
            "rebuild",
            undo=_undo,
            phase=SWITCH,
        ),
        Step(
            "neptune-failback",
            "neptune switchover_global_cluster home; fraud.<zone> back; RTO",
            _switch(BACK, out=False, lossy=False),
            "aurora_switch",
            undo=_undo,
            phase=BACK,
        ),
    ]
