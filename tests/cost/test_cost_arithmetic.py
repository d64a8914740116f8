"""The estimate's arithmetic on small stacks, computed by hand from the table's unit prices.

Every expected dollar figure below is written out from the unit prices in ``UNIT`` (the pinned
table's, checked first) and the usage given: quantity x unit price, with a 730-hour month
(8,760 h / 12, the month AWS's price pages use) and 2,628,000 seconds in it.
"""

from __future__ import annotations

import pytest

from policies.pricing.lines import Estimate
from policies.pricing.table import HOURS_PER_MONTH, SECONDS_PER_MONTH, pinned_table
from preflight.model import Recording
from tests.cost.cost_support import EAST, WEST, Planned, cluster, instance, lines, run, usd
from tests.support.stacks import STACKS, recorded

UNIT = {
    ("aurora.instance/aurora-postgresql/db.r6g.large", EAST): 0.26,
    ("aurora.instance/aurora-postgresql/db.r6g.large", WEST): 0.26,
    ("aurora.instance/aurora-postgresql/db.r7g.large", WEST): 0.276,
    ("aurora.storage", EAST): 0.10,
    ("aurora.io", EAST): 0.0000002,
    ("aurora.replicated-write-io", WEST): 0.0000002,
    ("aurora.backup-storage", EAST): 0.021,
    ("dynamodb.write", EAST): 0.000000625,
    ("dynamodb.read", EAST): 0.000000125,
    ("dynamodb.replicated-write", WEST): 0.000000625,
    ("dynamodb.storage", WEST): 0.25,
    ("dynamodb.pitr", WEST): 0.20,
    ("cache.node/valkey/cache.r7g.large", EAST): 0.1752,
    ("cache.backup-storage", EAST): 0.085,
    ("transfer.inter-region/us-west-2", EAST): 0.02,
    ("kms.key", WEST): 1.00,
    ("kms.request", EAST): 0.000003,
    ("secretsmanager.secret", WEST): 0.40,
    ("secretsmanager.api", EAST): 0.000005,
    ("cloudwatch.alarm", EAST): 0.10,
    ("cloudwatch.alarm-high-resolution", EAST): 0.30,
    ("cloudwatch.dashboard", EAST): 3.00,
    ("route53.zone", "global"): 0.50,
    ("route53.health-check", "global"): 0.50,
    ("route53.query", "global"): 0.0000004,
    ("backup.aurora-storage", WEST): 0.021,
    ("backup.dynamodb-storage", EAST): 0.10,
}


def test_the_table_has_the_unit_prices_these_hand_computations_use() -> None:
    table = pinned_table()
    assert {key: table.get(*key).usd for key in UNIT} == UNIT


def test_a_month_is_730_hours() -> None:
    assert HOURS_PER_MONTH == 8760 / 12 == 730
    assert SECONDS_PER_MONTH == 2_628_000


