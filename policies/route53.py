"""Resilience of the names applications use: Route 53 records and health checks.

The design these rules hold the stack to (components/dns.py): the writer name is one simple CNAME
to the Aurora global writer endpoint, which Aurora keeps pointing at the current primary's writer
("Connecting to Amazon Aurora Global Database"); failover routing is never used for the writer or
cache names, because a region swap would flip PRIMARY/SECONDARY roles in place and Route 53 takes
one upsert per record (two PRIMARY records of one name in between: the deploy fails). The cache
name is never one simple record either: ElastiCache has no global endpoint, so a simple record
moves only through ChangeResourceRecordSets, the Route 53 control plane that the AWS Fault
Isolation Boundaries whitepaper places in us-east-1; it must be routed records guarded by health
checks, which Route 53 evaluates in its data plane. Every latency- or weighted-routed record
carries a health check, or Route 53 keeps answering with a dead region.
Private zones cannot be probed, so health checks follow CloudWatch alarms, and such an alarm must
exist in the stack: a health check naming a missing alarm reports "insufficient data" forever.
That status must be Unhealthy (a region that stops reporting is not a healthy one; with
LastKnownStatus a new check even starts healthy: "How Amazon Route 53 determines whether a health
check is healthy"), and the check must carry ``triggers``: Route 53 copies the alarm's settings
when the check is created and does not see later edits.

Checkov has no equivalent: these are properties of the graph (which resource a record's target
came from, whether an alarm of that name exists in that region), not of one resource.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pulumi_policy import Severity

from policies import resource_types as t
from policies._rule import Config, Finding, Param, Rule
from policies._values import UNKNOWN, Res, StackView, known_str, list_items, problem, show

CONCERN = "resilience"
ROUTING_POLICIES = (
    "failoverRoutingPolicies",
    "latencyRoutingPolicies",
    "weightedRoutingPolicies",
    "geolocationRoutingPolicies",
    "geoproximityRoutingPolicies",
    "cidrRoutingPolicies",
)


def _named(record: Res, pattern: str) -> Any:
    """True when the record's DNS name (first label) or, while that is unknown, its logical name
    contains ``pattern``; UNKNOWN when neither can tell yet."""
    name = record.get("name")
    if isinstance(name, str):
        return pattern in name.split(".")[0]
    if pattern in record.name:
        return True
    return UNKNOWN if name is UNKNOWN else False


def _routing(record: Res) -> list[str]:
    """The routing-policy inputs known to be set on a record (unknown ones decide later)."""
    return [p for p in ROUTING_POLICIES if list_items(record.get(p))]


def _routing_unknown(record: Res) -> bool:
    """A routing-policy input not known yet (a first preview): decide later."""
    return any(record.get(p) is UNKNOWN for p in ROUTING_POLICIES)


def _writer_target(record: Res, globals_: Sequence[Res]) -> Iterator[str]:
    """The writer record must point at a global cluster's endpoint, proven by its dependencies."""
    sources = record.sources("records")
    if {g.urn for g in globals_} & sources:
        return
    value = record.get("records")
    if not sources and (value is UNKNOWN or UNKNOWN in list_items(value)):
        return
    origin = (
        f"comes from {show(sorted(s.split('::')[-1] for s in sources))}"
        if sources
        else f"is the literal {show(value)}"
    )
    yield problem(
        record,
        "records",
        f"{origin}, not the Aurora global cluster's writer endpoint",
        "set records=[global_cluster.endpoint] (it follows the writer through switchover and failover)",
    )


