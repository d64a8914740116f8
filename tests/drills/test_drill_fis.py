"""The unplanned failover's FIS fault (issue 17 item 4): the emulator runs FIS experiments on
its clock with AWS's states and the network disruption really cuts the region's data plane
(databases and caches stop answering applications; the region's AWS APIs still answer); the
drill starts the stack's experiment, journals its id, fails over, stops it before the rebuild,
and stops it first of all on rollback. The start is crash-safe like every irreversible call."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from drill_harness import (
    ANSWERED,
    INTENT,
    PRIMARY,
    SECONDARY,
    TIMINGS,
    WAITING,
    AtStep,
    Crash,
    CrashAtCall,
    DrillHarness,
)

from emulator import STATE
from emulator.state import ManualClock

ACCOUNT = "123456789012"
FAST = replace(TIMINGS, fis_start_seconds=0.02, fis_stop_seconds=0.02)


def _templates(harness: DrillHarness, duration: str = "PT30M") -> dict[str, str]:
    """The stack's templates, as components/fault_injection.py creates them, and the output."""
    ids: dict[str, str] = {}
    for region in (PRIMARY, SECONDARY):
        made = harness.client("fis", region).create_experiment_template(
            clientToken=f"{harness.topology.global_cluster_id}-{region}",
            description=f"cut the data subnets of {region} off the network",
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/securecart-dev-fis",
            stopConditions=[{"source": "none"}],
            targets={
                "data-subnets": {
                    "resourceType": "aws:ec2:subnet",
                    "resourceArns": [
                        f"arn:aws:ec2:{region}:{ACCOUNT}:subnet/subnet-{n}" for n in range(3)
                    ],
                    "selectionMode": "ALL",
                }
            },
            actions={
                "disrupt-data-subnets": {
                    "actionId": "aws:network:disrupt-connectivity",
                    "parameters": {"duration": duration, "scope": "all"},
                    "targets": {"Subnets": "data-subnets"},
                }
            },
        )
        ids[region] = made["experimentTemplate"]["id"]
    harness.seeded.outputs["faultInjectionTemplates"] = ids
    harness.pulumi_stack.outputs["faultInjectionTemplates"] = ids
    return ids


def _cache_reachable(harness: DrillHarness, region: str) -> bool:
    host = harness.seeded.cache_endpoints[region][0]
    try:  # the emulator's listener answers on its own port, as DNS would resolve the name
        harness.emulator.cache_plane.connect(host, 0, 1.0).close()
    except TimeoutError:
        return False
    return True


def _status(harness: DrillHarness, region: str, experiment_id: str) -> str:
    answer = harness.client("fis", region).get_experiment(id=experiment_id)
    return str(answer["experiment"]["state"]["status"])


def _experiments(harness: DrillHarness, region: str, template: str) -> list[dict[str, Any]]:
    fis = harness.client("fis", region)
    return list(fis.list_experiments(experimentTemplateId=template)["experiments"])


def test_an_experiment_cuts_the_data_plane_while_it_runs(
    harness: DrillHarness, clock: ManualClock
) -> None:
    harness.emulator.timings = replace(TIMINGS, fis_start_seconds=5.0, fis_stop_seconds=3.0)
    template = _templates(harness)[PRIMARY]
    fis = harness.client("fis", PRIMARY)

    started = fis.start_experiment(clientToken="t-1", experimentTemplateId=template)["experiment"]
    assert started["state"]["status"] == "initiating"
    assert STATE.faults.data_plane_cut == set() and _cache_reachable(harness, PRIMARY)
    # the same clientToken is the same experiment (StartExperiment is idempotent)
    again = fis.start_experiment(clientToken="t-1", experimentTemplateId=template)["experiment"]
    assert again["id"] == started["id"] and len(_experiments(harness, PRIMARY, template)) == 1

    clock.advance(4.9)
    assert _status(harness, PRIMARY, started["id"]) == "initiating"
    clock.advance(0.2)
    assert _status(harness, PRIMARY, started["id"]) == "running"
    assert STATE.faults.data_plane_cut == {PRIMARY}
    # applications lose the region's cache and database; its AWS APIs still answer
    assert not _cache_reachable(harness, PRIMARY) and _cache_reachable(harness, SECONDARY)
    with pytest.raises(ClientError) as refused:
        harness.client("rds-data", PRIMARY).execute_statement(
            resourceArn=harness.seeded.cluster_arns[PRIMARY],
            secretArn=harness.seeded.secret_arns[PRIMARY],
            sql="SELECT 1",
        )
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert harness.client("rds", PRIMARY).describe_db_clusters()["DBClusters"]

    stopping = fis.stop_experiment(id=started["id"])["experiment"]
    assert stopping["state"]["status"] == "stopping"
    clock.advance(2.9)
    assert _status(harness, PRIMARY, started["id"]) == "stopping"
    assert STATE.faults.data_plane_cut == {PRIMARY}  # FIS is still rolling the ACLs back
    clock.advance(0.2)
    assert _status(harness, PRIMARY, started["id"]) == "stopped"
    assert STATE.faults.data_plane_cut == set() and _cache_reachable(harness, PRIMARY)
    assert fis.stop_experiment(id=started["id"])["experiment"]["state"]["status"] == "stopped"


