"""The drill's health reads and decisions, by concern (this module only hands the names on,
for code written against it):

- :mod:`.reads`: what the drill reads from AWS (the stores' state, alarms, the active-region
  setting: :func:`~.reads.read_active_region`, the one way it is read);
- :mod:`.stop_conditions`: alarms in ALARM that stop a drill;
- :mod:`.invariant`: one writer per store after every step (:func:`~.invariant.single_writer`);
- :class:`~.preconditions.Check`: one precondition's outcome.
"""

from __future__ import annotations

from .engine import DrillContext
from .invariant import single_writer
from .preconditions import Check
from .reads import (
    ActiveRegionSetting,
    alarms_in_alarm,
    cache_primaries,
    describe_cluster,
    describe_datastore,
    describe_global_cluster,
    member,
    reachable,
    read_active_region,
    region_of_arn,
    synchronized,
    writer_regions,
)
from .stop_conditions import alarm_matches, expected_alarms, stop_condition_alarms

__all__ = [
    "ActiveRegionSetting",
    "Check",
    "active_region_values",
    "alarm_matches",
    "alarms_in_alarm",
    "cache_primaries",
    "describe_cluster",
    "describe_datastore",
    "describe_global_cluster",
    "expected_alarms",
    "member",
    "reachable",
    "read_active_region",
    "region_of_arn",
    "single_writer",
    "stop_condition_alarms",
    "synchronized",
    "writer_regions",
]


def active_region_values(ctx: DrillContext) -> dict[str, str] | None:
    """The setting's value per region that has it (None when none does): the old shape of
    :func:`~.reads.read_active_region`."""
    return read_active_region(ctx).values or None
