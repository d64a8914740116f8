"""The ElastiCache global datastore section: engine, node type, replicas and windows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from components.settings.model import CacheSettings
from components.settings.values import section

# ElastiCache global datastores need large-or-bigger m5/m6g/m7g/r5/r6g/r7g nodes.
CACHE_GLOBAL_NODE = re.compile(
    r"^cache\.(m5|m6g|m7g|r5|r6g|r7g)\.(large|xlarge|[248]xlarge|12xlarge|16xlarge|24xlarge)$"
)
CACHE_ENGINE_VERSIONS: Mapping[str, tuple[str, ...]] = {
    "valkey": ("7.2", "8.0", "8.1"),
    "redis": ("6.2", "7.0", "7.1"),
}


def load(raw: Mapping[str, Any]) -> CacheSettings:
    """The ``cache`` section; the engine version defaults to the first one the engine offers."""
    s = section(raw, "cache")
    d = CacheSettings()
    engine = s.choice("engine", d.engine, tuple(CACHE_ENGINE_VERSIONS))
    # ElastiCache: snapshot and maintenance windows of at least 60 minutes that do not overlap.
    snapshot_window = s.window("snapshotWindow", d.snapshot_window, 60, weekly=False)
    maintenance_window = s.window("maintenanceWindow", d.maintenance_window, 60, weekly=True)
    s.no_overlap("snapshotWindow", snapshot_window, "maintenanceWindow", maintenance_window)
    return CacheSettings(
        snapshot_window=snapshot_window,
        maintenance_window=maintenance_window,
        engine=engine,
        engine_version=s.choice(
            "engineVersion",
            CACHE_ENGINE_VERSIONS[engine][0] if engine != d.engine else d.engine_version,
            CACHE_ENGINE_VERSIONS[engine],
        ),
        node_type=s.pattern(
            "nodeType",
            d.node_type,
            CACHE_GLOBAL_NODE,
            "a node type a global datastore accepts (cache.m5/m6g/m7g/r5/r6g/r7g, large or bigger)",
        ),
        replicas_per_region=s.integer("replicasPerRegion", d.replicas_per_region, 1, 5),
        snapshot_retention_days=s.integer(
            "snapshotRetentionDays", d.snapshot_retention_days, 1, 35
        ),
    )
