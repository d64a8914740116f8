"""A crash at every point of every irreversible call (issue 17 item 10): between the journaled
intent and the call, between AWS's answer and the journaled "sent", and during the wait that
follows; then ``resume``. Each resume reads AWS and finishes the drill with the call sent to AWS
exactly once (counted on the wire, not read from the journal) and the stores where the drill
moves them. The long operations are held in flight by gates, so "during the wait" is a moment
the test chooses, never a race with the emulator's delays."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from drill_harness import (
    ANSWERED,
    INTENT,
    PRIMARY,
    SECONDARY,
    WAITING,
    CallCounter,
    Crash,
    CrashAtCall,
    DrillHarness,
)

# (scenario, journal key, the operation that carries it, how many times one such call sends
# it, how many the whole drill sends, the gate that holds it in flight)
CALLS = [
    (
        "planned-switchover",
        "switch:aurora",
        "rds.SwitchoverGlobalCluster",
        1,
        1,
        "switchover_global_cluster",
    ),
    (
        "planned-switchover",
        "switch:cache",
        "elasticache.FailoverGlobalReplicationGroup",
        1,
        1,
        "failover_global_replication_group",
    ),
    ("planned-switchover", "dns:", "route-53.ChangeResourceRecordSets", 1, 1, None),
    (
        "unplanned-failover",
        "failover:aurora",
        "rds.FailoverGlobalCluster",
        1,
        1,
        "failover_global_cluster",
    ),
    # the setting is one parameter per region: out (2 puts) and back (2 puts)
    ("dynamodb-evacuation", "evacuate:dynamodb", "ssm.PutParameter", 2, 4, None),
    ("pitr", "pitr:restore-cluster", "rds.RestoreDBClusterToPointInTime", 1, 1, None),
    ("pitr", "pitr:restore-table", "dynamodb.RestoreTableToPointInTime", 1, 1, None),
    ("pitr", "pitr:create-instance", "rds.CreateDBInstance", 1, 1, None),
    ("pitr", "pitr:enable-http-endpoint", "rds.EnableHttpEndpoint", 1, 1, None),
    ("pitr", "pitr:tag-table", "dynamodb.TagResource", 1, 1, None),
    ("pitr", "pitr:delete-cluster", "rds.DeleteDBCluster", 1, 1, None),
    ("pitr", "pitr:delete-table", "dynamodb.DeleteTable", 1, 1, None),
]


def _cases() -> list[Any]:
    cases = []
    for scenario, key, operation, per_call, total, gate in CALLS:
        points = (INTENT, ANSWERED, WAITING) if gate else (INTENT, ANSWERED)
        for point in points:
            cases.append(
                pytest.param(
                    scenario, key, operation, per_call, total, gate, point, id=f"{key}-{point}"
                )
            )
    return cases


@pytest.mark.parametrize(
    ("scenario", "key", "operation", "per_call", "total", "gate", "point"), _cases()
)
def test_a_crash_at_every_point_of_every_irreversible_call_then_resume(
    harness: DrillHarness,
    scenario: str,
    key: str,
    operation: str,
    per_call: int,
    total: int,
    gate: str | None,
    point: str,
) -> None:
    counter = CallCounter()
    harness.session = counter.session
    held = harness.emulator.faults.hold(gate) if gate and point == WAITING else None
    crash = CrashAtCall(key, point)

    try:
        early = harness.run(
            scenario, observers=[crash], allow_data_loss=scenario == "unplanned-failover"
        )
    except Crash:
        pass
    else:
        pytest.fail(f"no crash at {key} {point}: the drill {early.status}: {early.reason}")
    drill_id = harness.only_drill()
    record = next(
        r for k, r in harness.journal(drill_id).state["calls"].items() if k.startswith(key)
    )
    assert record["sent_at"] is None if point != WAITING else record["sent_at"] is not None
    # each crashed call is the drill's first of its operation: nothing on the wire before it
    assert counter[operation] == (0 if point == INTENT else per_call)
    if held is not None:
        held.release()

    result = harness.resume(drill_id)

    assert result.succeeded, result.reason
    # the crashed call left AWS once (never when the crash came before it), and the drill as a
    # whole sent the operation exactly as often as a drill without a crash does
    assert counter[operation] == total, f"{operation} sent {counter[operation]} times"
    calls = harness.journal(drill_id).state["calls"]
    record = next(r for k, r in calls.items() if k.startswith(key))
    assert record["sent_at"] is not None
    # re-sent only when it never left: one more journaled attempt, still one call on the wire
    assert record["attempts"] == (2 if point == INTENT else 1)
    if point == ANSWERED:
        assert record["resolved"].startswith("AWS shows it")
    if scenario in {"planned-switchover", "unplanned-failover"}:
        assert harness.writer_region() == SECONDARY and harness.cache_primary() == SECONDARY
    if scenario == "dynamodb-evacuation":  # out and back
        assert harness.active_region() == {PRIMARY: PRIMARY, SECONDARY: PRIMARY}


def _release_when_armed(session: Any, event: str, gate: Any) -> threading.Event:
    """Release ``gate`` in the first answer to ``event`` once the returned flag is set. Handlers
    are registered before the drill makes its clients: each client copies them at creation."""
    armed = threading.Event()

    def release(**_: Any) -> None:
        if armed.is_set() and not gate.released:
            gate.release()

    session.events.register(event, release)
    return armed


def test_a_switchover_that_completes_between_the_checks_reads_is_not_two_writers(
    harness: DrillHarness,
) -> None:
    """A switchover completes between the check's read of the global cluster and its Data API
    reads (the gate is released in the DescribeGlobalClusters answer, so the next request flips
    the writer; deterministic). The check reads the global cluster again, sees the move and
    starts over, instead of reporting the old and the new writer as two."""
    from drills.engine import Step
    from drills.invariant import single_writer

    counter = CallCounter()
    held = harness.emulator.faults.hold("switchover_global_cluster")
    armed = _release_when_armed(counter.session, "after-call.rds.DescribeGlobalClusters", held)
    ctx = harness.context("race", session=counter.session)
    step = Step("aurora-switchover", "move the writer", lambda _: None, moves_writer=True)
    assert single_writer(ctx, step)["aurora_writers"] == [PRIMARY]  # clients made, none moved
    harness.client("rds", PRIMARY).switchover_global_cluster(
        GlobalClusterIdentifier=harness.topology.global_cluster_id,
        TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
    )
    assert held.count == 1 and harness.writer_region() == PRIMARY  # in flight, not done
    calls = counter["rds.DescribeGlobalClusters"]

    armed.set()
    check = single_writer(ctx, step)

    assert check["ok"], check
    assert check["aurora_rereads"] == 1, check
    assert check["aurora_writers"] == [SECONDARY] == check["aurora_data_plane_writers"], check
    # the first read and the one that saw the move, which the start over judges by
    assert counter["rds.DescribeGlobalClusters"] - calls == 2


def test_a_resume_waits_for_the_cache_failover_the_crashed_drill_started(
    harness: DrillHarness,
) -> None:
    """The drill crashed right after AWS answered the cache failover, which is still in flight
    when the resume starts (held by its gate, released in the resume's first read of the
    datastore). The resume's check waits for it instead of refusing a store that is
    ``modifying``, then the drill finishes with the failover sent once."""
    counter = CallCounter()
    harness.session = counter.session
    held = harness.emulator.faults.hold("failover_global_replication_group")
    armed = _release_when_armed(
        counter.session, "after-call.elasticache.DescribeGlobalReplicationGroups", held
    )
    with pytest.raises(Crash):
        harness.run("planned-switchover", observers=[CrashAtCall("switch:cache", ANSWERED)])
    drill_id = harness.only_drill()
    assert held.count == 1 and harness.cache_primary() == PRIMARY  # in flight, not done

    armed.set()
    result = harness.resume(drill_id)

    assert result.succeeded, result.reason
    check = next(
        c for c in harness.journal(drill_id).data["invariant_checks"] if c["after"] == "resume"
    )
    assert check["ok"] and check["cache_status"] == "available", check
    assert check["cache_primaries"] == [SECONDARY], check
    assert counter["elasticache.FailoverGlobalReplicationGroup"] == 1
    assert harness.writer_region() == SECONDARY and harness.cache_primary() == SECONDARY
