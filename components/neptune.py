"""Fraud patterns: a Neptune global database across the region pair (issue 20).

AWS's requirements for a Neptune global database ("Setting up an Amazon Neptune global database",
https://docs.aws.amazon.com/neptune/latest/userguide/neptune-gdb-setup.html): r5 or r6g instance
classes, the same engine version 1.2.0.0 or above in every member, one primary cluster with a
writer and read-only secondaries in other regions. Neptune has no master user: access is by IAM
database authentication (SigV4-signed requests), so neither cluster carries credentials and the
secondary needs none to join.

Placement is by region, never by role: the global database and its first (primary) cluster are
created in the anchor region, the lexically smaller of the pair, which a swap of
primaryRegion/secondaryRegion never changes. A role flip therefore changes no input here; the
writer moves only through Neptune's own switchover or failover (FailoverGlobalCluster), and the
inputs that follow it are ignored (below).

Neptune's GlobalCluster has no global writer endpoint (pulumi-aws neptune.GlobalCluster exports
none; AWS's page says to connect to the primary cluster's endpoints): docs/components.md says what
the stack exports instead and why no private-zone name follows the Neptune writer yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.network import RegionalNetwork
from components.settings import NeptuneSettings

ENGINE = "neptune"
PORT = 8182
LOG_EXPORTS = ["audit"]
"""Neptune publishes audit logs to CloudWatch Logs once the cluster parameter
``neptune_enable_audit_log`` is 1 ("Publishing Neptune logs to Amazon CloudWatch Logs")."""
BACKUP_WINDOW = "05:00-05:30"
MAINTENANCE_WINDOW = "sun:07:00-sun:07:30"
"""Clear of Aurora's (03:00-04:00, sun:05:00-sun:06:00) and the payments database's."""

# Inputs ignored on purpose, as Aurora's (components/aurora.py CLUSTER_IGNORED):
# - globalClusterIdentifier: read back empty after a switchover/detach, and the provider would
#   then detach the cluster on the next update.
# - replicationSourceIdentifier: AWS sets it on the secondary; removing it would promote it.
# - engineVersion: upgrades go through the global cluster; members then differ from the pin.
CLUSTER_IGNORED = ["globalClusterIdentifier", "replicationSourceIdentifier", "engineVersion"]


def parameter_family(engine_version: str) -> str:
    """Cluster parameter group family of an engine version: ``neptune1.3`` for 1.3.x.y."""
    major, minor = engine_version.split(".")[:2]
    return f"neptune{major}.{minor}"


@dataclass(frozen=True, kw_only=True)
class NeptuneGlobalDatabaseArgs:
    """Inputs of :class:`NeptuneGlobalDatabase`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-prod``."""
    anchor_region: str
    """Region of the global database and of the cluster created first (never moves on a flip)."""
    other_region: str
    """The other region of the pair: the secondary cluster at creation."""
    settings: NeptuneSettings
    """Version, class, instance count, retention, deletion protection."""
    networks: Mapping[str, RegionalNetwork]
    """Data VPC per region (its subnets host the cluster)."""
    app_cidrs: Sequence[str]
    """Application CIDRs allowed to reach port 8182."""
    storage_key_arns: Mapping[str, pulumi.Input[str]]
    """CMK per region for the cluster volume (each cluster its own region's key)."""


class NeptuneGlobalDatabase(pulumi.ComponentResource):
    """Global database, one encrypted cluster per region (IAM auth, audit logs exported, backups,
    deletion protection), the same number of instances in each."""

    global_cluster_id: pulumi.Output[str]
    cluster_identifiers: dict[str, str]
    cluster_arns: dict[str, pulumi.Output[str]]
    endpoints: dict[str, pulumi.Output[str]]
    """Cluster (writer) endpoint per region: answers writes only in the current primary."""
    reader_endpoints: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        args: NeptuneGlobalDatabaseArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("securecart:database:NeptuneGlobalDatabase", name, None, opts)
        s = args.settings
        regions = (args.anchor_region, args.other_region)
        child = pulumi.ResourceOptions(parent=self)
        global_cluster = aws.neptune.GlobalCluster(
            "neptune-global",
            region=args.anchor_region,
            global_cluster_identifier=f"{args.prefix}-fraud",
            engine=ENGINE,
            engine_version=s.engine_version,
            storage_encrypted=True,
            deletion_protection=s.deletion_protection,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["engineVersion"]),
        )
        self.cluster_identifiers = {}
        self.cluster_arns = {}
        self.endpoints = {}
        self.reader_endpoints = {}
        writer: aws.neptune.ClusterInstance | None = None
        # The anchor's cluster first: the other one can join only once it has a writer.
        for region in regions:
            network = args.networks[region]
            subnets = aws.neptune.SubnetGroup(
                f"neptune-subnets-{region}",
                region=region,
                name=f"{args.prefix}-fraud-{region}",
                description=f"Fraud graph subnets of {args.prefix} in {region}",
                subnet_ids=network.subnet_ids,
                opts=child,
            )
            # No egress rules (as the network's data security groups): a database only answers.
            sg = aws.ec2.SecurityGroup(
                f"neptune-sg-{region}",
                region=region,
                name=f"{args.prefix}-neptune-sg-{region}",
                description="Fraud graph access from the SecureCart application tier only",
                vpc_id=network.vpc_id,
                ingress=[
                    aws.ec2.SecurityGroupIngressArgs(
                        description="Neptune from the application tier",
                        protocol="tcp",
                        from_port=PORT,
                        to_port=PORT,
                        cidr_blocks=list(args.app_cidrs),
                    )
                ],
                egress=[],
                tags={"Name": f"{args.prefix}-neptune-sg-{region}"},
                opts=child,
            )
            params = aws.neptune.ClusterParameterGroup(
                f"neptune-params-{region}",
                region=region,
                name=f"{args.prefix}-fraud-{parameter_family(s.engine_version).replace('.', '-')}-{region}",
                family=parameter_family(s.engine_version),
                description=f"{args.prefix} fraud graph: audit log on",
                parameters=[
                    aws.neptune.ClusterParameterGroupParameterArgs(
                        name="neptune_enable_audit_log", value="1"
                    )
                ],
                opts=child,
            )
            identifier = f"{args.prefix}-fraud-{region}"
            cluster = aws.neptune.Cluster(
                f"neptune-{region}",
                region=region,
                cluster_identifier=identifier,
                engine=ENGINE,
                engine_version=s.engine_version,
                global_cluster_identifier=global_cluster.id,
                neptune_subnet_group_name=subnets.name,
                vpc_security_group_ids=[sg.id],
                neptune_cluster_parameter_group_name=params.name,
                port=PORT,
                storage_encrypted=True,
                kms_key_arn=args.storage_key_arns[region],
                backup_retention_period=s.backup_retention_days,
                preferred_backup_window=BACKUP_WINDOW,
                preferred_maintenance_window=MAINTENANCE_WINDOW,
                iam_database_authentication_enabled=True,
                enable_cloudwatch_logs_exports=LOG_EXPORTS,
                deletion_protection=s.deletion_protection,
                copy_tags_to_snapshot=True,
                skip_final_snapshot=False,
                final_snapshot_identifier=f"{identifier}-final",
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[] if writer is None else [writer],
                    ignore_changes=CLUSTER_IGNORED,
                ),
            )
            instances = [
                aws.neptune.ClusterInstance(
                    f"neptune-{region}-{n + 1}",
                    region=region,
                    identifier=f"{identifier}-{n + 1}",
                    cluster_identifier=cluster.id,
                    engine=ENGINE,
                    instance_class=s.instance_class,
                    neptune_subnet_group_name=subnets.name,
                    publicly_accessible=False,
                    auto_minor_version_upgrade=True,
                    promotion_tier=min(n, 15),
                    preferred_maintenance_window=MAINTENANCE_WINDOW,
                    opts=pulumi.ResourceOptions(parent=self, ignore_changes=["engineVersion"]),
                )
                for n in range(s.instances_per_region)
            ]
            if writer is None:
                writer = instances[0]
            self.cluster_identifiers[region] = identifier
            self.cluster_arns[region] = cluster.arn
            self.endpoints[region] = cluster.endpoint
            self.reader_endpoints[region] = cluster.reader_endpoint
        self.global_cluster_id = global_cluster.id
        self.register_outputs(
            {
                "global_cluster_id": self.global_cluster_id,
                "cluster_arns": self.cluster_arns,
                "endpoints": self.endpoints,
                "reader_endpoints": self.reader_endpoints,
            }
        )
