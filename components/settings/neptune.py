"""The fraud graph section: a Neptune global database, off unless a stack enables it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from components.settings.model import NeptuneSettings
from components.settings.values import ConfigError, section

NEPTUNE_INSTANCE_CLASSES = ("db.r5.large", "db.r5.xlarge", "db.r6g.large", "db.r6g.xlarge")
"""AWS: "A global database requires r5 or r6g DB instance classes" ("Setting up an Amazon
Neptune global database", configuration requirements)."""
NEPTUNE_ENGINE_VERSION = re.compile(r"^1\.([2-9])\.\d{1,2}\.\d{1,2}$")
"""Four-part Neptune versions; a global database needs 1.2.0.0 or above (same page)."""


def load(raw: Mapping[str, Any], environment: str) -> NeptuneSettings:
    """The ``neptune`` section; checked even when it is disabled."""
    s = section(raw, "neptune")
    d = NeptuneSettings()
    settings = NeptuneSettings(
        enabled=s.boolean("enabled", d.enabled),
        engine_version=s.pattern(
            "engineVersion",
            d.engine_version,
            NEPTUNE_ENGINE_VERSION,
            "a Neptune engine version 1.2.0.0 or above (four parts, e.g. 1.3.2.1)",
        ),
        instance_class=s.choice("instanceClass", d.instance_class, NEPTUNE_INSTANCE_CLASSES),
        # The primary's writer plus readers; the secondary gets the same count (role flip).
        instances_per_region=s.integer("instancesPerRegion", d.instances_per_region, 1, 16),
        backup_retention_days=s.integer("backupRetentionDays", d.backup_retention_days, 7, 35),
        deletion_protection=s.boolean("deletionProtection", d.deletion_protection),
    )
    if environment == "prod" and not settings.deletion_protection:
        raise ConfigError(s.key("deletionProtection"), False, "true in prod")
    return settings