def test_aurora_global_database() -> None:
    est = run(
        [
            cluster(EAST, primary=True),
            instance(EAST, 1),
            instance(EAST, 2),
            cluster(WEST, primary=False),
            instance(WEST, 1),
        ],
        {
            "aurora": {"storageGb": 100, "writeIoPerSecond": 10, "readIoPerSecond": 20},
            "backup": {"dailyChangePercent": 2},
        },
    )
    assert est.primary == EAST and est.secondary == WEST
    assert usd(est, "aurora-us-east-1-1") == pytest.approx(189.80)  # 730 h x $0.26
    assert usd(est, "aurora-us-east-1", "storage") == pytest.approx(10.00)  # 100 GB x $0.10
    # primary I/O: (10 writes + 20 reads)/s x 2,628,000 s = 78.84 million x $0.20
    assert usd(est, "aurora-us-east-1", "I/O") == pytest.approx(15.768)
    # secondary: its reads only (20/s -> 52.56 million), and the replicated writes
    assert usd(est, "aurora-us-west-2", "I/O") == pytest.approx(10.512)
    assert usd(est, "aurora-us-west-2", "replicated write") == pytest.approx(5.256)
    # replication traffic, billed in the primary: 26.28 million x 4 KiB = 100.25 GiB x $0.02
    (transfer,) = lines(est, "aurora-us-west-2", "replication to")
    assert transfer.region == EAST
    assert transfer.monthly_usd == pytest.approx(105_120_000 / 1_048_576 * 0.02)
    # automated backups: 2% of 100 GB a day kept 7 days = 14 GB x $0.021, per cluster
    assert usd(est, "aurora-us-east-1", "automated backups") == pytest.approx(0.294)
    total = 3 * 189.80 + 20 + 15.768 + 10.512 + 5.256 + 105_120_000 / 1_048_576 * 0.02 + 0.588
    assert est.monthly_usd == pytest.approx(total)
    assert est.by("region") == pytest.approx(
        {EAST: 2 * 189.80 + 10 + 15.768 + 0.294 + transfer.monthly_usd, WEST: 215.862}
    )
    assert sum(est.by("store").values()) == pytest.approx(est.monthly_usd)


def test_adding_an_instance_adds_exactly_its_hours() -> None:
    base = [cluster(EAST, primary=True), instance(EAST, 1), cluster(WEST, primary=False)]
    before = run(base)
    after = run([*base, instance(WEST, 1, "db.r7g.large")])
    (added,) = lines(after, "aurora-us-west-2-1")
    assert (added.quantity, added.unit, added.region) == (730.0, "hour", WEST)
    assert after.monthly_usd - before.monthly_usd == pytest.approx(730 * 0.276, abs=1e-9)


def test_a_recorded_stack_with_one_more_instance_per_region_costs_its_hours_and_alarms() -> None:
    dev = recorded("dev")
    bigger = recorded("dev", "auroraInstancesPerRegion=3")
    alarm = "aws:cloudwatch/metricAlarm:MetricAlarm"
    assert len(bigger.by_type("aws:rds/clusterInstance:ClusterInstance")) == 6
    new_alarms = len(bigger.by_type(alarm)) - len(dev.by_type(alarm))
    assert new_alarms == 2  # each instance has its FreeableMemory alarm

    def estimated(recording: Recording) -> Estimate:
        return run([Planned(r.type, r.name, r.inputs) for r in recording.resources if r.custom])

    before, after = estimated(dev), estimated(bigger)
    added = [line for line in after.lines if line.name.endswith("-3") and line.reserved]
    assert [(line.region, line.quantity) for line in added] == [(EAST, 730.0), (WEST, 730.0)]
    # two instances x 730 h x $0.26, and their two standard alarms at $0.10
    assert after.monthly_usd - before.monthly_usd == pytest.approx(2 * 730 * 0.26 + 0.20, abs=1e-9)


def _table(name: str, gsis: int = 0) -> Planned:
    return Planned(
        "aws:dynamodb/table:Table",
        f"table-{name}",
        {
            "region": EAST,
            "name": f"sc-dev-{name}",
            "billingMode": "PAY_PER_REQUEST",
            "pointInTimeRecovery": {"enabled": True},
            "streamEnabled": True,
            "globalSecondaryIndexes": [{"name": f"gsi-{i}"} for i in range(gsis)],
            "replicas": [{"regionName": WEST, "pointInTimeRecovery": True}],
        },
    )


