"""Issue 16 item 6, measured: how long after a region is lost ``cache.<zone>`` answers with the
other region's cache, through Route 53's data plane alone, with its control plane refusing every
change.

The stack's records are declared as components/dns.py declares them (a weighted CNAME per node to
its own region's primary endpoint, guarded by a CALCULATED check over the region's role checks and
the node's alive check) on alarms with exactly the recorded settings (tests/support/cache_name.py,
which tests/unit/test_dns.py holds to the recording). Nothing sets an alarm state: the emulator
publishes the nodes' metrics once a minute, CloudWatch evaluates the alarms and Route 53 the
checks from the data stream, on a manual clock.

Expected delay, by hand from the role alarm (period 60 s, 3 evaluation periods, 1 datapoint to
alarm, missing data notBreaching) and the CloudWatch User Guide ("How alarm state is evaluated
when data is missing": for 3 evaluation periods CloudWatch retrieves the 5 most recent datapoints,
uses real ones first and fills missing ones only when fewer than 3 are real, and "any real data
points in the evaluation range, no matter when they were reported, are included"):

- the loss comes 30 s into minute m0; the promoted node was still the secondary at the start of
  m0, so m0 holds its last GlobalDatastoreReplicationLag sample (SampleCount 1 >= 1: breaching);
- while m0 is among the 5 most recent complete minutes, at least one evaluated datapoint breaches
  and 1 breaching datapoint is enough: ALARM;
- m0 leaves the range when minute m0 + 5 is complete, i.e. at (m0 + 6) x 60 s; then all 5 are
  missing, filled notBreaching: OK, the role check turns healthy, and with it the node's record;
- so Route 53 answers the promoted region 6 x 60 - 30 = 330 s after the loss; a client whose
  resolver cached the old answer just before sees it up to one TTL (30 s) later: <= 360 s.

Until then no record is healthy (the lost region's checks have no data stream: insufficient
data = Unhealthy) and Route 53 answers as if all were healthy: the emulator answers the first
record by set identifier, here the lost region's, so the first answer of the other region is the
moment it is certain.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from drill_harness import PRIMARY, SECONDARY

from emulator import Emulator
from emulator.cloudwatch import AlarmRule, evaluate_rule
from emulator.dataplane.dns import CachingResolver, DnsServer, Record
from emulator.route53 import health, zone_records
from emulator.state import ManualClock
from tests.support.cache_name import ALIVE_ALARM, ROLE_ALARM, put_metric_alarm_args

NODES = 2  # dev and staging: 1 primary + 1 replica per region
TTL = 30  # components/dns.py TTL_SECONDS
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z: a minute boundary, far from the wall clock
STEP = 5.0
ADDRESS = {PRIMARY: "127.0.1.1", SECONDARY: "127.0.2.1"}


@dataclass
class CacheName:
    """What the test declared: the name, its zone, the endpoints and the alarm names."""

    name: str
    zone_id: str
    endpoints: dict[str, str]
    group_ids: dict[str, str]
    global_id: str
    role_alarms: dict[str, list[str]]
    writer_checks: dict[str, list[str]]


def _client(emulator: Emulator, service: str, region: str) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=emulator.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def manual_clock(emulator: Emulator) -> Iterator[ManualClock]:
    clock = ManualClock(START)
    emulator.state.clock = clock
    try:
        yield clock
    finally:
        import time

        emulator.state.clock = time.time


def _declare(emulator: Emulator) -> CacheName:
    """A global datastore over the pair and the stack's cache.<zone> records, checks and alarms."""
    suffix = uuid.uuid4().hex[:8]
    groups: dict[str, str] = {}
    endpoints: dict[str, str] = {}
    nodes: dict[str, list[str]] = {}
    global_id = ""
    for region in (PRIMARY, SECONDARY):
        cache = _client(emulator, "elasticache", region)
        args: dict[str, Any] = {
            "ReplicationGroupId": f"sc-{suffix}-cache-{region}",
            "ReplicationGroupDescription": "product cache",
            "ReplicasPerNodeGroup": NODES - 1,
        }
        if not global_id:
            args.update(Engine="valkey", CacheNodeType="cache.r7g.large")
        else:
            args["GlobalReplicationGroupId"] = global_id
        group = cache.create_replication_group(**args)["ReplicationGroup"]
        groups[region] = group["ReplicationGroupId"]
        endpoints[region] = group["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
        nodes[region] = group["MemberClusters"]
        assert len(nodes[region]) == NODES
        if not global_id:
            global_id = cache.create_global_replication_group(
                GlobalReplicationGroupIdSuffix=suffix, PrimaryReplicationGroupId=groups[region]
            )["GlobalReplicationGroup"]["GlobalReplicationGroupId"]
    route53 = _client(emulator, "route53", PRIMARY)
    zone = f"{suffix}.securecart.internal"
    zone_id = route53.create_hosted_zone(
        Name=zone,
        CallerReference=f"zone-{suffix}",
        HostedZoneConfig={"Comment": "cache name delay", "PrivateZone": True},
    )["HostedZone"]["Id"].split("/")[-1]
    name = f"cache.{zone}"
    role_alarms: dict[str, list[str]] = {}
    writer_checks: dict[str, list[str]] = {PRIMARY: [], SECONDARY: []}
    changes = []
    for region in (PRIMARY, SECONDARY):
        cloudwatch = _client(emulator, "cloudwatch", region)
        role_checks: list[str] = []
        alive_checks: list[str] = []
        role_alarms[region] = []
        for n, node in enumerate(nodes[region], start=1):
            for kind, settings, checks in (
                ("role", ROLE_ALARM, role_checks),
                ("health", ALIVE_ALARM, alive_checks),
            ):
                alarm = f"sc-{suffix}-cache-{kind}-{n:03d}-{region}"
                cloudwatch.put_metric_alarm(
                    AlarmName=alarm,
                    Dimensions=[{"Name": "CacheClusterId", "Value": node}],
                    **put_metric_alarm_args(settings),
                )
                if kind == "role":
                    role_alarms[region].append(alarm)
                checks.append(
                    route53.create_health_check(
                        CallerReference=f"{alarm}-check",
                        HealthCheckConfig={
                            "Type": "CLOUDWATCH_METRIC",
                            "AlarmIdentifier": {"Region": region, "Name": alarm},
                            "InsufficientDataHealthStatus": "Unhealthy",
                        },
                    )["HealthCheck"]["Id"]
                )
        for n, alive in enumerate(alive_checks, start=1):
            writer = route53.create_health_check(
                CallerReference=f"sc-{suffix}-cache-writer-{region}-{n:03d}",
                HealthCheckConfig={
                    "Type": "CALCULATED",
                    "ChildHealthChecks": [*role_checks, alive],
                    "HealthThreshold": len(role_checks) + 1,
                },
            )["HealthCheck"]["Id"]
            writer_checks[region].append(writer)
            changes.append(
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "CNAME",
                        "SetIdentifier": f"{region}-{n:03d}",
                        "Weight": 1,
                        "TTL": TTL,
                        "HealthCheckId": writer,
                        "ResourceRecords": [{"Value": endpoints[region]}],
                    },
                }
            )
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    return CacheName(name, zone_id, endpoints, groups, global_id, role_alarms, writer_checks)


