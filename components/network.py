"""Regional network: a private VPC over three AZs (or yours), subnet groups, tight SGs and
VPC flow logs to an encrypted CloudWatch log group."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import account_trust_policy
from components.settings import ExistingNetwork

POSTGRES_PORT = 5432
CACHE_PORT = 6379
FLOW_LOG_RETENTION_DAYS = 365
"""A year of flow logs (CloudWatch Logs accepts 365; Checkov CKV_AWS_338 asks for >= 1 year)."""


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
    probe_access: bool = False
    """Create the drills' probe security group (config ``drillsProbes``) and admit it to the
    data stores' ports (components/drill_probes.py adds its egress rules)."""


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
    flow_log_group_name: pulumi.Output[str]
    """CloudWatch log group receiving the VPC's flow logs (all traffic, KMS-encrypted)."""
    logs_key_arn: pulumi.Output[str]
    """CMK CloudWatch Logs encrypts with, for every log group named ``log_group_prefix(...)``."""
    probe_security_group_id: pulumi.Output[str] | None
    """The drills' probe function's SG (``probe_access`` only; None otherwise)."""
    route_table_id: pulumi.Output[str] | None
    """The data subnets' route table (created VPCs only; None for a VPC you brought): where the
    routes to peered application VPCs go (components/peering.py)."""

    def __init__(
        self, name: str, args: RegionalNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:network:RegionalNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        region = args.region
        subnet_ids: list[pulumi.Input[str]]
        route_table_id: pulumi.Output[str] | None
        if args.existing is not None:
            vpc_id: pulumi.Input[str] = args.existing.vpc_id
            subnet_ids = list(args.existing.subnet_ids)
            route_table_id = None
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
            subnets = [
                aws.ec2.Subnet(
                    f"subnet-{az}",
                    region=region,
                    vpc_id=vpc.id,
                    cidr_block=str(block),
                    availability_zone=az,
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{args.prefix}-data-{az}", "Tier": "data"},
                    opts=child,
                )
                for az, block in zip(args.availability_zones, blocks, strict=True)
            ]
            subnet_ids = [subnet.id for subnet in subnets]
            vpc_id = vpc.id
            # An explicit route table for the data subnets (not the VPC's main one, which EC2
            # gives every new subnet implicitly): routes to peered application VPCs are added
            # here and nowhere else. Only the local route otherwise, so still no way out.
            table = aws.ec2.RouteTable(
                f"data-routes-{region}",
                region=region,
                vpc_id=vpc.id,
                tags={"Name": f"{args.prefix}-data-{region}"},
                opts=child,
            )
            for az, subnet in zip(args.availability_zones, subnets, strict=True):
                aws.ec2.RouteTableAssociation(
                    f"data-routes-{az}",
                    region=region,
                    subnet_id=subnet.id,
                    route_table_id=table.id,
                    opts=child,
                )
            route_table_id = table.id

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
        # The probe SG has no inline rules (its egress rules are standalone, in
        # components/drill_probes.py: inline ones would fight them); the provider still revokes
        # AWS's default allow-all egress when it creates a VPC SG (terraform-provider-aws,
        # resourceSecurityGroupCreate). The stores' SGs admit it inline, beside the app CIDRs.
        probe_sg = (
            aws.ec2.SecurityGroup(
                f"probe-sg-{region}",
                region=region,
                name=f"{args.prefix}-probe-sg-{region}",
                description="DR drill probe function: reaches the data stores' ports only",
                vpc_id=vpc_id,
                tags={"Name": f"{args.prefix}-probe-sg-{region}"},
                opts=child,
            )
            if args.probe_access
            else None
        )
        probe = [probe_sg.id] if probe_sg is not None else []
        db_sg = self._ingress_only_sg(
            f"db-sg-{region}", args, vpc_id, POSTGRES_PORT, "Aurora", probe
        )
        cache_sg = self._ingress_only_sg(
            f"cache-sg-{region}", args, vpc_id, CACHE_PORT, "cache", probe
        )
        self.probe_security_group_id = probe_sg.id if probe_sg is not None else None
        # Created and brought VPCs alike: the data tier's traffic is what the logs must show.
        flow_logs, logs_key = self._flow_logs(args, vpc_id)

        self.vpc_id = pulumi.Output.from_input(vpc_id)
        self.subnet_ids = pulumi.Output.all(*subnet_ids)
        self.db_subnet_group_name = db_subnets.name
        self.cache_subnet_group_name = cache_subnets.name
        self.db_security_group_id = db_sg.id
        self.cache_security_group_id = cache_sg.id
        self.flow_log_group_name = flow_logs.name
        self.logs_key_arn = logs_key.arn
        self.route_table_id = route_table_id
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "subnet_ids": self.subnet_ids,
                "db_subnet_group_name": self.db_subnet_group_name,
                "cache_subnet_group_name": self.cache_subnet_group_name,
                "db_security_group_id": self.db_security_group_id,
                "cache_security_group_id": self.cache_security_group_id,
                "flow_log_group_name": self.flow_log_group_name,
                "logs_key_arn": self.logs_key_arn,
                "route_table_id": self.route_table_id,
            }
        )

    def _flow_logs(
        self, args: RegionalNetworkArgs, vpc_id: pulumi.Input[str]
    ) -> tuple[aws.cloudwatch.LogGroup, aws.kms.Key]:
        """Flow log of the VPC (ALL traffic) into a log group under the region's logs CMK.

        CloudWatch Logs encrypts with a key only if the key policy lets the regional service
        principal use it for that log group (the encryption context names the group), and a
        flow log publishes to CloudWatch Logs through a role vpc-flow-logs.amazonaws.com
        assumes (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html,
        https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html). On a brought
        VPC this flow log sits beside any it already has. A flow log cannot be modified once
        created (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-limitations.html):
        a change to it replaces it.
        """
        region = args.region
        child = pulumi.ResourceOptions(parent=self)
        account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).account_id
        group_name = f"{log_group_prefix(args.prefix)}vpc-flow-logs/{region}"
        key = aws.kms.Key(
            f"logs-key-{region}",
            region=region,
            description=f"{args.prefix} CloudWatch Logs in {region} (flow logs, secret rotation)",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=30,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=account_id.apply(lambda acct: _logs_key_policy(acct, region, args.prefix)),
            opts=child,
        )
        group = aws.cloudwatch.LogGroup(
            f"flow-logs-{region}",
            region=region,
            name=group_name,
            kms_key_id=key.arn,
            retention_in_days=FLOW_LOG_RETENTION_DAYS,
            opts=child,
        )
        role = aws.iam.Role(
            f"flow-logs-role-{region}",
            name=f"{args.prefix}-vpc-flow-logs-{region}",
            description=f"VPC flow logs of {args.prefix} publish to CloudWatch Logs in {region}",
            assume_role_policy=account_id.apply(
                lambda acct: account_trust_policy("vpc-flow-logs.amazonaws.com", acct)
            ),
            opts=child,
        )
        publish = aws.iam.RolePolicy(
            f"flow-logs-role-policy-{region}",
            role=role.id,
            policy=group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                    "logs:DescribeLogGroups",
                                    "logs:DescribeLogStreams",
                                ],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    },
                    sort_keys=True,
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"flow-log-{region}",
            region=region,
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            tags={"Name": f"{args.prefix}-data-{region}"},
            # The role must be able to publish before the first delivery attempt.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[publish]),
        )
        return group, key

    def _ingress_only_sg(
        self,
        name: str,
        args: RegionalNetworkArgs,
        vpc_id: pulumi.Input[str],
        port: int,
        what: str,
        probe: list[pulumi.Output[str]],
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
                ),
                *(
                    [
                        aws.ec2.SecurityGroupIngressArgs(
                            description=f"{what} from the DR drill probe function",
                            protocol="tcp",
                            from_port=port,
                            to_port=port,
                            security_groups=probe,
                        )
                    ]
                    if probe
                    else []
                ),
            ],
            egress=[],
            tags={"Name": f"{args.prefix}-{name}"},
            opts=pulumi.ResourceOptions(parent=self),
        )


def log_group_prefix(prefix: str) -> str:
    """Name prefix of the stack's log groups: the logs key admits exactly these."""
    return f"/securecart/{prefix}/"


def _logs_key_policy(account_id: str, region: str, prefix: str) -> str:
    """Account root administers the key; CloudWatch Logs in ``region`` may use it for the
    stack's log groups only (the encryption context names the log group)."""
    groups = f"arn:aws:logs:{region}:{account_id}:log-group:{log_group_prefix(prefix)}*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministers",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchLogsEncrypts",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": groups}},
                },
            ],
        },
        sort_keys=True,
    )
