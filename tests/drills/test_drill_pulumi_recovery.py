"""A ``pulumi up`` killed with the drill (issue 17 item 6): it leaves the stack locked and its
started resource operations in the state's ``pending_operations``. ``rollback`` (and ``resume``)
end that update with ``pulumi cancel``, clear the pending operations with ``pulumi refresh
--clear-pending-creates``, then restore the config, refresh, preview and apply back. A lock the
drill's journal does not account for is someone else's update and is never cancelled."""

from __future__ import annotations

import pytest
from drill_harness import PRIMARY, SECONDARY, Crash, CrashAt, DrillHarness

from drills.standin import Plan, PlannedStep, static_plan

URN = "urn:pulumi:dev::securecart-data::securecart:index:DataTier${type}::{name}"
RECORD = "aws:route53/record:Record"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
PLAN = Plan(
    [
        PlannedStep("update", URN.format(type=RECORD, name="writer"), RECORD, ("records",)),
        PlannedStep("create", URN.format(type=ALARM, name="lag-us-west-2"), ALARM),
    ]
)


def _kill_the_up(harness: DrillHarness) -> str:
    harness.backend.planner = static_plan(PLAN)
    harness.backend.kill_next_up = Crash("pulumi up killed with the drill")
    with pytest.raises(Crash):
        harness.run("planned-switchover")
    return harness.only_drill()


def test_rollback_clears_the_lock_and_pending_operations_a_killed_up_left(
    harness: DrillHarness,
) -> None:
    drill_id = _kill_the_up(harness)
    stack = harness.pulumi_stack
    # what the killed CLI left: the lock, and both started operations pending
    assert harness.backend.locked_by is not None
    assert [(p["type"], p["resource"]["type"]) for p in stack.pending_operations] == [
        ("updating", RECORD),
        ("creating", ALARM),
    ]
    assert harness.journal(drill_id).state["pulumi_up"]["step"] == "up"
    ups_before = len(harness.command.calls_of("up"))

    result = harness.rollback(drill_id)

    assert result.status == "rolled-back", result.reason
    assert harness.backend.locked_by is None
    assert stack.pending_operations == []
    cancel = harness.command.calls_of("cancel")
    assert len(cancel) == 1 and "--yes" in cancel[0].args
    clearing = [
        c for c in harness.command.calls_of("refresh") if "--clear-pending-creates" in c.args
    ]
    assert len(clearing) == 1 and clearing[0].at > cancel[0].at
    # then the region pair goes back and is re-applied: the killed up may have moved things
    assert harness.config_regions() == (PRIMARY, SECONDARY)
    assert harness.writer_region() == PRIMARY
    journal = harness.journal(drill_id)
    assert "pulumi_up" not in journal.state
    [recovery] = journal.state["pulumi_recoveries"]
    assert recovery["cancelled"] == 1 and recovery["pending"] == 2
    assert recovery["pending_ops"] == ["updating writer", "creating lag-us-west-2"]
    event = next(e for e in journal.data["timeline"] if e["kind"] == "pulumi-recovered")
    assert "pulumi cancel" in event["message"] and "creating lag-us-west-2" in event["message"]
    assert len(harness.command.calls_of("up")) == ups_before  # nothing re-applied: pair unchanged


def test_resume_clears_the_killed_up_then_applies(harness: DrillHarness) -> None:
    drill_id = _kill_the_up(harness)

    result = harness.resume(drill_id)

    assert result.succeeded, result.reason
    assert harness.backend.locked_by is None
    assert harness.pulumi_stack.pending_operations == []
    assert len(harness.command.calls_of("cancel")) == 1
    assert harness.pulumi_stack.outputs["primaryRegion"] == SECONDARY


def test_a_lock_the_journal_does_not_account_for_is_never_cancelled(
    harness: DrillHarness,
) -> None:
    with pytest.raises(Crash):
        harness.run("planned-switchover", observers=[CrashAt("swap-config")])
    drill_id = harness.only_drill()
    harness.backend.locked_by = "a colleague's pulumi up"

    result = harness.rollback(drill_id)

    assert result.status == "rolled-back", result.reason
    assert harness.backend.locked_by == "a colleague's pulumi up"
    assert not harness.command.calls_of("cancel")
    assert harness.config_regions() == (PRIMARY, SECONDARY)