def _answer(declared: CacheName) -> str:
    (record,) = zone_records(declared.zone_id, declared.name)
    return record.value


def _advance(emulator: Emulator, clock: ManualClock, seconds: float, step: float = STEP) -> None:
    """Move time on, ticking the emulator every ``step`` seconds (a whole minute where nothing
    is being measured: the tests stay cheap)."""
    for _ in range(round(seconds / step)):
        clock.advance(step)
        emulator.tick()


def test_cache_name_moves_330_s_after_the_loss_with_route53_changes_refused(
    emulator: Emulator, manual_clock: ManualClock
) -> None:
    declared = _declare(emulator)
    endpoint = {r: e.lower() for r, e in declared.endpoints.items()}
    region_of = {e: r for r, e in endpoint.items()}

    def lookup(name: str) -> list[Record]:
        if name in region_of:
            return [Record("A", ADDRESS[region_of[name]], TTL)]
        return zone_records(declared.zone_id, name)

    server = DnsServer(lookup).start()
    try:
        client = CachingResolver(server.address, clock=manual_clock)
        # Steady state: after 7 minutes of metrics the primary's records are healthy (no lag
        # samples: OK; CurrConnections every minute: OK), the secondary's are not.
        _advance(emulator, manual_clock, 7 * 60, step=60)
        assert _answer(declared) == endpoint[PRIMARY]
        assert client.resolve(declared.name).address == ADDRESS[PRIMARY]
        west = _client(emulator, "cloudwatch", SECONDARY)
        states = west.describe_alarms(AlarmNames=declared.role_alarms[SECONDARY])
        assert [a["StateValue"] for a in states["MetricAlarms"]] == ["ALARM", "OK"]

        # 30 s into a minute the primary region is lost, and Route 53's control plane with it
        _advance(emulator, manual_clock, 30)
        loss = manual_clock()
        assert loss % 60 == 30
        emulator.faults.region_down(PRIMARY, hang=False)
        emulator.faults.control_plane_down("route53")
        _client(emulator, "elasticache", SECONDARY).failover_global_replication_group(
            GlobalReplicationGroupId=declared.global_id,
            PrimaryRegion=SECONDARY,
            PrimaryReplicationGroupId=declared.group_ids[SECONDARY],
        )
        with pytest.raises(ClientError, match="ServiceUnavailable"):
            _client(emulator, "route53", SECONDARY).change_resource_record_sets(
                HostedZoneId=declared.zone_id,
                ChangeBatch={
                    "Changes": [
                        {
                            "Action": "UPSERT",
                            "ResourceRecordSet": {
                                "Name": declared.name,
                                "Type": "CNAME",
                                "TTL": TTL,
                                "ResourceRecords": [{"Value": declared.endpoints[SECONDARY]}],
                            },
                        }
                    ]
                },
            )

        # At once no record is healthy: the lost region sends no data stream (insufficient data
        # = Unhealthy), the promoted one still has lag samples in its evaluation range.
        _advance(emulator, manual_clock, STEP)
        for region in (PRIMARY, SECONDARY):
            assert not any(health(c) for c in declared.writer_checks[region]), region
        assert _answer(declared) == endpoint[PRIMARY]  # all unhealthy: answered as if healthy

        route53_moved: float | None = None
        client_moved: float | None = None
        while client_moved is None:
            _advance(emulator, manual_clock, STEP)
            elapsed = manual_clock() - loss
            assert elapsed <= 600, "cache.<zone> never moved"
            if route53_moved is None and _answer(declared) == endpoint[SECONDARY]:
                route53_moved = elapsed
                # CloudWatch's own evaluation agrees: the promoted node's role alarm is OK now
                states = west.describe_alarms(AlarmNames=declared.role_alarms[SECONDARY])
                assert [a["StateValue"] for a in states["MetricAlarms"]] == ["OK", "OK"]
            if client.resolve(declared.name).address == ADDRESS[SECONDARY]:
                client_moved = elapsed

        assert route53_moved == 6 * 60 - 30  # hand computation in the module docstring
        assert route53_moved <= client_moved <= route53_moved + TTL
        print(
            f"cache.<zone> moved {route53_moved:.0f} s after the loss (Route 53's answer); "
            f"a TTL-honouring client saw it after {client_moved:.0f} s"
        )

        # It stays there, and SetAlarmState cannot move it back: Route 53 reads the data stream
        # ("you can't force the status of a health check to change by using SetAlarmState").
        west.set_alarm_state(
            AlarmName=declared.role_alarms[SECONDARY][0], StateValue="ALARM", StateReason="test"
        )
        assert _answer(declared) == endpoint[SECONDARY]
        for _ in range(3):
            _advance(emulator, manual_clock, 60, step=60)
            assert _answer(declared) == endpoint[SECONDARY]

        # The lost region returns as the secondary; later a planned switchover back to it,
        # 30 s into a minute. The demoted region's records turn unhealthy once the minute of
        # its first lag sample is complete (30 s); the promoted region's turn healthy once the
        # minute of its last lag sample leaves the 5-minute range (330 s). In between no record
        # is healthy and Route 53 answers either region (the emulator: the first by set
        # identifier, which is why this part watches the checks rather than the answer).
        emulator.faults.region_up(PRIMARY)
        emulator.faults.control_plane_up("route53")
        _advance(emulator, manual_clock, 7 * 60, step=60)
        _advance(emulator, manual_clock, (30 - manual_clock() % 60) % 60)
        assert _answer(declared) == endpoint[SECONDARY]
        assert not any(health(c) for c in declared.writer_checks[PRIMARY])
        switch = manual_clock()
        assert switch % 60 == 30
        _client(emulator, "elasticache", PRIMARY).failover_global_replication_group(
            GlobalReplicationGroupId=declared.global_id,
            PrimaryRegion=PRIMARY,
            PrimaryReplicationGroupId=declared.group_ids[PRIMARY],
        )
        demoted: float | None = None
        promoted: float | None = None
        while promoted is None:
            _advance(emulator, manual_clock, STEP)
            elapsed = manual_clock() - switch
            assert elapsed <= 600, "the switchover never reached the records"
            if demoted is None and not any(health(c) for c in declared.writer_checks[SECONDARY]):
                demoted = elapsed
            if any(health(c) for c in declared.writer_checks[PRIMARY]):
                promoted = elapsed
        assert demoted == 30  # the rest of the minute holding the first lag sample
        assert promoted == 6 * 60 - 30
        assert _answer(declared) == endpoint[PRIMARY]
        print(
            f"switchover: demoted region unhealthy after {demoted:.0f} s, promoted region "
            f"healthy after {promoted:.0f} s"
        )
    finally:
        server.stop()
        emulator.faults.clear()


