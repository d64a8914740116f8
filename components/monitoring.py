"""Monitoring: an encrypted alarm topic per region, alarms for every data store, a dashboard."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import other
from components.settings import MonitoringSettings

FIVE_MINUTES = 300
ROLE_PERIODS = 3
"""Evaluation periods of the role alarm. CloudWatch evaluates over a wider range (5 datapoints for
3 periods, "How alarm state is evaluated when data is missing"), so a region counts as not
secondary 5 minutes after its last GlobalDatastoreReplicationLag sample (docs/components.md)."""


@dataclass(frozen=True)
class WatchedAlarm:
    """An alarm a Route 53 health check follows: its name (an output, so the check is created
    after it) and the settings Route 53 copies into the check when it is created. Route 53 does
    not see later alarm edits ("If you change settings for the CloudWatch alarm after you create
    a health check, you must update the health check", Route 53 "Values that you specify when you
    create or update health checks"), so checks pass these as ``triggers``: a change updates the
    check in place (pulumi-aws route53.HealthCheck ``triggers``)."""

    name: pulumi.Output[str]
    settings: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class MonitoringArgs:
    """Inputs of :class:`Monitoring`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-dev``."""
    regions: tuple[str, str]
    """(primary, secondary); alarms are symmetric so a role swap only updates them."""
    anchor_region: str
    """Region of the dashboard."""
    settings: MonitoringSettings
    """Thresholds and subscribers."""
    topic_key_arns: Mapping[str, pulumi.Input[str]]
    """CMK per region for the SNS topics (its policy lets CloudWatch publish)."""
    aurora_clusters: Mapping[str, str]
    """Aurora cluster identifier per region."""
    aurora_instances: Mapping[str, Sequence[str]]
    """Aurora instance identifiers per region."""
    table_names: Sequence[str]
    """Physical names of the global tables."""
    cache_nodes: Mapping[str, Sequence[str]]
    """Cache cluster (node) ids per region."""


class Monitoring(pulumi.ComponentResource):
    """CloudWatch alarms on CPU (>= 80% as the seed asks), Aurora global replication lag,
    freeable memory, DynamoDB replication latency and throttles, cache CPU and memory; each
    notifies the encrypted topic of its region. Health alarms (Aurora per region, cache per node)
    drive the Route 53 health checks of the latency-routed reader names.
    """

    topic_arns: dict[str, pulumi.Output[str]]
    """Alarm topic per region."""
    alarm_names: dict[str, list[str]]
    """Every alarm name per region (drills check none is in ALARM before acting)."""
    health_alarms: dict[str, WatchedAlarm]
    """Aurora health alarm per region."""
    cache_health_alarms: dict[str, list[WatchedAlarm]]
    """Cache health alarms per region, one per node: ElastiCache publishes its metrics per node
    only, and Route 53 follows single-metric alarms only (no metric math)."""
    cache_role_alarms: dict[str, list[WatchedAlarm]]
    """Per node: ALARM while the node reports GlobalDatastoreReplicationLag, i.e. while its region
    is the global datastore's secondary. A role signal, not a fault: in ALARM in the secondary
    region all the time, so it is left out of ``alarm_names`` (the drills' "nothing in ALARM"
    precondition); its OK/ALARM notifications tell the topic the cache roles moved."""
    dashboard_name: str
    """CloudWatch dashboard covering both regions."""

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:monitoring:Monitoring", name, None, opts)
        s = args.settings
        self.topic_arns = {}
        self.alarm_names = {}
        self.health_alarms = {}
        self.cache_health_alarms = {}
        self.cache_role_alarms = {}
        for region in args.regions:
            topic = aws.sns.Topic(
                f"alarms-{region}",
                region=region,
                name=f"{args.prefix}-data-alarms",
                kms_master_key_id=args.topic_key_arns[region],
                opts=pulumi.ResourceOptions(parent=self),
            )
            for n, email in enumerate(s.alarm_emails):
                aws.sns.TopicSubscription(
                    f"alarms-{region}-email-{n}",
                    region=region,
                    topic=topic.arn,
                    protocol="email",
                    endpoint=email,
                    opts=pulumi.ResourceOptions(parent=self),
                )
            self.topic_arns[region] = topic.arn
            self.alarm_names[region] = []
            self._region_alarms(args, region, topic.arn)
        self.dashboard_name = f"{args.prefix}-data-tier"
        aws.cloudwatch.Dashboard(
            "dashboard",
            region=args.anchor_region,
            dashboard_name=self.dashboard_name,
            dashboard_body=json.dumps(_dashboard(args), sort_keys=True),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs(
            {
                "topic_arns": self.topic_arns,
                "alarm_names": self.alarm_names,
                "health_alarm_names": {r: a.name for r, a in self.health_alarms.items()},
                "cache_health_alarm_names": {
                    r: [a.name for a in alarms] for r, alarms in self.cache_health_alarms.items()
                },
                "cache_role_alarm_names": {
                    r: [a.name for a in alarms] for r, alarms in self.cache_role_alarms.items()
                },
            }
        )

    def _alarm(
        self,
        args: MonitoringArgs,
        region: str,
        topic_arn: pulumi.Output[str],
        *,
        key: str,
        namespace: str,
        metric: str,
        dimensions: dict[str, str],
        statistic: str,
        comparison: str,
        threshold: float,
        description: str,
        missing: str = "missing",
        periods: int = 3,
        datapoints: int | None = None,
        listed: bool = True,
    ) -> WatchedAlarm:
        """The alarm's name as an output (whatever names the alarm is created after it) and the
        settings a health check following it must track. ``listed``: named in ``alarm_names``."""
        alarm_name = f"{args.prefix}-{key}-{region}"
        period = 60 if periods > 1 else FIVE_MINUTES
        to_alarm = periods if datapoints is None else datapoints
        alarm = aws.cloudwatch.MetricAlarm(
            f"alarm-{key}-{region}",
            region=region,
            name=alarm_name,
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            dimensions=dimensions,
            statistic=statistic,
            period=period,
            evaluation_periods=periods,
            datapoints_to_alarm=to_alarm,
            comparison_operator=comparison,
            threshold=threshold,
            treat_missing_data=missing,
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
            opts=pulumi.ResourceOptions(parent=self),
        )
        if listed:
            self.alarm_names[region].append(alarm_name)
        settings = {
            "namespace": namespace,
            "metricName": metric,
            "dimensions": json.dumps(dimensions, sort_keys=True),
            "statistic": statistic,
            "period": str(period),
            "evaluationPeriods": str(periods),
            "datapointsToAlarm": str(to_alarm),
            "comparisonOperator": comparison,
            "threshold": f"{threshold:g}",
            "treatMissingData": missing,
        }
        return WatchedAlarm(name=alarm.name, settings=settings)

    def _region_alarms(self, args: MonitoringArgs, region: str, topic: pulumi.Output[str]) -> None:
        s = args.settings
        cluster = args.aurora_clusters[region]
        source = other(region, args.regions)
        self._alarm(
            args,
            region,
            topic,
            key="aurora-cpu",
            namespace="AWS/RDS",
            metric="CPUUtilization",
            dimensions={"DBClusterIdentifier": cluster},
            statistic="Maximum",
            comparison="GreaterThanOrEqualToThreshold",
            threshold=s.cpu_threshold_percent,
            description=f"Aurora {cluster} CPU >= {s.cpu_threshold_percent:g}%",
        )
        # Emitted by whichever cluster is secondary, with the primary as SourceRegion; defined
        # for both regions so the alarm is already there after a switchover. No data while a
        # region is primary is normal.
        self._alarm(
            args,
            region,
            topic,
            key="aurora-replication-lag",
            namespace="AWS/RDS",
            metric="AuroraGlobalDBReplicationLag",
            dimensions={"DBClusterIdentifier": cluster, "SourceRegion": source},
            statistic="Maximum",
            comparison="GreaterThanThreshold",
            threshold=s.replication_lag_threshold_ms,
            missing="notBreaching",
            description=f"Aurora global replication lag into {cluster} > {s.replication_lag_threshold_ms:g} ms",
        )
        # Cluster health: no EngineUptime means no reachable instance. Takes the region's readers
        # out of reader.<zone> (Route 53 health check).
        self.health_alarms[region] = self._alarm(
            args,
            region,
            topic,
            key="aurora-health",
            namespace="AWS/RDS",
            metric="EngineUptime",
            dimensions={"DBClusterIdentifier": cluster},
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=1,
            missing="breaching",
            description=f"Aurora {cluster} unreachable (no engine uptime); reader DNS avoids it",
        )
        for instance in args.aurora_instances[region]:
            suffix = instance.rsplit("-", 1)[-1]
            self._alarm(
                args,
                region,
                topic,
                key=f"aurora-memory-{suffix}",
                namespace="AWS/RDS",
                metric="FreeableMemory",
                dimensions={"DBInstanceIdentifier": instance},
                statistic="Minimum",
                comparison="LessThanThreshold",
                threshold=s.freeable_memory_threshold_bytes,
                description=f"Aurora {instance} freeable memory low",
            )
        for table in args.table_names:
            short = table.split("-", 2)[-1]  # securecart-dev-order-history -> order-history
            self._alarm(
                args,
                region,
                topic,
                key=f"ddb-{short}-replication-latency",
                namespace="AWS/DynamoDB",
                metric="ReplicationLatency",
                dimensions={"TableName": table, "ReceivingRegion": source},
                statistic="Average",
                comparison="GreaterThanThreshold",
                threshold=s.dynamo_replication_latency_ms,
                missing="notBreaching",
                description=f"{table} replication {region} -> {source} slower than {s.dynamo_replication_latency_ms:g} ms",
            )
            for kind in ("Read", "Write"):
                self._alarm(
                    args,
                    region,
                    topic,
                    key=f"ddb-{short}-{kind.lower()}-throttles",
                    namespace="AWS/DynamoDB",
                    metric=f"{kind}ThrottleEvents",
                    dimensions={"TableName": table},
                    statistic="Sum",
                    comparison="GreaterThanThreshold",
                    threshold=0,
                    missing="notBreaching",
                    periods=1,
                    description=f"{table} {kind.lower()}s throttled in {region}",
                )
        self.cache_health_alarms[region] = []
        self.cache_role_alarms[region] = []
        for node in args.cache_nodes[region]:
            suffix = node.rsplit("-", 1)[-1]
            # Node health: a live engine reports CurrConnections (from INFO) every minute, zero
            # clients included, so a range without a sample means the node is gone (3 of 3 with
            # missing data breaching: ALARM once no real sample is left in CloudWatch's 5-point
            # evaluation range, i.e. 5 silent minutes).
            # ElastiCache publishes per node only ("Monitoring use with CloudWatch Metrics"), so
            # the region's cache health check combines these (CALCULATED, >= 1 healthy).
            self.cache_health_alarms[region].append(
                self._alarm(
                    args,
                    region,
                    topic,
                    key=f"cache-health-{suffix}",
                    namespace="AWS/ElastiCache",
                    metric="CurrConnections",
                    dimensions={"CacheClusterId": node},
                    statistic="SampleCount",
                    comparison="LessThanThreshold",
                    threshold=1,
                    missing="breaching",
                    description=f"Cache node {node} silent (no engine metrics); cache-reader DNS avoids its region when all are",
                )
            )
            # Role: GlobalDatastoreReplicationLag is "the lag between the secondary Region's
            # primary node and the primary Region's primary node" ("Metrics for Valkey and Redis
            # OSS"): only a secondary region publishes it. One sample = this region is the
            # secondary (ALARM at once); no sample left in the 5-point evaluation range (5 silent
            # minutes) = it is not
            # (missing data is notBreaching, so a never-secondary region is OK, not
            # INSUFFICIENT_DATA). Half of what cache.<zone> follows (components/dns.py).
            self.cache_role_alarms[region].append(
                self._alarm(
                    args,
                    region,
                    topic,
                    key=f"cache-role-{suffix}",
                    namespace="AWS/ElastiCache",
                    metric="GlobalDatastoreReplicationLag",
                    dimensions={"CacheClusterId": node},
                    statistic="SampleCount",
                    comparison="GreaterThanOrEqualToThreshold",
                    threshold=1,
                    missing="notBreaching",
                    periods=ROLE_PERIODS,
                    datapoints=1,
                    listed=False,
                    description=f"Cache node {node} reports global replication lag: its region is the global datastore's secondary; cache.<zone> avoids it",
                )
            )
            self._alarm(
                args,
                region,
                topic,
                key=f"cache-cpu-{suffix}",
                namespace="AWS/ElastiCache",
                metric="EngineCPUUtilization",
                dimensions={"CacheClusterId": node},
                statistic="Maximum",
                comparison="GreaterThanOrEqualToThreshold",
                threshold=s.cpu_threshold_percent,
                description=f"Cache node {node} engine CPU >= {s.cpu_threshold_percent:g}%",
            )
            self._alarm(
                args,
                region,
                topic,
                key=f"cache-memory-{suffix}",
                namespace="AWS/ElastiCache",
                metric="DatabaseMemoryUsagePercentage",
                dimensions={"CacheClusterId": node},
                statistic="Maximum",
                comparison="GreaterThanOrEqualToThreshold",
                threshold=s.cache_memory_threshold_percent,
                description=f"Cache node {node} memory >= {s.cache_memory_threshold_percent:g}%",
            )


def _dashboard(args: MonitoringArgs) -> dict[str, object]:
    """One dashboard, a row per region: Aurora CPU and lag, DynamoDB latency, cache CPU."""
    widgets: list[dict[str, object]] = []
    # Rows by region name, not by role: a primary/secondary swap leaves the body unchanged.
    for row, region in enumerate(sorted(args.regions)):
        cluster = args.aurora_clusters[region]
        source = other(region, args.regions)
        panels: list[tuple[str, list[list[str]]]] = [
            ("Aurora CPU", [["AWS/RDS", "CPUUtilization", "DBClusterIdentifier", cluster]]),
            (
                "Aurora global replication lag (ms)",
                [
                    [
                        "AWS/RDS",
                        "AuroraGlobalDBReplicationLag",
                        "DBClusterIdentifier",
                        cluster,
                        "SourceRegion",
                        source,
                    ]
                ],
            ),
            (
                "DynamoDB replication latency (ms)",
                [
                    [
                        "AWS/DynamoDB",
                        "ReplicationLatency",
                        "TableName",
                        t,
                        "ReceivingRegion",
                        source,
                    ]
                    for t in args.table_names
                ],
            ),
            (
                "Cache engine CPU",
                [
                    ["AWS/ElastiCache", "EngineCPUUtilization", "CacheClusterId", n]
                    for n in args.cache_nodes[region]
                ],
            ),
        ]
        for col, (title, metrics) in enumerate(panels):
            widgets.append(
                {
                    "type": "metric",
                    "x": col * 6,
                    "y": row * 6,
                    "width": 6,
                    "height": 6,
                    "properties": {
                        "title": f"{title} - {region}",
                        "region": region,
                        "metrics": metrics,
                        "stat": "Average",
                        "period": 60,
                    },
                }
            )
    return {"widgets": widgets}
