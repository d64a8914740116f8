"""Preflight benchmark: per stack, wall time against the bare ``import pulumi_aws``, Analyze
cost, and peak memory of the program and of the policy server.

Each preflight run is the real command, ``python -m preflight --stack <stack> --json <tmp>``, in
a subprocess (output discarded), sampled with psutil every few milliseconds; on Linux the
kernel's high-water mark (``VmHWM``) is read as well, so a short peak between samples still
counts. Times are medians over ``repeat`` runs; the import baseline is measured in the same run.

Targets (issue 4): prod preflight within 3x the import time, <= 2 ms per Analyze call,
<= 300 MB peak RSS for program and policy server together.
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

TARGET_RATIO = 3.0
TARGET_MS_PER_ANALYZE = 2.0
TARGET_PEAK_MB = 300.0

SAMPLE_SECONDS = 0.005
MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StackBench:
    """One stack's numbers."""

    stack: str
    resources: int
    preflight_seconds: float
    import_seconds: float
    ms_per_analyze: float
    program_peak_mb: float
    server_peak_mb: float
    exit_code: int

    @property
    def ratio(self) -> float:
        """Preflight wall time over the bare ``import pulumi_aws`` time."""
        return self.preflight_seconds / self.import_seconds if self.import_seconds else 0.0

    @property
    def peak_mb(self) -> float:
        """Program and policy server peaks added up (an upper bound of the joint peak)."""
        return self.program_peak_mb + self.server_peak_mb

    def meets_targets(self) -> bool:
        """All three issue-4 targets hold."""
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


def import_seconds(python: str = sys.executable, repeat: int = 3) -> float:
    """Median wall time of ``python -c "import pulumi_aws"``."""
    return statistics.median(
        run_monitored([python, "-c", "import pulumi_aws"]).seconds for _ in range(repeat)
    )


def bench_stack(
    stack: str, baseline: float, python: str = sys.executable, repeat: int = 3
) -> StackBench:
    """Run the preflight of ``stack`` ``repeat`` times and summarise."""
    runs: list[_Run] = []
    document: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="preflight-bench-") as tmp:
        out = Path(tmp) / f"{stack}.json"
        for _ in range(repeat):
            runs.append(
                run_monitored([python, "-m", "preflight", "--stack", stack, "--json", str(out)])
            )
        if out.is_file():
            document = json.loads(out.read_text(encoding="utf-8"))
    timings = document.get("timings")
    ms_per_analyze = (
        float(timings.get("msPerAnalyze", 0.0)) if isinstance(timings, dict) else float("nan")
    )
    resources = document.get("resources")
    return StackBench(
        stack=stack,
        resources=len(resources) if isinstance(resources, list) else 0,
        preflight_seconds=statistics.median(r.seconds for r in runs),
        import_seconds=baseline,
        ms_per_analyze=ms_per_analyze,
        program_peak_mb=max(r.program_peak for r in runs) / MB,
        server_peak_mb=max(r.server_peak for r in runs) / MB,
        exit_code=runs[-1].exit_code,
    )


def run(stacks: Sequence[str] = STACKS, repeat: int = 3) -> list[StackBench]:
    """Benchmark every stack against one import baseline measured now."""
    baseline = import_seconds(repeat=repeat)
    return [bench_stack(stack, baseline, repeat=repeat) for stack in stacks]


def table(rows: Sequence[StackBench]) -> Table:
    """The benchmark as a rich table."""
    result = Table(
        title="preflight benchmark (median of runs; peak RSS over runs)",
        title_justify="left",
        caption=(
            'preflight s: wall time of python -m preflight; import s: python -c "import pulumi_aws";'
            f" targets: <= {TARGET_RATIO:g}x import, <= {TARGET_MS_PER_ANALYZE:g} ms/Analyze,"
            f" <= {TARGET_PEAK_MB:g} MB program + server"
        ),
        caption_justify="left",
    )
    for header in (
        "stack",
        "resources",
        "preflight s",
        "import s",
        "ratio",
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
            f"{row.preflight_seconds:.2f}",
            f"{row.import_seconds:.2f}",
            _mark(f"{row.ratio:.1f}x", row.ratio <= TARGET_RATIO),
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
