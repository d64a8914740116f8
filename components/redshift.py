"""Customer-trend analytics: a provisioned Redshift cluster whose snapshots reach the other region.

Provisioned, not Serverless (docs/components.md, "Analytics: Redshift"): pulumi-aws v7 manages a
provisioned cluster's cross-region snapshot copy (``redshift.SnapshotCopy`` with a
``SnapshotCopyGrant`` for a KMS-encrypted cluster) but has no resource for a Serverless
namespace's snapshot copy configuration, and the recovery this stack promises is exactly that
copy. The cluster lives in the anchor region, which a failover's swap of primaryRegion and
secondaryRegion never changes: nothing here is named or placed by role, so a role flip leaves
every input as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings import RedshiftSettings

REDSHIFT_PORT = 5439
"""Redshift's default port; inside the ranges a Multi-AZ cluster accepts (5431-5455, 8191-8215)."""
PARAMETER_FAMILY = "redshift-1.0"
AUDIT_LOGS = ("connectionlog", "useractivitylog", "userlog")
"""Every audit log Redshift can export to CloudWatch Logs (Management Guide, "Database audit
logging": connection log, user log, user activity log). The user activity log is written only
when the parameter ``enable_user_activity_logging`` is true, which the parameter group sets."""


@dataclass(frozen=True, kw_only=True)
class RedshiftAnalyticsArgs:
    """Inputs of :class:`RedshiftAnalytics`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-prod``."""
    region: str
    """Region of the cluster: the anchor region (never swapped by a failover)."""
    copy_region: str
    """Region the automated snapshots are copied to, where a restore rebuilds the warehouse."""
    settings: RedshiftSettings
    """Node type and count, names, snapshot retention, maintenance window."""
    subnet_ids: Mapping[str, pulumi.Input[list[str]]]
    """Private subnets of the data VPC per region (three AZs), ``region`` and ``copy_region``."""
    vpc_ids: Mapping[str, pulumi.Input[str]]
    """The data VPC per region."""
    app_cidrs: tuple[str, ...]
    """The application tier's CIDRs: the only sources the security group admits."""
    key_arns: Mapping[str, pulumi.Input[str]]
    """CMK per region: ``region``'s encrypts the cluster, ``copy_region``'s the copied snapshots."""
    secret_key_arn: pulumi.Input[str]
    """CMK of ``region`` for the admin password secret Redshift manages."""


