"""Reconcile the Pulumi stack after a drill moved the writers, through the Automation API.

The stack is the repository's own program (a *local* program): ``select_stack(work_dir=<repo>)``
reuses ``Pulumi.yaml``, ``stacks/`` and the venv the CLI uses. Every operation streams engine
events; preview collects each resource step and every policy event, and the drill refuses to
run ``up`` if a stateful resource would be replaced or deleted or a mandatory policy fails.
``ConcurrentUpdateError`` (another update holds the stack) is retried a few times and then
reported as :class:`~drills.errors.StackBusyError`; every other ``CommandError`` becomes
:class:`~drills.errors.ReconcileError`, both raised ``from`` the SDK's exception.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pulumi import automation as auto
from pulumi.automation.events import EngineEvent, OpType

from components.settings import parse_config_value
from preflight.changes import STATEFUL_TYPES

from .errors import (
    PolicyViolationError,
    ReconcileError,
    StackBusyError,
    UnexpectedChangesError,
    UnsafePreviewError,
)

log = logging.getLogger("drills.pulumi")

T = TypeVar("T")


DESTRUCTIVE_OPS = frozenset(
    {
        OpType.DELETE,
        OpType.REPLACE,
        OpType.CREATE_REPLACEMENT,
        OpType.DELETE_REPLACED,
        OpType.DISCARD,
        OpType.DISCARD_REPLACED,
        OpType.READ_REPLACEMENT,
        OpType.IMPORT_REPLACEMENT,
        OpType.REMOVE_PENDING_REPLACE,
    }
)


@dataclass(slots=True)
class OperationRecord:
    """What one Pulumi operation did (kept in the journal and the report)."""

    kind: str
    started_at: float
    ended_at: float = 0.0
    change_summary: dict[str, int] = field(default_factory=dict)
    steps: list[dict[str, str]] = field(default_factory=list)
    policy: list[dict[str, str]] = field(default_factory=list)
    attempts: int = 0
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-able."""
        return {
            "kind": self.kind,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_seconds": round(self.ended_at - self.started_at, 3),
            "change_summary": self.change_summary,
            "steps": self.steps,
            "policy": self.policy,
            "attempts": self.attempts,
            "error": self.error,
        }


