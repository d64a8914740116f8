"""Evidence after the fact: flow logs of the data tier's VPCs, log groups that are encrypted and
kept for a known time, DDL statements in the PostgreSQL log, and alarms that reach a person.

Checkov's scan of prod found the first three missing (CKV2_AWS_11, CKV2_AWS_27) or unchecked;
the last closes "an alarm that notifies a topic nobody reads passes".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import Severity

from policies import resource_types as t
from policies._keys import cmk_problems, home_region
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
    show,
)

CONCERN = "observability"


# --- VPC flow logs -------------------------------------------------------------------------------


def _vpcs(stack: StackView) -> dict[str, Res]:
    """VPC id (or the URN of a VPC created here) -> a resource to report on.

    VPCs created in the stack count, and so do VPCs the stack only uses (bring-your-own): the
    security groups name them in ``vpcId``, and their traffic is the data tier's too.
    """
    found: dict[str, Res] = {vpc.urn: vpc for vpc in stack.of_type(t.VPC)}
    vpc_urns = set(found)
    for group in stack.of_type(t.SECURITY_GROUP):
        if group.sources("vpcId") & vpc_urns:
            continue
        vpc_id = known_str(group.get("vpcId"))
        if vpc_id is not None and vpc_id not in {known_str(v.get("id")) for v in found.values()}:
            found.setdefault(vpc_id, group)
    return found


def _flow_logs(stack: StackView, cfg: Config) -> Iterator[Finding]:
    logs = stack.of_type(t.FLOW_LOG)
    if any(log.get("vpcId") is UNKNOWN and not log.sources("vpcId") for log in logs):
        return  # a flow log whose VPC is not known yet may be any of them
    wanted = cfg["trafficType"]
    for key, subject in _vpcs(stack).items():
        created = subject.type == t.VPC
        vpc_id = known_str(subject.get("id")) if created else key
        covering = [
            log
            for log in logs
            if (created and log.depends_on("vpcId", subject.urn))
            or (vpc_id is not None and log.get("vpcId") == vpc_id)
        ]
        if not covering:
            prop = "FlowLog.vpcId" if created else "vpcId"
            what = "this VPC" if created else f"the VPC {key} (brought, used by this group)"
            yield (
                problem(
                    subject,
                    prop,
                    f"names {what}, which has no {t.FLOW_LOG}: nobody can tell who connected "
                    "to the data stores",
                    "add a flow log with traffic_type ALL to an encrypted CloudWatch log group",
                ),
                subject.urn,
            )
            continue
        for log in covering:
            traffic = log.get("trafficType")
            if traffic is not UNKNOWN and traffic not in ("ALL", wanted):
                yield (
                    problem(log, "trafficType", f"is {show(traffic)}", f"log {wanted} traffic"),
                    log.urn,
                )
            kind = log.get("logDestinationType")
            role = log.get("iamRoleArn")
            if kind in (None, "cloud-watch-logs") and role in (None, ""):
                yield (
                    problem(
                        log,
                        "iamRoleArn",
                        "is not set; flow logs cannot publish to CloudWatch Logs without a role",
                        "set iam_role_arn to a role vpc-flow-logs.amazonaws.com can assume",
                    ),
                    log.urn,
                )


# --- Log groups ----------------------------------------------------------------------------------

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy, retentionInDays).
RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def _log_group(res: Res, cfg: Config) -> Iterator[str]:
    yield from cmk_problems(
        res,
        "kmsKeyId",
        res.get("kmsKeyId"),
        home_region(res),
        fix="set kms_key_id to a CMK of the log group's region (its policy must admit logs.<region>.amazonaws.com)",
        absent="is not set (log data only under CloudWatch's service key)",
    )
    value = res.get("retentionInDays")
    if value is UNKNOWN:
        return
    days = as_number(value)
    minimum = cfg["minRetentionDays"]
    if days is None or days == 0:
        yield problem(
            res,
            "retentionInDays",
            "is not set (kept, and billed, forever)" if days is None else "is 0 (never expires)",
            f"set retention_in_days to one of {[d for d in RETENTION_DAYS if d >= minimum][:4]}...",
        )
    elif days < minimum:
        yield problem(
            res,
            "retentionInDays",
            f"is {show(days)}, below {show(minimum)} days",
            f"keep the logs at least {show(minimum)} days",
        )


# --- PostgreSQL DDL logging ----------------------------------------------------------------------


def _ddl_logging(res: Res, cfg: Config) -> Iterator[str]:
    family = res.get("family")
    if not isinstance(family, str) or "postgres" not in family:
        return
    parameters = res.get("parameters")
    if parameters is UNKNOWN:
        return
    allowed = list(cfg["allowedLogStatement"])
    for item in list_items(parameters):
        if dig(item, "name") == "log_statement":
            value = dig(item, "value")
            if value is UNKNOWN or str(value).lower() in allowed:
                return
            yield problem(
                res,
                "parameters[log_statement]",
                f"is {show(value)}; schema changes (DDL) go unlogged",
                f"set log_statement to one of {', '.join(allowed)}",
            )
            return
    yield problem(
        res,
        "parameters",
        "does not set log_statement (PostgreSQL's default is none)",
        "add {name: log_statement, value: ddl}",
    )


# --- Alarms that reach someone ---------------------------------------------------------------------


def _topic_for(alarm: Res, topics: list[Res]) -> list[Any]:
    """Topics of the stack an alarm notifies (UNKNOWN for an action not known yet)."""
    found: list[Any] = []
    actions = alarm.get("alarmActions")
    for topic in topics:
        arn = known_str(topic.get("arn"))
        if alarm.depends_on("alarmActions", topic.urn) or (arn and arn in list_items(actions)):
            found.append(topic)
    if actions is UNKNOWN or (UNKNOWN in list_items(actions) and not alarm.sources("alarmActions")):
        found.append(UNKNOWN)
    return found


def _subscribed(stack: StackView, _cfg: Config) -> Iterator[Finding]:
    topics = stack.of_type(t.SNS_TOPIC)
    subscriptions = stack.of_type(t.SNS_SUBSCRIPTION)
    if any(s.get("topic") is UNKNOWN and not s.sources("topic") for s in subscriptions):
        return
    notified: dict[str, list[Res]] = {}
    for alarm in stack.of_type(t.METRIC_ALARM):
        for topic in _topic_for(alarm, topics):
            if topic is not UNKNOWN:
                notified.setdefault(topic.urn, []).append(alarm)
    for urn, alarms in notified.items():
        topic = stack.by_urn[urn]
        arn = known_str(topic.get("arn"))
        listeners = [
            s
            for s in subscriptions
            if s.depends_on("topic", urn) or (arn is not None and s.get("topic") == arn)
        ]
        if listeners:
            continue
        yield (
            problem(
                topic,
                "TopicSubscription.topic",
                f"is named by no subscription, so {len(alarms)} alarm(s) (e.g. {alarms[0].name}) notify nobody",
                "subscribe the on-call address (monitoringAlarmEmails) or a paging endpoint to the topic",
            ),
            topic.urn,
        )


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="vpc-flow-logs",
        summary=(
            "Every VPC of the data tier (created here, or brought and used by its security groups) has "
            "a flow log of the configured traffic, with a delivery role for CloudWatch Logs."
        ),
        remediation="Add an aws.ec2.FlowLog (traffic_type ALL) to an encrypted log group with a retention.",
        severity=Severity.MEDIUM,
        check_stack=_flow_logs,
        params={
            "trafficType": Param(
                "string",
                "ALL",
                "Traffic the flow log must capture (ALL captures ACCEPT and REJECT too).",
                enum=("ALL", "ACCEPT", "REJECT"),
            )
        },
        checkov=("CKV2_AWS_11",),
        aws_config=("vpc-flow-logs-enabled",),
        cdk_nag=("AwsSolutions-VPC7",),
    ),
    _rule(
        name="cloudwatch-log-group-protected",
        summary="CloudWatch log groups encrypt with a CMK of their region and keep logs at least N days (not forever).",
        remediation="Set kms_key_id (a CMK whose policy admits CloudWatch Logs) and retention_in_days.",
        severity=Severity.MEDIUM,
        targets=(t.LOG_GROUP,),
        check_resource=_log_group,
        params={
            "minRetentionDays": Param(
                "integer",
                365,
                "Shortest allowed retention in days.",
                minimum=1,
                maximum=3653,
            )
        },
        checkov=("CKV_AWS_158", "CKV_AWS_66", "CKV_AWS_338"),
        aws_config=("cloudwatch-log-group-encrypted", "cw-loggroup-retention-period-check"),
    ),
    _rule(
        name="rds-ddl-logging",
        summary="PostgreSQL (cluster) parameter groups log DDL statements (log_statement ddl, mod or all).",
        remediation="Set log_statement=ddl in the cluster parameter group.",
        severity=Severity.MEDIUM,
        targets=(t.RDS_CLUSTER_PARAMETER_GROUP, t.RDS_PARAMETER_GROUP),
        check_resource=_ddl_logging,
        params={
            "allowedLogStatement": Param(
                "array",
                ["ddl", "mod", "all"],
                "log_statement values that record DDL.",
                items="string",
                item_enum=("none", "ddl", "mod", "all"),
            )
        },
        checkov=("CKV2_AWS_27",),
    ),
    _rule(
        name="alarm-topic-subscribed",
        summary="Every SNS topic the stack's alarms notify has at least one subscription.",
        remediation="List who is paged in monitoringAlarmEmails in the stack file (an aws.sns.TopicSubscription per alarm topic).",
        severity=Severity.MEDIUM,
        check_stack=_subscribed,
    ),
)
