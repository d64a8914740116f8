"""The ElastiCache global datastore section: engine, node type, replicas and windows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from components.settings.model import CacheSettings
from components.settings.values import (
    _choice,
    _int,
    _known,
    _no_overlap,
    _pattern,
    _section,
    _window,
)

CACHE_GLOBAL_NODE = re.compile(
    r"^cache\.(m5|m6g|m7g|r5|r6g|r7g)\.(large|xlarge|[248]xlarge|12xlarge|16xlarge|24xlarge)$"
)
CACHE_ENGINE_VERSIONS: Mapping[str, tuple[str, ...]] = {
    "valkey": ("7.2", "8.0", "8.1"),
    "redis": ("6.2", "7.0", "7.1"),
}


def _cache(raw: Mapping[str, Any]) -> CacheSettings:
    s = _section(raw, "cache")
    d = CacheSettings()
    _known(
        s,
        "cache",
        (
            "engine",
            "engineVersion",
            "nodeType",
            "replicasPerRegion",
            "snapshotRetentionDays",
            "snapshotWindow",
            "maintenanceWindow",
        ),
    )
    engine = _choice(s, "engine", "cache.engine", d.engine, tuple(CACHE_ENGINE_VERSIONS))
    # ElastiCache: snapshot and maintenance windows of at least 60 minutes that do not overlap.
    snapshot_window = _window(
        s, "snapshotWindow", "cache.snapshotWindow", d.snapshot_window, 60, weekly=False
    )
    maintenance_window = _window(
        s, "maintenanceWindow", "cache.maintenanceWindow", d.maintenance_window, 60, weekly=True
    )
    _no_overlap(
        snapshot_window, maintenance_window, "cache.snapshotWindow", "cacheMaintenanceWindow"
    )
    return CacheSettings(
        snapshot_window=snapshot_window,
        maintenance_window=maintenance_window,
        engine=engine,
        engine_version=_choice(
            s,
            "engineVersion",
            "cache.engineVersion",
            CACHE_ENGINE_VERSIONS[engine][0] if engine != d.engine else d.engine_version,
            CACHE_ENGINE_VERSIONS[engine],
        ),
        node_type=_pattern(
            s,
            "nodeType",
            "cache.nodeType",
            d.node_type,
            CACHE_GLOBAL_NODE,
            "a node type a global datastore accepts (cache.m5/m6g/m7g/r5/r6g/r7g, large or bigger)",
        ),
        replicas_per_region=_int(
            s, "replicasPerRegion", "cache.replicasPerRegion", d.replicas_per_region, 1, 5
        ),
        snapshot_retention_days=_int(
            s,
            "snapshotRetentionDays",
            "cache.snapshotRetentionDays",
            d.snapshot_retention_days,
            1,
            35,
        ),
    )
