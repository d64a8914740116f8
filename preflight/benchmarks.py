"""``python -m preflight.benchmarks`` (``make bench``): preflight per stack, then the drills benchmark."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from drills import bench as drills_bench
from preflight import bench as preflight_bench
from preflight import bench_scale
from preflight.console import make_console


def _as_mapping(row: Any) -> Mapping[str, Any]:
    if isinstance(row, Mapping):
        return row
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return dataclasses.asdict(row)
    return {"result": row}


def print_rows(title: str, rows: Any, console: Console) -> None:
    """Print whatever a benchmark's ``run()`` returned: a rich renderable or rows."""
    if hasattr(rows, "__rich_console__") or hasattr(rows, "__rich__"):
        console.print(rows)
        return
    if not isinstance(rows, Iterable) or isinstance(rows, str | bytes | Mapping):
        rows = [rows]
    mappings = [_as_mapping(row) for row in rows]
    columns: list[str] = []
    for mapping in mappings:
        columns.extend(str(key) for key in mapping if str(key) not in columns)
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for mapping in mappings:
        table.add_row(*(_cell(mapping.get(column, "")) for column in columns))
    console.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and print their tables."""
    parser = argparse.ArgumentParser(prog="python -m preflight.benchmarks", description=__doc__)
    parser.add_argument(
        "--stacks",
        default=",".join(preflight_bench.STACKS),
        help="comma-separated stacks to preview (default: %(default)s)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--skip-drills", action="store_true", help="skip the drills benchmark")
    parser.add_argument(
        "--scale-sizes",
        default=",".join(str(n) for n in bench_scale.SIZES),
        help="DynamoDB table counts for the scale benchmark, 0 = prod as it is; '' skips it"
        " (default: %(default)s)",
    )
    parser.add_argument(
        "--before",
        default=bench_scale.BEFORE_REVISION,
        help="git revision the scale benchmark also runs, in a temporary worktree, for the"
        " before/after table; '' for none (default: %(default)s)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=preflight_bench.REPO,
        help="checkout whose preflight to run (e.g. the base branch, for a before/after)",
    )
    args = parser.parse_args(argv)

    console = make_console()
    stacks = [s for s in args.stacks.split(",") if s]
    with console.status("benchmarking preflight..."):
        rows = preflight_bench.run(stacks, repeat=max(1, args.repeat), root=args.root)
    preflight_bench.print_table(rows, console)

    sizes = [int(n) for n in args.scale_sizes.split(",") if n.strip()]
    if sizes:
        with console.status("benchmarking preflight at scale..."):
            scale_rows = bench_scale.run(
                sizes,
                repeat=max(1, args.repeat),
                before=args.before or None,
                root=args.root,
                progress=console.log,
            )
        bench_scale.print_table(scale_rows, console)

    if not args.skip_drills:
        with console.status("benchmarking drills..."):
            drill_rows = drills_bench.run()
        print_rows("drills benchmark", drill_rows, console)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
