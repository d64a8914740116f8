"""What ``plan`` promises is what ``run`` checks: every precondition a drill runs is an entry of
the catalog ``plan`` prints for its scenario, and every entry ``plan`` prints is checked."""

from __future__ import annotations

import pytest
from drill_harness import PRIMARY, AtStep, DrillHarness

from drills.preconditions import CheckDef, catalog_entry, planned
from drills.scenarios import SCENARIOS


def _entries(names: list[str]) -> dict[str, CheckDef]:
    """Each check name with the catalog entry it belongs to (a name of no entry is a failure)."""
    entries = {}
    for name in names:
        entry = catalog_entry(name)
        assert entry is not None, f"check {name!r} is in no catalog entry"
        entries[name] = entry
    return entries


def test_a_check_belongs_to_its_most_specific_entry() -> None:
    found = catalog_entry("table-order-history-d137bede-pitr")
    assert found is not None and found.pattern == "table-<table>-pitr"
    found = catalog_entry("table-sessions-replication")
    assert found is not None and found.pattern == "table-<table>-replication"
    found = catalog_entry("table-sessions")
    assert found is not None and found.pattern == "table-<table>"
    found = catalog_entry("aurora-data-api-us-west-2")
    assert found is not None and found.pattern == "aurora-data-api-<region>"
    assert catalog_entry("made-up-check") is None


def _assert_plan_is_what_ran(scenario: str, names: list[str]) -> None:
    promised = planned(SCENARIOS[scenario].checks)
    ran = _entries(names)
    assert set(ran.values()) <= set(promised), "ran a check plan does not print"
    assert {d.pattern for d in promised} == {d.pattern for d in ran.values()}, (
        "plan prints a check the drill never ran"
    )


@pytest.mark.parametrize(
    "scenario", ["planned-switchover", "cache-failover", "dynamodb-evacuation", "pitr"]
)
def test_the_checks_a_drill_runs_are_the_ones_plan_prints(
    harness: DrillHarness, scenario: str
) -> None:
    result = harness.run(scenario)
    assert result.succeeded, result.reason
    _assert_plan_is_what_ran(scenario, [c["name"] for c in result.preconditions])


def test_an_unplanned_failover_checks_what_plan_prints_for_it(harness: DrillHarness) -> None:
    faults = harness.emulator.faults
    faults.region_down(PRIMARY, hang=False)
    back = AtStep("rebuild-old-primary", lambda: faults.region_up(PRIMARY))
    settings = harness.settings.with_(aws_max_attempts=1, replication_grace=0.05)
    result = harness.run("unplanned-failover", observers=[back], settings=settings)
    assert result.succeeded, result.reason
    names = [c["name"] for c in result.preconditions]
    promised = {d.pattern for d in planned(SCENARIOS["unplanned-failover"].checks)}
    ran = {d.pattern for d in _entries(names).values()}
    assert ran <= promised
    # with the writer's region lost, the checks that need it answering cannot run; plan prints
    # them all the same (they run whenever that region answers)
    assert promised - ran <= {
        "global-cluster-available",
        "aurora-writer-in-primary",
        "aurora-members-synchronized",
        "aurora-cluster-<region>",
        "aurora-data-api-<region>",
        "aurora-canary-table",
        "aurora-replication-lag",
        "table-<table>",
        "table-<table>-replication",
        "cache-dns",
        "cache-datastore",
        "cache-primary-in-primary",
        "no-alarm-in-alarm",
        "alarms-readable",
    }
