"""Alarms a failover depends on: every database, cache and secondary cluster is watched in its own
region by an alarm that can fire (a sane threshold), and every alarm notifies someone soon enough
(actions on, a target, a bounded evaluation window).

Part of the resilience concern (as ``policies.route53`` is): split from ``policies.resilience``
so each module stays readable. Alarms are matched to what they watch through property
dependencies first and dimension values second; an undecided link never fails a rule.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pulumi_policy import Severity

from policies import resource_types as t
from policies._rule import Config, Finding, Param, Rule
from policies._values import (
    UNKNOWN,
    Res,
    StackView,
    as_number,
    dig,
    known_str,
    list_items,
    problem,
    require_not_false,
    show,
)

CONCERN = "resilience"
_GREATER = ("GreaterThanThreshold", "GreaterThanOrEqualToThreshold")


# --- Alarms -------------------------------------------------------------------------------------


def _alarm_dimension_values(alarm: Res) -> list[Any]:
    dims = alarm.get("dimensions")
    if dims is UNKNOWN:
        return [UNKNOWN]
    return list(dims.values()) if isinstance(dims, dict) else []


def _alarm_targets(alarm: Res, urns: set[str], ids: set[str], *, prefix: bool = False) -> bool:
    if alarm.sources("dimensions") & urns:
        return True
    for value in _alarm_dimension_values(alarm):
        if isinstance(value, str) and (
            value in ids or (prefix and any(value.startswith(f"{i}-") for i in ids))
        ):
            return True
    return False


def _alarm_undecided(alarm: Res, region: Any) -> bool:
    return (
        UNKNOWN in _alarm_dimension_values(alarm)
        and not alarm.sources("dimensions")
        and alarm.region in (region, UNKNOWN)
    )


def _metric_alarms(stack: StackView, namespace: str, metrics: Sequence[str]) -> list[Res]:
    found = []
    for alarm in stack.of_type(t.METRIC_ALARM):
        name, space = alarm.get("metricName"), alarm.get("namespace")
        if (name is UNKNOWN or name in metrics) and (space is UNKNOWN or space == namespace):
            found.append(alarm)
    return found


def _covering_alarm(
    target: Res,
    alarms: Sequence[Res],
    what: str,
    maximum: float,
    *,
    ids: set[str],
    urns: set[str] | None = None,
    prefix: bool = False,
    required: bool = True,
) -> Iterator[Finding]:
    """Violations unless alarms in the target's region watch it, each firing at <= maximum.

    An alarm watches the target when its dimensions were computed from the target (or from one
    of ``urns``, e.g. the cluster's instances) or name one of its identifiers ``ids``.
    """
    region = target.region
    if any(_alarm_undecided(a, region) for a in alarms):
        return
    watched = {target.urn} | (urns or set())
    watching = [a for a in alarms if _alarm_targets(a, watched, ids, prefix=prefix)]
    local = [a for a in watching if a.region in (region, UNKNOWN)]
    for alarm in watching:
        if alarm not in local and isinstance(region, str):
            yield (
                problem(
                    alarm,
                    "region",
                    f"is {show(alarm.region)} but {target.name} is in {show(region)}; an alarm only sees "
                    "its own region's metrics",
                    f"create the {what} alarm in {region}",
                ),
                alarm.urn,
            )
    if not local and not required:
        return
    if not local:
        elsewhere = (
            f" (only in {show(sorted({str(a.region) for a in watching}))})" if watching else ""
        )
        yield (
            problem(
                target,
                f"{what} alarm",
                f"is missing in {show(region if isinstance(region, str) else None)}{elsewhere}",
                f"add a CloudWatch {what} alarm (threshold <= {show(maximum)}) whose dimensions name it",
            ),
            target.urn,
        )
        return
    for alarm in local:
        threshold = alarm.get("threshold")
        operator = alarm.get("comparisonOperator")
        if UNKNOWN in (threshold, operator):
            continue
        number = as_number(threshold)
        if number is not None and number <= maximum and operator in _GREATER:
            continue
        yield (
            problem(
                alarm,
                "threshold",
                f"is {show(threshold)} ({show(operator)}) on {target.name}; "
                f"the {what} alarm must fire at or below {show(maximum)}",
                f"set threshold <= {show(maximum)} with comparison_operator GreaterThanOrEqualToThreshold",
            ),
            alarm.urn,
        )


def _database_cpu(stack: StackView, cfg: Config) -> Iterator[Finding]:
    alarms = _metric_alarms(stack, "AWS/RDS", ["CPUUtilization"])
    instances = stack.of_type(t.RDS_CLUSTER_INSTANCE)
    maximum = cfg["maxThreshold"]
    for cluster in stack.of_type(t.RDS_CLUSTER):
        ids = {i for i in [known_str(cluster.get("clusterIdentifier"))] if i}
        members = stack.referrers(cluster, "clusterIdentifier", instances, ids)
        ids |= {i for m in members if (i := known_str(m.get("identifier")))}
        urns = {m.urn for m in members}
        yield from _covering_alarm(cluster, alarms, "CPUUtilization", maximum, ids=ids, urns=urns)
    for instance in stack.of_type(t.RDS_INSTANCE):
        ids = {i for i in [known_str(instance.get("identifier"))] if i}
        yield from _covering_alarm(instance, alarms, "CPUUtilization", maximum, ids=ids)


def _cache_cpu(stack: StackView, cfg: Config) -> Iterator[Finding]:
    alarms = _metric_alarms(stack, "AWS/ElastiCache", ["CPUUtilization", "EngineCPUUtilization"])
    for group in stack.of_type(t.CACHE_REPLICATION_GROUP):
        ids = {i for i in [known_str(group.get("replicationGroupId"))] if i}
        yield from _covering_alarm(
            group, alarms, "CPUUtilization", cfg["maxThreshold"], ids=ids, prefix=True
        )


def secondary_clusters(stack: StackView) -> list[Res]:
    """Global-database members that carry no credentials and are no global cluster's source."""
    sources = {
        s
        for g in stack.of_type(t.RDS_GLOBAL_CLUSTER)
        for s in [*g.sources("sourceDbClusterIdentifier"), g.get("sourceDbClusterIdentifier")]
        if isinstance(s, str)
    }
    found = []
    for cluster in stack.of_type(t.RDS_CLUSTER):
        if not cluster.has("globalClusterIdentifier"):
            continue
        if cluster.has("masterUsername") or cluster.has("masterPassword"):
            continue
        if cluster.urn in sources or cluster.get("clusterIdentifier") in sources:
            continue
        found.append(cluster)
    return found


def _replication_lag(stack: StackView, cfg: Config) -> Iterator[Finding]:
    alarms = _metric_alarms(stack, "AWS/RDS", ["AuroraGlobalDBReplicationLag"])
    secondaries = {c.urn for c in secondary_clusters(stack)}
    for cluster in stack.of_type(t.RDS_CLUSTER):
        if not cluster.has("globalClusterIdentifier"):
            continue
        ids = {i for i in [known_str(cluster.get("clusterIdentifier"))] if i}
        # Required on secondaries; on the primary (alarmed ahead of a failover) it must be sane.
        yield from _covering_alarm(
            cluster,
            alarms,
            "AuroraGlobalDBReplicationLag",
            cfg["maxThresholdMs"],
            ids=ids,
            required=cluster.urn in secondaries,
        )


def _alarm_period(res: Res) -> Any:
    """Seconds per evaluation period: ``period``, or the longest period of ``metricQueries``."""
    if res.has("period"):
        return res.get("period")
    queries = res.get("metricQueries")
    if queries is UNKNOWN:
        return UNKNOWN
    periods = [dig(q, "metric.period") for q in list_items(queries)]
    periods += [dig(q, "period") for q in list_items(queries)]
    if UNKNOWN in periods:
        return UNKNOWN
    numbers = [n for p in periods if (n := as_number(p)) is not None]
    return max(numbers) if numbers else None


def _alarm_actions(res: Res, cfg: Config) -> Iterator[str]:
    yield from require_not_false(res, "actionsEnabled", "set actions_enabled=True")
    actions = res.get("alarmActions")
    if actions is not UNKNOWN and not [a for a in list_items(actions) if a]:
        yield problem(
            res,
            "alarmActions",
            "is not set" if actions is None else f"is {show(actions)}",
            "send the alarm to the region's SNS topic (alarm_actions)",
        )
    # An alarm fires only after `evaluationPeriods` periods of breaching data: with a period of
    # a day and three periods, a saturated CPU pages nobody for three days.
    period, evaluations = _alarm_period(res), res.get("evaluationPeriods")
    if UNKNOWN in (period, evaluations):
        return
    seconds, count = as_number(period), as_number(evaluations)
    maximum = cfg["maxEvaluationWindowSeconds"]
    if seconds is not None and count is not None and seconds * count > maximum:
        yield problem(
            res,
            "evaluationPeriods",
            f"x period is {show(count)} x {show(seconds)} s = {show(seconds * count)} s, longer than "
            f"{show(maximum)} s before the alarm can fire",
            f"use a period and evaluation_periods whose product is at most {show(maximum)} s",
        )


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="database-cpu-alarm",
        summary="Every database cluster (and plain instance) has a CPUUtilization alarm in its region at <= N%.",
        remediation="Add a CloudWatch alarm on AWS/RDS CPUUtilization with DBClusterIdentifier and threshold <= N.",
        severity=Severity.MEDIUM,
        check_stack=_database_cpu,
        params={
            "maxThreshold": Param(
                "number",
                80,
                "Highest allowed CPU alarm threshold in percent.",
                minimum=1,
                maximum=100,
            )
        },
    ),
    _rule(
        name="cache-cpu-alarm",
        summary="Every cache replication group has a (Engine)CPUUtilization alarm in its region at <= N%.",
        remediation="Add a CloudWatch alarm on AWS/ElastiCache EngineCPUUtilization for the group's nodes.",
        severity=Severity.MEDIUM,
        check_stack=_cache_cpu,
        params={
            "maxThreshold": Param(
                "number",
                80,
                "Highest allowed CPU alarm threshold in percent.",
                minimum=1,
                maximum=100,
            )
        },
    ),
    _rule(
        name="aurora-replication-lag-alarm",
        summary=(
            "Every secondary Aurora cluster has an AuroraGlobalDBReplicationLag alarm in its region, and every "
            "replication-lag alarm on a global-database member fires at <= N ms."
        ),
        remediation="Add a CloudWatch alarm on AuroraGlobalDBReplicationLag for the secondary cluster.",
        severity=Severity.HIGH,
        check_stack=_replication_lag,
        params={
            "maxThresholdMs": Param(
                "number",
                5000,
                "Highest allowed replication-lag alarm threshold in ms.",
                minimum=1,
                maximum=3600000,
            )
        },
    ),
    _rule(
        name="cloudwatch-alarm-actions",
        summary=(
            "CloudWatch alarms have actions enabled, notify somewhere, and can fire within N seconds "
            "(period x evaluationPeriods)."
        ),
        remediation="Keep actions_enabled True, set alarm_actions to the region's SNS topic, keep the window short.",
        severity=Severity.MEDIUM,
        targets=(t.METRIC_ALARM,),
        check_resource=_alarm_actions,
        params={
            "maxEvaluationWindowSeconds": Param(
                "integer",
                3600,
                "Longest allowed period x evaluationPeriods, in seconds.",
                minimum=10,
                maximum=604800,
            )
        },
        checkov=("CKV_AWS_319",),
        aws_config=("cloudwatch-alarm-action-check",),
    ),
)
