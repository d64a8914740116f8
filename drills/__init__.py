"""Disaster-recovery drills for the securecart-data stacks.

``python -m drills plan|run|resume|rollback|list|sandbox``. A drill checks the data tier's
health, writes canaries, acts (Aurora switchover or failover, ElastiCache failover, DynamoDB
write evacuation, point-in-time restore), measures RTO and RPO, reconciles the Pulumi stack
through the Automation API (refresh, swap regions, preview with the policy pack, up) and
reports. Every step is journaled so an interrupted drill can be resumed or rolled back.

Read it forward, as a drill runs (docs/drills.md, "Reading the code"): ``drill.py``
(start, resume, roll back) -> ``scenarios.py`` (each drill as phases x stores) ->
``preconditions.py`` and ``reads.py`` (what must hold first) -> ``phases.py`` (a phase's
steps, each opening its :class:`~drills.canary.PhaseRun` once) -> ``stores.py`` (the store
moves) -> ``probes.py`` and ``canary.py`` (writes through the names applications use) ->
``verify.py`` and ``metrics.py`` (RPO counts, RTO figures) -> ``reconcile_steps.py`` (the
Pulumi stack) -> ``engine.py`` and ``journal.py`` (running, journaling, rolling back) ->
``result.py`` and ``report.py``. The emulated region pair is the ``emulator`` package.
"""

from .drill import DrillEnvironment, plan_drill, resume_drill, rollback_drill, start_drill
from .result import DrillResult
from .settings import DrillSettings, StepTimeouts

__all__ = [
    "DrillEnvironment",
    "DrillResult",
    "DrillSettings",
    "StepTimeouts",
    "plan_drill",
    "resume_drill",
    "rollback_drill",
    "start_drill",
]
