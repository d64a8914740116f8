"""One preflight run: record the program, serve the policy pack, analyze, plan the deploy.

``run_preflight`` is what ``python -m preflight`` does minus the printing; tests and the
benchmark call it in-process. The policy server starts in a background thread while the program
is recorded, since the two are independent and each spends most of its time importing Python.
As soon as the pack is configured, every resource is sent to ``Analyze`` the moment it is
registered, as the engine does during a preview: the pack works on the other core while the
program goes on, and only ``AnalyzeStack`` waits for the whole graph. With ``--against`` the
plan is compared with a baseline (``preflight.changes``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from preflight.advisories import advisories
from preflight.baseline import BaselineError, as_written, load_baseline
from preflight.changes import Op, PlanDiff, diff_plans
from preflight.config import REPO_ROOT, PreflightConfigError
from preflight.critical_path import CriticalPath, critical_path
from preflight.model import RecordedResource, Recording
from preflight.redaction import Scrubber, secret_plaintexts

REPO = REPO_ROOT
"""The project root: where Pulumi.yaml, stacks/ and policies/ live."""

LEVELS = ("mandatory", "remediate", "advisory", "disabled")
"""Enforcement levels, most severe first (the order the report groups them in)."""

_LEVEL_NUMBERS = {0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate"}
"""``pulumirpc.EnforcementLevel`` values, for a client that hands back the raw enum."""


class DiagnosticLike(Protocol):
    """What preflight reads from ``preflight.analyzer.Diagnostic``."""

    @property
    def policy_name(self) -> str: ...
    @property
    def policy_pack_name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def enforcement_level(self) -> Any: ...
    @property
    def urn(self) -> str: ...


class PolicyServerLike(Protocol):
    """What preflight uses of ``preflight.analyzer.PolicyServer``."""

    def __enter__(self) -> Any: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Any: ...
    def info(self) -> Sequence[Any]: ...
    def configure(self, config: Mapping[str, Any]) -> object: ...
    def analyze(self, resource: RecordedResource) -> Sequence[DiagnosticLike]: ...
    def analyze_stack(self, resources: Sequence[RecordedResource]) -> Sequence[DiagnosticLike]: ...


ServerFactory = Callable[[Path], PolicyServerLike]
Recorder = Callable[[str, Mapping[str, str] | None, Path], Recording]
OnRecord = Callable[[RecordedResource], None]


@dataclass(frozen=True, slots=True)
class PolicyMeta:
    """One policy of the pack, as the server describes it."""

    name: str
    description: str
    remediation: str
    enforcement_level: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One policy violation (a diagnostic), with secrets scrubbed from its text."""

    policy_name: str
    policy_pack_name: str
    description: str
    message: str
    enforcement_level: str
    urn: str
    """The violating resource, or "" for a stack-wide violation."""
    remediation: str

    @property
    def detail(self) -> str:
        """The message without the policy description pulumi-policy puts in front of it."""
        head, sep, rest = self.message.partition("\n")
        return rest.strip() if sep and head.strip() == self.description.strip() else self.message


@dataclass(slots=True)
class Timings:
    """Where the wall time of a run went (seconds)."""

    record_seconds: float = 0.0
    server_start_seconds: float = 0.0
    """Wall time until the policy server answered (overlaps the recording)."""
    analyze_calls: int = 0
    analyze_seconds: float = 0.0
    """Total of all ``Analyze`` calls, each from request to reply (they overlap the recording,
    so this is not time the run waited: see ``analyze_wait_seconds``)."""
    analyze_wait_seconds: float = 0.0
    """Time the run waited for ``Analyze`` replies after the recording ended."""
    analyze_stack_seconds: float = 0.0
    total_seconds: float = 0.0

    @property
    def ms_per_analyze(self) -> float:
        """Mean milliseconds per ``Analyze`` call."""
        return 1000.0 * self.analyze_seconds / self.analyze_calls if self.analyze_calls else 0.0


