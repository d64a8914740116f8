"""Reserved rates: 730 h x the table's hourly reserved rate is the line, and a rate the table
derived by a ratio (basis ``derived``) is marked estimated, a published one is not (issue 21).

The pinned table has no published per-class Aurora or ElastiCache reservation price (none was
reachable from this repository's machines: docs/cost.md, Prices), so its reserved rates are the
documented ratios and every one of them must be marked. The published case is exercised with a
table whose reserved entries carry a pricing-page basis; their figures are made up for the
arithmetic (round numbers), not AWS's.
"""

from __future__ import annotations

import dataclasses

import pytest

from policies.pricing.estimate import estimate
from policies.pricing.table import PriceTable, pinned_table
from policies.pricing.usage import parse_usage
from tests.cost.cost_support import EAST, WEST, Planned, cluster, instance, lines, run

AURORA = "aurora.instance/aurora-postgresql/db.r6g.large"
NODE = "cache.node/valkey/cache.r7g.large"


def _group(region: str) -> Planned:
    return Planned(
        "aws:elasticache/replicationGroup:ReplicationGroup",
        f"cache-{region}",
        {
            "region": region,
            "engine": "valkey",
            "nodeType": "cache.r7g.large",
            "numNodeGroups": 1,
            "replicasPerNodeGroup": 1,
        },
    )


def test_pinned_reserved_rates_are_the_ratios_and_say_so() -> None:
    table = pinned_table()
    for price in table.prices:
        if price.term != "on-demand" and price.id.startswith(("aurora.instance/", "cache.node/")):
            assert price.basis == "derived", price
            assert price.note.startswith("derived:"), price


def test_an_aurora_instance_reserved_month_is_730_hours_at_the_reserved_rate() -> None:
    (line,) = lines(run([instance(EAST, 1)]), "aurora-us-east-1-1")
    # 1y No Upfront $0.208/h, 3y Partial Upfront $0.143/h effective (prices.json, us-east-1)
    assert line.monthly_usd == pytest.approx(730 * 0.26) == pytest.approx(189.80)
    assert line.reserved == pytest.approx({"reserved-1y": 151.84, "reserved-3y": 104.39})
    assert line.reserved_options == {"reserved-1y": "No Upfront", "reserved-3y": "Partial Upfront"}
    assert line.reserved_estimated == ("reserved-1y", "reserved-3y")


def test_cache_nodes_reserved_month_is_730_hours_per_node_at_the_reserved_rate() -> None:
    est = run([_group(WEST)])
    (line,) = [line for line in lines(est, f"cache-{WEST}") if line.reserved]
    # two nodes (primary + replica) x 730 h: 1y $0.1199/h, 3y $0.0922/h No Upfront (us-west-2)
    assert line.reserved == pytest.approx({"reserved-1y": 175.054, "reserved-3y": 134.612})
    assert line.reserved_estimated == ("reserved-1y", "reserved-3y")
    assert est.reserved_estimated("reserved-1y") and est.reserved_estimated("reserved-3y")


def _published(table: PriceTable) -> PriceTable:
    """The pinned table with the us-east-1 db.r6g.large reservations as published figures."""
    made_up = {
        "reserved-1y": {"usd": 0.19, "upfront_usd": 0.0},
        # $0.055/h plus $2,628 upfront over 26,280 h = $0.155/h effective
        "reserved-3y": {"usd": 0.055, "upfront_usd": 2628.0},
    }
    prices = tuple(
        dataclasses.replace(
            p,
            basis="pricing-page",
            note="",
            source={"url": "https://aws.amazon.com/rds/aurora/pricing/"},
            **made_up[p.term],
        )
        if (p.id, p.region) == (AURORA, EAST) and p.term in made_up
        else p
        for p in table.prices
    )
    return PriceTable(prices, table.meta)


def test_published_reserved_rates_give_the_line_and_are_not_marked() -> None:
    est = estimate([instance(EAST, 1)], parse_usage({}), _published(pinned_table()))
    (line,) = lines(est, "aurora-us-east-1-1")
    # 730 x $0.19 = $138.70; 730 x ($0.055 + $2,628 / 26,280) = 730 x $0.155 = $113.15
    assert line.reserved == pytest.approx({"reserved-1y": 138.70, "reserved-3y": 113.15})
    assert line.reserved_estimated == ()
    assert not est.reserved_estimated("reserved-1y")
    # a published class beside a derived one: the total is still marked
    both = estimate(
        [instance(EAST, 1), instance(WEST, 1)], parse_usage({}), _published(pinned_table())
    )
    assert both.reserved_estimated("reserved-1y")


def test_an_io_optimized_instance_is_covered_by_1_3_standard_reservations() -> None:
    """Aurora User Guide, reserved DB instances: an I/O-Optimized instance uses 30% more
    normalized units, so 1.3 reservations of its Standard class cover it."""
    iopt = dataclasses.replace(
        cluster(EAST, primary=True),
        props={**cluster(EAST, primary=True).props, "storageType": "aurora-iopt1"},
    )
    member = instance(EAST, 1)
    member = dataclasses.replace(member, props={**member.props, "clusterIdentifier": f"sc-{EAST}"})
    (line,) = lines(run([iopt, member]), "aurora-us-east-1-1")
    # on demand 730 h x $0.338 (the I/O-Optimized rate, $0.26 x 1.30)
    assert line.monthly_usd == pytest.approx(246.74)
    # 730 h x 1.3 x $0.208 = $197.392; 730 h x 1.3 x $0.143 = $135.707
    assert line.reserved == pytest.approx({"reserved-1y": 197.392, "reserved-3y": 135.707})
    assert line.reserved_options == {"reserved-1y": "No Upfront", "reserved-3y": "Partial Upfront"}
    assert line.reserved_estimated == ("reserved-1y", "reserved-3y")
