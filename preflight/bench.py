"""Preflight benchmark: per stack, wall time against its floor, Analyze cost, and peak memory of
the program and of the policy server.

The floor is the least any offline preview of the stack must pay: a Python process that imports
pulumi_aws and pulumi_random and touches every resource class the stack's program instantiates
(a bare ``import pulumi_aws`` is lazy and loads none of them). The class list comes from the
stack's own plan (the ``resources`` of a ``--json`` run), never from a hand-kept list. Preflight
and floor runs alternate, so both see the same machine.

Each preflight run is the real command, ``python -m preflight --stack <stack> --json <tmp>``, in
a subprocess (output discarded), sampled with psutil every few milliseconds; on Linux the
kernel's high-water mark (``VmHWM``) is read as well, so a short peak between samples still
counts. Times are medians over ``repeat`` runs.

``Analyze`` is timed apart from the runs (which overlap it with the recording): one serial
round trip per recorded resource to the served pack, configured with the stack's policy config.

Targets (issue 11): prod's preflight within 1.5x its floor, <= 2 ms per Analyze call,
<= 300 MB peak RSS for program and policy server together. The floor is measured a second time
with the garbage collector off (as preflight runs, see ``preflight.cli.main``), for reference.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
STACKS = ("dev", "staging", "prod")

TARGET_RATIO = 1.5
TARGET_MS_PER_ANALYZE = 2.0
TARGET_PEAK_MB = 300.0

SAMPLE_SECONDS = 0.005
MB = 1024 * 1024

FLOOR_PROGRAM = """
import gc, importlib, json, keyword, sys
if sys.argv[1] == "nogc":
    gc.disable()
import pulumi_aws, pulumi_random
for token in json.loads(sys.argv[2]):
    package, module, name = token.split(":")
    base = importlib.import_module("pulumi_" + package)
    module = module.split("/")[0]
    module += "_" if keyword.iskeyword(module) else ""  # pulumi_aws.lambda_
    getattr(base if module == "index" else getattr(base, module), name)
if sys.argv[1] == "nogc":
    gc.freeze()
"""
"""Imports the SDKs and touches each class ``pkg:module/sub:Class`` given as a JSON list."""


@dataclass(frozen=True, slots=True)
class StackBench:
    """One stack's numbers."""

    stack: str
    resources: int
    preflight_seconds: float
    floor_seconds: float
    ms_per_analyze: float
    program_peak_mb: float
    server_peak_mb: float
    exit_code: int
    floor_nogc_seconds: float = 0.0
    """The floor with the collector off and frozen at exit (reference, no target)."""
    classes: int = 0
    """Resource classes the floor touches."""

    @property
    def ratio(self) -> float:
        """Preflight wall time over the floor's."""
        return self.preflight_seconds / self.floor_seconds if self.floor_seconds else 0.0

    @property
    def ratio_nogc(self) -> float:
        """Preflight wall time over the GC-off floor's."""
        return self.preflight_seconds / self.floor_nogc_seconds if self.floor_nogc_seconds else 0.0

    @property
    def peak_mb(self) -> float:
        """Program and policy server peaks added up (an upper bound of the joint peak)."""
        return self.program_peak_mb + self.server_peak_mb

    def meets_targets(self) -> bool:
        """All three targets hold."""
        return (
            self.ratio <= TARGET_RATIO
            and self.ms_per_analyze <= TARGET_MS_PER_ANALYZE
            and self.peak_mb <= TARGET_PEAK_MB
        )


@dataclass(frozen=True, slots=True)
class _Run:
    seconds: float
    exit_code: int
    program_peak: int
    server_peak: int


