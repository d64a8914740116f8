"""Regional network: a private VPC over three AZs (or yours), subnet groups and tight SGs."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings import ExistingNetwork

POSTGRES_PORT = 5432
CACHE_PORT = 6379


@dataclass(frozen=True, kw_only=True)
class RegionalNetworkArgs:
    """Inputs of :class:`RegionalNetwork`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-dev``."""
    region: str
    """Region this network lives in (also the suffix of every child's name)."""
    availability_zones: tuple[str, str, str]
    """Exactly three AZs, one private subnet each."""
    vpc_cidr: str
    """CIDR of the new VPC (ignored when ``existing`` is given)."""
    app_cidrs: tuple[str, ...]
    """The application tier's CIDRs: the only sources the security groups admit."""
    existing: ExistingNetwork | None = None
    """Bring-your-own VPC and three subnets; no VPC or subnet is created then."""


class RegionalNetwork(pulumi.ComponentResource):
    """Where the data stores of one region live.

    The subnets are private (no internet gateway, no NAT): Aurora global replication,
    DynamoDB global tables and ElastiCache global datastores replicate over AWS's backbone and
    need no route out of the VPC.
    """

    vpc_id: pulumi.Output[str]
    """The VPC (created, or the one you brought)."""
    subnet_ids: pulumi.Output[list[str]]
    """Three private subnets in three AZs."""
    db_subnet_group_name: pulumi.Output[str]
    """RDS subnet group for the Aurora cluster."""
    cache_subnet_group_name: pulumi.Output[str]
    """ElastiCache subnet group for the replication group."""
    db_security_group_id: pulumi.Output[str]
    """Admits PostgreSQL (5432) from the app CIDRs only; no egress."""
    cache_security_group_id: pulumi.Output[str]
    """Admits Redis/Valkey TLS (6379) from the app CIDRs only; no egress."""

    def __init__(
        self, name: str, args: RegionalNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:network:RegionalNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        region = args.region
        if args.existing is not None:
            vpc_id: pulumi.Input[str] = args.existing.vpc_id
            subnet_ids: list[pulumi.Input[str]] = list(args.existing.subnet_ids)
        else:
            vpc = aws.ec2.Vpc(
                f"vpc-{region}",
                region=region,
                cidr_block=args.vpc_cidr,
                enable_dns_support=True,
                enable_dns_hostnames=True,
                tags={"Name": f"{args.prefix}-data-{region}"},
                opts=child,
            )
            # Lock down the VPC's default SG (CIS 5.4): nothing may fall back to it.
            aws.ec2.DefaultSecurityGroup(
                f"default-sg-{region}",
                region=region,
                vpc_id=vpc.id,
                ingress=[],
                egress=[],
                tags={"Name": f"{args.prefix}-default-{region}"},
                opts=child,
            )
            blocks = list(ipaddress.ip_network(args.vpc_cidr).subnets(prefixlen_diff=4))[:3]
            subnet_ids = [
                aws.ec2.Subnet(
                    f"subnet-{az}",
                    region=region,
                    vpc_id=vpc.id,
                    cidr_block=str(block),
                    availability_zone=az,
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{args.prefix}-data-{az}", "Tier": "data"},
                    opts=child,
                ).id
                for az, block in zip(args.availability_zones, blocks, strict=True)
            ]
            vpc_id = vpc.id

        db_subnets = aws.rds.SubnetGroup(
            f"db-subnets-{region}",
            region=region,
            name=f"{args.prefix}-aurora-{region}",
            description=f"Aurora subnets of {args.prefix} in {region}",
            subnet_ids=subnet_ids,
            opts=child,
        )
        cache_subnets = aws.elasticache.SubnetGroup(
            f"cache-subnets-{region}",
            region=region,
            name=f"{args.prefix}-cache-{region}",
            description=f"Cache subnets of {args.prefix} in {region}",
            subnet_ids=subnet_ids,
            opts=child,
        )
        db_sg = self._ingress_only_sg(f"db-sg-{region}", args, vpc_id, POSTGRES_PORT, "Aurora")
        cache_sg = self._ingress_only_sg(f"cache-sg-{region}", args, vpc_id, CACHE_PORT, "cache")

        self.vpc_id = pulumi.Output.from_input(vpc_id)
        self.subnet_ids = pulumi.Output.all(*subnet_ids)
        self.db_subnet_group_name = db_subnets.name
        self.cache_subnet_group_name = cache_subnets.name
        self.db_security_group_id = db_sg.id
        self.cache_security_group_id = cache_sg.id
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "subnet_ids": self.subnet_ids,
                "db_subnet_group_name": self.db_subnet_group_name,
                "cache_subnet_group_name": self.cache_subnet_group_name,
                "db_security_group_id": self.db_security_group_id,
                "cache_security_group_id": self.cache_security_group_id,
            }
        )

    def _ingress_only_sg(
        self,
        name: str,
        args: RegionalNetworkArgs,
        vpc_id: pulumi.Input[str],
        port: int,
        what: str,
    ) -> aws.ec2.SecurityGroup:
        # No egress rules: the provider removes AWS's default allow-all egress, and data stores
        # only answer connections.
        return aws.ec2.SecurityGroup(
            name,
            region=args.region,
            name=f"{args.prefix}-{name}",
            description=f"{what} access from the SecureCart application tier only",
            vpc_id=vpc_id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description=f"{what} from the application tier",
                    protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_blocks=list(args.app_cidrs),
                )
            ],
            egress=[],
            tags={"Name": f"{args.prefix}-{name}"},
            opts=pulumi.ResourceOptions(parent=self),
        )
