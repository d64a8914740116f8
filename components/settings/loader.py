"""load_settings: nests the flat keys into sections and runs every section loader in order."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from components.settings.aurora import _aurora
from components.settings.cache import _cache
from components.settings.dynamodb import _dynamodb
from components.settings.keys import SECTIONS, TOP_LEVEL_KEYS, flat_key
from components.settings.model import ENVIRONMENTS, Settings
from components.settings.operations import _backup, _budget, _drills, _monitoring
from components.settings.placement import _network, _regions
from components.settings.values import ConfigError, _choice, _pattern

DNS_ZONE = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$")
TAG_VALUE = re.compile(r"^[\w .:/=+@-]{1,256}$")


def _nest(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Group flat keys into sections; unknown keys fail here, naming the key."""
    nested: dict[str, Any] = {}
    for key, value in raw.items():
        if key in TOP_LEVEL_KEYS:
            nested[key] = value
            continue
        section = next(
            (p for p in SECTIONS if key.startswith(p) and key[len(p) : len(p) + 1].isupper()), None
        )
        if section is None:
            raise ConfigError(
                key,
                value,
                f"a known key: {', '.join(TOP_LEVEL_KEYS)} or one starting with {', '.join(SECTIONS)} (see Pulumi.yaml)",
            )
        field_name = key[len(section)].lower() + key[len(section) + 1 :]
        nested.setdefault(section, {})[field_name] = value
    return nested


def load_settings(raw: Mapping[str, Any]) -> Settings:
    """Validate raw project config (flat keys, no namespace) into :class:`Settings`.

    Raises :class:`ConfigError` naming the key as written in the stack file.
    """
    try:
        return _load(_nest(raw))
    except ConfigError as exc:
        key = flat_key(exc.key)
        if key == exc.key:
            raise
        raise ConfigError(key, exc.value, exc.allowed) from None


def _load(raw: Mapping[str, Any]) -> Settings:
    environment = _choice(raw, "environment", "environment", None, ENVIRONMENTS)
    regions = _regions(raw)
    aurora = _aurora(raw, environment)
    return Settings(
        environment=environment,
        primary_region=regions[0],
        secondary_region=regions[1],
        cost_center=_pattern(
            raw,
            "costCenter",
            "costCenter",
            "",
            TAG_VALUE,
            "a tag value of 1-256 letters, digits, spaces or _.:/=+-@",
        ),
        owner=_pattern(
            raw,
            "owner",
            "owner",
            "",
            TAG_VALUE,
            "a tag value of 1-256 letters, digits, spaces or _.:/=+-@",
        ),
        network=_network(raw, regions),
        aurora=aurora,
        dynamodb=_dynamodb(raw),
        cache=_cache(raw),
        dns_zone_name=_pattern(
            raw,
            "dnsZoneName",
            "dnsZoneName",
            "data.securecart.internal",
            DNS_ZONE,
            "a lowercase DNS zone name like data.securecart.internal",
        ),
        monitoring=_monitoring(raw),
        backup=_backup(raw, aurora),
        budget=_budget(raw),
        drills=_drills(raw),
    )
