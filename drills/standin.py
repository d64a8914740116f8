"""A ``PulumiCommand`` that answers the Automation API without the ``pulumi`` binary.

The SDK drives the CLI through ``PulumiCommand.run(args, cwd, additional_env, on_output,
on_error)`` and reads structured engine events from ``--event-log``: a ``tcp://`` address of a
gRPC ``Events`` service the SDK starts (CLI versions after 3.205) or a file it tails (older
ones). This stand-in parses the same arguments, keeps stack config, outputs, history, the
update lock and pending operations in a :class:`StandInBackend` (``cancel`` and ``stack export``
included), answers ``preview``/``up``/``refresh`` from a :class:`Planner`, and streams prelude, resource, policy, summary and cancel events exactly where the SDK reads them,
so ``Stack.preview()`` returns a real ``ChangeSummary``. Every invocation is recorded
(arguments, working directory, environment) for assertions.

Tests script plans directly; the sandbox plans from the offline recording of the program
(``preflight.recorder``) and the policy pack's findings (see :mod:`drills.sandbox`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import grpc
from pulumi.automation import PulumiCommand
from pulumi.automation._cmd import CommandResult, OnOutput
from pulumi.automation.errors import create_command_error
from pulumi.runtime.proto import events_pb2, events_pb2_grpc
from semver import VersionInfo

SDK_DATETIME = "%Y-%m-%dT%H:%M:%S.%fZ"
CONFLICT = "error: [409] Conflict: Another update is currently in progress."


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One resource step of a preview or update."""

    op: str
    urn: str
    type: str
    diffs: tuple[str, ...] = ()
    replace_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicyFinding:
    """One policy event (``enforcement_level``: advisory, mandatory, ...)."""

    policy_name: str
    message: str
    enforcement_level: str = "advisory"
    urn: str = ""
    pack: str = "securecart-guardrails"


@dataclass(slots=True)
class Plan:
    """What preview/up would do."""

    steps: list[PlannedStep] = field(default_factory=list)
    policy: list[PolicyFinding] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """``resourceChanges`` of the summary event."""
        counts: dict[str, int] = {}
        for step in self.steps:
            counts[step.op] = counts.get(step.op, 0) + 1
        return counts


class Planner(Protocol):
    """Computes the plan of a stack for its current config (against its deployed config)."""

    def __call__(self, stack: StandInStack) -> Plan: ...


@dataclass(slots=True)
class StandInStack:
    """A stack as the backend keeps it."""

    name: str
    config: dict[str, Any]
    """Full config keys (``project:key``) to plain or structured values."""
    outputs: dict[str, Any]
    secrets: set[str] = field(default_factory=set)
    deployed_config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    resource_count: int = 0
    refreshed: dict[str, dict[str, Any]] = field(default_factory=dict)
    """URN -> inputs the last ``refresh`` read back from the cloud where they differ from the
    deployed state (what a real refresh writes into the state); cleared by ``up``."""
    pending_operations: list[dict[str, Any]] = field(default_factory=list)
    """The checkpoint's ``pending_operations`` (``{"resource": {"urn", "type"}, "type":
    "creating"|"updating"|"deleting"}``): what a killed ``up`` was doing when it died."""


@dataclass(slots=True)
class RecordedCall:
    """One ``PulumiCommand.run`` invocation."""

    args: list[str]
    cwd: str
    env: dict[str, str]
    code: int
    at: float

    @property
    def command(self) -> str:
        """The subcommand (``preview``, ``up``, ``config set-all``...)."""
        words = [a for a in self.args if not a.startswith("-")]
        if (
            words[:1] in (["stack"], ["config"])
            and len(words) > 1
            and words[1]
            in {
                "select",
                "ls",
                "output",
                "history",
                "export",
                "set",
                "set-all",
                "get",
                "rm",
            }
        ):
            return " ".join(words[:2])
        return words[0] if words else ""

    def flag(self, name: str) -> list[str]:
        """Every value given to ``--name``."""
        return [self.args[i + 1] for i, a in enumerate(self.args[:-1]) if a == name]


def static_plan(plan: Plan) -> Planner:
    """A planner that always answers the same plan."""

    def planner(stack: StandInStack) -> Plan:
        return plan

    return planner


