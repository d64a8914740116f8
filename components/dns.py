"""Failover DNS: private names that follow the primary region, guarded by health checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.network import RegionalNetwork

TTL_SECONDS = 30


@dataclass(frozen=True, kw_only=True)
class FailoverDnsArgs:
    """Inputs of :class:`FailoverDns`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-dev``."""
    zone_name: str
    """Private zone, e.g. ``data.securecart.internal``."""
    primary_region: str
    """Region the writer names point at first."""
    secondary_region: str
    """Region the writer names fail over to."""
    networks: Mapping[str, RegionalNetwork]
    """VPCs associated with the private zone (one per region)."""
    health_alarm_names: Mapping[str, str]
    """Per region: the CloudWatch alarm whose state is that region's health."""
    writer_endpoints: Mapping[str, pulumi.Input[str]]
    """Aurora cluster endpoint per region."""
    reader_endpoints: Mapping[str, pulumi.Input[str]]
    """Aurora reader endpoint per region."""
    cache_endpoints: Mapping[str, pulumi.Input[str]]
    """Cache primary endpoint per region."""


class FailoverDns(pulumi.ComponentResource):
    """``writer.<zone>`` and ``cache.<zone>`` use failover routing (PRIMARY in the configured
    primary region); ``reader.<zone>`` uses latency routing to each region's readers. Every
    record carries the health check of its region, which follows a CloudWatch alarm (the only
    kind of health check a private zone can use)."""

    zone_id: pulumi.Output[str]
    """Private hosted zone id."""
    writer_name: str
    """Name applications write through."""
    reader_name: str
    """Name applications read through (nearest healthy region)."""
    cache_name: str
    """Name of the writable cache."""
    health_check_ids: dict[str, pulumi.Output[str]]
    """Health check per region."""

    def __init__(
        self, name: str, args: FailoverDnsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:dns:FailoverDns", name, None, opts)
        regions = (args.primary_region, args.secondary_region)
        zone = aws.route53.Zone(
            "dns-zone",
            name=args.zone_name,
            comment=f"{args.prefix} data tier names (follow the primary region)",
            vpcs=[
                aws.route53.ZoneVpcArgs(vpc_id=args.networks[r].vpc_id, vpc_region=r)
                for r in sorted(regions)
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.health_check_ids = {}
        for region in regions:
            check = aws.route53.HealthCheck(
                f"health-{region}",
                type="CLOUDWATCH_METRIC",
                cloudwatch_alarm_name=args.health_alarm_names[region],
                cloudwatch_alarm_region=region,
                # Keep serving the last verdict if the alarm has no data yet.
                insufficient_data_health_status="LastKnownStatus",
                reference_name=f"{args.prefix}-{region}"[:64],
                tags={"Name": f"{args.prefix}-data-{region}"},
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.health_check_ids[region] = check.id
        self.writer_name = f"writer.{args.zone_name}"
        self.reader_name = f"reader.{args.zone_name}"
        self.cache_name = f"cache.{args.zone_name}"
        for region in regions:
            role = "PRIMARY" if region == args.primary_region else "SECONDARY"
            for label, dns_name, targets in (
                ("writer", self.writer_name, args.writer_endpoints),
                ("cache", self.cache_name, args.cache_endpoints),
            ):
                aws.route53.Record(
                    f"{label}-{region}",
                    zone_id=zone.zone_id,
                    name=dns_name,
                    type="CNAME",
                    ttl=TTL_SECONDS,
                    records=[targets[region]],
                    set_identifier=region,
                    failover_routing_policies=[
                        aws.route53.RecordFailoverRoutingPolicyArgs(type=role)
                    ],
                    health_check_id=self.health_check_ids[region],
                    opts=pulumi.ResourceOptions(parent=self),
                )
            aws.route53.Record(
                f"reader-{region}",
                zone_id=zone.zone_id,
                name=self.reader_name,
                type="CNAME",
                ttl=TTL_SECONDS,
                records=[args.reader_endpoints[region]],
                set_identifier=region,
                latency_routing_policies=[
                    aws.route53.RecordLatencyRoutingPolicyArgs(region=region)
                ],
                health_check_id=self.health_check_ids[region],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.zone_id = zone.zone_id
        self.register_outputs(
            {
                "zone_id": self.zone_id,
                "writer_name": self.writer_name,
                "reader_name": self.reader_name,
                "cache_name": self.cache_name,
                "health_check_ids": self.health_check_ids,
            }
        )
