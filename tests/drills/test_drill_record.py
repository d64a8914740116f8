"""An honest unplanned failover (issue 17 item 4) and an exact record (item 9): a primary that
still answers is failed over with AllowDataLoss only by consent, with the lag checks kept and a
headline that says so; the journal and the report name the call actually sent."""

from __future__ import annotations

from pathlib import Path

from drill_harness import PRIMARY, SECONDARY, AtStep, DrillHarness


def test_a_lossy_failover_of_a_primary_that_answers_needs_consent(harness: DrillHarness) -> None:
    result = harness.run("unplanned-failover")

    assert result.status == "refused", result.reason
    assert "data-loss-accepted" in result.reason and "--allow-data-loss" in result.reason
    assert harness.writer_region() == PRIMARY


def test_with_consent_it_keeps_the_lag_checks_and_says_the_primary_answered(
    harness: DrillHarness,
) -> None:
    result = harness.run("unplanned-failover", allow_data_loss=True, reports=True)

    assert result.succeeded, result.reason
    checks = {c["name"]: c for c in result.preconditions}
    assert checks["aurora-replication-lag"]["ok"] and checks["data-loss-accepted"]["ok"]
    assert "still answered" in result.headline_note
    md = Path(result.reports["markdown"]).read_text()
    assert "The primary region still answered" in md and "not an outage" in md
    calls = harness.journal(result.drill_id).state["calls"]
    assert (
        calls["failover:aurora"]["call"]
        == f"failover_global_cluster -> {SECONDARY} (AllowDataLoss)"
    )
    # the datastore has one kind of failover: never labelled AllowDataLoss
    assert calls["failover:cache"]["call"] == f"failover_global_replication_group -> {SECONDARY}"
    assert result.measurement("failover", "aurora").action.startswith("failover_global_cluster")


def test_a_region_lost_after_the_checks_is_an_outage_not_a_live_primary(
    harness: DrillHarness,
) -> None:
    faults = harness.emulator.faults
    lose = AtStep("declare-primary-lost", lambda: faults.region_down(PRIMARY, hang=False))
    back = AtStep("rebuild-old-primary", lambda: faults.region_up(PRIMARY))
    settings = harness.settings.with_(aws_max_attempts=1, replication_grace=0.05)

    result = harness.run(
        "unplanned-failover", observers=[lose, back], settings=settings, allow_data_loss=True
    )

    assert result.succeeded, result.reason
    assert result.headline_note == ""
    phase = harness.journal(result.drill_id).state["phases"]["failover"]
    assert phase["primary_answered"] is False and phase["fault"] == "primary region lost"


def test_a_switchover_is_journaled_and_reported_as_the_switchover_it_is(
    harness: DrillHarness,
) -> None:
    result = harness.run("planned-switchover")

    assert result.succeeded, result.reason
    calls = harness.journal(result.drill_id).state["calls"]
    assert calls["switch:aurora"]["call"] == f"switchover_global_cluster -> {SECONDARY}"
    assert calls["switch:cache"]["call"] == f"failover_global_replication_group -> {SECONDARY}"
    assert not any("AllowDataLoss" in c["call"] for c in calls.values())
    assert (
        result.measurement("switch", "aurora").action == f"switchover_global_cluster -> {SECONDARY}"
    )
    titles = " ".join(s.title for s in result.steps)
    assert "AllowDataLoss" not in titles
    actions = [e["message"] for e in result.timeline if e["kind"] == "action"]
    assert f"switchover_global_cluster -> {SECONDARY}" in actions


def test_pitr_journals_every_create_delete_and_enable_and_tags_its_copies(
    harness: DrillHarness,
) -> None:
    result = harness.run("pitr")

    assert result.succeeded, result.reason
    calls = harness.journal(result.drill_id).state["calls"]
    kinds = sorted({key.split(":")[1] for key in calls})
    assert kinds == [
        "create-instance",
        "delete-cluster",
        "delete-instance",
        "delete-table",
        "enable-http-endpoint",
        "restore-cluster",
        "restore-table",
        "tag-table",
    ]
    assert all(c["intent_at"] and c["sent_at"] for c in calls.values())


def test_pitr_does_not_delete_a_copy_without_its_tag(harness: DrillHarness) -> None:
    """Someone's cluster under the name the drill's copy would have: the removal refuses."""

    def retag() -> None:
        journal = harness.only_drill()
        suffix = journal.rsplit("-", 1)[-1]
        source = harness.seeded.cluster_arns[PRIMARY].rsplit(":", 1)[-1]
        name = source[:50] + f"-pitr-{suffix}"
        arn = harness.client("rds", PRIMARY).describe_db_clusters(DBClusterIdentifier=name)[
            "DBClusters"
        ][0]["DBClusterArn"]
        harness.client("rds", PRIMARY).add_tags_to_resource(
            ResourceName=arn, Tags=[{"Key": "securecart:drill", "Value": "someone-else"}]
        )

    result = harness.run("pitr", observers=[AtStep("remove-restored", retag)])

    assert result.status == "rollback-failed", result.reason
    assert "not deleting it" in result.reason or any(
        "not deleting it" in (s.undo_error or "") for s in result.steps
    )
