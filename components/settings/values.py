"""ConfigError and the value readers every section loader shares: each names the full key."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from components.settings.keys import flat_key
from components.settings.windows import (
    WindowError,
    daily_overlaps_weekly,
    parse_daily,
    parse_weekly,
)


class ConfigError(ValueError):
    """Bad stack config: names the key, the offending value and what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"config key {key!r} has value {value!r}; allowed: {allowed}")


def _section(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(key, value, "an object (YAML mapping)")
    return value


def _known(section: Mapping[str, Any], prefix: str, allowed: Sequence[str]) -> None:
    for name in section:
        if name not in allowed:
            keys = sorted(flat_key(f"{prefix}.{a}") for a in allowed)
            raise ConfigError(f"{prefix}.{name}", section[name], f"one of the keys {keys}")


def _str(section: Mapping[str, Any], key: str, full: str, default: str | None = None) -> str:
    value = section.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(full, value, "a non-empty string")
    return value


def _opt_str(section: Mapping[str, Any], key: str, full: str) -> str | None:
    value = section.get(key)
    if value is None:
        return None
    return _str(section, key, full)


def _int(section: Mapping[str, Any], key: str, full: str, default: int, low: int, high: int) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(full, value, f"an integer from {low} to {high}")
    return value


def _num(
    section: Mapping[str, Any], key: str, full: str, default: float, low: float, high: float
) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(full, value, f"a number from {low} to {high}")
    return float(value)


def _bool(section: Mapping[str, Any], key: str, full: str, default: bool) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(full, value, "true or false")
    return value


def _choice(
    section: Mapping[str, Any], key: str, full: str, default: Any, options: Sequence[Any]
) -> Any:
    value = section.get(key, default)
    if value not in options:
        raise ConfigError(full, value, f"one of {list(options)}")
    return value


def _pattern(
    section: Mapping[str, Any], key: str, full: str, default: str, regex: re.Pattern[str], what: str
) -> str:
    value = section.get(key, default)
    if not isinstance(value, str) or not regex.match(value):
        raise ConfigError(full, value, what)
    return value


def _str_list(
    section: Mapping[str, Any], key: str, full: str, regex: re.Pattern[str], what: str
) -> tuple[str, ...]:
    value = section.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(full, value, f"a list of {what}")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not regex.match(item):
            raise ConfigError(f"{full}[{index}]", item, what)
    return tuple(value)


def _window(
    section: Mapping[str, Any], key: str, full: str, default: str, minimum: int, *, weekly: bool
) -> str:
    """A backup/snapshot (daily) or maintenance (weekly) window that AWS would accept."""
    value = section.get(key, default)
    try:
        (parse_weekly if weekly else parse_daily)(value, minimum)
    except WindowError as exc:
        raise ConfigError(full, value, str(exc)) from None
    return str(value)


def _no_overlap(daily: str, weekly: str, full: str, other: str) -> None:
    """RDS and ElastiCache refuse a daily window that overlaps the weekly maintenance window."""
    if daily_overlaps_weekly(parse_daily(daily, 0), parse_weekly(weekly, 0)):
        raise ConfigError(full, daily, f"a window that does not overlap {other} ({weekly})")