def _rule(datapoints_to_alarm: int, missing: str) -> AlarmRule:
    return AlarmRule(
        namespace="AWS/ElastiCache",
        metric="GlobalDatastoreReplicationLag",
        dimensions=frozenset({("CacheClusterId", "node-001")}),
        statistic="Maximum",
        period=300,
        evaluation_periods=3,
        datapoints_to_alarm=datapoints_to_alarm,
        comparison="GreaterThanThreshold",
        threshold=3.0,
        treat_missing_data=missing,
    )


# The CloudWatch User Guide's tables ("How alarm state is evaluated when data is missing"): five
# most recent datapoints, oldest first; 0 = not breaching, X = breaching, - = missing; expected
# state for missing, ignore ("retain" = the current state), breaching, notBreaching. Left out:
# the 3-of-3 table's "X - - - -" row (missing -> ALARM), which contradicts its "- - - - X" row
# unless the position of the lone breaching point matters in a way the guide does not state.
GUIDE_3_OF_3 = [
    ("0 - X - X", ("OK", "OK", "OK", "OK")),
    ("0 - - - -", ("OK", "OK", "OK", "OK")),
    ("- - - - -", ("INSUFFICIENT_DATA", "retain", "ALARM", "OK")),
    ("0 X X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("- - - - X", ("INSUFFICIENT_DATA", "retain", "ALARM", "OK")),
]
GUIDE_2_OF_3 = [
    ("0 - X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 0 X 0 X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 - X - -", ("OK", "OK", "ALARM", "OK")),
    ("- - - - 0", ("OK", "OK", "ALARM", "OK")),
    ("- - - - X", ("INSUFFICIENT_DATA", "retain", "ALARM", "OK")),
]


@pytest.mark.parametrize(
    ("to_alarm", "points", "expected"),
    [(3, p, e) for p, e in GUIDE_3_OF_3] + [(2, p, e) for p, e in GUIDE_2_OF_3],
)
def test_alarm_evaluation_follows_the_cloudwatch_guides_tables(
    to_alarm: int, points: str, expected: tuple[str, str, str, str]
) -> None:
    period = 300
    now = 100 * period
    stream = {
        now - (5 - i) * period: [5.0 if mark == "X" else 1.0]
        for i, mark in enumerate(points.split())
        if mark != "-"
    }
    got = tuple(
        evaluate_rule(_rule(to_alarm, missing), stream, now, "retain")
        for missing in ("missing", "ignore", "breaching", "notBreaching")
    )
    assert got == expected


def test_a_check_follows_an_alarm_edit_only_once_it_is_updated(
    emulator: Emulator, manual_clock: ManualClock
) -> None:
    """Route 53 copies the alarm's settings when the check is created: "If you change settings
    for the CloudWatch alarm after you create a health check, you must update the health check"
    (what the provider's `triggers` make a deploy do, issue 16 item 2)."""
    suffix = uuid.uuid4().hex[:8]
    region = SECONDARY
    group = _client(emulator, "elasticache", region).create_replication_group(
        ReplicationGroupId=f"sc-{suffix}-cache-{region}",
        ReplicationGroupDescription="edit",
        Engine="valkey",
        CacheNodeType="cache.r7g.large",
    )["ReplicationGroup"]
    node = group["MemberClusters"][0]
    cloudwatch = _client(emulator, "cloudwatch", region)
    alarm = f"sc-{suffix}-cache-health-001-{region}"

    def put(comparison: str) -> None:
        cloudwatch.put_metric_alarm(
            AlarmName=alarm,
            Dimensions=[{"Name": "CacheClusterId", "Value": node}],
            **{**put_metric_alarm_args(ALIVE_ALARM), "ComparisonOperator": comparison},
        )

    put("LessThanThreshold")
    route53 = _client(emulator, "route53", region)
    check = route53.create_health_check(
        CallerReference=f"{alarm}-check",
        HealthCheckConfig={
            "Type": "CLOUDWATCH_METRIC",
            "AlarmIdentifier": {"Region": region, "Name": alarm},
            "InsufficientDataHealthStatus": "Unhealthy",
        },
    )["HealthCheck"]["Id"]
    _advance(emulator, manual_clock, 4 * 60, step=60)
    assert health(check)  # the node reports every minute: SampleCount 1, not < 1

    put("GreaterThanOrEqualToThreshold")  # the same stream now breaches the edited alarm
    _advance(emulator, manual_clock, 60, step=60)
    (state,) = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
    assert state["StateValue"] == "ALARM"
    assert health(check)  # the check still evaluates the settings it copied

    route53.update_health_check(HealthCheckId=check, InsufficientDataHealthStatus="Unhealthy")
    assert not health(check)
