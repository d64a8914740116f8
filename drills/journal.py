"""A drill's journal: one JSON file per drill, rewritten atomically before and after every step.

Layout under the state directory (default ``.drills/``)::

    <drill-id>/journal.json    header, plan, per-step status, the drill's state, timeline
    <drill-id>/canaries.jsonl  every canary write attempt, appended as it happens
    <drill-id>/lock            pid of the process running the drill
    locks/<stack>.lock         drill id holding the stack (one drill per stack at a time)

A crash leaves the journal at the last completed write: the step that was running is marked
``running``; ``resume`` re-runs it (steps are idempotent: each checks the real state first)
and ``rollback`` undoes every step that started.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from .errors import DrillLockedError, JournalError

JOURNAL_VERSION = 1

STEP_PENDING = "pending"
STEP_RUNNING = "running"
STEP_DONE = "done"
STEP_FAILED = "failed"
STEP_SKIPPED = "skipped"

DRILL_RUNNING = "running"
DRILL_SUCCEEDED = "succeeded"
DRILL_REFUSED = "refused"
DRILL_PAUSED = "paused"
DRILL_ROLLED_BACK = "rolled-back"
DRILL_ROLLBACK_FAILED = "rollback-failed"
DRILL_ROLLING_BACK = "rolling-back"

RESUMABLE = {DRILL_RUNNING, DRILL_PAUSED}
ROLLBACKABLE = {DRILL_RUNNING, DRILL_PAUSED, DRILL_ROLLBACK_FAILED, DRILL_ROLLING_BACK}

_ACTIVE_LOCKS: set[Path] = set()
_ACTIVE_GUARD = threading.Lock()


def utcnow_iso(ts: float | None = None) -> str:
    """ISO-8601 UTC with milliseconds."""
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_drill_id(stack: str, scenario: str) -> str:
    """``<stack>-<scenario>-<UTC time>-<random>``: sortable and unique."""
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S")
    return f"{stack}-{scenario}-{stamp}-{secrets.token_hex(3)}"


SYNC_ENV = "DRILLS_JOURNAL_FSYNC"
"""``0`` skips the fsync of every journal write: for a test suite, where a process may die
but the machine does not (the OS keeps what was written). A drill leaves it unset: its journal
must survive the machine's crash too."""


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        if os.environ.get(SYNC_ENV) != "0":
            os.fsync(handle.fileno())
    tmp.replace(path)


