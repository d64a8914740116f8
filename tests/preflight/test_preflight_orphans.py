"""A killed preflight leaves no policy server behind.

``python -m preflight`` serves the pack in a child process (``python -m pulumi.policy``). Driven
through the real command line: preflight is frozen (SIGSTOP) while its server runs, so the
server is certainly up and not yet asked to stop, then killed. With SIGKILL nothing of
preflight's runs, and the server must stop on its own (its stdin lifeline closes); with SIGTERM
preflight must unwind and stop and reap the server before it exits itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from policies._parent_watch import LIFELINE_ENV as PACK_LIFELINE_ENV
from preflight.analyzer import LIFELINE_ENV

REPO = Path(__file__).resolve().parents[2]
BOUND_SECONDS = 60.0
"""Generous bound for any wait below on a loaded machine; none of them is a sleep."""


def _gone(process: psutil.Process) -> bool:
    """Exited: reaped, or a zombie nobody has reaped yet (it runs nothing any more)."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(process: psutil.Process, timeout: float = BOUND_SECONDS) -> bool:
    """Wait (bounded) for ``process`` to exit; True once it has."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            process.wait(timeout=0.05)  # reaps it when it is our child; polls otherwise
            return True
        except psutil.TimeoutExpired:
            if _gone(process):
                return True
        except psutil.NoSuchProcess:
            return True
    return _gone(process)


def _serving(process: psutil.Process) -> bool:
    """The pack's gRPC server listens (its port is open: it is serving, not starting)."""
    try:
        if "pulumi.policy" not in process.cmdline():
            return False
        return any(c.status == psutil.CONN_LISTEN for c in process.net_connections("tcp"))
    except psutil.NoSuchProcess:
        return False


def _policy_server_of(preflight: subprocess.Popen[bytes]) -> psutil.Process:
    """Poll (bounded, on preflight's own exit) until preflight's policy server is serving."""
    parent = psutil.Process(preflight.pid)
    deadline = time.monotonic() + BOUND_SECONDS
    while time.monotonic() < deadline:
        for child in parent.children():
            if _serving(child):
                return child
        try:
            code = preflight.wait(timeout=0.01)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"preflight exited {code} before its policy server was seen")
    pytest.fail("no policy server serving within the bound")


@contextlib.contextmanager
def _preflight_serving(
    **popen: Any,
) -> Iterator[tuple[subprocess.Popen[bytes], psutil.Process]]:
    """``python -m preflight --stack dev`` once its policy server serves (``popen``: extra
    ``Popen`` arguments); both are killed afterwards, so nothing outlives a failed test."""
    preflight = subprocess.Popen(
        [sys.executable, "-m", "preflight", "--stack", "dev"],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **popen,
    )
    server: psutil.Process | None = None
    try:
        server = _policy_server_of(preflight)
        yield preflight, server
    finally:
        for process in (preflight, server):
            if process is not None:
                with contextlib.suppress(ProcessLookupError, psutil.NoSuchProcess):
                    process.kill()
        preflight.wait(timeout=BOUND_SECONDS)


@pytest.fixture
def running() -> Iterator[tuple[subprocess.Popen[bytes], psutil.Process]]:
    """``python -m preflight --stack dev`` frozen while its policy server runs."""
    with _preflight_serving() as (preflight, server):
        os.kill(preflight.pid, signal.SIGSTOP)
        assert server.is_running() and not _gone(server)
        yield preflight, server


def test_sigkill_preflight_the_server_exits_on_its_own(
    running: tuple[subprocess.Popen[bytes], psutil.Process],
) -> None:
    preflight, server = running
    os.kill(preflight.pid, signal.SIGKILL)
    assert preflight.wait(timeout=BOUND_SECONDS) == -signal.SIGKILL
    assert _wait_gone(server), f"policy server {server.pid} outlived a killed preflight"


def test_sigterm_preflight_stops_and_reaps_the_server_first(
    running: tuple[subprocess.Popen[bytes], psutil.Process],
) -> None:
    preflight, server = running
    os.kill(preflight.pid, signal.SIGTERM)
    os.kill(preflight.pid, signal.SIGCONT)
    assert preflight.wait(timeout=BOUND_SECONDS) == 128 + signal.SIGTERM
    # preflight waited for its child before exiting: already reaped, not merely exiting
    with pytest.raises(psutil.NoSuchProcess):
        server.status()


def test_the_lifeline_is_named_alike_on_both_sides() -> None:
    assert LIFELINE_ENV == PACK_LIFELINE_ENV


def test_a_preflight_started_with_sigint_ignored_leaves_no_server() -> None:
    """A background job of a non-interactive shell (``cmd &``, as CI scripts and ``make -j``
    start things) inherits SIGINT ignored, and so did the pack: the stop preflight sends (and
    the lifeline's own SIGINT) did nothing, and every such preview left its server running. The
    pack restores SIGINT's default handler: the server is gone once preflight has exited."""

    def ignore_sigint() -> None:  # in the child, before exec: as `cmd &` starts it
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    with _preflight_serving(preexec_fn=ignore_sigint) as (preflight, server):
        assert preflight.wait(timeout=BOUND_SECONDS) == 0
        assert _wait_gone(server), f"policy server {server.pid} outlived its preflight"


@pytest.mark.timeout(120)
def test_a_sigterm_while_the_program_runs_is_delivered_once_its_loop_returns() -> None:
    """SIGTERM raised into the program's event loop landed in whichever task it interrupted,
    and the loop then waited forever (a SIGTERMed preflight hung about once in fifteen). The
    recorder holds it while the loop runs and delivers it to preflight's handler after: every
    resource is recorded, then the handler's SystemExit(143) comes."""
    from preflight.cli import _exit_on_sigterm
    from preflight.recorder import record_stack
    from tests.support.stacks import recorded

    expected = len(recorded("dev").resources)
    seen: list[str] = []

    def on_record(resource: Any) -> None:
        seen.append(resource.urn)
        if len(seen) == 1:
            signal.raise_signal(signal.SIGTERM)  # in the middle of the program's loop

    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with pytest.raises(SystemExit) as stopped:
            record_stack("dev", on_record=on_record)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stopped.value.code == 128 + signal.SIGTERM
    assert len(seen) == expected  # the whole program ran before the handler did
