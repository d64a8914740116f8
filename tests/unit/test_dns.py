"""The names applications use: the inputs every Route 53 resource receives in each stack, and how
the cache name follows the global datastore's roles through health checks alone."""

from __future__ import annotations

import json

import pytest

from preflight.model import RecordedResource, Recording
from tests.support.cache_name import ALIVE_ALARM, ROLE_ALARM
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


def test_cache_name_is_a_weighted_record_per_node_to_its_own_regions_primary(stack: str) -> None:
    """No record of cache.<zone> names a role: each names a node, points at its own region's
    primary endpoint and is guarded by that node's writer check (issue 16 item 6)."""
    rec = recorded(stack)
    out = rec.outputs
    records = _records(rec)
    k = NODES_PER_REGION[stack]
    assert out["cacheDnsName"] == f"cache.{ZONE}" and out["dnsTtlSeconds"] == 30
    for region in _pair(rec):
        assert len(out["cacheWriterHealthCheckIds"][region]) == k
        for n in range(1, k + 1):
            assert records[f"cache-{region}-{n:03d}"].inputs == {
                "zoneId": out["dnsZoneId"],
                "name": f"cache.{ZONE}",
                "type": "CNAME",
                "ttl": 30,
                "records": [out["cacheReplicationGroups"][region]["primaryEndpoint"]],
                "setIdentifier": f"{region}-{n:03d}",
                "weightedRoutingPolicies": [{"weight": 1}],
                "healthCheckId": out["cacheWriterHealthCheckIds"][region][n - 1],
            }
    assert "cache" not in records


def test_cache_writer_checks_need_no_secondary_node_and_their_own_live_node(stack: str) -> None:
    rec = recorded(stack)
    k = NODES_PER_REGION[stack]
    checks = {c.name: c for c in rec.by_type(CHECK)}
    for region in _pair(rec):
        secondaries = [checks[f"cache-role-{region}-{n:03d}"] for n in range(1, k + 1)]
        for n, secondary in enumerate(secondaries, start=1):
            alarm = rec.named(f"alarm-cache-role-{n:03d}-{region}")
            assert alarm.region == region
            assert {key: alarm.inputs[key] for key in [*ROLE_ALARM, "dimensions"]} == {
                **ROLE_ALARM,
                "dimensions": {"CacheClusterId": f"sc-{stack}-cache-{region}-{n:03d}"},
            }
            assert secondary.inputs["cloudwatchAlarmName"] == alarm.inputs["name"]
            alive = rec.named(f"alarm-cache-health-{n:03d}-{region}")
            assert {key: alive.inputs[key] for key in [*ALIVE_ALARM, "dimensions"]} == {
                **ALIVE_ALARM,
                "dimensions": {"CacheClusterId": f"sc-{stack}-cache-{region}-{n:03d}"},
            }
            # A role, not a fault: always in ALARM in the secondary region, so the drills'
            # "nothing in ALARM" precondition must not see it.
            assert alarm.inputs["name"] not in rec.outputs["alarmNames"][region]
        for n in range(1, k + 1):
            writer = checks[f"cache-writer-{region}-{n:03d}"]
            assert writer.inputs["type"] == "CALCULATED"
            assert writer.inputs["childHealthThreshold"] == k + 1  # all of them
            assert set(writer.property_dependencies["childHealthchecks"]) == {
                *(s.urn for s in secondaries),
                checks[f"cache-health-{region}-{n:03d}"].urn,
            }
            assert len(writer.inputs["childHealthchecks"]) == k + 1


def _answers(rec: Recording, alarms: dict[str, str]) -> set[str]:
    """What Route 53 answers for cache.<zone>, evaluated by hand from the recorded checks and the
    given alarm states (OK / ALARM / INSUFFICIENT_DATA per alarm name): a CLOUDWATCH_METRIC check
    is healthy on OK, unhealthy on ALARM and takes InsufficientDataHealthStatus otherwise; a
    CALCULATED check is healthy when at least childHealthThreshold children are ("How Amazon
    Route 53 determines whether a health check is healthy"); a weighted name answers among its
    healthy records, or among all when none is healthy ("Weighted routing")."""
    checks = {c.urn: c for c in rec.by_type(CHECK)}

    def healthy(urn: str) -> bool:
        check = checks[urn]
        if check.inputs["type"] == "CALCULATED":
            children = check.property_dependencies["childHealthchecks"]
            return sum(healthy(c) for c in children) >= check.inputs["childHealthThreshold"]
        state = alarms[check.inputs["cloudwatchAlarmName"]]
        if state == "INSUFFICIENT_DATA":
            return bool(check.inputs["insufficientDataHealthStatus"] == "Healthy")
        return state == "OK"

    records = [r for r in rec.by_type(RECORD) if r.inputs["name"] == f"cache.{ZONE}"]
    live = [r for r in records if healthy(r.property_dependencies["healthCheckId"][0])]
    return {str(r.inputs["records"][0]) for r in live or records}