class Journal:
    """The persistent record of one drill."""

    def __init__(self, directory: Path, data: dict[str, Any]) -> None:
        self.directory = directory
        self.data = data
        self._lock = threading.RLock()
        self.writes = 0

    # -- creation and loading ----------------------------------------------------------------

    @classmethod
    def create(
        cls,
        state_dir: Path,
        drill_id: str,
        *,
        stack: str,
        scenario: str,
        options: dict[str, Any],
        settings: dict[str, Any],
        plan: list[dict[str, Any]],
    ) -> Journal:
        """A new journal with every planned step pending."""
        directory = state_dir / drill_id
        directory.mkdir(parents=True, exist_ok=False)
        now = time.time()
        data: dict[str, Any] = {
            "version": JOURNAL_VERSION,
            "drill_id": drill_id,
            "stack": stack,
            "scenario": scenario,
            "options": options,
            "settings": settings,
            "status": DRILL_RUNNING,
            "reason": "",
            "created_at": now,
            "updated_at": now,
            "host": socket.gethostname(),
            "target": None,
            "steps": [
                {
                    **step,
                    "status": STEP_PENDING,
                    "started_at": None,
                    "ended_at": None,
                    "attempts": 0,
                    "error": None,
                    "undo_status": None,
                    "undo_error": None,
                }
                for step in plan
            ],
            "state": {},
            "timeline": [],
            "invariant_checks": [],
            "pulumi": [],
        }
        journal = cls(directory, data)
        journal.save()
        return journal

    @classmethod
    def load(cls, state_dir: Path, drill_id: str) -> Journal:
        """An existing journal; JournalError names what is wrong."""
        path = state_dir / drill_id / "journal.json"
        if not path.is_file():
            known = ", ".join(list_drills(state_dir)[-5:]) or "none"
            raise JournalError(
                f"no journal for drill {drill_id!r} in {state_dir} (recent: {known})"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise JournalError(f"journal {path} is not valid JSON: {exc}") from exc
        if data.get("version") != JOURNAL_VERSION:
            raise JournalError(f"journal {path} has version {data.get('version')!r}")
        return cls(path.parent, data)

    # -- access ------------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The journal file."""
        return self.directory / "journal.json"

    @property
    def canary_path(self) -> Path:
        """The canary log."""
        return self.directory / "canaries.jsonl"

    @property
    def drill_id(self) -> str:
        """This drill's id."""
        return str(self.data["drill_id"])

    @property
    def status(self) -> str:
        """Overall status."""
        return str(self.data["status"])

    @property
    def state(self) -> dict[str, Any]:
        """The drill's working state (JSON-able), persisted with every save."""
        state: dict[str, Any] = self.data["state"]
        return state

    def step(self, name: str) -> dict[str, Any]:
        """The journal record of a step."""
        for record in self.data["steps"]:
            if record["name"] == name:
                found: dict[str, Any] = record
                return found
        raise JournalError(f"step {name!r} is not in drill {self.drill_id}'s plan")

    def save(self) -> None:
        """Write the journal atomically."""
        with self._lock:
            self.data["updated_at"] = time.time()
            text = json.dumps(self.data, separators=(",", ":"), default=str)
            _write_atomic(self.path, text)
            self.writes += 1

    def set_status(self, status: str, reason: str = "") -> None:
        """Change the overall status and save."""
        with self._lock:
            self.data["status"] = status
            if reason:
                self.data["reason"] = reason
            self.save()

    def append(self, key: str, entry: dict[str, Any]) -> None:
        """Append to a list in the journal (saved with the next write)."""
        with self._lock:
            self.data.setdefault(key, []).append(entry)

    # -- locks -------------------------------------------------------------------------------

    @contextmanager
    def locked(self, state_dir: Path) -> Iterator[None]:
        """Hold this drill's lock and its stack's lock for the duration of the block."""
        drill_lock = self.directory / "lock"
        stack_lock = state_dir / "locks" / f"{self.data['stack']}.lock"
        stack_lock.parent.mkdir(parents=True, exist_ok=True)
        with _pid_lock(drill_lock, self.drill_id), _pid_lock(stack_lock, self.drill_id):
            self.data["pid"] = os.getpid()
            self.save()
            yield


def _holder(path: Path) -> tuple[int, str] | None:
    try:
        pid_text, _, owner = path.read_text(encoding="utf-8").partition(" ")
        return int(pid_text), owner.strip()
    except (OSError, ValueError):
        return None


@contextmanager
def _pid_lock(path: Path, owner: str) -> Iterator[None]:
    with _ACTIVE_GUARD:
        if path in _ACTIVE_LOCKS:
            raise DrillLockedError(f"{path} is held by this process")
        holder = _holder(path)
        if holder is not None:
            pid, held_by = holder
            alive = psutil.pid_exists(pid) and pid != os.getpid()
            if alive:
                raise DrillLockedError(
                    f"{path.name}: drill {held_by} is running in process {pid}; "
                    "wait for it or stop it before resuming or rolling back"
                )
        path.write_text(f"{os.getpid()} {owner}", encoding="utf-8")
        _ACTIVE_LOCKS.add(path)
    try:
        yield
    finally:
        with _ACTIVE_GUARD:
            _ACTIVE_LOCKS.discard(path)
            path.unlink(missing_ok=True)


DRILL_INTERRUPTED = "interrupted"
"""Shown by ``list`` for a running or rolling-back drill whose process is gone."""


def effective_status(journal: Journal) -> str:
    """The journal's status, or ``interrupted`` when it says running/rolling-back but no live
    process holds the drill's lock (a crash, a kill, a reboot)."""
    status = journal.status
    if status not in {DRILL_RUNNING, DRILL_ROLLING_BACK}:
        return status
    holder = _holder(journal.directory / "lock")
    if holder is not None and psutil.pid_exists(holder[0]):
        return status
    return DRILL_INTERRUPTED


def list_drills(state_dir: Path) -> list[str]:
    """Drill ids with a journal, oldest first."""
    if not state_dir.is_dir():
        return []
    return sorted(p.parent.name for p in state_dir.glob("*/journal.json"))


def stack_lock_holder(state_dir: Path, stack: str) -> str | None:
    """The drill holding ``stack`` right now (a live process), if any."""
    holder = _holder(state_dir / "locks" / f"{stack}.lock")
    if holder is None:
        return None
    pid, drill_id = holder
    if psutil.pid_exists(pid) and (pid != os.getpid() or _is_active(state_dir, stack)):
        return drill_id
    return None


def _is_active(state_dir: Path, stack: str) -> bool:
    with _ACTIVE_GUARD:
        return (state_dir / "locks" / f"{stack}.lock") in _ACTIVE_LOCKS
