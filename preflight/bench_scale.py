"""Scale benchmark (issue 22): prod as it is and with about 50 and 150 DynamoDB tables, each
against the Pulumi SDK's own floor for the same plan, for the code under test and a "before"
revision in one run on the same machine.

The bigger stacks are prod with its ``dynamodbTables`` replaced through preflight's own
``--set dynamodbTables=<JSON list>`` (a whole structured value, as ``pulumi config set --path``
would take it): prod's tables first, then copies of them cycling through, renamed ``<name>-<i>``
(:func:`scaled_tables`). Each table brings its global table, alarms and replica, so 150 tables
make about 1,400 resources.

For each size:

- **preflight**: ``python -m preflight --stack prod [--set ...] --json <tmp>`` (median wall
  time over runs, peak RSS of the program and of the policy server, as in ``preflight.bench``);
- **scale floor**: a generated program that registers the same resources under Pulumi's mocks
  (types, inputs, parents, providers and ``depends_on`` taken from the plan the preflight run
  wrote), with no pack and no report (:func:`floor_program`). It waits for the registrations the
  way preflight's recorder does (every pending output at once, no stack walk per resource):
  the SDK's own wait is quadratic in the number of resources and would flatter preflight. Run
  with Python's defaults (a plain program) and again with the collector off (as preflight runs);
- **import floor** (prod's size only): ``preflight.bench``'s floor, collector off;
- **AnalyzeStack** and **ms/Analyze**: in a process of the checkout under test (its own recorder,
  client and pack), the plan recorded, the pack served and configured with prod's policy config,
  one ``Analyze`` per resource serially, then one ``AnalyzeStack`` (:data:`ANALYZE_PROGRAM`).

The "before" revision is checked out in a temporary git worktree and benchmarked with the same
interpreter, runs alternating with the code under test.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from preflight.bench import MB, REPO, floor_argv, plan_classes, run_monitored

SIZES: tuple[int, ...] = (0, 50, 150)
"""Table counts: 0 is prod as it is."""
STACK = "prod"
BEFORE_REVISION = "deea9d8"
"""main when issue 22 was taken up: the code the "before" rows run."""

TARGET_FLOOR_RATIO = 1.5
TARGET_IMPORT_RATIO = 1.5
TARGET_ANALYZE_STACK_SECONDS = 1.0
TARGET_PEAK_MB = 400.0
TARGET_AT_RESOURCES = 1200
"""The AnalyzeStack and memory targets hold from this many resources on."""


def scaled_tables(count: int, root: Path = REPO, stack: str = STACK) -> list[dict[str, Any]]:
    """``count`` table specs: the stack's own tables first, then renamed copies of them."""
    path = root / "stacks" / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    base = document["config"]["securecart-data:dynamodbTables"]
    if not isinstance(base, list) or not base:
        raise ValueError(f"{path}: no dynamodbTables to scale")
    tables: list[dict[str, Any]] = []
    for index in range(count):
        table = dict(base[index % len(base)])
        if index >= len(base):
            table["name"] = f"{table['name']}-{index}"
        tables.append(table)
    return tables


def scale_overrides(count: int, root: Path = REPO, stack: str = STACK) -> list[str]:
    """The ``--set`` pairs for ``count`` tables (none for 0: the stack as it is)."""
    if count == 0:
        return []
    tables = json.dumps(scaled_tables(count, root, stack), separators=(",", ":"))
    return [f"dynamodbTables={tables}"]


