"""The whole data tier for one (primary, secondary) region pair."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.active_region import ActiveRegionSetting, ActiveRegionSettingArgs
from components.aurora import AuroraGlobalDatabase, AuroraGlobalDatabaseArgs
from components.backup import CrossRegionBackup, CrossRegionBackupArgs
from components.budget import CostBudget, CostBudgetArgs
from components.cache import CacheGlobalDatastore, CacheGlobalDatastoreArgs
from components.dns import FailoverDns, FailoverDnsArgs
from components.drill_access import DrillAccess, DrillAccessArgs
from components.drill_probes import DrillProbes, DrillProbesArgs
from components.dynamodb import GlobalTable, GlobalTableArgs
from components.fault_injection import FaultInjection, FaultInjectionArgs
from components.keys import MultiRegionKey, MultiRegionKeyArgs
from components.monitoring import Monitoring, MonitoringArgs
from components.naming import REGION_AZS, assume_role_policy, other, prefix
from components.neptune import PORT as NEPTUNE_PORT
from components.neptune import NeptuneGlobalDatabase, NeptuneGlobalDatabaseArgs
from components.network import (
    CACHE_PORT,
    POSTGRES_PORT,
    RegionalNetwork,
    RegionalNetworkArgs,
    log_group_prefix,
)
from components.payments import PaymentsDatabase, PaymentsDatabaseArgs
from components.peering import AppNetworkPath, AppNetworkPathArgs
from components.redshift import REDSHIFT_PORT, RedshiftAnalytics, RedshiftAnalyticsArgs
from components.settings import Settings

# One multi-region key per data-store family, so a key policy or a compromise stays scoped.
KEY_FAMILIES: dict[str, tuple[str, ...]] = {
    "aurora": (),
    "dynamodb": (),
    "cache": (),
    "secrets": (),
    "backup": (),
    # CloudWatch publishes alarm notifications into the encrypted topics.
    "alarms": ("cloudwatch.amazonaws.com",),
}


@dataclass(frozen=True, kw_only=True)
class DataTierArgs:
    """Inputs of :class:`DataTier`."""

    settings: Settings
    """Validated stack settings (see components/settings/)."""


class DataTier(pulumi.ComponentResource):
    """Network, keys, Aurora global database, DynamoDB global tables, cache global datastore,
    the DNS names applications use, monitoring, backups and a budget, in both regions."""

    outputs: dict[str, pulumi.Input[object]]
    """Everything a drill or an application needs, keyed as the stack exports it."""

    def __init__(
        self, name: str, args: DataTierArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:index:DataTier", name, None, opts)
        s = args.settings
        pre = prefix(s.environment)
        regions = s.regions
        anchor = s.anchor_region
        child = pulumi.ResourceOptions(parent=self)
        account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).account_id

        networks = {
            region: RegionalNetwork(
                f"network-{region}",
                RegionalNetworkArgs(
                    prefix=pre,
                    region=region,
                    availability_zones=REGION_AZS[region],
                    vpc_cidr=s.network.vpc_cidrs[region],
                    app_cidrs=s.network.app_cidrs,
                    existing=s.network.existing.get(region),
                    probe_access=s.drills.probes,
                ),
                child,
            )
            for region in regions
        }
        if s.network.app_peering:
            # Validation refuses peering with a brought VPC, whose route tables we do not know.
            route_tables = {r: networks[r].route_table_id for r in regions}
            AppNetworkPath(
                "app-network-path",
                AppNetworkPathArgs(
                    prefix=pre,
                    regions=regions,
                    data_vpc_ids={r: networks[r].vpc_id for r in regions},
                    data_vpc_cidrs=s.network.vpc_cidrs,
                    data_route_table_ids={
                        r: table for r, table in route_tables.items() if table is not None
                    },
                    peers=s.network.app_peering,
                ),
                child,
            )
        keys = {
            family: MultiRegionKey(
                f"keys-{family}",
                MultiRegionKeyArgs(
                    prefix=pre,
                    family=family,
                    home_region=anchor,
                    replica_region=other(anchor, regions),
                    account_id=account_id,
                    service_principals=services,
                ),
                child,
            )
            for family, services in KEY_FAMILIES.items()
        }
        monitoring_role = aws.iam.Role(
            "aurora-monitoring-role",
            name=f"{pre}-rds-enhanced-monitoring",
            description="RDS enhanced monitoring publishes OS metrics with this role",
            assume_role_policy=assume_role_policy("monitoring.rds.amazonaws.com"),
            opts=child,
        )
        monitoring_policy = aws.iam.RolePolicyAttachment(
            "aurora-monitoring-role-policy",
            role=monitoring_role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
            opts=child,
        )
        aurora = AuroraGlobalDatabase(
            "aurora",
            AuroraGlobalDatabaseArgs(
                prefix=pre,
                primary_region=s.primary_region,
                secondary_region=s.secondary_region,
                anchor_region=anchor,
                settings=s.aurora,
                networks=networks,
                availability_zones={r: REGION_AZS[r] for r in regions},
                storage_key_arns=keys["aurora"].arns,
                secret_key_arns=keys["secrets"].arns,
                # Instances fail to create if the role exists but its policy is not attached
                # yet. depends_on on the component would hold up all its children (the global
                # cluster too, lengthening the critical path); the ARN carries the dependency to
                # the instances, the only resources that need it.
                monitoring_role_arn=pulumi.Output.all(
                    monitoring_role.arn, monitoring_policy.id
                ).apply(lambda values: str(values[0])),
            ),
            child,
        )
        tables = {
            t.name: GlobalTable(
                f"table-{t.name}",
                GlobalTableArgs(
                    prefix=pre,
                    table=t,
                    home_region=anchor,
                    replica_region=other(anchor, regions),
                    key_arns=keys["dynamodb"].arns,
                ),
                child,
            )
            for t in s.dynamodb.tables
        }
        cache = CacheGlobalDatastore(
            "cache",
            CacheGlobalDatastoreArgs(
                prefix=pre,
                environment=s.environment,
                primary_region=s.primary_region,
                secondary_region=s.secondary_region,
                anchor_region=anchor,
                settings=s.cache,
                networks=networks,
                availability_zones={r: REGION_AZS[r] for r in regions},
                key_arns=keys["cache"].arns,
                secret_key_arns=keys["secrets"].arns,
            ),
            child,
        )
        monitoring = Monitoring(
            "monitoring",
            MonitoringArgs(
                prefix=pre,
                regions=regions,
                anchor_region=anchor,
                settings=s.monitoring,
                topic_key_arns=keys["alarms"].arns,
                aurora_clusters=aurora.cluster_identifiers,
                aurora_instances=aurora.instance_identifiers,
                table_names=[f"{pre}-{name}" for name in tables],
                cache_nodes=cache.member_cluster_ids,
            ),
            child,
        )
        payments = (
            PaymentsDatabase(
                "payments",
                PaymentsDatabaseArgs(
                    prefix=pre,
                    # The anchor never moves under a role swap, so neither does the database.
                    source_region=anchor,
                    replica_region=other(anchor, regions),
                    settings=s.payments,
                    networks=networks,
                    storage_key_arns=keys["aurora"].arns,
                    secret_key_arns=keys["secrets"].arns,
                    monitoring_role_arn=pulumi.Output.all(
                        monitoring_role.arn, monitoring_policy.id
                    ).apply(lambda values: str(values[0])),
                    alarm_topic_arns=monitoring.topic_arns,
                    cpu_threshold_percent=s.monitoring.cpu_threshold_percent,
                ),
                child,
            )
            if s.payments.enabled
            else None
        )
        fraud_graph = (
            NeptuneGlobalDatabase(
                "fraud-graph",
                NeptuneGlobalDatabaseArgs(
                    prefix=pre,
                    anchor_region=anchor,
                    other_region=other(anchor, regions),
                    settings=s.neptune,
                    networks=networks,
                    app_cidrs=s.network.app_cidrs,
                    storage_key_arns=keys["aurora"].arns,
                ),
                child,
            )
            if s.neptune.enabled
            else None
        )
        dns = FailoverDns(
            "dns",
            FailoverDnsArgs(
                prefix=pre,
                zone_name=s.dns_zone_name,
                primary_region=s.primary_region,
                secondary_region=s.secondary_region,
                networks=networks,
                app_vpc_ids=s.network.app_vpc_ids,
                writer_endpoint=aurora.writer_endpoint,
                reader_endpoints=aurora.reader_endpoints,
                cache_primary_endpoints=cache.primary_endpoints,
                cache_reader_endpoints=cache.reader_endpoints,
                health_alarms=monitoring.health_alarms,
                cache_health_alarms=monitoring.cache_health_alarms,
                cache_role_alarms=monitoring.cache_role_alarms,
                payments_writer_endpoint=payments.addresses[anchor] if payments else None,
                fraud_writer_endpoint=fraud_graph.endpoints[anchor] if fraud_graph else None,
            ),
            child,
        )
        drill_access = DrillAccess(
            "drill-access",
            DrillAccessArgs(
                prefix=pre,
                regions=regions,
                key_arns=keys["dynamodb"].arns,
                account_id=account_id,
                role_enabled=s.drills.role_enabled,
            ),
            child,
        )
        fault = (
            FaultInjection(
                "fault-injection",
                FaultInjectionArgs(
                    prefix=pre,
                    regions=regions,
                    account_id=account_id,
                    subnet_ids={r: networks[r].subnet_ids for r in regions},
                    alarm_names=monitoring.alarm_names,
                ),
                child,
            )
            if s.drills.fault_injection
            else None
        )
        probes = None
        if s.drills.probes:
            probes = DrillProbes(
                "drill-probes",
                DrillProbesArgs(
                    prefix=pre,
                    regions=regions,
                    vpc_ids={r: networks[r].vpc_id for r in regions},
                    subnet_ids={r: networks[r].subnet_ids for r in regions},
                    probe_security_group_ids={
                        r: sg
                        for r in regions
                        if (sg := networks[r].probe_security_group_id) is not None
                    },
                    db_security_group_ids={r: networks[r].db_security_group_id for r in regions},
                    cache_security_group_ids={
                        r: networks[r].cache_security_group_id for r in regions
                    },
                    aurora_secret_arn=aurora.secret_arn,
                    cache_secret_arn=cache.auth_secret_arn,
                    secret_key_arns=keys["secrets"].arns,
                    log_key_arns={r: networks[r].logs_key_arn for r in regions},
                    log_group_prefix=log_group_prefix(pre),
                    account_id=account_id,
                ),
                child,
            )

        CrossRegionBackup(
            "backup",
            CrossRegionBackupArgs(
                prefix=pre,
                regions=regions,
                settings=s.backup,
                key_arns=keys["backup"].arns,
                # A global table is backed up once, from its home replica (anchor region), and
                # the plan copies it to the other region: both replicas hold the same items, so
                # backing up both and copying each would store every backup four times.
                resources={
                    region: [
                        aurora.cluster_arns[region],
                        *(
                            t.arns[region]
                            for t in [*tables.values(), drill_access.table]
                            if region == anchor
                        ),
                        # The payments source only: its read replica keeps no automated backups
                        # (RDS for PostgreSQL) and gets the source's replicated backups instead.
                        *([payments.arns[region]] if payments and region == anchor else []),
                    ]
                    for region in regions
                },
            ),
            child,
        )
        CostBudget(
            "budget",
            CostBudgetArgs(prefix=pre, stack_tag=s.base_tags["Stack"], settings=s.budget),
            child,
        )
        active_region = ActiveRegionSetting(
            "active-region",
            ActiveRegionSettingArgs(environment=s.environment, regions=regions),
            child,
        )
        analytics = (
            self._analytics(s, pre, networks, account_id, keys["secrets"].arns[anchor])
            if s.redshift.enabled
            else None
        )

        self.outputs = {
            "environment": s.environment,
            "primaryRegion": s.primary_region,
            "secondaryRegion": s.secondary_region,
            "globalClusterId": aurora.global_cluster_id,
            "writerEndpoint": aurora.writer_endpoint,
            "auroraClusters": {
                region: {
                    "clusterIdentifier": aurora.cluster_identifiers[region],
                    "arn": aurora.cluster_arns[region],
                    "resourceId": aurora.cluster_resource_ids[region],
                    "endpoint": aurora.endpoints[region],
                    "readerEndpoint": aurora.reader_endpoints[region],
                    "instances": aurora.instance_identifiers[region],
                }
                for region in regions
            },
            "auroraSecretArn": aurora.secret_arn,
            "tables": {
                name: {"name": t.table_name, "arn": t.arns[anchor], "streamArn": t.stream_arn}
                for name, t in tables.items()
            },
            "cacheGlobalReplicationGroupId": cache.global_replication_group_id,
            "cacheReplicationGroups": {
                region: {
                    "replicationGroupId": cache.replication_group_ids[region],
                    "primaryEndpoint": cache.primary_endpoints[region],
                    "readerEndpoint": cache.reader_endpoints[region],
                    "port": CACHE_PORT,
                }
                for region in regions
            },
            "cacheAuthSecretArn": cache.auth_secret_arn,
            # The hostnames a client that verifies TLS (sslmode=verify-full, Valkey/Redis TLS with
            # hostname checks) or signs IAM auth tokens must connect to: AWS's own endpoints, which
            # the certificates name and IAM tokens are generated for, never a private CNAME of
            # ours (docs/components.md, "Connecting with verification on").
            "clientEndpoints": {
                "writer": {"host": aurora.writer_endpoint, "port": POSTGRES_PORT},
                "readers": {
                    region: {"host": aurora.reader_endpoints[region], "port": POSTGRES_PORT}
                    for region in regions
                },
                "cache": {
                    region: {
                        "primary": cache.primary_endpoints[region],
                        "reader": cache.reader_endpoints[region],
                        "port": CACHE_PORT,
                    }
                    for region in regions
                },
            },
            "dynamodbActiveRegionParameter": active_region.parameter_name,
            "dnsZoneId": dns.zone_id,
            "dnsTtlSeconds": dns.ttl_seconds,
            "writerDnsName": dns.writer_name,
            "readerDnsName": dns.reader_name,
            "readerDnsNames": dns.reader_names,
            "cacheDnsName": dns.cache_name,
            "cacheReaderDnsName": dns.cache_reader_name,
            "healthCheckIds": dns.health_check_ids,
            "cacheHealthCheckIds": dns.cache_health_check_ids,
            "cacheWriterHealthCheckIds": dns.cache_writer_health_check_ids,
            "alarmTopicArns": monitoring.topic_arns,
            "alarmNames": {
                region: [*names, *(payments.alarm_names[region] if payments else [])]
                for region, names in monitoring.alarm_names.items()
            },
            "dashboardName": monitoring.dashboard_name,
            "drillObjectives": {
                "rtoSeconds": s.drills.rto_seconds,
                "rpoSeconds": s.drills.rpo_seconds,
                "maxReplicationLagSeconds": s.drills.max_replication_lag_seconds,
            },
            "drillLease": drill_access.lease,
            **({"drillRoleArn": drill_access.role_arn} if drill_access.role_arn else {}),
            **({"faultInjectionTemplates": fault.template_ids} if fault else {}),
            **({"drillProbes": probes.functions} if probes is not None else {}),
        }
        if payments is not None:
            self.outputs["payments"] = {
                "sourceRegion": anchor,
                "instances": {
                    region: {
                        "identifier": payments.identifiers[region],
                        "arn": payments.arns[region],
                        "address": payments.addresses[region],
                        "port": POSTGRES_PORT,
                    }
                    for region in regions
                },
                "secretArn": payments.secret_arn,
                "dnsName": dns.payments_name,
            }
        if fraud_graph is not None:
            self.outputs["fraudGraph"] = {
                "globalClusterId": fraud_graph.global_cluster_id,
                "clusters": {
                    region: {
                        "identifier": fraud_graph.cluster_identifiers[region],
                        "arn": fraud_graph.cluster_arns[region],
                        "endpoint": fraud_graph.endpoints[region],
                        "readerEndpoint": fraud_graph.reader_endpoints[region],
                        "port": NEPTUNE_PORT,
                    }
                    for region in regions
                },
                "dnsName": dns.fraud_name,
            }
        if analytics is not None:
            copy_region = other(anchor, regions)
            self.outputs["redshift"] = {
                "region": anchor,
                "copyRegion": copy_region,
                "clusterIdentifier": analytics.cluster_identifier,
                "arn": analytics.arn,
                "endpoint": analytics.endpoint,
                "port": REDSHIFT_PORT,
                "adminSecretArn": analytics.master_password_secret_arn,
                "snapshotCopyGrantName": analytics.snapshot_copy_grant_name,
                # What restore-from-cluster-snapshot in copyRegion takes (docs/drills.md).
                "restore": {
                    "subnetGroupName": analytics.restore_subnet_group_name,
                    "securityGroupId": analytics.restore_security_group_id,
                    "parameterGroupName": analytics.restore_parameter_group_name,
                },
            }
        self.register_outputs(self.outputs)

    def _analytics(
        self,
        s: Settings,
        pre: str,
        networks: dict[str, RegionalNetwork],
        account_id: pulumi.Output[str],
        secret_key_arn: pulumi.Output[str],
    ) -> RedshiftAnalytics:
        """The analytics warehouse in the anchor region (a role flip never moves it), its own
        multi-region key (created only with the warehouse) and its snapshot copy to the other
        region; the admin secret uses the stack's secrets key."""
        anchor = s.anchor_region
        copy_region = other(anchor, s.regions)
        child = pulumi.ResourceOptions(parent=self)
        key = MultiRegionKey(
            "keys-redshift",
            MultiRegionKeyArgs(
                prefix=pre,
                family="redshift",
                home_region=anchor,
                replica_region=copy_region,
                account_id=account_id,
            ),
            child,
        )
        return RedshiftAnalytics(
            "analytics",
            RedshiftAnalyticsArgs(
                prefix=pre,
                region=anchor,
                copy_region=copy_region,
                settings=s.redshift,
                subnet_ids={r: networks[r].subnet_ids for r in s.regions},
                vpc_ids={r: networks[r].vpc_id for r in s.regions},
                app_cidrs=s.network.app_cidrs,
                key_arns=key.arns,
                secret_key_arn=secret_key_arn,
            ),
            child,
        )
