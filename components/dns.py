"""The names applications use, in a private zone that the data tier's and the applications' VPCs
resolve. No name moves through the Route 53 control plane (ChangeResourceRecordSets, which the
AWS Fault Isolation Boundaries whitepaper places in us-east-1, a region two of our stacks depend
on): every record is named and set-identified by something that does not swap (a region, a node,
or nothing), its target never follows a role, and failover happens in Route 53's data plane
(health checks following CloudWatch alarms) or in Aurora's own global endpoint.

- ``writer.<zone>``: a simple CNAME to the Aurora global writer endpoint, which "always points to
  the writer DB instance in the current primary cluster" (pulumi-aws GlobalCluster.endpoint;
  AWS "Connecting to Amazon Aurora Global Database": no connection-string change after a managed
  switchover or failover). Writes move with the writer, with no deploy.
- ``reader-<region>.<zone>``: a simple CNAME to that region's reader endpoint.
- ``reader.<zone>``: latency routing over the regions' reader endpoints (set identifier = region),
  each record guarded by its region's Aurora health check.
- ``cache.<zone>``: ElastiCache has no global endpoint, so the name carries one WEIGHTED record
  per cache node (set identifier ``<region>-<nnn>``, weight 1), each pointing at its own region's
  primary endpoint and guarded by a CALCULATED check that is healthy only when its region is not
  the global datastore's secondary (no node reports GlobalDatastoreReplicationLag) AND its node is
  alive. Route 53 answers with a healthy record; all healthy records of a region carry the same
  target; after a failover the new primary's records turn healthy and the old primary's do not,
  with no record written. docs/components.md gives the detection delay and the cost.
- ``cache-reader.<zone>``: latency routing over the regions' cache reader endpoints, each guarded
  by its region's cache health check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.monitoring import WatchedAlarm
from components.network import RegionalNetwork

TTL_SECONDS = 30
"""TTL of every record (dnsTtlSeconds): bounds how long a resolver keeps an answer after a
health check turns."""
INSUFFICIENT_DATA_STATUS = "Unhealthy"
"""What a CLOUDWATCH_METRIC check reports when its alarm's data stream cannot decide (a region
that stopped reporting, or a check created before the alarm's first datapoint). Route 53's
default, LastKnownStatus, would keep a silent region healthy forever, and a new check with no
last status starts healthy ("How Amazon Route 53 determines whether a health check is
healthy"; HealthCheckConfig.InsufficientDataHealthStatus)."""
REFERENCE_NAME_MAX = 27
"""The provider appends a 37-character unique id to a health check's reference_name and refuses
names longer than 64 - 26 - 11 = 27 (terraform-provider-aws route53 health check schema)."""


@dataclass(frozen=True, kw_only=True)
class FailoverDnsArgs:
    """Inputs of :class:`FailoverDns`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-dev``."""
    zone_name: str
    """Private zone, e.g. ``data.securecart.internal``."""
    primary_region: str
    """Region of the cache primary that ``cache.<zone>`` points at."""
    secondary_region: str
    """The other region of the pair."""
    networks: Mapping[str, RegionalNetwork]
    """The data tier's VPC per region (associated with the private zone)."""
    app_vpc_ids: Mapping[str, Sequence[str]]
    """Application VPCs per region (any known region), associated with the private zone too."""
    writer_endpoint: pulumi.Input[str]
    """Aurora global writer endpoint."""
    reader_endpoints: Mapping[str, pulumi.Input[str]]
    """Aurora reader endpoint per region."""
    cache_primary_endpoints: Mapping[str, pulumi.Input[str]]
    """Cache primary endpoint per region (``cache.<zone>`` uses the primary region's)."""
    cache_reader_endpoints: Mapping[str, pulumi.Input[str]]
    """Cache reader endpoint per region."""
    health_alarms: Mapping[str, WatchedAlarm]
    """Aurora health alarm per region (its name is an output, so checks come after alarms)."""
    cache_health_alarms: Mapping[str, Sequence[WatchedAlarm]]
    """Cache health (node alive) alarms per region, one per node."""
    cache_role_alarms: Mapping[str, Sequence[WatchedAlarm]]
    """Cache role alarms per region, one per node: ALARM while the node reports global
    replication lag (its region is the secondary)."""
    payments_writer_endpoint: pulumi.Input[str] | None = None
    """Endpoint of the payments database's source instance (``payments.<zone>``), or None when
    the stack has no payments database."""
    fraud_writer_endpoint: pulumi.Input[str] | None = None
    """Cluster endpoint of the fraud graph's first primary, the anchor region's Neptune cluster
    (``fraud.<zone>``), or None when the stack has no fraud graph."""


class FailoverDns(pulumi.ComponentResource):
    """The private zone, its records and the Route 53 health checks behind the latency names.

    Every health check follows a CloudWatch alarm (the only kind a private zone's endpoints can
    use): Aurora's per region; the cache's per node, combined per region by a CALCULATED check
    that stays healthy while at least one node of the region reports, and per node by the
    CALCULATED checks behind ``cache.<zone>`` (Route 53 refuses a calculated check as the child of
    another, so each node's check lists its region's role checks itself).
    """

    zone_id: pulumi.Output[str]
    """Private hosted zone id."""
    writer_name: str
    """``writer.<zone>``: follows the global writer endpoint."""
    reader_name: str
    """``reader.<zone>``: readers of the nearest healthy region."""
    reader_names: dict[str, str]
    """``reader-<region>.<zone>`` per region."""
    cache_name: str
    """``cache.<zone>``: the primary replication group, followed by health checks alone."""
    cache_reader_name: str
    """``cache-reader.<zone>``: cache readers of the nearest healthy region."""
    ttl_seconds: int
    """TTL of every record."""
    health_check_ids: dict[str, pulumi.Output[str]]
    """Aurora health check per region."""
    cache_health_check_ids: dict[str, pulumi.Output[str]]
    """Cache health check (CALCULATED over its nodes) per region."""
    cache_writer_health_check_ids: dict[str, list[pulumi.Output[str]]]
    """Per region, per node: the CALCULATED check behind that node's ``cache.<zone>`` record."""

    def __init__(
        self, name: str, args: FailoverDnsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:dns:FailoverDns", name, None, opts)
        regions = (args.primary_region, args.secondary_region)
        child = pulumi.ResourceOptions(parent=self)
        # Associations inline in the zone, not as ZoneAssociation resources: the provider treats
        # inline `vpcs` as the exclusive set and mixing the two for one zone is a perpetual diff
        # (pulumi-aws Zone / ZoneAssociation notes); inline also keeps the association a private
        # zone always needs. Ordered by region, then VPC id, so a role swap changes nothing.
        zone = aws.route53.Zone(
            "dns-zone",
            name=args.zone_name,
            comment=f"{args.prefix} data tier names for applications",
            vpcs=self._associations(args, regions),
            opts=child,
        )
        self.zone_id = zone.zone_id
        self.ttl_seconds = TTL_SECONDS
        self.health_check_ids = {
            region: self._alarm_check(
                f"health-{region}",
                f"{args.prefix}-{region}",
                args.health_alarms[region],
                region,
                f"{args.prefix}-data-{region}",
            )
            for region in regions
        }
        node_checks = {region: self._node_checks(args, region) for region in regions}
        self.cache_health_check_ids = {
            region: self._cache_check(args, region, node_checks[region]) for region in regions
        }
        self.cache_writer_health_check_ids = {
            region: self._cache_writer_checks(args, region, node_checks[region])
            for region in regions
        }

        zone_name = args.zone_name
        self.writer_name = f"writer.{zone_name}"
        self.reader_name = f"reader.{zone_name}"
        self.reader_names = {region: f"reader-{region}.{zone_name}" for region in regions}
        self.cache_name = f"cache.{zone_name}"
        self.cache_reader_name = f"cache-reader.{zone_name}"
        # Earlier versions had PRIMARY/SECONDARY failover records `writer-<region>` and
        # `cache-<region>`; the aliases adopt the primary region's one (see docs/components.md
        # for the upgrade: Route 53 refuses a simple CNAME beside failover records of its name).
        self._simple(
            "writer",
            self.writer_name,
            args.writer_endpoint,
            aliases=[pulumi.Alias(name=f"writer-{args.primary_region}")],
        )
        self._cache_records(args, regions)
        # ``payments.<zone>``: the payments source's endpoint. A Multi-AZ failover keeps that
        # endpoint and moves it to the standby ("Multi-AZ DB instance deployments": the DNS
        # record of the endpoint is changed to the standby), so the name follows the writer in
        # the source region with no record written. A cross-region promotion makes the replica a
        # second, independent instance with its own endpoint: no data-plane signal picks one of
        # two writers, so re-pointing the name is a control-plane change (docs/components.md).
        self.payments_name: str | None = None
        if args.payments_writer_endpoint is not None:
            self.payments_name = f"payments.{zone_name}"
            self._simple("payments-writer", self.payments_name, args.payments_writer_endpoint)
        # ``fraud.<zone>``: the Neptune global database has no global writer endpoint (the
        # provider's neptune.GlobalCluster exports none), so, as for ``payments.<zone>``, a
        # simple CNAME to the first primary's cluster endpoint that the drills move with the
        # writer (drills/stores.py NeptuneGlobal.after_move; docs/components.md).
        self.fraud_name: str | None = None
        if args.fraud_writer_endpoint is not None:
            self.fraud_name = f"fraud.{zone_name}"
            self._simple("fraud-writer", self.fraud_name, args.fraud_writer_endpoint)
        for region in regions:
            self._simple(
                f"regional-reader-{region}",
                self.reader_names[region],
                args.reader_endpoints[region],
            )
            self._latency(
                f"reader-{region}",
                self.reader_name,
                region,
                args.reader_endpoints[region],
                self.health_check_ids[region],
            )
            self._latency(
                f"cache-reader-{region}",
                self.cache_reader_name,
                region,
                args.cache_reader_endpoints[region],
                self.cache_health_check_ids[region],
            )
        self.register_outputs(
            {
                "zone_id": self.zone_id,
                "writer_name": self.writer_name,
                "reader_name": self.reader_name,
                "reader_names": self.reader_names,
                "cache_name": self.cache_name,
                "cache_reader_name": self.cache_reader_name,
                **({"payments_name": self.payments_name} if self.payments_name else {}),
                **({"fraud_name": self.fraud_name} if self.fraud_name else {}),
                "ttl_seconds": self.ttl_seconds,
                "health_check_ids": self.health_check_ids,
                "cache_health_check_ids": self.cache_health_check_ids,
                "cache_writer_health_check_ids": self.cache_writer_health_check_ids,
            }
        )

    @staticmethod
    def _associations(
        args: FailoverDnsArgs, regions: tuple[str, str]
    ) -> list[aws.route53.ZoneVpcArgs]:
        vpcs: list[aws.route53.ZoneVpcArgs] = []
        for region in sorted({*regions, *args.app_vpc_ids}):
            if region in regions:
                vpcs.append(
                    aws.route53.ZoneVpcArgs(vpc_id=args.networks[region].vpc_id, vpc_region=region)
                )
            vpcs += [
                aws.route53.ZoneVpcArgs(vpc_id=vpc_id, vpc_region=region)
                for vpc_id in sorted(args.app_vpc_ids.get(region, ()))
            ]
        return vpcs

    def _alarm_check(
        self, name: str, reference: str, alarm: WatchedAlarm, region: str, tag: str
    ) -> pulumi.Output[str]:
        """A health check that follows one CloudWatch alarm of ``region``: unhealthy when the
        alarm's data stream cannot decide, and updated whenever the alarm's settings change."""
        check = aws.route53.HealthCheck(
            name,
            type="CLOUDWATCH_METRIC",
            cloudwatch_alarm_name=alarm.name,
            cloudwatch_alarm_region=region,
            insufficient_data_health_status=INSUFFICIENT_DATA_STATUS,
            triggers=dict(alarm.settings),
            reference_name=reference[:REFERENCE_NAME_MAX],
            tags={"Name": tag},
            opts=pulumi.ResourceOptions(parent=self),
        )
        return check.id

    def _node_checks(
        self, args: FailoverDnsArgs, region: str
    ) -> list[tuple[pulumi.Output[str], pulumi.Output[str]]]:
        """(alive, not-secondary) checks of each cache node of ``region``."""
        return [
            (
                self._alarm_check(
                    f"cache-health-{region}-{n:03d}",
                    f"{region}-cache-{n:03d}",
                    alive,
                    region,
                    f"{args.prefix}-cache-{region}-{n:03d}",
                ),
                self._alarm_check(
                    f"cache-role-{region}-{n:03d}",
                    f"{region}-crole-{n:03d}",
                    secondary,
                    region,
                    f"{args.prefix}-cache-role-{region}-{n:03d}",
                ),
            )
            for n, (alive, secondary) in enumerate(
                zip(
                    args.cache_health_alarms[region],
                    args.cache_role_alarms[region],
                    strict=True,
                ),
                start=1,
            )
        ]

    def _cache_check(
        self,
        args: FailoverDnsArgs,
        region: str,
        nodes: Sequence[tuple[pulumi.Output[str], pulumi.Output[str]]],
    ) -> pulumi.Output[str]:
        """The region's cache readers are usable while at least one node reports."""
        combined = aws.route53.HealthCheck(
            f"cache-health-{region}",
            type="CALCULATED",
            child_healthchecks=[alive for alive, _ in nodes],
            child_health_threshold=1,
            reference_name=f"{region}-cache"[:REFERENCE_NAME_MAX],
            tags={"Name": f"{args.prefix}-cache-{region}"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        return combined.id

    def _cache_writer_checks(
        self,
        args: FailoverDnsArgs,
        region: str,
        nodes: Sequence[tuple[pulumi.Output[str], pulumi.Output[str]]],
    ) -> list[pulumi.Output[str]]:
        """Per node: healthy iff every node of the region is not secondary and this node is
        alive (threshold = all children). Route 53 has no AND of ORs and no nested calculated
        checks ("Values that you specify when you create or update health checks": "You can't
        configure a calculated health check to monitor the health of other calculated health
        checks"), so the OR over live nodes is the weighted record set itself: one record per
        node, any healthy one answers."""
        secondaries = [secondary for _, secondary in nodes]
        return [
            aws.route53.HealthCheck(
                f"cache-writer-{region}-{n:03d}",
                type="CALCULATED",
                child_healthchecks=[*secondaries, alive],
                child_health_threshold=len(secondaries) + 1,
                reference_name=f"{region}-cwr-{n:03d}"[:REFERENCE_NAME_MAX],
                tags={"Name": f"{args.prefix}-cache-writer-{region}-{n:03d}"},
                opts=pulumi.ResourceOptions(parent=self),
            ).id
            for n, (alive, _) in enumerate(nodes, start=1)
        ]

    def _cache_records(self, args: FailoverDnsArgs, regions: tuple[str, str]) -> None:
        """``cache.<zone>``: a weighted record per node, each to its region's primary endpoint.

        Weighted, not latency: Route 53 documents weighted records that share a name in any
        number, with equal weights answering evenly among the healthy ones, and answering as if
        all were healthy when none is ("Weighted routing"; "How health checks work in simple
        Amazon Route 53 configurations"). One record adopts the earlier simple ``cache`` record
        (alias) and is deleted before it is replaced: Route 53 refuses a weighted CNAME beside a
        simple one of the same name, so the others wait for it.
        """
        # The adopting record is fixed by region name, not by role, so a swap moves no option.
        adopter = (sorted(regions)[0], 1)
        first: aws.route53.Record | None = None
        for region in sorted(regions):
            for n, check in enumerate(self.cache_writer_health_check_ids[region], start=1):
                adopts = (region, n) == adopter
                record = aws.route53.Record(
                    f"cache-{region}-{n:03d}",
                    zone_id=self.zone_id,
                    name=self.cache_name,
                    type="CNAME",
                    ttl=TTL_SECONDS,
                    records=[args.cache_primary_endpoints[region]],
                    set_identifier=f"{region}-{n:03d}",
                    weighted_routing_policies=[
                        aws.route53.RecordWeightedRoutingPolicyArgs(weight=1)
                    ],
                    health_check_id=check,
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        aliases=[pulumi.Alias(name="cache")] if adopts else [],
                        delete_before_replace=adopts,
                        depends_on=[first] if first is not None else [],
                    ),
                )
                if adopts:
                    first = record

    def _simple(
        self,
        name: str,
        dns_name: str,
        target: pulumi.Input[str],
        aliases: Sequence[pulumi.Alias] = (),
    ) -> None:
        aws.route53.Record(
            name,
            zone_id=self.zone_id,
            name=dns_name,
            type="CNAME",
            ttl=TTL_SECONDS,
            records=[target],
            opts=pulumi.ResourceOptions(parent=self, aliases=list(aliases)),
        )

    def _latency(
        self,
        name: str,
        dns_name: str,
        region: str,
        target: pulumi.Input[str],
        health_check_id: pulumi.Input[str],
    ) -> None:
        aws.route53.Record(
            name,
            zone_id=self.zone_id,
            name=dns_name,
            type="CNAME",
            ttl=TTL_SECONDS,
            records=[target],
            set_identifier=region,
            latency_routing_policies=[aws.route53.RecordLatencyRoutingPolicyArgs(region=region)],
            health_check_id=health_check_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
