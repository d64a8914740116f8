"""``python -m drills serve`` and drills driving it through the real command line: one
standing emulator per module, several drill processes (each its own ``--state-dir``) against
it, as two operators in two checkouts would be against one AWS account.

No test races: the first drill is held in flight by the emulator's own gate
(``faults.hold("switchover_global_cluster")``, driven through the service's ``/_drills/faults``
route), and the test acts once the service says the call is parked at the gate."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from drills.serve import ServeClient
from drills.stackfile import REPO_ROOT

PRIMARY, SECONDARY = "us-east-1", "us-west-2"
LEASE_TABLE = "securecart-dev-drill-lease"
WAIT = 300.0
"""Upper bound for a subprocess on a loaded machine (never a timing assumption: the tests wait
for a state, and fail only when that state never comes)."""

pytestmark = pytest.mark.timeout(900)  # several Python processes each; a loaded CI machine


def _env(tmp: Path) -> dict[str, str]:
    """The subprocesses' environment: no pulumi on PATH (the stand-in answers), no endpoint
    variable inherited, a quiet matplotlib cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    # The system's directories stay (the region pair's redis-server and PostgreSQL), less any
    # that holds a pulumi binary.
    kept = [
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and not (Path(d) / "pulumi").exists()
    ]
    env["PATH"] = os.pathsep.join([str(bin_dir), *kept])
    env["MPLCONFIGDIR"] = str(tmp / "mpl")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _drills(*args: str) -> list[str]:
    return [sys.executable, "-m", "drills", *args]


