"""The payments database section: RDS for PostgreSQL Multi-AZ, off unless a stack enables it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from components.settings.aurora import MONITORING_INTERVALS, PI_RETENTION_DAYS
from components.settings.model import PaymentsSettings
from components.settings.values import ConfigError, section

PAYMENTS_INSTANCE_CLASSES = (
    "db.m6g.large",
    "db.m7g.large",
    "db.m7g.xlarge",
    "db.r6g.large",
    "db.r7g.large",
    "db.r7g.xlarge",
)
"""Graviton classes RDS for PostgreSQL offers Multi-AZ (and cross-region replicas) on, and the
ones policies/pricing/prices.json prices; no burstable db.t* (CPU credits under a payment
spike)."""
PAYMENTS_ENGINE_VERSION = re.compile(r"^(1[3-7])\.\d{1,2}$")
MAX_STORAGE_GB = 65536
"""gp3 on RDS for PostgreSQL: 20 GiB to 64 TiB (Amazon RDS DB instance storage)."""


def load(raw: Mapping[str, Any], environment: str) -> PaymentsSettings:
    """The ``payments`` section; sizes and safety checked even when it is disabled."""
    s = section(raw, "payments")
    d = PaymentsSettings()
    allocated = s.integer("allocatedStorageGb", d.allocated_storage_gb, 20, MAX_STORAGE_GB)
    settings = PaymentsSettings(
        enabled=s.boolean("enabled", d.enabled),
        engine_version=s.pattern(
            "engineVersion",
            d.engine_version,
            PAYMENTS_ENGINE_VERSION,
            "an RDS for PostgreSQL version 13.x to 17.x (major.minor)",
        ),
        instance_class=s.choice("instanceClass", d.instance_class, PAYMENTS_INSTANCE_CLASSES),
        allocated_storage_gb=allocated,
        max_allocated_storage_gb=s.integer(
            "maxAllocatedStorageGb", d.max_allocated_storage_gb, 20, MAX_STORAGE_GB
        ),
        # Cross-region automated backup replication needs retention >= 1; 7 is the floor here.
        backup_retention_days=s.integer("backupRetentionDays", d.backup_retention_days, 7, 35),
        performance_insights_retention_days=s.choice(
            "performanceInsightsRetentionDays",
            d.performance_insights_retention_days,
            PI_RETENTION_DAYS,
        ),
        monitoring_interval_seconds=s.choice(
            "monitoringIntervalSeconds", d.monitoring_interval_seconds, MONITORING_INTERVALS
        ),
        deletion_protection=s.boolean("deletionProtection", d.deletion_protection),
    )
    # max_allocated_storage must exceed allocated_storage for RDS storage autoscaling to be on
    # (equal turns it off; "Managing capacity automatically with Amazon RDS storage autoscaling").
    if settings.max_allocated_storage_gb <= settings.allocated_storage_gb:
        raise ConfigError(
            s.key("maxAllocatedStorageGb"),
            settings.max_allocated_storage_gb,
            f"more than paymentsAllocatedStorageGb ({settings.allocated_storage_gb}) and at most "
            f"{MAX_STORAGE_GB}",
        )
    if environment == "prod" and not settings.deletion_protection:
        raise ConfigError(s.key("deletionProtection"), False, "true in prod")
    return settings
