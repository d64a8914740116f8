"""``python -m drills``: plan, run, resume and roll back DR drills; run them in a sandbox."""

from __future__ import annotations

import json
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .drill import (
    ConfirmationRequiredError,
    DrillEnvironment,
    plan_drill,
    resume_drill,
    rollback_drill,
    start_drill,
)
from .engine import Step, interrupt_all
from .errors import DrillConfigError, DrillError, JournalError
from .journal import Journal, effective_status, list_drills
from .progress import RichProgress
from .reconcile_steps import stack_file_note
from .report import summary_lines
from .result import DrillResult
from .scenarios import SCENARIOS
from .settings import DrillSettings
from .stackfile import REPO_ROOT, load_stack_settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Disaster-recovery drills for the securecart-data stacks (Automation API + boto3).",
)
out = Console()
err = Console(stderr=True)

StackOpt = Annotated[str, typer.Option("--stack", "-s", help="Stack name (dev, staging, prod).")]
ScenarioOpt = Annotated[
    str, typer.Option("--scenario", "-S", help=f"One of: {', '.join(SCENARIOS)}.")
]
FailbackOpt = Annotated[
    bool, typer.Option("--failback", help="Fail back afterwards (measured too).")
]
ReportOpt = Annotated[
    Path | None, typer.Option("--report", help="Write report.md, report.json, timeline.png here.")
]
StateOpt = Annotated[Path, typer.Option("--state-dir", help="Where journals live.")]
DEFAULT_STATE = REPO_ROOT / ".drills"

EXIT = {"succeeded": 0, "paused": 3}


def _exit_code(result: DrillResult) -> int:
    return EXIT.get(result.status, 1)


def next_command(drill_id: str, status: str, state_dir: Path) -> str | None:
    """The command that finishes a drill in ``status`` (None when nothing is left to do)."""
    where = "" if state_dir == DEFAULT_STATE else f" --state-dir {state_dir}"
    if status == "paused":
        return f"python -m drills resume {drill_id}{where}  (or: rollback {drill_id})"
    if status in {"interrupted", "running"}:
        return f"python -m drills rollback {drill_id}{where}  (or: resume {drill_id})"
    if status in {"rolling-back", "rollback-failed"}:
        return f"python -m drills rollback {drill_id}{where}"
    return None


