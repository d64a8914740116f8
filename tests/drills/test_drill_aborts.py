"""An abort at any moment of any moving drill leaves exactly one writer and one cache primary,
both in the origin region, with the active-region setting, the cache record and the stack
config back where they were: read from the emulator afterwards, never from the drill's report.

The moments are the boundaries between steps (an alarm going off, SIGINT through the CLI's own
handler, or the process dying, each followed by the rollback) and the inside of every
operation that takes time (held in flight by a gate until the undo is waiting for it). No test
depends on how fast the machine is: the aborts fire on the drill's own events, and the gates
release on the undo's."""

from __future__ import annotations

import signal
from dataclasses import dataclass
from typing import Any

import pytest
from drill_harness import PRIMARY, SECONDARY, AtEvent, Crash, DrillHarness

from drills.engine import NullObserver, Step
from drills.errors import JournalError
from drills.scenarios import SCENARIOS, ScenarioOptions, scenario

KINDS = ("stop", "signal", "crash")


@dataclass(frozen=True)
class Drill:
    """A moving drill as the matrix runs it."""

    name: str
    failback: bool = False
    origin: str = PRIMARY
    """Where the writers are when it starts (failback starts from the other region)."""

    def steps(self) -> list[str]:
        options = ScenarioOptions(failback=self.failback, has_cache=True)
        return [s.name for s in scenario(self.name).build(options)]


DRILLS = (
    Drill("planned-switchover"),
    Drill("unplanned-failover"),
    Drill("cache-failover"),
    Drill("dynamodb-evacuation"),
    Drill("failback", origin=SECONDARY),
)


def _boundaries() -> list[Any]:
    """Every step boundary of every drill, once, the abort kinds taking turns (each drill
    starts the rotation one kind further, so every kind meets every kind of step). After the
    last step only a crash is left to abort: a drill that dies before journaling its end is
    rolled back like any other. (An alarm and SIGINT take the same path through the engine;
    a crash is a fresh process reading the journal: all three are exercised throughout.)"""
    cases = []
    for offset, drill in enumerate(DRILLS):
        steps = drill.steps()
        for index, step in enumerate(steps):
            kind = "crash" if index == len(steps) - 1 else KINDS[(index + offset) % len(KINDS)]
            cases.append(pytest.param(drill, step, kind, id=f"{drill.name}-{step}-{kind}"))
    return cases


class AbortAt(NullObserver):
    """Aborts the drill once, at the first matching moment: ``stop`` sets a stack alarm to
    ALARM (a stop condition), ``signal`` raises SIGINT (the CLI's handler takes it), ``crash``
    kills the drill (nothing in it can catch :class:`Crash`)."""

    def __init__(
        self,
        harness: DrillHarness,
        kind: str,
        *,
        after_step: str | None = None,
        waiting: str | None = None,
        event: tuple[str, str] | None = None,
    ) -> None:
        self.harness = harness
        self.kind = kind
        self.after_step = after_step
        self.waiting_for = waiting
        self.on_event = event
        self.fired = False

    def _fire(self) -> None:
        if self.fired:
            return
        self.fired = True
        if self.kind == "stop":
            self.harness.set_alarm(PRIMARY)
        elif self.kind == "signal":
            signal.raise_signal(signal.SIGINT)
        else:
            raise Crash(self.kind)

    def step_finished(self, step: Step, record: dict[str, Any]) -> None:
        if step.name == self.after_step:
            self._fire()

    def waiting(self, what: str) -> None:
        if self.waiting_for is not None and self.waiting_for in what:
            self._fire()

    def event(self, event: Any) -> None:
        if self.on_event is not None and not self.fired:
            kind, contains = self.on_event
            if event.kind == kind and contains in event.message:
                self._fire()


def _incident(harness: DrillHarness) -> None:
    """The writers were moved to the secondary region by an incident (failback's start)."""
    harness.client("rds", SECONDARY).switchover_global_cluster(
        GlobalClusterIdentifier=harness.topology.global_cluster_id,
        TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
    )
    harness.client("elasticache", SECONDARY).failover_global_replication_group(
        GlobalReplicationGroupId=harness.seeded.cache_global_id,
        PrimaryRegion=SECONDARY,
        PrimaryReplicationGroupId=harness.topology.cache_groups[1].replication_group_id,
    )
    harness.settle()
    harness.point_cache_record(SECONDARY)


def _abort(
    harness: DrillHarness,
    drill: Drill,
    abort: AbortAt,
    release: list[AtEvent] | None = None,
) -> tuple[str, dict[str, str]]:
    """Run the drill with the abort; after a crash or a pause, roll it back as the operator
    would. Returns the drill's final status and the active-region setting it started with."""
    if drill.origin == SECONDARY:
        _incident(harness)
    setting = harness.active_region()
    # an alarm is read at every check (it must stop the drill at this very boundary)
    settings = harness.settings.with_(stop_check_interval=0.0 if abort.kind == "stop" else 0.5)
    observers: list[Any] = [abort, *(release or [])]
    try:
        result = harness.run(
            drill.name,
            failback=drill.failback,
            observers=observers,
            settings=settings,
            signals=abort.kind == "signal",
            # the primary answers here: an unplanned failover of it is lossy by consent
            allow_data_loss=drill.name == "unplanned-failover",
        )
    except Crash:
        result = harness.rollback(harness.only_drill(), observers=list(release or []))
    else:
        if result.status == "paused":  # interrupted where a rollback must wait: the operator
            result = harness.rollback(result.drill_id, observers=list(release or []))
    assert abort.fired, "the abort never happened"
    return result.status, setting


