"""``python -m drills serve``: the sandbox's emulator as a standing local service.

One process holds the emulator (moto's server plus emulator, seeded from the stack's
plan exactly as the sandbox seeds it), the stack's Pulumi stand-in and the cache data plane.
Drill processes reach it the way they reach AWS: boto3 through ``--endpoint-url`` (which the
CLI turns into ``AWS_ENDPOINT_URL``); what AWS has no API for is served under ``/_drills/`` on
the same port:

- ``POST /_drills/pulumi``: one ``pulumi`` invocation answered by the stand-in (arguments,
  working directory, environment in; stdout, stderr, exit code out). Engine events go where
  the SDK listens (its gRPC ``tcp://`` address or event-log file), both on this machine.
- ``POST /_drills/cache``: what DNS would resolve a cache endpoint to (the local RESP port),
  or the timeout a client would see when its region is down.
- ``POST /_drills/faults``: the emulator's fault gates and regions, for tests and rehearsals
  (``hold``/``release`` an operation, ``down``/``up`` a region, ``clear``).
- ``POST /_drills/probe``: what the stack's in-VPC probe function answers in a region
  (``lambda:InvokeFunction`` on AWS), run against the real region pair.
- ``GET /_drills/info``: stack, project, lease table, and the application path (the region
  pair's DNS server and CA) when the real region pair serves, so that a drill's probes resolve
  the names applications use and verify TLS, as in the sandbox.

The first line on stdout is ``endpoint=http://127.0.0.1:PORT`` (flushed); SIGINT or SIGTERM
stop the service cleanly (listeners closed, exit 0).
"""

from __future__ import annotations

import json
import re
import signal
import socket
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from pulumi.automation import PulumiCommand
from pulumi.automation._cmd import CommandResult, OnOutput
from pulumi.automation.errors import CommandError, create_command_error
from semver import VersionInfo
from werkzeug.serving import make_server

from emulator import EmulatorTimings
from emulator.faults import FaultMiddleware
from emulator.server import _FaultableMotoServer, _QuietHandler

from .errors import DrillConfigError
from .sandbox import SANDBOX_TIMINGS, Sandbox
from .standin import StandInPulumiCommand

