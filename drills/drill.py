"""Starting, resuming and rolling back drills (the API the CLI, the sandbox and tests use)."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pulumi.automation import PulumiCommand

from .aws import AwsClients
from .engine import DrillContext, DrillObserver, DrillRunner, Step
from .errors import (
    DrillConfigError,
    DrillError,
    DrillLockedError,
    JournalError,
    RegionUnavailableError,
)
from .fault import TEMPLATES_OUTPUT
from .journal import DRILL_REFUSED, RESUMABLE, ROLLBACKABLE, Journal, new_drill_id
from .lease import LEASE_OUTPUT, DrillLease, LeaseHeldError
from .preconditions import CheckDef, planned
from .reconcile import StackReconciler
from .report import write_reports
from .result import DrillResult, build_result
from .scenarios import Scenario, ScenarioOptions, init_phases, scenario
from .settings import DrillSettings
from .stackfile import REPO_ROOT, Objectives, parse_objectives, project_name
from .stop_conditions import stop_condition_alarms
from .stores import AuroraGlobal
from .target import StackTarget, arn_accounts, target_from_outputs
from .writers import every_writer

log = logging.getLogger("drills.drill")


class ConfirmationRequiredError(DrillConfigError):
    """Production drills need an explicit confirmation."""

    def __init__(self, stack: str) -> None:
        super().__init__("--yes-i-mean-prod", False, f"an explicit confirmation to drill {stack}")


@dataclass(slots=True)
class DrillEnvironment:
    """Everything a drill needs from outside: Pulumi, AWS, settings, observers."""

    settings: DrillSettings = field(default_factory=DrillSettings)
    work_dir: Path = REPO_ROOT
    pulumi_command: PulumiCommand | None = None
    """None: the real ``pulumi`` CLI on PATH (the SDK checks its version)."""
    observers: list[DrillObserver] = field(default_factory=list)
    session: Any | None = None
    """A boto3 Session (default: boto3's standard configuration chain)."""
    report_dir: Path | None = None
    """Write report.md, report.json and timeline.png here when set."""
    env_vars: dict[str, str] = field(default_factory=dict)
    sandbox: bool = False
    """The drill runs against the sandbox's in-process emulator (recorded in the journal)."""
    cache_connector: Any | None = None
    """Opens connections to cache endpoints (None: TLS, as in-transit encryption requires)."""
    probe_invoker: Any | None = None
    """``(region, event) -> answer``: the in-VPC probe function's work (the sandbox runs its
    code in-process against the region pair); None: invoke the stack's function on AWS."""
    endpoint_url: str | None = None
    """A ``drills serve`` endpoint instead of AWS (recorded in the journal)."""
    allow_data_loss: bool = False
    """``run --allow-data-loss``: a lossy failover of a primary that still answers is accepted."""
    expectation: Any | None = None
    """What a region swap changes (``drills.reconcile.Expectation``); None: the program's
    offline plans of both pairs (``preflight``)."""
    resend: bool = False
    """``resume --resend``: send again a call journaled as sent that AWS shows neither done nor
    in flight (otherwise the drill pauses and says what to check)."""

    def reconciler(self, stack: str, settings: DrillSettings | None = None) -> StackReconciler:
        """The Automation API driver for ``stack``."""
        s = settings or self.settings
        return StackReconciler(
            stack,
            self.work_dir,
            project_name(self.work_dir),
            self.pulumi_command,
            policy_pack=s.policy_pack,
            policy_config=s.policy_config.format(stack=stack),
            busy_retries=s.busy_retries,
            busy_backoff=s.poll_interval,
            env_vars=self.env_vars,
            expectation=self.expectation,
        )


def objectives_from_config(config: dict[str, Any]) -> Objectives | None:
    """Objectives from the stack config (``drills`` or flat ``drillsRtoSeconds`` keys)."""
    if "drills" in config:
        return parse_objectives(config["drills"])
    flat = {k[len("drills") :]: v for k, v in config.items() if k.startswith("drills")}
    if not flat:
        return None
    return parse_objectives({k[:1].lower() + k[1:]: v for k, v in flat.items()})


def _context(
    journal: Journal,
    target: StackTarget,
    env: DrillEnvironment,
    settings: DrillSettings,
    reconciler: StackReconciler,
    clients: AwsClients | None = None,
    lease: DrillLease | None = None,
) -> DrillContext:
    ctx = DrillContext(
        journal,
        target,
        settings,
        clients or AwsClients(settings, env.session),
        reconciler,
        list(env.observers),
    )

    def stop_checker(ctx: DrillContext) -> list[str]:
        if lease is not None:
            lease.check()  # a broken lease stops the drill like a stop condition
        return stop_condition_alarms(ctx)

    ctx.stop_checker = stop_checker
    ctx.cache_connector = env.cache_connector
    ctx.probe_invoker = env.probe_invoker
    ctx.resend = env.resend
    if env.allow_data_loss:
        journal.state["allow_data_loss"] = True
    return ctx


class StackNotReadyError(DrillError):
    """The deployed stack lacks something every drill needs (named in the message)."""


class IdentityError(DrillError):
    """The AWS credentials belong to another account than the stack's resources."""


def check_identity(clients: AwsClients, target: StackTarget) -> str:
    """STS ``GetCallerIdentity`` against the account in the ARNs of the stack outputs: a drill
    with the wrong profile refuses before it reads or writes anything else (returns the
    account). GetCallerIdentity needs no permission (STS API Reference, GetCallerIdentity)."""
    accounts = arn_accounts(target)
    if not accounts:
        raise DrillConfigError(
            "output auroraClusters", None, "cluster ARNs naming the stack's account"
        )
    answer = clients.call("sts", target.primary_region, "get_caller_identity")
    caller = str(answer.get("Account", ""))
    wrong = {arn: account for arn, account in accounts.items() if account != caller}
    if wrong:
        arn, account = next(iter(sorted(wrong.items())))
        raise IdentityError(
            f"the AWS credentials are for account {caller} ({answer.get('Arn', '?')}), but the "
            f"stack's resources are in account {account} ({arn}): refusing to drill with "
            "another account's credentials (check AWS_PROFILE / the role you assumed)"
        )
    return caller


def _take_lease(
    clients: AwsClients, target: StackTarget, journal: Journal, settings: DrillSettings
) -> DrillLease | None:
    """Acquire the stack's lease (refusal: the journal says why) and start its heartbeat."""
    if target.lease is None:
        return None
    lease = DrillLease(
        clients, target.lease, str(journal.data["stack"]), journal.drill_id, settings.lease_seconds
    )
    try:
        lease.acquire()
    except LeaseHeldError as exc:
        journal.set_status(DRILL_REFUSED, str(exc))
        raise
    journal.data["lease"] = {**target.lease.to_json(), "holder": journal.drill_id}
    lease.start_heartbeat()
    return lease


def _let_go(lease: DrillLease | None, journal: Journal) -> None:
    """Release the lease when the drill is over; keep it (heartbeat stopped) when it paused,
    crashed or was interrupted, so only its resume or rollback can take the stack again."""
    if lease is None:
        return
    if journal.status in RESUMABLE | ROLLBACKABLE:
        lease.stop()
        return
    try:
        lease.release()
    except Exception as exc:  # never hide the drill's own outcome behind the release
        log.warning("could not release the lease of %s: %s", journal.drill_id, exc)


def _finish(journal: Journal, ctx: DrillContext, env: DrillEnvironment) -> DrillResult:
    result = build_result(journal, ctx.log)
    if env.report_dir is not None:
        paths = write_reports(result, env.report_dir)
        result = replace(result, reports={k: str(v) for k, v in paths.items()})
    return result


def start_drill(
    stack: str,
    scenario_name: str,
    env: DrillEnvironment,
    *,
    failback: bool = False,
    confirm_production: bool = False,
) -> DrillResult:
    """Run a drill from the beginning; returns its result (refusals and aborts included)."""
    definition = scenario(scenario_name)
    settings = env.settings
    reconciler = env.reconciler(stack)
    outputs = reconciler.outputs()
    target = target_from_outputs(outputs, settings.database)
    objectives = objectives_from_config(reconciler.config()) or target.objectives
    target = replace(target, objectives=objectives)
    if (stack == "prod" or target.environment in {"prod", "production"}) and not confirm_production:
        raise ConfirmationRequiredError(stack)
    clients = AwsClients(settings, env.session)
    check_identity(clients, target)
    if target.lease is None:
        raise StackNotReadyError(
            f"the stack exports no {LEASE_OUTPUT} output (the drill lease table of "
            "components/drill_access.py, which keeps drills to one per stack): deploy the "
            "stack with this version of the program first"
        )
    options = ScenarioOptions(
        failback=failback,
        has_cache=bool(target.cache_global_id),
        fault_injection=bool(target.raw.get(TEMPLATES_OUTPUT)),
    )
    steps = definition.build(options)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    journal = Journal.create(
        settings.state_dir,
        new_drill_id(stack, definition.name),
        stack=stack,
        scenario=definition.name,
        options={
            "failback": failback,
            "has_cache": options.has_cache,
            "fault_injection": options.fault_injection,
        },
        settings=settings.to_json(),
        plan=[s.describe() for s in steps],
    )
    journal.data["target"] = target.to_json()
    journal.data["sandbox"] = env.sandbox
    journal.data["endpoint_url"] = env.endpoint_url
    with ExitStack() as held:
        try:
            held.enter_context(journal.locked(settings.state_dir))
        except DrillLockedError as exc:
            journal.set_status(DRILL_REFUSED, str(exc))
            raise
        try:
            lease = _take_lease(clients, target, journal, settings)
        except RegionUnavailableError as exc:  # fail closed: no lease, no drill
            journal.set_status(DRILL_REFUSED, f"cannot take the stack's lease: {exc}")
            return _finish(journal, _context(journal, target, env, settings, reconciler), env)
        held.callback(_let_go, lease, journal)
        ctx = _context(journal, target, env, settings, reconciler, clients, lease)
        try:
            writer = AuroraGlobal().describe(ctx).primary
        except RegionUnavailableError:
            writer = None
        home = ctx.reconciler.regions()[0] or target.primary_region
        init_phases(ctx, definition, options, home, writer)
        journal.save()
        DrillRunner(ctx, steps, every_writer).run()
    return _finish(journal, ctx, env)


def _reopen(
    drill_id: str, env: DrillEnvironment
) -> tuple[Journal, Scenario, list[Step], StackTarget, DrillSettings]:
    journal = Journal.load(env.settings.state_dir, drill_id)
    definition = scenario(str(journal.data["scenario"]))
    opts = journal.data.get("options", {})
    steps = definition.build(
        ScenarioOptions(
            failback=bool(opts.get("failback")),
            has_cache=bool(opts.get("has_cache", True)),
            fault_injection=bool(opts.get("fault_injection")),
        ),
    )
    planned = [s["name"] for s in journal.data["steps"]]
    if planned != [s.name for s in steps]:
        raise JournalError(
            f"drill {drill_id} was planned by another version of the drills (steps differ)"
        )
    target = StackTarget.from_json(journal.data["target"])
    settings = DrillSettings.from_json(journal.data["settings"]).with_(
        state_dir=env.settings.state_dir
    )
    return journal, definition, steps, target, settings


def resume_drill(drill_id: str, env: DrillEnvironment) -> DrillResult:
    """Finish a drill that crashed or paused: the invariant must hold, then the remaining steps
    run (the interrupted one again, idempotently)."""
    journal, _definition, steps, target, settings = _reopen(drill_id, env)
    if journal.status not in RESUMABLE:
        raise JournalError(
            f"drill {drill_id} is {journal.status}; only running or paused drills resume"
        )
    with ExitStack() as held:
        held.enter_context(journal.locked(settings.state_dir))
        clients = AwsClients(settings, env.session)
        check_identity(clients, target)
        lease = _take_lease(clients, target, journal, settings)
        held.callback(_let_go, lease, journal)
        ctx = _context(
            journal,
            target,
            env,
            settings,
            env.reconciler(str(journal.data["stack"]), settings),
            clients,
            lease,
        )
        runner = DrillRunner(ctx, steps, every_writer)
        ctx.event("resume", f"resuming drill {drill_id}")
        runner.check_before_resume()
        runner.run()
    return _finish(journal, ctx, env)


def rollback_drill(drill_id: str, env: DrillEnvironment) -> DrillResult:
    """Undo a drill that crashed, paused or failed to roll back: back to the origin state."""
    journal, _definition, steps, target, settings = _reopen(drill_id, env)
    if journal.status not in ROLLBACKABLE:
        raise JournalError(f"drill {drill_id} is {journal.status}; nothing to roll back")
    with ExitStack() as held:
        held.enter_context(journal.locked(settings.state_dir))
        clients = AwsClients(settings, env.session)
        check_identity(clients, target)
        lease = _take_lease(clients, target, journal, settings)
        held.callback(_let_go, lease, journal)
        ctx = _context(
            journal,
            target,
            env,
            settings,
            env.reconciler(str(journal.data["stack"]), settings),
            clients,
            lease,
        )
        DrillRunner(ctx, steps, every_writer).rollback("requested by the operator")
    return _finish(journal, ctx, env)


@dataclass(frozen=True, slots=True)
class DrillPlan:
    """What a drill would do (``python -m drills plan``)."""

    stack: str
    scenario: Scenario
    primary_region: str
    secondary_region: str
    objectives: Objectives
    steps: list[Step]
    preconditions: list[CheckDef]


def plan_drill(
    stack: str,
    scenario_name: str,
    *,
    failback: bool = False,
    root: Path = REPO_ROOT,
    has_cache: bool = True,
) -> DrillPlan:
    """The steps and preconditions of a drill, from the stack file alone (no AWS, no CLI)."""
    from .stackfile import load_stack_settings

    definition = scenario(scenario_name)
    stack_settings = load_stack_settings(stack, root)
    return DrillPlan(
        stack=stack,
        scenario=definition,
        primary_region=stack_settings.primary_region,
        secondary_region=stack_settings.secondary_region,
        objectives=stack_settings.objectives,
        steps=definition.build(ScenarioOptions(failback=failback, has_cache=has_cache)),
        preconditions=planned(definition.checks),
    )
