"""The served pack stops when the process that started it is gone, however it went.

Preflight serves the pack as the engine does (``python -u -m pulumi.policy ...``) and stops it
with SIGINT when it is done; a preflight killed with SIGKILL (or by anything that skips its
cleanup) used to leave the server running for good, since ``PolicyPack`` serves until
interrupted. The parent therefore opts in with ``SECURECART_POLICY_STDIN_LIFELINE=1`` and gives
the pack a pipe as stdin that it never writes to: the kernel closes the pipe's other end when
the parent process ends, by any signal, so a read here sees end-of-file exactly then, and the
pack interrupts itself, the same stop the engine sends. Unlike ``PR_SET_PDEATHSIG`` this follows
the parent *process*, not the thread that started the child (preflight starts the pack from a
worker thread), and it needs no polling.

Without the variable nothing happens: under the real engine the pack's stdin may be
``/dev/null``, whose immediate end-of-file must not stop it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import BinaryIO, Final

LIFELINE_ENV: Final = "SECURECART_POLICY_STDIN_LIFELINE"
"""Set to ``1`` by a parent whose pipe on the pack's stdin stays open while it lives."""


def _wait_for_eof(stream: BinaryIO) -> None:
    """Read ``stream`` until end-of-file (or an error reading it), then interrupt the process."""
    try:
        while stream.read(4096):
            pass  # a parent that writes anything is ignored: only the end counts
    except (OSError, ValueError):
        pass  # a closed or broken stdin means the same: the parent is gone
    os.kill(os.getpid(), signal.SIGINT)


def watch_parent(stream: BinaryIO | None = None) -> threading.Thread | None:
    """When the parent opted in, start the daemon thread that stops the pack at stdin's EOF."""
    if os.environ.get(LIFELINE_ENV) != "1":
        return None
    thread = threading.Thread(
        target=_wait_for_eof,
        args=(stream if stream is not None else sys.stdin.buffer,),
        name="parent-lifeline",
        daemon=True,
    )
    thread.start()
    return thread
