"""Serve a policy pack the way the Pulumi engine does, and talk to it over the Analyzer protocol.

The engine starts a Python pack as ``python -u -m pulumi.policy <engine-address> <pack-dir>``;
the pack prints the port of its Analyzer gRPC server on stdout and may log back to the engine's
``Engine`` service. :class:`PolicyServer` plays the engine: it runs a small ``Engine`` service
that records log messages, starts the pack, reads the port, and offers ``GetAnalyzerInfo``,
``Configure`` (reconciling a stack's policy-config file with the schema defaults as the CLI
does), ``Analyze`` and ``AnalyzeStack``. Using the real protocol (rather than importing the
rules) means preflight exercises exactly what ``pulumi preview --policy-pack`` would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2, engine_pb2_grpc

from preflight.model import RecordedResource

LEVELS: Final = ("advisory", "mandatory", "remediate", "disabled")
LIFELINE_ENV: Final = "SECURECART_POLICY_STDIN_LIFELINE"
"""policies/_parent_watch.py's opt-in (the pack imports nothing of preflight's, so it is spelled
twice; a test holds the two equal)."""
START_TIMEOUT_SECONDS: Final = 60.0
CALL_TIMEOUT_SECONDS: Final = 60.0
_MAX_MESSAGE: Final = 400 * 1024 * 1024
_CHANNEL_OPTIONS: Final = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
]


class PolicyServerError(RuntimeError):
    """The pack did not start, or rejected a call; the message carries its stderr."""


class PolicyConfigError(ValueError):
    """A policy-config file names an unknown policy, property, level or a value of the wrong type."""


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    """One policy of the pack, as ``GetAnalyzerInfo`` describes it."""

    name: str
    description: str
    enforcement_level: str
    severity: str
    policy_type: str
    """"resource" or "stack"."""
    remediation_steps: str
    config_schema: dict[str, Any] = field(default_factory=dict)
    """Property name -> JSON schema (with ``default``)."""
    tags: tuple[str, ...] = ()

    @property
    def remediation(self) -> str:
        """Alias used by preflight's report."""
        return self.remediation_steps


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One violation reported by the pack."""

    policy_name: str
    policy_pack_name: str
    description: str
    message: str
    enforcement_level: str
    urn: str
    """The violating resource; "" for a stack-wide violation."""
    severity: str = ""


@dataclass(slots=True)
class CallStats:
    """Wall time spent in each Analyzer call (what the benchmark reports)."""

    analyze_calls: int = 0
    analyze_seconds: float = 0.0
    analyze_stack_calls: int = 0
    analyze_stack_seconds: float = 0.0
    start_seconds: float = 0.0

    @property
    def ms_per_analyze(self) -> float:
        """Mean milliseconds per ``Analyze`` round trip."""
        return 1000.0 * self.analyze_seconds / self.analyze_calls if self.analyze_calls else 0.0


class PendingAnalysis:
    """An ``Analyze`` (or, with ``stack``, ``AnalyzeStack``) call in flight (see
    :meth:`PolicyServer.analyze_async`)."""

    def __init__(
        self, server: PolicyServer, urn: str, future: Any, sent: float, *, stack: bool = False
    ) -> None:
        self._server = server
        self._urn = urn
        self._future = future
        self._sent = sent
        self._stack = stack
        self._seconds: float | None = None
        future.add_done_callback(self._done)

    def _done(self, _future: Any) -> None:
        self._seconds = time.perf_counter() - self._sent

    def result(self) -> list[Diagnostic]:
        """The diagnostics, waiting for the reply if it has not come yet."""
        method = "AnalyzeStack" if self._stack else "Analyze"
        try:
            reply = self._future.result()
        except grpc.RpcError as exc:
            raise PolicyServerError(
                f"{method} failed: {exc}\n{self._server.stderr_text()}"
            ) from exc
        seconds = self._seconds if self._seconds is not None else time.perf_counter() - self._sent
        stats = self._server.stats
        if self._stack:
            stats.analyze_stack_calls += 1
            stats.analyze_stack_seconds += seconds
        else:
            stats.analyze_calls += 1
            stats.analyze_seconds += seconds
        return [self._server.diagnostic(d, default_urn=self._urn) for d in reply.diagnostics]


class _FakeEngine(engine_pb2_grpc.EngineServicer):
    """The engine's ``Engine`` service, reduced to what a policy pack calls: logging."""

    def __init__(self) -> None:
        self.logs: list[tuple[str, str, str]] = []
        self._root = ""

    def Log(self, request: engine_pb2.LogRequest, context: Any) -> empty_pb2.Empty:  # noqa: N802
        severity = engine_pb2.LogSeverity.Name(request.severity).lower()
        self.logs.append((severity, request.message, request.urn))
        return empty_pb2.Empty()

    def GetRootResource(  # noqa: N802
        self, request: engine_pb2.GetRootResourceRequest, context: Any
    ) -> engine_pb2.GetRootResourceResponse:
        return engine_pb2.GetRootResourceResponse(urn=self._root)

    def SetRootResource(  # noqa: N802
        self, request: engine_pb2.SetRootResourceRequest, context: Any
    ) -> engine_pb2.SetRootResourceResponse:
        self._root = request.urn
        return engine_pb2.SetRootResourceResponse()


