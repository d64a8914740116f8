"""The benchmark's measuring and printing helpers (the benchmark itself runs in `make bench`)."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass

from rich.console import Console

from preflight.bench import StackBench, run_monitored, table
from preflight.benchmarks import print_rows


def test_run_monitored_measures_time_memory_and_exit_code() -> None:
    run = run_monitored(
        [
            sys.executable,
            "-c",
            "import time; b = bytearray(64 << 20); time.sleep(0.2); raise SystemExit(3)",
        ]
    )
    assert run.exit_code == 3
    assert run.seconds >= 0.2
    assert run.program_peak >= 64 << 20
    assert run.server_peak == 0


def test_targets_and_table() -> None:
    fast = StackBench("prod", 156, 1.5, 0.6, 1.2, 150, 60, 0)
    slow = StackBench("prod", 156, 4.0, 0.6, 6.0, 250, 80, 0)
    assert fast.ratio == 2.5 and fast.meets_targets()
    assert not slow.meets_targets()
    out = io.StringIO()
    Console(file=out, width=200).print(table([fast, slow]))
    assert "2.5x" in out.getvalue() and "missed" in out.getvalue()


@dataclass
class _Row:
    scenario: str
    seconds: float


def test_drill_rows_of_any_shape_are_printed() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200)
    print_rows("drills", [_Row("planned-switchover", 1.25)], console)
    print_rows("drills", [{"scenario": "failback", "rto_s": 2}], console)
    text = out.getvalue()
    assert "planned-switchover" in text and "1.25" in text and "rto_s" in text
