"""Alarms the drill sets off itself (issue 17 item 8): each phase declares the alarms it expects
in the region it demotes, and they do not stop it; any other alarm still does. The emulator
fires the alarms from its own metrics (``emulator/cloudwatch.py``), and the tests wait
for the emulator to show the state (an outcome, never a duration) before the drill looks."""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime

from drill_harness import PRIMARY, SECONDARY, AtStep, DrillHarness

from emulator import STATE


def _add_alarm(
    harness: DrillHarness,
    region: str,
    key: str,
    metric: str,
    dimensions: dict[str, str],
    threshold: float,
    comparison: str = "GreaterThanThreshold",
) -> str:
    """An alarm named as the stack names them (``<prefix>-<key>-<region>``), created in the
    emulator and listed in the stack's ``alarmNames`` output."""
    name = f"securecart-dev-{harness.topology.global_cluster_id[-8:]}-{key}-{region}"
    harness.client("cloudwatch", region).put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/RDS",
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=threshold,
        ComparisonOperator=comparison,
        TreatMissingData="notBreaching",
    )
    outputs = harness.pulumi_stack.outputs
    outputs["alarmNames"] = copy.deepcopy(outputs["alarmNames"])
    outputs["alarmNames"].setdefault(region, []).append(name)
    return name


def _state(harness: DrillHarness, region: str, name: str) -> str:
    alarms = harness.client("cloudwatch", region).describe_alarms(AlarmNames=[name])
    return str(alarms["MetricAlarms"][0]["StateValue"])


def _wait_for_state(harness: DrillHarness, region: str, name: str, state: str) -> None:
    """Until the emulator shows ``state`` (each read ticks the emulator; bounded by a bug)."""
    deadline = time.monotonic() + 10.0
    while _state(harness, region, name) != state:
        assert time.monotonic() < deadline, f"{name} never went to {state}"
        time.sleep(0.005)


def _cluster_id(harness: DrillHarness, region: str) -> str:
    return harness.seeded.cluster_arns[region].rsplit(":", 1)[-1]


def test_the_replication_lag_into_the_demoted_cluster_fires_and_does_not_stop_the_drill(
    harness: DrillHarness,
) -> None:
    # the lag into the home cluster: published only once it is a secondary, and always above
    # 1 ms there (the emulated lag is 4 ms), so it fires exactly when the switchover demotes it
    lag = _add_alarm(
        harness,
        PRIMARY,
        "aurora-replication-lag",
        "AuroraGlobalDBReplicationLag",
        {"DBClusterIdentifier": _cluster_id(harness, PRIMARY), "SourceRegion": SECONDARY},
        threshold=1.0,
    )
    assert _state(harness, PRIMARY, lag) == "OK"
    fired = AtStep("verify-outputs", lambda: _wait_for_state(harness, PRIMARY, lag, "ALARM"))
    settings = harness.settings.with_(stop_check_interval=0.0)  # read at every check

    result = harness.run("planned-switchover", observers=[fired], settings=settings)

    assert result.succeeded, result.reason
    journal = harness.journal(result.drill_id).data
    assert journal["state"]["expected_alarms_fired"] == [f"{PRIMARY}/{lag}"]
    assert any(e["kind"] == "expected-alarm" and lag in e["message"] for e in journal["timeline"])
    assert harness.writer_region() == SECONDARY


def test_an_alarm_the_drill_does_not_expect_still_stops_it(harness: DrillHarness) -> None:
    cpu = _add_alarm(
        harness,
        SECONDARY,
        "aurora-cpu",
        "CPUUtilization",
        {"DBClusterIdentifier": _cluster_id(harness, SECONDARY)},
        threshold=80.0,
        comparison="GreaterThanOrEqualToThreshold",
    )

    def hot() -> None:
        harness.client("cloudwatch", SECONDARY).put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": "CPUUtilization",
                    "Dimensions": [
                        {"Name": "DBClusterIdentifier", "Value": _cluster_id(harness, SECONDARY)}
                    ],
                    "Value": 95.0,
                    "Timestamp": datetime.fromtimestamp(STATE.now(), tz=UTC),
                }
            ],
        )
        _wait_for_state(harness, SECONDARY, cpu, "ALARM")

    settings = harness.settings.with_(stop_check_interval=0.0)

    result = harness.run(
        "planned-switchover", observers=[AtStep("aurora-switchover", hot)], settings=settings
    )

    assert result.status == "rolled-back", result.reason
    assert "stop condition" in result.reason and cpu in result.reason
    assert harness.writer_region() == PRIMARY and harness.cache_primary() == PRIMARY


def test_an_expected_alarm_of_another_region_is_not_expected(harness: DrillHarness) -> None:
    """The lag alarm of the promoted region is not the demoted one's: it stops the drill, even
    though the failback phase will expect it once that phase starts (it has not). (Its
    dimensions name a source no cluster replicates from, so the emulator never evaluates it
    and the state the test sets stays.)"""
    promoted = _add_alarm(
        harness,
        SECONDARY,
        "aurora-replication-lag",
        "AuroraGlobalDBReplicationLag",
        {"DBClusterIdentifier": _cluster_id(harness, SECONDARY), "SourceRegion": "eu-west-1"},
        threshold=1000.0,
    )
    settings = harness.settings.with_(stop_check_interval=0.0)
    fire = AtStep("aurora-switchover", lambda: harness.set_alarm_named(SECONDARY, promoted))

    result = harness.run("planned-switchover", failback=True, observers=[fire], settings=settings)

    assert result.status == "rolled-back", result.reason
    assert promoted in result.reason