@contextmanager
def stop_on_signals() -> Iterator[list[str]]:
    """SIGINT/SIGTERM stop the drill safely: the AWS call in progress finishes, then the drill
    rolls back (or pauses where a rollback needs a region that is not back). A second signal
    is reported and ignored: the undo in progress must finish."""
    received: list[str] = []

    def handler(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        received.append(name)
        if len(received) == 1:
            interrupt_all(name)
            err.print(
                f"[bold yellow]{name}[/]: finishing the AWS call in progress, then rolling back"
            )
        else:
            err.print(f"[bold yellow]{name}[/]: the rollback is running; let it finish")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _after(result: DrillResult, state_dir: Path, received: list[str]) -> None:
    """Tell the operator what finishes the job, when something is left."""
    command = next_command(result.drill_id, result.status, state_dir)
    if received:
        err.print(f"interrupted by {received[0]}: the drill is {result.status}")
    if command:
        err.print(f"to finish it: [bold]{command}[/]")


def _summary(result: DrillResult) -> None:
    table = Table(title=f"drill {result.drill_id}", title_justify="left")
    for column in ("status", "RTO", "RPO", "canaries lost", "objectives met", "report"):
        table.add_column(column)
    table.add_row(
        result.status,
        "n/a" if result.rto_seconds is None else f"{result.rto_seconds:.3f} s",
        "n/a" if result.rpo_seconds is None else f"{result.rpo_seconds:.3f} s",
        "n/a" if result.canaries_lost is None else str(result.canaries_lost),
        {True: "yes", False: "no", None: "-"}[result.objectives_met],
        result.reports.get("markdown", "-"),
    )
    out.print(table)
    if result.reason and not result.succeeded:
        err.print(f"[bold]{result.status}[/]: {result.reason}")


def _settings(
    state_dir: Path, poll_interval: float | None, ignore_alarm: list[str] | None
) -> DrillSettings:
    settings = DrillSettings(state_dir=state_dir)
    if poll_interval is not None:
        settings = settings.with_(poll_interval=poll_interval)
    if ignore_alarm:
        settings = settings.with_(ignored_alarms=tuple(ignore_alarm))
    return settings


def _real_pulumi() -> Any:
    from pulumi.automation import PulumiCommand

    try:
        return PulumiCommand()
    except FileNotFoundError as exc:
        raise DrillConfigError(
            "pulumi", None, "the Pulumi CLI on PATH (or run `python -m drills sandbox`)"
        ) from exc


def _fail(exc: Exception, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {exc}")
    return typer.Exit(code)


@app.command()
def plan(
    stack: StackOpt,
    scenario: ScenarioOpt,
    failback: FailbackOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the steps a drill would take and the preconditions it checks, without acting."""
    try:
        drill_plan = plan_drill(stack, scenario, failback=failback)
    except (DrillError, ValueError) as exc:
        raise _fail(exc) from exc
    settings = DrillSettings()
    steps: list[Step] = drill_plan.steps
    if as_json:
        payload = {
            "stack": stack,
            "scenario": drill_plan.scenario.name,
            "primaryRegion": drill_plan.primary_region,
            "secondaryRegion": drill_plan.secondary_region,
            "objectives": drill_plan.objectives.to_json(),
            "preconditions": [
                {"check": c.pattern, "demands": c.description} for c in drill_plan.preconditions
            ],
            "steps": [
                {**s.describe(), "timeoutSeconds": getattr(settings.timeouts, s.timeout)}
                for s in steps
            ],
        }
        out.print_json(json.dumps(payload))
        return
    out.print(
        f"[bold]{drill_plan.scenario.title}[/] on [bold]{stack}[/]: {drill_plan.scenario.summary}"
    )
    out.print(
        f"primary {drill_plan.primary_region} -> secondary {drill_plan.secondary_region}; "
        f"objectives RTO {drill_plan.objectives.rto_seconds:g}s, RPO {drill_plan.objectives.rpo_seconds:g}s, "
        f"max replication lag {drill_plan.objectives.max_replication_lag_seconds:g}s"
    )
    out.print("\n[bold]Preconditions[/] (the drill refuses to start otherwise):")
    for item in drill_plan.preconditions:
        out.print(f"  - {item.pattern}: {item.description}")
    table = Table(title="Steps", title_justify="left")
    for column in ("#", "step", "what", "timeout", "rollback"):
        table.add_column(column)
    for i, s in enumerate(steps, 1):
        table.add_row(
            str(i),
            s.name,
            s.title,
            f"{getattr(settings.timeouts, s.timeout):g}s",
            "undo" if s.undo else "-",
        )
    out.print(table)
    out.print(
        "Stop conditions: any stack alarm going to ALARM, or a step exceeding its timeout, aborts "
        "and rolls back. The single-writer invariant is checked after every step."
    )
    if any(s.name.endswith("swap-config") for s in steps):
        out.print(
            f"[bold]Stack file[/]: this drill swaps the region pair; {stack_file_note(stack)}."
        )


@app.command()
def run(
    stack: StackOpt,
    scenario: ScenarioOpt,
    failback: FailbackOpt = False,
    report: ReportOpt = None,
    yes_i_mean_prod: Annotated[
        bool, typer.Option("--yes-i-mean-prod", help="Required to drill prod.")
    ] = False,
    state_dir: StateOpt = DEFAULT_STATE,
    poll_interval: Annotated[
        float | None, typer.Option("--poll-interval", help="Seconds between polls (default 2).")
    ] = None,
    ignore_alarm: Annotated[
        list[str] | None, typer.Option("--ignore-alarm", help="Alarm that is not a stop condition.")
    ] = None,
    allow_data_loss: Annotated[
        bool,
        typer.Option(
            "--allow-data-loss",
            help="unplanned-failover of a primary that still answers: accept a lossy failover.",
        ),
    ] = False,
) -> None:
    """Run a drill against a deployed stack (real AWS and the Pulumi CLI)."""
    try:
        # Refuse prod before touching anything, the CLI and AWS included.
        if not yes_i_mean_prod and (stack == "prod" or load_stack_settings(stack).is_production):
            raise ConfirmationRequiredError(stack)
        env = DrillEnvironment(
            settings=_settings(state_dir, poll_interval, ignore_alarm),
            pulumi_command=_real_pulumi(),
            observers=[RichProgress()],
            report_dir=report,
            allow_data_loss=allow_data_loss,
        )
        with stop_on_signals() as received:
            result = start_drill(
                stack, scenario, env, failback=failback, confirm_production=yes_i_mean_prod
            )
    except (DrillError, ValueError) as exc:
        raise _fail(exc) from exc
    _summary(result)
    _after(result, state_dir, received)
    raise typer.Exit(_exit_code(result))


@app.command()
def resume(
    drill_id: Annotated[str, typer.Argument(help="The drill id (see `list`).")],
    state_dir: StateOpt = DEFAULT_STATE,
    report: ReportOpt = None,
    resend: Annotated[
        bool,
        typer.Option(
            "--resend",
            help="Send again a call journaled as sent that AWS shows neither done nor in flight.",
        ),
    ] = False,
) -> None:
    """Finish a drill that was interrupted (crash) or paused (waiting for a region)."""
    result = _continue(drill_id, state_dir, report, resume_drill, resend=resend)
    raise typer.Exit(_exit_code(result))


@app.command()
def rollback(
    drill_id: Annotated[str, typer.Argument(help="The drill id (see `list`).")],
    state_dir: StateOpt = DEFAULT_STATE,
    report: ReportOpt = None,
) -> None:
    """Undo a drill that was interrupted: writers, stack config and canaries back to the start."""
    result = _continue(drill_id, state_dir, report, rollback_drill)
    raise typer.Exit(0 if result.status == "rolled-back" else 1)


def _continue(
    drill_id: str,
    state_dir: Path,
    report: Path | None,
    action: Callable[[str, DrillEnvironment], DrillResult],
    *,
    resend: bool = False,
) -> DrillResult:
    """Load a journaled drill and resume or roll it back against the real stack."""
    try:
        journal = Journal.load(state_dir, drill_id)
        if journal.data.get("sandbox"):
            raise JournalError(
                f"drill {drill_id} ran in the sandbox: its emulator (the only AWS it touched) "
                "lived in that process and is gone, so there is nothing to resume or roll "
                "back; interrupting a sandbox drill rolls it back in place. Run `python -m "
                "drills sandbox ...` again."
            )
        env = DrillEnvironment(
            settings=DrillSettings(state_dir=state_dir),
            pulumi_command=_real_pulumi(),
            observers=[RichProgress()],
            report_dir=report,
            resend=resend,
        )
        with stop_on_signals() as received:
            result = action(drill_id, env)
    except DrillError as exc:
        raise _fail(exc) from exc
    _summary(result)
    _after(result, state_dir, received)
    return result


@app.command("list")
def list_(state_dir: StateOpt = DEFAULT_STATE) -> None:
    """List drills with a journal."""
    table = Table()
    for column in ("drill", "status", "reason", "next"):
        table.add_column(column)
    for drill_id in list_drills(state_dir):
        journal = Journal.load(state_dir, drill_id)
        status = effective_status(journal)
        table.add_row(
            drill_id,
            status,
            str(journal.data.get("reason", ""))[:80],
            next_command(drill_id, status, state_dir) or "-",
        )
    out.print(table)


@app.command()
def sandbox(
    stack: StackOpt = "dev",
    scenario: ScenarioOpt = "planned-switchover",
    failback: FailbackOpt = False,
    report: Annotated[Path, typer.Option("--report", help="Report directory.")] = REPO_ROOT
    / "reports"
    / "drills",
    recording: Annotated[
        bool,
        typer.Option(
            "--recording/--no-recording", help="Seed from the offline plan of the program."
        ),
    ] = True,
    policies: Annotated[
        bool,
        typer.Option(
            "--policies/--no-policies", help="Run the policy pack for the stand-in's previews."
        ),
    ] = True,
    lose_primary: Annotated[
        bool,
        typer.Option(
            "--lose-primary/--keep-primary", help="unplanned-failover: the primary stops answering."
        ),
    ] = True,
    root: Annotated[
        Path,
        typer.Option("--root", help="The Pulumi project (Pulumi.yaml, stacks/, policies/)."),
    ] = REPO_ROOT,
) -> None:
    """Run a drill against a local emulator seeded from the stack's planned resources."""
    import tempfile

    from .sandbox import LosePrimaryRegion, Sandbox, sandbox_settings

    logging.basicConfig(level=logging.WARNING)
    progress = RichProgress(err)
    box = Sandbox(
        stack,
        root=root,
        use_recording=recording,
        policies=policies,
        progress=lambda message: err.print(f"[dim]sandbox: {message}[/]"),
    )
    try:
        with err.status("preparing the sandbox (offline plan, emulator)..."):
            box.start()
        for note in box.notes:
            err.print(f"[dim]sandbox: {note}[/]")
        state_dir = Path(tempfile.mkdtemp(prefix="drills-sandbox-"))
        observers: list[Any] = [progress]
        if lose_primary and scenario in {"unplanned-failover", "failover"}:
            if box.topology is None:
                raise DrillError("the sandbox has no topology after start()")
            observers.append(LosePrimaryRegion(box.emulator, box.topology.primary_region, 2.0))
        env = box.environment(sandbox_settings(state_dir), observers=observers, report_dir=report)
        with stop_on_signals() as received:
            result = box.run(scenario, env, failback=failback)
        if received:
            err.print(f"interrupted by {received[0]}: the sandbox drill is {result.status}")
    except (DrillError, ValueError) as exc:
        raise _fail(exc) from exc
    finally:
        box.stop()
    for line in summary_lines(result):  # plain lines: no wrapping, no markup
        typer.echo(line)
    for kind in ("markdown", "json", "png"):
        if kind in result.reports:
            typer.echo(str(Path(result.reports[kind]).resolve()))
    raise typer.Exit(_exit_code(result))


def main(argv: list[str] | None = None) -> int:
    """Entry point (``python -m drills``)."""
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int):
            return code
    except typer.Exit as done:
        return int(done.exit_code)
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:  # click's usage errors and the like
        import click

        if isinstance(exc, click.ClickException):
            exc.show(file=sys.stderr)
            return exc.exit_code
        raise
    return 0
