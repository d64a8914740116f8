"""The drill's invariant, "never two writers", over every store the stack has.

:func:`~drills.invariant.single_writer` checks Aurora, the cache and the DynamoDB setting; this
adds the issue-20 stores a drill moves: the payments database (at most one instance that is
available, standalone and not fenced; after a rollback exactly one, in the origin, with the
name on it and the other region its replica) and the Neptune global database (exactly one
writer; after a rollback in the origin, ``fraud.<zone>`` on it), from the moment the drill's
own check recorded where its writer is.
"""

from __future__ import annotations

from typing import Any

from .engine import DrillContext, Step
from .invariant import single_writer
from .zone import cname


def every_writer(ctx: DrillContext, step: Step | None) -> dict[str, Any]:
    """:func:`single_writer`, then the payments database and the Neptune global database."""
    check = single_writer(ctx, step)
    if not check.get("ok"):
        return check
    # a store counts once the drill that moves it has checked it (its origin recorded): a
    # drill of other stores neither depends on it nor may stop over it, and a payments drill
    # refuses (its own check) rather than aborts when it finds two writers before moving any
    if (ctx.state.get("payments") or {}).get("origin"):
        check = _payments(ctx, check)
        if not check.get("ok"):
            return check
    if (ctx.state.get("neptune") or {}).get("origin"):
        check = _neptune(ctx, check)
    return check


def _payments(ctx: DrillContext, check: dict[str, Any]) -> dict[str, Any]:
    from .payments import STABLE, _settled, both, payments_ref

    found = _settled(ctx, "payments to settle") if ctx.in_rollback else both(ctx)
    writers = [r for r, i in found.items() if i.writer]
    check["payments_writers"] = writers
    if len(writers) > 1:
        return {
            **check,
            "ok": False,
            "store": "payments",
            "writers": writers,
            "detail": "two payments instances accept writes",
        }
    origin = (ctx.state.get("payments") or {}).get("origin")
    if ctx.in_rollback and origin:
        other = ctx.target.other(origin)
        ref = payments_ref(ctx)
        problems = []
        if writers != [origin]:
            problems.append(f"the payments writer must be in {origin}")
        if found[other].replica_of != origin or found[other].status != STABLE:
            problems.append(f"payments {other} must be a read replica of {origin}")
        if ref.dns_name and cname(ctx, ref.dns_name) != found[origin].address:
            problems.append(f"{ref.dns_name} must point at {found[origin].address}")
        if problems:
            return {
                **check,
                "ok": False,
                "store": "payments",
                "writers": writers,
                "detail": "after the rollback " + "; ".join(problems),
            }
    return check


def _neptune(ctx: DrillContext, check: dict[str, Any]) -> dict[str, Any]:
    from .stores import NeptuneGlobal, neptune_ref, settle

    s = NeptuneGlobal()
    state = settle(ctx, s, "neptune to settle") if ctx.in_rollback else s.describe(ctx)
    check["neptune_writers"] = list(state.primaries)
    if len(state.primaries) != 1:
        return {
            **check,
            "ok": False,
            "store": "neptune",
            "writers": list(state.primaries),
            "detail": f"neptune global database {state.status}",
        }
    origin = (ctx.state.get("neptune") or {}).get("origin")
    if ctx.in_rollback and origin:
        ref = neptune_ref(ctx)
        wrong = state.primary != origin or (
            bool(ref.dns_name) and cname(ctx, ref.dns_name) != ref.endpoints[origin]
        )
        if wrong:
            return {
                **check,
                "ok": False,
                "store": "neptune",
                "writers": list(state.primaries),
                "detail": f"after the rollback the neptune writer and {ref.dns_name} must be "
                f"in {origin}",
            }
    return check
