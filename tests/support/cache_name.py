"""The alarms behind ``cache.<zone>`` as the stack declares them (components/monitoring.py), shared
by the recorded-input tests (tests/unit/test_dns.py checks every stack records exactly these) and
the emulator's delay measurement (tests/drills/test_cache_name_delay.py creates exactly these)."""

from __future__ import annotations

from typing import Any

# The role alarm, from the issue and the ElastiCache metrics page: GlobalDatastoreReplicationLag
# is published by the secondary only; one sample in three minutes means "secondary", and a
# never-secondary node is OK, not INSUFFICIENT_DATA (missing data is notBreaching).
ROLE_ALARM: dict[str, Any] = {
    "namespace": "AWS/ElastiCache",
    "metricName": "GlobalDatastoreReplicationLag",
    "statistic": "SampleCount",
    "comparisonOperator": "GreaterThanOrEqualToThreshold",
    "threshold": 1,
    "period": 60,
    "evaluationPeriods": 3,
    "datapointsToAlarm": 1,
    "treatMissingData": "notBreaching",
}
# The alive alarm: a live engine reports CurrConnections every minute; three silent minutes out
# of three, missing data breaching, and the node counts as gone.
ALIVE_ALARM: dict[str, Any] = {
    "namespace": "AWS/ElastiCache",
    "metricName": "CurrConnections",
    "statistic": "SampleCount",
    "comparisonOperator": "LessThanThreshold",
    "threshold": 1,
    "period": 60,
    "evaluationPeriods": 3,
    "datapointsToAlarm": 3,
    "treatMissingData": "breaching",
}


def put_metric_alarm_args(settings: dict[str, Any]) -> dict[str, Any]:
    """The same settings as PutMetricAlarm parameters."""
    return {key[0].upper() + key[1:]: value for key, value in settings.items()}
