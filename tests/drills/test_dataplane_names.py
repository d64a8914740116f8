"""Issue 16 item 6 in the emulator: the cache name fails over through Route 53's data plane
only (health-check-driven records, h16b's mechanism in /work/wt/NOTES.md), with Route 53's
control plane refusing every change during an unplanned failover.

The records are what the stack declares: ``cache.<zone>`` as weighted CNAMEs, one per region,
each pointing at that region's replication group (a value that never changes), each guarded by
a CALCULATED check over "this region is not the global secondary" (an alarm on the region's
``GlobalDatastoreReplicationLag``) and "this region's node is alive". Route 53 answers the
healthy record (Developer Guide, "How Amazon Route 53 chooses records when health checking is
configured"; weighted: "if all records are unhealthy, Route 53 responds as if all were
healthy"). The alarms' states are set as CloudWatch would leave them after the failover
(``SetAlarmState``: the new secondary reports lag, the new primary has stopped reporting it).
"""

from __future__ import annotations

import socket
import ssl

import pytest
from botocore.exceptions import ClientError
from drill_harness import PRIMARY, SECONDARY, DrillHarness
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from drills.probes import resp_set
from emulator.dataplane import RegionPair
from emulator.dataplane.dns import resolve

ADDRESS = {PRIMARY: "127.0.1.1", SECONDARY: "127.0.2.1"}


def _alarm(harness: DrillHarness, region: str, name: str, state: str) -> None:
    harness.client("cloudwatch", region).set_alarm_state(
        AlarmName=name, StateValue=state, StateReason="emulated datapoints"
    )


def _declare_cache_records(harness: DrillHarness) -> dict[str, dict[str, str]]:
    """The stack's health checks, alarms and weighted records (h16b's shape, one node per
    region); returns {region: {"secondary": alarm, "alive": alarm}}."""
    zone = harness.topology.dns_zone_name
    name = f"cache.{zone}"
    groups = harness.seeded.outputs["cacheReplicationGroups"]
    route53 = harness.client("route53", PRIMARY)
    alarms: dict[str, dict[str, str]] = {}
    changes = [
        {  # the simple record goes: a name is either simple or weighted
            "Action": "DELETE",
            "ResourceRecordSet": {
                "Name": name,
                "Type": "CNAME",
                "TTL": harness.topology.dns_ttl_seconds,
                "ResourceRecords": [{"Value": groups[PRIMARY]["primaryEndpoint"]}],
            },
        }
    ]
    for region in (PRIMARY, SECONDARY):
        cloudwatch = harness.client("cloudwatch", region)
        alarms[region] = {
            "secondary": f"sc-cache-secondary-001-{region}",
            "alive": f"sc-cache-alive-001-{region}",
        }
        for alarm in alarms[region].values():
            cloudwatch.put_metric_alarm(
                AlarmName=alarm,
                Namespace="AWS/ElastiCache",
                MetricName="GlobalDatastoreReplicationLag",
                Statistic="SampleCount",
                Period=60,
                EvaluationPeriods=3,
                DatapointsToAlarm=1,
                Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
            )
        child_ids = []
        for kind, alarm in alarms[region].items():
            check = route53.create_health_check(
                CallerReference=f"{harness.topology.global_cluster_id}-{kind}-{region}",
                HealthCheckConfig={
                    "Type": "CLOUDWATCH_METRIC",
                    "AlarmIdentifier": {"Region": region, "Name": alarm},
                    "InsufficientDataHealthStatus": "Unhealthy",
                },
            )
            child_ids.append(check["HealthCheck"]["Id"])
        writer = route53.create_health_check(
            CallerReference=f"{harness.topology.global_cluster_id}-writer-{region}",
            HealthCheckConfig={
                "Type": "CALCULATED",
                "HealthThreshold": 2,
                "ChildHealthChecks": child_ids,
            },
        )
        changes.append(
            {
                "Action": "CREATE",
                "ResourceRecordSet": {
                    "Name": name,
                    "Type": "CNAME",
                    "SetIdentifier": f"{region}-001",
                    "Weight": 1,
                    "TTL": 30,
                    "HealthCheckId": writer["HealthCheck"]["Id"],
                    "ResourceRecords": [{"Value": groups[region]["primaryEndpoint"]}],
                },
            }
        )
    route53.change_resource_record_sets(
        HostedZoneId=harness.seeded.zone_id, ChangeBatch={"Changes": changes}
    )
    return alarms


