"""Running the stack: alarm thresholds, backups, the cost budget and drill objectives."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from components.settings.model import (
    AuroraSettings,
    BackupSettings,
    BudgetSettings,
    DrillSettings,
    MonitoringSettings,
)
from components.settings.values import ConfigError, Section, is_number, section

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# AWS Budgets: "A budget can have up to ten notifications" and "a notification can have one SNS
# subscriber and up to 10 email subscribers" (Budgets API Notification / NotificationWithSubscribers;
# https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-limits.html). The budget
# adds one FORECASTED notification to the ACTUAL one per threshold.
MAX_BUDGET_NOTIFICATIONS = 10
MAX_BUDGET_EMAILS = 10
CRON = re.compile(r"^cron\(.+\)$")


def monitoring(raw: Mapping[str, Any]) -> MonitoringSettings:
    """The ``monitoring`` section: alarm thresholds and who the alarms e-mail."""
    s = section(raw, "monitoring")
    d = MonitoringSettings()
    return MonitoringSettings(
        cpu_threshold_percent=s.number("cpuThresholdPercent", d.cpu_threshold_percent, 10, 80),
        replication_lag_threshold_ms=s.number(
            "replicationLagThresholdMs", d.replication_lag_threshold_ms, 100, 60000
        ),
        freeable_memory_threshold_bytes=s.number(
            "freeableMemoryThresholdBytes",
            d.freeable_memory_threshold_bytes,
            64 * 1024 * 1024,
            64 * 1024**3,
        ),
        dynamo_replication_latency_ms=s.number(
            "dynamoReplicationLatencyMs", d.dynamo_replication_latency_ms, 100, 600000
        ),
        cache_memory_threshold_percent=s.number(
            "cacheMemoryThresholdPercent", d.cache_memory_threshold_percent, 10, 95
        ),
        alarm_emails=_unique_emails(s, "alarmEmails", _emails(s, "alarmEmails")),
    )


def _emails(s: Section, name: str) -> tuple[str, ...]:
    return s.strings(name, EMAIL, "an e-mail address")


def _unique_emails(s: Section, name: str, emails: tuple[str, ...]) -> tuple[str, ...]:
    """E-mail addresses compare case-insensitively; a repeat would subscribe the same inbox twice."""
    folded = [e.lower() for e in emails]
    for index, email in enumerate(emails):
        if folded[index] in folded[:index]:
            raise ConfigError(s.key(f"{name}[{index}]"), email, "an address not listed already")
    return emails


def backup(raw: Mapping[str, Any], aurora: AuroraSettings) -> BackupSettings:
    """The ``backup`` section; AWS Backup keeps recovery points at least as long as Aurora does."""
    s = section(raw, "backup")
    d = BackupSettings()
    return BackupSettings(
        schedule=s.pattern(
            "schedule", d.schedule, CRON, "an AWS cron expression like cron(0 5 * * ? *)"
        ),
        retention_days=s.integer(
            "retentionDays", d.retention_days, max(7, aurora.backup_retention_days), 3650
        ),
        copy_retention_days=s.integer("copyRetentionDays", d.copy_retention_days, 7, 3650),
        manage_region_settings=s.boolean("manageRegionSettings", d.manage_region_settings),
    )


def budget(raw: Mapping[str, Any]) -> BudgetSettings:
    """The ``budget`` section, within what AWS Budgets accepts for one budget."""
    s = section(raw, "budget")
    limit = s.number("monthlyLimitUsd", None, 1, 1_000_000)  # required: no default budget
    thresholds = s.get("thresholdsPercent", [80, 100])
    if not isinstance(thresholds, list) or not thresholds:
        raise ConfigError(s.key("thresholdsPercent"), thresholds, "a non-empty list of percentages")
    if len(thresholds) > MAX_BUDGET_NOTIFICATIONS - 1:
        raise ConfigError(
            s.key("thresholdsPercent"),
            thresholds,
            f"at most {MAX_BUDGET_NOTIFICATIONS - 1} thresholds (AWS allows "
            f"{MAX_BUDGET_NOTIFICATIONS} notifications per budget; one more is the forecast alert)",
        )
    for index, value in enumerate(thresholds):
        if not is_number(value, 1, 1000):
            raise ConfigError(
                s.key(f"thresholdsPercent[{index}]"), value, "a percentage from 1 to 1000"
            )
        if value in thresholds[:index]:
            raise ConfigError(
                s.key(f"thresholdsPercent[{index}]"),
                value,
                "a threshold not listed already (AWS refuses duplicate notifications)",
            )
    emails = _emails(s, "alertEmails")
    if not emails:
        raise ConfigError(
            s.key("alertEmails"), emails, "at least one e-mail address for budget alerts"
        )
    if len(emails) > MAX_BUDGET_EMAILS:
        raise ConfigError(
            s.key("alertEmails"),
            list(emails),
            f"at most {MAX_BUDGET_EMAILS} e-mail addresses (AWS: 10 e-mail subscribers per notification)",
        )
    _unique_emails(s, "alertEmails", emails)
    return BudgetSettings(
        monthly_limit_usd=limit,
        thresholds_percent=tuple(float(t) for t in thresholds),
        alert_emails=emails,
    )


def drills(raw: Mapping[str, Any]) -> DrillSettings:
    """The ``drills`` section: the recovery objectives a drill is measured against."""
    s = section(raw, "drills")
    d = DrillSettings()
    return DrillSettings(
        rto_seconds=s.integer("rtoSeconds", d.rto_seconds, 1, 86400),
        rpo_seconds=s.integer("rpoSeconds", d.rpo_seconds, 0, 86400),
        max_replication_lag_seconds=s.number(
            "maxReplicationLagSeconds", d.max_replication_lag_seconds, 0.1, 3600
        ),
        max_age_days=s.integer("maxAgeDays", d.max_age_days, 1, 366),
        role_enabled=s.boolean("roleEnabled", d.role_enabled),
        fault_injection=s.boolean("faultInjection", d.fault_injection),
        probes=s.boolean("probes", d.probes),
    )
