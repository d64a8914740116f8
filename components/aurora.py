"""Aurora PostgreSQL Global Database across the region pair."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.functions.secret_rotation import AURORA
from components.network import POSTGRES_PORT, RegionalNetwork, log_group_prefix
from components.secrets import PINNED_GENERATOR_INPUTS, SecretRotation, replicated_secret
from components.settings import AuroraSettings

ENGINE = "aurora-postgresql"
# RDS master passwords may not contain '/', '@', '"' or spaces.
PASSWORD_SPECIALS = "!#$%^&*()-_=+[]{}<>:?"

# Inputs that differ by role or drift after a switchover/failover. Each is ignored on purpose:
# - masterUsername/masterPassword/databaseName: AWS refuses them on a secondary cluster
#   ("cannot specify user name for cross region replication cluster"), so only the primary gets
#   them; after a swap the new primary must not be replaced (masterUsername and databaseName
#   force replacement) for credentials it already has.
# - globalClusterIdentifier: the provider has read it back empty after a detach/switchover and
#   then detached the cluster on the next update (cloudposse/terraform-aws-rds-cluster#281).
# - replicationSourceIdentifier: AWS sets it on secondaries; removing it promotes the replica to
#   a standalone cluster (hashicorp/terraform-provider-aws#40921).
# - engineVersion: minor upgrades are applied to the global cluster as a whole and the members
#   then differ from the pinned version (perpetual diff, or a failed downgrade attempt). Engine
#   upgrades go through the global cluster instead (see GLOBAL_UPGRADE below).
CLUSTER_IGNORED = [
    "masterUsername",
    "masterPassword",
    "databaseName",
    "globalClusterIdentifier",
    "replicationSourceIdentifier",
    "engineVersion",
]

# Engine upgrades. AWS: "When you perform a major version upgrade of an Aurora global database, you
# upgrade the global database cluster instead of the individual clusters"; the upgrade "sets the
# cluster and DB instance parameter groups to the default parameter groups for the new version.
# Apply any custom parameter groups after completing the upgrade" (Upgrading an Amazon Aurora
# global database; ModifyGlobalCluster AllowMajorVersionUpgrade). The provider carries a change of
# GlobalCluster.engine_version as ModifyGlobalCluster(AllowMajorVersionUpgrade=true), and for a
# minor version upgrades each member (pulumi-aws GlobalCluster "Upgrading Engine Versions").
# Minor versions too: AWS says auto minor version upgrade has no effect on the members of a
# global database (AWS Config rds-automatic-minor-version-upgrade-enabled; Aurora "Automatic minor
# version upgrades"), so a global database's minor version changes only when someone changes the
# global cluster's engine version (this program in an upgrading deploy, or `aws rds
# modify-global-cluster --engine-version`, the in-place upgrade of "Upgrading an Amazon Aurora
# global database"). So: the global cluster ignores engine_version unless
# aurora.allow_major_version_upgrade is set for the upgrading deploy (a version upgraded outside
# the program must not read as a downgrade: components/day_two.py), and the parameter group
# family follows the version the global cluster actually
# runs (engine_version_actual). A changed major therefore never attaches a new-family group to a
# cluster still on the old major: the group is replaced, and attached, only once the global
# cluster reports the new version, which is after the upgrade in the same deploy.
GLOBAL_UPGRADE_IGNORED = ["engineVersion"]


def engine_major(version: str) -> str:
    """``16.6`` -> ``16`` (Aurora PostgreSQL versions are major.minor)."""
    return version.split(".", maxsplit=1)[0]


@dataclass(frozen=True, kw_only=True)
class AuroraGlobalDatabaseArgs:
    """Inputs of :class:`AuroraGlobalDatabase`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-dev``."""
    primary_region: str
    """Region of the writer; the other region holds read-only replicas."""
    secondary_region: str
    """Region of the secondary cluster."""
    anchor_region: str
    """Region where the global cluster and the credentials secret are managed (never swaps)."""
    settings: AuroraSettings
    """Engine, sizes, retention and scaling."""
    networks: Mapping[str, RegionalNetwork]
    """Network per region (subnet group and security group)."""
    availability_zones: Mapping[str, tuple[str, str, str]]
    """Three AZs per region: cluster AZs and instance placement."""
    storage_key_arns: Mapping[str, pulumi.Input[str]]
    """CMK per region for storage and Performance Insights."""
    secret_key_arns: Mapping[str, pulumi.Input[str]]
    """CMK per region for the credentials secret and its replica."""
    monitoring_role_arn: pulumi.Input[str]
    """IAM role RDS enhanced monitoring publishes with."""


class AuroraGlobalDatabase(pulumi.ComponentResource):
    """A global cluster, one encrypted regional cluster per region, >= 2 instances each.

    The master password is generated (never typed), kept as a Pulumi secret and stored in a
    Secrets Manager secret replicated to the other region: clusters in a global database cannot
    use RDS-managed master passwords.
    """

    global_cluster_id: pulumi.Output[str]
    """Identifier of the global cluster (what switchover/failover act on)."""
    writer_endpoint: pulumi.Output[str]
    """Global writer endpoint: always the writer of the current primary cluster, so a managed
    switchover or failover moves writes with no deploy (GlobalCluster.endpoint)."""
    cluster_identifiers: dict[str, str]
    """Regional cluster identifier per region."""
    cluster_arns: dict[str, pulumi.Output[str]]
    """Regional cluster ARN per region."""
    cluster_resource_ids: dict[str, pulumi.Output[str]]
    """``DbClusterResourceId`` per region (``cluster-...``): the resource of the ``rds-db:connect``
    permission an IAM-authenticated database user needs on each cluster it may land on
    (``arn:aws:rds-db:<region>:<account>:dbuser:<resource id>/<user>``, Aurora User Guide,
    "Creating and using an IAM policy for IAM database access")."""
    endpoints: dict[str, pulumi.Output[str]]
    """Cluster (writer) endpoint per region; only the primary's accepts writes."""
    reader_endpoints: dict[str, pulumi.Output[str]]
    """Reader endpoint per region."""
    instance_identifiers: dict[str, list[str]]
    """Instance identifiers per region (the first of the primary is the initial writer)."""
    secret_arn: pulumi.Output[str]
    """Secrets Manager secret holding the master credentials (replicated)."""

    def __init__(
        self, name: str, args: AuroraGlobalDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:database:AuroraGlobalDatabase", name, None, opts)
        s = args.settings
        regions = (args.primary_region, args.secondary_region)

        password = random.RandomPassword(
            "aurora-master-password",
            length=32,
            special=True,
            override_special=PASSWORD_SPECIALS,
            min_lower=2,
            min_upper=2,
            min_numeric=2,
            min_special=2,
            opts=pulumi.ResourceOptions(
                parent=self,
                additional_secret_outputs=["result"],
                ignore_changes=PINNED_GENERATOR_INPUTS,
            ),
        )

        global_cluster = aws.rds.GlobalCluster(
            "aurora-global",
            region=args.anchor_region,
            global_cluster_identifier=f"{args.prefix}-aurora",
            engine=ENGINE,
            engine_version=s.engine_version,
            storage_encrypted=True,
            deletion_protection=s.deletion_protection,
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=[] if s.allow_major_version_upgrade else GLOBAL_UPGRADE_IGNORED,
            ),
        )
        deployed_major = global_cluster.engine_version_actual.apply(engine_major)

        self.cluster_identifiers = {}
        self.cluster_arns = {}
        self.cluster_resource_ids = {}
        self.endpoints = {}
        self.reader_endpoints = {}
        self.instance_identifiers = {}
        clusters: dict[str, aws.rds.Cluster] = {}
        writer: aws.rds.ClusterInstance | None = None
        # Primary first: the secondary cluster can only join once the primary has a writer.
        for region in regions:
            is_primary = region == args.primary_region
            params = aws.rds.ClusterParameterGroup(
                f"aurora-params-{region}",
                region=region,
                name=pulumi.Output.concat(f"{args.prefix}-aurora-pg", deployed_major, f"-{region}"),
                family=pulumi.Output.concat("aurora-postgresql", deployed_major),
                description=pulumi.Output.concat(
                    f"{args.prefix} Aurora PostgreSQL ",
                    deployed_major,
                    ": TLS only, slow-query log",
                ),
                parameters=[
                    aws.rds.ClusterParameterGroupParameterArgs(name="rds.force_ssl", value="1"),
                    aws.rds.ClusterParameterGroupParameterArgs(
                        name="log_min_duration_statement", value="1000"
                    ),
                    aws.rds.ClusterParameterGroupParameterArgs(name="log_connections", value="1"),
                    # Every CREATE/ALTER/DROP in the PostgreSQL log (exported to CloudWatch), so a
                    # schema change can be traced (Checkov CKV2_AWS_27). Dynamic: no reboot.
                    aws.rds.ClusterParameterGroupParameterArgs(name="log_statement", value="ddl"),
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
            identifier = f"{args.prefix}-{region}"
            network = args.networks[region]
            # Secondaries get no credentials or database name (AWS rejects them) and must wait
            # for the primary's writer, or creation fails with InvalidDBClusterStateFault.
            cluster = aws.rds.Cluster(
                f"aurora-{region}",
                region=region,
                cluster_identifier=identifier,
                engine=ENGINE,
                engine_mode="provisioned",
                engine_version=s.engine_version,
                global_cluster_identifier=global_cluster.id,
                # Three AZs given explicitly: AWS fills in three itself otherwise, and the
                # provider then sees a diff on this force-new field.
                availability_zones=list(args.availability_zones[region]),
                db_subnet_group_name=network.db_subnet_group_name,
                vpc_security_group_ids=[network.db_security_group_id],
                db_cluster_parameter_group_name=params.name,
                port=POSTGRES_PORT,
                storage_encrypted=True,
                kms_key_id=args.storage_key_arns[region],
                backup_retention_period=s.backup_retention_days,
                preferred_backup_window=s.preferred_backup_window,
                preferred_maintenance_window=s.preferred_maintenance_window,
                copy_tags_to_snapshot=True,
                deletion_protection=s.deletion_protection,
                skip_final_snapshot=False,
                final_snapshot_identifier=f"{identifier}-final",
                # IAM database authentication on BOTH members, so a token-authenticated user can
                # log in wherever the writer is after a switchover or failover. Available for
                # every Aurora PostgreSQL version of majors 11 to 17 in every region (Aurora User
                # Guide, "Supported Regions and Aurora DB engines for IAM database
                # authentication"); the global database limitations list nothing against it.
                # Tokens are signed for the endpoint dialled (clientEndpoints), never a private
                # CNAME; a replication connection cannot use it (IAM database authentication,
                # "Limitations"). Pack rule rds-iam-auth (FSBP RDS.12).
                iam_database_authentication_enabled=True,
                # RDS Data API on both members: AWS allows it on a secondary, which answers only
                # once promoted ("Limitations for the Amazon RDS Data API"); drills address the
                # current writer's cluster. From Aurora PostgreSQL 14 on, the Data API needs
                # scram-sha-256 passwords, the family default the parameter group inherits.
                enable_http_endpoint=s.data_api_enabled,
                enabled_cloudwatch_logs_exports=["postgresql"],
                master_username=s.master_username if is_primary else None,
                master_password=password.result if is_primary else None,
                database_name=s.database_name if is_primary else None,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[] if writer is None else [writer],
                    ignore_changes=CLUSTER_IGNORED,
                ),
            )
            clusters[region] = cluster
            instances = self._instances(args, region, cluster)
            if is_primary:
                writer = instances[0]
                self._reader_autoscaling(args, region, identifier, instances)
            self.cluster_identifiers[region] = identifier
            self.cluster_arns[region] = cluster.arn
            self.cluster_resource_ids[region] = cluster.cluster_resource_id
            self.endpoints[region] = cluster.endpoint
            self.reader_endpoints[region] = cluster.reader_endpoint
            self.instance_identifiers[region] = [
                f"{identifier}-{n + 1}" for n in range(s.instances_per_region)
            ]

        secret = replicated_secret(
            "aurora-master-secret",
            parent=self,
            secret_name=f"{args.prefix}/aurora/master",
            description=f"Master credentials of the {args.prefix} Aurora global database",
            home_region=args.anchor_region,
            regions=regions,
            key_arns=args.secret_key_arns,
            # Secret because password.result is: secrecy propagates through apply.
            value=(
                pulumi.Output.all(password.result, *(clusters[r].endpoint for r in regions)).apply(
                    lambda values: json.dumps(
                        {
                            "engine": "postgres",
                            "username": s.master_username,
                            "password": values[0],
                            "dbname": s.database_name,
                            "port": POSTGRES_PORT,
                            "hosts": dict(zip(regions, values[1:], strict=True)),
                        },
                        sort_keys=True,
                    )
                )
            ),
            rotation=SecretRotation(
                kind=AURORA,
                target=f"{args.prefix}-aurora",
                log_key_arn=args.networks[args.anchor_region].logs_key_arn,
                log_group_name=f"{log_group_prefix(args.prefix)}secret-rotation/aurora-master",
                resource_arns=(
                    f"arn:aws:rds:*:*:cluster:{args.prefix}-*",
                    f"arn:aws:rds::*:global-cluster:{args.prefix}-aurora",
                ),
            ),
        )
        self.global_cluster_id = global_cluster.id
        self.writer_endpoint = global_cluster.endpoint
        self.secret_arn = secret.arn
        self.register_outputs(
            {
                "global_cluster_id": self.global_cluster_id,
                "writer_endpoint": self.writer_endpoint,
                "cluster_arns": self.cluster_arns,
                "cluster_resource_ids": self.cluster_resource_ids,
                "endpoints": self.endpoints,
                "reader_endpoints": self.reader_endpoints,
                "secret_arn": self.secret_arn,
            }
        )

    def _instances(
        self, args: AuroraGlobalDatabaseArgs, region: str, cluster: aws.rds.Cluster
    ) -> list[aws.rds.ClusterInstance]:
        """Instances spread over the three AZs: writer + readers in the primary, replicas in the
        secondary. Same count in both regions, so a role swap adds or removes none."""
        s = args.settings
        azs = args.availability_zones[region]
        return [
            aws.rds.ClusterInstance(
                f"aurora-{region}-{n + 1}",
                region=region,
                identifier=f"{args.prefix}-{region}-{n + 1}",
                cluster_identifier=cluster.id,
                engine=aws.rds.EngineType.AURORA_POSTGRESQL,
                engine_version=s.engine_version,
                instance_class=s.instance_class,
                availability_zone=azs[n % len(azs)],
                db_subnet_group_name=args.networks[region].db_subnet_group_name,
                promotion_tier=min(n, 15),
                publicly_accessible=False,
                # No effect while the cluster is a member of a global database (AWS upgrades
                # none of its minor versions by itself: see GLOBAL_UPGRADE_IGNORED); kept on
                # for a cluster that leaves it (detach and promote), where it applies again.
                auto_minor_version_upgrade=True,
                copy_tags_to_snapshot=True,
                ca_cert_identifier="rds-ca-rsa2048-g1",
                performance_insights_enabled=True,
                performance_insights_kms_key_id=args.storage_key_arns[region],
                performance_insights_retention_period=s.performance_insights_retention_days,
                monitoring_interval=s.monitoring_interval_seconds,
                monitoring_role_arn=args.monitoring_role_arn,
                preferred_maintenance_window=s.preferred_maintenance_window,
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["engineVersion"]),
            )
            for n in range(s.instances_per_region)
        ]

    def _reader_autoscaling(
        self,
        args: AuroraGlobalDatabaseArgs,
        region: str,
        identifier: str,
        instances: list[aws.rds.ClusterInstance],
    ) -> None:
        """Read replicas for analytics: Aurora Auto Scaling on average reader CPU, on the primary
        cluster only.

        AWS: Aurora Auto Scaling is not supported for the secondary DB clusters of a global
        database (Limitations of Amazon Aurora global databases,
        https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.html
        #aurora-global-database.limitations). So there is one target, named for the global
        database's writer cluster rather than for a region, whose region and resource id follow
        ``primary_region``: a role flip replaces it (create the new registration, then
        deregister the old one; a scaling target and its policy hold no data, so the flip is
        stateless), tests/unit/test_role_flip.py. Readers Auto Scaling added to the old primary
        stay until it removes them or an operator does (Aurora Auto Scaling with Aurora
        Replicas).
        """
        s = args.settings
        # The alias adopts the per-region target this stack had before (the primary's): two
        # resources registering one (namespace, resource id, dimension) would deregister the
        # new registration when the old resource is deleted. The secondary's old target is
        # deleted, which is what AWS asks for.
        target = aws.appautoscaling.Target(
            "aurora-readers",
            region=region,
            service_namespace="rds",
            scalable_dimension="rds:cluster:ReadReplicaCount",
            resource_id=f"cluster:{identifier}",
            min_capacity=s.autoscaling_min_readers,
            max_capacity=s.autoscaling_max_readers,
            # Auto scaling needs the cluster to have its instances first.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=instances,
                aliases=[pulumi.Alias(name=f"aurora-readers-{region}")],
            ),
        )
        aws.appautoscaling.Policy(
            "aurora-readers-cpu",
            region=region,
            name=f"{args.prefix}-aurora-readers-cpu",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="RDSReaderAverageCPUUtilization"
                ),
                target_value=s.autoscaling_target_cpu,
                scale_in_cooldown=600,
                scale_out_cooldown=300,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