def test_an_experiment_completes_after_its_duration_or_stops_on_its_alarm(
    harness: DrillHarness, clock: ManualClock
) -> None:
    harness.emulator.timings = replace(TIMINGS, fis_start_seconds=1.0, fis_stop_seconds=1.0)
    template = _templates(harness, duration="PT2M")[SECONDARY]
    fis = harness.client("fis", SECONDARY)
    first = fis.start_experiment(clientToken="a", experimentTemplateId=template)["experiment"]
    clock.advance(1.0)
    assert _status(harness, SECONDARY, first["id"]) == "running"
    clock.advance(119.0)
    assert _status(harness, SECONDARY, first["id"]) == "running"
    clock.advance(1.0)  # 1 s initiating + PT2M of action
    assert _status(harness, SECONDARY, first["id"]) == "completed"
    assert STATE.faults.data_plane_cut == set()

    # a stop condition in ALARM stops it (FIS User Guide, "Stop conditions for AWS FIS")
    alarm = next(a.name for a in harness.topology.alarms if a.region == SECONDARY)
    template_of = fis.get_experiment_template(id=template)["experimentTemplate"]
    assert template_of["stopConditions"] == [{"source": "none"}]
    guarded = fis.create_experiment_template(
        clientToken="guarded",
        description="guarded",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/securecart-dev-fis",
        stopConditions=[
            {
                "source": "aws:cloudwatch:alarm",
                "value": f"arn:aws:cloudwatch:{SECONDARY}:{ACCOUNT}:alarm:{alarm}",
            }
        ],
        targets=template_of["targets"],
        actions=template_of["actions"],
    )["experimentTemplate"]["id"]
    second = fis.start_experiment(clientToken="b", experimentTemplateId=guarded)["experiment"]
    clock.advance(1.0)
    assert _status(harness, SECONDARY, second["id"]) == "running"
    harness.set_alarm(SECONDARY)
    clock.advance(1.0)
    assert _status(harness, SECONDARY, second["id"]) == "stopping"
    clock.advance(1.0)
    answer = fis.get_experiment(id=second["id"])["experiment"]["state"]
    assert answer["status"] == "stopped" and alarm in answer["reason"]
    assert STATE.faults.data_plane_cut == set()


