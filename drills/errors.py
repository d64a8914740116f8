"""Domain errors: every way a drill can refuse, stop or fail, each with a reason for humans."""

from __future__ import annotations

from typing import Any


class DrillError(Exception):
    """Base of every drill error."""


class DrillConfigError(DrillError):
    """Bad stack or drill configuration: names the key, the value and what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"{_subject(key)} has value {value!r}; allowed: {allowed}")


def _subject(key: str) -> str:
    """What a key names, in the words of the settings loader's errors ("config key 'X'")."""
    if key.startswith("output "):
        return f"stack output {key.removeprefix('output ')!r}"
    if key == "pulumi":
        return "the pulumi command"
    return f"config key {key!r}"


class PreconditionFailedError(DrillError):
    """The stack is not in a state where the drill may start; nothing was changed."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("refusing to start: " + "; ".join(reasons))


class StopConditionError(DrillError):
    """An alarm went to ALARM during the drill (like an AWS FIS stop condition)."""

    def __init__(self, alarms: list[str]) -> None:
        self.alarms = alarms
        super().__init__("stop condition: alarm(s) in ALARM: " + ", ".join(alarms))


class StepTimeoutError(DrillError):
    """A step did not finish within its timeout."""

    def __init__(self, step: str, timeout: float, waiting_for: str) -> None:
        self.step = step
        self.timeout = timeout
        self.waiting_for = waiting_for
        super().__init__(f"step {step} exceeded its {timeout:g}s timeout waiting for {waiting_for}")


class InvariantViolationError(DrillError):
    """The "exactly one writer" invariant does not hold."""

    def __init__(self, store: str, writers: list[str], detail: str = "") -> None:
        self.store = store
        self.writers = writers
        count = len(writers)
        what = "no writer" if count == 0 else f"{count} writers ({', '.join(writers)})"
        super().__init__(f"{store}: expected exactly one writer, found {what}. {detail}".strip())


class StackBusyError(DrillError):
    """Another Pulumi update holds the stack (``ConcurrentUpdateError``)."""


class ReconcileError(DrillError):
    """A Pulumi operation failed (any other ``CommandError``)."""


class UnsafePreviewError(ReconcileError):
    """The preview would replace or delete a stateful resource."""

    def __init__(self, changes: list[tuple[str, str, str]]) -> None:
        self.changes = changes
        listed = ", ".join(f"{op} {urn}" for op, urn, _ in changes)
        super().__init__(f"preview would {listed}: refusing to run `up` on stateful resources")


class PolicyViolationError(ReconcileError):
    """The preview breaks a mandatory policy."""

    def __init__(self, violations: list[str]) -> None:
        self.violations = violations
        super().__init__("preview breaks mandatory policies: " + "; ".join(violations))


class StepFailedError(DrillError):
    """A step raised something unexpected (an AWS error, a bug): the drill aborts and rolls back."""


class VerificationError(DrillError):
    """The stack or the data is not what the drill expected afterwards."""


class JournalError(DrillError):
    """A journal is missing, unreadable, or in a state that forbids the operation."""


class DrillLockedError(JournalError):
    """Another drill process holds the lock."""


class RegionUnavailableError(DrillError):
    """A region did not answer (timeouts after retries)."""

    def __init__(self, region: str, detail: str) -> None:
        self.region = region
        super().__init__(f"region {region} is not answering: {detail}")


class DrillInterruptedError(DrillError):
    """SIGINT or SIGTERM: the call in progress finished, then the drill stopped."""

    def __init__(self, signal_name: str) -> None:
        self.signal_name = signal_name
        super().__init__(f"interrupted by {signal_name}")


class OperatorNeededError(DrillError):
    """AWS is not in a state the drill may act on by itself: a call journaled as sent whose
    effect AWS shows neither done nor in flight, another actor's move, a refused call AWS does
    not show as the drill's own. The drill pauses (no rollback, no further call) and says
    what to check; a person decides."""

    def __init__(self, problem: str, check: str) -> None:
        self.problem = problem
        self.check = check
        super().__init__(f"{problem}. Check: {check}")


class DeferredError(DrillError):
    """A step that needs a region that does not answer (a Pulumi refresh or up needs every
    region of the stack, the anchor region above all): deferred, journaled, and finished by
    ``resume`` once the region answers. The drill pauses; nothing is rolled back."""

    def __init__(self, region: str, what: str) -> None:
        self.region = region
        self.what = what
        super().__init__(f"{what} deferred: {region} does not answer; resume once it does")


class UnexpectedChangesError(ReconcileError):
    """The preview touches resources beyond the changes the drill's region swap makes (code
    merged since the last deploy, drift): the drill deploys only what it changed."""

    def __init__(self, changes: list[tuple[str, str]]) -> None:
        self.changes = changes
        listed = "; ".join(f"{op} {urn}" for op, urn in changes)
        super().__init__(
            f"preview touches {len(changes)} resource(s) the drill did not change: {listed}. "
            "Refusing `up`: deploy them separately (a normal `pulumi up`), then resume"
        )