def _writer_failover(stack: StackView, cfg: Config) -> Iterator[Finding]:
    records = stack.of_type(t.ROUTE53_RECORD)
    pattern, cache = cfg["writerRecordPattern"], cfg["cacheRecordPattern"]
    writers = [r for r in records if _named(r, pattern) is True]
    if not writers:
        if any(_named(r, pattern) is UNKNOWN for r in records):
            return
        yield (
            f"No {t.ROUTE53_RECORD} named like {pattern!r}: nothing points clients at the writer. "
            "Fix: add a simple CNAME for the writer name to the Aurora global writer endpoint.",
            None,
        )
        return
    globals_ = stack.of_type(t.RDS_GLOBAL_CLUSTER)
    for record in writers:
        kind = record.get("type")
        if isinstance(kind, str) and kind != "CNAME":
            yield (
                problem(
                    record, "type", f"is {show(kind)}", "use type CNAME (the endpoint is a name)"
                ),
                record.urn,
            )
        routed = _routing(record)
        if routed:
            yield (
                problem(
                    record,
                    routed[0],
                    "is set on the writer name",
                    "make the writer name one simple CNAME: the global endpoint moves with the writer",
                ),
                record.urn,
            )
        if globals_:
            for message in _writer_target(record, globals_):
                yield (message, record.urn)
    for record in records:
        if (_named(record, pattern) is True or _named(record, cache) is True) and list_items(
            record.get("failoverRoutingPolicies")
        ):
            if record in writers:
                continue  # reported above
            yield (
                problem(
                    record,
                    "failoverRoutingPolicies",
                    "is set on a cache name",
                    "use weighted records per region (or node) to each region's primary endpoint, "
                    "guarded by health checks that follow the role; failover roles would flip in "
                    "place on a region swap",
                ),
                record.urn,
            )
        elif (
            _named(record, cache) is True
            and record not in writers
            and not _routing(record)
            and not _routing_unknown(record)
        ):
            yield (
                problem(
                    record,
                    "weightedRoutingPolicies",
                    "is not set: the cache name is one simple record, which moves only through "
                    "ChangeResourceRecordSets (the Route 53 control plane, in us-east-1)",
                    "give each region's primary endpoint its own weighted record guarded by a "
                    "health check that follows the role, so the name fails over in Route 53's "
                    "data plane",
                ),
                record.urn,
            )
        routed = [
            p
            for p in ("latencyRoutingPolicies", "weightedRoutingPolicies")
            if list_items(record.get(p))
        ]
        if cfg["requireLatencyHealthChecks"] and routed:
            check = record.get("healthCheckId")
            if check is not UNKNOWN and not record.sources("healthCheckId") and not check:
                kind = routed[0].removesuffix("RoutingPolicies")
                yield (
                    problem(
                        record,
                        "healthCheckId",
                        f"is not set on a {kind}-routed record",
                        "attach the region's Route 53 health check so an unhealthy region is skipped",
                    ),
                    record.urn,
                )


def _alarm_exists(check: Res, stack: StackView) -> Iterator[str]:
    """A CLOUDWATCH_METRIC check names an alarm of this stack, in the region it looks in."""
    name, region = check.get("cloudwatchAlarmName"), check.get("cloudwatchAlarmRegion")
    alarms = stack.of_type(t.METRIC_ALARM)
    linked = [a for a in alarms if check.depends_on("cloudwatchAlarmName", a.urn)]
    for alarm in linked:
        if isinstance(region, str) and isinstance(alarm.region, str) and alarm.region != region:
            yield problem(
                check,
                "cloudwatchAlarmRegion",
                f"is {show(region)}, but alarm {alarm.label} is in {show(alarm.region)}",
                f"set cloudwatch_alarm_region={alarm.region!r}",
            )
    if linked or not isinstance(name, str) or not isinstance(region, str):
        return
    in_region = [a for a in alarms if a.region in (region, UNKNOWN)]
    if any(a.get("name") is UNKNOWN for a in in_region):
        return
    if not any(a.get("name") == name for a in in_region):
        yield problem(
            check,
            "cloudwatchAlarmName",
            f"is {show(name)}, but the stack has no {t.METRIC_ALARM} of that name in {region}",
            "name an alarm of this stack in that region (pass the alarm's name output, so the "
            "check is also created after it)",
        )


def _health_checks(stack: StackView, cfg: Config) -> Iterator[Finding]:
    allowed = list(cfg["allowedTypes"])
    statuses = list(cfg["insufficientDataStatuses"])
    for check in stack.of_type(t.ROUTE53_HEALTH_CHECK):
        for message in _health_check(check, stack, allowed, statuses, cfg["requireTriggers"]):
            yield (message, check.urn)


