"""Fault injection: throttling, a region that stops answering, an operation that never
completes, and a crash of the drill at every step followed by resume and by rollback."""

from __future__ import annotations

import pytest
from drill_harness import (
    PRIMARY,
    SECONDARY,
    AtEvent,
    AtStep,
    Crash,
    CrashAt,
    DrillHarness,
)

from drills.scenarios import ScenarioOptions, scenario

SWITCHOVER_STEPS = [
    s.name for s in scenario("planned-switchover").build(ScenarioOptions(has_cache=True))
]


def test_throttling_is_absorbed_by_retries(harness: DrillHarness) -> None:
    faults = harness.emulator.faults
    faults.throttle("rds", 1, operation="SwitchoverGlobalCluster")

    result = harness.run("planned-switchover")

    assert result.succeeded, result.reason
    assert faults.throttled_count == 1
    assert harness.writer_region() == SECONDARY and harness.cache_primary() == SECONDARY
    assert result.measurement("switch", "aurora").rpo_canaries_lost == 0


def test_throttling_beyond_the_retry_budget_aborts_cleanly(harness: DrillHarness) -> None:
    faults = harness.emulator.faults
    faults.throttle("elasticache", 5, operation="FailoverGlobalReplicationGroup")
    settings = harness.settings.with_(aws_max_attempts=1)

    result = harness.run("cache-failover", settings=settings)

    assert result.status == "rolled-back"
    assert "cache-failover: ClientError" in result.reason and "Rate exceeded" in result.reason
    assert harness.cache_primary() == PRIMARY


def test_a_region_that_stops_answering_mid_drill_aborts_and_the_rollback_waits_for_it(
    harness: DrillHarness,
) -> None:
    """The new primary stops answering right after the switchover; the rollback cannot switch
    the writer back until it answers again, so it waits for it (the region comes back when
    the undo starts waiting, not after some sleep)."""
    faults = harness.emulator.faults
    # refused at once rather than hanging: no healthy request races a short read timeout
    lose = AtStep("cache-failover", lambda: faults.region_down(SECONDARY, hang=False))
    back = AtEvent("undo", lambda: faults.region_up(SECONDARY), "aurora: primary in")
    settings = harness.settings.with_(aws_max_attempts=1)

    result = harness.run("planned-switchover", observers=[lose, back], settings=settings)

    assert result.status == "rolled-back", result.reason
    assert SECONDARY in result.reason and "not answering" in result.reason
    assert back.fired
    assert result.step("aurora-switchover").undo_status == "done"
    assert harness.writer_region() == PRIMARY and harness.cache_primary() == PRIMARY


def test_an_operation_that_never_completes_times_out_and_rolls_back(harness: DrillHarness) -> None:
    """The cache failover is held in flight past the step's timeout: the undo waits for it to
    finish, fails the datastore back and points ``cache.<zone>`` at the origin again."""
    from dataclasses import replace

    gate = harness.emulator.faults.hold("failover_global_replication_group")
    release = AtEvent("undo", gate.release, "cache: a move is in flight")
    settings = harness.settings.with_(
        timeouts=replace(harness.settings.timeouts, cache_switch=0.25)
    )

    result = harness.run("cache-failover", settings=settings, observers=[release])

    assert result.status == "rolled-back", result.reason
    assert "exceeded its 0.25s timeout waiting for the cache primary" in result.reason
    assert release.fired and gate.count == 1
    assert harness.cache_primary() == PRIMARY
    assert harness.cache_record() == harness.seeded.cache_endpoints[PRIMARY][0]


def test_a_paused_drill_resumes_when_the_lost_region_returns(harness: DrillHarness) -> None:
    """Unplanned failover: the old region is still down when the rebuild step starts, so the
    rebuild and the reconcile are deferred and the drill pauses at once (no rollback: the
    failover was the point; no timeout to wait out); resume finishes it later."""
    faults = harness.emulator.faults
    lose = AtStep("declare-primary-lost", lambda: faults.region_down(PRIMARY, hang=False))
    settings = harness.settings.with_(aws_max_attempts=1, replication_grace=0.05)

    paused = harness.run(
        "unplanned-failover", observers=[lose], settings=settings, allow_data_loss=True
    )

    assert paused.status == "paused", paused.reason
    assert paused.step("rebuild-old-primary").status == "running"
    assert harness.writer_region() == SECONDARY
    assert harness.journal(paused.drill_id).data["status"] == "paused"

    faults.region_up(PRIMARY)
    resumed = harness.resume(paused.drill_id)

    assert resumed.succeeded, resumed.reason
    assert resumed.step("rebuild-old-primary").attempts == 2
    gc = harness.global_cluster()
    old = next(m for m in gc["GlobalClusterMembers"] if PRIMARY in m["DBClusterArn"])
    assert old["IsWriter"] is False and old["SynchronizationStatus"] == "connected"
    assert harness.config_regions() == (SECONDARY, PRIMARY)


