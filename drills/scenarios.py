"""The drills as data: each scenario is phases x stores, what to reconcile and what to measure.

One builder turns any scenario into journaled steps (:func:`build`), as an AWS FIS experiment
template or a Route 53 ARC region-switch plan is run by one engine. A phase moves some stores
``out`` (from the stack's home region, its configured ``primaryRegion``, to the other) or
``home`` (back to it); a planned switchover with ``--failback`` and the ``failback`` scenario
are the same phases, so failback alone moves the writers back to the home region and refuses
when they are already there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .engine import DrillContext, Step
from .phases import cleanup_step, phase_steps
from .pitr import pitr_steps, remove_step
from .preconditions import CheckSpec, precondition_step
from .reads import read_active_region
from .reconcile_steps import reconcile_steps


@dataclass(frozen=True, slots=True)
class Phase:
    """One move of some stores between the regions."""

    name: str
    direction: str
    """``out``: home region -> the other; ``home``: the other -> home region."""
    stores: tuple[str, ...]
    """Moved in this order: ``aurora``, ``cache``, ``dynamodb``."""
    lossy: bool = False
    """The region is lost: Aurora fails over with AllowDataLoss, then the region is rebuilt."""
    reconcile: str = "apply"
    """``apply`` (swap the region pair, preview, up), ``check`` (refresh, preview),
    ``refresh`` or ``none``."""
    measure: tuple[str, ...] = ("aurora", "dynamodb")
    """Stores whose canaries are counted (RPO): ``aurora``, ``dynamodb``; a phase that moves the
    cache counts its keys whenever it has a count (``cache`` alone gives it one)."""
    expects: tuple[str, ...] = ()
    """Alarms this phase sets off itself, by the stack's alarm key (``<prefix>-<key>-<region>``,
    ``components/monitoring.py``), in the region it demotes: not stop conditions once the
    phase has started (any other alarm still is)."""

    @property
    def rebuild(self) -> bool:
        """A lost region has to come back and rejoin before the reconcile."""
        return self.lossy


@dataclass(frozen=True, slots=True)
class ScenarioOptions:
    """Choices that shape a drill's plan."""

    failback: bool = False
    has_cache: bool = True
    fault_injection: bool = False
    """The stack has FIS templates (``faultInjectionTemplates``): a lost region is impaired by
    an FIS network disruption of its data subnets (drills/fault.py), then restored."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named drill."""

    name: str
    title: str
    summary: str
    phases: tuple[Phase, ...]
    checks: CheckSpec
    failback: Phase | None = None
    """Appended by ``--failback``."""
    moves_region_pair: bool = True
    custom: Callable[[], list[Step]] | None = field(default=None, compare=False)
    """Steps of a scenario that is not a region switch (point-in-time recovery)."""

    def phases_for(self, options: ScenarioOptions) -> tuple[Phase, ...]:
        """The phases a run with ``options`` goes through."""
        extra = (self.failback,) if options.failback and self.failback is not None else ()
        return (*self.phases, *extra)

    def build(self, options: ScenarioOptions) -> list[Step]:
        """Every step of the drill, in order."""
        return build(self, options)


BOTH = ("aurora", "cache")
LAG = "aurora-replication-lag"
"""AuroraGlobalDBReplicationLag into a cluster: the demoted cluster starts receiving it (and
catching up) as soon as it is a secondary (Aurora User Guide, "Performing switchovers")."""
HEALTH = ("aurora-health", "cache-health")
"""The region's health alarms (the Route 53 health checks' inputs): a lost region's fire."""
FAILBACK = Phase("failback", "home", BOTH, expects=(LAG,))


def build(definition: Scenario, options: ScenarioOptions) -> list[Step]:
    """Preconditions, every phase's steps (or the custom ones), then the cleanup."""
    phases = definition.phases_for(options)
    steps = [precondition_step(definition.checks)]
    if definition.custom is not None:
        steps += definition.custom()
    for index, phase in enumerate(phases):
        steps += phase_steps(phase, index == 0, options.has_cache, options.fault_injection)
    return [*steps, cleanup_step()]


def _pitr() -> list[Step]:
    return [*pitr_steps(), *reconcile_steps("pitr", "", "check"), remove_step()]


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "planned-switchover",
            "Planned switchover",
            "switchover_global_cluster and the cache datastore failover to the other region; "
            "no canary may be lost",
            (Phase("switch", "out", BOTH, expects=(LAG,)),),
            CheckSpec(),
            failback=FAILBACK,
        ),
        Scenario(
            "unplanned-failover",
            "Unplanned failover",
            "the primary region is lost: failover_global_cluster with AllowDataLoss and the "
            "cache failover, then the old region rejoins as a secondary",
            (Phase("failover", "out", BOTH, lossy=True, expects=(LAG, *HEALTH)),),
            CheckSpec(lossy=True),
            failback=FAILBACK,
        ),
        Scenario(
            "cache-failover",
            "ElastiCache global datastore failover",
            "failover_global_replication_group and cache.<zone> to the other region, refresh "
            "and preview, and back",
            (
                Phase("cache", "out", ("cache",), reconcile="check", measure=("cache",)),
                Phase("failback", "home", ("cache",), reconcile="refresh", measure=("cache",)),
            ),
            CheckSpec(tables="none"),
            moves_region_pair=False,
        ),
        Scenario(
            "dynamodb-evacuation",
            "DynamoDB region evacuation",
            "the active-region setting applications read moves to the other region and back; "
            "canaries in every global table replicate both ways",
            (
                Phase("evacuate", "out", ("dynamodb",), reconcile="check", measure=("dynamodb",)),
                Phase("return", "home", ("dynamodb",), reconcile="none", measure=("dynamodb",)),
            ),
            CheckSpec(cache=False, tables="all", setting=True),
            moves_region_pair=False,
        ),
        Scenario(
            "pitr",
            "Point-in-time recovery",
            "canaries written, some deleted, Aurora and the order table restored to before "
            "the deletion into new resources",
            (),
            CheckSpec(cache=False, tables="order", pitr=True),
            moves_region_pair=False,
            custom=_pitr,
        ),
        Scenario(
            "failback",
            "Failback",
            "move the writers back to the stack's home region (primaryRegion in the stack "
            "file); refused when they are already there",
            (FAILBACK,),
            CheckSpec(),
        ),
    )
}