def test_the_unplanned_failover_impairs_the_primary_with_the_stacks_experiment(
    harness: DrillHarness,
) -> None:
    harness.emulator.timings = FAST
    templates = _templates(harness)
    seen: dict[str, Any] = {}

    def during() -> None:
        seen["cut"] = set(STATE.faults.data_plane_cut)
        seen["cache"] = _cache_reachable(harness, PRIMARY)

    result = harness.run(
        "unplanned-failover",
        observers=[AtStep("aurora-failover", during)],
        allow_data_loss=True,
    )

    assert result.succeeded, result.reason
    assert seen == {"cut": {PRIMARY}, "cache": False}  # the failover ran against a cut primary
    [experiment] = _experiments(harness, PRIMARY, templates[PRIMARY])
    assert experiment["state"]["status"] == "stopped"  # ended by the drill before the rebuild
    assert STATE.faults.data_plane_cut == set()
    assert harness.writer_region() == SECONDARY
    journal = harness.journal(result.drill_id)
    call = journal.state["calls"]["failover:fault"]
    assert call["experiment_id"] == experiment["id"] and call["sent_at"] is not None
    assert (
        call["call"]
        == f"fis.StartExperiment(experimentTemplateId={templates[PRIMARY]}) in {PRIMARY}"
    )
    assert journal.state["calls"]["failover:fault-stop"]["sent_at"] is not None
    phase = journal.state["phases"]["failover"]
    assert phase["experiment"]["id"] == experiment["id"]
    assert phase["primary_answered"] is False and experiment["id"] in phase["fault"]
    # RTO starts when the fault was asked for: never after the experiment ran
    assert phase["fault_at"] <= phase["fault_running_at"]
    names = [s.name for s in result.steps]
    assert names.index("inject-fault") < names.index("declare-primary-lost")
    assert (
        names.index("verify-canaries")
        < names.index("end-fault")
        < names.index("rebuild-old-primary")
    )


def test_rollback_stops_the_experiment_before_moving_anything_back(
    harness: DrillHarness,
) -> None:
    harness.emulator.timings = FAST
    templates = _templates(harness)
    # an alarm nobody expects aborts the drill after the failover moved the writer
    abort = AtStep("cache-failover", lambda: harness.set_alarm(SECONDARY))
    # no read while a step waits: only the read before each step sees the alarm (a drill whose
    # remaining steps ran within one interval of its last read once finished without it)
    spaced = harness.settings.with_(stop_check_interval=3600.0)

    result = harness.run(
        "unplanned-failover", observers=[abort], allow_data_loss=True, settings=spaced
    )

    assert result.status == "rolled-back", result.reason
    [experiment] = _experiments(harness, PRIMARY, templates[PRIMARY])
    assert experiment["state"]["status"] == "stopped"
    assert STATE.faults.data_plane_cut == set()
    timeline = harness.journal(result.drill_id).data["timeline"]
    undone = [e["message"] for e in timeline if e["kind"] == "undone"]
    assert undone[0] == "undid inject-fault"  # the network first, then the writers
    assert harness.writer_region() == PRIMARY


@pytest.mark.parametrize("point", [INTENT, ANSWERED, WAITING])
def test_a_crash_around_the_start_never_starts_a_second_experiment(
    harness: DrillHarness, point: str
) -> None:
    harness.emulator.timings = FAST
    templates = _templates(harness)
    gate = harness.emulator.faults.hold("start_experiment") if point == WAITING else None
    with pytest.raises(Crash):
        harness.run(
            "unplanned-failover",
            observers=[CrashAtCall("failover:fault", point)],
            allow_data_loss=True,
        )
    drill_id = harness.only_drill()
    sent = len(_experiments(harness, PRIMARY, templates[PRIMARY]))
    assert sent == (0 if point == INTENT else 1)
    if gate is not None:
        gate.release()

    result = harness.resume(drill_id)

    assert result.succeeded, result.reason
    [experiment] = _experiments(harness, PRIMARY, templates[PRIMARY])
    assert experiment["state"]["status"] == "stopped"
    call = harness.journal(drill_id).state["calls"]["failover:fault"]
    assert call["experiment_id"] == experiment["id"]
    assert ("resolved" in call) is (point == ANSWERED)
    assert harness.writer_region() == SECONDARY


def test_a_rollback_after_a_crash_finds_and_stops_the_experiment(harness: DrillHarness) -> None:
    harness.emulator.timings = FAST
    templates = _templates(harness)
    with pytest.raises(Crash):
        harness.run(
            "unplanned-failover",
            observers=[CrashAtCall("failover:fault", ANSWERED)],
            allow_data_loss=True,
        )

    result = harness.rollback(harness.only_drill())

    assert result.status == "rolled-back", result.reason
    [experiment] = _experiments(harness, PRIMARY, templates[PRIMARY])
    assert experiment["state"]["status"] == "stopped"
    assert STATE.faults.data_plane_cut == set()
    assert harness.writer_region() == PRIMARY