CONTROL = "/_drills/"
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ServeControl:
    """The ``/_drills/`` routes, answered from the serving process's sandbox."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.command: StandInPulumiCommand | None = None

    def handle(self, method: str, route: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON answer) of one control request."""
        box = self.box
        if route == "info" and method == "GET":
            pair = box.emulator.data_plane
            return 200, {
                "stack": box.stack,
                "project": box.project,
                "lease": box.lease.to_json() if box.lease else None,
                "application_path": pair.client_settings() if pair is not None else None,
            }
        if route == "probe" and method == "POST":
            invoke = box.probe_invoker()
            if invoke is None:
                return 404, {"error": "no region pair serves: nothing to probe"}
            return 200, invoke(str(body.get("region", "")), dict(body.get("event") or {}))
        if route == "pulumi" and method == "POST":
            return 200, self._pulumi(body)
        if route == "cache" and method == "POST":
            return 200, self._cache(str(body.get("host", "")))
        if route == "faults" and method == "POST":
            return self._faults(body)
        return 404, {"error": f"no route {method} {CONTROL}{route}"}

    def _pulumi(self, body: Mapping[str, Any]) -> dict[str, Any]:
        if self.command is None:
            assert self.box.backend is not None
            self.command = StandInPulumiCommand(self.box.backend)
        out: list[str] = []
        err: list[str] = []
        try:
            self.command.run(
                [str(a) for a in body.get("args", [])],
                str(body.get("cwd", ".")),
                {str(k): str(v) for k, v in dict(body.get("env", {})).items()},
                on_output=out.append,
                on_error=err.append,
            )
            code = 0
        except CommandError as exc:  # the SDK's error keeps the code only in its text
            found = re.search(r"code: (-?\d+)", str(exc))
            code = int(found.group(1)) if found else 1
        return {"stdout": "\n".join(out), "stderr": "\n".join(err), "code": code}

    def _cache(self, host: str) -> dict[str, Any]:
        plane = self.box.emulator.cache_plane
        group = plane.groups.get(host.rstrip("."))
        if group is None:
            return {"error": "nxdomain", "message": f"{host}: name does not resolve"}
        if self.box.emulator.faults.is_down(group.region):
            return {"error": "timeout", "message": f"{host}: {group.region} is not answering"}
        return {"port": group.port}

    def _faults(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        faults = self.box.emulator.faults
        action = str(body.get("action", ""))
        operation = str(body.get("operation", ""))
        region = str(body.get("region", ""))
        if action == "hold":
            gate = faults.hold(operation)
            return 200, {"operation": operation, "started": gate.started.is_set()}
        if action == "gate":
            found = faults.gates.get(operation)
            started = found is not None and found.started.is_set()
            return 200, {"operation": operation, "started": started}
        if action == "release":
            found = faults.gates.get(operation)
            if found is not None:
                found.release()
            return 200, {"operation": operation, "released": found is not None}
        if action == "down":
            faults.region_down(region, hang=bool(body.get("hang", False)))
            return 200, {"region": region, "down": True}
        if action == "up":
            faults.region_up(region)
            return 200, {"region": region, "down": False}
        if action == "clear":
            faults.clear()
            return 200, {"cleared": True}
        return 400, {"error": f"action {action!r}; allowed: hold, gate, release, down, up, clear"}


class ControlRoutes:
    """WSGI: ``/_drills/...`` to :class:`ServeControl`, everything else to the emulator."""

    def __init__(self, app: WsgiApp, control: ServeControl) -> None:
        self.app = app
        self.control = control

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request."""
        path = str(environ.get("PATH_INFO", ""))
        if not path.startswith(CONTROL):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
            status, answer = self.control.handle(
                str(environ.get("REQUEST_METHOD", "GET")), path[len(CONTROL) :], body
            )
        except Exception as exc:  # answered, so the client sees why
            status, answer = 500, {"error": f"{type(exc).__name__}: {exc}"}
        payload = json.dumps(answer).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "Error")
        start_response(
            f"{status} {reason}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]


class _ServeServer(_FaultableMotoServer):
    """The emulator's server with the control routes in front of it."""

    def __init__(self, control: ServeControl, port: int) -> None:
        super().__init__(ip_address="127.0.0.1", port=port, verbose=False)
        self._control = control

    def _server_entry(self) -> None:
        app = FaultMiddleware(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address,
            self._port,
            ControlRoutes(app, self._control),
            True,
            request_handler=_QuietHandler,
        )
        self._server_ready_event.set()
        self._server.serve_forever()


def serve(
    stack: str,
    *,
    root: Path,
    port: int = 0,
    use_recording: bool = True,
    policies: bool = True,
    time_scale: float = 1.0,
    say: Callable[[str], None] = lambda _message: None,
    ready: Callable[[str], None] | None = None,
) -> int:
    """Run the service until SIGINT or SIGTERM (returns the exit status, 0)."""
    if time_scale <= 0:
        raise DrillConfigError("--time-scale", time_scale, "a factor > 0")
    timings: EmulatorTimings = SANDBOX_TIMINGS.scaled(time_scale)
    box = Sandbox(
        stack,
        timings=timings,
        root=root,
        use_recording=use_recording,
        policies=policies,
        progress=say,
    )
    control = ServeControl(box)
    box.emulator._server = _ServeServer(control, port)
    stop = threading.Event()
    received: list[str] = []

    def handler(signum: int, _frame: object) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        box.start()
        for note in box.notes:
            say(note)
        endpoint = box.emulator.endpoint_url
        if ready is not None:
            ready(endpoint)
        while not stop.wait(0.5):
            pass
        say(f"{received[0]}: stopping")
    finally:
        box.stop()
        for sig, old in previous.items():
            signal.signal(sig, old)
    return 0


# -- the client side (drill processes) --------------------------------------------------------


class ServeClient:
    """Talks to the ``/_drills/`` routes of a ``drills serve`` endpoint."""

    def __init__(self, endpoint_url: str, timeout: float = 120.0) -> None:
        self.base = endpoint_url.rstrip("/") + CONTROL.rstrip("/")
        self.timeout = timeout

    def request(self, route: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One control request (GET without a body, POST with one)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.base}/{route}",
            data=data,
            method="POST" if data is not None else "GET",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as answer:
                result: dict[str, Any] = json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise OSError(f"{self.base}/{route}: HTTP {exc.code}: {detail}") from exc
        return result

    def info(self) -> dict[str, Any]:
        """What the service serves (raises OSError when nothing answers there)."""
        return self.request("info")

    def faults(self, action: str, **fields: Any) -> dict[str, Any]:
        """Drive the emulator's faults (``hold``, ``gate``, ``release``, ``down``, ``up``)."""
        return self.request("faults", {"action": action, **fields})

    def application_path(self) -> dict[str, str]:
        """The drill settings (``dns_server``, ``ca_file``) that put the probes on the
        application's path of the region pair the service runs; empty without one."""
        return dict(self.info().get("application_path") or {})

    def invoke_probe(self, region: str, event: dict[str, Any]) -> dict[str, Any]:
        """The in-VPC probe function of ``region``, as the service runs it."""
        return self.request("probe", {"region": region, "event": event})

    def connect(self, host: str, port: int, timeout: float) -> socket.socket:
        """A connection to the cache endpoint ``host`` (what DNS would resolve it to)."""
        answer = self.request("cache", {"host": host})
        if answer.get("error") == "timeout":
            raise TimeoutError(str(answer.get("message")))
        if "port" not in answer:
            raise OSError(str(answer.get("message") or answer))
        return socket.create_connection(("127.0.0.1", int(answer["port"])), timeout=timeout)


class RemotePulumiCommand(PulumiCommand):
    """The ``pulumi`` command of a drill driving ``drills serve``: each invocation is answered
    by the stand-in in the serving process (the SDK's events reach this process directly)."""

    def __init__(self, client: ServeClient, version: str = "3.272.0") -> None:
        # Deliberately not calling PulumiCommand.__init__: it runs `pulumi version`.
        self.command = "pulumi"
        self.version: VersionInfo | None = VersionInfo.parse(version)
        self.client = client

    def run(
        self,
        args: list[str],
        cwd: str,
        additional_env: Mapping[str, str],
        on_output: OnOutput | None = None,
        on_error: OnOutput | None = None,
    ) -> CommandResult:
        """Answer one CLI invocation through the service."""
        answer = self.client.request(
            "pulumi", {"args": list(args), "cwd": cwd, "env": dict(additional_env)}
        )
        result = CommandResult(
            stdout=str(answer.get("stdout", "")),
            stderr=str(answer.get("stderr", "")),
            code=int(answer.get("code", 1)),
        )
        for line in result.stdout.splitlines():
            if on_output:
                on_output(line)
        for line in result.stderr.splitlines():
            if on_error:
                on_error(line)
        if result.code != 0:
            raise create_command_error(result)
        return result


def print_endpoint(endpoint: str) -> None:
    """The first stdout line, flushed at once (a parent process reads it to find the port)."""
    sys.stdout.write(f"endpoint={endpoint}\n")
    sys.stdout.flush()
