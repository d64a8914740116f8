"""ConfigError and the value readers every section loader shares: each names the full key."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.settings.keys import SECTION_FIELDS, flat_key
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
        # A missing key is "not set", not "has value None" (the loader's own sentinel).
        shown = "is not set" if value is None else f"has value {value!r}"
        super().__init__(f"config key {key!r} {shown}; allowed: {allowed}")


def is_number(value: Any, low: float, high: float) -> bool:
    """An int or float (never a bool, which Python counts as an int) from ``low`` to ``high``."""
    return not isinstance(value, bool) and isinstance(value, int | float) and low <= value <= high


def check_items(items: Sequence[Any], key: str, regex: re.Pattern[str], what: str) -> None:
    """Every item a string ``regex`` matches; the error names the item as ``key[index]``."""
    for index, item in enumerate(items):
        if not isinstance(item, str) or not regex.fullmatch(item):
            raise ConfigError(f"{key}[{index}]", item, what)


@dataclass(frozen=True, slots=True)
class Section:
    """One config object and the dotted key it sits at, so every read names its full key.

    A reader takes the field's name and the default (from the settings type) and returns the
    value or raises :class:`ConfigError` naming ``<at>.<name>``; the loader turns that dotted key
    into the flat key the stack file uses.
    """

    values: Mapping[str, Any]
    at: str = ""
    """Dotted key of the object (``aurora``, ``dynamodb.tables[carts]``); empty at the top level."""

    def key(self, name: str) -> str:
        """The dotted key of one field."""
        return f"{self.at}.{name}" if self.at else name

    def get(self, name: str, default: Any = None) -> Any:
        """The raw value, unchecked (for rules a reader below does not cover)."""
        return self.values.get(name, default)

    def known(self, allowed: Collection[str]) -> None:
        """Refuse a field this object does not have (a typo would otherwise be ignored)."""
        for name in self.values:
            if name not in allowed:
                keys = sorted(flat_key(self.key(a)) for a in allowed)
                raise ConfigError(self.key(name), self.values[name], f"one of the keys {keys}")

    def mapping(self, name: str, what: str) -> Mapping[str, Any]:
        """An object-valued field; unset (or null) reads as ``{}``, anything else not an object
        (``[]``, ``0``, ``false``, a string) is refused."""
        value = self.values.get(name)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ConfigError(self.key(name), value, what)
        return value

    def string(self, name: str, default: str | None = None) -> str:
        value = self.values.get(name, default)
        if not isinstance(value, str) or not value:
            raise ConfigError(self.key(name), value, "a non-empty string")
        return value

    def optional_string(self, name: str) -> str | None:
        if self.values.get(name) is None:
            return None
        return self.string(name)

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.values.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(self.key(name), value, f"an integer from {low} to {high}")
        return value

    def number(self, name: str, default: float | None, low: float, high: float) -> float:
        value = self.values.get(name, default)
        if not is_number(value, low, high):
            raise ConfigError(self.key(name), value, f"a number from {low} to {high}")
        return float(value)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.values.get(name, default)
        if not isinstance(value, bool):
            raise ConfigError(self.key(name), value, "true or false")
        return value

    def choice(self, name: str, default: Any, options: Sequence[Any]) -> Any:
        value = self.values.get(name, default)
        if value not in options:
            raise ConfigError(self.key(name), value, f"one of {list(options)}")
        return value

    def pattern(self, name: str, default: str, regex: re.Pattern[str], what: str) -> str:
        value = self.values.get(name, default)
        if not isinstance(value, str) or not regex.fullmatch(value):
            raise ConfigError(self.key(name), value, what)
        return value

    def strings(self, name: str, regex: re.Pattern[str], what: str) -> tuple[str, ...]:
        """A list (unset reads as empty) of strings ``regex`` matches."""
        value = self.values.get(name, [])
        if not isinstance(value, list):
            raise ConfigError(self.key(name), value, f"a list of {what}")
        check_items(value, self.key(name), regex, what)
        return tuple(value)

    def window(self, name: str, default: str, minimum: int, *, weekly: bool) -> str:
        """A backup/snapshot (daily) or maintenance (weekly) window that AWS would accept."""
        value = self.values.get(name, default)
        try:
            (parse_weekly if weekly else parse_daily)(value, minimum)
        except WindowError as exc:
            raise ConfigError(self.key(name), value, str(exc)) from None
        return str(value)

    def no_overlap(self, daily_name: str, daily: str, weekly_name: str, weekly: str) -> None:
        """RDS and ElastiCache refuse a daily window that overlaps the weekly maintenance window."""
        if daily_overlaps_weekly(parse_daily(daily, 0), parse_weekly(weekly, 0)):
            other = flat_key(self.key(weekly_name))
            raise ConfigError(
                self.key(daily_name), daily, f"a window that does not overlap {other} ({weekly})"
            )


def section(raw: Mapping[str, Any], name: str) -> Section:
    """The config section ``name`` (``aurora``), unset reads as empty; fields the key catalogue
    does not list for it are refused."""
    value = raw.get(name, {})
    if value is None:
        return Section({}, name)
    if not isinstance(value, Mapping):
        raise ConfigError(name, value, "an object (YAML mapping)")
    s = Section(value, name)
    s.known(SECTION_FIELDS[name])
    return s
