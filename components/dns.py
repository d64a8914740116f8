"""The names applications use, in a private zone that the data tier's and the applications' VPCs
resolve. No record swaps a failover role when the regions swap: every record is named and
set-identified by something that does not swap (a region, or nothing), so a role flip changes
only record targets, each one an UPSERT Route 53 accepts on its own.

- ``writer.<zone>``: a simple CNAME to the Aurora global writer endpoint, which "always points to
  the writer DB instance in the current primary cluster" (pulumi-aws GlobalCluster.endpoint;
  AWS "Connecting to Amazon Aurora Global Database": no connection-string change after a managed
  switchover or failover). Writes move with the writer, with no deploy.
- ``reader-<region>.<zone>``: a simple CNAME to that region's reader endpoint.
- ``reader.<zone>``: latency routing over the regions' reader endpoints (set identifier = region),
  each record guarded by its region's Aurora health check.
- ``cache.<zone>``: a simple CNAME to the primary replication group's primary endpoint.
  ElastiCache has no global endpoint; after ``FailoverGlobalReplicationGroup`` the drill UPSERTs
  this record (zone id, name, type CNAME, TTL from the stack outputs) to the new primary, and the
  reconcile then finds it right.
- ``cache-reader.<zone>``: latency routing over the regions' cache reader endpoints, each guarded
  by its region's cache health check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.network import RegionalNetwork

TTL_SECONDS = 30
"""TTL of every record (the drill's cache UPSERT reuses it: dnsTtlSeconds)."""
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
    health_alarm_names: Mapping[str, pulumi.Input[str]]
    """Aurora health alarm per region (an output of the alarm, so checks come after alarms)."""
    cache_health_alarm_names: Mapping[str, Sequence[pulumi.Input[str]]]
    """Cache health alarms per region, one per node."""


class FailoverDns(pulumi.ComponentResource):
    """The private zone, its records and the Route 53 health checks behind the latency names.

    Every health check follows a CloudWatch alarm (the only kind a private zone's endpoints can
    use): Aurora's per region; the cache's per node, combined per region by a CALCULATED check
    that stays healthy while at least one node of the region reports.
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
    """``cache.<zone>``: the primary replication group (moved by the drill after a failover)."""
    cache_reader_name: str
    """``cache-reader.<zone>``: cache readers of the nearest healthy region."""
    ttl_seconds: int
    """TTL of every record."""
    health_check_ids: dict[str, pulumi.Output[str]]
    """Aurora health check per region."""
    cache_health_check_ids: dict[str, pulumi.Output[str]]
    """Cache health check (CALCULATED over its nodes) per region."""

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
                args.health_alarm_names[region],
                region,
                f"{args.prefix}-data-{region}",
            )
            for region in regions
        }
        self.cache_health_check_ids = {
            region: self._cache_check(args, region) for region in regions
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
        self._simple(
            "cache",
            self.cache_name,
            args.cache_primary_endpoints[args.primary_region],
            aliases=[pulumi.Alias(name=f"cache-{args.primary_region}")],
        )
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
                "ttl_seconds": self.ttl_seconds,
                "health_check_ids": self.health_check_ids,
                "cache_health_check_ids": self.cache_health_check_ids,
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
        self, name: str, reference: str, alarm_name: pulumi.Input[str], region: str, tag: str
    ) -> pulumi.Output[str]:
        """A health check that follows one CloudWatch alarm of ``region``."""
        check = aws.route53.HealthCheck(
            name,
            type="CLOUDWATCH_METRIC",
            cloudwatch_alarm_name=alarm_name,
            cloudwatch_alarm_region=region,
            # Keep serving the last verdict if the alarm has no data yet.
            insufficient_data_health_status="LastKnownStatus",
            reference_name=reference[:REFERENCE_NAME_MAX],
            tags={"Name": tag},
            opts=pulumi.ResourceOptions(parent=self),
        )
        return check.id

    def _cache_check(self, args: FailoverDnsArgs, region: str) -> pulumi.Output[str]:
        nodes = [
            self._alarm_check(
                f"cache-health-{region}-{n + 1:03d}",
                f"{region}-cache-{n + 1:03d}",
                alarm,
                region,
                f"{args.prefix}-cache-{region}-{n + 1:03d}",
            )
            for n, alarm in enumerate(args.cache_health_alarm_names[region])
        ]
        combined = aws.route53.HealthCheck(
            f"cache-health-{region}",
            type="CALCULATED",
            child_healthchecks=nodes,
            child_health_threshold=1,
            reference_name=f"{region}-cache"[:REFERENCE_NAME_MAX],
            tags={"Name": f"{args.prefix}-cache-{region}"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        return combined.id

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
