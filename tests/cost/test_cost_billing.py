"""Billing rules the estimate follows, each checked against a figure computed by hand.

Unit prices are the pinned table's (checked first in ``UNIT``); a month is 730 h, 2,628,000 s,
and 730 / 24 = 30.4167 days.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from policies.pricing.estimate import estimate
from policies.pricing.table import pinned_table
from policies.pricing.usage import parse_usage
from tests.cost.cost_support import EAST, WEST, Planned, cluster, instance, lines, run, usd
from tests.support.stacks import recorded

REPO = Path(__file__).resolve().parents[2]
DAYS = 730 / 24
UNIT = {
    ("dynamodb.write", EAST): 0.000000625,
    ("kms.key", EAST): 1.00,
    ("kms.key", WEST): 1.00,
    ("cloudwatch.logs-ingestion", EAST): 0.50,
    ("cloudwatch.logs-storage", EAST): 0.03,
    ("aurora.storage", EAST): 0.10,
    ("aurora.storage-iopt", EAST): 0.225,
    ("aurora.io", EAST): 0.0000002,
    ("aurora.instance/aurora-postgresql/db.r6g.large", EAST): 0.26,
    ("aurora.instance-iopt/aurora-postgresql/db.r6g.large", EAST): 0.338,
    ("backup.dynamodb-storage", EAST): 0.10,
    ("backup.dynamodb-storage", WEST): 0.10,
}


def test_the_table_has_the_unit_prices_used_here() -> None:
    table = pinned_table()
    assert {key: table.get(*key).usd for key in UNIT} == UNIT
    # I/O-Optimized instances cost 30% more than Standard ones (Aurora pricing page)
    assert UNIT[("aurora.instance-iopt/aurora-postgresql/db.r6g.large", EAST)] == pytest.approx(
        0.26 * 1.3
    )


def _order_history(*projections: str) -> Planned:
    return Planned(
        "aws:dynamodb/table:Table",
        "table-orders",
        {
            "region": EAST,
            "name": "sc-orders",
            "billingMode": "PAY_PER_REQUEST",
            "globalSecondaryIndexes": [
                {"name": f"gsi-{i}", "projectionType": p} for i, p in enumerate(projections)
            ],
        },
    )


def test_a_keys_only_index_costs_the_write_units_of_its_projected_item() -> None:
    figures = {"writesPerSecond": 10, "readsPerSecond": 0, "itemSizeKb": 4, "storageGb": 0}
    usage = {"dynamodb": {"tables": {"orders": figures}}}
    # 4 KB items: 4 WRU on the table and 4 on an ALL index; a KEYS_ONLY index projects only
    # the keys (under 1 KB), 1 WRU: 9 WRU x 10 writes/s x 2,628,000 s = 236.52 million x $0.625
    est = run([_order_history("ALL", "KEYS_ONLY")], usage)
    (writes,) = lines(est, "table-orders", "write request units")
    assert writes.quantity == 236_520_000
    assert writes.monthly_usd == pytest.approx(147.825)
    assert "1 of them KEYS_ONLY at 1 WRU" in writes.basis
    # both indexes projecting the whole item: 12 WRU -> 315.36 million x $0.625
    both = run([_order_history("ALL", "ALL")], usage)
    assert usd(both, "table-orders", "write request units") == pytest.approx(197.10)


def _key(name: str, region: str, **props: object) -> Planned:
    return Planned(
        "aws:kms/key:Key",
        name,
        {"region": region, "multiRegion": True, "description": f"{name} data", **props},
    )


def test_rotating_keys_cost_a_dollar_more_for_each_of_the_first_two_rotations() -> None:
    rotating = _key("aurora", EAST, enableKeyRotation=True, rotationPeriodInDays=90.0)
    replica = Planned(
        "aws:kms/replicaKey:ReplicaKey",
        "aurora-replica",
        {"region": WEST, "description": "aurora data", "primaryKeyArn": "arn:aws:kms:..."},
    )
    fixed = _key("cache", EAST)
    est = run([rotating, replica, fixed], {"kms": {"requestsPerMonth": 0}})
    # KMS pricing: $1 a key-month, and $1 more for the 1st and the 2nd rotated key material
    # (later rotations are free): $3 from day 180 on with a 90-day period
    (key,) = lines(est, "aurora", "key")
    assert (key.quantity, key.monthly_usd) == (3.0, pytest.approx(3.00))
    assert "from day 180 on" in key.basis
    # the replica shares its primary's rotation, and is billed as a key of its own
    assert usd(est, "aurora-replica", "replica key") == pytest.approx(3.00)
    assert usd(est, "cache", "key") == pytest.approx(1.00)


def _logs_stack(*retentions: float | None) -> list[Planned]:
    exporting = cluster(EAST, primary=True)
    exporting = Planned(
        exporting.type,
        exporting.name,
        {**exporting.props, "enabledCloudwatchLogsExports": ["postgresql"]},
    )
    groups = [
        Planned(
            "aws:cloudwatch/logGroup:LogGroup",
            f"logs-{i}",
            {"region": EAST} if days is None else {"region": EAST, "retentionInDays": days},
        )
        for i, days in enumerate(retentions)
    ]
    return [exporting, *groups]


QUIET_AURORA = {"storageGb": 0, "writeIoPerSecond": 0, "readIoPerSecond": 0}


@pytest.mark.parametrize(
    ("retentions", "days"),
    [
        ((30.0,), 30.0),  # 20 GB x 30 / 30.4167 = 19.73 GB kept
        ((30.0, 365.0), 365.0),  # the longest retention of the region's groups: 240 GB kept
        ((30.0, None), 365.0),  # a group that never expires: a year's worth, and growing
    ],
)
def test_logs_storage_is_priced_by_retention(
    retentions: tuple[float | None, ...], days: float
) -> None:
    usage = {"cloudwatch": {"logsGbPerMonth": 20}, "aurora": QUIET_AURORA}
    est = run(_logs_stack(*retentions), usage)
    assert usd(est, "aurora-us-east-1", "CloudWatch Logs ingestion") == pytest.approx(10.00)
    (stored,) = lines(est, "aurora-us-east-1", "CloudWatch Logs storage")
    assert stored.quantity == pytest.approx(20 * days / DAYS)
    assert stored.monthly_usd == pytest.approx(20 * days / DAYS * 0.03)
    assert ("never expires" in stored.basis) == (None in retentions)


def test_logs_storage_figures_by_hand() -> None:
    usage = {"cloudwatch": {"logsGbPerMonth": 20}, "aurora": QUIET_AURORA}
    thirty = run(_logs_stack(30.0), usage)
    assert usd(thirty, "aurora-us-east-1", "CloudWatch Logs storage") == pytest.approx(0.591781)
    year = run(_logs_stack(365.0), usage)
    assert usd(year, "aurora-us-east-1", "CloudWatch Logs storage") == pytest.approx(7.20)


def test_io_optimized_is_recommended_where_it_is_cheaper_with_the_figure() -> None:
    busy = {"aurora": {"storageGb": 100, "writeIoPerSecond": 100, "readIoPerSecond": 200}}
    est = run([cluster(EAST, primary=True, retention=1.0), instance(EAST, 1)], busy)
    # Standard: 730 h x $0.26 = $189.80; 100 GB x $0.10 = $10; 300 I/Os/s x 2,628,000 s =
    # 788.4 million x $0.20 = $157.68: $357.48. I/O-Optimized: 730 h x $0.338 = $246.74 and
    # 100 GB x $0.225 = $22.50: $269.24, $88.24 less.
    (advice,) = est.recommendations
    assert advice.title == "Aurora I/O-Optimized"
    assert advice.current_usd == pytest.approx(357.48)
    assert advice.alternative_usd == pytest.approx(269.24)
    assert advice.saving_usd == pytest.approx(88.24)
    assert "$269.24" in advice.detail and "$88.24" in advice.detail
    # little I/O (1 read/s: $0.53): Standard's $200.33 is cheaper, nothing is recommended
    quiet = {"aurora": {"storageGb": 100, "writeIoPerSecond": 0, "readIoPerSecond": 1}}
    calm = run([cluster(EAST, primary=True, retention=1.0), instance(EAST, 1)], quiet)
    assert calm.recommendations == []


def test_an_io_optimized_cluster_is_priced_not_left_out() -> None:
    iopt = cluster(EAST, primary=True, retention=1.0)
    iopt = Planned(iopt.type, iopt.name, {**iopt.props, "storageType": "aurora-iopt1"})
    busy = {"aurora": {"storageGb": 100, "writeIoPerSecond": 100, "readIoPerSecond": 200}}
    est = run([iopt, instance(EAST, 1)], busy)
    assert est.complete and est.recommendations == []
    assert usd(est, "aurora-us-east-1-1") == pytest.approx(246.74)  # 730 h x $0.338
    assert usd(est, "aurora-us-east-1", "storage") == pytest.approx(22.50)  # 100 GB x $0.225
    (io,) = lines(est, "aurora-us-east-1", "I/O requests")
    assert io.free and io.monthly_usd == 0


def test_prod_backs_up_its_global_tables_once_and_copies_them_once() -> None:
    rec = recorded("prod")
    usage = parse_usage(yaml.safe_load((REPO / "stacks" / "usage.prod.yaml").read_text()))
    selections = {
        r.region: r.inputs["resources"]
        for r in rec.resources
        if r.type == "aws:backup/selection:Selection"
    }
    tables = [a for arns in selections.values() for a in arns if ":dynamodb:" in a]
    # the three data tables and the drills' lease table, all from the home (anchor) region
    assert len(tables) == 4 and all(":us-east-1:" in a for a in tables)
    assert [a for a in selections[WEST] if ":dynamodb:" in a] == []
    resources = [Planned(r.type, r.name, r.inputs) for r in rec.resources if r.custom]
    est = estimate(resources, usage, pinned_table())
    dynamo = [line for line in est.lines if line.item.startswith("DynamoDB")]
    # carts 40 + sessions 20 + order-history 300 = 360 GB: 35 daily points in us-east-1 and
    # 90 copies in us-west-2, each a full backup at $0.10/GB-month
    assert sorted((line.region, round(line.monthly_usd, 2)) for line in dynamo) == [
        (EAST, 1260.00),
        (WEST, 3240.00),
    ]