def _json_value(value: Any) -> Any:
    """Inputs as a protobuf ``Struct`` accepts them (secret/unknown markers are plain JSON)."""
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(_json_value(values))
    return struct


def _provider_urn(reference: str | None) -> str | None:
    """URN of a provider reference ``<urn>::<id>`` (URNs contain ``::`` themselves)."""
    if not reference:
        return None
    return reference.rsplit("::", 1)[0] if reference.count("::") > 3 else reference


def _drain(stream: IO[bytes]) -> None:
    """Read a pipe until the process closes it (or we do), so the child never blocks on it."""
    try:
        while stream.readline():
            pass
    except (OSError, ValueError):
        return


def _level_name(value: int) -> str:
    name: str = analyzer_pb2.EnforcementLevel.Name(value)
    return name.lower()


def _severity_name(value: int) -> str:
    name: str = analyzer_pb2.PolicySeverity.Name(value)
    return "" if name.endswith("UNSPECIFIED") else name.removeprefix("POLICY_SEVERITY_").lower()


_SCHEMA_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "string": (str,),
    "integer": (int, float),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _check_value(where: str, value: Any, schema: Mapping[str, Any]) -> None:
    """The JSON-schema checks the CLI applies to a policy config value (type, enum, minimum,
    maximum, array items, object values), with an error naming the value and what is allowed."""
    kind = str(schema.get("type"))
    expected = _SCHEMA_TYPES.get(kind, (object,))
    if (isinstance(value, bool) and bool not in expected) or not isinstance(value, expected):
        raise PolicyConfigError(f"{where}={value!r} is not of type {kind}")
    if kind == "integer" and isinstance(value, float) and not value.is_integer():
        raise PolicyConfigError(f"{where}={value!r} is not of type integer")
    allowed = schema.get("enum")
    if isinstance(allowed, list) and value not in allowed:
        raise PolicyConfigError(f"{where}={value!r}; allowed: {allowed}")
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(low, int | float) and isinstance(value, int | float) and value < low:
        raise PolicyConfigError(f"{where}={value!r} is below the minimum {low:g}")
    if isinstance(high, int | float) and isinstance(value, int | float) and value > high:
        raise PolicyConfigError(f"{where}={value!r} is above the maximum {high:g}")
    items = schema.get("items")
    if isinstance(items, Mapping) and isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(f"{where}[{index}]", item, items)
    values = schema.get("additionalProperties")
    if isinstance(values, Mapping) and isinstance(value, Mapping):
        for name, item in value.items():
            _check_value(f"{where}.{name}", item, values)