def no_changes(stack: StandInStack) -> Plan:
    """A planner whose plan changes nothing."""
    return Plan()


class StandInBackend:
    """The state a Pulumi backend keeps: stacks, config, outputs, history, locks."""

    def __init__(
        self,
        project: str,
        planner: Planner = no_changes,
        outputs_after_up: Callable[[StandInStack], dict[str, Any]] | None = None,
        on_refresh: Callable[[StandInStack], dict[str, dict[str, Any]]] | None = None,
    ) -> None:
        self.project = project
        self.stacks: dict[str, StandInStack] = {}
        self.planner = planner
        self.outputs_after_up = outputs_after_up
        self.on_refresh = on_refresh
        """Reads the cloud back for ``refresh`` (URN -> drifted inputs)."""
        self.locked_by: str | None = None
        """Set to simulate another update holding every stack."""
        self.busy_for = 0
        """The next N preview/up/refresh calls fail with a 409 conflict, then succeed."""
        self.fail_next: dict[str, str] = {}
        """Command -> stderr: make the next such command fail (exit 1)."""
        self.operation_seconds = 0.0
        """Simulated engine time per preview/up/refresh."""
        self.kill_next_up: BaseException | None = None
        """The next ``up`` dies like a killed CLI: the stack stays locked, the plan's steps stay
        in ``pending_operations`` (nothing is checkpointed as done), and this exception is
        raised into the caller (the drill process dies with its ``pulumi``)."""
        self._lock = threading.Lock()

    def add_stack(
        self,
        name: str,
        config: Mapping[str, Any],
        outputs: Mapping[str, Any],
        secrets: set[str] | None = None,
    ) -> StandInStack:
        """Register a stack; un-namespaced config keys get the project namespace."""
        full = {self.full_key(k): v for k, v in config.items()}
        stack = StandInStack(
            name=name,
            config=full,
            outputs=dict(outputs),
            secrets=set(secrets or ()),
            deployed_config=dict(full),
        )
        self.stacks[name] = stack
        return stack

    def full_key(self, key: str) -> str:
        """``primaryRegion`` -> ``<project>:primaryRegion``."""
        return key if ":" in key else f"{self.project}:{key}"

    def stack(self, name: str) -> StandInStack:
        """A stack by name (``org/project/name`` accepted)."""
        return self.stacks[name.rsplit("/", maxsplit=1)[-1]]


class _ExitError(Exception):
    def __init__(self, code: int, stdout: str = "", stderr: str = "") -> None:
        super().__init__(stderr or stdout)
        self.code, self.stdout, self.stderr = code, stdout, stderr


