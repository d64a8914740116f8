"""Operating while a region is lost (issue 16 item 9): the anchor region (provider, global
cluster, global datastore, keys, secrets) is the stack's primary, so no refresh, preview or up
can complete while it does not answer. The drill defers them, journals the deferral, sends no
Pulumi operation meanwhile, and ``resume`` completes them once the region answers. The lost
region refuses every request at once (``hang=False``): nothing waits on a timeout."""

from __future__ import annotations

from drill_harness import PRIMARY, SECONDARY, AtStep, DrillHarness

PULUMI_OPS = ("refresh", "preview", "up")


def _pulumi_ops(harness: DrillHarness) -> int:
    return sum(len(harness.command.calls_of(op)) for op in PULUMI_OPS)


def test_an_unplanned_failover_defers_the_rebuild_and_reconcile_until_the_anchor_answers(
    harness: DrillHarness,
) -> None:
    faults = harness.emulator.faults
    faults.region_down(PRIMARY, hang=False)
    settings = harness.settings.with_(aws_max_attempts=1, replication_grace=0.05)

    paused = harness.run("unplanned-failover", settings=settings)

    assert paused.status == "paused", paused.reason
    assert "deferred" in paused.reason and PRIMARY in paused.reason
    assert harness.writer_region() == SECONDARY  # the failover itself did not wait
    state = harness.journal(paused.drill_id).state
    assert [(d["step"], d["region"]) for d in state["deferred"]] == [
        ("rebuild-old-primary", PRIMARY)
    ]
    assert _pulumi_ops(harness) == 0
    assert harness.config_regions() == (PRIMARY, SECONDARY)  # the stack still names it

    still = harness.resume(paused.drill_id)  # the region is still lost: deferred again
    assert still.status == "paused" and _pulumi_ops(harness) == 0
    assert len(harness.journal(paused.drill_id).state["deferred"]) == 2

    faults.region_up(PRIMARY)
    done = harness.resume(paused.drill_id)

    assert done.succeeded, done.reason
    assert harness.config_regions() == (SECONDARY, PRIMARY)
    assert len(harness.command.calls_of("up")) == 1
    old = next(
        m for m in harness.global_cluster()["GlobalClusterMembers"] if PRIMARY in m["DBClusterArn"]
    )
    assert old["IsWriter"] is False and old["SynchronizationStatus"] == "connected"


def test_a_region_lost_before_the_reconcile_defers_the_refresh(harness: DrillHarness) -> None:
    faults = harness.emulator.faults
    lose = AtStep("refresh", lambda: faults.region_down(SECONDARY, hang=False))
    settings = harness.settings.with_(aws_max_attempts=1)

    paused = harness.run("cache-failover", observers=[lose], settings=settings)

    assert paused.status == "paused", paused.reason
    assert "pulumi refresh deferred" in paused.reason and SECONDARY in paused.reason
    assert _pulumi_ops(harness) == 0
    assert paused.step("refresh").status == "running"

    faults.region_up(SECONDARY)
    done = harness.resume(paused.drill_id)

    assert done.succeeded, done.reason
    assert len(harness.command.calls_of("refresh")) == 2  # this phase's and the failback's
    assert harness.cache_primary() == PRIMARY
