"""The cost estimate in a real preflight run (``python -m preflight``): report, JSON, and the gate
blocking a preview the way ``pulumi preview --policy-pack`` would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"


def _preflight(
    tmp_path: Path, stack: str, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    out = tmp_path / f"{stack}.json"
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", "--stack", stack, "--json", str(out), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    return proc, json.loads(out.read_text()) if out.exists() else {}


@pytest.fixture(scope="module")
def prod(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    return _preflight(tmp_path_factory.mktemp("prod"), "prod")


def test_json_carries_the_estimate_under_stable_names(prod: tuple[Any, dict[str, Any]]) -> None:
    proc, doc = prod
    assert proc.returncode == 0, proc.stderr
    cost = doc["cost"]
    lines = cost["lines"]
    assert cost["monthlyUsd"] == pytest.approx(sum(line["monthlyUsd"] for line in lines))
    assert set(cost["reservedMonthlyUsd"]) == {"1y", "3y"}
    assert cost["reservedMonthlyUsd"]["3y"] < cost["reservedMonthlyUsd"]["1y"] < cost["monthlyUsd"]
    assert cost["budgetUsd"] == 40000.0  # budgetMonthlyLimitUsd in stacks/Pulumi.prod.yaml
    assert cost["gate"] == {
        "policy": "cost-budget-estimate",
        "enforcementLevel": "mandatory",
        "headroomPercent": 10.0,
        "compareWith": "on-demand",
        "allowedUsd": 36000.0,
        "withinBudget": True,
    }
    urns = {r["urn"] for r in doc["resources"]}
    for line in lines:
        assert {"urn", "type", "region", "monthlyUsd", "basis"} <= set(line)
        assert line["urn"] in urns
    # six db.r7g.xlarge (three per region) for 730 h at $0.553, six cache.r7g.xlarge at $0.3496
    instances = [line for line in lines if line["type"] == INSTANCE]
    assert len(instances) == 6
    assert sum(line["monthlyUsd"] for line in instances) == pytest.approx(6 * 730 * 0.553)
    nodes = [line for line in lines if line["type"] == CACHE and line["reservedMonthlyUsd"]]
    assert sum(line["monthlyUsd"] for line in nodes) == pytest.approx(6 * 730 * 0.3496)
    assert {line["region"] for line in instances + nodes} == {"us-east-1", "us-west-2"}
    free = [line for line in lines if line["free"]]
    assert free and all(line["monthlyUsd"] == 0 for line in free)
    assert cost["usage"]["file"] == "stacks/usage.prod.yaml"
    assert cost["byStore"]["aurora"] > 0 and sum(cost["byStore"].values()) == pytest.approx(
        cost["monthlyUsd"]
    )


def test_the_report_shows_the_cost_table(prod: tuple[Any, dict[str, Any]]) -> None:
    proc, doc = prod
    text = proc.stdout
    total = doc["cost"]["monthlyUsd"]
    assert f"Monthly cost estimate: ${total:,.2f} on demand" in text
    for heading in (
        "Top 10 cost items",
        "Cost per store and region",
        "Reserved capacity for the steady compute",
    ):
        assert heading in text
    assert "Budget (budgetMonthlyLimitUsd): $40,000.00" in text
    assert "allows $36,000.00" in text and "is within" in text
    assert "Aurora instances (secondary: steady too)" in text
    assert "Partial Upfront" in text and "No Upfront" in text
    assert "Free (listed at $0 in --json)" in text and "Vpc" in text
    assert "Usage: stacks/usage.prod.yaml" in text


def test_reserved_figures_from_ratios_are_marked_estimated(
    prod: tuple[Any, dict[str, Any]],
) -> None:
    """No published per-class reservation price is pinned (docs/cost.md, Prices): every reserved
    figure is a ratio's, and the totals line, the reserved table and --json say so."""
    proc, doc = prod
    cost, text = doc["cost"], proc.stdout
    assert cost["reservedEstimated"] == ["1y", "3y"]
    reserved = cost["reservedMonthlyUsd"]
    assert f"reserved 1y ${reserved['1y']:,.2f} (estimated)" in text
    assert f"3y ${reserved['3y']:,.2f} (estimated)" in text
    assert "No Upfront (estimated)" in text and "Partial Upfront (estimated)" in text
    steady = [line for line in cost["lines"] if line["reservedMonthlyUsd"]]
    assert len(steady) == 8  # six db.r7g.xlarge instances, one node line per replication group
    assert all(line["reservedEstimated"] == ["1y", "3y"] for line in steady)
    assert all(line["reservedEstimated"] == [] for line in cost["lines"] if line not in steady)


