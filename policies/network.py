"""Network reachability of the data stores: who may open a connection to a data port.

A security group opened to ``0.0.0.0/0`` (or ``::/0``) on 5432 or 6379 exposes the database or
the cache to anything that can route to the VPC, and a rule for "the app tier" that names a
CIDR wider than the app tier's does the same more quietly. Ingress is judged wherever it can be
written: inline ``ingress`` of a SecurityGroup (or the VPC's DefaultSecurityGroup), standalone
``aws:ec2/SecurityGroupRule`` of type ingress, and ``aws:vpc/SecurityGroupIngressRule``.
Security-group references and prefix lists are not CIDRs and are not judged here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from pulumi_policy import Severity

from policies import resource_types as t
from policies._rule import Config, Param, Rule
from policies._values import UNKNOWN, Res, as_number, dig, list_items, problem, show

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
                [3306, 5432, 6379],
                "TCP ports of the data stores (MySQL, PostgreSQL, Redis/Valkey).",
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
)
