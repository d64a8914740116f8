"""Running a drill: journaled steps, stop conditions, the single-writer invariant, rollback.

A drill is a list of :class:`Step` objects. The runner writes the journal before a step starts
and after it ends, tells observers (live progress, tests), checks the stop conditions between
steps and while steps wait, and checks "exactly one writer" after every step. Any failure aborts
the drill and undoes every started step (AWS state first, then the stack config, then the
canaries); a step may instead *pause* the drill (the old region is not back yet) so that
``resume`` finishes it later.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from .aws import AwsClients
from .canary import AuroraCanaries, CanaryLog, DynamoCanaries, PhaseRun
from .errors import (
    DeferredError,
    DrillError,
    DrillInterruptedError,
    InvariantViolationError,
    OperatorNeededError,
    PreconditionFailedError,
    RegionUnavailableError,
    StepFailedError,
    StepTimeoutError,
    StopConditionError,
)
from .journal import (
    DRILL_PAUSED,
    DRILL_REFUSED,
    DRILL_ROLLBACK_FAILED,
    DRILL_ROLLED_BACK,
    DRILL_ROLLING_BACK,
    DRILL_RUNNING,
    DRILL_SUCCEEDED,
    STEP_DONE,
    STEP_FAILED,
    STEP_PENDING,
    STEP_RUNNING,
    STEP_SKIPPED,
    Journal,
)
from .reconcile import OperationRecord, StackReconciler
from .settings import DrillSettings
from .target import StackTarget

T = TypeVar("T")

_LIVE: weakref.WeakSet[DrillContext] = weakref.WeakSet()


def interrupt_all(signal_name: str) -> int:
    """Ask every drill of this process to stop at its next safe point (signal handlers)."""
    contexts = list(_LIVE)
    for ctx in contexts:
        ctx.interrupt(signal_name)
    return len(contexts)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a drill."""

    name: str
    title: str
    run: Callable[[DrillContext], None]
    timeout: str = "canaries"
    """Which :class:`~drills.settings.StepTimeouts` field bounds this step."""
    undo: Callable[[DrillContext], None] | None = None
    undo_order: int = 0
    """Rollback runs undos by this order (AWS state 0, stack config 1, data cleanup 2)."""
    moves_writer: bool = False
    """Check the invariant against the data plane too (not only the control plane)."""
    pause_on_timeout: bool = False
    """A timeout pauses the drill for ``resume`` instead of rolling back."""
    phase: str = ""
    alarms_first: bool = True
    """Read the stop conditions before the step, even when the last read is recent. False for
    the declaration that a region is lost, which changes nothing in AWS: reading that region's
    alarms first would only wait out its read timeouts, long enough for a short outage to end
    before the step looks (the next step, the failover, reads them, the lost region skipped)."""
    recheck: Callable[[DrillContext], None] | None = None
    """On resume, after this step is done: what of it still applies (the preconditions that
    still hold meaning once the drill has moved something); raises to stop the resume."""

    def describe(self) -> dict[str, Any]:
        """The journal's plan entry."""
        return {
            "name": self.name,
            "title": self.title,
            "timeout": self.timeout,
            "phase": self.phase,
            "has_undo": self.undo is not None,
        }


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """Something that happened, for the report's timeline."""

    at: float
    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


class DrillObserver(Protocol):
    """Receives progress; the rich display and the tests implement it."""

    def drill_started(self, journal: Journal) -> None:
        """The drill (or its resume/rollback) starts."""

    def step_started(self, step: Step, record: dict[str, Any]) -> None:
        """Called after the journal marked the step running, before it acts."""

    def step_finished(self, step: Step, record: dict[str, Any]) -> None:
        """Called after the step acted, before the journal marks it done."""

    def step_failed(self, step: Step, record: dict[str, Any], error: BaseException) -> None:
        """The step raised."""

    def event(self, event: TimelineEvent) -> None:
        """A timeline event."""

    def waiting(self, what: str) -> None:
        """A step starts waiting for something AWS has to do (once per wait)."""

    def call_answered(self, key: str) -> None:
        """AWS answered an irreversible call, before the journal records it as sent."""

    def drill_finished(self, journal: Journal) -> None:
        """The drill reached a final (or paused) status."""


class NullObserver:
    """An observer that ignores everything (subclass and override what you need)."""

    def drill_started(self, journal: Journal) -> None:
        """Ignored."""

    def step_started(self, step: Step, record: dict[str, Any]) -> None:
        """Ignored."""

    def step_finished(self, step: Step, record: dict[str, Any]) -> None:
        """Ignored."""

    def step_failed(self, step: Step, record: dict[str, Any], error: BaseException) -> None:
        """Ignored."""

    def event(self, event: TimelineEvent) -> None:
        """Ignored."""

    def waiting(self, what: str) -> None:
        """Ignored."""

    def call_answered(self, key: str) -> None:
        """Ignored."""

    def drill_finished(self, journal: Journal) -> None:
        """Ignored."""