def _high_water_mark(pid: int) -> int:
    """Peak RSS in bytes from /proc (Linux), or 0 where unavailable."""
    try:
        with Path(f"/proc/{pid}/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return 0


def _peak(process: psutil.Process) -> int:
    try:
        return max(process.memory_info().rss, _high_water_mark(process.pid))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0


def _is_policy_server(process: psutil.Process) -> bool:
    try:
        return "pulumi.policy" in process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def run_monitored(argv: Sequence[str], cwd: Path = REPO) -> _Run:
    """Run ``argv`` to completion, sampling its and its children's memory."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(argv), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    program_peak = server_peak = 0
    try:
        main = psutil.Process(proc.pid)
        while proc.poll() is None:
            program_peak = max(program_peak, _peak(main))
            try:
                children = main.children(recursive=True)
            except psutil.NoSuchProcess:
                children = []
            for child in children:
                if _is_policy_server(child):
                    server_peak = max(server_peak, _peak(child))
                else:
                    program_peak = max(program_peak, _peak(child))
            time.sleep(SAMPLE_SECONDS)
    except psutil.NoSuchProcess:
        pass
    exit_code = proc.wait()
    return _Run(time.perf_counter() - started, exit_code, program_peak, server_peak)


def plan_classes(document: dict[str, object]) -> list[str]:
    """The resource classes a plan instantiates: type tokens of its custom resources, providers
    and components left out (their classes are the program's own, or the package's root)."""
    resources = document.get("resources")
    if not isinstance(resources, list):
        raise ValueError("the preflight document has no 'resources' list")
    tokens = {str(r["type"]) for r in resources if isinstance(r, dict) and r.get("custom")}
    return sorted(t for t in tokens if t.split(":")[0] in ("aws", "random"))


def floor_argv(
    classes: Sequence[str], *, gc_on: bool = True, python: str = sys.executable
) -> list[str]:
    """The floor process for ``classes`` (see ``FLOOR_PROGRAM``)."""
    return [python, "-c", FLOOR_PROGRAM, "gc" if gc_on else "nogc", json.dumps(list(classes))]


def serial_analyze_ms(stack: str, root: Path = REPO) -> float:
    """Mean milliseconds of one ``Analyze`` round trip, serially, over the stack's resources."""
    from preflight.analyzer import PolicyServer
    from preflight.pipeline import load_policy_config
    from preflight.recorder import record_stack

    recording = record_stack(stack, None, root)
    _path, config = load_policy_config(None, stack, root)
    with PolicyServer(root / "policies") as server:
        server.info()
        server.configure(config)
        for resource in recording.resources[:10]:  # warm-up: first calls pay for imports
            server.analyze(resource)
        started = time.perf_counter()
        for resource in recording.resources:
            server.analyze(resource)
        elapsed = time.perf_counter() - started
    return 1000.0 * elapsed / len(recording.resources)


def bench_stack(
    stack: str, python: str = sys.executable, repeat: int = 3, root: Path = REPO
) -> StackBench:
    """Run the preflight of ``stack`` and its floor ``repeat`` times each, alternating."""
    with tempfile.TemporaryDirectory(prefix="preflight-bench-") as tmp:
        out = Path(tmp) / f"{stack}.json"
        argv = [python, "-m", "preflight", "--stack", stack, "--json", str(out)]
        warm = run_monitored(argv, root)  # also writes the plan the floor is derived from
        if not out.is_file():
            raise RuntimeError(f"preflight --stack {stack} wrote no JSON (exit {warm.exit_code})")
        document = json.loads(out.read_text(encoding="utf-8"))
        classes = plan_classes(document)
        runs: list[_Run] = []
        floors: list[float] = []
        floors_nogc: list[float] = []
        for _ in range(repeat):
            floors.append(run_monitored(floor_argv(classes, python=python), root).seconds)
            runs.append(run_monitored(argv, root))
            floors_nogc.append(
                run_monitored(floor_argv(classes, gc_on=False, python=python), root).seconds
            )
    resources = document.get("resources")
    return StackBench(
        stack=stack,
        resources=len(resources) if isinstance(resources, list) else 0,
        preflight_seconds=statistics.median(r.seconds for r in runs),
        floor_seconds=statistics.median(floors),
        ms_per_analyze=serial_analyze_ms(stack, root),
        program_peak_mb=max(r.program_peak for r in runs) / MB,
        server_peak_mb=max(r.server_peak for r in runs) / MB,
        exit_code=runs[-1].exit_code,
        floor_nogc_seconds=statistics.median(floors_nogc),
        classes=len(classes),
    )


def run(stacks: Sequence[str] = STACKS, repeat: int = 3, root: Path = REPO) -> list[StackBench]:
    """Benchmark every stack, each against its own floor."""
    return [bench_stack(stack, repeat=repeat, root=root) for stack in stacks]


def table(rows: Sequence[StackBench]) -> Table:
    """The benchmark as a rich table."""
    result = Table(
        title="preflight benchmark (median of runs; peak RSS over runs)",
        title_justify="left",
        caption=(
            "preflight s: wall time of python -m preflight; floor s: a process importing"
            " pulumi_aws and pulumi_random and touching the plan's resource classes; no-GC floor:"
            " the same with the collector off (reference); ms/Analyze: serial round trips."
            f" Targets: <= {TARGET_RATIO:g}x floor, <= {TARGET_MS_PER_ANALYZE:g} ms/Analyze,"
            f" <= {TARGET_PEAK_MB:g} MB program + server"
        ),
        caption_justify="left",
    )
    for header in (
        "stack",
        "resources",
        "classes",
        "preflight s",
        "floor s",
        "ratio",
        "no-GC floor s",
        "ratio to it",
        "ms/Analyze",
        "program MB",
        "server MB",
        "exit",
        "targets",
    ):
        result.add_column(header, justify="left" if header == "stack" else "right")
    for row in rows:
        result.add_row(
            row.stack,
            str(row.resources),
            str(row.classes),
            f"{row.preflight_seconds:.2f}",
            f"{row.floor_seconds:.2f}",
            _mark(f"{row.ratio:.2f}x", row.ratio <= TARGET_RATIO),
            f"{row.floor_nogc_seconds:.2f}",
            f"{row.ratio_nogc:.2f}x",
            _mark(f"{row.ms_per_analyze:.2f}", row.ms_per_analyze <= TARGET_MS_PER_ANALYZE),
            f"{row.program_peak_mb:.0f}",
            f"{row.server_peak_mb:.0f}",
            str(row.exit_code),
            _mark("met" if row.meets_targets() else "missed", row.meets_targets()),
        )
    return result


def _mark(text: str, ok: bool) -> str:
    return f"[green]{text}[/]" if ok else f"[red]{text}[/]"


def print_table(rows: Sequence[StackBench], console: Console | None = None) -> None:
    """Print ``table(rows)``."""
    (console or Console()).print(table(rows))
