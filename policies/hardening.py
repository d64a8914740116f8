"""Secure configuration the FSBP controls of the plan's services ask for, judged in the plan.

Each rule answers one Security Hub control (or a group of them) the older concern modules left
open: supported Lambda runtimes (Lambda.2), a master user name other than the engine's default
(RDS.24), automatic minor upgrades of the cache (ElastiCache.2), no public IPs from the data
subnets (EC2.15), a closed default security group (EC2.2), no high-risk port open to the
internet (EC2.13, EC2.14, EC2.19, EC2.53, EC2.54) and DNS query logs for public zones
(Route53.2). Resource rules read one resource; the stack rule indexes the query-log configs
once, so every rule is linear in the stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from pulumi_policy import Severity

from policies import resource_types as t
from policies._rule import Config, Finding, Param, Rule
from policies._values import (
    UNKNOWN,
    Res,
    StackView,
    as_bool,
    list_items,
    problem,
    require_not_false,
    require_not_true,
    show,
)
from policies.network import _covers_port, _entries, _network

CONCERN = "hardening"

SUBNET: Final = "aws:ec2/subnet:Subnet"
ROUTE53_ZONE: Final = "aws:route53/zone:Zone"
ROUTE53_QUERY_LOG: Final = "aws:route53/queryLog:QueryLog"

# Lambda.2's parameter, "runtime" (not customizable), on the Security Hub Lambda controls page
# (https://docs.aws.amazon.com/securityhub/latest/userguide/lambda-controls.html#lambda-2).
SUPPORTED_RUNTIMES: Final = (
    "dotnet8",
    "java25",
    "java21",
    "java17",
    "java11",
    "java8.al2",
    "nodejs24.x",
    "nodejs22.x",
    "nodejs20.x",
    "python3.14",
    "python3.13",
    "python3.12",
    "python3.11",
    "python3.10",
    "ruby3.4",
    "ruby3.3",
    "ruby3.2",
)

# EC2.19's blockedPorts (not customizable), on the Security Hub EC2 controls page
# (https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-19), less 3306
# and 5432, which security-group-data-ingress holds to a stricter standard (the application
# CIDRs, not just "not the internet").
HIGH_RISK_PORTS: Final = (
    20,
    21,
    22,
    23,
    25,
    110,
    135,
    143,
    445,
    1433,
    1434,
    3000,
    3389,
    4333,
    5000,
    5500,
    5601,
    8080,
    8088,
    8888,
    9200,
    9300,
)

# The master user names the RDS console proposes: "postgres" for (Aurora) PostgreSQL, "admin"
# for (Aurora) MySQL and MariaDB. RDS.24/RDS.25 fail a cluster or instance that keeps them
# (https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-24).
DEFAULT_ADMIN_NAMES: Final = ("postgres", "admin")


def _runtime(res: Res, cfg: Config) -> Iterator[str]:
    if res.get("packageType") == "Image":
        return  # container images carry their own runtime; Lambda.2 ignores them too
    runtime = res.get("runtime")
    if not isinstance(runtime, str):
        return
    allowed = list(cfg["allowedRuntimes"])
    if runtime not in allowed:
        yield problem(
            res,
            "runtime",
            f"is {runtime}, not a supported runtime ({show(allowed)})",
            "move the function to a supported runtime, e.g. python3.13",
        )


def _admin_name(res: Res, cfg: Config) -> Iterator[str]:
    name = res.get("masterUsername")
    if not isinstance(name, str):
        return  # a secondary cluster of a global database takes the primary's user
    if name.lower() in {n.lower() for n in cfg["defaultNames"]}:
        yield problem(
            res,
            "masterUsername",
            f"is {name}, the engine's default administrator name",
            "choose a name of your own (it cannot change after create)",
        )


def _global_datastore_members(stack: StackView) -> set[str]:
    """URNs of the replication groups that belong to a global datastore (primary or secondary)."""
    members: set[str] = set()
    for datastore in stack.of_type(t.CACHE_GLOBAL_REPLICATION_GROUP):
        members |= datastore.sources("primaryReplicationGroupId")
    for group in stack.of_type(t.CACHE_REPLICATION_GROUP):
        if group.get("globalReplicationGroupId") is not None:
            members.add(group.urn)
    return members


def _cache_minor_upgrades(stack: StackView, _cfg: Config) -> Iterator[Finding]:
    # ElastiCache turns auto minor version upgrade off on every member of a global datastore
    # and refuses to turn it on ("Global datastores: Prerequisites and limitations";
    # components/day_two.py); their engine is upgraded through the global datastore. So the
    # control (FSBP ElastiCache.2) can only be asked of groups outside a global datastore.
    # On a member the setting must be AWS's own false: the provider's default (true) or an
    # explicit true is a change AWS rejects, sent again by every `up` after a refresh.
    members = _global_datastore_members(stack)
    for group in stack.of_type(t.CACHE_REPLICATION_GROUP):
        if group.urn not in members:
            for message in require_not_false(
                group, "autoMinorVersionUpgrade", "set auto_minor_version_upgrade=True"
            ):
                yield message, group.urn
            continue
        value = group.get("autoMinorVersionUpgrade")
        if value is not UNKNOWN and as_bool(value) is not False:
            yield (
                problem(
                    group,
                    "autoMinorVersionUpgrade",
                    f"is {show(value)} on a global datastore member (AWS keeps it off and "
                    "refuses to turn it on)",
                    "set auto_minor_version_upgrade=False; upgrade through the global datastore",
                ),
                group.urn,
            )


def _subnet_public_ip(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_not_true(res, "mapPublicIpOnLaunch", "set map_public_ip_on_launch=False")
    yield from require_not_true(
        res, "assignIpv6AddressOnCreation", "set assign_ipv6_address_on_creation=False"
    )


def _default_sg_closed(res: Res, _cfg: Config) -> Iterator[str]:
    # aws.ec2.DefaultSecurityGroup removes every rule of the adopted group and writes only the
    # ones given, so absent or empty ingress/egress leave it closed.
    for prop in ("ingress", "egress"):
        value = res.get(prop)
        if value is UNKNOWN:
            continue
        rules = list_items(value)
        if rules:
            yield problem(
                res,
                prop,
                f"has {len(rules)} rule(s); the default security group must allow no traffic",
                f"set {prop}=[] and give resources their own security groups",
            )


def _high_risk_ports(res: Res, cfg: Config) -> Iterator[str]:
    ports = [int(p) for p in cfg["ports"]]
    for protocol, from_port, to_port, sources in _entries(res):
        reached = [p for p in ports if _covers_port(protocol, from_port, to_port, p)]
        if not reached:
            continue
        for prop, source in sources:
            network = _network(source) if isinstance(source, str) else None
            if network is not None and network.prefixlen == 0:
                yield problem(
                    res,
                    prop,
                    f"admits {source} (the whole internet) to high-risk port(s) {show(reached)}",
                    "remove the rule or admit only named CIDRs or security groups",
                )


def _query_logging(stack: StackView, _cfg: Config) -> Iterator[Finding]:
    logged_urns: set[str] = set()
    logged_ids: set[str] = set()
    for log in stack.of_type(ROUTE53_QUERY_LOG):
        logged_urns |= log.sources("zoneId")
        zone_id = log.get("zoneId")
        if isinstance(zone_id, str):
            logged_ids.add(zone_id)
    for zone in stack.of_type(ROUTE53_ZONE):
        vpcs = zone.get("vpcs")
        if vpcs is UNKNOWN or list_items(vpcs):
            continue  # a private zone: Route53.2 judges public zones only
        ids = {zone.get("zoneId"), zone.get("id")}
        if zone.urn in logged_urns or any(isinstance(i, str) and i in logged_ids for i in ids):
            continue
        yield (
            problem(
                zone,
                "vpcs",
                "is empty (a public zone) and no aws.route53.QueryLog logs its DNS queries",
                "add a QueryLog to a CloudWatch log group in us-east-1, or make the zone private",
            ),
            zone.urn,
        )


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="lambda-supported-runtime",
        summary="Lambda functions run on a runtime AWS still supports (Lambda.2's list).",
        remediation="Move the function to a supported runtime before its deprecation date.",
        severity=Severity.MEDIUM,
        targets=(t.LAMBDA_FUNCTION,),
        check_resource=_runtime,
        params={
            "allowedRuntimes": Param(
                "array",
                list(SUPPORTED_RUNTIMES),
                "Runtimes allowed for zip-packaged functions.",
                items="string",
            )
        },
        aws_config=("lambda-function-settings-check",),
    ),
    _rule(
        name="rds-custom-admin-username",
        summary="Clusters and instances use a master user name other than the engine's default.",
        remediation="Pick a master user name of your own (masterUsername cannot change later).",
        severity=Severity.MEDIUM,
        targets=(t.RDS_CLUSTER, t.RDS_INSTANCE),
        check_resource=_admin_name,
        params={
            "defaultNames": Param(
                "array",
                list(DEFAULT_ADMIN_NAMES),
                "Default administrator names no cluster or instance may keep.",
                items="string",
            )
        },
        aws_config=("rds-cluster-default-admin-check", "rds-instance-default-admin-check"),
    ),
    _rule(
        name="elasticache-auto-minor-version-upgrade",
        summary=(
            "Cache replication groups outside a global datastore take minor engine upgrades "
            "automatically; members of one say AWS's own false (AWS turns the setting off on "
            "them, refuses to turn it on, and upgrades them through the global datastore)."
        ),
        remediation=(
            "Leave auto_minor_version_upgrade at its default (true) on a standalone group; set "
            "it to false on a global datastore member."
        ),
        severity=Severity.MEDIUM,
        check_stack=_cache_minor_upgrades,
        aws_config=("elasticache-auto-minor-version-upgrade-check",),
    ),
    _rule(
        name="subnet-no-public-ip",
        summary="Data subnets assign no public IPv4 or IPv6 address on launch.",
        remediation="Set map_public_ip_on_launch and assign_ipv6_address_on_creation to false.",
        severity=Severity.HIGH,
        targets=(SUBNET,),
        check_resource=_subnet_public_ip,
        aws_config=("subnet-auto-assign-public-ip-disabled",),
    ),
    _rule(
        name="default-security-group-closed",
        summary="Each VPC's default security group has no ingress and no egress rule.",
        remediation="Adopt the default security group with ingress=[] and egress=[].",
        severity=Severity.HIGH,
        targets=(t.DEFAULT_SECURITY_GROUP,),
        check_resource=_default_sg_closed,
        aws_config=("vpc-default-security-group-closed",),
    ),
    _rule(
        name="security-group-high-risk-ports",
        summary=(
            "No security group admits 0.0.0.0/0 or ::/0 to a high-risk port (SSH, RDP, SMB, "
            "MSSQL, ... : EC2.19's list)."
        ),
        remediation="Remove internet-wide ingress to administration and service ports.",
        severity=Severity.CRITICAL,
        targets=(
            t.SECURITY_GROUP,
            t.DEFAULT_SECURITY_GROUP,
            t.SECURITY_GROUP_RULE,
            t.SECURITY_GROUP_INGRESS_RULE,
        ),
        check_resource=_high_risk_ports,
        params={
            "ports": Param(
                "array",
                list(HIGH_RISK_PORTS),
                "TCP ports no security group may open to the internet.",
                items="integer",
            )
        },
        aws_config=("restricted-ssh", "restricted-common-ports", "vpc-sg-port-restriction-check"),
    ),
    _rule(
        name="route53-public-zone-query-logging",
        summary="Every public hosted zone of the stack logs its DNS queries (a QueryLog).",
        remediation="Add aws.route53.QueryLog for the zone, or keep the zone private.",
        severity=Severity.MEDIUM,
        check_stack=_query_logging,
        aws_config=("route53-query-logging-enabled",),
    ),
)
