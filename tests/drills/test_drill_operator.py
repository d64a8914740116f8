"""No lossy or irreversible call without a person (issue 17 item 3): a call journaled as sent
whose effect AWS shows neither done nor in flight pauses the drill, and only ``--resend`` sends
it again; another actor's move stops the drill; a resume re-runs the preconditions that still
apply. Every outcome is read from the emulator (and the calls counted on the wire)."""

from __future__ import annotations

import contextlib

from drill_harness import (
    PRIMARY,
    SECONDARY,
    WAITING,
    AtEvent,
    AtStep,
    CallCounter,
    Crash,
    CrashAt,
    CrashAtCall,
    DrillHarness,
)
from typer.testing import CliRunner

from drills.cli import app


def _move_writer_by_hand(harness: DrillHarness, region: str) -> None:
    harness.client("rds", region).switchover_global_cluster(
        GlobalClusterIdentifier=harness.topology.global_cluster_id,
        TargetDbClusterIdentifier=harness.seeded.cluster_arns[region],
    )
    harness.settle()


def test_a_lossy_failover_sent_then_undone_by_hand_pauses_and_needs_resend(
    harness: DrillHarness,
) -> None:
    """The issue's case: a crash right after AWS accepted the AllowDataLoss failover, then
    someone moved the writer back by hand. Resume must not send a second lossy failover."""
    counter = CallCounter()
    harness.session = counter.session
    gate = harness.emulator.faults.hold("failover_global_cluster")
    with contextlib.suppress(Crash):
        harness.run(
            "unplanned-failover",
            observers=[CrashAtCall("failover:aurora", WAITING)],
            allow_data_loss=True,
        )
    drill_id = harness.only_drill()
    assert harness.journal(drill_id).state["calls"]["failover:aurora"]["sent_at"] is not None
    gate.release()
    harness.settle()
    assert harness.writer_region() == SECONDARY
    _move_writer_by_hand(harness, PRIMARY)

    paused = harness.resume(drill_id)

    assert paused.status == "paused", paused.reason
    assert "failover_global_cluster" in paused.reason and "--resend" in paused.reason
    assert counter["rds.FailoverGlobalCluster"] == 1  # nothing sent again
    assert harness.writer_region() == PRIMARY
    assert harness.journal(drill_id).data["status"] == "paused"

    again = harness.resume(drill_id)  # without the flag: still paused, still nothing sent
    assert again.status == "paused" and counter["rds.FailoverGlobalCluster"] == 1

    resent = harness.resume(drill_id, resend=True)

    assert resent.succeeded, resent.reason
    assert counter["rds.FailoverGlobalCluster"] == 2
    assert harness.writer_region() == SECONDARY
    record = harness.journal(drill_id).state["calls"]["failover:aurora"]
    assert record["attempts"] == 2 and record["call"].endswith("(AllowDataLoss)")


def test_resume_names_the_flag_on_its_command_line(harness: DrillHarness) -> None:
    result = CliRunner().invoke(app, ["resume", "--help"], terminal_width=200)
    assert result.exit_code == 0 and "--resend" in result.output
    result = CliRunner().invoke(app, ["run", "--help"], terminal_width=200)
    assert result.exit_code == 0 and "--allow-data-loss" in result.output


def test_another_actors_move_in_flight_stops_the_drill_without_a_call(
    harness: DrillHarness,
) -> None:
    """Someone starts a switchover just before the drill's: AWS shows a move the drill did not
    journal, so the drill pauses and sends nothing (it does not claim that move's RTO)."""
    counter = CallCounter()
    harness.session = counter.session
    gate = harness.emulator.faults.hold("switchover_global_cluster")
    other = AtStep("aurora-switchover", lambda: _start_switchover(harness, SECONDARY))

    result = harness.run("planned-switchover", observers=[other])

    assert result.status == "paused", result.reason
    assert "another actor" in result.reason
    assert counter["rds.SwitchoverGlobalCluster"] == 0
    assert "switch:aurora" not in harness.journal(result.drill_id).state.get("calls", {})
    gate.release()
    harness.settle()