def test_cache_name_follows_the_role_through_health_checks_alone(stack: str) -> None:
    """The scenarios of an unplanned failover, with the alarm states each one produces."""
    rec = recorded(stack)
    out = rec.outputs
    primary, secondary = _pair(rec)
    endpoint = {r: out["cacheReplicationGroups"][r]["primaryEndpoint"] for r in _pair(rec)}
    k = NODES_PER_REGION[stack]

    def states(
        region: str, *, secondary_nodes: tuple[int, ...] = (), dead: tuple[int, ...] = ()
    ) -> dict[str, str]:
        result = {}
        for n in range(1, k + 1):
            role = "ALARM" if n in secondary_nodes else "OK"
            result[f"securecart-{stack}-cache-role-{n:03d}-{region}"] = role
            alive = "ALARM" if n in dead else "OK"
            result[f"securecart-{stack}-cache-health-{n:03d}-{region}"] = alive
        return result

    def lost(region: str) -> dict[str, str]:
        """CloudWatch in the lost region sends no data stream at all."""
        return dict.fromkeys(states(region), "INSUFFICIENT_DATA")

    # Steady state: only the secondary's primary node reports global replication lag.
    steady = {**states(primary), **states(secondary, secondary_nodes=(1,))}
    assert _answers(rec, steady) == {endpoint[primary]}
    # A replica of the primary region dies: the name stays on the primary.
    assert _answers(rec, {**steady, **states(primary, dead=(k,))}) == {endpoint[primary]}
    # Every secondary node reports lag (if ElastiCache publishes it on all): same answer.
    every = tuple(range(1, k + 1))
    assert _answers(rec, {**states(primary), **states(secondary, secondary_nodes=every)}) == {
        endpoint[primary]
    }
    # The primary region is lost, the secondary not yet promoted: nothing is healthy, Route 53
    # answers with every record (no writable cache exists anywhere at that moment).
    before = {**lost(primary), **states(secondary, secondary_nodes=(1,))}
    assert _answers(rec, before) == {endpoint[primary], endpoint[secondary]}
    # Promoted: five minutes without lag samples (the evaluation range) and the name is the new
    # primary's, with no write to Route 53 (its control plane may be the region that is gone).
    after = {**lost(primary), **states(secondary)}
    assert _answers(rec, after) == {endpoint[secondary]}
    # The primary's cache is lost but its CloudWatch still reports: its nodes are silent (the
    # alive alarms breach), so the promoted region alone answers.
    impaired = {**states(primary, dead=every), **states(secondary)}
    assert _answers(rec, impaired) == {endpoint[secondary]}
    # The old primary comes back as the secondary: still only the new primary.
    back = {**states(primary, secondary_nodes=(1,)), **states(secondary)}
    assert _answers(rec, back) == {endpoint[secondary]}


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
    # Per region: Aurora's, and per node one alive and one role check.
    assert len(metric_checks) == 2 * (1 + 2 * NODES_PER_REGION[stack])
    for check in metric_checks:
        (source,) = check.property_dependencies["cloudwatchAlarmName"]
        assert source in check.dependencies  # created after the alarm it names
        alarm = alarms[source]
        assert alarm.inputs["name"] == check.inputs["cloudwatchAlarmName"]
        assert alarm.region == check.inputs["cloudwatchAlarmRegion"]
        # Unhealthy when the region stops reporting (issue 16 item 2).
        assert check.inputs["insufficientDataHealthStatus"] == "Unhealthy"
        # Route 53 copies the alarm's settings at creation; triggers carry every one of them, so
        # an alarm edit updates the check (pulumi-aws HealthCheck.triggers).
        inputs = alarm.inputs
        assert check.inputs["triggers"] == {
            "namespace": inputs["namespace"],
            "metricName": inputs["metricName"],
            "dimensions": json.dumps(inputs["dimensions"], sort_keys=True),
            "statistic": inputs["statistic"],
            "period": str(int(inputs["period"])),
            "evaluationPeriods": str(int(inputs["evaluationPeriods"])),
            "datapointsToAlarm": str(int(inputs["datapointsToAlarm"])),
            "comparisonOperator": inputs["comparisonOperator"],
            "threshold": f"{inputs['threshold']:g}",
            "treatMissingData": inputs["treatMissingData"],
        }
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
        f"cache.{ZONE}": sorted(
            f"{r}-{n:03d}" for r in pair for n in range(1, 1 + NODES_PER_REGION[stack])
        ),
        f"reader.{ZONE}": pair,
        f"cache-reader.{ZONE}": pair,
        **{f"reader-{r}.{ZONE}": ["None"] for r in pair},
        # The payments database's name (issue 20; staging and prod): one simple CNAME.
        **({f"payments.{ZONE}": ["None"]} if "payments" in rec.outputs else {}),
        # The fraud graph's writer name (Neptune has no global writer endpoint; prod): one
        # simple CNAME, moved by the Neptune drills.
        **({f"fraud.{ZONE}": ["None"]} if "fraudGraph" in rec.outputs else {}),
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


def test_client_endpoints_are_aws_own_names_for_verifying_clients(stack: str) -> None:
    """Issue 16 item 7: TLS hostname verification and IAM tokens need RDS's and ElastiCache's own
    endpoint names (the certificates name them), never a CNAME of the private zone."""
    rec = recorded(stack)
    out = rec.outputs
    endpoints = out["clientEndpoints"]
    assert endpoints["writer"] == {"host": out["writerEndpoint"], "port": 5432}
    assert endpoints["writer"]["host"].endswith(".global.rds.amazonaws.com")
    for region in _pair(rec):
        reader = endpoints["readers"][region]
        assert reader == {"host": out["auroraClusters"][region]["readerEndpoint"], "port": 5432}
        assert reader["host"].endswith(f".{region}.rds.amazonaws.com")
        assert ".cluster-ro-" in reader["host"]
        cache = endpoints["cache"][region]
        group = out["cacheReplicationGroups"][region]
        assert cache == {
            "primary": group["primaryEndpoint"],
            "reader": group["readerEndpoint"],
            "port": 6379,
        }
        assert cache["primary"].endswith(f".{region}.cache.amazonaws.com")
    names = [str(v) for v in _flatten(endpoints)]
    assert not [n for n in names if n.endswith(ZONE)]


def _flatten(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _flatten(v)]
    return [value]