ALIASES = {
    "point-in-time-recovery": "pitr",
    "switchover": "planned-switchover",
    "failover": "unplanned-failover",
}


def scenario(name: str) -> Scenario:
    """A scenario by name (or alias); ValueError lists the known ones."""
    key = ALIASES.get(name, name)
    if key not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    return SCENARIOS[key]


def init_phases(
    ctx: DrillContext,
    definition: Scenario,
    options: ScenarioOptions,
    home: str,
    writer: str | None,
) -> None:
    """Fix, once at creation, the drill's origin and each phase's direction.

    ``home`` is the stack's configured primary region; ``writer`` where AWS has the Aurora
    writer now. A scenario whose first phase goes ``home`` starts from the other region and is
    refused (at its preconditions) when the writer is already home.
    """
    if "origin" in ctx.state:
        return
    other = ctx.target.other(home)
    phases = definition.phases_for(options)
    start = other if phases and phases[0].direction == "home" else home
    ctx.state["origin"] = {"primary": start, "secondary": ctx.target.other(start)}
    ctx.state["home"] = home
    ctx.state["config_origin"] = list(ctx.reconciler.regions())
    ctx.state["dynamodb_write_region"] = start
    # what the active-region setting said when the drill began: a rollback puts it back
    ctx.state["setting_origin"] = read_active_region(ctx).agreed
    if phases and phases[0].direction == "home" and writer == home:
        ctx.state["already_home"] = True
    for phase in phases:
        src, dst = (home, other) if phase.direction == "out" else (other, home)
        ctx.phase(phase.name).update(
            {"from": src, "to": dst, "expected_alarms": list(phase.expects)}
        )
    if definition.custom is not None:  # point-in-time recovery stays in the home region
        ctx.phase(definition.name).update({"from": home, "to": home})


# -- the issue-20 stores (each only where the stack has it) ------------------------------------


def _payments_failover() -> list[Step]:
    from .payments import failover_steps

    return failover_steps()


def _payments_promotion() -> list[Step]:
    from .payments import promotion_steps

    return promotion_steps()


def _neptune_switchover() -> list[Step]:
    from .fraud import switchover_steps

    return switchover_steps()


def _neptune_failover() -> list[Step]:
    from .fraud import failover_steps

    return failover_steps()


def _redshift_restore() -> list[Step]:
    from .analytics import restore_steps

    return restore_steps()


_QUIET = CheckSpec(cache=False, tables="none")
"""The issue-20 drills move nothing of Aurora, the cache or DynamoDB: the stack's health,
alarms and Pulumi checks only."""

SCENARIOS.update(
    {
        s.name: s
        for s in (
            Scenario(
                "payments-multi-az-failover",
                "Payments Multi-AZ failover",
                "reboot_db_instance with ForceFailover on the payments writer: the standby "
                "takes over behind the same endpoint",
                (),
                _QUIET,
                moves_region_pair=False,
                custom=_payments_failover,
            ),
            Scenario(
                "payments-promotion",
                "Payments cross-region promotion",
                "fence the payments source, promote_read_replica in the other region, move "
                "payments.<zone>, rebuild the replica the other way; then the same back home",
                (),
                _QUIET,
                moves_region_pair=False,
                custom=_payments_promotion,
            ),
            Scenario(
                "neptune-switchover",
                "Neptune global switchover",
                "switchover_global_cluster of the fraud graph and fraud.<zone> to the other "
                "region, and back",
                (),
                _QUIET,
                moves_region_pair=False,
                custom=_neptune_switchover,
            ),
            Scenario(
                "neptune-failover",
                "Neptune global failover",
                "failover_global_cluster with AllowDataLoss of the fraud graph, the old "
                "primary rejoins, switchover home",
                (),
                _QUIET,
                moves_region_pair=False,
                custom=_neptune_failover,
            ),
            Scenario(
                "redshift-restore",
                "Redshift restore in the copy region",
                "restore the newest snapshot copied to the other region, time it, delete the "
                "restored cluster",
                (),
                _QUIET,
                moves_region_pair=False,
                custom=_redshift_restore,
            ),
        )
    }
)
