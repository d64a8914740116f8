"""Refusals and aborts: preconditions, FIS-like stop conditions, unsafe previews, policies, a
stack another update holds. Every abort must leave exactly one writer, in the origin region."""

from __future__ import annotations

from dataclasses import replace

import pytest
from drill_harness import PRIMARY, SECONDARY, AtEvent, AtStep, DrillHarness

from drills.standin import Plan, PlannedStep, PolicyFinding, static_plan

URN = "urn:pulumi:dev::securecart-data::securecart:index:DataTier$securecart:database:AuroraGlobalDatabase${type}::{name}"


def _urn(type_token: str, name: str) -> str:
    return URN.format(type=type_token, name=name)


def _assert_origin(harness: DrillHarness) -> None:
    assert harness.writer_region() == PRIMARY
    assert harness.cache_primary() == PRIMARY
    assert harness.config_regions() == (PRIMARY, SECONDARY)
    assert harness.aurora_rows(PRIMARY) == set()
    assert harness.canary_items(PRIMARY) == [] == harness.canary_items(SECONDARY)


def test_refuses_while_an_alarm_is_in_alarm(harness: DrillHarness) -> None:
    name = harness.set_alarm(SECONDARY)

    result = harness.run("planned-switchover")

    assert result.status == "refused"
    assert "no-alarm-in-alarm" in result.reason and name in result.reason
    assert result.step("preconditions").status == "failed"
    assert all(s.status == "pending" for s in result.steps[1:])
    assert not harness.command.calls_of("preview") and not harness.command.calls_of("up")
    _assert_origin(harness)


def test_refuses_while_a_pulumi_update_is_in_progress(harness: DrillHarness) -> None:
    harness.backend.locked_by = "someone else"

    result = harness.run("planned-switchover")

    assert result.status == "refused"
    assert "no-pulumi-update: an update is in progress" in result.reason
    assert harness.writer_region() == PRIMARY


def test_refuses_when_replication_lag_is_above_the_threshold(harness: DrillHarness) -> None:
    harness.emulator.timings = replace(harness.emulator.timings, aurora_replication_lag_seconds=0.3)
    harness.pulumi_stack.config["securecart-data:drillsMaxReplicationLagSeconds"] = "0.1"

    result = harness.run("planned-switchover")

    assert result.status == "refused"
    assert "aurora-replication-lag" in result.reason and "0.1s" in result.reason
    assert harness.writer_region() == PRIMARY


def test_refuses_when_the_writer_is_not_where_the_stack_says(harness: DrillHarness) -> None:
    harness.client("rds", SECONDARY).switchover_global_cluster(
        GlobalClusterIdentifier=harness.topology.global_cluster_id,
        TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
    )
    harness.settle()

    result = harness.run("planned-switchover")

    assert result.status == "refused"
    assert f"writer in {SECONDARY}; expected {PRIMARY}" in result.reason


def test_refuses_when_the_secondary_region_does_not_answer(harness: DrillHarness) -> None:
    harness.emulator.faults.region_down(SECONDARY, hang=False)
    settings = harness.settings.with_(aws_max_attempts=1)

    result = harness.run("planned-switchover", settings=settings)

    assert result.status == "refused"
    assert SECONDARY in result.reason and "not answering" in result.reason


def test_an_alarm_going_off_mid_drill_aborts_and_rolls_back(harness: DrillHarness) -> None:
    """The alarm fires while the cache failover is in flight (a gate holds it there): the undo
    must wait for that failover to finish, then fail the datastore back."""
    gate = harness.emulator.faults.hold("failover_global_replication_group")
    fire = AtEvent(
        "action", lambda: harness.set_alarm(PRIMARY), "failover_global_replication_group"
    )
    release = AtEvent("undo", gate.release, "cache: a move is in flight")
    settings = harness.settings.with_(stop_check_interval=0.0)

    result = harness.run("planned-switchover", observers=[fire, release], settings=settings)

    assert fire.fired and release.fired and gate.count == 1
    assert result.status == "rolled-back", result.reason
    assert "stop condition" in result.reason and "aurora-cpu" in result.reason
    switch = result.step("aurora-switchover")
    assert switch.status == "done" and switch.undo_status == "done"
    assert result.step("cache-failover").undo_status == "done"
    harness.set_alarm(PRIMARY, "OK")
    _assert_origin(harness)
    assert harness.cache_record() == harness.seeded.cache_endpoints[PRIMARY][0]
    journal = harness.journal(result.drill_id).data
    assert journal["invariant_checks"][-1]["after"] == "resume"  # the check after the rollback
    assert journal["invariant_checks"][-1]["cache_status"] == "available"
    assert all(c["ok"] for c in journal["invariant_checks"])
    assert any(e["kind"] == "stop-condition" for e in journal["timeline"])


