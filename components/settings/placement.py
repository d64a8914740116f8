"""Where the stack runs: the region pair and each region's network."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from components.settings.keys import flat_key
from components.settings.model import AppPeering, ExistingNetwork, NetworkSettings
from components.settings.values import ConfigError, Section, check_items, section

# Commercial regions with three AZs where Aurora PostgreSQL global databases, DynamoDB global
# tables and ElastiCache global datastores are all available (us-west-1 has only two AZs for
# new accounts). Order fixes each region's default CIDR: append new regions, never reorder.
# components/naming.py lists their AZs.
REGIONS: tuple[str, ...] = (
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "sa-east-1",
)

PRICED_REGIONS: tuple[str, ...] = ("us-east-1", "us-east-2", "us-west-2")
"""The regions a stack may use: those of REGIONS that the cost estimate prices
(policies/pricing/prices.json), so no region's charges count $0 in an estimate or slip past the
budget gate (tests/cost/test_cost_complete.py keeps both lists equal). To open another region of
REGIONS, price it first (a recipe in preflight/prices.py, then --refresh) and add it here."""

VPC_ID = re.compile(r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
"""An application VPC id: vpc- and 8 or 17 hex digits, the two lengths EC2 issues."""
EXISTING_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
"""The looser form accepted for a bring-your-own VPC (any length from 8 to 17)."""
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
"""A subnet id of a bring-your-own VPC."""
ROUTE_TABLE_ID = re.compile(r"^rtb-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
"""A route table id of an application VPC: rtb- and 8 or 17 hex digits."""


def _cidr(value: Any, full: str) -> str:
    """An IPv4 network written with its host bits clear (``10.20.0.0/16``, not ``10.20.0.1/16``)."""
    try:
        network = ipaddress.ip_network(value, strict=True) if isinstance(value, str) else None
    except ValueError:
        network = None
    if network is None or network.version != 4:
        raise ConfigError(full, value, "an IPv4 network in CIDR notation, e.g. 10.20.0.0/16")
    return str(network)


def default_vpc_cidr(region: str) -> str:
    """A distinct /16 per region, derived from the region (never from its role)."""
    return f"10.{16 + REGIONS.index(region)}.0.0/16"


def region_pair(raw: Mapping[str, Any]) -> tuple[str, str]:
    """(primaryRegion, secondaryRegion): two different regions the cost estimate prices."""
    top = Section(raw)
    primary = top.choice("primaryRegion", None, PRICED_REGIONS)
    secondary = top.choice("secondaryRegion", None, PRICED_REGIONS)
    if primary == secondary:
        raise ConfigError(
            "secondaryRegion", secondary, f"a region other than primaryRegion ({primary})"
        )
    return primary, secondary


def network(raw: Mapping[str, Any], regions: tuple[str, str]) -> NetworkSettings:
    """The ``network`` section: VPC CIDRs, application CIDRs, existing and application VPCs."""
    s = section(raw, "network")
    cidr_map = s.mapping("vpcCidrs", "an object of region -> CIDR")
    cidrs: dict[str, str] = {}
    for region in regions:
        value = cidr_map.get(region, default_vpc_cidr(region))
        cidr = _cidr(value, s.key(f"vpcCidrs.{region}"))
        if not 16 <= ipaddress.ip_network(cidr).prefixlen <= 20:
            raise ConfigError(s.key(f"vpcCidrs.{region}"), value, "a prefix from /16 to /20")
        cidrs[region] = cidr
    for region in cidr_map:
        if region not in regions:
            raise ConfigError(
                s.key(f"vpcCidrs.{region}"),
                cidr_map[region],
                f"a key among the stack's regions {list(regions)}",
            )
    first, second = (ipaddress.ip_network(cidrs[r]) for r in regions)
    if first.overlaps(second):
        raise ConfigError(
            s.key(f"vpcCidrs.{regions[1]}"),
            cidrs[regions[1]],
            f"a CIDR that does not overlap {cidrs[regions[0]]} (keeps the regions peerable)",
        )
    app = s.get("appCidrs")
    if not isinstance(app, list) or not app:
        raise ConfigError(
            s.key("appCidrs"), app, "a non-empty list of the application tier's CIDRs"
        )
    app_cidrs: list[str] = []
    for index, item in enumerate(app):
        cidr = _cidr(item, s.key(f"appCidrs[{index}]"))
        if ipaddress.ip_network(cidr).prefixlen < 8:
            raise ConfigError(
                s.key(f"appCidrs[{index}]"),
                item,
                "a network no wider than /8 (0.0.0.0/0 would open the data tier)",
            )
        network_ = ipaddress.ip_network(cidr)
        for region in regions:
            if network_.overlaps(ipaddress.ip_network(cidrs[region])):
                raise ConfigError(
                    s.key(f"appCidrs[{index}]"),
                    item,
                    f"a CIDR outside the data VPC of {region} ({cidrs[region]}): overlapping "
                    "ranges cannot be routed between the application and the data tier",
                )
        app_cidrs.append(cidr)
    existing_raw = s.mapping("existingVpcs", "an object of region -> {vpcId, subnetIds}")
    existing: dict[str, ExistingNetwork] = {}
    for region, spec in existing_raw.items():
        key = s.key(f"existingVpcs.{region}")
        if region not in regions:
            raise ConfigError(key, spec, f"a key among the stack's regions {list(regions)}")
        if not isinstance(spec, Mapping):
            raise ConfigError(key, spec, "an object {vpcId, subnetIds}")
        vpc = Section(spec, key)
        vpc_id = vpc.pattern("vpcId", "", EXISTING_VPC_ID, "a VPC id like vpc-0123456789abcdef0")
        subnets = vpc.get("subnetIds")
        if not isinstance(subnets, list) or len(subnets) != 3 or len(set(subnets)) != 3:
            raise ConfigError(
                vpc.key("subnetIds"),
                subnets,
                "exactly three distinct private subnet ids, one per AZ",
            )
        check_items(
            subnets, vpc.key("subnetIds"), SUBNET_ID, "a subnet id like subnet-0123456789abcdef0"
        )
        existing[region] = ExistingNetwork(vpc_id=vpc_id, subnet_ids=tuple(subnets))
    app_vpc_ids = _app_vpc_ids(s, existing)
    return NetworkSettings(
        vpc_cidrs=cidrs,
        app_cidrs=tuple(app_cidrs),
        existing=existing,
        app_vpc_ids=app_vpc_ids,
        app_peering=_app_peering(s, app_vpc_ids, tuple(app_cidrs), existing),
    )


def _app_peering(
    s: Section,
    app_vpc_ids: Mapping[str, tuple[str, ...]],
    app_cidrs: tuple[str, ...],
    existing: Mapping[str, ExistingNetwork],
) -> tuple[AppPeering, ...]:
    """``networkAppPeering``: VPC id -> {cidr, routeTableIds}, for VPCs of networkAppVpcIds.

    Peering needs distinct CIDRs on both sides ("VPC peering limitations": no overlapping CIDR
    blocks), the security groups admit only networkAppCidrs, and the data side's route tables
    are the stack's own, so a bring-your-own data VPC (whose route tables the stack does not
    know) cannot be peered here.
    """
    raw = s.mapping("appPeering", "an object of VPC id -> {cidr, routeTableIds}")
    if raw and existing:
        raise ConfigError(
            s.key("appPeering"),
            dict(raw),
            "empty while networkExistingVpcs is set (peer a VPC you brought yourself: the stack "
            "does not manage its route tables)",
        )
    region_of = {vpc: region for region, ids in app_vpc_ids.items() for vpc in ids}
    peers: list[AppPeering] = []
    for vpc_id, spec in sorted(raw.items()):
        key = s.key(f"appPeering.{vpc_id}")
        if vpc_id not in region_of:
            raise ConfigError(key, spec, "a key that is a VPC id listed in networkAppVpcIds")
        if not isinstance(spec, Mapping):
            raise ConfigError(key, spec, "an object {cidr, routeTableIds}")
        peer = Section(spec, key)
        peer.known(("cidr", "routeTableIds"))
        cidr = _cidr(peer.get("cidr"), peer.key("cidr"))
        network = ipaddress.ip_network(cidr)
        if not any(network.subnet_of(ipaddress.ip_network(a)) for a in app_cidrs):  # type: ignore[arg-type]
            raise ConfigError(
                peer.key("cidr"),
                cidr,
                f"a CIDR inside networkAppCidrs {list(app_cidrs)} (the security groups admit "
                "only those)",
            )
        # No overlap with a data VPC ("VPC peering limitations") needs no check of its own:
        # the CIDR is inside networkAppCidrs, which may not overlap a data VPC (checked above).
        tables = peer.get("routeTableIds")
        if not isinstance(tables, list) or not tables or len(set(tables)) != len(tables):
            raise ConfigError(
                peer.key("routeTableIds"),
                tables,
                "a non-empty list of distinct route table ids of that VPC",
            )
        check_items(
            tables,
            peer.key("routeTableIds"),
            ROUTE_TABLE_ID,
            "a route table id: rtb- and 8 or 17 hex digits, e.g. rtb-0a1b2c3d4e5f60718",
        )
        for other in peers:
            if network.overlaps(ipaddress.ip_network(other.cidr)):
                raise ConfigError(
                    peer.key("cidr"),
                    cidr,
                    f"a CIDR that does not overlap {other.cidr} of {other.vpc_id} (the data route "
                    "tables route each peered CIDR to one VPC)",
                )
            shared = set(tables) & set(other.route_table_ids)
            if shared:
                raise ConfigError(
                    peer.key("routeTableIds"),
                    tables,
                    f"route tables of this VPC only ({sorted(shared)[0]} is listed for "
                    f"{other.vpc_id})",
                )
        peers.append(
            AppPeering(
                vpc_id=vpc_id,
                region=region_of[vpc_id],
                cidr=cidr,
                route_table_ids=tuple(tables),
            )
        )
    return tuple(peers)


def _app_vpc_ids(s: Section, existing: Mapping[str, ExistingNetwork]) -> dict[str, tuple[str, ...]]:
    """Application VPCs per region; Route 53 refuses to associate one VPC with a zone twice."""
    raw = s.mapping("appVpcIds", "an object of region -> list of VPC ids")
    own = {e.vpc_id: s.key(f"existingVpcs.{r}.vpcId") for r, e in existing.items()}
    seen: dict[str, str] = {}
    result: dict[str, tuple[str, ...]] = {}
    for region, ids in raw.items():
        key = s.key(f"appVpcIds.{region}")
        if region not in REGIONS:
            raise ConfigError(key, ids, f"a key that is a known region: {', '.join(REGIONS)}")
        if not isinstance(ids, list):
            raise ConfigError(key, ids, "a list of VPC ids")
        for index, vpc_id in enumerate(ids):
            item = f"{key}[{index}]"
            if not isinstance(vpc_id, str) or not VPC_ID.fullmatch(vpc_id):
                raise ConfigError(
                    item,
                    vpc_id,
                    "a VPC id: vpc- and 8 or 17 hex digits, e.g. vpc-0a1b2c3d4e5f60718",
                )
            if vpc_id in seen or vpc_id in own:
                where = seen.get(vpc_id) or own[vpc_id]
                raise ConfigError(
                    item, vpc_id, f"a VPC not listed already (it is {flat_key(where)})"
                )
            seen[vpc_id] = item
        result[region] = tuple(ids)
    return result
