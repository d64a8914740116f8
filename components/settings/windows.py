"""Backup and maintenance windows as RDS and ElastiCache read them, and whether two overlap.

RDS (CreateDBCluster / ModifyDBCluster, PreferredBackupWindow and PreferredMaintenanceWindow):
the backup window is ``hh24:mi-hh24:mi`` UTC, the maintenance window ``ddd:hh24:mi-ddd:hh24:mi``
UTC with days mon..sun; each must be at least 30 minutes and the two "must not conflict"
(https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html).
ElastiCache uses the same formats for SnapshotWindow and PreferredMaintenanceWindow ("the
minimum maintenance window is a 60 minute period",
https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html),
answers "Snapshot window must be at least 60 minutes" (hashicorp/terraform-provider-aws#2153) and
"The snapshot window and maintenance window must not overlap" (hashicorp/terraform#17247).

Parsing is pure and raises :class:`WindowError` with the reason; the settings loader turns it into
a ConfigError that names the key and the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
_TIME = r"(\d\d):(\d\d)"
_DAILY = re.compile(rf"^{_TIME}-{_TIME}$")
_WEEKLY = re.compile(rf"^([a-z]{{3}}):{_TIME}-([a-z]{{3}}):{_TIME}$")


class WindowError(ValueError):
    """A window that RDS or ElastiCache would refuse; the message says why."""


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open interval [start, end) in minutes; ``end`` may pass the period (it wraps)."""

    start: int
    end: int

    @property
    def minutes(self) -> int:
        return self.end - self.start


def _minute(hours: str, minutes: str, text: str) -> int:
    hour, minute = int(hours), int(minutes)
    if hour > 23:
        raise WindowError(f"hour {hour} in {text!r} is past 23")
    if minute > 59:
        raise WindowError(f"minute {minute} in {text!r} is past 59")
    return hour * 60 + minute


def _span(start: int, end: int, period: int, minimum: int) -> Span:
    """[start, end) with an ``end`` not after ``start`` wrapped into the next period (a day or a
    week), at least ``minimum`` minutes long."""
    span = Span(start, end if end > start else end + period)
    if span.minutes < minimum:
        raise WindowError(f"a window of at least {minimum} minutes (this one is {span.minutes})")
    return span


def parse_daily(text: object, minimum: int) -> Span:
    """``hh24:mi-hh24:mi`` UTC, at least ``minimum`` minutes; may run past midnight."""
    match = _DAILY.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise WindowError("the format hh24:mi-hh24:mi (UTC), e.g. 03:00-04:00")
    start = _minute(match.group(1), match.group(2), str(text))
    end = _minute(match.group(3), match.group(4), str(text))
    return _span(start, end, MINUTES_PER_DAY, minimum)


def parse_weekly(text: object, minimum: int) -> Span:
    """``ddd:hh24:mi-ddd:hh24:mi`` UTC with days mon..sun, at least ``minimum`` minutes."""
    match = _WEEKLY.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise WindowError("the format ddd:hh24:mi-ddd:hh24:mi (UTC), e.g. sun:05:00-sun:06:00")
    first, last = match.group(1), match.group(4)
    for day in (first, last):
        if day not in DAYS:
            raise WindowError(f"day {day!r} is not one of {', '.join(DAYS)}")
    shown = str(text)
    start = DAYS.index(first) * MINUTES_PER_DAY + _minute(match.group(2), match.group(3), shown)
    end = DAYS.index(last) * MINUTES_PER_DAY + _minute(match.group(5), match.group(6), shown)
    span = _span(start, end, MINUTES_PER_WEEK, minimum)
    if span.minutes > MINUTES_PER_DAY:
        raise WindowError(f"a window of at most 24 hours (this one is {span.minutes} minutes)")
    return span


def _intersects(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def daily_overlaps_weekly(daily: Span, weekly: Span) -> bool:
    """True when the daily window, on any day of the week, shares a minute with the weekly one."""
    shifts = (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK)
    for day in range(7):
        offset = day * MINUTES_PER_DAY
        occurrence = Span(daily.start + offset, daily.end + offset)
        for shift in shifts:
            if _intersects(occurrence, Span(weekly.start + shift, weekly.end + shift)):
                return True
    return False