class StandInPulumiCommand(PulumiCommand):
    """Stands in for the ``pulumi`` binary (subclass of the SDK's ``PulumiCommand``)."""

    def __init__(self, backend: StandInBackend, version: str = "3.272.0") -> None:
        # Deliberately not calling PulumiCommand.__init__: it runs `pulumi version`.
        self.command = "pulumi"
        self.version: VersionInfo | None = VersionInfo.parse(version)
        self.backend = backend
        self.calls: list[RecordedCall] = []
        self._calls_lock = threading.Lock()

    # -- the SDK's entry point ---------------------------------------------------------------

    def run(
        self,
        args: list[str],
        cwd: str,
        additional_env: Mapping[str, str],
        on_output: OnOutput | None = None,
        on_error: OnOutput | None = None,
    ) -> CommandResult:
        """Answer one CLI invocation the way the real CLI would."""
        argv = list(args)
        if "--non-interactive" not in argv[: argv.index("--") if "--" in argv else len(argv)]:
            argv.insert(0, "--non-interactive")
        try:
            stdout = self._dispatch(argv)
            code, stderr = 0, ""
        except _ExitError as done:
            code, stdout, stderr = done.code, done.stdout, done.stderr
        with self._calls_lock:
            self.calls.append(RecordedCall(argv, cwd, dict(additional_env), code, time.time()))
        for line in stdout.splitlines():
            if on_output:
                on_output(line)
        for line in stderr.splitlines():
            if on_error:
                on_error(line)
        result = CommandResult(stdout=stdout, stderr=stderr, code=code)
        if code != 0:
            raise create_command_error(result)
        return result

    def calls_of(self, command: str) -> list[RecordedCall]:
        """Recorded calls of one subcommand."""
        with self._calls_lock:
            return [c for c in self.calls if c.command == command]

    # -- dispatch ----------------------------------------------------------------------------

    def _dispatch(self, argv: list[str]) -> str:
        words, flags, rest = _parse(argv)
        backend = self.backend
        head = words[:2]
        if words[:1] == ["version"]:
            return f"v{self.version}"
        if words[:1] == ["whoami"]:
            return json.dumps({"user": "stand-in", "organizations": [], "url": "file://"})
        stack_name = flags.get("--stack", [""])[-1]
        if head == ["stack", "ls"]:
            return json.dumps(
                [
                    {
                        "name": s.name,
                        "current": True,
                        "updateInProgress": backend.locked_by is not None,
                        "resourceCount": s.resource_count,
                    }
                    for s in backend.stacks.values()
                ]
            )
        if stack_name.split("/")[-1] not in backend.stacks:
            raise _ExitError(255, stderr=f"error: no stack named '{stack_name}' found")
        stack = backend.stack(stack_name)
        if head == ["stack", "select"]:
            return ""
        if head == ["stack", "output"]:
            show = "--show-secrets" in flags
            return json.dumps(
                {
                    k: (v if show or k not in stack.secrets else "[secret]")
                    for k, v in stack.outputs.items()
                }
            )
        if head == ["stack", "history"]:
            return json.dumps(stack.history[-1:][::-1] if stack.history else [])
        if head == ["stack", "export"]:
            return json.dumps(_deployment(backend.project, stack))
        if words[:1] == ["cancel"]:
            # `pulumi cancel --yes`: ends the update holding the stack (self-managed backends
            # too, pulumi/pulumi#9100); refused when no update is in progress
            if backend.locked_by is None:
                raise _ExitError(255, stderr="error: no stack update is in progress")
            backend.locked_by = None
            return f"The currently running update for '{stack.name}' has been canceled!"
        if words[:1] == ["config"] and (
            len(words) == 1 or words[1] not in {"set", "set-all", "get", "rm"}
        ):
            return json.dumps(
                {
                    k: {
                        "value": v if isinstance(v, str) else json.dumps(v),
                        **({"objectValue": v} if not isinstance(v, str) else {}),
                        "secret": k in stack.secrets,
                    }
                    for k, v in stack.config.items()
                }
            )
        if head == ["config", "get"]:
            key = backend.full_key(words[2])
            if key not in stack.config:
                raise _ExitError(
                    255, stderr=f"error: configuration key '{words[2]}' not found for stack"
                )
            value = stack.config[key]
            return json.dumps(
                {
                    "value": value if isinstance(value, str) else json.dumps(value),
                    "secret": key in stack.secrets,
                }
            )
        if head == ["config", "set"]:
            value = rest[0] if rest else (words[3] if len(words) > 3 else "")
            key = backend.full_key(words[2])
            stack.config[key] = value
            _secret(stack, key, "--secret" in flags)
            return ""
        if head == ["config", "set-all"]:
            if "--json" in flags:
                for key, spec in json.loads(flags["--json"][-1]).items():
                    stack.config[backend.full_key(key)] = spec.get("value")
                return ""
            for flag_name in ("--plaintext", "--secret"):
                for pair in flags.get(flag_name, []):
                    key, _, value = pair.partition("=")
                    full = backend.full_key(key)
                    stack.config[full] = value
                    _secret(stack, full, flag_name == "--secret")
            return ""
        if head == ["config", "rm"]:
            stack.config.pop(backend.full_key(words[2]), None)
            return ""
        if words[:1] in (["preview"], ["up"], ["refresh"]):
            return self._operation(words[0], stack, flags)
        raise _ExitError(
            1, stderr=f"error: the stand-in does not implement `pulumi {' '.join(words)}`"
        )

    def _operation(self, kind: str, stack: StandInStack, flags: dict[str, list[str]]) -> str:
        backend = self.backend
        if kind in backend.fail_next:
            message = backend.fail_next.pop(kind)
            raise _ExitError(1, stderr=message)
        with backend._lock:
            busy = backend.locked_by is not None or backend.busy_for > 0
            if backend.busy_for > 0:
                backend.busy_for -= 1
        if busy:
            raise _ExitError(255, stderr=CONFLICT)
        started = time.time()
        if backend.operation_seconds:
            time.sleep(backend.operation_seconds)
        if kind == "up" and backend.kill_next_up is not None:
            killed, backend.kill_next_up = backend.kill_next_up, None
            backend.locked_by = f"a killed `pulumi up` of {stack.name}"
            stack.pending_operations = [
                {"resource": {"urn": step.urn, "type": step.type}, "type": _PENDING[step.op]}
                for step in backend.planner(stack).steps
                if step.op in _PENDING
            ]
            raise killed
        if kind == "refresh" and stack.pending_operations:
            # a refresh reads every resource back, which settles a pending update or delete;
            # a pending create is dropped only with --clear-pending-creates (the CLI asks
            # interactively otherwise: "Recovering from an interrupted update", Pulumi docs)
            clear_creates = "--clear-pending-creates" in flags
            stack.pending_operations = [
                p for p in stack.pending_operations if p["type"] == "creating" and not clear_creates
            ]
        if kind == "refresh" and backend.on_refresh is not None:
            try:
                stack.refreshed = backend.on_refresh(stack)
            except Exception as exc:  # a resource the refresh could not read fails it
                raise _ExitError(255, stderr=f"error: refresh failed: {exc}") from exc
        plan = Plan() if kind == "refresh" else backend.planner(stack)
        mandatory = [p for p in plan.policy if p.enforcement_level == "mandatory"]
        events = list(self._events(kind, stack, plan, started))
        log_target = flags.get("--event-log", [""])[-1]
        if log_target:
            _stream(log_target, events)
        if mandatory:
            raise _ExitError(
                255,
                stdout="\n".join(f"mandatory: [{p.policy_name}] {p.message}" for p in mandatory),
                stderr=f"error: {kind} failed: {len(mandatory)} mandatory policy violation(s)",
            )
        summary = plan.summary() if kind != "refresh" else {"same": stack.resource_count}
        if kind == "up":
            if backend.outputs_after_up is not None:
                try:
                    outputs = backend.outputs_after_up(stack)
                except Exception as exc:  # a resource the update could not change fails it
                    raise _ExitError(255, stderr=f"error: update failed: {exc}") from exc
                stack.outputs = outputs
            stack.deployed_config = dict(stack.config)
            stack.refreshed = {}
            # an update proceeds past pending operations with a warning and keeps the pending
            # creates (pulumi/pulumi#9293)
            stack.pending_operations = [
                p for p in stack.pending_operations if p["type"] == "creating"
            ]
        if kind in {"up", "refresh"}:
            stack.history.append(
                {
                    "kind": "update" if kind == "up" else "refresh",
                    "startTime": _sdk_time(started),
                    "endTime": _sdk_time(time.time()),
                    "message": "",
                    "environment": {"exec.kind": "auto.local"},
                    "config": {k: {"value": v, "secret": False} for k, v in stack.config.items()},
                    "result": "succeeded",
                    "version": len(stack.history) + 1,
                    "resourceChanges": summary,
                }
            )
        verb = {"preview": "Previewing update", "up": "Updating", "refresh": "Refreshing"}[kind]
        return f"{verb} ({stack.name}):\nResources:\n" + "\n".join(
            f"    {n} {op}" for op, n in sorted(summary.items())
        )

    def _events(
        self, kind: str, stack: StandInStack, plan: Plan, started: float
    ) -> Iterator[dict[str, Any]]:
        seq = 0

        def event(**payload: Any) -> dict[str, Any]:
            nonlocal seq
            seq += 1
            return {"sequence": seq, "timestamp": int(time.time()), **payload}

        yield event(preludeEvent={"config": {k: str(v) for k, v in stack.config.items()}})
        planning = kind == "preview"
        for step in plan.steps:
            metadata = {
                "op": step.op,
                "urn": step.urn,
                "type": step.type,
                "provider": "",
                "diffs": list(step.diffs),
                "keys": list(step.replace_keys),
                "detailedDiff": {
                    key: {
                        "diffKind": "update-replace" if key in step.replace_keys else "update",
                        "inputDiff": True,
                    }
                    for key in step.diffs
                },
            }
            yield event(resourcePreEvent={"metadata": metadata, "planning": planning})
            yield event(resOutputsEvent={"metadata": metadata, "planning": planning})
        for finding in plan.policy:
            yield event(
                policyEvent={
                    "resourceUrn": finding.urn,
                    "message": finding.message,
                    "color": "never",
                    "policyName": finding.policy_name,
                    "policyPackName": finding.pack,
                    "policyPackVersion": "0.1.0",
                    "policyPackVersionTag": "0.1.0",
                    "enforcementLevel": finding.enforcement_level,
                }
            )
            if finding.enforcement_level == "mandatory":
                yield event(
                    diagnosticEvent={
                        "urn": finding.urn,
                        "message": f"mandatory policy violation: {finding.policy_name}",
                        "color": "never",
                        "severity": "error",
                    }
                )
        summary = plan.summary() if kind != "refresh" else {"same": stack.resource_count}
        yield event(
            summaryEvent={
                "maybeCorrupt": False,
                "durationSeconds": max(0, int(time.time() - started)),
                "resourceChanges": summary,
                "PolicyPacks": {"securecart-guardrails": "0.1.0"} if kind != "refresh" else {},
            }
        )
        yield event(cancelEvent={})


