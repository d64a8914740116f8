"""Live progress of a drill with rich: a table of steps and a scrolling event log."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from .engine import NullObserver, Step, TimelineEvent
from .journal import Journal

_STYLE = {
    "done": "green",
    "failed": "bold red",
    "running": "yellow",
    "pending": "dim",
    "skipped": "dim",
}

_EVENT_STYLE = {
    "action": "bold cyan",
    "takeover": "bold green",
    "abort": "bold red",
    "stop-condition": "bold red",
    "refused": "bold red",
    "rollback": "bold magenta",
    "undo-failed": "bold red",
    "paused": "bold yellow",
}


class RichProgress(NullObserver):
    """Shows each step's status and duration live, and prints timeline events as they come."""

    def __init__(self, console: Console | None = None, show_checks: bool = False) -> None:
        self.console = console or Console(stderr=True)
        self.show_checks = show_checks
        self._journal: Journal | None = None
        self._live: Live | None = None
        self._running: str | None = None
        self._started: dict[str, float] = {}

    def _render(self) -> Group:
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        table.add_column("", width=2)
        table.add_column("step")
        table.add_column("status")
        table.add_column("time", justify="right")
        journal = self._journal
        if journal is not None:
            for record in journal.data["steps"]:
                status = str(record["status"])
                icon: Any = Text(" ")
                if record["name"] == self._running and status == "running":
                    icon = Spinner("dots", style="yellow")
                elif status == "done":
                    icon = Text("✓", style="green")
                elif status == "failed":
                    icon = Text("✗", style="red")
                duration = ""
                if record.get("started_at") and record.get("ended_at"):
                    duration = f"{record['ended_at'] - record['started_at']:.2f}s"
                elif record["name"] == self._running and record["name"] in self._started:
                    duration = f"{time.time() - self._started[record['name']]:.1f}s"
                undo = record.get("undo_status")
                label = status + (f" (undo {undo})" if undo else "")
                table.add_row(
                    icon, f"{record['name']}", Text(label, style=_STYLE.get(status, "")), duration
                )
        title = Text()
        if journal is not None:
            title = Text(
                f"{journal.data['scenario']} on {journal.data['stack']}  [{journal.status}]",
                style="bold",
            )
        return Group(title, table)

    def drill_started(self, journal: Journal) -> None:
        """Start (or keep) the live display."""
        self._journal = journal
        if self._live is None:
            self._live = Live(
                self._render(), console=self.console, refresh_per_second=8, transient=False
            )
            self._live.start()
        self._refresh()

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._render())

    def step_started(self, step: Step, record: dict[str, Any]) -> None:
        """Mark the step running."""
        self._running = step.name
        self._started[step.name] = time.time()
        self._refresh()

    def step_finished(self, step: Step, record: dict[str, Any]) -> None:
        """Refresh after a step."""
        self._refresh()

    def step_failed(self, step: Step, record: dict[str, Any], error: BaseException) -> None:
        """Refresh after a failure."""
        self._refresh()

    def event(self, event: TimelineEvent) -> None:
        """Print a timeline event above the table."""
        if event.kind == "check" and not self.show_checks and event.data.get("ok", True):
            return
        style = _EVENT_STYLE.get(event.kind, "")
        if self._live is not None:
            self._live.console.print(Text(f"  {event.kind}: {event.message}", style=style))
        self._refresh()

    def drill_finished(self, journal: Journal) -> None:
        """Stop the live display."""
        self._journal = journal
        self._running = None
        self._refresh()
        if self._live is not None:
            self._live.stop()
            self._live = None
            if not self.console.is_terminal:  # rich leaves the last line open when piped
                self.console.line()
