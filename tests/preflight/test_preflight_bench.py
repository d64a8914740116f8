"""The benchmark's measuring and printing helpers (the benchmark itself runs in `make bench`)."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass

from rich.console import Console

from preflight.bench import StackBench, floor_argv, plan_classes, run_monitored, table
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
    fast = StackBench("prod", 156, 1.5, 1.2, 1.2, 150, 60, 0, floor_nogc_seconds=0.8, classes=34)
    slow = StackBench("prod", 156, 4.0, 1.2, 6.0, 250, 80, 0)
    assert fast.ratio == 1.25 and fast.meets_targets()
    assert fast.ratio_nogc == 1.875
    assert not slow.meets_targets()
    out = io.StringIO()
    Console(file=out, width=250).print(table([fast, slow]))
    assert "1.25x" in out.getvalue() and "missed" in out.getvalue()


def test_the_floor_touches_the_classes_of_the_plan() -> None:
    document = {
        "resources": [
            {"type": "pulumi:providers:aws", "custom": True},
            {"type": "securecart:index:DataTier", "custom": False},
            {"type": "aws:rds/cluster:Cluster", "custom": True},
            {"type": "aws:rds/cluster:Cluster", "custom": True},
            {"type": "aws:lambda/function:Function", "custom": True},
            {"type": "random:index/randomPassword:RandomPassword", "custom": True},
        ]
    }
    classes = plan_classes(document)
    assert classes == [
        "aws:lambda/function:Function",
        "aws:rds/cluster:Cluster",
        "random:index/randomPassword:RandomPassword",
    ]
    assert run_monitored(floor_argv(classes)).exit_code == 0
    # a class the SDK does not have fails the floor instead of being skipped
    assert run_monitored(floor_argv(["aws:rds/cluster:NoSuchCluster"], gc_on=False)).exit_code


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
