"""load_settings: nests the flat keys into sections and runs every section loader in order."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from components.settings import (
    aurora,
    cache,
    dynamodb,
    neptune,
    operations,
    payments,
    placement,
    redshift,
)
from components.settings.keys import SECTIONS, TOP_LEVEL_KEYS, flat_key, split_key
from components.settings.model import ENVIRONMENTS, Settings
from components.settings.values import ConfigError, Section

DNS_ZONE = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$")
TAG_VALUE = re.compile(r"^[\w .:/=+@-]{1,256}$")
TAG_VALUE_RULE = "a tag value of 1-256 letters, digits, spaces or _.:/=+-@"


def _nest(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Group flat keys into sections; unknown keys fail here, naming the key."""
    nested: dict[str, Any] = {}
    for key, value in raw.items():
        if key in TOP_LEVEL_KEYS:
            nested[key] = value
            continue
        split = split_key(key)
        if split is None:
            raise ConfigError(
                key,
                value,
                f"a known key: {', '.join(TOP_LEVEL_KEYS)} or one starting with {', '.join(SECTIONS)} (see Pulumi.yaml)",
            )
        section, field_name = split
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
    """Every section in a fixed order, so the first error reported is always the same one."""
    top = Section(raw)
    environment = top.choice("environment", None, ENVIRONMENTS)
    regions = placement.region_pair(raw)
    aurora_settings = aurora.load(raw, environment)
    return Settings(
        environment=environment,
        primary_region=regions[0],
        secondary_region=regions[1],
        cost_center=top.pattern("costCenter", "", TAG_VALUE, TAG_VALUE_RULE),
        owner=top.pattern("owner", "", TAG_VALUE, TAG_VALUE_RULE),
        network=placement.network(raw, regions),
        aurora=aurora_settings,
        dynamodb=dynamodb.load(raw),
        cache=cache.load(raw),
        dns_zone_name=top.pattern(
            "dnsZoneName",
            "data.securecart.internal",
            DNS_ZONE,
            "a lowercase DNS zone name like data.securecart.internal",
        ),
        monitoring=operations.monitoring(raw),
        backup=operations.backup(raw, aurora_settings),
        budget=operations.budget(raw),
        drills=operations.drills(raw),
        payments=payments.load(raw, environment),
        neptune=neptune.load(raw, environment),
        redshift=redshift.load(raw),
    )