FLOOR_TEMPLATE = '''
"""Registers a preflight plan's resources under Pulumi's mocks: the SDK's floor for the plan."""
import asyncio, gc, importlib, json, keyword, sys
if sys.argv[2] == "nogc":
    gc.disable()
import pulumi
from google.protobuf import empty_pb2
from pulumi import _types
from pulumi.runtime import mocks, resource as sdk_resource, settings
from pulumi.runtime import stack as sdk_stack
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

PLAN = json.loads(open(sys.argv[1], encoding="utf-8").read())


class Mocks(mocks.Mocks):
    def new_resource(self, args):
        return args.name + "-id", dict(args.inputs)

    def call(self, args):
        return {}, []


async def drain(await_all_outstanding_tasks=True):
    manager = settings._get_rpc_manager()
    while True:
        while manager.rpcs:
            await asyncio.sleep(0)
            await manager.rpcs.pop()
        if manager.unhandled_exception is not None:
            raise manager.unhandled_exception
        while await_all_outstanding_tasks:
            with settings.SETTINGS.lock:
                pending = list(settings.SETTINGS.outputs)
                settings.SETTINGS.outputs.clear()
            if not pending:
                break
            await asyncio.gather(*pending)
        if not manager.rpcs:
            return


def resource_class(token):
    package, module, name = token.split(":")
    if package == "pulumi":  # pulumi:providers:aws
        return importlib.import_module("pulumi_" + name).Provider
    base = importlib.import_module("pulumi_" + package)
    module = module.split("/")[0]
    module += "_" if keyword.iskeyword(module) else ""
    return getattr(base if module == "index" else getattr(base, module), name)


def kwargs_of(cls, inputs):
    """camelCase inputs as the class's keyword arguments (the Args class names them)."""
    # Where a nested block type has the name, the SDK calls the resource's own class
    # <Name>InitArgs (ec2.VpcPeeringConnectionAccepterArgs is VpcPeeringConnection's block).
    module = sys.modules[cls.__module__]
    args_cls = getattr(module, cls.__name__ + "InitArgs", None) or getattr(
        module, cls.__name__ + "Args", None
    )
    names = {}
    if args_cls is not None:
        names = {v: k for k, v in _types.input_type_py_to_pulumi_names(args_cls).items()}
    return {names.get(k, k): v for k, v in inputs.items() if k in names}


def program():
    made = {}
    for r in PLAN:
        opts = pulumi.ResourceOptions(
            parent=made.get(r["parent"]),
            depends_on=[made[d] for d in r["dependencies"] if d in made],
        )
        if not r["custom"]:
            made[r["urn"]] = pulumi.ComponentResource(r["type"], r["name"], None, opts)
            continue
        provider = r.get("provider")
        if provider:
            opts.provider = made.get(provider.rsplit("::", 1)[0])
        cls = resource_class(r["type"])
        made[r["urn"]] = cls(r["name"], opts=opts, **kwargs_of(cls, r["inputs"]))


monitor = mocks.MockMonitor(Mocks())
settings.configure(mocks.MockSettings(
    monitor=monitor,
    monitor_features=set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures),
    engine=mocks.MockEngine(None), project=sys.argv[3], stack=sys.argv[4], dry_run=False,
    organization="organization", callbacks=None,
))
settings.ROOT.set(None)
sdk_stack.wait_for_rpcs = drain
sdk_resource._get_stack_trace = lambda: source_pb2.StackTrace()
_sync_await(run_in_stack(program))
registered = len(monitor.resources)
if registered < len(PLAN):
    raise SystemExit(f"registered {registered} of {len(PLAN)} resources")
if sys.argv[2] == "nogc":
    gc.freeze()
'''
"""The scale floor: ``python floor.py <plan.json> gc|nogc <project> <stack>``."""


