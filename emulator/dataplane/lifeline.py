"""The region pair does not outlive the process that started it, however that process ends.

PostgreSQL (``pg_ctl start`` daemonizes the postmaster) and ``redis-server`` run as processes of
their own: a test run or a drill killed with SIGKILL used to leave them serving, with their
files under ``/tmp/regionpair-*``, for good. ``prctl(PR_SET_PDEATHSIG)`` cannot help: it follows
the thread that forked, it is cleared when a child changes its user (the servers run as the
``postgres`` user under root), and the postmaster is not our child anyway.

So :class:`RegionPair` starts this file as a small watcher process (run as a script: standard
library only, no package import, so it costs tens of milliseconds) with a pipe as its stdin
that the pair never writes to. The kernel closes the pipe's write end when the parent process
ends, by any signal, so the watcher's read returns end-of-file exactly then (the same lifeline
the policy pack's server uses, ``policies/_parent_watch.py``). The watcher then stops every
server whose pid file is under the pair's directory (``postmaster.pid``, ``redis.pid``: read at
that moment, so servers restarted by a switchover or a rebuild are the ones found), and removes
the directory. A pair that stops normally does the same itself first; the watcher then finds
nothing left to stop.

The watcher runs in a session of its own: a Ctrl-C sent to the terminal's process group
reaches the parent, whose own cleanup runs, and not the watcher.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from pathlib import Path

STOP_SECONDS = 10.0
"""How long a server gets to exit on its stop signal before it is killed."""
PID_FILES = ("postmaster.pid", "redis.pid")
"""What the servers write: PostgreSQL's (in its data directory) and the one ``redis-server``
is started with (``--pidfile``)."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie nobody has reaped yet runs nothing any more
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _owned(pid: int, root: Path) -> bool:
    """Whether ``pid`` is a server of this pair: its working directory is under ``root`` (a
    recycled pid belongs to some other process, which is left alone)."""
    try:
        cwd = Path(f"/proc/{pid}/cwd").readlink()
    except OSError:
        return False
    return cwd == root or root in cwd.parents


def servers(root: Path) -> list[tuple[int, int]]:
    """(pid, stop signal) of every server of the pair under ``root`` still running. PostgreSQL
    stops at once on SIGQUIT (``pg_ctl -m immediate``; its children follow the postmaster),
    redis-server on SIGTERM."""
    found: list[tuple[int, int]] = []
    for name in PID_FILES:
        for pidfile in sorted(root.rglob(name)):
            try:
                pid = int(pidfile.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if pid > 0 and _alive(pid) and _owned(pid, root):
                stop = signal.SIGQUIT if name == "postmaster.pid" else signal.SIGTERM
                found.append((pid, stop))
    return found


def stop_servers(root: Path, timeout: float = STOP_SECONDS) -> list[int]:
    """Stop the pair's servers (bounded wait, then SIGKILL) and remove ``root``; their pids."""
    found = servers(root)
    for pid, stop in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, stop)
    deadline = time.monotonic() + timeout
    for pid, _ in found:
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)  # another process's exit cannot be waited on: poll, bounded
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    shutil.rmtree(root, ignore_errors=True)
    return [pid for pid, _ in found]


def main(argv: list[str]) -> int:
    """``lifeline.py ROOT``: wait for stdin's end-of-file, then stop the pair under ROOT."""
    if len(argv) != 2:
        print("usage: lifeline.py REGION_PAIR_ROOT", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent's Ctrl-C is the parent's
    root = Path(argv[1]).resolve()
    try:
        while sys.stdin.buffer.read(4096):
            pass  # a parent that writes anything is ignored: only the end counts
    except (OSError, ValueError):
        pass  # a broken stdin means the same: the parent is gone
    stop_servers(root)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