class DrillContext:
    """What a step sees: the target, clients, the stack, the journal and the drill's state."""

    def __init__(
        self,
        journal: Journal,
        target: StackTarget,
        settings: DrillSettings,
        aws: AwsClients,
        reconciler: StackReconciler,
        observers: list[DrillObserver],
    ) -> None:
        self.journal = journal
        self.target = target
        self.settings = settings
        self.aws = aws
        self.reconciler = reconciler
        self.observers = observers
        self.log = CanaryLog(journal.canary_path)
        self.aurora = AuroraCanaries(aws, journal.drill_id, target.database, target.secret_for)
        self._dynamo: dict[str, DynamoCanaries] = {}
        self._ids = threading.Lock()
        self.deadline = float("inf")
        self.step_name = ""
        self.attempt = 1
        self.in_rollback = False
        self._last_stop_check = 0.0
        self.stop_checker: Callable[[DrillContext], list[str]] | None = None
        self.interrupted: str | None = None
        """Set (to the signal's name) by a SIGINT/SIGTERM handler; honoured between calls."""
        _LIVE.add(self)
        self.resend = False
        """The operator asked ``resume`` to send again a call journaled as sent whose effect
        AWS shows neither done nor in flight (``--resend``)."""
        self.cache_connector: Any = None
        """Opens cache connections (TLS by default; the sandbox's data plane otherwise)."""
        self.probe_invoker: Any = None
        """Runs the in-VPC probes (drills/preconditions.py ``app-names``); None: on AWS, the
        stack's ``drillProbes`` function through ``lambda:InvokeFunction``."""
        reconciler.on_record = self._record_pulumi

    # -- state -------------------------------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        """Persisted working state."""
        return self.journal.state

    @property
    def unreachable(self) -> frozenset[str]:
        """Regions found unreachable during the drill (persisted: a resume knows them too)."""
        return frozenset(self.state.get("unreachable_regions", []))

    def mark_unreachable(self, *regions: str) -> None:
        """Add ``regions`` to :attr:`unreachable`."""
        self.state["unreachable_regions"] = sorted(self.unreachable | set(regions))

    def mark_reachable(self, region: str) -> None:
        """Remove ``region`` from :attr:`unreachable` (it answers again)."""
        self.state["unreachable_regions"] = sorted(self.unreachable - {region})

    @property
    def allow_data_loss(self) -> bool:
        """The operator accepted a lossy failover of a primary that still answers
        (``--allow-data-loss``; journaled, so a resume keeps the answer)."""
        return bool(self.state.get("allow_data_loss"))

    @property
    def drill_id(self) -> str:
        """This drill's id."""
        return self.journal.drill_id

    def dynamo(self, table: str) -> DynamoCanaries:
        """Canary helper for one table."""
        with self._ids:
            if table not in self._dynamo:
                self._dynamo[table] = DynamoCanaries(self.aws, self.drill_id, table)
            return self._dynamo[table]

    def phase(self, name: str) -> dict[str, Any]:
        """The persisted record of one phase (``switch``, ``failback``...)."""
        return self.phase_run(name).record

    def measurement(self, phase: str, store: str) -> dict[str, Any]:
        """The persisted measurement of one store in one phase."""
        return self.phase_run(phase).measurement(store)

    def phase_run(self, name: str) -> PhaseRun:
        """One phase as its steps see it (:class:`PhaseRun`)."""
        return PhaseRun(self.state, self.log, name)

    def next_canary_ids(self, prefix: str, count: int) -> list[str]:
        """Fresh canary ids (unique within the drill, across crashes and resumes: the counter
        saved at the last checkpoint may be behind the canary log, which is written first)."""
        with self._ids:
            start = max(int(self.state.get("canary_seq", 0)), len(self.log.records))
            self.state["canary_seq"] = start + count
        return [f"{prefix}-{start + i:04d}" for i in range(count)]

    def checkpoint(self) -> None:
        """Save the journal mid-step (after an irreversible call, before waiting on it)."""
        self.journal.save()

    def attempt_key(self) -> str:
        """``<step>#<attempt>``: distinguishes the calls of a re-run step or undo."""
        return f"{self.step_name}#{self.attempt}"

    @contextmanager
    def irreversible(self, key: str, description: str, **details: Any) -> Iterator[None]:
        """Journal an irreversible AWS call as *intended* before it is sent and as *sent* once
        AWS answered, so ``resume`` and ``rollback`` know which of the two a crash fell between
        (they then read AWS to learn whether the call happened). ``description`` names the
        call exactly as sent; ``details`` (the move's origin and target...) are journaled
        with it."""
        calls: dict[str, Any] = self.state.setdefault("calls", {})
        record = calls.setdefault(key, {"call": description, "step": self.step_name})
        record.update({"call": description, "intent_at": time.time(), "sent_at": None})
        record.update(details)
        record["attempts"] = int(record.get("attempts", 0)) + 1
        self.journal.save()
        self.event("action", description, call=key)
        yield
        for observer in self.observers:
            observer.call_answered(key)
        record["sent_at"] = time.time()
        self.journal.save()

    def resolve_call(self, key: str, how: str) -> None:
        """A call journaled as intended only (a crash fell after its intent) whose effect AWS
        shows: journal it as sent, with how that was learned (never sent twice)."""
        record = (self.state.get("calls") or {}).get(key)
        if record is not None and record.get("sent_at") is None:
            record["sent_at"] = time.time()
            record["resolved"] = how
            self.checkpoint()

    def event(self, kind: str, message: str, **data: Any) -> None:
        """Record a timeline event and tell the observers."""
        event = TimelineEvent(time.time(), kind, message, data)
        self.journal.append(
            "timeline",
            {"at": event.at, "kind": kind, "message": message, "step": self.step_name, **data},
        )
        for observer in self.observers:
            observer.event(event)

    def _record_pulumi(self, record: OperationRecord) -> None:
        self.journal.append("pulumi", {"step": self.step_name, **record.to_json()})

    # -- waiting -----------------------------------------------------------------------------

    def sleep(self, seconds: float) -> None:
        """Sleep, but never past the step deadline."""
        remaining = self.deadline - time.time()
        time.sleep(max(0.0, min(seconds, remaining)))

    def interrupt(self, signal_name: str) -> None:
        """Ask the drill to stop at the next safe point (after the AWS call in progress)."""
        if self.interrupted is None:
            self.interrupted = signal_name
            self.journal.data["interrupted"] = {"signal": signal_name, "at": time.time()}

    def check_stop_conditions(self, force: bool = False) -> None:
        """Abort if interrupted, or if a stop-condition alarm is in ALARM (read at most every
        interval)."""
        if self.interrupted is not None and not self.in_rollback:
            raise DrillInterruptedError(self.interrupted)
        if self.in_rollback or self.stop_checker is None:
            return
        now = time.time()
        if not force and now - self._last_stop_check < self.settings.stop_check_interval:
            return
        self._last_stop_check = now
        alarms = self.stop_checker(self)
        if alarms:
            self.event("stop-condition", f"alarm(s) in ALARM: {', '.join(alarms)}", alarms=alarms)
            raise StopConditionError(alarms)

    def wait_until(
        self,
        what: str,
        probe: Callable[[], T | None],
        *,
        interval: float | None = None,
        tolerate_unreachable: bool = False,
    ) -> T:
        """Poll ``probe`` until it returns a value (not None); bounded by the step deadline."""
        pause = self.settings.poll_interval if interval is None else interval
        told = False
        while True:
            try:
                value = probe()
            except RegionUnavailableError:
                if not tolerate_unreachable:
                    raise
                value = None
            if value is not None:
                return value
            if not told:
                told = True
                for observer in self.observers:
                    observer.waiting(what)
            self.check_stop_conditions()
            if time.time() + pause > self.deadline:
                raise StepTimeoutError(self.step_name, self.deadline_seconds, what)
            time.sleep(pause)

    @property
    def deadline_seconds(self) -> float:
        """The current step's timeout in seconds (for messages)."""
        return float(self.state.get("_step_timeout", 0.0))


