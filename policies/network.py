"""Network reachability of the data stores: who may open a connection to a data port.

A security group opened to ``0.0.0.0/0`` (or ``::/0``) on 5432 or 6379 exposes the database or
the cache to anything that can route to the VPC, and a rule for "the app tier" that names a
CIDR wider than the app tier's does the same more quietly. Ingress is judged wherever it can be
written: inline ``ingress`` of a SecurityGroup (or the VPC's DefaultSecurityGroup), standalone
``aws:ec2/SecurityGroupRule`` of type ingress, and ``aws:vpc/SecurityGroupIngressRule``.
Security-group references and prefix lists are not CIDRs and are not judged here.

Reachability the other way round: an application VPC associated with the private zone resolves
the data tier's names, but it also needs a route to the data VPC of every region, because after a
failover the writer is in the other region ("Connecting to Amazon Aurora Global Database", global
writer endpoint considerations). The path rule follows VPC peering as components/peering.py
builds it; a VPC reached another way (a Transit Gateway run elsewhere) is exempted by id.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
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
    list_items,
    problem,
    reference_unknown,
    show,
)

CONCERN = "network"
_ALL_PROTOCOLS = ("-1", "all")
_TCP = ("tcp", "6")


def _covers_port(protocol: Any, from_port: Any, to_port: Any, port: int) -> bool | None:
    """Whether an ingress entry admits TCP ``port`` (None when not known yet)."""
    if UNKNOWN in (protocol, from_port, to_port):
        return None
    text = str(protocol).lower() if protocol is not None else "tcp"
    if text in _ALL_PROTOCOLS:
        return True
    if text not in _TCP:
        return False
    low, high = as_number(from_port), as_number(to_port)
    if low is None and high is None:
        return False
    low = low if low is not None else high
    high = high if high is not None else low
    assert low is not None and high is not None
    return low <= port <= high


Sources = list[tuple[str, Any]]
"""(property path, CIDR) pairs an ingress entry admits."""


def _cidrs(prefix: str, container: Any, *keys: str) -> Sources:
    found: Sources = []
    for key in keys:
        value = dig(container, key) if container is not None else None
        items = value if isinstance(value, list) else [value]
        found += [(f"{prefix}{key}", item) for item in items]
    return found


def _entries(res: Res) -> Iterator[tuple[Any, Any, Any, Sources]]:
    """(protocol, fromPort, toPort, CIDR sources) of each ingress entry the resource defines."""
    if res.type in (t.SECURITY_GROUP, t.DEFAULT_SECURITY_GROUP):
        for index, rule in enumerate(list_items(res.get("ingress"))):
            if rule is UNKNOWN:
                continue
            sources = _cidrs(f"ingress[{index}].", rule, "cidrBlocks", "ipv6CidrBlocks")
            yield dig(rule, "protocol"), dig(rule, "fromPort"), dig(rule, "toPort"), sources
    elif res.type == t.SECURITY_GROUP_RULE:
        if res.get("type") == "ingress":
            sources = _cidrs("", res.props, "cidrBlocks", "ipv6CidrBlocks")
            yield res.get("protocol"), res.get("fromPort"), res.get("toPort"), sources
    elif res.type == t.SECURITY_GROUP_INGRESS_RULE:
        sources = _cidrs("", res.props, "cidrIpv4", "cidrIpv6")
        yield res.get("ipProtocol"), res.get("fromPort"), res.get("toPort"), sources


def _network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return None


def _inside(network: ipaddress.IPv4Network | ipaddress.IPv6Network, allowed: list[Any]) -> bool:
    parents = [_network(item) for item in allowed]
    return any(
        parent is not None and parent.version == network.version and network.subnet_of(parent)  # type: ignore[arg-type]
        for parent in parents
    )


def _data_ingress(res: Res, cfg: Config) -> Iterator[str]:
    ports = [int(p) for p in cfg["dataPorts"]]
    allowed = list(cfg["allowedCidrs"])
    for protocol, from_port, to_port, sources in _entries(res):
        reached = [p for p in ports if _covers_port(protocol, from_port, to_port, p)]
        if not reached:
            continue
        for prop, source in sources:
            network = _network(source) if isinstance(source, str) else None
            if network is None:
                continue  # unset, unknown, or not a CIDR (AWS rejects those)
            if network.prefixlen == 0:
                yield problem(
                    res,
                    prop,
                    f"admits {source} (the whole internet) to data port(s) {show(reached)}",
                    "admit only the application tier's CIDRs or security group",
                )
            elif allowed and not _inside(network, allowed):
                yield problem(
                    res,
                    prop,
                    f"admits {source} to data port(s) {show(reached)}, outside the application CIDRs "
                    f"{show(allowed)}",
                    "admit only the application tier's CIDRs (networkAppCidrs) or security group",
                )


def _app_vpcs(stack: StackView, exempt: set[str]) -> list[tuple[Res, str, str]]:
    """(zone, VPC id, region) of each application VPC associated with a private zone: the
    associations that are not a data VPC (the VPC of one of the stack's security groups; an id
    not known yet is a created data VPC, application ids are written in config)."""
    data_vpcs = {sg.get("vpcId") for sg in stack.of_type(t.SECURITY_GROUP)}
    found = []
    for zone in stack.of_type(t.ROUTE53_ZONE):
        for item in list_items(zone.get("vpcs")):
            vpc_id, region = dig(item, "vpcId"), dig(item, "vpcRegion")
            if not isinstance(vpc_id, str) or not isinstance(region, str):
                continue
            if vpc_id not in data_vpcs and vpc_id not in exempt:
                found.append((zone, vpc_id, region))
    return found


def _linked(res: Res, prop: str, urns: set[str]) -> bool:
    return bool(res.sources(prop) & urns)


def _path(
    stack: StackView, zone: Res, vpc_id: str, app_region: str, data_region: str
) -> Iterator[Finding]:
    """Peering (accepted) between the data VPC of ``data_region`` and the application VPC, a
    route to the application CIDR in the data route table and one back in the VPC's own."""
    peerings = [
        p
        for p in stack.of_type(t.VPC_PEERING)
        if p.region == data_region
        and p.get("peerVpcId") == vpc_id
        and (p.get("peerRegion") or data_region) == app_region
    ]
    if not peerings:
        if any(p.get("peerVpcId") is UNKNOWN for p in stack.of_type(t.VPC_PEERING)):
            return
        yield (
            problem(
                zone,
                "vpcs",
                f"associates application VPC {vpc_id} ({app_region}), which has no VPC peering "
                f"connection with the data VPC in {data_region}: it resolves the data tier's names "
                "but cannot reach them (after a failover the writer may be there)",
                f"peer {vpc_id} with the data VPC of {data_region} (networkAppPeering) and route "
                "both ways, or exempt it (exemptVpcIds) if a Transit Gateway connects it",
            ),
            zone.urn,
        )
        return
    connection = peerings[0]
    linked = {connection.urn}
    if app_region == data_region:
        accepted = connection.get("autoAccept") in (True, UNKNOWN)
    else:
        accepters = [
            a
            for a in stack.of_type(t.VPC_PEERING_ACCEPTER)
            if a.region == app_region and _linked(a, "vpcPeeringConnectionId", linked)
        ]
        accepted = any(a.get("autoAccept") in (True, UNKNOWN) for a in accepters)
        linked |= {a.urn for a in accepters}
    if any(
        a.region is UNKNOWN or reference_unknown(a, "vpcPeeringConnectionId")
        for a in stack.of_type(t.VPC_PEERING_ACCEPTER)
    ):
        accepted = True  # decided once the accepters are known
    if not accepted:
        where = "here" if app_region == data_region else f"by an accepter in {app_region}"
        yield (
            problem(
                connection,
                "autoAccept",
                f"is not true and the connection is not accepted {where}: it stays "
                "pending-acceptance and carries no traffic",
                "accept it: auto_accept=True on a same-region connection, or a "
                "VpcPeeringConnectionAccepter with auto_accept=True in the application's region",
            ),
            connection.urn,
        )
    every_route = stack.of_type(t.ROUTE)
    if any(
        r.region is UNKNOWN
        or reference_unknown(r, "vpcPeeringConnectionId")
        or reference_unknown(r, "routeTableId")
        for r in every_route
    ):
        return  # a route not known yet may be the one
    routes = [
        r
        for r in every_route
        if _linked(r, "vpcPeeringConnectionId", linked)
        and r.get("destinationCidrBlock") is not None
    ]
    # The data side's route tables are the stack's own (a dependency); the application VPC's are
    # named in config (a literal id).
    if not any(r.region == data_region and r.sources("routeTableId") for r in routes):
        yield (
            problem(
                connection,
                "id",
                f"has no route to {vpc_id} in the data route tables of {data_region}",
                "add a Route to the application VPC's CIDR over this connection in the data "
                "subnets' route table",
            ),
            connection.urn,
        )
    if not any(r.region == app_region and not r.sources("routeTableId") for r in routes):
        yield (
            problem(
                connection,
                "id",
                f"has no route back from {vpc_id}'s route tables to the data VPC of {data_region}",
                "add a Route to the data VPC's CIDR over this connection in each route table of "
                "the application VPC (networkAppPeering routeTableIds)",
            ),
            connection.urn,
        )