_PENDING = {
    "create": "creating",
    "update": "updating",
    "delete": "deleting",
    "replace": "creating",
    "create-replacement": "creating",
}
"""The pending operation a killed update leaves for a step it had started."""


def _deployment(project: str, stack: StandInStack) -> dict[str, Any]:
    """``pulumi stack export`` (an untyped deployment, version 3, as the CLI writes it)."""
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": _sdk_time(time.time()), "version": "v3.272.0"},
            "resources": [
                {
                    "urn": f"urn:pulumi:{stack.name}::{project}::pulumi:pulumi:Stack::"
                    f"{project}-{stack.name}",
                    "type": "pulumi:pulumi:Stack",
                    "outputs": dict(stack.outputs),
                }
            ],
            "pending_operations": [dict(p) for p in stack.pending_operations],
        },
    }


def _secret(stack: StandInStack, key: str, secret: bool) -> None:
    if secret:
        stack.secrets.add(key)
    else:
        stack.secrets.discard(key)


def _sdk_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime(SDK_DATETIME)


_VALUE_FLAGS = {
    "--stack",
    "--event-log",
    "--policy-pack",
    "--policy-pack-config",
    "--exec-kind",
    "--message",
    "--page-size",
    "--page",
    "--plaintext",
    "--secret",
    "--json",
    "--color",
    "--parallel",
    "--target",
    "--replace",
    "--exclude",
    "--config-file",
    "--client",
}


def _parse(argv: list[str]) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """(positional words, flags with their values, arguments after ``--``)."""
    words: list[str] = []
    flags: dict[str, list[str]] = {}
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest = argv[i + 1 :]
            break
        if arg.startswith("--"):
            name, eq, inline = arg.partition("=")
            if eq:
                flags.setdefault(name, []).append(inline)
            elif name in _VALUE_FLAGS and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                flags.setdefault(name, []).append(argv[i + 1])
                i += 1
            else:
                flags.setdefault(name, [])
        else:
            words.append(arg)
        i += 1
    return words, flags, rest


def _stream(target: str, events: list[dict[str, Any]]) -> None:
    """Deliver engine events where the SDK listens: gRPC ``Events`` or an event-log file."""
    if target.startswith("tcp://"):
        address = target[len("tcp://") :]
        with grpc.insecure_channel(address) as channel:
            stub = events_pb2_grpc.EventsStub(channel)
            stub.StreamEvents(
                iter([events_pb2.EventRequest(event=json.dumps(e)) for e in events]), timeout=30
            )
        return
    with Path(target).open("a", encoding="utf-8") as handle:
        for e in events:
            handle.write(json.dumps(e) + "\n")
