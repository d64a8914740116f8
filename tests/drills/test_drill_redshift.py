"""The analytics warehouse's drill (issue 20): restore the newest snapshot copied to the copy
region, measure it (RTO: until available; RPO: the copy's age), delete the restored cluster,
also on rollback; the emulator refuses a restore from a snapshot of another region."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from drill_harness import PRIMARY, SECONDARY, AtEvent, DrillHarness
from stores_harness import stores_harness

from drills.pitr import DRILL_TAG
from emulator import Emulator


@pytest.fixture
def store(emulator: Emulator, tmp_path: Path) -> Iterator[DrillHarness]:
    yield from stores_harness(emulator, tmp_path, only=("redshift",))


def _clusters(store: DrillHarness, region: str) -> list[str]:
    return [
        c["ClusterIdentifier"]
        for c in store.client("redshift", region).describe_clusters()["Clusters"]
        if c["ClusterIdentifier"].startswith(
            str(store.seeded.outputs["redshift"]["clusterIdentifier"])
        )
    ]


def test_restore_of_the_latest_copy_is_measured_and_cleaned_up(store: DrillHarness) -> None:
    source = str(store.seeded.outputs["redshift"]["clusterIdentifier"])
    copies = store.client("redshift", SECONDARY).describe_cluster_snapshots(
        ClusterIdentifier=source, SnapshotType="automated"
    )["Snapshots"]
    assert len(copies) == 1 and copies[0]["SourceRegion"] == PRIMARY
    taken = copies[0]["SnapshotCreateTime"].timestamp()
    seen: list[dict[str, object]] = []

    def look() -> None:  # the restored cluster as the copy region shows it once measured
        restored = [c for c in _clusters(store, SECONDARY) if c != source]
        found = store.client("redshift", SECONDARY).describe_clusters(
            ClusterIdentifier=restored[0]
        )["Clusters"][0]
        seen.append(found)

    result = store.run("redshift-restore", observers=[AtEvent("restored", look)])

    assert result.status == "succeeded", store.journal(result.drill_id).data.get("reason")
    restored = seen[0]
    assert restored["ClusterStatus"] == "available"
    assert restored["PubliclyAccessible"] is False and restored["EnhancedVpcRouting"] is True
    assert {"Key": DRILL_TAG, "Value": result.drill_id} in restored["Tags"]  # type: ignore[operator]
    assert _clusters(store, SECONDARY) == []  # deleted again
    assert _clusters(store, PRIMARY) == [source]  # the source untouched
    m = store.journal(result.drill_id).data["state"]["measurements"]["redshift-restore:redshift"]
    assert m["snapshot"] == copies[0]["SnapshotIdentifier"]
    assert m["rto_seconds"] >= store.emulator.timings.redshift_restore_seconds
    # the copy's age at the request (hand computation from the emulator's own snapshot)
    assert m["rpo_seconds"] == pytest.approx(m["requested_at"] - taken, abs=0.01)
    assert 0 < m["rpo_seconds"] < datetime.now(tz=UTC).timestamp() - taken


def test_an_abort_while_the_restore_is_in_flight_deletes_the_restored_cluster(
    store: DrillHarness,
) -> None:
    """Redshift refuses to delete a cluster mid-restore: the rollback waits, then deletes."""
    gate = store.emulator.faults.hold("restore_from_cluster_snapshot")
    stop = AtEvent("action", lambda: store.set_alarm(PRIMARY), "restore_from_cluster_snapshot")
    release = AtEvent("rollback", gate.release)
    settings = store.settings.with_(stop_check_interval=0.0)

    result = store.run("redshift-restore", observers=[stop, release], settings=settings)

    assert result.status == "rolled-back" and gate.count == 1
    assert _clusters(store, SECONDARY) == []


def test_the_emulator_refuses_what_redshift_refuses(store: DrillHarness) -> None:
    out = store.seeded.outputs["redshift"]
    snapshot = store.client("redshift", PRIMARY).describe_cluster_snapshots(
        ClusterIdentifier=out["clusterIdentifier"]
    )["Snapshots"][0]["SnapshotIdentifier"]
    # a snapshot is restorable only in a region that holds it (or its copy)
    with pytest.raises(ClientError) as refused:
        store.client("redshift", "eu-west-1").restore_from_cluster_snapshot(
            ClusterIdentifier="elsewhere", SnapshotIdentifier=snapshot
        )
    assert refused.value.response["Error"]["Code"] == "ClusterSnapshotNotFound"
    # no deleting a cluster while it is being restored
    gate = store.emulator.faults.hold("restore_from_cluster_snapshot")
    client = store.client("redshift", SECONDARY)
    client.restore_from_cluster_snapshot(
        ClusterIdentifier="mid-restore", SnapshotIdentifier=snapshot
    )
    with pytest.raises(ClientError) as refused:
        client.delete_cluster(ClusterIdentifier="mid-restore", SkipFinalClusterSnapshot=True)
    assert refused.value.response["Error"]["Code"] == "InvalidClusterState"
    gate.release()
    store.quiesce()
    client.delete_cluster(ClusterIdentifier="mid-restore", SkipFinalClusterSnapshot=True)