def _app_paths(stack: StackView, cfg: Config) -> Iterator[Finding]:
    stores = stack.of_type(t.RDS_CLUSTER, t.CACHE_REPLICATION_GROUP)
    if any(s.region is UNKNOWN for s in stores):
        return
    data_regions = sorted({str(s.region) for s in stores if isinstance(s.region, str)})
    for zone, vpc_id, app_region in _app_vpcs(stack, set(cfg["exemptVpcIds"])):
        for data_region in data_regions:
            yield from _path(stack, zone, vpc_id, app_region, data_region)


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="security-group-data-ingress",
        summary=(
            "No security group admits the data ports from 0.0.0.0/0 or ::/0, nor from a CIDR outside "
            "the application tier's."
        ),
        remediation="Admit 5432/6379 only from the application CIDRs (networkAppCidrs) or its security group.",
        severity=Severity.CRITICAL,
        targets=(
            t.SECURITY_GROUP,
            t.DEFAULT_SECURITY_GROUP,
            t.SECURITY_GROUP_RULE,
            t.SECURITY_GROUP_INGRESS_RULE,
        ),
        check_resource=_data_ingress,
        params={
            "dataPorts": Param(
                "array",
                [3306, 5432, 6379, 5439],
                "TCP ports of the data stores (MySQL, PostgreSQL, Redis/Valkey, Redshift).",
                items="integer",
            ),
            "allowedCidrs": Param(
                "array",
                [],
                "The application tier's CIDRs; sources must lie inside one (empty: only forbid /0).",
                items="string",
            ),
        },
        checkov=("CKV_AWS_277",),
        aws_config=("restricted-common-ports", "vpc-sg-open-only-to-authorized-ports"),
        cdk_nag=("AwsSolutions-EC23",),
    ),
    _rule(
        name="network-app-path",
        summary=(
            "Every application VPC associated with the private zone (so every application "
            "region) has a path to the data VPC of every data region: an accepted VPC peering "
            "connection with a route each way."
        ),
        remediation=(
            "List the application VPCs in networkAppPeering (CIDR and route tables): the stack "
            "peers each with both data VPCs and routes both ways; exempt VPCs a Transit Gateway "
            "connects."
        ),
        severity=Severity.HIGH,
        check_stack=_app_paths,
        params={
            "exemptVpcIds": Param(
                "array",
                [],
                "Application VPC ids reached another way (e.g. a Transit Gateway run elsewhere).",
                items="string",
            ),
        },
    ),
)
