"""A killed process leaves no region pair behind (emulator/dataplane/lifeline.py).

A subprocess starts a real region pair and says where it is; the test collects the servers'
pids and ports, kills the subprocess with SIGKILL (nothing of its own cleanup runs), and waits
(bounded, on the processes and the ports, never on a timer alone) until the servers are gone,
their ports refuse connections and their directory is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

from emulator.dataplane.addresses import server_address
from emulator.dataplane.lifeline import servers

REPO = Path(__file__).resolve().parents[2]
BOUND_SECONDS = 60.0
"""Generous bound for each wait on a loaded machine; none of them is a sleep."""

_CHILD = """
import json, sys
from emulator.dataplane import RegionPair
pair = RegionPair().start()
print(json.dumps({"root": str(pair.root), "aurora": pair.aurora.port,
                  "cache": pair.cache.port, "dns": list(pair.dns.address)}), flush=True)
sys.stdin.read()  # until the test kills this process
"""


def _answers(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1.0).close()
    except OSError:
        return False
    return True


def _until(what: str, check: object) -> None:
    assert callable(check)
    deadline = time.monotonic() + BOUND_SECONDS
    while not check():
        assert time.monotonic() < deadline, f"still {what} {BOUND_SECONDS:.0f} s after SIGKILL"
        time.sleep(0.02)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_sigkill_the_pairs_parent_its_servers_stop_and_their_files_go() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    root: Path | None = None
    pids: list[int] = []
    try:
        assert child.stdout is not None
        started = json.loads(child.stdout.readline() or "null")
        assert started is not None, f"the pair did not start (exit {child.wait(BOUND_SECONDS)})"
        root = Path(started["root"])
        pids = [pid for pid, _ in servers(root)]
        # both regions' PostgreSQL postmasters and redis-servers run, and answer
        assert len(pids) == 4
        addresses = [(server_address(i), started[s]) for i in (0, 1) for s in ("aurora", "cache")]
        assert all(_answers(*a) for a in addresses)

        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=BOUND_SECONDS) == -signal.SIGKILL

        for pid in pids:
            _until(f"running: server {pid}", lambda pid=pid: _gone(pid))
        for address in addresses:
            _until(f"answering: {address}", lambda address=address: not _answers(*address))
        _until(f"present: {root}", lambda: not root.exists())
    finally:  # nothing outlives a failed test
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        child.wait(timeout=BOUND_SECONDS)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
