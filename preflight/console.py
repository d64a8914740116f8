"""The consoles preflight prints to (kept apart from ``preflight.report`` so the command line
can report an error before the report's modules are imported)."""

from __future__ import annotations

import os

from rich.console import Console

PIPE_WIDTH = 160
"""Console width when output is not a terminal (CI logs, files): wide enough not to wrap names."""


def make_console(*, stderr: bool = False) -> Console:
    """A console for reports; wide when writing to a pipe or a file (unless COLUMNS says)."""
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=stderr, highlight=False, width=PIPE_WIDTH)
    return console
