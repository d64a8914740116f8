"""The fraud graph's drills (issue 20): a Neptune global switchover and a lossy failover, through
the store interface (drills/stores.py NeptuneGlobal), with ``fraud.<zone>`` following the writer;
aborts roll back to one writer in the origin; the emulator refuses what Neptune refuses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from drill_harness import PRIMARY, SECONDARY, AtEvent, DrillHarness
from stores_harness import (
    abort_after,
    fraud_endpoint,
    fraud_record,
    neptune_writer,
    stores_harness,
)

from emulator import Emulator


@pytest.fixture
def store(emulator: Emulator, tmp_path: Path) -> Iterator[DrillHarness]:
    yield from stores_harness(emulator, tmp_path, only=("neptune",))


def _home(store: DrillHarness) -> None:
    store.quiesce()
    assert neptune_writer(store) == PRIMARY
    assert fraud_record(store) == fraud_endpoint(store, PRIMARY)


def test_switchover_moves_the_writer_and_its_name_out_and_back(store: DrillHarness) -> None:
    seen: list[tuple[str, str | None]] = []
    # where the writer and the name were when the drill said the writer took writes out there
    record = AtEvent(
        "takeover", lambda: seen.append((neptune_writer(store), fraud_record(store))), "us-west-2"
    )

    result = store.run("neptune-switchover", observers=[record])

    assert result.status == "succeeded", store.journal(result.drill_id).data.get("reason")
    assert seen == [(SECONDARY, fraud_endpoint(store, SECONDARY))]
    _home(store)
    m = store.journal(result.drill_id).data["state"]["measurements"]
    for key in ("neptune:neptune", "neptune-failback:neptune"):
        # from the request until a write through the name succeeded: the emulated switchover
        # (switchover_seconds) is inside it
        assert m[key]["rto_seconds"] >= store.emulator.timings.switchover_seconds
        assert m[key]["action"].startswith("neptune switchover_global_cluster")


def test_failover_needs_consent_then_fails_over_lossily_and_comes_back(
    store: DrillHarness,
) -> None:
    refused = store.run("neptune-failover")
    assert refused.status == "refused"
    assert "data-loss-accepted" in str(store.journal(refused.drill_id).data.get("reason"))
    _home(store)

    result = store.run("neptune-failover", allow_data_loss=True)

    assert result.status == "succeeded", store.journal(result.drill_id).data.get("reason")
    _home(store)
    m = store.journal(result.drill_id).data["state"]["measurements"]["neptune:neptune"]
    assert m["action"] == f"neptune failover_global_cluster -> {SECONDARY} (AllowDataLoss)"
    assert m["rto_seconds"] >= store.emulator.timings.failover_seconds


@pytest.mark.parametrize(("step", "kind"), [("neptune-switchover", "crash")])
def test_an_abort_at_a_step_boundary_leaves_one_writer_in_the_origin(
    store: DrillHarness, step: str, kind: str
) -> None:
    result = abort_after(store, "neptune-switchover", step, kind)

    assert result.status == "rolled-back"
    checks = store.journal(result.drill_id).data["invariant_checks"]
    assert checks[-1]["ok"], checks[-1]
    _home(store)


def test_an_abort_while_the_switchover_is_in_flight_waits_for_it_then_moves_back(
    store: DrillHarness,
) -> None:
    gate = store.emulator.faults.hold("switchover_global_cluster")
    release = AtEvent("undo", gate.release, "neptune: a move is in flight")
    stop = AtEvent("action", lambda: store.set_alarm(PRIMARY), "neptune switchover")
    settings = store.settings.with_(stop_check_interval=0.0)

    result = store.run("neptune-switchover", observers=[stop, release], settings=settings)

    assert result.status == "rolled-back" and gate.count == 1 and release.fired
    _home(store)


def test_the_emulator_refuses_what_neptune_refuses(store: DrillHarness) -> None:
    assert store.topology.neptune is not None
    spec = store.topology.neptune
    client = store.client("neptune", SECONDARY)
    arn = store.seeded.outputs["fraudGraph"]["clusters"]
    # a switchover target must be a secondary of this global database
    stray = client.create_db_cluster(
        DBClusterIdentifier=f"{spec.clusters[SECONDARY]}-stray",
        Engine="neptune",
        EngineVersion=spec.engine_version,
        StorageEncrypted=True,
    )["DBCluster"]["DBClusterArn"]
    with pytest.raises(ClientError):
        client.switchover_global_cluster(
            GlobalClusterIdentifier=spec.global_cluster_id, TargetDbClusterIdentifier=stray
        )
    # a switchover needs the same engine version in the target as in the primary (Neptune
    # User Guide, "Setting up a Neptune global database": every member runs the same version)
    odd = store.client("neptune", "eu-west-1").create_db_cluster(
        DBClusterIdentifier=f"{spec.clusters[SECONDARY]}-odd",
        Engine="neptune",
        EngineVersion="1.2.1.0",
        GlobalClusterIdentifier=spec.global_cluster_id,
        StorageEncrypted=True,
    )["DBCluster"]["DBClusterArn"]
    with pytest.raises(ClientError) as mismatch:
        client.switchover_global_cluster(
            GlobalClusterIdentifier=spec.global_cluster_id, TargetDbClusterIdentifier=odd
        )
    assert mismatch.value.response["Error"]["Code"] == "InvalidParameterCombination"
    # the primary cannot be its own target
    with pytest.raises(ClientError):
        client.switchover_global_cluster(
            GlobalClusterIdentifier=spec.global_cluster_id,
            TargetDbClusterIdentifier=arn[PRIMARY]["arn"],
        )
    # FailoverGlobalCluster: AllowDataLoss "Can't be specified together with the Switchover
    # parameter" (Neptune API Reference)
    with pytest.raises(ClientError) as both:
        client.failover_global_cluster(
            GlobalClusterIdentifier=spec.global_cluster_id,
            TargetDbClusterIdentifier=arn[SECONDARY]["arn"],
            AllowDataLoss=True,
            Switchover=True,
        )
    assert both.value.response["Error"]["Code"] == "InvalidParameterCombination"
    assert neptune_writer(store) == PRIMARY