def test_dynamodb_global_table() -> None:
    figures = {"storageGb": 10, "writesPerSecond": 5, "readsPerSecond": 20, "itemSizeKb": 1}
    est = run([_table("carts")], {"dynamodb": {"tables": {"carts": figures}}})
    # 5 writes/s x 2,628,000 s = 13.14 million WRU x $0.625, billed in the primary region
    (writes,) = lines(est, "table-carts", "write request units")
    assert (writes.region, writes.monthly_usd) == (EAST, pytest.approx(8.2125))
    assert usd(est, "table-carts", "read request units") == pytest.approx(6.57)  # 52.56 M x $0.125
    # every write is replicated: the same 13.14 million as rWRU in the replica's region
    (replicated,) = lines(est, "table-carts", "replicated write")
    assert (replicated.region, replicated.monthly_usd) == (WEST, pytest.approx(8.2125))
    # both regions store the table (10 GB x $0.25) and keep PITR on it (10 GB x $0.20)
    assert usd(est, "table-carts", "storage") == pytest.approx(5.00)
    assert usd(est, "table-carts", "point-in-time") == pytest.approx(4.00)
    # replication traffic: 13.14 million KB = 12.53 GiB x $0.02
    assert usd(est, "table-carts", "replication to") == pytest.approx(13_140_000 / 1_048_576 * 0.02)
    (stream,) = lines(est, "table-carts", "stream")
    assert stream.free and stream.monthly_usd == 0
    assert est.monthly_usd == pytest.approx(8.2125 * 2 + 6.57 + 9 + 13_140_000 / 1_048_576 * 0.02)


def test_dynamodb_indexes_and_item_size_multiply_request_units() -> None:
    figures = {"writesPerSecond": 1, "readsPerSecond": 1, "itemSizeKb": 4}
    est = run([_table("orders", gsis=2)], {"dynamodb": {"tables": {"orders": figures}}})
    # a 4 KB item costs 4 WRU, written to the table and its 2 indexes: 12 WRU per write
    assert usd(est, "table-orders", "write request units") == pytest.approx(
        12 * 2_628_000 * 0.000000625
    )
    # a strongly consistent read of up to 4 KB is 1 RRU
    assert usd(est, "table-orders", "read request units") == pytest.approx(2_628_000 * 0.000000125)


def test_cache_global_datastore_counts_every_node_in_both_regions() -> None:
    est = run(
        [
            Planned(
                "aws:elasticache/replicationGroup:ReplicationGroup",
                "cache-us-east-1",
                {
                    "region": EAST,
                    "engine": "valkey",
                    "nodeType": "cache.r7g.large",
                    "numCacheClusters": 3.0,
                    "snapshotRetentionLimit": 7.0,
                },
            ),
            # the secondary inherits the node type from the global datastore
            Planned(
                "aws:elasticache/replicationGroup:ReplicationGroup",
                "cache-us-west-2",
                {"region": WEST, "numCacheClusters": 3.0, "globalReplicationGroupId": "g"},
            ),
            Planned(
                "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
                "cache-global",
                {"region": EAST, "engine": "valkey", "cacheNodeType": "cache.r7g.large"},
            ),
        ],
        {"cache": {"dataGb": 2, "writesPerSecond": 100, "itemSizeKb": 1}},
    )
    # 3 nodes (primary + 2 replicas) x 730 h x $0.1752 in each region
    assert usd(est, "cache-us-east-1", "3 x cache.r7g.large") == pytest.approx(383.688)
    assert usd(est, "cache-us-west-2", "3 x cache.r7g.large") == pytest.approx(383.688)
    # 7 days of snapshots, the first free: 6 x 2 GB x $0.085
    assert usd(est, "cache-us-east-1", "snapshots") == pytest.approx(1.02)
    # 100 writes/s of 1 KB replicated: 262.8 million KB = 250.63 GiB x $0.02
    assert usd(est, "cache-global") == pytest.approx(262_800_000 / 1_048_576 * 0.02)
    assert est.monthly_usd == pytest.approx(767.376 + 1.02 + 262_800_000 / 1_048_576 * 0.02)


