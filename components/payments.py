"""Orders and payments: RDS for PostgreSQL, a Multi-AZ DB instance with a cross-region replica.

Why a Multi-AZ DB *instance* and not a Multi-AZ DB cluster: AWS lists cross-Region automated
backups and storage autoscaling (``max_allocated_storage``) among the features Multi-AZ DB
clusters do not support ("Limitations of Multi-AZ DB clusters for Amazon RDS",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/multi-az-db-clusters-concepts.Limitations.html;
"Automated backup replication isn't supported for Multi-AZ DB clusters. However, it is supported
for Multi-AZ DB instance deployments", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReplicateBackups.html),
and issue 20 asks for both. A Multi-AZ DB instance has both, and a cross-region read replica
the drills can promote (PromoteReadReplica).

Placement is by region, never by role: the source lives in the anchor region (the lexically
smaller of the pair, which a swap of primaryRegion/secondaryRegion never changes) and the
replica in the other one. A role flip therefore changes nothing here: the database keeps its
writer where it is until a drill promotes the replica (docs/components.md, "Payments database").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aurora import master_password
from components.functions.secret_rotation import RDS_INSTANCE
from components.network import POSTGRES_PORT, RegionalNetwork, log_group_prefix
from components.secrets import SecretRotation, replicated_secret
from components.settings import PaymentsSettings

ENGINE = "postgres"
DATABASE_NAME = "payments"
MASTER_USERNAME = "payments_admin"
LOG_EXPORTS = ["postgresql", "upgrade"]
"""The log types RDS for PostgreSQL publishes to CloudWatch Logs."""
BACKUP_WINDOW = "04:00-04:30"
MAINTENANCE_WINDOW = "sun:06:00-sun:06:30"
"""Clear of each other and of Aurora's (03:00-04:00, sun:05:00-sun:06:00)."""
CPU_ALARM_KEY = "payments-cpu"

# Inputs ignored on purpose:
# - engineVersion: auto minor version upgrade moves the instance past the pinned minor; the
#   provider would then plan a downgrade (components/day_two.py pattern).
# - replicateSourceDb (replica): a promotion drill makes the replica standalone; removing the
#   source from the state would otherwise plan a new replica (force-new) on the next deploy.
# - backupRetentionPeriod (replica): RDS for PostgreSQL read replicas keep no automated backups;
#   the promotion sets a retention (PromoteReadReplica BackupRetentionPeriod), kept afterwards.
# - password (source): the rotation function owns it after creation (as Aurora's masterPassword).
SOURCE_IGNORED = ["engineVersion", "password"]
REPLICA_IGNORED = ["engineVersion", "replicateSourceDb", "backupRetentionPeriod"]


@dataclass(frozen=True, kw_only=True)
class PaymentsDatabaseArgs:
    """Inputs of :class:`PaymentsDatabase`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-staging``."""
    source_region: str
    """Region of the Multi-AZ source: the anchor region, which a role swap never changes."""
    replica_region: str
    """Region of the cross-region read replica and of the replicated automated backups."""
    settings: PaymentsSettings
    """Class, version, storage, retention, PI and monitoring."""
    networks: Mapping[str, RegionalNetwork]
    """Network per region (subnet group and PostgreSQL security group)."""
    storage_key_arns: Mapping[str, pulumi.Input[str]]
    """CMK per region for storage, Performance Insights and the replicated backups."""
    secret_key_arns: Mapping[str, pulumi.Input[str]]
    """CMK per region for the credentials secret and its replica."""
    monitoring_role_arn: pulumi.Input[str]
    """IAM role RDS enhanced monitoring publishes with."""
    alarm_topic_arns: Mapping[str, pulumi.Input[str]]
    """Alarm topic per region (components/monitoring.py)."""
    cpu_threshold_percent: float
    """CPU alarm threshold (the seed's 80%)."""


