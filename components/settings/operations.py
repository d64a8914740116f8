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
from components.settings.values import (
    ConfigError,
    _int,
    _known,
    _num,
    _pattern,
    _section,
    _str_list,
)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# AWS Budgets: "A budget can have up to ten notifications" and "a notification can have one SNS
# subscriber and up to 10 email subscribers" (Budgets API Notification / NotificationWithSubscribers;
# https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-limits.html). The budget
# adds one FORECASTED notification to the ACTUAL one per threshold.
MAX_BUDGET_NOTIFICATIONS = 10
MAX_BUDGET_EMAILS = 10
CRON = re.compile(r"^cron\(.+\)$")


def _monitoring(raw: Mapping[str, Any]) -> MonitoringSettings:
    s = _section(raw, "monitoring")
    d = MonitoringSettings()
    _known(
        s,
        "monitoring",
        (
            "cpuThresholdPercent",
            "replicationLagThresholdMs",
            "freeableMemoryThresholdBytes",
            "dynamoReplicationLatencyMs",
            "cacheMemoryThresholdPercent",
            "alarmEmails",
        ),
    )
    return MonitoringSettings(
        cpu_threshold_percent=_num(
            s,
            "cpuThresholdPercent",
            "monitoring.cpuThresholdPercent",
            d.cpu_threshold_percent,
            10,
            80,
        ),
        replication_lag_threshold_ms=_num(
            s,
            "replicationLagThresholdMs",
            "monitoring.replicationLagThresholdMs",
            d.replication_lag_threshold_ms,
            100,
            60000,
        ),
        freeable_memory_threshold_bytes=_num(
            s,
            "freeableMemoryThresholdBytes",
            "monitoring.freeableMemoryThresholdBytes",
            d.freeable_memory_threshold_bytes,
            64 * 1024 * 1024,
            64 * 1024**3,
        ),
        dynamo_replication_latency_ms=_num(
            s,
            "dynamoReplicationLatencyMs",
            "monitoring.dynamoReplicationLatencyMs",
            d.dynamo_replication_latency_ms,
            100,
            600000,
        ),
        cache_memory_threshold_percent=_num(
            s,
            "cacheMemoryThresholdPercent",
            "monitoring.cacheMemoryThresholdPercent",
            d.cache_memory_threshold_percent,
            10,
            95,
        ),
        alarm_emails=_unique_emails(
            _str_list(s, "alarmEmails", "monitoring.alarmEmails", EMAIL, "an e-mail address"),
            "monitoring.alarmEmails",
        ),
    )


def _unique_emails(emails: tuple[str, ...], full: str) -> tuple[str, ...]:
    """E-mail addresses compare case-insensitively; a repeat would subscribe the same inbox twice."""
    folded = [e.lower() for e in emails]
    for index, email in enumerate(emails):
        if folded[index] in folded[:index]:
            raise ConfigError(f"{full}[{index}]", email, "an address not listed already")
    return emails


def _backup(raw: Mapping[str, Any], aurora: AuroraSettings) -> BackupSettings:
    s = _section(raw, "backup")
    d = BackupSettings()
    _known(s, "backup", ("schedule", "retentionDays", "copyRetentionDays"))
    return BackupSettings(
        schedule=_pattern(
            s,
            "schedule",
            "backup.schedule",
            d.schedule,
            CRON,
            "an AWS cron expression like cron(0 5 * * ? *)",
        ),
        retention_days=_int(
            s,
            "retentionDays",
            "backup.retentionDays",
            d.retention_days,
            max(7, aurora.backup_retention_days),
            3650,
        ),
        copy_retention_days=_int(
            s, "copyRetentionDays", "backup.copyRetentionDays", d.copy_retention_days, 7, 3650
        ),
    )


def _budget(raw: Mapping[str, Any]) -> BudgetSettings:
    s = _section(raw, "budget")
    _known(s, "budget", ("monthlyLimitUsd", "thresholdsPercent", "alertEmails"))
    limit = _num(s, "monthlyLimitUsd", "budget.monthlyLimitUsd", -1, 1, 1_000_000)
    thresholds = s.get("thresholdsPercent", [80, 100])
    if not isinstance(thresholds, list) or not thresholds:
        raise ConfigError("budget.thresholdsPercent", thresholds, "a non-empty list of percentages")
    if len(thresholds) > MAX_BUDGET_NOTIFICATIONS - 1:
        raise ConfigError(
            "budget.thresholdsPercent",
            thresholds,
            f"at most {MAX_BUDGET_NOTIFICATIONS - 1} thresholds (AWS allows "
            f"{MAX_BUDGET_NOTIFICATIONS} notifications per budget; one more is the forecast alert)",
        )
    for index, value in enumerate(thresholds):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 1000:
            raise ConfigError(
                f"budget.thresholdsPercent[{index}]", value, "a percentage from 1 to 1000"
            )
        if value in thresholds[:index]:
            raise ConfigError(
                f"budget.thresholdsPercent[{index}]",
                value,
                "a threshold not listed already (AWS refuses duplicate notifications)",
            )
    emails = _str_list(s, "alertEmails", "budget.alertEmails", EMAIL, "an e-mail address")
    if not emails:
        raise ConfigError(
            "budget.alertEmails", emails, "at least one e-mail address for budget alerts"
        )
    if len(emails) > MAX_BUDGET_EMAILS:
        raise ConfigError(
            "budget.alertEmails",
            list(emails),
            f"at most {MAX_BUDGET_EMAILS} e-mail addresses (AWS: 10 e-mail subscribers per notification)",
        )
    _unique_emails(emails, "budget.alertEmails")
    return BudgetSettings(
        monthly_limit_usd=limit,
        thresholds_percent=tuple(float(t) for t in thresholds),
        alert_emails=emails,
    )


def _drills(raw: Mapping[str, Any]) -> DrillSettings:
    s = _section(raw, "drills")
    d = DrillSettings()
    _known(s, "drills", ("rtoSeconds", "rpoSeconds", "maxReplicationLagSeconds"))
    return DrillSettings(
        rto_seconds=_int(s, "rtoSeconds", "drills.rtoSeconds", d.rto_seconds, 1, 86400),
        rpo_seconds=_int(s, "rpoSeconds", "drills.rpoSeconds", d.rpo_seconds, 0, 86400),
        max_replication_lag_seconds=_num(
            s,
            "maxReplicationLagSeconds",
            "drills.maxReplicationLagSeconds",
            d.max_replication_lag_seconds,
            0.1,
            3600,
        ),
    )