def _start_switchover(harness: DrillHarness, region: str) -> None:
    harness.client("rds", region).switchover_global_cluster(
        GlobalClusterIdentifier=harness.topology.global_cluster_id,
        TargetDbClusterIdentifier=harness.seeded.cluster_arns[region],
    )


def _start_cache_failover(harness: DrillHarness, region: str) -> None:
    index = 1 if region == SECONDARY else 0
    harness.client("elasticache", region).failover_global_replication_group(
        GlobalReplicationGroupId=harness.seeded.cache_global_id,
        PrimaryRegion=region,
        PrimaryReplicationGroupId=harness.topology.cache_groups[index].replication_group_id,
    )


def test_a_refused_call_aws_does_not_show_as_the_drills_stops_the_drill(
    harness: DrillHarness,
) -> None:
    """Another failover of the datastore starts between the drill's read and its call: AWS
    refuses the drill's call, and a datastore that is ``modifying`` does not name its move, so
    the refusal cannot be the drill's own: it pauses instead of measuring someone else's move."""
    gate = harness.emulator.faults.hold("failover_global_replication_group")
    other = AtEvent(
        "action",
        lambda: _start_cache_failover(harness, SECONDARY),
        "failover_global_replication_group",
    )

    result = harness.run("cache-failover", observers=[other])

    assert other.fired
    assert result.status == "paused", result.reason
    assert "was refused" in result.reason and "not this drill's" in result.reason
    record = harness.journal(result.drill_id).state["calls"]["cache:cache"]
    assert record["sent_at"] is None and record["refused"]
    assert (
        "rto_seconds" not in harness.journal(result.drill_id).state["measurements"]["cache:cache"]
    )
    gate.release()
    harness.settle()


def test_a_refused_call_that_aws_shows_as_the_journaled_move_is_the_drills(
    harness: DrillHarness,
) -> None:
    """The same race on Aurora, where FailoverState names the move: the one in flight goes from
    the drill's origin to its target (what a botocore retry of an accepted call finds), so it
    counts as the drill's and the drill goes on."""
    gate = harness.emulator.faults.hold("switchover_global_cluster")  # in flight at the call
    release = AtEvent("retry", gate.release)
    other = AtEvent(
        "action", lambda: _start_switchover(harness, SECONDARY), "switchover_global_cluster"
    )

    result = harness.run("planned-switchover", observers=[other, release])

    assert other.fired and release.fired
    assert result.succeeded, result.reason
    record = harness.journal(result.drill_id).state["calls"]["switch:aurora"]
    assert "AWS shows the journaled move" in record["resolved"]
    assert harness.writer_region() == SECONDARY


def test_resume_reruns_every_precondition_before_the_first_call(harness: DrillHarness) -> None:
    with contextlib.suppress(Crash):  # preconditions journaled done, nothing sent yet
        harness.run("planned-switchover", observers=[CrashAt("canaries", "started")])
    drill_id = harness.only_drill()
    name = harness.set_alarm(SECONDARY)

    paused = harness.resume(drill_id)

    assert paused.status == "paused", paused.reason
    assert "resume refused" in paused.reason and name in paused.reason
    checks = {c["name"] for c in harness.journal(drill_id).state["resume_checks"]}
    assert {"aurora-writer-in-primary", "aurora-replication-lag", "cache-dns"} <= checks
    assert harness.writer_region() == PRIMARY  # nothing moved

    harness.set_alarm(SECONDARY, "OK")
    assert harness.resume(drill_id).succeeded


def test_resume_after_a_move_reruns_what_still_applies(harness: DrillHarness) -> None:
    with contextlib.suppress(Crash):
        harness.run("planned-switchover", observers=[CrashAt("aurora-switchover", "finished")])
    drill_id = harness.only_drill()
    harness.backend.locked_by = "someone else"

    paused = harness.resume(drill_id)

    assert paused.status == "paused", paused.reason
    assert "no-pulumi-update" in paused.reason
    checks = {c["name"] for c in harness.journal(drill_id).state["resume_checks"]}
    # the writer moved: "writer in the primary" no longer applies and is not run
    assert checks == {"no-other-drill", "no-pulumi-update", "no-alarm-in-alarm"}
    assert harness.writer_region() == SECONDARY

    harness.backend.locked_by = None
    result = harness.resume(drill_id)
    assert result.succeeded, result.reason
