"""The names applications use: the inputs every Route 53 resource receives in each stack, and the
stack outputs the drills rebuild the cache record from."""

from __future__ import annotations

import pytest

from preflight.model import RecordedResource, Recording
from tests.support.stacks import STACKS, recorded

ZONE = "data.securecart.internal"
RECORD = "aws:route53/record:Record"
CHECK = "aws:route53/healthCheck:HealthCheck"
# The example application VPCs of each stack file, copied by hand.
APP_VPCS = {
    "dev": {"us-east-1": ["vpc-0a1b2c3d4e5f60718"], "us-west-2": ["vpc-0f1e2d3c4b5a69788"]},
    "staging": {"us-east-2": ["vpc-0b2c3d4e5f6071829"], "us-west-2": ["vpc-0e1d2c3b4a5968778"]},
    "prod": {
        "us-east-1": ["vpc-0c3d4e5f60718293a", "vpc-0d4e5f60718293a4b"],
        "us-west-2": ["vpc-0e5f60718293a4b5c", "vpc-0f60718293a4b5c6d"],
    },
}
NODES_PER_REGION = {"dev": 2, "staging": 2, "prod": 3}

pytestmark = pytest.mark.parametrize("stack", STACKS)


def _records(rec: Recording) -> dict[str, RecordedResource]:
    return {r.name: r for r in rec.by_type(RECORD)}


def _pair(rec: Recording) -> tuple[str, str]:
    return rec.outputs["primaryRegion"], rec.outputs["secondaryRegion"]


def test_writer_is_one_simple_cname_to_the_global_writer_endpoint(stack: str) -> None:
    rec = recorded(stack)
    (global_cluster,) = rec.by_type("aws:rds/globalCluster:GlobalCluster")
    writer = _records(rec)["writer"]
    assert writer.inputs == {
        "zoneId": rec.outputs["dnsZoneId"],
        "name": f"writer.{ZONE}",
        "type": "CNAME",
        "ttl": 30,
        "records": [rec.outputs["writerEndpoint"]],
    }
    assert writer.property_dependencies["records"] == (global_cluster.urn,)
    assert rec.outputs["writerEndpoint"].startswith(f"securecart-{stack}-aurora.global-")
    assert rec.outputs["writerEndpoint"].endswith(".global.rds.amazonaws.com")
    assert rec.outputs["writerDnsName"] == f"writer.{ZONE}"


def test_readers_per_region_and_one_latency_name_with_health_checks(stack: str) -> None:
    rec = recorded(stack)
    records = _records(rec)
    clusters = rec.outputs["auroraClusters"]
    assert rec.outputs["readerDnsName"] == f"reader.{ZONE}"
    assert rec.outputs["readerDnsNames"] == {r: f"reader-{r}.{ZONE}" for r in _pair(rec)}
    for region in _pair(rec):
        assert records[f"regional-reader-{region}"].inputs == {
            "zoneId": rec.outputs["dnsZoneId"],
            "name": f"reader-{region}.{ZONE}",
            "type": "CNAME",
            "ttl": 30,
            "records": [clusters[region]["readerEndpoint"]],
        }
        assert records[f"reader-{region}"].inputs == {
            "zoneId": rec.outputs["dnsZoneId"],
            "name": f"reader.{ZONE}",
            "type": "CNAME",
            "ttl": 30,
            "records": [clusters[region]["readerEndpoint"]],
            "setIdentifier": region,
            "latencyRoutingPolicies": [{"region": region}],
            "healthCheckId": rec.outputs["healthCheckIds"][region],
        }


def test_cache_record_is_reproducible_from_the_outputs(stack: str) -> None:
    """The drill UPSERTs cache.<zone> after a cache failover from outputs alone."""
    rec = recorded(stack)
    out = rec.outputs
    primary = out["primaryRegion"]
    upsert = {
        "zoneId": out["dnsZoneId"],
        "name": out["cacheDnsName"],
        "type": "CNAME",
        "ttl": out["dnsTtlSeconds"],
        "records": [out["cacheReplicationGroups"][primary]["primaryEndpoint"]],
    }
    assert _records(rec)["cache"].inputs == upsert
    assert out["cacheDnsName"] == f"cache.{ZONE}" and out["dnsTtlSeconds"] == 30


