"""Disaster-recovery drills for the securecart-data stacks.

``python -m drills plan|run|resume|rollback|list|sandbox``. A drill checks the data tier's
health, writes canaries, acts (Aurora switchover or failover, ElastiCache failover, DynamoDB
write evacuation, point-in-time restore), measures RTO and RPO, reconciles the Pulumi stack
through the Automation API (refresh, swap regions, preview with the policy pack, up) and
reports. Every step is journaled so an interrupted drill can be resumed or rolled back.
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
