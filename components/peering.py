"""A network path from the application VPCs to the data VPCs of both regions.

The private zone resolves the data tier's names from the application VPCs, but resolving is not
reaching: without a route, an application can open no connection to the data VPC of its own
region, and after a failover the writer lives in the other region's VPC ("Applications can't
reach the newly promoted Region's VPC until networking between the VPCs exists", Aurora
"Connecting to Amazon Aurora Global Database", global writer endpoint considerations). This
component peers every configured application VPC with the data VPC of each region of the pair
and routes both ways; the security groups already admit networkAppCidrs, which every peered CIDR
lies inside (components/settings/placement.py checks it).

VPC peering, not a Transit Gateway: it needs nothing the stack does not own or name in config,
it has no hourly charge (data transfer only), and each path is visible in the stack, so the pack
can prove that every application region reaches every data region (policies/network.py).
AWS's rules it follows ("VPC peering limitations"; "Create a VPC peering connection"): CIDRs must
not overlap; a cross-region request is accepted by the accepter region (CreateVpcPeeringConnection
with PeerRegion, then AcceptVpcPeeringConnection there: the provider refuses auto_accept together
with peer_region); routes go in both VPCs' route tables ("Update your route tables for a VPC
peering connection").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings import AppPeering


@dataclass(frozen=True, kw_only=True)
class AppNetworkPathArgs:
    """Inputs of :class:`AppNetworkPath`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-prod``."""
    regions: tuple[str, ...]
    """The data regions (the pair), in any order: resources are named by region."""
    data_vpc_ids: Mapping[str, pulumi.Input[str]]
    """The data tier's VPC per region."""
    data_vpc_cidrs: Mapping[str, str]
    """Its CIDR per region (the application side routes it over the peering)."""
    data_route_table_ids: Mapping[str, pulumi.Input[str]]
    """The data subnets' route table per region."""
    peers: Sequence[AppPeering]
    """Application VPCs to connect, with their CIDR and route tables."""


class AppNetworkPath(pulumi.ComponentResource):
    """Per (data region, application VPC): a peering connection requested from the data VPC,
    accepted in the application VPC's region when that differs, and a route each way."""

    connection_ids: dict[str, dict[str, pulumi.Output[str]]]
    """Peering connection id per data region, per application VPC id (once accepted)."""

    def __init__(
        self, name: str, args: AppNetworkPathArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:network:AppNetworkPath", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.connection_ids = {}
        for region in sorted(args.regions):
            self.connection_ids[region] = {}
            for peer in args.peers:
                same_region = peer.region == region
                connection = aws.ec2.VpcPeeringConnection(
                    f"peer-{region}-{peer.vpc_id}",
                    region=region,
                    vpc_id=args.data_vpc_ids[region],
                    peer_vpc_id=peer.vpc_id,
                    # Same region, same account: accepted by the request itself. Another region:
                    # the request names it and the accepter below accepts there.
                    peer_region=None if same_region else peer.region,
                    auto_accept=True if same_region else None,
                    tags={"Name": f"{args.prefix}-data-{region}-to-{peer.vpc_id}"},
                    opts=child,
                )
                active: pulumi.Output[str] = connection.id
                if not same_region:
                    accepter = aws.ec2.VpcPeeringConnectionAccepter(
                        f"peer-accept-{region}-{peer.vpc_id}",
                        region=peer.region,
                        vpc_peering_connection_id=connection.id,
                        auto_accept=True,
                        tags={"Name": f"{args.prefix}-data-{region}-to-{peer.vpc_id}"},
                        opts=child,
                    )
                    # Routes name the accepted connection, so they come after the acceptance.
                    active = accepter.vpc_peering_connection_id
                self.connection_ids[region][peer.vpc_id] = active
                aws.ec2.Route(
                    f"route-{region}-to-{peer.vpc_id}",
                    region=region,
                    route_table_id=args.data_route_table_ids[region],
                    destination_cidr_block=peer.cidr,
                    vpc_peering_connection_id=active,
                    opts=child,
                )
                for table in peer.route_table_ids:
                    aws.ec2.Route(
                        f"route-{table}-to-{region}",
                        region=peer.region,
                        route_table_id=table,
                        destination_cidr_block=args.data_vpc_cidrs[region],
                        vpc_peering_connection_id=active,
                        opts=child,
                    )
        self.register_outputs({"connection_ids": self.connection_ids})