def test_crash_at_every_step_then_resume(harness: DrillHarness) -> None:
    """The drill dies after each step acted but before the journal recorded it; each resume
    re-runs that step (idempotently) and dies again at the next one, until the end."""
    drill_id = None
    for name in SWITCHOVER_STEPS:
        crash = CrashAt(name, "finished")
        with pytest.raises(Crash):
            if drill_id is None:
                harness.run("planned-switchover", observers=[crash])
            else:
                harness.resume(drill_id, observers=[crash])
        drill_id = drill_id or harness.only_drill()
        journal = harness.journal(drill_id).data
        record = next(s for s in journal["steps"] if s["name"] == name)
        assert record["status"] == "running", f"{name} journaled as running before the crash"
        assert journal["status"] == "running"

    assert drill_id is not None
    result = harness.resume(drill_id)

    assert result.succeeded, result.reason
    assert all(s.attempts == 2 for s in result.steps), [(s.name, s.attempts) for s in result.steps]
    assert harness.writer_region() == SECONDARY and harness.cache_primary() == SECONDARY
    assert harness.config_regions() == (SECONDARY, PRIMARY)
    # one switchover and one cache failover, despite each step running twice
    m = result.measurement("switch", "aurora")
    assert m.rpo_canaries_lost == 0
    assert len(harness.command.calls_of("up")) == 2
    assert harness.aurora_rows(SECONDARY) == set() and harness.canary_items(SECONDARY) == []
    journal = harness.journal(drill_id).data
    assert sum(
        1 for e in journal["timeline"] if e["kind"] == "resume" and "resuming" in e["message"]
    ) == len(SWITCHOVER_STEPS)


def test_crash_before_a_step_acts_then_resume(harness: DrillHarness) -> None:
    with pytest.raises(Crash):
        harness.run("cache-failover", observers=[CrashAt("cache-failover", "started")])
    drill_id = harness.only_drill()
    assert harness.journal(drill_id).step("cache-failover")["status"] == "running"
    assert harness.cache_primary() == PRIMARY

    result = harness.resume(drill_id)

    assert result.succeeded, result.reason
    assert result.step("cache-failover").attempts == 2
    assert harness.cache_primary() == PRIMARY  # out and back
    assert result.measurement("cache", "cache").rto_seconds is not None
    calls = harness.journal(drill_id).state["calls"]
    assert calls["cache:cache"]["attempts"] == 1 and calls["cache:cache"]["sent_at"]


def test_a_crashed_rollback_can_be_rolled_back_again(harness: DrillHarness) -> None:
    with pytest.raises(Crash):
        harness.run("planned-switchover", observers=[CrashAt("up", "finished")])
    drill_id = harness.only_drill()

    class CrashInRollback(CrashAt):
        def event(self, event):
            if event.kind == "undone":
                raise Crash("rollback")

    with pytest.raises(Crash):
        harness.rollback(drill_id, observers=[CrashInRollback("none")])
    assert harness.journal(drill_id).data["status"] == "rolling-back"

    result = harness.rollback(drill_id)

    assert result.status == "rolled-back"
    assert harness.writer_region() == PRIMARY and harness.config_regions() == (PRIMARY, SECONDARY)


def test_resume_refuses_a_running_drill_held_by_a_live_process(harness: DrillHarness) -> None:
    with pytest.raises(Crash):
        harness.run("cache-failover", observers=[CrashAt("refresh", "finished")])
    drill_id = harness.only_drill()
    lock = harness.state_dir / drill_id / "lock"
    lock.write_text("1 someone-else")  # pid 1 is alive and is not us

    from drills.errors import DrillLockedError

    with pytest.raises(DrillLockedError, match="is running in process 1"):
        harness.resume(drill_id)
    lock.unlink()
    assert harness.resume(drill_id).succeeded