def test_steady_compute_without_a_reserved_rate_is_named_not_hidden(
    prod: tuple[Any, dict[str, Any]],
) -> None:
    """Prod's payments instances, fraud-graph instances and Redshift nodes have no reserved rate
    in the table (none published was found): the reserved totals count them at on demand, and
    --json, the reserved table and a note say so."""
    proc, doc = prod
    cost, text = doc["cost"], proc.stdout
    both = ["1y", "3y"]
    assert cost["reservedOnDemand"] == [
        {"priceId": "neptune.instance/db.r5.large", "region": "us-east-1", "terms": both},
        {"priceId": "neptune.instance/db.r5.large", "region": "us-west-2", "terms": both},
        {"priceId": "rds.instance/postgres/db.r7g.large", "region": "us-east-1", "terms": both},
        {"priceId": "rds.instance/postgres/db.r7g.large", "region": "us-west-2", "terms": both},
        {"priceId": "redshift.node/ra3.xlplus", "region": "us-east-1", "terms": both},
    ]
    on_demand = [line for line in cost["lines"] if line["reservedOnDemand"]]
    # two Multi-AZ payments instances, four Neptune instances, one Redshift cluster's nodes
    assert len(on_demand) == 7
    assert all(line["reservedMonthlyUsd"] is None for line in on_demand)
    assert "Neptune instances (secondary: steady too)" in text
    assert "on demand: no reserved rate" in text
    assert "The reserved totals count neptune.instance/db.r5.large in us-east-1" in text


def test_the_derived_on_demand_rates_prod_uses_are_named(
    prod: tuple[Any, dict[str, Any]],
) -> None:
    """What stays derived (prices.json basis ``derived``) is named on every run: prod's fraud
    graph storage and I/O (Aurora Standard's rates assumed), db.r5.large and RDS backup storage
    outside us-east-1 (us-east-1's published rate assumed) and the db.r7g.large payments rate."""
    proc, doc = prod
    derived = [(d["priceId"], d["region"]) for d in doc["cost"]["derivedOnDemand"]]
    assert derived == [
        ("neptune.instance/db.r5.large", "us-west-2"),
        ("neptune.io", "us-east-1"),
        ("neptune.io", "us-west-2"),
        ("neptune.replicated-write-io", "us-west-2"),
        ("neptune.storage", "us-east-1"),
        ("neptune.storage", "us-west-2"),
        ("rds.backup-storage", "us-west-2"),
        ("rds.instance/postgres/db.r7g.large", "us-east-1"),
        ("rds.instance/postgres/db.r7g.large", "us-west-2"),
    ]
    assert "On-demand rates this estimate uses that are derived or assumed" in proc.stdout


def test_over_budget_is_advisory_in_dev(tmp_path: Path) -> None:
    proc, doc = _preflight(tmp_path, "dev", "--set", "budgetMonthlyLimitUsd=500")
    assert proc.returncode == 0, proc.stderr
    (finding,) = [d for d in doc["diagnostics"] if d["policyName"] == "cost-budget-estimate"]
    assert finding["enforcementLevel"] == "advisory"
    assert "is over" in proc.stdout and doc["cost"]["gate"]["withinBudget"] is False


def test_over_budget_blocks_the_prod_preview(tmp_path: Path) -> None:
    proc, doc = _preflight(tmp_path, "prod", "--set", "budgetMonthlyLimitUsd=10000")
    assert proc.returncode == 1
    (finding,) = [d for d in doc["diagnostics"] if d["policyName"] == "cost-budget-estimate"]
    assert finding["enforcementLevel"] == "mandatory"
    assert f"is ${doc['cost']['monthlyUsd']:,.2f}, above the $9,000.00" in finding["message"]
    assert "Preview blocked" in proc.stdout and "cost-budget-estimate" in proc.stdout
