"""Window arithmetic, against hand-computed minutes (Monday 00:00 UTC is minute 0)."""

from __future__ import annotations

import pytest

from components.settings.windows import (
    Span,
    WindowError,
    daily_overlaps_weekly,
    parse_daily,
    parse_weekly,
)


def test_parse_daily_and_weekly_in_minutes() -> None:
    assert parse_daily("03:00-04:00", 30) == Span(180, 240)
    assert parse_daily("23:30-00:30", 30) == Span(1410, 1470)  # past midnight
    assert parse_weekly("sun:05:00-sun:06:00", 30) == Span(6 * 1440 + 300, 6 * 1440 + 360)
    assert parse_weekly("sun:23:30-mon:00:30", 30) == Span(10050, 10110)  # past the week's end


@pytest.mark.parametrize(
    ("daily", "weekly", "overlap"),
    [
        ("03:00-04:00", "sun:05:00-sun:06:00", False),
        ("04:00-05:00", "sun:05:00-sun:06:00", False),  # touching is not sharing
        ("04:30-05:30", "sun:05:00-sun:06:00", True),
        ("23:30-00:30", "mon:00:00-mon:00:45", True),  # the Sunday backup runs into Monday
        ("01:00-02:00", "sun:23:30-mon:01:30", True),  # maintenance wraps the week
        ("02:00-03:00", "sun:23:30-mon:01:30", False),
    ],
)
def test_overlap(daily: str, weekly: str, overlap: bool) -> None:
    assert daily_overlaps_weekly(parse_daily(daily, 30), parse_weekly(weekly, 30)) is overlap


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("24:00-01:00", "hour 24"),
        ("03:00-03:60", "minute 60"),
        ("3:00-4:00", "format"),
        ("03:00-03:29", "this one is 29"),
    ],
)
def test_bad_daily_windows(text: str, reason: str) -> None:
    with pytest.raises(WindowError, match=reason):
        parse_daily(text, 30)


def test_bad_weekly_windows() -> None:
    with pytest.raises(WindowError, match="day 'fun'"):
        parse_weekly("fun:01:00-fun:02:00", 30)
    with pytest.raises(WindowError, match="at least 60 minutes"):
        parse_weekly("mon:01:00-mon:01:30", 60)


def test_a_whole_day_backup_window_overlaps_any_maintenance() -> None:
    whole_day = parse_daily("03:00-03:00", 30)
    assert whole_day.minutes == 1440
    assert daily_overlaps_weekly(whole_day, parse_weekly("wed:10:00-wed:10:30", 30))