@dataclass(slots=True)
class PreflightResult:
    """Everything one run found."""

    recording: Recording
    findings: list[Finding]
    policies: list[PolicyMeta]
    critical_path: CriticalPath
    policy_pack: Path
    policy_config_file: Path | None
    """The policy config used, or None when there was none (the pack's defaults apply)."""
    policy_config: dict[str, Any]
    timings: Timings = field(default_factory=Timings)
    scrub: Scrubber = field(default_factory=Scrubber)
    """Replaces the recording's secret plaintexts in free text (see ``preflight.redaction``)."""
    diff: PlanDiff | None = None
    """The plan compared with the ``--against`` baseline, when one was given."""
    cost: Any = None
    """The monthly cost estimate (``preflight.cost.CostReport``), or None."""

    @property
    def advisories(self) -> list[str]:
        """Account settings the plan needs and does not manage (``preflight.advisories``)."""
        return advisories(self.recording.resources)

    @property
    def mandatory(self) -> list[Finding]:
        """Violations of mandatory policies: any of them blocks the preview."""
        return [f for f in self.findings if f.enforcement_level == "mandatory"]

    @property
    def blocked(self) -> bool:
        """True when the preview must not go ahead: a mandatory violation, or (with a
        baseline) an unapproved replacement or deletion of a stateful resource."""
        return bool(self.mandatory) or bool(self.diff is not None and self.diff.blocking)


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``["a.b=1", "c=x=y"]`` -> ``{"a.b": "1", "c": "x=y"}``; a pair without ``=`` is an error."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise PreflightConfigError(
                f"--set {pair!r}: expected key=value, e.g. primaryRegion=us-west-2"
            )
        overrides[key.strip()] = value
    return overrides


def default_policy_config(stack: str, root: Path) -> Path:
    """``stacks/policy-config.<stack>.json`` under ``root``."""
    return root / "stacks" / f"policy-config.{stack}.json"


def load_policy_config(
    path: Path | None, stack: str, root: Path
) -> tuple[Path | None, dict[str, Any]]:
    """The policy config to send the pack. An explicit file must exist; the default may not."""
    if path is None:
        path = default_policy_config(stack, root)
        if not path.is_file():
            return None, {}
    elif not path.is_file():
        raise PreflightConfigError(f"--policy-config {path}: no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PreflightConfigError(f"policy config {path}: invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PreflightConfigError(
            f"policy config {path}: expected a JSON object, got {type(data).__name__}"
        )
    _check_levels(path, data)
    return path, data


def _check_levels(path: Path, data: Mapping[str, Any]) -> None:
    """Reject an unknown enforcement level before anything starts (the pack checks the rest:
    policy names, properties and their types)."""
    for key, entry in data.items():
        level = entry.get("enforcementLevel") if isinstance(entry, Mapping) else entry
        if level is not None and (not isinstance(level, str) or level not in LEVELS):
            raise PreflightConfigError(
                f"policy config {path}: {key!r} has enforcement level {level!r};"
                f" allowed: {', '.join(LEVELS)}"
            )


def config_error_message(exc: BaseException) -> str | None:
    """The message to show when ``exc`` is (or was caused by) a configuration error.

    Those are ``PreflightConfigError`` and the settings loader's ``ConfigError`` (which
    ``preflight.config`` raises too); their messages name the key, the value and what is allowed.
    """
    from components.settings import ConfigError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, PreflightConfigError | ConfigError | BaselineError):
            return str(current)
        current = current.__cause__ or current.__context__
    return None


def _default_recorder(on_record: OnRecord, config: Any) -> Recorder:
    """``preflight.recorder`` on the stack config ``_check_config`` already read."""
    from preflight.recorder import record

    def record_checked(stack: str, overrides: Mapping[str, str] | None, root: Path) -> Recording:
        return record(config, root, on_record)

    return record_checked


def _check_config(stack: str, overrides: Mapping[str, str] | None, root: Path) -> Any:
    """Read and validate the stack config the way the recorder will, raising its
    ``ConfigError``; returns the ``preflight.config.StackConfig`` for the recorder.

    Cheap (YAML and the settings loader), so bad config exits at once instead of after the
    policy server has started.
    """
    from components.settings import load_settings
    from preflight.config import load_stack_config

    pairs = [f"{key}={value}" for key, value in (overrides or {}).items()]
    config = load_stack_config(stack, root, pairs)
    load_settings(config.project_values())
    return config


def _default_server(pack_dir: Path) -> PolicyServerLike:
    from preflight.analyzer import PolicyServer

    server: PolicyServerLike = PolicyServer(pack_dir)
    return server