def test_cache_name_moves_with_the_route53_control_plane_refusing_every_change(
    real_harness: DrillHarness, region_pair: RegionPair
) -> None:
    harness = real_harness
    alarms = _declare_cache_records(harness)
    name = harness.seeded.outputs["cacheDnsName"]
    dns = region_pair.dns.address
    # steady state: the primary region is not a secondary and its node is alive; the
    # secondary region reports replication lag (ALARM on its "secondary" alarm)
    for region in (PRIMARY, SECONDARY):
        _alarm(harness, region, alarms[region]["alive"], "OK")
    _alarm(harness, PRIMARY, alarms[PRIMARY]["secondary"], "OK")
    _alarm(harness, SECONDARY, alarms[SECONDARY]["secondary"], "ALARM")
    assert resolve(name, dns).address == ADDRESS[PRIMARY]

    # the primary region is lost, and with it (us-east-1) Route 53's control plane
    faults = harness.emulator.faults
    faults.region_down(PRIMARY, hang=False)
    faults.control_plane_down("route53")
    cache = harness.client("elasticache", SECONDARY)
    cache.failover_global_replication_group(
        GlobalReplicationGroupId=harness.seeded.cache_global_id,
        PrimaryRegion=SECONDARY,
        PrimaryReplicationGroupId=next(
            g.replication_group_id for g in harness.topology.cache_groups if g.region == SECONDARY
        ),
    )
    harness.settle()
    assert region_pair.cache.primary == 1  # the Redis server in the second region is primary

    # no one can change a record now
    with pytest.raises(ClientError, match="ServiceUnavailable"):
        harness.client("route53", PRIMARY).change_resource_record_sets(
            HostedZoneId=harness.seeded.zone_id,
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": name,
                            "Type": "CNAME",
                            "TTL": 30,
                            "ResourceRecords": [{"Value": "anything.example.com"}],
                        },
                    }
                ]
            },
        )
    # CloudWatch after the failover: in the lost region no datapoint arrives any more, so its
    # own CloudWatch leaves the alarms without data (set on its backend: its API is down with
    # the region); the new primary stopped reporting replication lag (its alarm returns to OK)
    lost_region = cloudwatch_backends[DEFAULT_ACCOUNT_ID][PRIMARY]
    for alarm in alarms[PRIMARY].values():
        lost_region.set_alarm_state(alarm, "no datapoints", None, "INSUFFICIENT_DATA")
    _alarm(harness, SECONDARY, alarms[SECONDARY]["secondary"], "OK")

    answer = resolve(name, dns)
    assert answer.address == ADDRESS[SECONDARY]
    assert (
        answer.chain[1]
        == harness.seeded.outputs["cacheReplicationGroups"][SECONDARY]["primaryEndpoint"]
    )
    # and a write through the name lands in the new primary: resolved through DNS, TLS verified
    # against the endpoint the name leads to (the certificate names ElastiCache's endpoint,
    # not the private name, as on AWS: verifying against cache.<zone> itself fails)
    raw = socket.create_connection((answer.address, region_pair.cache.port), timeout=5)
    context = ssl.create_default_context(cafile=str(region_pair.ca.cert))
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        context.wrap_socket(raw, server_hostname=name)
    token = f"auth-{harness.topology.global_cluster_id}"
    with region_pair.connect_cache(name, 6379, 5.0) as conn:
        resp_set(conn, "after-failover", "ok", token)
    with region_pair.cache.servers[1].client() as server:
        assert server.get("after-failover") == b"ok"