InvariantChecker = Callable[[DrillContext, Step | None], dict[str, Any]]


class DrillRunner:
    """Runs (or resumes, or rolls back) one drill's steps against its journal."""

    def __init__(
        self,
        ctx: DrillContext,
        steps: list[Step],
        invariant: InvariantChecker,
    ) -> None:
        self.ctx = ctx
        self.steps = steps
        self.invariant = invariant
        self._resuming = False

    @property
    def journal(self) -> Journal:
        """The drill's journal."""
        return self.ctx.journal

    def _notify(self, method: str, *args: Any) -> None:
        for observer in self.ctx.observers:
            getattr(observer, method)(*args)

    # -- forward -----------------------------------------------------------------------------

    def run(self) -> str:
        """Run every step not yet done; returns the drill's final status."""
        journal = self.journal
        self._notify("drill_started", journal)
        if self._resuming:
            self._resuming = False
            paused = self._recheck()
            if paused is not None:
                return paused
        if journal.status != DRILL_RUNNING:
            journal.set_status(DRILL_RUNNING)
        for step in self.steps:
            record = journal.step(step.name)
            if record["status"] in {STEP_DONE, STEP_SKIPPED}:
                continue
            try:
                if step.name != "preconditions":
                    # read before a step whatever the interval (which only spaces the reads
                    # while a step waits): an alarm that fired less than an interval after the
                    # last read would otherwise let the next steps, the end of the drill
                    # included, run without it being seen
                    if step.alarms_first:
                        self.ctx.check_stop_conditions(force=True)
                    elif self.ctx.interrupted is not None:
                        raise DrillInterruptedError(self.ctx.interrupted)
                self._run_step(step, record)
                self._check_invariant(step)
            except PreconditionFailedError as exc:
                record["status"] = STEP_FAILED
                record["error"] = str(exc)
                record["ended_at"] = time.time()
                self.ctx.event("refused", str(exc), reasons=exc.reasons)
                journal.set_status(DRILL_REFUSED, str(exc))
                self._notify("step_failed", step, record, exc)
                self._notify("drill_finished", journal)
                return DRILL_REFUSED
            except OperatorNeededError as exc:
                return self._pause(step, record, exc, "a person must decide")
            except DeferredError as exc:
                self.ctx.state.setdefault("deferred", []).append(
                    {"step": step.name, "region": exc.region, "what": exc.what, "at": time.time()}
                )
                return self._pause(step, record, exc, "deferred until the region answers")
            except DrillInterruptedError as exc:
                if step.pause_on_timeout:  # rolling back needs the region it is waiting for
                    return self._pause(step, record, exc, "interrupted; resume or roll back later")
                return self._abort(step, record, exc)
            except StepTimeoutError as exc:
                if step.pause_on_timeout:
                    record["status"] = STEP_RUNNING
                    record["error"] = str(exc)
                    self.ctx.event("paused", f"{exc}; resume the drill when it can continue")
                    journal.set_status(DRILL_PAUSED, str(exc))
                    self._notify("step_failed", step, record, exc)
                    self._notify("drill_finished", journal)
                    return DRILL_PAUSED
                return self._abort(step, record, exc)
            except DrillError as exc:
                return self._abort(step, record, exc)
        journal.set_status(DRILL_SUCCEEDED, "all steps done")
        self._notify("drill_finished", journal)
        return DRILL_SUCCEEDED

    def _run_step(self, step: Step, record: dict[str, Any]) -> None:
        ctx = self.ctx
        timeout = float(getattr(ctx.settings.timeouts, step.timeout))
        record["status"] = STEP_RUNNING
        record["started_at"] = record["started_at"] or time.time()
        record["attempts"] = int(record["attempts"]) + 1
        record["error"] = None
        ctx.state["_step_timeout"] = timeout
        self.journal.save()
        ctx.step_name = step.name
        ctx.attempt = int(record["attempts"])
        ctx.deadline = time.time() + timeout
        self._notify("step_started", step, record)
        try:
            try:
                step.run(ctx)
            except DrillError:
                raise
            except Exception as exc:  # AWS errors and bugs abort the drill like any failure
                raise StepFailedError(f"{step.name}: {type(exc).__name__}: {exc}") from exc
        except DrillError as exc:
            record["status"] = STEP_FAILED
            record["error"] = str(exc)
            record["ended_at"] = time.time()
            self.journal.save()
            self._notify("step_failed", step, record, exc)
            raise
        self._notify("step_finished", step, record)
        record["status"] = STEP_DONE
        record["ended_at"] = time.time()
        self.journal.save()

    def _check_invariant(self, step: Step | None) -> None:
        check = self.invariant(self.ctx, step)
        check["after"] = step.name if step else "resume"
        check["at"] = time.time()
        self.journal.append("invariant_checks", check)
        self.journal.save()
        if not check.get("ok", False):
            raise InvariantViolationError(
                str(check.get("store", "?")),
                list(check.get("writers", [])),
                str(check.get("detail", "")),
            )

    def check_before_resume(self) -> None:
        """The invariant must hold before a crashed drill continues; the next :meth:`run`
        first re-runs what still applies of the steps already done (:attr:`Step.recheck`).
        A move the crashed drill had started (a switchover AWS answered) may still be in
        flight: the check waits for it within the verify timeout, as the check after a
        rollback does, instead of judging a store that is still ``modifying``."""
        ctx = self.ctx
        ctx.step_name = "resume-check"
        ctx.deadline = time.time() + float(ctx.settings.timeouts.verify)
        ctx.state["_step_timeout"] = float(ctx.settings.timeouts.verify)
        self._check_invariant(None)
        self._resuming = True

    def _recheck(self) -> str | None:
        """Re-run the rechecks of the done steps; a failure pauses the drill, changing nothing
        (the drill may be half-way: refusing or rolling back on its own is not safe)."""
        for step in self.steps:
            record = self.journal.step(step.name)
            if step.recheck is None or record["status"] != STEP_DONE:
                continue
            self.ctx.step_name = f"recheck:{step.name}"
            self.ctx.deadline = time.time() + float(
                getattr(self.ctx.settings.timeouts, step.timeout)
            )
            try:
                step.recheck(self.ctx)
            except DrillError as exc:
                problem = OperatorNeededError(f"resume refused: {exc}", "fix it, then resume again")
                self.ctx.event("paused", str(problem))
                self.journal.set_status(DRILL_PAUSED, str(problem))
                self._notify("drill_finished", self.journal)
                return DRILL_PAUSED
        return None

    def _pause(self, step: Step, record: dict[str, Any], exc: DrillError, why: str) -> str:
        record["status"] = STEP_RUNNING
        record["error"] = str(exc)
        self.ctx.event("paused", f"{exc}; {why}")
        self.journal.set_status(DRILL_PAUSED, str(exc))
        self._notify("step_failed", step, record, exc)
        self._notify("drill_finished", self.journal)
        return DRILL_PAUSED

    def _abort(self, step: Step, record: dict[str, Any], exc: DrillError) -> str:
        if record["status"] == STEP_RUNNING:
            record["status"] = STEP_FAILED
            record["error"] = str(exc)
            record["ended_at"] = time.time()
        self.ctx.event("abort", f"{step.name}: {exc}", error=type(exc).__name__)
        self.journal.data["reason"] = f"{step.name}: {exc}"
        self.journal.save()
        return self.rollback(reason=f"{step.name}: {exc}")

    # -- backward ----------------------------------------------------------------------------

    def rollback(self, reason: str = "requested") -> str:
        """Undo every step that started, AWS state first; returns the final status."""
        ctx = self.ctx
        journal = self.journal
        ctx.in_rollback = True
        journal.set_status(DRILL_ROLLING_BACK, journal.data.get("reason") or reason)
        self._notify("drill_started", journal)
        ctx.event("rollback", f"rolling back: {reason}")
        started = [
            (index, step)
            for index, step in enumerate(self.steps)
            if journal.step(step.name)["status"] != STEP_PENDING and step.undo is not None
        ]
        ordered = sorted(started, key=lambda item: (item[1].undo_order, -item[0]))
        failed = False
        for _, step in ordered:
            record = journal.step(step.name)
            if record.get("undo_status") == STEP_DONE:
                continue
            assert step.undo is not None
            # an undo may first wait for the move it undoes to finish: never less time than
            # a verification gets, even when the step itself had a short budget
            timeout = max(
                float(getattr(ctx.settings.timeouts, step.timeout)),
                float(ctx.settings.timeouts.verify),
            )
            ctx.step_name = f"undo:{step.name}"
            ctx.deadline = time.time() + timeout
            ctx.state["_step_timeout"] = timeout
            record["undo_status"] = STEP_RUNNING
            journal.save()
            try:
                try:
                    step.undo(ctx)
                except DrillError:
                    raise
                except Exception as exc:
                    raise StepFailedError(f"undo {step.name}: {type(exc).__name__}: {exc}") from exc
            except DrillError as exc:
                failed = True
                record["undo_status"] = STEP_FAILED
                record["undo_error"] = str(exc)
                ctx.event("undo-failed", f"{step.name}: {exc}")
                journal.save()
                continue
            record["undo_status"] = STEP_DONE
            journal.save()
            ctx.event("undone", f"undid {step.name}")
        ctx.step_name = "rollback-check"
        ctx.deadline = time.time() + float(ctx.settings.timeouts.verify)
        ctx.state["_step_timeout"] = float(ctx.settings.timeouts.verify)
        try:
            self._check_invariant(None)
        except DrillError as exc:
            failed = True
            ctx.event("invariant", f"after rollback: {exc}")
        status = DRILL_ROLLBACK_FAILED if failed else DRILL_ROLLED_BACK
        journal.set_status(status)
        self._notify("drill_finished", journal)
        return status