class _Analysis:
    """``Analyze`` calls issued as resources are recorded, read back in recording order.

    Resources recorded before the pack is configured wait in ``pending``; a client without
    ``analyze_async`` (a stand-in) is called synchronously once the recording is done.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: Any = None
        self._pending: list[RecordedResource] = []
        self._calls: dict[str, Any] = {}

    def offer(self, resource: RecordedResource) -> None:
        """A resource was just registered: analyze it now, or as soon as the pack is ready."""
        with self._lock:
            if self._client is None:
                self._pending.append(resource)
            else:
                self._submit(resource)

    def ready(self, client: Any) -> None:
        """The pack is configured: send everything recorded so far."""
        with self._lock:
            self._client = client
            for resource in self._pending:
                self._submit(resource)
            self._pending.clear()

    def _submit(self, resource: RecordedResource) -> None:
        analyze_async = getattr(self._client, "analyze_async", None)
        if callable(analyze_async) and resource.urn not in self._calls:
            self._calls[resource.urn] = analyze_async(resource)

    def results(self, resources: Sequence[RecordedResource]) -> list[DiagnosticLike]:
        """Every resource's diagnostics, in the order of ``resources``."""
        with self._lock:
            for resource in resources:
                self._submit(resource)
        found: list[DiagnosticLike] = []
        for resource in resources:
            call = self._calls.get(resource.urn)
            found.extend(call.result() if call is not None else self._client.analyze(resource))
        return found


def run_preflight(
    stack: str,
    *,
    overrides: Mapping[str, str] | None = None,
    root: Path = REPO,
    policy_pack: Path | None = None,
    policy_config: Path | None = None,
    against: Path | None = None,
    allow_replace: Collection[str] = (),
    recorder: Recorder | None = None,
    server_factory: ServerFactory | None = None,
    while_analyzing: Callable[[], object] | None = None,
) -> PreflightResult:
    """Record ``stack``, run the policy pack over it, plan the deploy, and (with ``against``,
    a baseline an earlier ``--json`` run wrote) diff the plan; ``allow_replace`` names the
    resources (URN or logical name) a reviewer approved for replacement or deletion.
    ``while_analyzing`` runs while the pack works on ``AnalyzeStack`` (the CLI imports its
    writers there).

    ``recorder`` and ``server_factory`` default to ``preflight.recorder.record_stack`` and
    ``preflight.analyzer.PolicyServer``. Raises ``PreflightConfigError`` for bad preflight
    options and lets the settings loader's ``ConfigError`` and ``BaselineError`` through
    (``config_error_message`` recognises all three).
    """
    started = time.perf_counter()
    make_server = server_factory or _default_server
    timings = Timings()
    pack_dir = policy_pack if policy_pack is not None else root / "policies"
    if not pack_dir.is_dir():
        raise PreflightConfigError(f"--policy-pack {pack_dir}: no such directory")
    config_file, config = load_policy_config(policy_config, stack, root)
    if allow_replace and against is None:
        raise PreflightConfigError(
            f"--allow-replace {', '.join(allow_replace)}: needs --against (without a baseline"
            " nothing is replaced or deleted)"
        )
    baseline = load_baseline(against, stack=stack) if against is not None else None
    stack_config = _check_config(stack, overrides, root) if recorder is None else None
    from preflight.cost import prepare as prepare_cost  # usage file and gate config (exit 2)

    cost_plan = prepare_cost(stack, root, config_file, config)
    analysis = _Analysis()
    record = recorder or _default_recorder(analysis.offer, stack_config)

    servers: list[PolicyServerLike] = []

    def start_server() -> tuple[PolicyServerLike, Any, list[PolicyMeta]]:
        t0 = time.perf_counter()
        server = make_server(pack_dir)
        client = server.__enter__()
        servers.append(server)
        timings.server_start_seconds = time.perf_counter() - t0
        policies = [_policy_meta(info) for info in client.info()]
        try:
            client.configure(config)
        except ValueError as exc:  # the pack's schema rejects the policy config
            where = config_file or "policy config"
            raise PreflightConfigError(f"{where}: {exc}") from exc
        analysis.ready(client)
        return server, client, policies

    # Import what both threads need here, in this thread: two threads importing the same
    # modules at once can deadlock on the module locks (seen: pulumi.runtime.proto).
    import preflight.analyzer
    import preflight.recorder  # noqa: F401

    with ExitStack() as cleanup, ThreadPoolExecutor(max_workers=1) as pool:
        starting = pool.submit(start_server)

        stopping: list[PolicyServerLike] = []
        """Servers already asked to stop after a complete run: reaped in the background."""

        def stop_server_when_started() -> None:
            if starting.cancel():
                return
            starting.exception()  # wait for the start to end, however it ended
            for server in servers:  # empty when it failed to start (it cleaned up itself)
                if server in stopping:  # the pack is exiting; nothing waits for it to finish
                    threading.Thread(
                        target=server.__exit__, args=(None, None, None), daemon=True
                    ).start()
                else:
                    server.__exit__(None, None, None)

        cleanup.callback(stop_server_when_started)

        t0 = time.perf_counter()
        recording = record(stack, overrides, root)
        timings.record_seconds = time.perf_counter() - t0

        server, client, policies = starting.result()
        t0 = time.perf_counter()
        raw = analysis.results(recording.resources)
        timings.analyze_wait_seconds = time.perf_counter() - t0

        # AnalyzeStack goes out now; what does not need its answer is done while the pack works
        t0 = time.perf_counter()
        stack_graph = stack_resources(recording.resources)
        analyze_stack_async = getattr(client, "analyze_stack_async", None)
        stack_call = analyze_stack_async(stack_graph) if callable(analyze_stack_async) else None
        scrub = Scrubber(
            secret_plaintexts(
                [r.inputs for r in recording.resources] + [recording.outputs, recording.config]
            )
        )
        diff = None
        if baseline is not None:
            baseline.check_project(recording.project)
            diff = diff_plans(
                baseline.resources,
                as_written(recording.resources, scrub),
                against=str(against),
                allow=allow_replace,
            )
        # With a baseline, what already exists unchanged takes no time: the path is the changes'.
        same = [c.urn for c in diff.changes if c.op is Op.SAME] if diff is not None else []
        path = critical_path(recording, existing=frozenset(same))
        cost = cost_plan.estimate(recording)
        if baseline is not None:
            cost.compare_with(baseline.cost, str(against))
        if while_analyzing is not None:
            while_analyzing()
        raw.extend(
            stack_call.result() if stack_call is not None else client.analyze_stack(stack_graph)
        )
        stats = getattr(server, "stats", None)
        timings.analyze_stack_seconds = float(
            getattr(stats, "analyze_stack_seconds", time.perf_counter() - t0)
        )
        timings.analyze_calls = int(getattr(stats, "analyze_calls", len(recording.resources)))
        timings.analyze_seconds = float(getattr(stats, "analyze_seconds", 0.0))
        stop = getattr(server, "stop", None)
        if callable(stop):  # the pack shuts down while the rest of the run is computed
            stop()
            stopping.append(server)

        remediation = {p.name: p.remediation for p in policies}
        findings = [_finding(d, remediation, scrub) for d in raw]
        findings = [f for f in findings if f.enforcement_level != "disabled"]
        findings.sort(key=lambda f: (LEVELS.index(f.enforcement_level), f.policy_name, f.urn))

    result = PreflightResult(
        recording=recording,
        findings=findings,
        policies=policies,
        critical_path=path,
        policy_pack=pack_dir,
        policy_config_file=config_file,
        policy_config=config,
        timings=timings,
        scrub=scrub,
        diff=diff,
        cost=cost,
    )
    timings.total_seconds = time.perf_counter() - started
    return result