def _health_check(
    check: Res,
    stack: StackView,
    allowed: Sequence[str],
    statuses: Sequence[str],
    require_triggers: bool,
) -> Iterator[str]:
    kind = check.get("type")
    if kind is UNKNOWN:
        return
    if kind not in allowed:
        yield problem(
            check,
            "type",
            f"is {show(kind)}; Route 53 checkers cannot reach a private zone's endpoints",
            f"use one of {', '.join(allowed)}",
        )
        return
    if kind != "CLOUDWATCH_METRIC":
        return
    missing = False
    for prop, fix in (
        ("cloudwatchAlarmName", "set cloudwatch_alarm_name"),
        ("cloudwatchAlarmRegion", "set cloudwatch_alarm_region"),
    ):
        if check.get(prop) is None or check.get(prop) == "":
            missing = True
            yield problem(check, prop, "is not set", fix)
    raw_status = check.get("insufficientDataHealthStatus")
    status = known_str(raw_status)
    if raw_status is None and "LastKnownStatus" not in statuses:
        # Route 53's default is LastKnownStatus ("HealthCheckConfig.InsufficientDataHealthStatus").
        yield problem(
            check,
            "insufficientDataHealthStatus",
            "is not set (Route 53 then keeps the last known status, healthy for a new check)",
            f"set it to one of {', '.join(statuses)}",
        )
    elif status is not None and status not in statuses:
        yield problem(
            check,
            "insufficientDataHealthStatus",
            f"is {show(status)}",
            f"use one of {', '.join(statuses)}",
        )
    triggers = check.get("triggers")
    if require_triggers and triggers is not UNKNOWN and not triggers:
        yield problem(
            check,
            "triggers",
            "is not set: Route 53 copies the alarm's settings when the check is created and does "
            "not see later alarm edits",
            "set triggers to the alarm's settings (threshold, period, statistic, ...) so an alarm "
            "edit updates the check",
        )
    if not missing:
        yield from _alarm_exists(check, stack)


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="route53-writer-failover",
        summary=(
            "The writer DNS name is one simple CNAME to the Aurora global writer endpoint (traced "
            "through property dependencies); no writer or cache name uses failover routing, the "
            "cache name is routed records (never one simple record, which only the us-east-1 "
            "control plane can move), and every latency- or weighted-routed record has a health "
            "check."
        ),
        remediation=(
            "Point a simple writer CNAME at GlobalCluster.endpoint, give the cache name a weighted "
            "record per region (or node) guarded by role-following health checks, and set "
            "health_check_id on latency and weighted records."
        ),
        severity=Severity.HIGH,
        check_stack=_writer_failover,
        params={
            "writerRecordPattern": Param(
                "string",
                "writer",
                "Substring of the first DNS label that identifies writer records.",
            ),
            "cacheRecordPattern": Param(
                "string", "cache", "Substring of the first DNS label that identifies cache records."
            ),
            "requireLatencyHealthChecks": Param(
                "boolean",
                True,
                "Require a health check on every latency- or weighted-routed record.",
            ),
        },
    ),
    _rule(
        name="route53-health-check-alarm",
        summary=(
            "Route 53 health checks follow CloudWatch alarms (private endpoints cannot be probed); "
            "each CLOUDWATCH_METRIC check names an alarm of the stack in the region it looks in, "
            "turns unhealthy when the alarm has insufficient data, and carries triggers so alarm "
            "edits reach it."
        ),
        remediation=(
            "Use type CLOUDWATCH_METRIC (or CALCULATED) with cloudwatch_alarm_name set to the name "
            "output of an alarm of this stack, cloudwatch_alarm_region to that alarm's region, "
            "insufficient_data_health_status='Unhealthy' and triggers set to the alarm's settings."
        ),
        severity=Severity.MEDIUM,
        check_stack=_health_checks,
        params={
            "allowedTypes": Param(
                "array",
                ["CLOUDWATCH_METRIC", "CALCULATED"],
                "Health check types allowed.",
                items="string",
            ),
            "insufficientDataStatuses": Param(
                "array",
                ["Unhealthy"],
                "Allowed insufficient-data statuses (unset counts as Route 53's default, "
                "LastKnownStatus).",
                items="string",
            ),
            "requireTriggers": Param(
                "boolean",
                True,
                "Require triggers on CLOUDWATCH_METRIC checks so alarm edits update them.",
            ),
        },
    ),
)
