"""The fraud graph's cost (issue 20), by hand from the table's unit prices: a Neptune global
database's clusters are billed like Aurora Standard's (storage per region, I/O, replicated write
I/Os in the secondary); its instances have no price yet and make the estimate incomplete."""

from __future__ import annotations

import pytest

from policies.pricing.table import pinned_table
from tests.cost.cost_support import EAST, WEST, Planned, run

CLUSTER = "aws:neptune/cluster:Cluster"
INSTANCE = "aws:neptune/clusterInstance:ClusterInstance"
GLOBAL = "aws:neptune/globalCluster:GlobalCluster"

UNIT = {
    ("neptune.storage", EAST): 0.10,
    ("neptune.storage", WEST): 0.10,
    ("neptune.io", EAST): 0.0000002,
    ("neptune.io", WEST): 0.0000002,
    ("neptune.replicated-write-io", WEST): 0.0000002,
    ("transfer.inter-region/us-west-2", EAST): 0.02,
}
USAGE = {"neptune": {"storageGb": 100, "writeIoPerSecond": 10, "readIoPerSecond": 40}}
SECONDS = 2_628_000


def test_the_table_has_the_unit_prices_these_hand_computations_use() -> None:
    table = pinned_table()
    assert {key: table.get(*key).usd for key in UNIT} == UNIT


def _graph(*, instances: bool = False) -> list[Planned]:
    out = [Planned(GLOBAL, "g", {"region": EAST, "globalClusterIdentifier": "sc-fraud"})]
    for region in (EAST, WEST):
        out.append(
            Planned(
                CLUSTER, f"c-{region}", {"region": region, "globalClusterIdentifier": "sc-fraud"}
            )
        )
        if instances:
            out.append(
                Planned(
                    INSTANCE, f"i-{region}", {"region": region, "instanceClass": "db.r6g.large"}
                )
            )
    return out


def test_clusters_by_hand() -> None:
    est = run(_graph(), USAGE)
    by = {(line.name, line.item): line.monthly_usd for line in est.lines}
    assert by[(f"c-{EAST}", "storage")] == pytest.approx(100 * 0.10)
    assert by[(f"c-{WEST}", "storage")] == pytest.approx(100 * 0.10)
    # Primary: writes and reads; secondary: reads, plus the replicated writes.
    assert by[(f"c-{EAST}", "I/O requests")] == pytest.approx((10 + 40) * SECONDS * 0.0000002)
    assert by[(f"c-{WEST}", "I/O requests")] == pytest.approx(40 * SECONDS * 0.0000002)
    assert by[(f"c-{WEST}", f"replicated write I/Os from {EAST}")] == pytest.approx(
        10 * SECONDS * 0.0000002
    )
    # At most 4 KiB per replicated write I/O crosses the regions.
    gib = 10 * SECONDS * 4 / 1024 / 1024
    assert by[(f"c-{WEST}", f"replication to {WEST} (inter-region transfer)")] == pytest.approx(
        gib * 0.02
    )
    assert est.complete
    assert est.by("store")["neptune"] == pytest.approx(sum(by.values()))


def test_instances_have_no_price_yet_and_say_so() -> None:
    est = run(_graph(instances=True), USAGE)
    missing = [line for line in est.unpriced if line.type == INSTANCE]
    assert {line.name for line in missing} == {f"i-{EAST}", f"i-{WEST}"}
    assert all("neptune.instance/db.r6g.large" in line.basis for line in missing)
    assert not est.complete


def _r5(region: str, index: int) -> Planned:
    return Planned(
        INSTANCE, f"i-{region}-{index}", {"region": region, "instanceClass": "db.r5.large"}
    )


def test_db_r5_large_has_aws_published_rate_and_says_where_it_comes_from() -> None:
    table = pinned_table()
    east = table.get("neptune.instance/db.r5.large", EAST)
    # $0.348 per instance-hour: the db.r5.large rate the worked examples on AWS's Neptune pricing
    # page use (us-east-1); the other regions assume it and are marked derived.
    assert (east.usd, east.unit, east.basis) == (0.348, "hour", "pricing-page")
    assert east.source["url"] == "https://aws.amazon.com/neptune/pricing/"
    for region in (WEST, "us-east-2"):
        other = table.get("neptune.instance/db.r5.large", region)
        assert (other.usd, other.basis) == (0.348, "derived")
        assert other.note.startswith("derived:")


def test_published_class_instances_by_hand_make_the_estimate_complete() -> None:
    est = run([*_graph(), _r5(EAST, 1), _r5(EAST, 2), _r5(WEST, 1), _r5(WEST, 2)], USAGE)
    instances = [line for line in est.lines if line.type == INSTANCE]
    assert len(instances) == 4
    # 730 h x $0.348 = $254.04 an instance, four instances $1,016.16 (prod's shape).
    assert all(line.monthly_usd == pytest.approx(254.04) for line in instances)
    assert sum(line.monthly_usd for line in instances) == pytest.approx(1016.16)
    assert est.complete
    assert est.by("store")["neptune"] == pytest.approx(
        1016.16
        + 2 * 100 * 0.10
        + (10 + 40 + 40 + 10) * SECONDS * 0.0000002
        + 10 * SECONDS * 4 / 1024 / 1024 * 0.02
    )


def test_instances_without_a_reserved_rate_count_at_on_demand_in_the_reserved_totals() -> None:
    est = run([_r5(EAST, 1), _r5(WEST, 1)])
    # No Neptune reserved rate is in the table: both terms price the two instances on demand
    # (2 x $254.04) and every line says which terms it is missing.
    for term in ("reserved-1y", "reserved-3y"):
        assert est.reserved_monthly_usd(term) == pytest.approx(508.08)
        assert {line.name for line in est.reserved_on_demand(term)} == {
            f"i-{EAST}-1",
            f"i-{WEST}-1",
        }
        assert not est.reserved_estimated(term)
    line = next(line for line in est.lines if line.name == f"i-{EAST}-1")
    assert line.reserved is None
    assert line.reserved_missing == ("reserved-1y", "reserved-3y")
