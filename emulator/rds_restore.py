"""Point-in-time restore and instance creation for the drills' ``pitr`` scenario.

- ``restore_db_cluster_to_point_in_time`` restores the source cluster's data as of
  ``RestoreToTime`` into a new standalone cluster that is ``creating`` for a while and has no
  HTTP endpoint until one is enabled (RDS User Guide, "Restoring a DB cluster to a specified
  time"); a time after ``LatestRestorableTime`` is refused (``InvalidRestoreFault``).
- ``create_db_instance`` in a cluster: the instance is ``creating`` for a while (the Data API
  answers only once the cluster has an available instance).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBCluster
from moto.rds.responses import RDSResponse

from .aurora import aurora_data, find_cluster, new_store
from .state import STATE, patch


def _restore_db_cluster_to_point_in_time(self: Any) -> ActionResult:
    params = self.params
    source = find_cluster(params["SourceDBClusterIdentifier"], self.backend)
    restore_to = params.get("RestoreToTime")
    if isinstance(restore_to, str):
        restore_to = datetime.fromisoformat(restore_to.replace("Z", "+00:00"))
    latest = STATE.now() - STATE.timings.restorable_lag_seconds
    if isinstance(restore_to, datetime):
        restore_ts = restore_to.replace(tzinfo=restore_to.tzinfo or UTC).timestamp()
        if restore_ts > latest + 1e-3:
            raise RDSClientError(
                "InvalidRestoreFault",
                f"RestoreToTime {restore_to.isoformat()} is after the latest restorable time.",
            )
    else:
        restore_ts = latest
    overrides: dict[str, Any] = {
        "global_cluster_identifier": None,
        "deletion_protection": bool(params.get("DeletionProtection", False)),
        # the copy carries the request's tags, not the source's (RDS API Reference,
        # RestoreDBClusterToPointInTime, Tags); moto copied the source's
        "tags": list(params.get("Tags") or []),
    }
    if not getattr(source, "master_username", None):
        overrides["master_username"] = "restored"
    if "_master_user_password" not in source.__dict__:
        overrides["master_user_password"] = "restored-password"
    cluster = self.backend.restore_db_cluster_to_point_in_time(
        db_cluster_identifier=params["DBClusterIdentifier"],
        source_db_cluster_identifier=source.db_cluster_identifier,
        restore_type=params.get("RestoreType", "full-copy"),
        **overrides,
    )
    cluster.is_writer = False
    data = aurora_data()
    history = [h for h in data.store(source).history if h[0] <= restore_ts]
    data.stores[cluster.db_cluster_arn] = new_store(cluster.db_cluster_arn, history)
    arn = cluster.db_cluster_arn
    data.cluster_status[arn] = "creating"
    if not STATE.faults.is_stuck("restore_db_cluster_to_point_in_time"):
        STATE.scheduler.after(
            STATE.timings.restore_cluster_seconds,
            f"aurora restore {cluster.db_cluster_identifier}",
            data.clear_status(arn),
        )
    return ActionResult({"DBCluster": cluster})


def _create_db_instance(self: Any) -> ActionResult:
    database = self.backend.create_db_instance(self.params)
    cluster_id = getattr(database, "db_cluster_identifier", None)
    if cluster_id:
        database.status = "creating"
        delay = STATE.timings.instance_create_seconds

        def ready() -> None:
            database.status = "available"

        STATE.scheduler.after(delay, f"rds instance {database.db_instance_identifier}", ready)
    return ActionResult({"DBInstance": database})


def _latest_restorable_time(self: DBCluster) -> datetime:
    lag = STATE.timings.restorable_lag_seconds
    return datetime.fromtimestamp(STATE.now() - lag, tz=UTC).replace(tzinfo=None)


def install() -> None:
    """Install the restore and instance behaviours on moto's RDS responses."""
    patch(RDSResponse, "restore_db_cluster_to_point_in_time", _restore_db_cluster_to_point_in_time)
    patch(RDSResponse, "create_db_instance", _create_db_instance)
    patch(DBCluster, "latest_restorable_time", property(_latest_restorable_time))