class RedshiftAnalytics(pulumi.ComponentResource):
    """An encrypted, private RA3 cluster with audit logs, automated snapshots and their copy.

    Not publicly accessible, enhanced VPC routing on, TLS required, admin password generated and
    rotated by Secrets Manager (``manage_master_password``), automated snapshots kept
    ``snapshot_retention_days`` and copied to ``copy_region`` under that region's CMK.
    """

    cluster_identifier: pulumi.Output[str]
    """What a restore names as the source cluster (``--snapshot-cluster-identifier``)."""
    endpoint: pulumi.Output[str]
    """host:port of the cluster."""
    arn: pulumi.Output[str]
    """Cluster ARN."""
    master_password_secret_arn: pulumi.Output[str]
    """The secret Redshift keeps the admin credentials in."""
    snapshot_copy_grant_name: pulumi.Output[str]
    """The grant in ``copy_region`` the copies are encrypted through."""
    restore_subnet_group_name: pulumi.Output[str]
    """Subnet group in ``copy_region`` a restore lands in."""
    restore_security_group_id: pulumi.Output[str]
    """Security group in ``copy_region`` for a restored cluster."""
    restore_parameter_group_name: pulumi.Output[str]
    """Parameter group in ``copy_region`` for a restored cluster (TLS, activity log)."""

    def __init__(
        self, name: str, args: RedshiftAnalyticsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:analytics:RedshiftAnalytics", name, None, opts)
        s = args.settings
        region, dest = args.region, args.copy_region
        child = pulumi.ResourceOptions(parent=self)
        base = f"{args.prefix}-analytics-{region}"

        # The subnet group, security group and parameter group exist in both regions: the
        # cluster uses its region's, and a restore in copy_region lands in the data VPC there
        # with the same guardrails and nothing to create first (docs/drills.md).
        subnets, security_group, parameters = self._landing(args, region)
        restore_subnets, restore_sg, restore_parameters = self._landing(args, dest)
        cluster = aws.redshift.Cluster(
            f"redshift-{region}",
            region=region,
            cluster_identifier=base,
            node_type=s.node_type,
            cluster_type="single-node" if s.number_of_nodes == 1 else "multi-node",
            number_of_nodes=s.number_of_nodes,
            database_name=s.database_name,
            master_username=s.master_username,
            # Secrets Manager generates, stores and rotates the admin password (Management Guide,
            # "Managing Amazon Redshift admin passwords using AWS Secrets Manager"); it never
            # passes through Pulumi. The secret is encrypted with the stack's secrets CMK.
            manage_master_password=True,
            master_password_secret_kms_key_id=args.secret_key_arn,
            # The provider types `encrypted` as a string in v7 ("true"/"false").
            encrypted="true",
            kms_key_id=args.key_arns[region],
            publicly_accessible=False,
            enhanced_vpc_routing=True,
            cluster_subnet_group_name=subnets.name,
            vpc_security_group_ids=[security_group.id],
            cluster_parameter_group_name=parameters.name,
            port=REDSHIFT_PORT,
            automated_snapshot_retention_period=s.snapshot_retention_days,
            preferred_maintenance_window=s.maintenance_window,
            # Security Hub Redshift.6: major versions are applied in the maintenance window.
            allow_version_upgrade=True,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{base}-final",
            opts=child,
        )
        # Audit logs to CloudWatch Logs (log groups /aws/redshift/cluster/<id>/<log>): no bucket
        # and bucket policy to keep, and the logs sit beside the stack's other log groups.
        aws.redshift.Logging(
            f"redshift-logging-{region}",
            region=region,
            cluster_identifier=cluster.cluster_identifier,
            log_destination_type="cloudwatch",
            log_exports=list(AUDIT_LOGS),
            opts=child,
        )
        # A KMS-encrypted cluster copies its snapshots only through a snapshot copy grant in the
        # destination region, for a key of that region (Management Guide, "Copying AWS
        # KMS-encrypted snapshots to another AWS Region"): the multi-region key's replica there,
        # so the copies are readable with the same key material.
        grant = aws.redshift.SnapshotCopyGrant(
            f"redshift-copy-grant-{dest}",
            region=dest,
            snapshot_copy_grant_name=base,
            kms_key_id=args.key_arns[dest],
            opts=child,
        )
        aws.redshift.SnapshotCopy(
            f"redshift-snapshot-copy-{region}",
            region=region,
            cluster_identifier=cluster.cluster_identifier,
            destination_region=dest,
            retention_period=s.copy_retention_days,
            snapshot_copy_grant_name=grant.snapshot_copy_grant_name,
            opts=child,
        )

        self.cluster_identifier = cluster.cluster_identifier
        self.endpoint = cluster.endpoint
        self.arn = cluster.arn
        self.master_password_secret_arn = cluster.master_password_secret_arn
        self.snapshot_copy_grant_name = grant.snapshot_copy_grant_name
        self.restore_subnet_group_name = restore_subnets.name
        self.restore_security_group_id = restore_sg.id
        self.restore_parameter_group_name = restore_parameters.name
        self.register_outputs(
            {
                "cluster_identifier": self.cluster_identifier,
                "endpoint": self.endpoint,
                "arn": self.arn,
                "master_password_secret_arn": self.master_password_secret_arn,
                "snapshot_copy_grant_name": self.snapshot_copy_grant_name,
                "restore_subnet_group_name": self.restore_subnet_group_name,
                "restore_security_group_id": self.restore_security_group_id,
                "restore_parameter_group_name": self.restore_parameter_group_name,
            }
        )

    def _landing(
        self, args: RedshiftAnalyticsArgs, region: str
    ) -> tuple[aws.redshift.SubnetGroup, aws.ec2.SecurityGroup, aws.redshift.ParameterGroup]:
        """Where a cluster of ``region`` lives: the data VPC's private subnets, a security group
        open to the application CIDRs only, and the parameters that require TLS and log activity.
        """
        child = pulumi.ResourceOptions(parent=self)
        base = f"{args.prefix}-analytics-{region}"
        subnets = aws.redshift.SubnetGroup(
            f"redshift-subnets-{region}",
            region=region,
            name=base,
            description=f"Analytics subnets of {args.prefix} in {region}",
            subnet_ids=args.subnet_ids[region],
            opts=child,
        )
        # No egress rules: the provider removes AWS's default allow-all egress. With enhanced VPC
        # routing, COPY/UNLOAD to S3 leave through the VPC only, so loading from S3 takes an S3
        # gateway endpoint and an egress rule to its prefix list (docs/components.md).
        security_group = aws.ec2.SecurityGroup(
            f"redshift-sg-{region}",
            region=region,
            name=f"{args.prefix}-redshift-sg-{region}",
            description="Redshift access from the SecureCart application tier only",
            vpc_id=args.vpc_ids[region],
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="Redshift from the application tier",
                    protocol="tcp",
                    from_port=REDSHIFT_PORT,
                    to_port=REDSHIFT_PORT,
                    cidr_blocks=list(args.app_cidrs),
                )
            ],
            egress=[],
            tags={"Name": f"{args.prefix}-redshift-sg-{region}"},
            opts=child,
        )
        # require_ssl: Security Hub Redshift.2; enable_user_activity_logging: without it the
        # user activity log stays empty even with logging on (Management Guide, "Database audit
        # logging", "Enabling logging").
        parameters = aws.redshift.ParameterGroup(
            f"redshift-params-{region}",
            region=region,
            name=base,
            family=PARAMETER_FAMILY,
            description=f"Analytics cluster parameters of {args.prefix} (TLS, activity log)",
            parameters=[
                aws.redshift.ParameterGroupParameterArgs(name="require_ssl", value="true"),
                aws.redshift.ParameterGroupParameterArgs(
                    name="enable_user_activity_logging", value="true"
                ),
            ],
            opts=child,
        )
        return subnets, security_group, parameters
