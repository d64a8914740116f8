"""Issue 16 item 5: a network path from every application VPC to the data VPC of both regions,
as each stack records it. Expected values come from the stack files (copied by hand)."""

from __future__ import annotations

import ipaddress

import pytest

from preflight.model import RecordedResource, Recording
from tests.support.stacks import STACKS, recorded

PEERING = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
ACCEPTER = "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
ROUTE = "aws:ec2/route:Route"
# (VPC id, region, CIDR, route tables) per stack, from stacks/Pulumi.<stack>.yaml.
PEERS = {
    "dev": [
        ("vpc-0a1b2c3d4e5f60718", "us-east-1", "10.100.0.0/17", ["rtb-0a1b2c3d4e5f60718"]),
        ("vpc-0f1e2d3c4b5a69788", "us-west-2", "10.100.128.0/17", ["rtb-0f1e2d3c4b5a69788"]),
    ],
    "staging": [
        ("vpc-0b2c3d4e5f6071829", "us-east-2", "10.110.0.0/17", ["rtb-01a2b3c4d5e6f7a8b"]),
        ("vpc-0e1d2c3b4a5968778", "us-west-2", "10.110.128.0/17", ["rtb-09f8e7d6c5b4a3f2e"]),
    ],
    "prod": [
        (
            "vpc-0c3d4e5f60718293a",
            "us-east-1",
            "10.200.0.0/17",
            ["rtb-0a1c3e5f7091b3d5f", "rtb-0b2d4f6a8c0e2a4c6"],
        ),
        ("vpc-0d4e5f60718293a4b", "us-east-1", "10.200.128.0/17", ["rtb-0c3e5a7c9e1a3c5e7"]),
        (
            "vpc-0e5f60718293a4b5c",
            "us-west-2",
            "10.201.0.0/17",
            ["rtb-0d4f6b8d0f2b4d6f8", "rtb-0e5a7c9e1a3c5e7a9"],
        ),
        ("vpc-0f60718293a4b5c6d", "us-west-2", "10.201.128.0/17", ["rtb-0f6b8d0f2b4d6f8ba"]),
    ],
}
DATA_CIDRS = {
    "dev": {"us-east-1": "10.16.0.0/16", "us-west-2": "10.18.0.0/16"},
    "staging": {"us-east-2": "10.17.0.0/16", "us-west-2": "10.18.0.0/16"},
    "prod": {"us-east-1": "10.60.0.0/16", "us-west-2": "10.61.0.0/16"},
}

pytestmark = pytest.mark.parametrize("stack", STACKS)


def _named(rec: Recording) -> dict[str, RecordedResource]:
    return {r.name: r for r in rec.resources}


def test_every_application_vpc_is_peered_with_both_data_vpcs(stack: str) -> None:
    rec = recorded(stack)
    by_name = _named(rec)
    vpcs = {r.region: r for r in rec.by_type("aws:ec2/vpc:Vpc")}
    assert {r: v.inputs["cidrBlock"] for r, v in vpcs.items()} == DATA_CIDRS[stack]
    expected_peerings = 0
    for data_region in DATA_CIDRS[stack]:
        for vpc_id, app_region, _cidr, _tables in PEERS[stack]:
            expected_peerings += 1
            connection = by_name[f"peer-{data_region}-{vpc_id}"]
            assert connection.region == data_region
            assert connection.property_dependencies["vpcId"] == (vpcs[data_region].urn,)
            assert connection.inputs["peerVpcId"] == vpc_id
            if app_region == data_region:
                # Same region and account: the request accepts itself; no peer_region (the
                # provider refuses auto_accept together with peer_region).
                assert connection.inputs["autoAccept"] is True
                assert "peerRegion" not in connection.inputs
                assert f"peer-accept-{data_region}-{vpc_id}" not in by_name
            else:
                assert connection.inputs["peerRegion"] == app_region
                assert "autoAccept" not in connection.inputs
                accepter = by_name[f"peer-accept-{data_region}-{vpc_id}"]
                assert accepter.region == app_region
                assert accepter.inputs["autoAccept"] is True
                assert accepter.property_dependencies["vpcPeeringConnectionId"] == (connection.urn,)
    assert len(rec.by_type(PEERING)) == expected_peerings


def test_routes_both_ways_over_the_accepted_connection(stack: str) -> None:
    rec = recorded(stack)
    by_name = _named(rec)
    tables = {r.region: r for r in rec.by_type("aws:ec2/routeTable:RouteTable")}
    count = 0
    for data_region, data_cidr in DATA_CIDRS[stack].items():
        for vpc_id, app_region, cidr, route_tables in PEERS[stack]:
            via = (
                f"peer-{data_region}-{vpc_id}"
                if app_region == data_region
                else f"peer-accept-{data_region}-{vpc_id}"
            )
            out = by_name[f"route-{data_region}-to-{vpc_id}"]
            assert out.region == data_region
            assert out.inputs["destinationCidrBlock"] == cidr
            assert out.property_dependencies["routeTableId"] == (tables[data_region].urn,)
            assert out.property_dependencies["vpcPeeringConnectionId"] == (by_name[via].urn,)
            count += 1
            for table in route_tables:
                back = by_name[f"route-{table}-to-{data_region}"]
                assert back.region == app_region
                assert back.inputs["routeTableId"] == table
                assert back.inputs["destinationCidrBlock"] == data_cidr
                assert back.property_dependencies["vpcPeeringConnectionId"] == (by_name[via].urn,)
                count += 1
    assert len(rec.by_type(ROUTE)) == count


def test_the_data_subnets_use_the_stacks_own_route_table(stack: str) -> None:
    rec = recorded(stack)
    tables = {r.region: r for r in rec.by_type("aws:ec2/routeTable:RouteTable")}
    subnets = {r.urn: r for r in rec.by_type("aws:ec2/subnet:Subnet")}
    associations = rec.by_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    assert len(associations) == len(subnets) == 6
    for association in associations:
        (subnet_urn,) = association.property_dependencies["subnetId"]
        subnet = subnets[subnet_urn]
        assert association.region == subnet.region
        assert association.property_dependencies["routeTableId"] == (tables[subnet.region].urn,)
    # No route out of the VPC but the peerings: nothing targets a gateway.
    for route in rec.by_type(ROUTE):
        assert set(route.inputs) == {
            "region",
            "routeTableId",
            "destinationCidrBlock",
            "vpcPeeringConnectionId",
        }


def test_security_groups_admit_every_peered_cidr(stack: str) -> None:
    rec = recorded(stack)
    for group in rec.by_type("aws:ec2/securityGroup:SecurityGroup"):
        (rule,) = group.inputs["ingress"]
        admitted = rule["cidrBlocks"]
        for _vpc, _region, cidr, _tables in PEERS[stack]:
            peered = ipaddress.ip_network(cidr)
            assert any(peered.subnet_of(ipaddress.ip_network(a)) for a in admitted), (
                group.name,
                cidr,
            )
