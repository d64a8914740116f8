"""The Automation API driver against the PulumiCommand stand-in: arguments, engine events
(gRPC and event-log file), ChangeSummary, and error translation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi import automation as auto

from drills.errors import PolicyViolationError, ReconcileError, StackBusyError, UnsafePreviewError
from drills.reconcile import StackReconciler
from drills.stackfile import REPO_ROOT
from drills.standin import (
    Plan,
    PlannedStep,
    PolicyFinding,
    StandInBackend,
    StandInPulumiCommand,
    static_plan,
)

PROJECT = "securecart-data"
CLUSTER = "urn:pulumi:dev::securecart-data::aws:rds/cluster:Cluster::aurora-us-east-1"


def _backend() -> StandInBackend:
    backend = StandInBackend(
        PROJECT, outputs_after_up=lambda s: {"primaryRegion": s.config[f"{PROJECT}:primaryRegion"]}
    )
    backend.add_stack(
        "dev",
        {"primaryRegion": "us-east-1", "secondaryRegion": "us-west-2", "drillsRtoSeconds": "600"},
        {"primaryRegion": "us-east-1", "auroraSecretArn": "arn:secret"},
        secrets={"auroraSecretArn"},
    )
    return backend


def _reconciler(command: StandInPulumiCommand, **kwargs) -> StackReconciler:
    return StackReconciler("dev", REPO_ROOT, PROJECT, command, busy_backoff=0.0, **kwargs)


def test_the_sdk_drives_the_stand_in_like_the_cli() -> None:
    backend = _backend()
    command = StandInPulumiCommand(backend)
    backend.planner = static_plan(
        Plan(
            [
                PlannedStep("same", "urn:a", "aws:sns/topic:Topic"),
                PlannedStep("update", CLUSTER, "aws:rds/cluster:Cluster"),
            ],
            [PolicyFinding("cost-tags", "missing CostCenter")],
        )
    )
    reconciler = _reconciler(command)

    assert reconciler.update_in_progress() is False
    assert reconciler.config()["drillsRtoSeconds"] == 600  # parsed as the program parses it
    reconciler.set_regions("us-west-2", "us-east-1")
    assert reconciler.regions() == ("us-west-2", "us-east-1")
    preview = reconciler.preview()
    record, outputs = reconciler.up()

    assert preview.change_summary == {"same": 1, "update": 1}  # from the engine's summary event
    assert preview.steps[1] == {"op": "update", "urn": CLUSTER, "type": "aws:rds/cluster:Cluster"}
    assert preview.policy[0]["policy"] == "cost-tags" and preview.policy[0]["level"] == "advisory"
    assert record.change_summary == {"same": 1, "update": 1}
    assert outputs == {"primaryRegion": "us-west-2"}
    assert reconciler.outputs() == {"primaryRegion": "us-west-2"}

    call = command.calls_of("preview")[0]
    assert call.args[:2] == ["--non-interactive", "preview"]
    assert call.flag("--policy-pack") == ["policies"]
    assert call.flag("--policy-pack-config") == ["stacks/policy-config.dev.json"]
    assert call.flag("--stack") == ["dev"]
    assert call.flag("--event-log")[0].startswith("tcp://127.0.0.1:")
    assert call.cwd == str(REPO_ROOT)
    assert call.env.get("PULUMI_SKIP_UPDATE_CHECK") == "true"
    up = command.calls_of("up")[0]
    assert "--yes" in up.args and "--skip-preview" in up.args
    assert up.flag("--policy-pack") == ["policies"]
    setall = command.calls_of("config set-all")[0]
    assert setall.flag("--plaintext") == [
        f"{PROJECT}:primaryRegion=us-west-2",
        f"{PROJECT}:secondaryRegion=us-east-1",
    ]


def test_older_clis_stream_events_through_a_log_file() -> None:
    """With a CLI at or before 3.205 the SDK tails an event-log file instead of serving gRPC."""
    backend = _backend()
    backend.planner = static_plan(Plan([PlannedStep("update", CLUSTER, "aws:rds/cluster:Cluster")]))
    command = StandInPulumiCommand(backend, version="3.200.0")

    preview = _reconciler(command).preview()

    assert preview.change_summary == {"update": 1}
    log = command.calls_of("preview")[0].flag("--event-log")[0]
    assert not log.startswith("tcp://") and log.endswith("eventlog.txt")


def test_secret_outputs_are_masked_unless_asked() -> None:
    backend = _backend()
    command = StandInPulumiCommand(backend)
    stack = auto.select_stack(
        stack_name="dev",
        work_dir=str(REPO_ROOT),
        opts=auto.LocalWorkspaceOptions(pulumi_command=command),
    )
    outputs = stack.outputs()
    assert outputs["auroraSecretArn"].secret is True
    assert outputs["auroraSecretArn"].value == "arn:secret"


def test_a_stateful_replacement_is_refused() -> None:
    backend = _backend()
    backend.planner = static_plan(
        Plan(
            [
                PlannedStep(
                    "replace", CLUSTER, "aws:rds/cluster:Cluster", ("kmsKeyId",), ("kmsKeyId",)
                )
            ]
        )
    )
    command = StandInPulumiCommand(backend)

    with pytest.raises(UnsafePreviewError) as info:
        _reconciler(command).preview()

    assert info.value.changes == [("replace", CLUSTER, "aws:rds/cluster:Cluster")]
    assert not command.calls_of("up")


def test_a_mandatory_policy_fails_the_preview_and_is_named() -> None:
    backend = _backend()
    backend.planner = static_plan(
        Plan(
            policy=[
                PolicyFinding("aurora-backup-retention", "7 days minimum", "mandatory", CLUSTER)
            ]
        )
    )
    command = StandInPulumiCommand(backend)

    with pytest.raises(PolicyViolationError, match="aurora-backup-retention") as info:
        _reconciler(command).preview()

    assert isinstance(info.value.__cause__, ReconcileError)
    assert isinstance(info.value.__cause__.__cause__, auto.CommandError)
    assert command.calls_of("preview")[0].code == 255


def test_concurrent_updates_are_retried_then_raised_as_busy_from_the_sdk_error() -> None:
    backend = _backend()
    command = StandInPulumiCommand(backend)
    backend.busy_for = 1
    record = _reconciler(command, busy_retries=2).refresh()
    assert record.attempts == 2

    backend.locked_by = "ci"
    with pytest.raises(StackBusyError, match="another update is in progress") as info:
        _reconciler(command, busy_retries=1).preview()
    assert isinstance(info.value.__cause__, auto.ConcurrentUpdateError)
    assert len(command.calls_of("preview")) == 2
    assert _reconciler(command).update_in_progress() is True


def test_other_command_errors_become_reconcile_errors() -> None:
    backend = _backend()
    backend.fail_next["up"] = "error: update failed: AccessDenied on rds:ModifyDBCluster"
    command = StandInPulumiCommand(backend)

    with pytest.raises(ReconcileError, match="AccessDenied") as info:
        _reconciler(command).up()

    assert type(info.value) is ReconcileError
    assert isinstance(info.value.__cause__, auto.CommandError)
    assert not isinstance(info.value.__cause__, auto.ConcurrentUpdateError)


def test_an_unknown_stack_is_reported_by_the_sdk() -> None:
    command = StandInPulumiCommand(_backend())
    with pytest.raises(ReconcileError) as info:
        StackReconciler("nope", REPO_ROOT, PROJECT, command).outputs()
    assert isinstance(info.value.__cause__, auto.StackNotFoundError)


def test_history_is_what_the_sdk_expects(tmp_path: Path) -> None:
    backend = _backend()
    command = StandInPulumiCommand(backend)
    stack = auto.select_stack(
        stack_name="dev",
        work_dir=str(REPO_ROOT),
        opts=auto.LocalWorkspaceOptions(pulumi_command=command),
    )
    result = stack.up()
    assert result.summary.result == "succeeded"
    assert result.summary.kind == "update"
    history = json.loads(
        command.run(["stack", "history", "--json", "--stack", "dev"], str(tmp_path), {}).stdout
    )
    assert history[0]["resourceChanges"] == {}