class _EventCollector:
    """Collects engine events from the SDK's event stream (a gRPC server thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.steps: list[dict[str, str]] = []
        self.policy: list[dict[str, str]] = []
        self.summary: dict[str, int] = {}
        self.errors: list[str] = []

    def __call__(self, event: EngineEvent) -> None:
        with self._lock:
            if event.resource_pre_event is not None:
                meta = event.resource_pre_event.metadata
                op = meta.op.value if isinstance(meta.op, OpType) else str(meta.op)
                self.steps.append({"op": op, "urn": meta.urn, "type": meta.type})
            if event.policy_event is not None:
                p = event.policy_event
                self.policy.append(
                    {
                        "policy": p.policy_name,
                        "pack": p.policy_pack_name,
                        "level": p.enforcement_level,
                        "urn": p.resource_urn or "",
                        "message": p.message.strip(),
                    }
                )
            if event.summary_event is not None:
                self.summary = {
                    str(k): int(v) for k, v in event.summary_event.resource_changes.items()
                }
            if event.diagnostic_event is not None and event.diagnostic_event.severity == "error":
                self.errors.append(event.diagnostic_event.message.strip())


def unsafe_steps(steps: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    """(op, urn, type) of each step that replaces or deletes a stateful resource."""
    destructive = {op.value for op in DESTRUCTIVE_OPS}
    return [
        (s["op"], s["urn"], s["type"])
        for s in steps
        if s["op"] in destructive and s["type"] in STATEFUL_TYPES
    ]


def mandatory_violations(policy: list[dict[str, str]]) -> list[str]:
    """Human-readable mandatory policy violations."""
    return [
        f"{p['policy']} ({p['urn'] or 'stack'}): {p['message'].splitlines()[-1] if p['message'] else ''}"
        for p in policy
        if p["level"] == "mandatory"
    ]


Pair = tuple[str, str]
Expectation = Callable[[Pair, Pair], set[tuple[str, str]]]
"""(deployed region pair, configured pair) -> the (op, urn) steps a swap between them makes."""

_REPLACE_OPS = {"replace", "create-replacement", "delete-replaced", "discard-replaced"}
_NO_CHANGE = {"same", "read", "refresh", "remove-pending-replace"}


def normalized_op(op: str) -> str:
    """An engine step as the offline plan names it (a replacement's three steps: ``replace``)."""
    return "replace" if op in _REPLACE_OPS else op


def unexpected_steps(
    steps: list[dict[str, str]], expected: set[tuple[str, str]]
) -> list[tuple[str, str]]:
    """(op, urn) of each preview step that changes something the expectation does not name."""
    found: list[tuple[str, str]] = []
    for step in steps:
        op = normalized_op(step["op"])
        if op in _NO_CHANGE or (op, step["urn"]) in expected:
            continue
        if (op, step["urn"]) not in found:
            found.append((op, step["urn"]))
    return found


def offline_expectation(stack: str, root: Path) -> Expectation:
    """What a region swap changes, from the program itself: the offline plans of both region
    pairs (``preflight.recorder``, the recording ``python -m preflight`` makes), diffed as
    ``python -m preflight --against`` diffs them. Same code, only the pair differs: whatever
    else a preview shows is not the drill's to deploy."""

    def expect(deployed: Pair, wanted: Pair) -> set[tuple[str, str]]:
        from preflight.changes import diff_plans
        from preflight.recorder import record_stack

        def record(pair: Pair) -> Any:
            overrides = {"primaryRegion": pair[0], "secondaryRegion": pair[1]}
            return record_stack(stack, overrides, root)

        diff = diff_plans(record(deployed).resources, record(wanted).resources)
        return {(str(c.op.value), c.urn) for c in diff.changes if c.op.value != "same"}

    return expect


class StackReconciler:
    """One stack of the repository's program, driven through the Automation API."""

    def __init__(
        self,
        stack_name: str,
        work_dir: Path,
        project: str,
        pulumi_command: auto.PulumiCommand | None = None,
        *,
        policy_pack: str = "policies",
        policy_config: str | None = None,
        busy_retries: int = 3,
        busy_backoff: float = 2.0,
        env_vars: dict[str, str] | None = None,
        on_record: Callable[[OperationRecord], None] | None = None,
        expectation: Expectation | None = None,
    ) -> None:
        self.stack_name = stack_name
        self.work_dir = work_dir
        self.project = project
        self.pulumi_command = pulumi_command
        self.policy_pack = policy_pack
        self.policy_config = policy_config or f"stacks/policy-config.{stack_name}.json"
        self.busy_retries = busy_retries
        self.busy_backoff = busy_backoff
        self.env_vars = env_vars or {}
        self.on_record = on_record
        self.expectation = expectation or offline_expectation(stack_name, work_dir)
        self._stack: auto.Stack | None = None

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def stack(self) -> auto.Stack:
        """The selected stack (selected on first use)."""
        if self._stack is None:
            opts = auto.LocalWorkspaceOptions(
                pulumi_command=self.pulumi_command,
                env_vars={"PULUMI_SKIP_UPDATE_CHECK": "true", **self.env_vars},
            )
            self._stack = self._guard(
                "select",
                lambda: auto.select_stack(
                    stack_name=self.stack_name, work_dir=str(self.work_dir), opts=opts
                ),
            )
        return self._stack

    def _guard(self, kind: str, fn: Callable[[], T], record: OperationRecord | None = None) -> T:
        """Run a CLI operation: retry while the stack is busy, translate errors."""
        attempt = 0
        while True:
            attempt += 1
            if record is not None:
                record.attempts = attempt
            try:
                return fn()
            except auto.ConcurrentUpdateError as exc:
                if attempt > self.busy_retries:
                    raise StackBusyError(
                        f"pulumi {kind} on stack {self.stack_name}: another update is in "
                        f"progress (tried {attempt} times)"
                    ) from exc
                log.warning("stack %s busy during %s; retrying", self.stack_name, kind)
                time.sleep(self.busy_backoff * attempt)
            except auto.CommandError as exc:
                raise ReconcileError(
                    f"pulumi {kind} on stack {self.stack_name} failed: {exc}"
                ) from exc

    def _finish(self, record: OperationRecord) -> OperationRecord:
        record.ended_at = time.time()
        if self.on_record is not None:
            self.on_record(record)
        return record

    @staticmethod
    def _log_output(line: str) -> None:
        log.info("%s", line)

    # -- queries -----------------------------------------------------------------------------

    def update_in_progress(self) -> bool:
        """Whether another Pulumi update holds the stack right now."""
        stack = self.stack
        summaries = self._guard("stack ls", stack.workspace.list_stacks)
        for summary in summaries:
            if summary.name.split("/")[-1] == self.stack_name:
                return bool(summary.update_in_progress)
        return False

    def outputs(self) -> dict[str, Any]:
        """Stack outputs, plain values."""
        stack = self.stack
        outputs = self._guard("stack output", stack.outputs)
        return {key: value.value for key, value in outputs.items()}

    def config(self) -> dict[str, Any]:
        """Project config without the namespace, structured values decoded."""
        stack = self.stack
        values = self._guard("config", stack.get_all_config)
        prefix = f"{self.project}:"
        return {
            key[len(prefix) :]: parse_config_value(key[len(prefix) :], value.value)
            for key, value in values.items()
            if key.startswith(prefix)
        }

    def pending_operations(self) -> list[dict[str, Any]]:
        """The state's ``pending_operations`` (``pulumi stack export``): the resource operations
        a killed CLI had started and never checkpointed."""
        stack = self.stack
        exported = self._guard("stack export", stack.export_stack)
        return list((exported.deployment or {}).get("pending_operations") or [])

    # -- operations --------------------------------------------------------------------------

    def clear_interrupted_update(self, *, ours: bool) -> OperationRecord:
        """After a ``pulumi up`` killed with the drill: end the update that still holds the stack
        (``pulumi cancel``; only when ``ours``, i.e. the journal shows the drill's own ``up``
        never returned: another person's update is never cancelled), then clear the pending
        operations it left (Pulumi docs, "Recovering from an interrupted update"): ``pulumi
        refresh --clear-pending-creates`` reads every resource back, which settles pending
        updates and deletes and drops pending creates (otherwise only an interactive refresh
        does); anything still pending after it is an error for a person (the state is never
        edited by export/import behind the operator's back). The record's steps name every
        pending operation found."""
        stack = self.stack
        record = OperationRecord("recover", time.time())
        cancelled = 0
        if ours and self.update_in_progress():
            self._guard("cancel", stack.cancel, record)
            cancelled = 1
        pending = self.pending_operations()
        record.steps = [
            {
                "op": str(p.get("type", "")),
                "urn": str((p.get("resource") or {}).get("urn", "")),
                "type": str((p.get("resource") or {}).get("type", "")),
            }
            for p in pending
        ]
        if pending:
            self._guard(
                "refresh --clear-pending-creates",
                lambda: stack.refresh(clear_pending_creates=True, on_output=self._log_output),
                record,
            )
            left = self.pending_operations()
            if left:  # never edit the state behind the operator's back (export/import)
                record.error = f"{len(left)} pending operation(s) left after the refresh"
                self._finish(record)
                raise ReconcileError(
                    f"pulumi refresh --clear-pending-creates left {len(left)} pending "
                    f"operation(s) on stack {self.stack_name}: check them in AWS, then remove "
                    "them with `pulumi stack export` / `pulumi stack import`"
                )
        record.change_summary = {"cancelled": cancelled, "pending": len(pending)}
        return self._finish(record)

    def refresh(self) -> OperationRecord:
        """``pulumi refresh``: adopt what the drill changed in AWS into the state."""
        stack = self.stack
        record = OperationRecord("refresh", time.time())
        result = self._guard("refresh", lambda: stack.refresh(on_output=self._log_output), record)
        record.change_summary = _summary(result.summary)
        return self._finish(record)

    def set_regions(self, primary: str, secondary: str) -> OperationRecord:
        """Swap the region pair in the stack config (``primaryRegion``/``secondaryRegion``)."""
        stack = self.stack
        record = OperationRecord("config", time.time())
        values = {
            f"{self.project}:primaryRegion": auto.ConfigValue(value=primary),
            f"{self.project}:secondaryRegion": auto.ConfigValue(value=secondary),
        }
        self._guard("config set-all", lambda: stack.set_all_config(values), record)
        record.change_summary = {"primaryRegion": 1, "secondaryRegion": 1}
        return self._finish(record)

    def regions(self) -> tuple[str, str]:
        """(primaryRegion, secondaryRegion) from the stack config."""
        config = self.config()
        return str(config.get("primaryRegion", "")), str(config.get("secondaryRegion", ""))

    def expected_changes(self, deployed: Pair, wanted: Pair) -> set[tuple[str, str]]:
        """The (op, urn) steps a swap from the ``deployed`` to the ``wanted`` pair makes."""
        if deployed == wanted:
            return set()
        return self.expectation(deployed, wanted)

    def preview(self, expected: set[tuple[str, str]] | None = None) -> OperationRecord:
        """``pulumi preview --policy-pack ... --policy-pack-config ...``, checked for safety.

        Raises UnsafePreviewError when a stateful resource would be replaced or deleted,
        PolicyViolationError when a mandatory policy fails, and (given the ``expected`` steps)
        UnexpectedChangesError when it touches anything else.
        """
        stack = self.stack
        record = OperationRecord("preview", time.time())
        events = _EventCollector()
        try:
            self._guard(
                "preview",
                lambda: stack.preview(
                    policy_packs=[self.policy_pack],
                    policy_pack_configs=[self.policy_config],
                    on_output=self._log_output,
                    on_event=events,
                ),
                record,
            )
        except ReconcileError as exc:
            record.steps, record.policy, record.error = events.steps, events.policy, str(exc)
            self._finish(record)
            violations = mandatory_violations(events.policy)
            if violations:
                raise PolicyViolationError(violations) from exc
            raise
        record.steps, record.policy, record.change_summary = (
            events.steps,
            events.policy,
            events.summary,
        )
        self._finish(record)
        unsafe = unsafe_steps(events.steps)
        if unsafe:
            raise UnsafePreviewError(unsafe)
        violations = mandatory_violations(events.policy)
        if violations:
            raise PolicyViolationError(violations)
        if expected is not None:
            unexpected = unexpected_steps(events.steps, expected)
            if unexpected:
                raise UnexpectedChangesError(unexpected)
        return record

    def up(self) -> tuple[OperationRecord, dict[str, Any]]:
        """``pulumi up`` with the same policy pack; returns the record and the new outputs.

        No per-resource event stream here: the preview just vetted every step, and the update's
        summary comes back with the result.
        """
        stack = self.stack
        record = OperationRecord("up", time.time())
        result = self._guard(
            "up",
            lambda: stack.up(
                policy_packs=[self.policy_pack],
                policy_pack_configs=[self.policy_config],
                on_output=self._log_output,
            ),
            record,
        )
        record.change_summary = _summary(result.summary)
        self._finish(record)
        return record, {key: value.value for key, value in result.outputs.items()}


def _summary(summary: Any) -> dict[str, int]:
    """``resourceChanges`` of an UpdateSummary, as plain strings and ints."""
    changes = getattr(summary, "resource_changes", None) or {}
    return {str(getattr(op, "value", op)): int(n) for op, n in changes.items()}