@dataclass
class Service:
    proc: subprocess.Popen[str]
    endpoint: str
    env: dict[str, str]

    @property
    def control(self) -> ServeClient:
        return ServeClient(self.endpoint, timeout=30.0)

    def client(self, service: str, region: str) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def writer_region(self) -> str:
        (gc,) = self.client("rds", PRIMARY).describe_global_clusters()["GlobalClusters"]
        (writer,) = [m["DBClusterArn"] for m in gc["GlobalClusterMembers"] if m["IsWriter"]]
        return str(writer.split(":")[3])

    def lease_item(self) -> dict[str, Any] | None:
        item = (
            self.client("dynamodb", SECONDARY)
            .get_item(TableName=LEASE_TABLE, Key={"stack": {"S": "dev"}}, ConsistentRead=True)
            .get("Item")
        )
        return dict(item) if item else None

    def wait_parked(self, operation: str) -> None:
        deadline = time.monotonic() + WAIT
        while not self.control.faults("gate", operation=operation)["started"]:
            assert time.monotonic() < deadline, f"{operation} never reached its gate"
            time.sleep(0.05)

    def run(self, *args: str, state: Path | None) -> subprocess.CompletedProcess[str]:
        where = ("--state-dir", str(state)) if state is not None else ()
        return subprocess.run(
            _drills(*args, "--endpoint-url", self.endpoint, *where),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=WAIT,
            check=False,
        )

    def start(self, *args: str, state: Path) -> subprocess.Popen[str]:
        return subprocess.Popen(
            _drills(*args, "--endpoint-url", self.endpoint, "--state-dir", str(state)),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def start_service(tmp: Path, data_plane: str = "real") -> Service:
    """``drills serve`` for dev; ``data_plane="model"`` when the test is about the service, not
    the servers (starting the real pair is seconds of initdb and a base backup)."""
    env = {**_env(tmp), "DRILLS_DATA_PLANE": data_plane}
    proc = subprocess.Popen(
        _drills(
            "serve",
            "--stack",
            "dev",
            "--no-recording",
            "--no-policies",
            "--time-scale",
            "0.05",
        ),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if not first:
        raise AssertionError(f"serve exited: {proc.wait()} {proc.stderr and proc.stderr.read()}")
    match = re.fullmatch(r"endpoint=(http://127\.0\.0\.1:\d+)\n", first)
    assert match, first
    return Service(proc, match.group(1), env)


def stop_service(service: Service, sig: signal.Signals) -> tuple[int, str]:
    service.proc.send_signal(sig)
    _, stderr = service.proc.communicate(timeout=WAIT)
    return service.proc.returncode, stderr


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One standing emulator for the module; stopped with SIGINT, which must be clean."""
    running = start_service(tmp_path_factory.mktemp("serve"))
    try:
        yield running
    finally:
        code, stderr = stop_service(running, signal.SIGINT)
        assert code == 0, stderr
        assert "SIGINT: stopping" in stderr and "Traceback" not in stderr


def _only_journal(state: Path) -> dict[str, Any]:
    (path,) = state.glob("*/journal.json")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_two_drills_on_one_stack_from_two_checkouts_exactly_one_runs(
    service: Service, tmp_path: Path
) -> None:
    """Drill A takes the lease and is held in flight at its switchover; drill B, with its own
    state directory (another checkout), refuses at once naming A, A's host and start time;
    B changed nothing; A finishes and releases the lease."""
    service.control.faults("hold", operation="switchover_global_cluster")
    first = service.start(
        "run", "--stack", "dev", "--scenario", "planned-switchover", state=tmp_path / "a"
    )
    try:
        service.wait_parked("switchover_global_cluster")
        holder = _only_journal(tmp_path / "a")
        lease = service.lease_item()
        assert lease is not None and lease["holder"]["S"] == holder["drill_id"]

        second = service.run(
            "run", "--stack", "dev", "--scenario", "planned-switchover", state=tmp_path / "b"
        )
    finally:
        service.control.faults("release", operation="switchover_global_cluster")
        _out, err = first.communicate(timeout=WAIT)

    assert second.returncode == 1, second.stderr
    message = " ".join(second.stderr.split())
    assert "Traceback" not in second.stderr
    assert f"drill {holder['drill_id']} on host {socket.gethostname()}" in message, message
    since = re.search(r"holds stack dev since (\S+Z);", message)
    assert since, message
    started = datetime.strptime(since.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    # the lease was taken after A's journal was created, within A's preconditions' first seconds
    assert 0 <= started.timestamp() - int(holder["created_at"]) < 30
    refused = _only_journal(tmp_path / "b")
    assert refused["status"] == "refused"
    assert all(step["status"] == "pending" for step in refused["steps"])  # B did nothing

    assert first.returncode == 0, err
    ran = _only_journal(tmp_path / "a")
    assert ran["status"] == "succeeded"
    # the probes took the application's path of the served region pair, as in the sandbox:
    # names through its DNS server, TLS verified against its CA, the in-VPC probes run there
    state = ran["state"]
    assert state["measurements"]["switch:aurora"]["path"].startswith("dns "), state
    assert state["measurements"]["switch:aurora"]["path"].endswith("postgresql tls verify-full")
    assert state["measurements"]["switch:cache"]["path"].startswith("dns cache.")
    assert state["data_plane"]["dns"]["server"].startswith("127.")
    assert set(state["app_names"]) == {PRIMARY, SECONDARY}
    assert service.writer_region() == SECONDARY  # moved once, by A
    assert service.lease_item() is None  # released at the end
    nothing = service.run(
        "break-lease", "--stack", "dev", "--drill", holder["drill_id"], state=None
    )
    assert nothing.returncode == 1 and "no drill holds stack dev" in nothing.stderr


def test_sigterm_stops_a_second_service_cleanly(tmp_path: Path) -> None:
    other = start_service(tmp_path, data_plane="model")  # the module's service stops the real pair
    assert other.control.info()["lease"] == {"tableName": LEASE_TABLE, "region": SECONDARY}
    port = int(other.endpoint.rsplit(":", 1)[1])

    code, stderr = stop_service(other, signal.SIGTERM)

    assert code == 0, stderr
    assert "SIGTERM: stopping" in stderr and "Traceback" not in stderr
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def _read_until(stream: Any, text: str) -> str:
    """stderr lines until one containing ``text`` (fails at EOF: the process ended first)."""
    seen = ""
    while text not in " ".join(seen.split()):
        line = stream.readline()
        assert line, f"never said {text!r}: {seen}"
        seen += line
    return seen


def test_github_cancellation_sigint_sigterm_kill_leaves_a_journal_rollback_completes(
    service: Service, tmp_path: Path
) -> None:
    """What GitHub does to a cancelled step (SIGINT, SIGTERM 7.5 s later, then a kill), while
    the drill's switchover is in flight: SIGINT starts the rollback after the call in flight,
    SIGTERM is reported and changes nothing, the kill leaves the journal; `rollback
    --unfinished` (the workflow's last step) completes it and frees the stack."""
    home = service.writer_region()
    service.control.faults("hold", operation="switchover_global_cluster")
    drill = service.start(
        "run", "--stack", "dev", "--scenario", "planned-switchover", state=tmp_path / "a"
    )
    assert drill.stderr is not None
    try:
        service.wait_parked("switchover_global_cluster")
        drill.send_signal(signal.SIGINT)
        _read_until(drill.stderr, "SIGINT: finishing the AWS call in progress, then rolling back")
        drill.send_signal(signal.SIGTERM)
        _read_until(drill.stderr, "SIGTERM: the rollback is running; let it finish")
        assert drill.poll() is None  # the undo waits for the held switchover: still running
        drill.kill()
        drill.wait(timeout=WAIT)
    finally:
        service.control.faults("release", operation="switchover_global_cluster")
        if drill.poll() is None:
            drill.kill()
    left = _only_journal(tmp_path / "a")
    assert left["status"] in {"running", "rolling-back"}
    assert service.lease_item()["holder"]["S"] == left["drill_id"]  # kept: not over

    done = service.run("rollback", "--unfinished", state=tmp_path / "a")

    assert done.returncode == 0, done.stderr
    assert _only_journal(tmp_path / "a")["status"] == "rolled-back"
    assert service.writer_region() == home
    assert service.lease_item() is None
