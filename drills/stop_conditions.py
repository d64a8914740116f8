"""Stop conditions, as in AWS FIS: a stack alarm in ALARM stops the drill, unless the drill
set it off itself (an alarm a phase declares it expects in the region it demotes)."""

from __future__ import annotations

import re

from .engine import DrillContext
from .reads import alarms_in_alarm


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