def test_a_step_exceeding_its_timeout_aborts_and_rolls_back(harness: DrillHarness) -> None:
    """The switchover is held in flight past the step's timeout; the rollback waits for it to
    finish (AWS cannot cancel it), then switches the writer back."""
    gate = harness.emulator.faults.hold("switchover_global_cluster")
    release = AtEvent("undo", gate.release, "aurora: a move is in flight")
    settings = harness.settings.with_(
        timeouts=replace(harness.settings.timeouts, aurora_switch=0.3)
    )

    result = harness.run("planned-switchover", observers=[release], settings=settings)

    assert result.status == "rolled-back", result.reason
    assert "exceeded its 0.3s timeout" in result.reason
    assert result.step("aurora-switchover").status == "failed"
    assert result.step("aurora-switchover").undo_status == "done"
    assert release.fired and gate.count == 1  # the drill's switchover; the one back is not held
    assert harness.global_cluster()["Status"] == "available"
    assert not harness.command.calls_of("up")
    _assert_origin(harness)


def test_a_move_that_never_ends_fails_the_rollback_until_it_does(harness: DrillHarness) -> None:
    """A switchover that never finishes cannot be undone: the rollback says so (it never
    reports success with two candidate writers), and a later rollback finishes the job."""
    gate = harness.emulator.faults.hold("switchover_global_cluster")
    settings = harness.settings.with_(
        timeouts=replace(harness.settings.timeouts, aurora_switch=0.2, verify=0.2)
    )

    result = harness.run("planned-switchover", settings=settings)

    assert result.status == "rollback-failed"
    undo = result.step("aurora-switchover")
    assert undo.undo_status == "failed" and "in-flight aurora move to finish" in (
        undo.undo_error or ""
    )
    assert harness.global_cluster()["Status"] == "switching-over"

    gate.release()
    again = harness.rollback(result.drill_id)

    assert again.status == "rolled-back", again.reason
    _assert_origin(harness)


@pytest.mark.parametrize(
    ("op", "type_token"),
    [("replace", "aws:rds/cluster:Cluster"), ("delete", "aws:dynamodb/table:Table")],
)
def test_refuses_to_apply_a_preview_that_replaces_or_deletes_stateful_resources(
    harness: DrillHarness, op: str, type_token: str
) -> None:
    urn = _urn(type_token, "victim")
    harness.backend.planner = static_plan(
        Plan(
            [
                PlannedStep(
                    "update",
                    _urn("aws:route53/record:Record", "writer"),
                    "aws:route53/record:Record",
                ),
                PlannedStep(op, urn, type_token, ("masterUsername",), ("masterUsername",)),
            ]
        )
    )

    result = harness.run("planned-switchover")

    assert result.status == "rolled-back"
    assert f"preview would {op} {urn}" in result.reason
    assert result.step("up").status == "failed"  # its preview refused: up never ran
    assert result.step("verify-outputs").status == "pending"
    assert not harness.command.calls_of("up"), "up never runs after an unsafe preview"
    preview = harness.command.calls_of("preview")[0]
    assert preview.flag("--policy-pack") == ["policies"]
    assert preview.flag("--policy-pack-config") == ["stacks/policy-config.dev.json"]
    from drills.stackfile import REPO_ROOT

    assert preview.cwd == str(REPO_ROOT)  # the repository is the local program
    _assert_origin(harness)


@pytest.mark.parametrize(
    ("op", "type_token", "unsafe"),
    [
        ("replace", "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup", True),
        ("delete-replaced", "aws:kms/key:Key", True),
        ("create-replacement", "aws:rds/globalCluster:GlobalCluster", True),
        ("delete", "aws:secretsmanager/secret:Secret", True),
        ("discard", "aws:backup/vault:Vault", True),
        ("update", "aws:rds/cluster:Cluster", False),
        ("replace", "aws:route53/record:Record", False),
        ("delete", "aws:cloudwatch/metricAlarm:MetricAlarm", False),
    ],
)
def test_which_preview_steps_are_unsafe(op: str, type_token: str, unsafe: bool) -> None:
    from drills.reconcile import unsafe_steps

    steps = [{"op": op, "urn": _urn(type_token, "x"), "type": type_token}]
    assert bool(unsafe_steps(steps)) is unsafe


