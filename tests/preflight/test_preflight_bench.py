"""The benchmark's measuring and printing helpers (the benchmark itself runs in `make bench`)."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

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


# --- the scale benchmark (issue 22) ------------------------------------------------------------


def test_scaled_tables_keep_prod_s_tables_and_add_renamed_copies() -> None:
    from components.settings import load_settings
    from preflight.bench_scale import scale_overrides, scaled_tables
    from preflight.config import load_stack_config

    tables = scaled_tables(50)
    assert len(tables) == 50
    assert [t["name"] for t in tables[:4]] == ["carts", "sessions", "order-history", "carts-3"]
    assert tables[3]["hashKey"] == "customerId"  # a copy of carts, keys and all
    assert len({t["name"] for t in tables}) == 50
    assert scale_overrides(0) == []
    # the override is one the stack's settings accept, through preflight's own --set
    config = load_stack_config("prod", overrides=scale_overrides(50))
    assert len(load_settings(config.project_values()).dynamodb.tables) == 50


def test_the_scale_floor_registers_every_resource_of_the_plan(tmp_path: Path) -> None:
    from preflight.baseline import resource_entry
    from preflight.bench_scale import floor_program
    from tests.support.stacks import recorded

    resources = recorded("dev").resources
    document = {"resources": [resource_entry(r) for r in resources]}
    program, plan = floor_program(document, tmp_path)
    run = run_monitored(
        [sys.executable, str(program), str(plan), "nogc", "securecart-data", "dev"], tmp_path
    )
    assert run.exit_code == 0
    # one resource fewer in the plan than the program registers fails the floor loudly
    entries = document["resources"]
    entries.append({**entries[-1], "urn": entries[-1]["urn"] + "-again"})
    program, plan = floor_program(document, tmp_path)
    broken = run_monitored(
        [sys.executable, str(program), str(plan), "nogc", "securecart-data", "dev"], tmp_path
    )
    assert broken.exit_code != 0


def test_scale_rows_name_the_targets_they_miss() -> None:
    from preflight.bench_scale import ScaleBench, table

    def row(**changes: float) -> ScaleBench:
        base = {
            "preflight_seconds": 3.0,
            "floor_seconds": 2.5,
            "floor_nogc_seconds": 2.0,
            "analyze_stack_seconds": 0.5,
            "ms_per_analyze": 0.8,
            "program_peak_mb": 250.0,
            "server_peak_mb": 100.0,
        }
        return ScaleBench(
            label="after", tables=150, resources=1373, exit_code=1, **{**base, **changes}
        )

    assert row().misses() == []
    assert row(floor_seconds=1.9).misses() == ["floor"]
    assert row(analyze_stack_seconds=1.2).misses() == ["AnalyzeStack"]
    assert row(server_peak_mb=160.0).misses() == ["memory"]
    assert row(import_floor_nogc_seconds=1.9).misses() == ["import floor"]
    out = io.StringIO()
    Console(file=out, width=300).print(table([row(), row(analyze_stack_seconds=1.2)]))
    assert "missed: AnalyzeStack" in out.getvalue() and "1373" in out.getvalue()
    failed = ScaleBench("before (x)", 150, 0, 61.0, 0, 0, 0, 0, 300, 90, 3, failure="no plan")
    out = io.StringIO()
    Console(file=out, width=300).print(table([failed]))
    assert "no plan" in out.getvalue() and "before (x)" in out.getvalue()
    columns = {str(c.header): list(c.cells) for c in table([failed]).columns}
    assert columns["exit"] == ["3"] and columns["server MB"] == ["90"]
    assert columns["targets"] == ["[red]no plan[/]"]