def test_cache_reader_latency_name_follows_the_caches_own_health(stack: str) -> None:
    rec = recorded(stack)
    records = _records(rec)
    out = rec.outputs
    assert out["cacheReaderDnsName"] == f"cache-reader.{ZONE}"
    checks = {c.name: c for c in rec.by_type(CHECK)}
    for region in _pair(rec):
        record = records[f"cache-reader-{region}"]
        assert record.inputs["name"] == f"cache-reader.{ZONE}"
        assert record.inputs["setIdentifier"] == region
        assert record.inputs["latencyRoutingPolicies"] == [{"region": region}]
        assert record.inputs["records"] == [out["cacheReplicationGroups"][region]["readerEndpoint"]]
        assert record.inputs["healthCheckId"] == out["cacheHealthCheckIds"][region]
        combined = checks[f"cache-health-{region}"]
        nodes = [
            checks[f"cache-health-{region}-{n:03d}"] for n in range(1, 1 + NODES_PER_REGION[stack])
        ]
        assert combined.inputs["type"] == "CALCULATED"
        assert combined.inputs["childHealthThreshold"] == 1
        assert len(combined.inputs["childHealthchecks"]) == NODES_PER_REGION[stack]
        assert set(combined.property_dependencies["childHealthchecks"]) == {n.urn for n in nodes}
        for n, node in enumerate(nodes, start=1):
            alarm = rec.named(f"alarm-cache-health-{n:03d}-{region}")
            assert alarm.inputs["name"] == f"securecart-{stack}-cache-health-{n:03d}-{region}"
            assert alarm.inputs["dimensions"] == {
                "CacheClusterId": f"sc-{stack}-cache-{region}-{n:03d}"
            }
            assert (alarm.inputs["metricName"], alarm.inputs["statistic"]) == (
                "CurrConnections",
                "SampleCount",
            )
            assert alarm.inputs["comparisonOperator"] == "LessThanThreshold"
            assert (
                alarm.inputs["threshold"] == 1 and alarm.inputs["treatMissingData"] == "breaching"
            )
            assert node.inputs["cloudwatchAlarmName"] == alarm.inputs["name"]
            assert node.inputs["cloudwatchAlarmRegion"] == region == alarm.region
            assert len(node.inputs["referenceName"]) <= 27


def test_health_checks_follow_alarms_that_exist_and_come_first(stack: str) -> None:
    rec = recorded(stack)
    alarms = {a.urn: a for a in rec.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    metric_checks = [c for c in rec.by_type(CHECK) if c.inputs["type"] == "CLOUDWATCH_METRIC"]
    assert len(metric_checks) == 2 * (1 + NODES_PER_REGION[stack])
    for check in metric_checks:
        (source,) = check.property_dependencies["cloudwatchAlarmName"]
        assert source in check.dependencies  # created after the alarm it names
        alarm = alarms[source]
        assert alarm.inputs["name"] == check.inputs["cloudwatchAlarmName"]
        assert alarm.region == check.inputs["cloudwatchAlarmRegion"]
        assert check.inputs["insufficientDataHealthStatus"] == "LastKnownStatus"
    for region in _pair(rec):
        aurora = rec.named(f"health-{region}")
        assert aurora.inputs["cloudwatchAlarmName"] == f"securecart-{stack}-aurora-health-{region}"


def test_no_failover_routing_and_every_name_is_set_by_region_or_alone(stack: str) -> None:
    rec = recorded(stack)
    names: dict[str, list[object]] = {}
    for record in rec.by_type(RECORD):
        assert "failoverRoutingPolicies" not in record.inputs, record.name
        assert record.inputs["ttl"] == rec.outputs["dnsTtlSeconds"] == 30
        names.setdefault(record.inputs["name"], []).append(record.inputs.get("setIdentifier"))
    pair = sorted(_pair(rec))
    assert {n: sorted(map(str, ids)) for n, ids in names.items()} == {
        f"writer.{ZONE}": ["None"],
        f"cache.{ZONE}": ["None"],
        f"reader.{ZONE}": pair,
        f"cache-reader.{ZONE}": pair,
        **{f"reader-{r}.{ZONE}": ["None"] for r in pair},
    }


def test_zone_is_associated_with_data_and_application_vpcs_by_region(stack: str) -> None:
    rec = recorded(stack)
    (zone,) = rec.by_type("aws:route53/zone:Zone")
    apps = APP_VPCS[stack]
    shown = [
        (v["vpcRegion"], v["vpcId"] if v["vpcId"] in apps.get(v["vpcRegion"], []) else "data")
        for v in zone.inputs["vpcs"]
    ]
    expected = []
    for region in sorted({*_pair(rec), *apps}):
        expected += [(region, "data")] + [(region, vpc) for vpc in sorted(apps.get(region, []))]
    assert shown == expected
    vpcs = {r.urn for r in rec.by_type("aws:ec2/vpc:Vpc")}
    assert vpcs == set(zone.property_dependencies["vpcs"])
