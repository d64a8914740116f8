"""Redshift: automated snapshots copied to another Region, restores that take time, strictly.

- A cluster with cross-Region snapshot copy on (``enable_snapshot_copy``) has each automated
  snapshot copied to the destination Region after ``redshift_copy_seconds`` (Management Guide,
  "Copying snapshots to another AWS Region"); the copy keeps the source's identifier, cluster
  identifier and ``SnapshotCreateTime`` and names its ``SourceRegion``. Until it has arrived,
  the destination Region does not know it.
- ``restore_from_cluster_snapshot`` finds the snapshot in its own Region only: a snapshot of
  another Region is ``ClusterSnapshotNotFound`` there (copy it first). The new cluster is
  ``creating`` for ``redshift_restore_seconds`` (the gate ``restore_from_cluster_snapshot``
  can hold it), then ``available``.
- ``delete_cluster`` is refused while the cluster is not ``available`` (InvalidClusterState).
- ``describe_cluster_snapshots`` with a ``ClusterIdentifier`` that has no snapshot answers an
  empty list (moto answered every snapshot of the Region).
"""

from __future__ import annotations

from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.redshift.exceptions import RedshiftClientError
from moto.redshift.models import RedshiftBackend, Snapshot, redshift_backends

from .rds_instance import emulated
from .state import STATE, patch

_original: dict[str, Any] = {}
_status: dict[tuple[str, str], str] = {}
"""(region, cluster identifier) -> a transient status the emulator shows instead of moto's."""


def _copy_later(backend: RedshiftBackend, snapshot: Snapshot) -> None:
    cluster = backend.clusters.get(snapshot.cluster_identifier)
    copy_status = getattr(cluster, "cluster_snapshot_copy_status", None) if cluster else None
    if not copy_status or snapshot.snapshot_type != "automated":
        return
    destination = str(copy_status["DestinationRegion"])

    def arrive() -> None:
        dest = redshift_backends[DEFAULT_ACCOUNT_ID][destination]
        if snapshot.snapshot_identifier in dest.snapshots:
            return
        copied = Snapshot(
            cluster,
            snapshot.snapshot_identifier,
            DEFAULT_ACCOUNT_ID,
            destination,
            None,
            snapshot_type="automated",
        )
        copied.create_time = snapshot.create_time
        copied.source_region = backend.region_name  # type: ignore[attr-defined]
        dest.snapshots[copied.snapshot_identifier] = copied

    if not emulated():
        arrive()
        return
    STATE.scheduler.after(
        STATE.timings.redshift_copy_seconds,
        f"redshift copy {snapshot.snapshot_identifier} -> {destination}",
        arrive,
    )


def _create_cluster_snapshot(self: RedshiftBackend, *args: Any, **kwargs: Any) -> Snapshot:
    snapshot: Snapshot = _original["create_cluster_snapshot"](self, *args, **kwargs)
    _copy_later(self, snapshot)
    return snapshot


def _enable_snapshot_copy(self: RedshiftBackend, **kwargs: Any) -> Any:
    cluster = _original["enable_snapshot_copy"](self, **kwargs)
    for snapshot in list(self.snapshots.values()):
        if snapshot.cluster_identifier == cluster.cluster_identifier:
            _copy_later(self, snapshot)
    return cluster


def _describe_cluster_snapshots(
    self: RedshiftBackend,
    cluster_identifier: str | None = None,
    snapshot_identifier: str | None = None,
    snapshot_type: str | None = None,
) -> list[Snapshot]:
    found: list[Snapshot] = _original["describe_cluster_snapshots"](
        self, cluster_identifier, snapshot_identifier, snapshot_type
    )
    if cluster_identifier:
        found = [s for s in found if s.cluster_identifier == cluster_identifier]
    if snapshot_identifier:
        found = [s for s in found if s.snapshot_identifier == snapshot_identifier]
    return found


def _restore_from_cluster_snapshot(self: RedshiftBackend, **kwargs: Any) -> Any:
    cluster = _original["restore_from_cluster_snapshot"](self, **kwargs)
    key = (self.region_name, cluster.cluster_identifier)
    _status[key] = "creating"

    def ready() -> None:
        _status.pop(key, None)

    if not emulated():
        ready()
    elif not STATE.faults.park("restore_from_cluster_snapshot", ready):
        STATE.scheduler.after(
            STATE.timings.redshift_restore_seconds,
            f"redshift restore {cluster.cluster_identifier}",
            ready,
        )
    return cluster


def _delete_cluster(self: RedshiftBackend, **kwargs: Any) -> Any:
    identifier = kwargs.get("cluster_identifier", "")
    status = _status.get((self.region_name, identifier))
    if status is not None:
        raise RedshiftClientError(
            "InvalidClusterState",
            f"There is an operation running on the Cluster {identifier} ({status}). "
            "Please try to delete it at a later time.",
        )
    return _original["delete_cluster"](self, **kwargs)


_moto_status: Any = None


def _cluster_status(self: Any) -> str:
    override = _status.get((self.region, self.cluster_identifier))
    return override if override is not None else str(self.__dict__.get("_status", "available"))


def _set_cluster_status(self: Any, value: str) -> None:
    self.__dict__["_status"] = value


def install() -> None:
    """Install the Redshift behaviours (idempotent)."""
    from moto.redshift.models import Cluster

    if _original:
        return
    for name in (
        "create_cluster_snapshot",
        "enable_snapshot_copy",
        "describe_cluster_snapshots",
        "restore_from_cluster_snapshot",
        "delete_cluster",
    ):
        _original[name] = getattr(RedshiftBackend, name)
    patch(RedshiftBackend, "create_cluster_snapshot", _create_cluster_snapshot)
    patch(RedshiftBackend, "enable_snapshot_copy", _enable_snapshot_copy)
    patch(RedshiftBackend, "describe_cluster_snapshots", _describe_cluster_snapshots)
    patch(RedshiftBackend, "restore_from_cluster_snapshot", _restore_from_cluster_snapshot)
    patch(RedshiftBackend, "delete_cluster", _delete_cluster)
    patch(Cluster, "status", property(_cluster_status, _set_cluster_status))
    patch(Snapshot, "source_region", None)
