"""Cost guardrails: sizes and regions allowed per environment, free-tier telemetry, capped
scaling, on-demand (or auto-scaled) capacity and a budget in every stack.

These are the rules dev may run as advisory: the allowed lists live in each stack's policy config.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import Severity

from policies import resource_types as t
from policies._rule import Config, Finding, Param, Rule
from policies._values import (
    UNKNOWN,
    Res,
    StackView,
    arn_region,
    as_number,
    dig,
    known_str,
    list_items,
    problem,
    show,
)
from policies.multi_az import cluster_members, is_aurora

CONCERN = "cost"


def _allowed(res: Res, prop: str, allowed: list[str], fix: str) -> Iterator[str]:
    value = res.get(prop)
    if isinstance(value, str) and value not in allowed:
        yield problem(
            res, prop, f"is {show(value)}, not allowed in this stack ({', '.join(allowed)})", fix
        )


def _instance_class(res: Res, cfg: Config) -> Iterator[str]:
    prop = "dbClusterInstanceClass" if res.type == t.RDS_CLUSTER else "instanceClass"
    yield from _allowed(
        res, prop, list(cfg["allowed"]), "pick an allowed class or extend the stack's policy config"
    )


def _node_type(res: Res, cfg: Config) -> Iterator[str]:
    prop = "cacheNodeType" if res.type == t.CACHE_GLOBAL_REPLICATION_GROUP else "nodeType"
    yield from _allowed(
        res,
        prop,
        list(cfg["allowed"]),
        "pick an allowed node type or extend the stack's policy config",
    )


def _pi_retention(res: Res, cfg: Config) -> Iterator[str]:
    value = as_number(res.get("performanceInsightsRetentionPeriod"))
    maximum = cfg["maxRetentionDays"]
    if value is not None and value > maximum:
        yield problem(
            res,
            "performanceInsightsRetentionPeriod",
            f"is {show(value)} days; {show(maximum)} is the limit (7 is the free tier)",
            "set performance_insights_retention_period=7 or raise maxRetentionDays for this stack",
        )


def _data_destinations(res: Res) -> list[tuple[str, Any]]:
    """Every other place a resource puts data: table and secret replicas, backup copies."""
    if res.type == t.DYNAMODB_TABLE:
        return [
            (f"replicas[{i}].regionName", dig(rep, "regionName"))
            for i, rep in enumerate(list_items(res.get("replicas")))
        ]
    if res.type == t.SECRET:
        return [
            (f"replicas[{i}].region", dig(rep, "region"))
            for i, rep in enumerate(list_items(res.get("replicas")))
        ]
    if res.type == t.BACKUP_PLAN:
        return [
            (
                f"rules[{i}].copyActions[{j}].destinationVaultArn",
                UNKNOWN if arn is UNKNOWN else arn_region(arn),
            )
            for i, rule in enumerate(list_items(res.get("rules")))
            for j, copy in enumerate(list_items(dig(rule, "copyActions")))
            for arn in [dig(copy, "destinationVaultArn")]
        ]
    return []


def _regions(res: Res, cfg: Config) -> Iterator[str]:
    allowed = list(cfg["allowed"])
    candidates: list[tuple[str, Any]] = [("region", res.get("region"))]
    candidates += _data_destinations(res)
    for prop, value in candidates:
        if isinstance(value, str) and value not in allowed:
            yield problem(
                res,
                prop,
                f"is {show(value)}, outside the allowed regions {show(allowed)}",
                "deploy to an allowed region",
            )


def _reader_cap(stack: StackView, cfg: Config) -> Iterator[Finding]:
    max_instances = cfg["maxInstancesPerCluster"]
    for cluster in stack.of_type(t.RDS_CLUSTER):
        if not is_aurora(cluster):
            continue
        members, undecided = cluster_members(stack, cluster)
        if not undecided and len(members) > max_instances:
            yield (
                problem(
                    cluster,
                    "ClusterInstance.clusterIdentifier",
                    f"is referenced by {len(members)} instances, above the cap of {show(max_instances)}",
                    "remove instances or raise maxInstancesPerCluster for this stack",
                ),
                cluster.urn,
            )
    max_readers = cfg["maxAutoscaledReaders"]
    for target in stack.of_type(t.AUTOSCALING_TARGET):
        if target.get("scalableDimension") != "rds:cluster:ReadReplicaCount":
            continue
        capacity = as_number(target.get("maxCapacity"))
        if capacity is not None and capacity > max_readers:
            yield (
                problem(
                    target,
                    "maxCapacity",
                    f"is {show(capacity)} Aurora replicas, above the cap of {show(max_readers)}",
                    "lower max_capacity or raise maxAutoscaledReaders for this stack",
                ),
                target.urn,
            )


def _budget(stack: StackView, cfg: Config) -> Iterator[Finding]:
    budgets = stack.of_type(t.BUDGET)
    if not budgets:
        yield (
            f"No {t.BUDGET} in the stack. Fix: add a monthly COST budget with alert notifications.",
            None,
        )
        return
    cap = cfg["maxMonthlyLimitUsd"]
    problems: list[Finding] = []
    for budget in budgets:
        found: list[str] = []
        kind = budget.get("budgetType")
        if kind is not UNKNOWN and kind != "COST":
            found.append(problem(budget, "budgetType", f"is {show(kind)}", "use budget_type COST"))
        period = budget.get("timeUnit")
        if period is not UNKNOWN and period != "MONTHLY":
            shown = "is not set" if period is None else f"is {show(period)}"
            found.append(
                problem(
                    budget,
                    "timeUnit",
                    f"{shown}; a monthly limit must be checked every month",
                    "use time_unit MONTHLY",
                )
            )
        amount = as_number(budget.get("limitAmount"))
        if cap and amount is not None and amount > cap:
            found.append(
                problem(
                    budget,
                    "limitAmount",
                    f"is {show(amount)} USD, above {show(cap)}",
                    "lower limit_amount",
                )
            )
        notifications = budget.get("notifications")
        if cfg["requireNotifications"] and notifications is not UNKNOWN:
            reachable = [
                n
                for n in list_items(notifications)
                if n is UNKNOWN
                or [e for e in list_items(dig(n, "subscriberEmailAddresses")) if e]
                or [a for a in list_items(dig(n, "subscriberSnsTopicArns")) if a]
                or UNKNOWN in (dig(n, "subscriberEmailAddresses"), dig(n, "subscriberSnsTopicArns"))
            ]
            if not reachable:
                found.append(
                    problem(
                        budget,
                        "notifications",
                        "alert nobody",
                        "add notifications with subscriber e-mails or SNS topics",
                    )
                )
        if not found:
            return  # one good budget is enough
        problems.extend((message, budget.urn) for message in found)
    yield from problems


def _has_scaling(stack: StackView, table: Res, dimension: str) -> bool | None:
    name = known_str(table.get("name"))
    for target in stack.of_type(t.AUTOSCALING_TARGET):
        if target.get("scalableDimension") not in (dimension, UNKNOWN):
            continue
        resource_id = target.get("resourceId")
        if target.depends_on("resourceId", table.urn) or (name and resource_id == f"table/{name}"):
            return True
        if resource_id is UNKNOWN and not target.sources("resourceId"):
            return None
    return False


def _billing(stack: StackView, cfg: Config) -> Iterator[Finding]:
    for table in stack.of_type(t.DYNAMODB_TABLE):
        mode = table.get("billingMode")
        if mode is UNKNOWN or mode == "PAY_PER_REQUEST":
            continue
        shown = "is not set (PROVISIONED)" if mode is None else f"is {show(mode)}"
        if not cfg["allowProvisioned"]:
            yield (
                problem(table, "billingMode", shown, "use billing_mode PAY_PER_REQUEST"),
                table.urn,
            )
            continue
        missing = [
            dimension.rsplit(":", 1)[1]
            for dimension in (
                "dynamodb:table:ReadCapacityUnits",
                "dynamodb:table:WriteCapacityUnits",
            )
            if _has_scaling(stack, table, dimension) is False
        ]
        if missing:
            yield (
                problem(
                    table,
                    "billingMode",
                    f"{shown} without application auto scaling of {', '.join(missing)}",
                    "use PAY_PER_REQUEST, or add appautoscaling targets and policies for reads and writes",
                ),
                table.urn,
            )


def _storage(res: Res, cfg: Config) -> Iterator[str]:
    value = res.get("storageType")
    if res.type == t.RDS_CLUSTER:
        allowed = list(cfg["allowedClusterStorageTypes"])
        if isinstance(value, str) and value and value not in allowed:
            yield problem(
                res,
                "storageType",
                f"is {show(value)}",
                f"use one of {', '.join(allowed)} (or leave it unset)",
            )
        return
    allowed = list(cfg["allowedInstanceStorageTypes"])
    if value is not UNKNOWN and (value is None or value not in allowed):
        shown = "is not set (gp2)" if value is None else f"is {show(value)}"
        yield problem(res, "storageType", shown, f"use one of {', '.join(allowed)}")
    maximum, allocated = res.get("maxAllocatedStorage"), res.get("allocatedStorage")
    if UNKNOWN in (maximum, allocated):
        return
    limit = as_number(maximum)
    if limit is None or limit <= (as_number(allocated) or 0.0):
        yield problem(
            res,
            "maxAllocatedStorage",
            f"is {show(maximum)} (allocatedStorage {show(allocated)})",
            "set max_allocated_storage above allocated_storage so storage grows instead of being over-provisioned",
        )


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="cost-allowed-instance-classes",
        summary="Database instance classes come from the stack's allowed list.",
        remediation="Set auroraInstanceClass in the stack file to an allowed class (or extend the list in the stack's policy config).",
        severity=Severity.MEDIUM,
        targets=(t.RDS_CLUSTER_INSTANCE, t.RDS_INSTANCE, t.RDS_CLUSTER),
        check_resource=_instance_class,
        params={
            "allowed": Param(
                "array",
                ["db.r6g.large", "db.r6g.xlarge", "db.r7g.large", "db.r7g.xlarge"],
                "Allowed DB instance classes.",
                items="string",
            )
        },
        aws_config=("desired-instance-type",),
    ),
    _rule(
        name="cost-allowed-cache-node-types",
        summary="Cache node types come from the stack's allowed list.",
        remediation="Set cacheNodeType in the stack file to an allowed node type (or extend the list in the stack's policy config).",
        severity=Severity.MEDIUM,
        targets=(t.CACHE_REPLICATION_GROUP, t.CACHE_GLOBAL_REPLICATION_GROUP),
        check_resource=_node_type,
        params={
            "allowed": Param(
                "array",
                ["cache.m6g.large", "cache.m7g.large", "cache.r6g.large", "cache.r7g.large"],
                "Allowed cache node types.",
                items="string",
            )
        },
    ),
    _rule(
        name="cost-performance-insights-retention",
        summary="Performance Insights keeps at most N days (7 is the free tier).",
        remediation="Set auroraPerformanceInsightsRetentionDays: 7 in the stack file unless the stack's policy config allows more.",
        severity=Severity.LOW,
        targets=(t.RDS_CLUSTER_INSTANCE, t.RDS_INSTANCE, t.RDS_CLUSTER),
        check_resource=_pi_retention,
        params={
            "maxRetentionDays": Param(
                "integer",
                7,
                "Longest allowed Performance Insights retention (7, or a multiple of 31 up to 731).",
                minimum=7,
                maximum=731,
            )
        },
    ),
    _rule(
        name="cost-allowed-regions",
        summary=(
            "Regional resources, and every other place they put data (DynamoDB and secret replicas, "
            "backup copy destinations), are in the stack's allowed regions."
        ),
        remediation="Set primaryRegion and secondaryRegion in the stack file to allowed regions (or extend the list in the stack's policy config).",
        severity=Severity.HIGH,
        applies=t.is_regional,
        targets_doc="every regional aws:* resource, with its replicas and copy destinations",
        check_resource=_regions,
        params={
            "allowed": Param(
                "array",
                ["us-east-1", "us-east-2", "us-west-2"],
                "Allowed AWS regions.",
                items="string",
            )
        },
    ),
    _rule(
        name="cost-reader-count-cap",
        summary="Aurora clusters have at most N instances and reader auto scaling adds at most M replicas.",
        remediation="Lower auroraInstancesPerRegion / auroraAutoscalingMaxReaders in the stack file, or raise the caps in the stack's policy config.",
        severity=Severity.MEDIUM,
        check_stack=_reader_cap,
        params={
            "maxInstancesPerCluster": Param(
                "integer", 4, "Most instances per regional cluster.", minimum=1, maximum=16
            ),
            "maxAutoscaledReaders": Param(
                "integer",
                4,
                "Highest max_capacity of reader auto scaling.",
                minimum=0,
                maximum=15,
            ),
        },
    ),
    _rule(
        name="cost-budget-present",
        summary="The stack has a monthly COST budget (under an optional cap) that alerts someone.",
        remediation="Set budgetMonthlyLimitUsd and budgetAlertEmails in the stack file (an aws.budgets.Budget of budget_type COST with subscribed notifications).",
        severity=Severity.MEDIUM,
        check_stack=_budget,
        params={
            "maxMonthlyLimitUsd": Param(
                "number", 0, "Highest allowed limitAmount in USD (0: no cap).", minimum=0
            ),
            "requireNotifications": Param(
                "boolean", True, "Require at least one notification with a subscriber."
            ),
        },
    ),
    _rule(
        name="dynamodb-billing-mode",
        summary="DynamoDB tables bill on demand, or are provisioned with auto scaling for reads and writes.",
        remediation="Use billing_mode PAY_PER_REQUEST, or add application auto scaling targets for both.",
        severity=Severity.MEDIUM,
        check_stack=_billing,
        params={
            "allowProvisioned": Param("boolean", True, "Allow PROVISIONED tables that auto scale.")
        },
        aws_config=("dynamodb-autoscaling-enabled",),
    ),
    _rule(
        name="rds-storage",
        summary=(
            "Storage is cost-efficient: plain RDS instances use gp3 (or another allowed type) with storage "
            "autoscaling; Aurora clusters keep standard storage unless I/O-optimized is allowed."
        ),
        remediation="Set storage_type='gp3' and max_allocated_storage on instances; leave Aurora storage_type unset.",
        severity=Severity.LOW,
        targets=(t.RDS_CLUSTER, t.RDS_INSTANCE),
        check_resource=_storage,
        params={
            "allowedInstanceStorageTypes": Param(
                "array",
                ["gp3", "io2"],
                "Storage types for plain instances.",
                items="string",
                item_enum=("gp2", "gp3", "io1", "io2", "standard"),
            ),
            "allowedClusterStorageTypes": Param(
                "array",
                ["aurora", "gp3", "io2"],
                "Storage types for clusters (aurora-iopt1 costs more).",
                items="string",
                item_enum=("aurora", "aurora-iopt1", "gp3", "io1", "io2"),
            ),
        },
    ),
)