def _assert_back_in_origin(
    harness: DrillHarness, origin: str, setting: dict[str, str] | None = None
) -> None:
    """Exactly one writer and one cache primary, in ``origin``, the cache record following
    them, and the active-region setting as it was before the drill, read from the emulator."""
    harness.quiesce()
    gc = harness.global_cluster()
    assert gc["Status"] == "available"
    assert harness.writer_region() == origin  # asserts exactly one writer
    assert {m.get("SynchronizationStatus") for m in gc["GlobalClusterMembers"]} == {"connected"}
    assert harness.cache_primary() == origin  # asserts exactly one cache primary
    assert harness.cache_record() == harness.seeded.cache_endpoints[origin][0]
    assert harness.active_region() == (setting or {PRIMARY: origin, SECONDARY: origin})
    assert harness.config_regions() == (PRIMARY, SECONDARY)
    assert harness.pulumi_stack.outputs["primaryRegion"] == PRIMARY
    assert harness.aurora_rows(origin) == set()
    assert harness.canary_items(PRIMARY) == [] == harness.canary_items(SECONDARY)


@pytest.mark.parametrize(("drill", "step", "kind"), _boundaries())
def test_an_abort_at_a_step_boundary_leaves_everything_in_the_origin(
    harness: DrillHarness, drill: Drill, step: str, kind: str
) -> None:
    abort = AbortAt(harness, kind, after_step=step)

    status, setting = _abort(harness, drill, abort)

    assert status == "rolled-back"
    journal = harness.journal(harness.only_drill()).data
    assert journal["status"] == "rolled-back"
    assert journal["invariant_checks"][-1]["ok"], journal["invariant_checks"][-1]
    started = [s for s in journal["steps"] if s["status"] != "pending"]
    assert all(s["undo_status"] in (None, "done") for s in started)
    _assert_back_in_origin(harness, drill.origin, setting)
    with pytest.raises(JournalError, match="rolled-back"):
        harness.resume(harness.only_drill())


IN_FLIGHT: dict[str, tuple[Drill, str, str]] = {
    "aurora-switchover": (
        Drill("planned-switchover"),
        "switchover_global_cluster",
        "the aurora primary to be in",
    ),
    "aurora-failover": (
        Drill("unplanned-failover"),
        "failover_global_cluster",
        "the aurora primary to be in",
    ),
    "cache-failover": (
        Drill("cache-failover"),
        "failover_global_replication_group",
        "the cache primary to be in",
    ),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("operation", sorted(IN_FLIGHT))
def test_an_abort_while_an_operation_is_in_flight_waits_for_it_then_moves_back(
    harness: DrillHarness, operation: str, kind: str
) -> None:
    """The operation is held in flight (AWS cannot cancel it); the abort comes while the drill
    waits for it; the undo finds it in flight, waits (the gate opens only then), and moves the
    primary back."""
    drill, gated, waiting = IN_FLIGHT[operation]
    gate = harness.emulator.faults.hold(gated)
    store = operation.split("-", maxsplit=1)[0]
    release = AtEvent("undo", gate.release, f"{store}: a move is in flight")
    abort = AbortAt(harness, kind, waiting=waiting)

    status, setting = _abort(harness, drill, abort, [release])

    assert status == "rolled-back"
    assert gate.count == 1 and release.fired, "the undo waited for the held operation"
    _assert_back_in_origin(harness, drill.origin, setting)


@pytest.mark.parametrize("kind", KINDS)
def test_an_abort_between_the_two_writes_of_the_active_region_setting(
    harness: DrillHarness, kind: str
) -> None:
    """The setting is written region by region (the target region first). A crash after the
    first write leaves the two copies disagreeing; a signal or an alarm lets the call in
    progress finish first. Either way the rollback writes the region it started with back to
    both copies."""
    abort = AbortAt(harness, kind, event=("setting", f"= {SECONDARY} in {SECONDARY}"))
    settings = harness.settings.with_(stop_check_interval=0.0 if kind == "stop" else 0.5)

    try:
        result = harness.run(
            "dynamodb-evacuation", observers=[abort], settings=settings, signals=kind == "signal"
        )
    except Crash:
        assert harness.active_region() == {PRIMARY: PRIMARY, SECONDARY: SECONDARY}
        result = harness.rollback(harness.only_drill())

    assert abort.fired and result.status == "rolled-back"
    _assert_back_in_origin(harness, PRIMARY, {PRIMARY: PRIMARY, SECONDARY: PRIMARY})


def test_the_matrix_covers_every_step_of_every_moving_drill() -> None:
    """Guard against a scenario growing a step (or a new moving scenario) the matrix misses,
    and against a kind of abort dropping out of a drill."""
    covered: dict[str, set[str]] = {}
    kinds: dict[str, set[str]] = {}
    for param in _boundaries():
        drill, step, kind = param.values
        covered.setdefault(drill.name, set()).add(step)
        kinds.setdefault(drill.name, set()).add(kind)
    for drill in DRILLS:
        assert covered[drill.name] == set(drill.steps())
        assert kinds[drill.name] == set(KINDS)
    moving = {name for name, definition in SCENARIOS.items() if definition.custom is None}
    assert moving == {d.name for d in DRILLS}