def test_stateless_replacements_and_advisory_findings_do_not_stop_the_drill(
    harness: DrillHarness,
) -> None:
    harness.backend.planner = static_plan(
        Plan(
            [
                PlannedStep(
                    "replace",
                    _urn("aws:route53/record:Record", "writer"),
                    "aws:route53/record:Record",
                )
            ],
            [PolicyFinding("cost-tags", "missing CostCenter", "advisory")],
        )
    )

    result = harness.run("planned-switchover")

    assert result.succeeded, result.reason
    assert len(harness.command.calls_of("up")) == 1
    preview = next(p for p in result.pulumi if p["kind"] == "preview")
    assert preview["policy"][0]["policy"] == "cost-tags"
    assert preview["steps"][0]["op"] == "replace"


def test_a_mandatory_policy_violation_stops_the_drill(harness: DrillHarness) -> None:
    harness.backend.planner = static_plan(
        Plan(
            policy=[
                PolicyFinding(
                    "aurora-multi-az",
                    "only one AZ in us-west-2",
                    "mandatory",
                    _urn("aws:rds/cluster:Cluster", "aurora-us-west-2"),
                ),
                PolicyFinding("cost-tags", "missing CostCenter", "advisory"),
            ]
        )
    )

    result = harness.run("planned-switchover")

    assert result.status == "rolled-back"
    assert "mandatory policies: aurora-multi-az" in result.reason
    assert "cost-tags" not in result.reason
    assert not harness.command.calls_of("up")
    _assert_origin(harness)


def test_a_busy_stack_is_retried_then_reported_as_busy(harness: DrillHarness) -> None:
    # one conflict on the refresh is retried transparently; then another update holds the
    # stack for longer than the retries when the drill wants to preview
    harness.backend.busy_for = 1
    hold = AtStep("preview", lambda: setattr(harness.backend, "busy_for", 10))

    result = harness.run("cache-failover", observers=[hold])

    refresh = next(p for p in result.pulumi if p["kind"] == "refresh")
    assert refresh["attempts"] == 2 and not refresh["error"]
    assert result.status == "rolled-back"
    assert "another update is in progress" in result.reason
    assert harness.cache_primary() == PRIMARY


def test_other_pulumi_failures_abort_with_the_cli_message(harness: DrillHarness) -> None:
    harness.backend.fail_next["up"] = "error: resource aurora-us-west-2 failed: AccessDenied"

    result = harness.run("planned-switchover")

    assert result.status == "rolled-back"
    assert "pulumi up on stack dev failed" in result.reason and "AccessDenied" in result.reason
    _assert_origin(harness)


def test_a_stack_held_by_another_drill_is_refused(harness: DrillHarness) -> None:
    from drills.errors import DrillLockedError

    locks = harness.state_dir / "locks"
    locks.mkdir(parents=True)
    (locks / "dev.lock").write_text("1 dev-planned-switchover-other")  # pid 1 is alive, not us

    with pytest.raises(
        DrillLockedError, match="drill dev-planned-switchover-other is running in process 1"
    ):
        harness.run("planned-switchover")

    journal = harness.journal(harness.only_drill()).data
    assert journal["status"] == "refused" and "process 1" in journal["reason"]
    assert harness.writer_region() == PRIMARY


def test_production_needs_explicit_confirmation(harness: DrillHarness) -> None:
    from drills.drill import ConfirmationRequiredError, start_drill

    harness.backend.stacks["prod"] = harness.backend.stacks.pop("dev")
    harness.backend.stacks["prod"].name = "prod"
    with pytest.raises(ConfirmationRequiredError, match="--yes-i-mean-prod"):
        start_drill("prod", "planned-switchover", harness.env())
    assert not harness.state_dir.exists() or not list(harness.state_dir.glob("*/journal.json"))


def test_two_writers_are_detected(harness: DrillHarness) -> None:
    """The invariant checker sees a split brain: a detached secondary next to the writer."""
    from drills.invariant import single_writer

    rds = harness.client("rds", SECONDARY)
    rds.remove_from_global_cluster(
        GlobalClusterIdentifier=harness.topology.global_cluster_id,
        DbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
    )
    harness.settle()  # the detached cluster is a standalone writer now
    check = single_writer(harness.context("split"), None)
    assert check["ok"] is False
    assert set(check["writers"]) == {PRIMARY, SECONDARY}
    assert "the Data API answers as a writer" in check["detail"]
    assert "aurora_rereads" not in check  # the global cluster held still: no reason to re-read


