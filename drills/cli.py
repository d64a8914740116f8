"""``python -m drills``: plan, run, resume and roll back DR drills; run them in a sandbox."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
from .lease import LeaseBreakRefusedError, LeaseHeldError
from .progress import RichProgress
from .reconcile_steps import stack_file_note
from .report import summary_lines
from .result import DrillResult
from .scenarios import SCENARIOS
from .scenarios import scenario as scenario_definition
from .settings import DrillSettings
from .stackfile import REPO_ROOT, load_stack_settings

# The report's chart is a file, not a message for the operator: matplotlib's own notices (a
# cache directory it could not use, building its font cache) stay out of the drill's output.
logging.getLogger("matplotlib").setLevel(logging.ERROR)

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
RecordingOpt = Annotated[
    bool,
    typer.Option("--recording/--no-recording", help="Seed from the offline plan of the program."),
]
PoliciesOpt = Annotated[
    bool,
    typer.Option(
        "--policies/--no-policies", help="Run the policy pack for the stand-in's previews."
    ),
]
EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="A `python -m drills serve` endpoint (loopback) instead of AWS.",
    ),
]
DEFAULT_STATE = REPO_ROOT / ".drills"
SANDBOX_STATE = "sandbox"
"""Sandbox journals live in ``<state-dir>/sandbox/`` (``list`` shows them, marked)."""

EXIT = {"succeeded": 0, "paused": 3}


def _check_failback(scenario: str, failback: bool) -> None:
    """``--failback`` only where the scenario has a failback phase to add."""
    if not failback:
        return
    definition = scenario_definition(scenario)
    if definition.failback is None:
        allowed = ", ".join(n for n, d in SCENARIOS.items() if d.failback is not None)
        raise UsageProblemError(
            f"--failback means nothing for scenario {definition.name} (it adds a failback "
            f"phase; {definition.name} has none to add); allowed with: {allowed}"
        )


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


@contextmanager
def _cancel_on_signals(cancelled: list[str]) -> Iterator[None]:
    """While nothing has changed yet (the sandbox's preparation): SIGINT/SIGTERM cancel. The
    signal is only remembered; the next preparation checkpoint (every progress line, a second or
    two apart) raises KeyboardInterrupt from the sandbox's own code. Raised from the handler it
    could land anywhere, e.g. inside asyncio's event-loop constructor while the program is
    recorded, whose half-built loop then printed a traceback on the way out. A second signal
    does not wait for the checkpoint."""

    def handler(signum: int, _frame: object) -> None:
        cancelled.append(signal.Signals(signum).name)
        if len(cancelled) > 1:
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
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
    state_dir: Path,
    poll_interval: float | None,
    ignore_alarm: list[str] | None,
    link: Connection,
) -> DrillSettings:
    if link.endpoint_url:  # the emulator's seconds, not AWS's minutes: the sandbox's pace
        from .sandbox import sandbox_settings

        settings = sandbox_settings(state_dir).with_(**link.application_path)
    else:
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
    err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
    return typer.Exit(code)


class UsageProblemError(DrillError):
    """Bad usage the command line detects (exit 2, one line)."""


ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL",)


def _endpoint_variables() -> dict[str, str]:
    """``AWS_ENDPOINT_URL`` and its per-service forms (``AWS_ENDPOINT_URL_<SERVICE>``): what
    would send boto3 somewhere other than AWS (boto3 Developer Guide, "Service-specific
    endpoints")."""
    return {
        k: v
        for k, v in os.environ.items()
        if (k == "AWS_ENDPOINT_URL" or k.startswith("AWS_ENDPOINT_URL_")) and v
    }


@dataclass(frozen=True, slots=True)
class Connection:
    """Where a drill command sends its AWS and Pulumi calls."""

    endpoint_url: str | None
    pulumi_command: Any
    cache_connector: Any | None = None
    application_path: dict[str, str] = field(default_factory=dict)
    """``dns_server``/``ca_file`` of the served region pair: the probes take the application's
    path there, as in the sandbox (empty: AWS, or a service without the real pair)."""
    probe_invoker: Any | None = None
    """The served pair's in-VPC probe function (``app-names``); None on AWS (Lambda)."""


def _connect(endpoint_url: str | None) -> Connection:
    """AWS (and the Pulumi CLI), or a ``drills serve`` endpoint (and, without a ``pulumi`` on
    PATH, the stand-in it serves). ``AWS_ENDPOINT_URL`` set in the environment is refused: a
    drill talks to AWS, or to an emulator it was told about explicitly."""
    stray = _endpoint_variables()
    if endpoint_url is None:
        if stray:
            name, value = next(iter(sorted(stray.items())))
            raise UsageProblemError(
                f"{name} is set ({value}): drills talk to AWS, or to `python -m drills serve` "
                "through --endpoint-url; unset it"
            )
        return Connection(None, _real_pulumi())
    from urllib.parse import urlsplit

    from .serve import RemotePulumiCommand, ServeClient

    parts = urlsplit(endpoint_url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not loopback or parts.port is None:
        raise UsageProblemError(
            f"--endpoint-url has value {endpoint_url!r}; allowed: the http://127.0.0.1:PORT "
            "address `python -m drills serve` printed (loopback only)"
        )
    if stray and any(v.rstrip("/") != endpoint_url.rstrip("/") for v in stray.values()):
        raise UsageProblemError(
            f"{', '.join(sorted(stray))} is set and differs from --endpoint-url: unset it"
        )
    client = ServeClient(endpoint_url, timeout=10.0)
    try:
        application_path = client.application_path()
    except OSError as exc:
        raise UsageProblemError(
            f"--endpoint-url {endpoint_url}: no `python -m drills serve` answers there ({exc})"
        ) from exc
    client.timeout = 300.0
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
        }
    )
    pulumi = _real_pulumi() if shutil.which("pulumi") else RemotePulumiCommand(client)
    invoker = client.invoke_probe if application_path else None
    return Connection(endpoint_url, pulumi, client.connect, application_path, invoker)


def _journal_endpoint(journal: Journal, endpoint_url: str | None) -> None:
    """A drill is resumed or rolled back against what it ran against."""
    ran = journal.data.get("endpoint_url")
    if (ran or None) == (endpoint_url or None):
        return
    if ran:
        raise UsageProblemError(
            f"drill {journal.drill_id} ran against the emulator at {ran}: pass --endpoint-url {ran}"
        )
    raise UsageProblemError(
        f"drill {journal.drill_id} ran against AWS, not an emulator: drop --endpoint-url"
    )


@app.command()
def plan(
    stack: StackOpt,
    scenario: ScenarioOpt,
    failback: FailbackOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the steps a drill would take and the preconditions it checks, without acting."""
    try:
        _check_failback(scenario, failback)
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
        float | None,
        typer.Option("--poll-interval", min=0.001, help="Seconds between polls (default 2)."),
    ] = None,
    ignore_alarm: Annotated[
        list[str] | None, typer.Option("--ignore-alarm", help="Alarm that is not a stop condition.")
    ] = None,
    endpoint_url: EndpointOpt = None,
    allow_data_loss: Annotated[
        bool,
        typer.Option(
            "--allow-data-loss",
            help="unplanned-failover of a primary that still answers: accept a lossy failover.",
        ),
    ] = False,
) -> None:
    """Run a drill against a deployed stack (real AWS and the Pulumi CLI, or `drills serve`)."""
    try:
        _check_failback(scenario, failback)
        # Refuse prod before touching anything, the CLI and AWS included.
        if not yes_i_mean_prod and (stack == "prod" or load_stack_settings(stack).is_production):
            raise ConfirmationRequiredError(stack)
        link = _connect(endpoint_url)
        env = DrillEnvironment(
            settings=_settings(state_dir, poll_interval, ignore_alarm, link),
            probe_invoker=link.probe_invoker,
            pulumi_command=link.pulumi_command,
            observers=[RichProgress()],
            report_dir=report,
            cache_connector=link.cache_connector,
            endpoint_url=link.endpoint_url,
            allow_data_loss=allow_data_loss,
        )
        with stop_on_signals() as received:
            result = start_drill(
                stack, scenario, env, failback=failback, confirm_production=yes_i_mean_prod
            )
    except LeaseHeldError as exc:  # refused: another drill holds the stack
        raise _fail(exc, 1) from exc
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
    endpoint_url: EndpointOpt = None,
    resend: Annotated[
        bool,
        typer.Option(
            "--resend",
            help="Send again a call journaled as sent that AWS shows neither done nor in flight.",
        ),
    ] = False,
) -> None:
    """Finish a drill that was interrupted (crash) or paused (waiting for a region)."""
    result = _continue(drill_id, state_dir, report, resume_drill, endpoint_url, resend=resend)
    raise typer.Exit(_exit_code(result))


@app.command()
def rollback(
    drill_id: Annotated[
        str | None, typer.Argument(help="The drill id (see `list`).", show_default=False)
    ] = None,
    state_dir: StateOpt = DEFAULT_STATE,
    report: ReportOpt = None,
    endpoint_url: EndpointOpt = None,
    unfinished: Annotated[
        bool,
        typer.Option(
            "--unfinished",
            help="Every drill of --state-dir that is not over (CI's cancellation step).",
        ),
    ] = False,
) -> None:
    """Undo a drill that was interrupted: writers, stack config and canaries back to the start."""
    if (drill_id is None) == (not unfinished):
        raise _fail(UsageProblemError("rollback needs a drill id or --unfinished (not both)"))
    if drill_id is not None:
        result = _continue(drill_id, state_dir, report, rollback_drill, endpoint_url)
        raise typer.Exit(0 if result.status == "rolled-back" else 1)
    pending = [
        d
        for d in list_drills(state_dir)
        if effective_status(Journal.load(state_dir, d)) in UNFINISHED
    ]
    if not pending:
        typer.echo(f"no unfinished drill in {state_dir}: nothing to roll back")
        raise typer.Exit(0)
    statuses = [
        _continue(d, state_dir, report, rollback_drill, endpoint_url).status for d in pending
    ]
    raise typer.Exit(0 if all(s == "rolled-back" for s in statuses) else 1)


UNFINISHED = {"running", "paused", "interrupted", "rolling-back", "rollback-failed"}
"""Statuses ``rollback --unfinished`` rolls back (``list`` shows a dead running drill as
interrupted)."""


def _continue(
    drill_id: str,
    state_dir: Path,
    report: Path | None,
    action: Callable[[str, DrillEnvironment], DrillResult],
    endpoint_url: str | None = None,
    *,
    resend: bool = False,
) -> DrillResult:
    """Load a journaled drill and resume or roll it back against the real stack."""
    try:
        journal = _load_journal(state_dir, drill_id)
        if journal.data.get("sandbox"):
            raise JournalError(
                f"drill {drill_id} ran in the sandbox: its emulator (the only AWS it touched) "
                "lived in that process and is gone, so there is nothing to resume or roll "
                "back; interrupting a sandbox drill rolls it back in place. Run `python -m "
                "drills sandbox ...` again."
            )
        _journal_endpoint(journal, endpoint_url)
        link = _connect(endpoint_url)
        env = DrillEnvironment(
            settings=DrillSettings(state_dir=state_dir),
            pulumi_command=link.pulumi_command,
            observers=[RichProgress()],
            report_dir=report,
            cache_connector=link.cache_connector,
            probe_invoker=link.probe_invoker,
            endpoint_url=link.endpoint_url,
            resend=resend,
        )
        with stop_on_signals() as received:
            result = action(drill_id, env)
    except LeaseHeldError as exc:
        raise _fail(exc, 1) from exc
    except DrillError as exc:
        raise _fail(exc) from exc
    _summary(result)
    _after(result, state_dir, received)
    return result


def _load_journal(state_dir: Path, drill_id: str) -> Journal:
    """A journal from ``state_dir``, or from its sandbox folder (where sandbox drills live)."""
    try:
        return Journal.load(state_dir, drill_id)
    except JournalError:
        if (state_dir / SANDBOX_STATE / drill_id / "journal.json").is_file():
            return Journal.load(state_dir / SANDBOX_STATE, drill_id)
        raise


@app.command("list")
def list_(state_dir: StateOpt = DEFAULT_STATE, endpoint_url: EndpointOpt = None) -> None:
    """List drills with a journal (sandbox drills marked); with --endpoint-url, only the drills
    that ran against that `drills serve`."""
    rows: list[tuple[str, str, str, str]] = []
    for folder, sandbox in ((state_dir, False), (state_dir / SANDBOX_STATE, True)):
        for drill_id in list_drills(folder):
            journal = Journal.load(folder, drill_id)
            ran = journal.data.get("endpoint_url")
            if endpoint_url is not None and (ran or "").rstrip("/") != endpoint_url.rstrip("/"):
                continue
            status = effective_status(journal)
            if sandbox:
                upcoming = "- (sandbox: rolled back in place when interrupted)"
                status = f"{status} (sandbox)"
            else:
                upcoming = next_command(drill_id, status, state_dir) or "-"
                if upcoming != "-" and ran:
                    upcoming = upcoming.replace(
                        f" {drill_id}", f" {drill_id} --endpoint-url {ran}", 1
                    )
            reason = " ".join(str(journal.data.get("reason", "")).split())[:80]
            rows.append((drill_id, status, reason, upcoming))
    if not out.is_terminal:  # piped: whole values, one drill a line, tab-separated
        for row in rows:
            typer.echo("\t".join(row))
        return
    table = Table()
    for column in ("drill", "status", "reason", "next"):
        table.add_column(column, overflow="fold")
    table.columns[0].no_wrap = True
    for row in rows:
        table.add_row(*row)
    out.print(table)


@app.command("break-lease")
def break_lease_(
    stack: StackOpt,
    drill: Annotated[str, typer.Option("--drill", help="The drill whose lease to break.")],
    endpoint_url: EndpointOpt = None,
) -> None:
    """Break the expired lease of a drill whose process is gone (one drill per stack)."""
    from .aws import AwsClients
    from .lease import BREAK_MARGIN_SECONDS, break_lease, iso, lease_ref

    try:
        link = _connect(endpoint_url)
        env = DrillEnvironment(pulumi_command=link.pulumi_command)
        ref = lease_ref(env.reconciler(stack).outputs())
        if ref is None:
            raise UsageProblemError(
                f"stack {stack} exports no drillLease: it has no lease to break"
            )
        broken = break_lease(AwsClients(DrillSettings()), ref, stack, drill)
    except LeaseBreakRefusedError as exc:
        raise _fail(exc, 1) from exc
    except DrillError as exc:
        raise _fail(exc) from exc
    typer.echo(
        f"broke the lease of drill {broken.drill_id} (host {broken.host}, pid {broken.pid}, "
        f"since {iso(broken.started_at)}; expired {iso(broken.expires_at)}, more than "
        f"{BREAK_MARGIN_SECONDS:g} s ago): finish that drill with `rollback` where its journal is"
    )


@app.command()
def serve(
    stack: StackOpt = "dev",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (0: any free one).")
    ] = 0,
    recording: RecordingOpt = True,
    policies: PoliciesOpt = True,
    time_scale: Annotated[
        float,
        typer.Option(
            "--time-scale",
            min=0.001,
            help="Multiply the emulated durations (1: the sandbox's seconds).",
        ),
    ] = 1.0,
    root: Annotated[
        Path,
        typer.Option("--root", help="The Pulumi project (Pulumi.yaml, stacks/, policies/)."),
    ] = REPO_ROOT,
) -> None:
    """Serve the sandbox's emulator for a stack until SIGINT or SIGTERM (first line:
    endpoint=URL); `run|resume|rollback|list --endpoint-url URL` drive it as they drive AWS."""
    from .serve import print_endpoint
    from .serve import serve as run_service

    logging.basicConfig(level=logging.WARNING)
    try:
        code = run_service(
            stack,
            root=root,
            port=port,
            use_recording=recording,
            policies=policies,
            time_scale=time_scale,
            say=lambda message: err.print(f"[dim]serve: {message}[/]", soft_wrap=True),
            ready=print_endpoint,
        )
    except (DrillError, ValueError, OSError) as exc:
        raise _fail(exc) from exc
    raise typer.Exit(code)


@app.command()
def sandbox(
    stack: StackOpt = "dev",
    scenario: ScenarioOpt = "planned-switchover",
    failback: FailbackOpt = False,
    report: Annotated[Path, typer.Option("--report", help="Report directory.")] = REPO_ROOT
    / "reports"
    / "drills",
    recording: RecordingOpt = True,
    policies: PoliciesOpt = True,
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
    state_dir: Annotated[
        Path, typer.Option("--state-dir", help="Journals go to <state-dir>/sandbox/.")
    ] = DEFAULT_STATE,
    allow_data_loss: Annotated[
        bool,
        typer.Option(
            "--allow-data-loss",
            help="A lossy failover of a primary that still answers (unplanned-failover with "
            "--keep-primary, neptune-failover): accept it, as `run` does. --lose-primary "
            "implies it: the sandbox takes the primary down itself.",
        ),
    ] = False,
) -> None:
    """Run a drill against a local emulator seeded from the stack's planned resources."""
    from .sandbox import LosePrimaryRegion, Sandbox, sandbox_settings

    logging.basicConfig(level=logging.WARNING)
    try:
        _check_failback(scenario, failback)
    except DrillError as exc:
        raise _fail(exc) from exc
    progress = RichProgress(err)
    cancelled: list[str] = []

    def say(message: str) -> None:
        if cancelled:  # a checkpoint between preparation steps
            raise KeyboardInterrupt
        err.print(f"[dim]sandbox: {message}[/]", soft_wrap=True)

    box = Sandbox(stack, root=root, use_recording=recording, policies=policies, progress=say)
    started = False
    try:
        with (
            err.status("preparing the sandbox (offline plan, emulator)..."),
            _cancel_on_signals(cancelled),
        ):
            box.start()
            if cancelled:
                raise KeyboardInterrupt
        for note in box.notes:
            err.print(f"[dim]sandbox: {note}[/]", soft_wrap=True)
        sandbox_state = state_dir / SANDBOX_STATE
        observers: list[Any] = [progress]
        losing = lose_primary and scenario in {"unplanned-failover", "failover"}
        if losing:
            if box.topology is None:
                raise DrillError("the sandbox has no topology after start()")
            observers.append(LosePrimaryRegion(box.emulator, box.topology.primary_region, 2.0))
            # The sandbox itself takes the primary down, right after the canaries and so after
            # the preconditions, which still find it answering: the loss is the scenario asked
            # for, so the consent `run` wants for a healthy primary is given here.
            err.print(
                f"[dim]sandbox: {box.topology.primary_region} stops answering after the "
                "canaries (--lose-primary): the failover's data loss is this scenario's "
                "subject, accepted[/]",
                soft_wrap=True,
            )
        env = box.environment(
            sandbox_settings(sandbox_state),
            observers=observers,
            report_dir=report,
            allow_data_loss=allow_data_loss or losing,
        )
        with stop_on_signals() as received:
            started = True
            result = box.run(scenario, env, failback=failback)
        if received:
            err.print(f"interrupted by {received[0]}: the sandbox drill is {result.status}")
    except KeyboardInterrupt:
        if started:
            raise
        err.print(
            "interrupted before the drill started: nothing changed (no drill ran; the "
            "sandbox's emulator, the only AWS it would touch, is gone)"
        )
        raise typer.Exit(130) from None
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
    """Entry point (``python -m drills``): usage errors are one line on stderr and exit 2;
    no arguments at all prints the help (and exits 2: no command was given)."""
    from typer._click import core as click_core
    from typer._click import exceptions as click

    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        command = typer.main.get_command(app)
        with click_core.Context(command, info_name="python -m drills") as context:
            typer.echo(command.get_help(context))
        return 2
    try:
        code = app(args=args, prog_name="python -m drills", standalone_mode=False)
        if isinstance(code, int):
            return code
    except typer.Exit as done:
        return int(done.exit_code)
    except SystemExit as exc:
        return int(exc.code or 0)
    except typer.Abort:
        sys.stderr.write("aborted\n")
        return 130
    except click.UsageError as exc:
        message = " ".join(exc.format_message().split())
        where = exc.ctx.command_path if exc.ctx is not None else "python -m drills"
        sys.stderr.write(f"error: {message} (see: {where} --help)\n")
        return 2
    except click.ClickException as exc:
        sys.stderr.write(f"error: {' '.join(exc.format_message().split())}\n")
        return exc.exit_code
    return 0