def stack_resources(resources: Sequence[RecordedResource]) -> list[RecordedResource]:
    """The resources as the engine sends them to ``AnalyzeStack``: with their outputs (inputs
    plus computed values) as properties, where ``Analyze`` sees the inputs."""
    return [replace(r, inputs=r.outputs) if r.outputs else r for r in resources]


def normalize_level(level: Any) -> str:
    """An enforcement level as one of ``LEVELS`` (accepts names, enum names and numbers)."""
    if isinstance(level, int) and not isinstance(level, bool):
        return _LEVEL_NUMBERS.get(level, "advisory")
    text = str(getattr(level, "value", level)).strip().lower()
    text = text.rsplit(".", 1)[-1]
    return text if text in LEVELS else "advisory"


def _policy_meta(info: Any) -> PolicyMeta:
    remediation = (
        getattr(info, "remediation", "")
        or getattr(info, "remediation_steps", "")
        or getattr(info, "message", "")
    )
    level = getattr(info, "enforcement_level", getattr(info, "enforcementLevel", "advisory"))
    return PolicyMeta(
        name=str(getattr(info, "name", "")),
        description=str(getattr(info, "description", "")),
        remediation=str(remediation),
        enforcement_level=normalize_level(level),
    )


def _finding(d: DiagnosticLike, remediation: Mapping[str, str], scrub: Scrubber) -> Finding:
    return Finding(
        policy_name=d.policy_name,
        policy_pack_name=d.policy_pack_name,
        description=scrub(d.description),
        message=scrub(d.message),
        enforcement_level=normalize_level(d.enforcement_level),
        urn=d.urn or "",
        remediation=scrub(remediation.get(d.policy_name, "")),
    )


__all__ = [
    "LEVELS",
    "REPO",
    "Finding",
    "PolicyMeta",
    "PreflightConfigError",
    "PreflightResult",
    "Timings",
    "config_error_message",
    "load_policy_config",
    "parse_overrides",
    "run_preflight",
    "stack_resources",
]