def test_refuses_when_a_cluster_has_the_data_api_off(harness: DrillHarness) -> None:
    """AWS refuses Data API statements on a cluster without the HTTP endpoint: the drill, which
    writes its canaries through it, refuses before it moves anything, and says how to fix it."""
    harness.client("rds", SECONDARY).disable_http_endpoint(
        ResourceArn=harness.seeded.cluster_arns[SECONDARY]
    )

    result = harness.run("planned-switchover")

    assert result.status == "refused"
    assert f"aurora-data-api-{SECONDARY}: the RDS Data API (HTTP endpoint) is off" in result.reason
    assert "auroraDataApiEnabled" in result.reason
    assert not harness.command.calls_of("preview")
    _assert_origin(harness)


def test_refuses_when_the_writer_has_no_canary_table(harness: DrillHarness) -> None:
    """The drill sends no DDL: a writer whose schema lacks the canary table is refused with the
    statement that creates it."""
    from emulator import STATE

    STATE.aurora.stores[harness.seeded.cluster_arns[PRIMARY]].conn.execute(
        "DROP TABLE drill_canary"  # a database nobody ran the drills' migration on
    )

    result = harness.run("cache-failover")

    assert result.status == "refused"
    assert "aurora-canary-table: table drill_canary does not exist" in result.reason
    assert "CREATE TABLE IF NOT EXISTS drill_canary" in result.reason
    assert harness.cache_primary() == PRIMARY


def test_ssm_refusing_the_setting_aborts_the_evacuation_and_rolls_back(
    harness: DrillHarness,
) -> None:
    """A parameter whose AllowedPattern does not admit the other region: SSM refuses the move
    (ParameterPatternMismatchException), the drill stops and puts everything back."""
    name = harness.topology.active_region_parameter
    for region in (PRIMARY, SECONDARY):
        harness.client("ssm", region).put_parameter(
            Name=name, Value=PRIMARY, Overwrite=True, AllowedPattern=f"^{PRIMARY}$"
        )

    result = harness.run("dynamodb-evacuation")

    assert result.status == "rolled-back", result.reason
    assert "dynamodb-move" in result.reason and "ParameterPatternMismatchException" in result.reason
    assert harness.active_region() == {PRIMARY: PRIMARY, SECONDARY: PRIMARY}
    assert harness.canary_items(PRIMARY) == []


def test_refuses_an_up_that_touches_more_than_the_region_swap(harness: DrillHarness) -> None:
    """The swap changes the writer record; the preview also creates a queue merged since the
    last deploy: the drill deploys only what it changed, so it refuses and prints the queue
    (issue 17 item 6). The expectation is the swap's own diff, as the offline plans of both
    region pairs give it."""
    swap = _urn("aws:route53/record:Record", "writer")
    extra = _urn("aws:sqs/queue:Queue", "merged-since")
    harness.backend.planner = static_plan(
        Plan(
            [
                PlannedStep("update", swap, "aws:route53/record:Record"),
                PlannedStep("create", extra, "aws:sqs/queue:Queue"),
            ]
        )
    )
    harness.expectation = lambda deployed, wanted: {("update", swap)}

    result = harness.run("planned-switchover")

    assert result.status == "rolled-back", result.reason
    assert "did not change" in result.reason and f"create {extra}" in result.reason
    assert swap not in result.reason
    assert not harness.command.calls_of("up"), "up never runs after an unexpected preview"
    state = harness.journal(result.drill_id).state
    assert state["expected_changes"] == [["update", swap]]
    _assert_origin(harness)


@pytest.mark.parametrize(
    ("steps", "expected", "unexpected"),
    [
        ([("update", "a")], {("update", "a")}, []),
        ([("same", "b"), ("read", "c")], set(), []),  # no change
        ([("update", "a"), ("create", "q")], {("update", "a")}, [("create", "q")]),
        ([("update", "a")], {("replace", "a")}, [("update", "a")]),  # another op on it
        # a replacement's three engine steps are the plan's one "replace"
        (
            [("create-replacement", "r"), ("replace", "r"), ("delete-replaced", "r")],
            {("replace", "r")},
            [],
        ),
        ([("delete-replaced", "r")], set(), [("replace", "r")]),
    ],
)
def test_which_preview_steps_the_drill_did_not_change(
    steps: list[tuple[str, str]], expected: set[tuple[str, str]], unexpected: list[tuple[str, str]]
) -> None:
    from drills.reconcile import unexpected_steps

    found = unexpected_steps([{"op": op, "urn": urn, "type": "t"} for op, urn in steps], expected)
    assert found == unexpected