def floor_program(document: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """Write the scale floor for a preflight ``--json`` document: (program, plan) paths."""
    resources = document.get("resources")
    if not isinstance(resources, list):
        raise ValueError("the preflight document has no 'resources' list")
    plan = [
        {
            key: r.get(key)
            for key in ("urn", "type", "name", "custom", "parent", "provider", "inputs")
        }
        | {"dependencies": list(r.get("dependencies") or ())}
        for r in resources
    ]
    program = directory / "floor.py"
    program.write_text(FLOOR_TEMPLATE, encoding="utf-8")
    plan_file = directory / "plan.json"
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    return program, plan_file


ANALYZE_PROGRAM = """
import json, statistics, sys, time
import psutil
from pathlib import Path
from preflight.analyzer import PolicyServer
from preflight.pipeline import load_policy_config, stack_resources
from preflight.recorder import record_stack
stack, overrides = sys.argv[1], json.loads(sys.argv[2])
root = Path.cwd()
recording = record_stack(stack, overrides, root)
_path, config = load_policy_config(None, stack, root)
with PolicyServer(root / "policies") as server:
    server.info()
    server.configure(config)
    for resource in recording.resources[:10]:
        server.analyze(resource)
    started = time.perf_counter()
    for resource in recording.resources:
        server.analyze(resource)
    analyze = time.perf_counter() - started
    graph = stack_resources(recording.resources)
    pack = psutil.Process(server._process.pid)
    walls, cpus = [], []
    for _ in range(3):
        cpu, started = sum(pack.cpu_times()[:2]), time.perf_counter()
        server.analyze_stack(graph)
        walls.append(time.perf_counter() - started)
        cpus.append(sum(pack.cpu_times()[:2]) - cpu)
print(json.dumps({"msPerAnalyze": 1000 * analyze / len(recording.resources),
                  "analyzeStackSeconds": statistics.median(walls),
                  "analyzeStackCpuSeconds": statistics.median(cpus)}))
"""
"""Serial Analyze and three AnalyzeStack calls (median wall time, and the pack process's CPU
time for the call: on a shared machine the wall time also counts other jobs' turns), with the
checkout's own recorder, client and pack."""


@dataclass(frozen=True, slots=True)
class ScaleBench:
    """One (revision, size) row."""

    label: str
    tables: int
    resources: int
    preflight_seconds: float
    floor_seconds: float
    floor_nogc_seconds: float
    analyze_stack_seconds: float
    ms_per_analyze: float
    program_peak_mb: float
    server_peak_mb: float
    exit_code: int
    analyze_stack_cpu_seconds: float = 0.0
    """The pack process's CPU time (user + system) in one AnalyzeStack (median of 3)."""
    import_floor_nogc_seconds: float = 0.0
    """Prod's size only: ``preflight.bench``'s import floor with the collector off."""
    failure: str = ""
    """Why this size could not be measured (e.g. the preflight run wrote no plan)."""

    @property
    def ratio(self) -> float:
        """Preflight over the scale floor (Python's defaults)."""
        return self.preflight_seconds / self.floor_seconds if self.floor_seconds else 0.0

    @property
    def ratio_nogc(self) -> float:
        """Preflight over the scale floor with the collector off."""
        return self.preflight_seconds / self.floor_nogc_seconds if self.floor_nogc_seconds else 0.0

    @property
    def import_ratio(self) -> float:
        """Preflight over the import floor, both with the collector off (0 when not measured)."""
        if not self.import_floor_nogc_seconds:
            return 0.0
        return self.preflight_seconds / self.import_floor_nogc_seconds

    @property
    def peak_mb(self) -> float:
        """Program and server peaks added up."""
        return self.program_peak_mb + self.server_peak_mb

    def misses(self) -> list[str]:
        """The targets this row misses (empty: all met)."""
        missed: list[str] = []
        if self.ratio > TARGET_FLOOR_RATIO:
            missed.append("floor")
        if self.import_floor_nogc_seconds and self.import_ratio > TARGET_IMPORT_RATIO:
            missed.append("import floor")
        if self.resources >= TARGET_AT_RESOURCES:
            if self.analyze_stack_seconds > TARGET_ANALYZE_STACK_SECONDS:
                missed.append("AnalyzeStack")
            if self.peak_mb > TARGET_PEAK_MB:
                missed.append("memory")
        return missed


def analyze_timings(
    root: Path, overrides: Sequence[str], python: str = sys.executable, stack: str = STACK
) -> dict[str, float]:
    """``ANALYZE_PROGRAM`` in ``root``'s checkout."""
    done = subprocess.run(
        [python, "-c", ANALYZE_PROGRAM, stack, json.dumps(list(overrides))],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Analyze timing in {root} failed:\n{done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench_size(
    label: str,
    root: Path,
    tables: int,
    *,
    repeat: int = 3,
    python: str = sys.executable,
    import_floor: bool = False,
) -> ScaleBench:
    """One size of one checkout: preflight, both scale floors (and the import floor), alternating."""
    overrides = scale_overrides(tables, REPO)
    with tempfile.TemporaryDirectory(prefix="preflight-scale-") as tmp:
        directory = Path(tmp)
        out = directory / "plan.preflight.json"
        argv = [python, "-m", "preflight", "--stack", STACK, "--json", str(out)]
        for pair in overrides:
            argv += ["--set", pair]
        warm = run_monitored(argv, root)
        if not out.is_file():
            return ScaleBench(
                label,
                tables,
                0,
                warm.seconds,
                0.0,
                0.0,
                0.0,
                0.0,
                warm.program_peak / MB,
                warm.server_peak / MB,
                warm.exit_code,
                failure=f"preflight exited {warm.exit_code} after {warm.seconds:.0f} s"
                " without writing its plan",
            )
        document = json.loads(out.read_text(encoding="utf-8"))
        program, plan = floor_program(document, directory)
        project = str(document.get("project", "securecart-data"))
        floor = [python, str(program), str(plan), "gc", project, STACK]
        floor_nogc = [python, str(program), str(plan), "nogc", project, STACK]
        check = run_monitored(floor_nogc, directory)
        if check.exit_code != 0:
            raise RuntimeError(f"{label}: the scale floor failed (exit {check.exit_code})")
        imports = floor_argv(plan_classes(document), gc_on=False, python=python)
        runs, floors, floors_nogc, import_floors = [], [], [], []
        for _ in range(repeat):
            floors.append(run_monitored(floor, directory).seconds)
            runs.append(run_monitored(argv, root))
            floors_nogc.append(run_monitored(floor_nogc, directory).seconds)
            if import_floor:
                import_floors.append(run_monitored(imports, directory).seconds)
    timings = analyze_timings(root, overrides, python)
    resources = document.get("resources")
    return ScaleBench(
        label=label,
        tables=tables,
        resources=len(resources) if isinstance(resources, list) else 0,
        preflight_seconds=statistics.median(r.seconds for r in runs),
        floor_seconds=statistics.median(floors),
        floor_nogc_seconds=statistics.median(floors_nogc),
        analyze_stack_seconds=timings["analyzeStackSeconds"],
        analyze_stack_cpu_seconds=timings["analyzeStackCpuSeconds"],
        ms_per_analyze=timings["msPerAnalyze"],
        program_peak_mb=max(r.program_peak for r in [warm, *runs]) / MB,
        server_peak_mb=max(r.server_peak for r in [warm, *runs]) / MB,
        exit_code=runs[-1].exit_code,
        import_floor_nogc_seconds=statistics.median(import_floors) if import_floors else 0.0,
    )


@contextmanager
def checkout(revision: str, repo: Path = REPO) -> Iterator[Path]:
    """``revision`` in a temporary detached git worktree (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="preflight-before-") as tmp:
        path = Path(tmp) / "checkout"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(path), revision],
            cwd=repo,
            check=True,
            capture_output=True,
        )
        try:
            yield path
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(path)],
                cwd=repo,
                check=False,
                capture_output=True,
            )


def run(
    sizes: Sequence[int] = SIZES,
    repeat: int = 3,
    before: str | None = BEFORE_REVISION,
    root: Path = REPO,
    python: str = sys.executable,
    progress: Callable[[ScaleBench], object] | None = None,
) -> list[ScaleBench]:
    """Every size for the code at ``root`` and, unless ``before`` is None, for that revision;
    ``progress`` sees each row as soon as it is measured."""
    rows = _Rows(progress)
    if before is None:
        for tables in sizes:
            rows.append(
                bench_size(
                    "after", root, tables, repeat=repeat, python=python, import_floor=tables == 0
                )
            )
        return rows
    with checkout(before, root) as old:
        for tables in sizes:
            for label, where in ((f"before ({before})", old), ("after", root)):
                rows.append(
                    bench_size(
                        label, where, tables, repeat=repeat, python=python, import_floor=tables == 0
                    )
                )
    return rows


def table(rows: Sequence[ScaleBench]) -> Table:
    """The scale benchmark as a rich table."""
    result = Table(
        title="preflight at scale: prod with N DynamoDB tables (median of runs; peak RSS over runs)",
        title_justify="left",
        caption=(
            "floor: a generated program registering the plan's resources under Pulumi's mocks"
            " (no pack, no report); no-GC: the same with the collector off; import floor:"
            " preflight.bench's floor with the collector off (prod's size). AnalyzeStack and"
            " ms/Analyze: serial calls to the served pack. Targets:"
            f" <= {TARGET_FLOOR_RATIO:g}x floor at every size, <= {TARGET_IMPORT_RATIO:g}x the"
            f" import floor, AnalyzeStack < {TARGET_ANALYZE_STACK_SECONDS:g} s (wall; 'its CPU s'"
            " is the pack's CPU time in the call) and"
            f" program + server < {TARGET_PEAK_MB:g} MB from {TARGET_AT_RESOURCES} resources"
        ),
        caption_justify="left",
    )
    headers = (
        "code",
        "tables",
        "resources",
        "preflight s",
        "floor s",
        "ratio",
        "no-GC floor s",
        "ratio to it",
        "import floor s",
        "ratio to it",
        "AnalyzeStack s",
        "its CPU s",
        "ms/Analyze",
        "program MB",
        "server MB",
        "exit",
        "targets",
    )
    for header in headers:
        result.add_column(header, justify="left" if header == "code" else "right")
    for row in rows:
        if row.failure:
            result.add_row(
                row.label,
                str(row.tables or "prod"),
                *["-"] * (len(headers) - 6),
                f"{row.program_peak_mb:.0f}",
                f"{row.server_peak_mb:.0f}",
                str(row.exit_code),
                f"[red]{row.failure}[/]",
            )
            continue
        missed = row.misses()
        result.add_row(
            row.label,
            str(row.tables or "prod"),
            str(row.resources),
            f"{row.preflight_seconds:.2f}",
            f"{row.floor_seconds:.2f}",
            _mark(f"{row.ratio:.2f}x", row.ratio <= TARGET_FLOOR_RATIO),
            f"{row.floor_nogc_seconds:.2f}",
            f"{row.ratio_nogc:.2f}x",
            f"{row.import_floor_nogc_seconds:.2f}" if row.import_floor_nogc_seconds else "-",
            _mark(f"{row.import_ratio:.2f}x", row.import_ratio <= TARGET_IMPORT_RATIO)
            if row.import_floor_nogc_seconds
            else "-",
            f"{row.analyze_stack_seconds:.2f}",
            f"{row.analyze_stack_cpu_seconds:.2f}",
            f"{row.ms_per_analyze:.2f}",
            f"{row.program_peak_mb:.0f}",
            f"{row.server_peak_mb:.0f}",
            str(row.exit_code),
            _mark("met" if not missed else "missed: " + ", ".join(missed), not missed),
        )
    return result


def _mark(text: str, ok: bool) -> str:
    return f"[green]{text}[/]" if ok else f"[red]{text}[/]"


def print_table(rows: Sequence[ScaleBench], console: Console | None = None) -> None:
    """Print ``table(rows)``."""
    (console or Console()).print(table(rows))


class _Rows(list[ScaleBench]):
    """A list that reports each row appended (a long benchmark shows what it has so far)."""

    def __init__(self, progress: Callable[[ScaleBench], object] | None) -> None:
        super().__init__()
        self._progress = progress

    def append(self, row: ScaleBench) -> None:
        super().append(row)
        if self._progress is not None:
            self._progress(row)