def reconcile_config(
    policies: Sequence[PolicyInfo], config: Mapping[str, Any]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per policy, the enforcement level and properties the engine would send ``Configure``.

    Like the CLI: schema defaults first, then ``all``, then each policy's own entry (a level
    string, or an object with ``enforcementLevel`` and properties). Unknown names, levels,
    properties and mistyped values raise :class:`PolicyConfigError` naming them.
    """
    known = {p.name: p for p in policies}
    result = {
        p.name: (
            p.enforcement_level,
            {k: s["default"] for k, s in p.config_schema.items() if "default" in s},
        )
        for p in policies
    }

    def level_of(key: str, value: Any) -> str:
        if value not in LEVELS:
            raise PolicyConfigError(
                f"policy config {key!r}: enforcement level {value!r} is not one of {LEVELS}"
            )
        return str(value)

    if "all" in config:
        entry = config["all"]
        level = entry.get("enforcementLevel") if isinstance(entry, Mapping) else entry
        if level is not None:
            level = level_of("all", level)
            result = {name: (level, props) for name, (_old, props) in result.items()}
    for key, entry in config.items():
        if key == "all":
            continue
        if key not in known:
            raise PolicyConfigError(
                f"policy config names {key!r}, which is not a policy of the pack"
            )
        level, props = result[key]
        if isinstance(entry, str):
            result[key] = (level_of(key, entry), props)
            continue
        if not isinstance(entry, Mapping):
            raise PolicyConfigError(
                f"policy config {key!r}: expected a level or an object, got {entry!r}"
            )
        props = dict(props)
        schema = known[key].config_schema
        for prop, value in entry.items():
            if prop == "enforcementLevel":
                level = level_of(key, value)
                continue
            if prop not in schema:
                raise PolicyConfigError(
                    f"policy config {key!r}: unknown property {prop!r} (allowed: {sorted(schema)})"
                )
            _check_value(f"policy config {key!r}: {prop}", value, schema[prop])
            props[prop] = value
        result[key] = (level, props)
    return result


class PolicyServer:
    """A policy pack served as the engine serves it; use as a context manager."""

    def __init__(self, pack_dir: Path, *, python: str | None = None) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.python = python or sys.executable
        self.stats = CallStats()
        self.engine = _FakeEngine()
        self._known: dict[str, RecordedResource] = {}
        self._provider_messages: dict[
            str, tuple[RecordedResource, analyzer_pb2.AnalyzerProviderResource]
        ] = {}
        """Provider URN -> (the provider, its message): built once, not once per resource."""
        self._policies: list[PolicyInfo] | None = None
        self._engine_server: Any = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = False
        self._stderr: IO[bytes] | None = None
        self._channel: Any = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self.pack_name = ""

    # --- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> PolicyServer:
        started = time.perf_counter()
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        self.stats.start_seconds = time.perf_counter() - started
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self) -> None:
        self._engine_server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, self._engine_server)
        engine_port = self._engine_server.add_insecure_port("127.0.0.1:0")
        self._engine_server.start()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self._process = subprocess.Popen(
            [
                self.python,
                "-u",
                "-m",
                "pulumi.policy",
                f"127.0.0.1:{engine_port}",
                str(self.pack_dir),
            ],
            cwd=self.pack_dir,
            # The pack's lifeline (policies/_parent_watch.py): a pipe nobody writes to, closed
            # by the kernel when this process ends, however it ends; the pack stops at its EOF.
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1", LIFELINE_ENV: "1"},
        )
        port = self._read_port()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_CHANNEL_OPTIONS)
        grpc.channel_ready_future(self._channel).result(timeout=START_TIMEOUT_SECONDS)
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)

    def _read_port(self) -> int:
        """The first stdout line is the port; later output is drained so the pack never blocks."""
        process = self._process
        assert process is not None and process.stdout is not None
        stdout = process.stdout
        box: list[bytes] = []
        reader = threading.Thread(target=lambda: box.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_SECONDS)
        line = box[0].strip() if box else b""
        if not line.isdigit():
            process.poll()
            raise PolicyServerError(
                f"policy pack {self.pack_dir} did not print a port "
                f"(exit code {process.returncode}, stdout {line!r}):\n{self.stderr_text()}"
            )
        threading.Thread(target=_drain, args=(stdout,), daemon=True).start()
        return int(line)

    def stderr_text(self) -> str:
        """What the pack wrote to stderr so far."""
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self) -> None:
        """Ask the pack to stop (SIGINT, as the engine does) without waiting for it to exit.

        :meth:`close` (or leaving the ``with`` block) waits for it; in between the caller can
        go on with its own work while the pack shuts down.
        """
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        process = self._process
        if process is not None and not self._stopping and process.poll() is None:
            process.send_signal(signal.SIGINT)
            self._stopping = True

    def close(self) -> None:
        """Stop the pack (SIGINT, then kill after 5 s) and the engine service, and wait."""
        self.stop()
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process is not None:
            for stream in (process.stdout, process.stdin):
                if stream is not None:
                    stream.close()
        if self._engine_server is not None:
            self._engine_server.stop(0)
            self._engine_server = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        """The Analyzer client (only inside the ``with`` block)."""
        if self._stub is None:
            raise PolicyServerError(
                "the policy server is not running (use it as a context manager)"
            )
        return self._stub

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            raise PolicyServerError(f"{method} failed: {exc}\n{self.stderr_text()}") from exc

    # --- the Analyzer protocol -------------------------------------------------------------------

    def info(self) -> list[PolicyInfo]:
        """``GetAnalyzerInfo``: the pack's policies with levels, severities and config schemas."""
        reply = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        self.pack_name = reply.name
        self._policies = [
            PolicyInfo(
                name=p.name,
                description=p.description,
                enforcement_level=_level_name(p.enforcementLevel),
                severity=_severity_name(p.severity),
                policy_type=analyzer_pb2.PolicyType.Name(p.policy_type)
                .removeprefix("POLICY_TYPE_")
                .lower(),
                remediation_steps=p.remediation_steps,
                config_schema=json_format.MessageToDict(p.configSchema.properties),
                tags=tuple(p.tags),
            )
            for p in reply.policies
        ]
        return list(self._policies)

    def configure(self, config: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
        """``Configure`` with a policy-config document (``stacks/policy-config.<stack>.json``).

        Returns the reconciled per-policy (level, properties) that was sent.
        """
        policies = self._policies if self._policies is not None else self.info()
        reconciled = reconcile_config(policies, config)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, props) in reconciled.items():
            entry = request.policyConfig[name]
            entry.enforcementLevel = analyzer_pb2.EnforcementLevel.Value(level.upper())
            entry.properties.update(_json_value(props))
        self._call("Configure", request)
        return reconciled

    def configure_file(self, path: Path) -> dict[str, tuple[str, dict[str, Any]]]:
        """``Configure`` from a policy-config JSON file."""
        return self.configure(json.loads(Path(path).read_text()))

    def remember(self, resources: Iterable[RecordedResource]) -> None:
        """Make resources (providers, above all) known, so later calls can send their inputs."""
        for resource in resources:
            self._known[resource.urn] = resource

    def _provider_message(
        self, resource: RecordedResource
    ) -> analyzer_pb2.AnalyzerProviderResource | None:
        urn = _provider_urn(resource.provider)
        provider = self._known.get(urn) if urn else None
        if provider is None:
            return None
        cached = self._provider_messages.get(provider.urn)
        if cached is not None and cached[0] is provider:
            return cached[1]
        message = analyzer_pb2.AnalyzerProviderResource(
            type=provider.type,
            properties=_struct(provider.inputs),
            urn=provider.urn,
            name=provider.name,
        )
        self._provider_messages[provider.urn] = (provider, message)
        return message

    @staticmethod
    def _options(resource: RecordedResource) -> analyzer_pb2.AnalyzerResourceOptions:
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=getattr(resource, "protect", False),
            ignoreChanges=list(getattr(resource, "ignore_changes", ())),
            parent=resource.parent or "",
        )

    def _analyze_request(
        self, resource: RecordedResource, provider: RecordedResource | None
    ) -> analyzer_pb2.AnalyzeRequest:
        self.remember([resource] if provider is None else [provider, resource])
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type,
            properties=_struct(resource.inputs),
            urn=resource.urn,
            name=resource.name,
            options=self._options(resource),
        )
        provider_message = self._provider_message(resource)
        if provider_message is not None:
            request.provider.CopyFrom(provider_message)
        return request

    def analyze(
        self, resource: RecordedResource, provider: RecordedResource | None = None
    ) -> list[Diagnostic]:
        """``Analyze`` one resource; its provider's inputs are sent when known (or given)."""
        request = self._analyze_request(resource, provider)
        started = time.perf_counter()
        reply = self._call("Analyze", request)
        self.stats.analyze_seconds += time.perf_counter() - started
        self.stats.analyze_calls += 1
        return [self.diagnostic(d, default_urn=resource.urn) for d in reply.diagnostics]

    def analyze_async(
        self, resource: RecordedResource, provider: RecordedResource | None = None
    ) -> PendingAnalysis:
        """``Analyze`` without waiting: the request goes out now, the reply is read later.

        This is how the engine analyzes a preview: each resource as it is registered, while
        the program goes on. The pack serves calls on its own thread pool.
        """
        request = self._analyze_request(resource, provider)
        try:
            future = self.stub.Analyze.future(request, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            raise PolicyServerError(f"Analyze failed: {exc}\n{self.stderr_text()}") from exc
        return PendingAnalysis(self, resource.urn, future, time.perf_counter())

    def analyze_stack(self, resources: Sequence[RecordedResource]) -> list[Diagnostic]:
        """``AnalyzeStack`` over the whole graph (parents, dependencies, property dependencies)."""
        request = self._analyze_stack_request(resources)
        started = time.perf_counter()
        reply = self._call("AnalyzeStack", request)
        self.stats.analyze_stack_seconds += time.perf_counter() - started
        self.stats.analyze_stack_calls += 1
        return [self.diagnostic(d, default_urn="") for d in reply.diagnostics]

    def analyze_stack_async(self, resources: Sequence[RecordedResource]) -> PendingAnalysis:
        """``AnalyzeStack`` without waiting: the caller works while the pack does."""
        request = self._analyze_stack_request(resources)
        try:
            future = self.stub.AnalyzeStack.future(request, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            raise PolicyServerError(f"AnalyzeStack failed: {exc}\n{self.stderr_text()}") from exc
        return PendingAnalysis(self, "", future, time.perf_counter(), stack=True)

    def _analyze_stack_request(
        self, resources: Sequence[RecordedResource]
    ) -> analyzer_pb2.AnalyzeStackRequest:
        self.remember(resources)
        request = analyzer_pb2.AnalyzeStackRequest()
        for resource in resources:
            message = request.resources.add(
                type=resource.type,
                properties=_struct(resource.inputs),
                urn=resource.urn,
                name=resource.name,
                options=self._options(resource),
                parent=resource.parent or "",
                dependencies=list(resource.dependencies),
            )
            for key, urns in resource.property_dependencies.items():
                message.propertyDependencies[key].urns.extend(urns)
            provider_message = self._provider_message(resource)
            if provider_message is not None:
                message.provider.CopyFrom(provider_message)
        return request

    @staticmethod
    def diagnostic(raw: analyzer_pb2.AnalyzeDiagnostic, *, default_urn: str) -> Diagnostic:
        """A ``Diagnostic`` from the wire form (``default_urn`` when the pack named none)."""
        return Diagnostic(
            policy_name=raw.policyName,
            policy_pack_name=raw.policyPackName,
            description=raw.description,
            message=raw.message,
            enforcement_level=_level_name(raw.enforcementLevel),
            urn=raw.urn or default_urn,
            severity=_severity_name(raw.severity),
        )