def test_keys_secrets_alarms_dashboard_and_dns() -> None:
    arn = "arn:aws:kms:us-east-1:123456789012:key/mrk-1"
    est = run(
        [
            Planned("aws:kms/key:Key", "key-us-east-1", {"region": EAST, "multiRegion": True}),
            Planned(
                "aws:kms/replicaKey:ReplicaKey",
                "key-us-west-2",
                {"region": WEST, "primaryKeyArn": arn},
            ),
            Planned(
                "aws:secretsmanager/secret:Secret",
                "secret",
                {"region": EAST, "replicas": [{"region": WEST, "kmsKeyId": arn}]},
            ),
            Planned(
                "aws:cloudwatch/metricAlarm:MetricAlarm", "cpu", {"region": EAST, "period": 60.0}
            ),
            Planned(
                "aws:cloudwatch/metricAlarm:MetricAlarm", "mem", {"region": EAST, "period": 300.0}
            ),
            Planned(
                "aws:cloudwatch/metricAlarm:MetricAlarm", "lag", {"region": EAST, "period": 10.0}
            ),
            Planned("aws:cloudwatch/dashboard:Dashboard", "dashboard", {"region": EAST}),
            Planned("aws:route53/zone:Zone", "zone", {"name": "data.internal"}),
            Planned(
                "aws:route53/healthCheck:HealthCheck", "health-1", {"type": "CLOUDWATCH_METRIC"}
            ),
            Planned(
                "aws:route53/healthCheck:HealthCheck", "health-2", {"type": "CLOUDWATCH_METRIC"}
            ),
        ],
        {
            "kms": {"requestsPerMonth": 100_000},
            "secretsManager": {"apiCallsPerMonth": 50_000},
            "route53": {"queriesPerMonth": 5_000_000},
        },
    )
    # a key and a replica key at $1 each; 100,000 requests per region at $0.03 per 10,000
    assert usd(est, "key-us-east-1") == pytest.approx(1.30)
    assert usd(est, "key-us-west-2") == pytest.approx(1.30)
    # the secret and its replica at $0.40 each; 50,000 calls at $0.05 per 10,000
    assert usd(est, "secret") == pytest.approx(0.80 + 0.25)
    assert (usd(est, "cpu"), usd(est, "mem"), usd(est, "lag")) == pytest.approx((0.10, 0.10, 0.30))
    assert usd(est, "dashboard") == pytest.approx(3.00)
    # the zone ($0.50) and 5 million queries at $0.40 per million
    assert usd(est, "zone") == pytest.approx(0.50 + 2.00)
    assert usd(est, "health-1") + usd(est, "health-2") == pytest.approx(1.00)
    assert {line.region for line in est.lines if line.store == "dns"} == {"global"}
    assert est.monthly_usd == pytest.approx(10.65)


def test_backup_plan_with_a_cross_region_copy() -> None:
    east_vault = "arn:aws:backup:us-west-2:123456789012:backup-vault:sc-us-west-2"
    plan = Planned(
        "aws:backup/plan:Plan",
        "plan-us-east-1",
        {
            "region": EAST,
            "rules": [
                {
                    "schedule": "cron(0 5 * * ? *)",
                    "lifecycle": {"deleteAfter": 7.0},
                    "copyActions": [
                        {"destinationVaultArn": east_vault, "lifecycle": {"deleteAfter": 14.0}}
                    ],
                }
            ],
        },
    )
    selection = Planned(
        "aws:backup/selection:Selection",
        "selection-us-east-1",
        {
            "region": EAST,
            "resources": [
                "arn:aws:rds:us-east-1:123456789012:cluster:sc-us-east-1",
                "arn:aws:dynamodb:us-east-1:123456789012:table/sc-dev-carts",
            ],
        },
    )
    est = run(
        [plan, selection, cluster(EAST, primary=True), _table("carts")],
        {
            "aurora": {"storageGb": 100},
            "dynamodb": {"tables": {"carts": {"storageGb": 10}}},
            "backup": {"dailyChangePercent": 5},
        },
    )
    # own vault, 7 daily points: Aurora incremental 100 GB x (1 + 5% x 6) = 130 GB x $0.021;
    # DynamoDB backups are full copies: 7 x 10 GB x $0.10
    assert usd(est, "plan-us-east-1", "Aurora recovery points") == pytest.approx(2.73)
    assert usd(est, "plan-us-east-1", "DynamoDB recovery points") == pytest.approx(7.00)
    # copies kept 14 days in us-west-2: a cross-region Aurora snapshot copy is always a full
    # copy (Aurora User Guide, "Copying a DB cluster snapshot"), so 14 x 100 GB x $0.021; and
    # 14 x 10 GB of DynamoDB x $0.10
    (aurora_copies,) = lines(est, "plan-us-east-1", "Aurora copies")
    assert (aurora_copies.region, aurora_copies.monthly_usd) == (WEST, pytest.approx(29.40))
    assert usd(est, "plan-us-east-1", "DynamoDB copies") == pytest.approx(14.00)
    # 730/24 = 30.4167 copies a month, each the whole 100 GB volume and the 10 GB table:
    # 3,345.83 GB x $0.02
    assert usd(est, "plan-us-east-1", "replication to") == pytest.approx(66.916667)
    assert usd(est, "plan-us-east-1") == pytest.approx(2.73 + 7.00 + 29.40 + 14.00 + 66.916667)
    assert usd(est, "selection-us-east-1") == 0