class PaymentsDatabase(pulumi.ComponentResource):
    """Source (Multi-AZ, anchor region), cross-region Multi-AZ read replica, automated backups
    replicated to the replica's region, a replicated and rotated master secret, CPU alarms.

    The master password is generated, not managed by RDS: AWS does not support "creating a read
    replica when the source DB or DB cluster manages credentials with Secrets Manager" for any
    engine but SQL Server ("Password management with Amazon RDS and AWS Secrets Manager",
    Limitations, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html),
    and the drills rebuild the replica after a promotion.
    """

    identifiers: dict[str, str]
    """Instance identifier per region (source and replica)."""
    arns: dict[str, pulumi.Output[str]]
    """Instance ARN per region."""
    addresses: dict[str, pulumi.Output[str]]
    """Endpoint host name per region (the source's accepts writes until a promotion)."""
    secret_arn: pulumi.Output[str]
    """Secrets Manager secret holding the master credentials (replicated)."""
    alarm_names: dict[str, list[str]]
    """The CPU alarm per region."""

    def __init__(
        self, name: str, args: PaymentsDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:database:PaymentsDatabase", name, None, opts)
        s = args.settings
        src, rep = args.source_region, args.replica_region
        regions = (src, rep)
        self.identifiers = {r: f"{args.prefix}-payments-{r}" for r in regions}

        password = master_password("payments-master-password", self)
        major = s.engine_version.split(".", maxsplit=1)[0]
        params = {
            region: aws.rds.ParameterGroup(
                f"payments-params-{region}",
                region=region,
                name=f"{args.prefix}-payments-pg{major}-{region}",
                family=f"postgres{major}",
                description=f"{args.prefix} payments PostgreSQL {major}: TLS only, DDL log",
                parameters=[
                    aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1"),
                    aws.rds.ParameterGroupParameterArgs(
                        name="log_min_duration_statement", value="1000"
                    ),
                    aws.rds.ParameterGroupParameterArgs(name="log_connections", value="1"),
                    aws.rds.ParameterGroupParameterArgs(name="log_statement", value="ddl"),
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
            for region in regions
        }
        source = aws.rds.Instance(
            f"payments-{src}",
            region=src,
            identifier=self.identifiers[src],
            engine=ENGINE,
            engine_version=s.engine_version,
            username=MASTER_USERNAME,
            password=password.result,
            db_name=DATABASE_NAME,
            backup_retention_period=s.backup_retention_days,
            backup_window=BACKUP_WINDOW,
            **self._common(args, src, params[src]),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=SOURCE_IGNORED),
        )
        # Cross-region replica: the source by ARN, its own region's key (RDS re-encrypts with a
        # key of the destination region, "Creating a read replica in a different AWS Region").
        replica = aws.rds.Instance(
            f"payments-{rep}",
            region=rep,
            identifier=self.identifiers[rep],
            replicate_source_db=source.arn,
            **self._common(args, rep, params[rep]),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=REPLICA_IGNORED),
        )
        # Snapshots and transaction logs of the source, copied to the replica's region under
        # that region's key, kept as long as the source keeps its own
        # ("Enabling cross-Region automated backups for Amazon RDS").
        aws.rds.InstanceAutomatedBackupsReplication(
            f"payments-backups-{rep}",
            region=rep,
            source_db_instance_arn=source.arn,
            kms_key_id=args.storage_key_arns[rep],
            retention_period=s.backup_retention_days,
            opts=pulumi.ResourceOptions(parent=self),
        )
        instances = {src: source, rep: replica}
        self.arns = {r: instances[r].arn for r in regions}
        self.addresses = {r: instances[r].address for r in regions}
        self.alarm_names = {r: [self._cpu_alarm(args, r)] for r in regions}

        secret = replicated_secret(
            "payments-master-secret",
            parent=self,
            secret_name=f"{args.prefix}/payments/master",
            description=f"Master credentials of the {args.prefix} payments database",
            home_region=src,
            regions=regions,
            key_arns=args.secret_key_arns,
            value=pulumi.Output.all(password.result, *(self.addresses[r] for r in regions)).apply(
                lambda values: json.dumps(
                    {
                        "engine": ENGINE,
                        "username": MASTER_USERNAME,
                        "password": values[0],
                        "dbname": DATABASE_NAME,
                        "port": POSTGRES_PORT,
                        "hosts": dict(zip(regions, values[1:], strict=True)),
                    },
                    sort_keys=True,
                )
            ),
            rotation=SecretRotation(
                kind=RDS_INSTANCE,
                target=" ".join(f"{self.identifiers[r]}@{r}" for r in regions),
                log_key_arn=args.networks[src].logs_key_arn,
                log_group_name=f"{log_group_prefix(args.prefix)}secret-rotation/payments-master",
                resource_arns=(f"arn:aws:rds:*:*:db:{args.prefix}-payments-*",),
            ),
        )
        self.secret_arn = secret.arn
        self.register_outputs(
            {"arns": self.arns, "addresses": self.addresses, "secret_arn": self.secret_arn}
        )

    def _common(
        self, args: PaymentsDatabaseArgs, region: str, params: aws.rds.ParameterGroup
    ) -> dict[str, Any]:
        """What source and replica share, so a promoted replica is a payments database as is:
        Multi-AZ (a replica can be Multi-AZ, and is then Multi-AZ the moment it is promoted),
        gp3 with auto scaling, its region's CMK, PI on that CMK, enhanced monitoring, IAM auth."""
        s = args.settings
        network = args.networks[region]
        return {
            "instance_class": s.instance_class,
            "multi_az": True,
            "storage_type": "gp3",
            "allocated_storage": s.allocated_storage_gb,
            "max_allocated_storage": s.max_allocated_storage_gb,
            "storage_encrypted": True,
            "kms_key_id": args.storage_key_arns[region],
            "db_subnet_group_name": network.db_subnet_group_name,
            "vpc_security_group_ids": [network.db_security_group_id],
            "parameter_group_name": params.name,
            "port": POSTGRES_PORT,
            "publicly_accessible": False,
            "iam_database_authentication_enabled": True,
            "deletion_protection": s.deletion_protection,
            "skip_final_snapshot": False,
            "final_snapshot_identifier": f"{self.identifiers[region]}-final",
            "copy_tags_to_snapshot": True,
            "auto_minor_version_upgrade": True,
            "ca_cert_identifier": "rds-ca-rsa2048-g1",
            "maintenance_window": MAINTENANCE_WINDOW,
            "performance_insights_enabled": True,
            "performance_insights_kms_key_id": args.storage_key_arns[region],
            "performance_insights_retention_period": s.performance_insights_retention_days,
            "monitoring_interval": s.monitoring_interval_seconds,
            "monitoring_role_arn": args.monitoring_role_arn,
            "enabled_cloudwatch_logs_exports": LOG_EXPORTS,
        }

    def _cpu_alarm(self, args: PaymentsDatabaseArgs, region: str) -> str:
        """CPU >= threshold on the region's instance, named and wired as components/monitoring.py
        names its alarms (``<prefix>-<key>-<region>``, actions on the region's topic)."""
        identifier = self.identifiers[region]
        alarm_name = f"{args.prefix}-{CPU_ALARM_KEY}-{region}"
        topic = args.alarm_topic_arns[region]
        threshold = args.cpu_threshold_percent
        aws.cloudwatch.MetricAlarm(
            f"alarm-{CPU_ALARM_KEY}-{region}",
            region=region,
            name=alarm_name,
            alarm_description=f"Payments {identifier} CPU >= {threshold:g}%",
            namespace="AWS/RDS",
            metric_name="CPUUtilization",
            dimensions={"DBInstanceIdentifier": identifier},
            statistic="Maximum",
            period=60,
            evaluation_periods=3,
            datapoints_to_alarm=3,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=threshold,
            treat_missing_data="missing",
            alarm_actions=[topic],
            ok_actions=[topic],
            opts=pulumi.ResourceOptions(parent=self),
        )
        return alarm_name