@pytest.mark.parametrize("stack", STACKS)
def test_every_recorded_resource_is_priced_or_listed_as_free(stack: str) -> None:
    recording = recorded(stack)
    resources = [Planned(r.type, r.name, r.inputs) for r in recording.resources if r.custom]
    est = run(resources)
    listed = {line.urn for line in est.lines}
    billable = {r.urn for r in resources if r.type.startswith(("aws:", "random:"))}
    assert billable <= listed
    assert est.unpriced == []
    free = {line.type for line in est.lines if line.free and line.item == "no charge"}
    assert {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:kms/alias:Alias"} <= free
    assert all(line.monthly_usd == 0 for line in est.lines if line.free)
    assert sum(est.by("store").values()) == pytest.approx(est.monthly_usd)
    assert sum(est.by("region").values()) == pytest.approx(est.monthly_usd)


@pytest.mark.parametrize("stack", STACKS)
def test_reserved_capacity_is_below_on_demand_for_every_instance_and_node(stack: str) -> None:
    recording = recorded(stack)
    est = run([Planned(r.type, r.name, r.inputs) for r in recording.resources if r.custom])
    steady = [line for line in est.lines if line.reserved]
    kinds = {line.type for line in steady}
    assert kinds == {
        "aws:rds/clusterInstance:ClusterInstance",
        "aws:elasticache/replicationGroup:ReplicationGroup",
    }
    assert {line.region for line in steady} == {est.primary, est.secondary}
    for line in steady:
        assert 0 < line.reserved["reserved-3y"] < line.reserved["reserved-1y"] < line.monthly_usd
    one, three = est.reserved_monthly_usd("reserved-1y"), est.reserved_monthly_usd("reserved-3y")
    assert three < one < est.monthly_usd
    # only the steady compute changes: everything else is billed the same either way
    others = sum(line.monthly_usd for line in est.lines if not line.reserved)
    assert one == pytest.approx(others + sum(line.reserved["reserved-1y"] for line in steady))


def test_auto_scaled_readers_are_on_demand_hours_of_the_clusters_class() -> None:
    target = Planned(
        "aws:appautoscaling/target:Target",
        "readers-us-east-1",
        {"region": EAST, "scalableDimension": "rds:cluster:ReadReplicaCount", "maxCapacity": 4.0},
    )
    quiet = run([instance(EAST, 1), target])
    (line,) = lines(quiet, "readers-us-east-1")
    assert line.free and "up to 4 readers" in line.basis
    busy = run([instance(EAST, 1), target], {"aurora": {"extraReaders": 1.5}})
    (line,) = lines(busy, "readers-us-east-1")
    # 1.5 readers on average x 730 h x $0.26, and no reservation for capacity that comes and goes
    assert line.monthly_usd == pytest.approx(284.70)
    assert line.reserved is None
