"""Aurora Global Database behaviours moto lacks, and an RDS Data API with real SQL semantics.

- ``switchover_global_cluster``: the global cluster goes ``switching-over``; the old writer keeps
  taking writes while the switchover prepares, is fenced (read-only) half-way, and the target
  becomes the writer at the end with every replicated change applied (no data loss).
- ``failover_global_cluster``: with ``AllowDataLoss`` the global cluster goes ``failing-over``, the
  target is promoted with whatever had reached it (the rest is lost), and the old primary waits
  (``SynchronizationStatus: pending-resync``) until its region answers again, then rejoins as a
  secondary rebuilt from the new writer. Without it, it behaves like a switchover.
- ``describe_global_clusters`` honours ``GlobalClusterIdentifier`` (moto returned every one).
- ``remove_from_global_cluster`` for a secondary: it stops replicating and becomes a standalone
  writer (moto looked the global cluster up in the wrong region and left the cluster's flags).
- Each regional cluster has its own SQLite database. Statements run on the writer through the
  Data API are shipped to the secondaries after the configured replication lag (not at all from
  a region that is down). Readers reject writes the way PostgreSQL does.
- ``restore_db_cluster_to_point_in_time`` restores the source cluster's data as of
  ``RestoreToTime`` into a standalone cluster that is ``creating`` for a while.
"""

from __future__ import annotations

import bisect
import inspect
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import MetricDatum, cloudwatch_backends
from moto.core.exceptions import ServiceException
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult
from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBCluster, GlobalCluster, RDSBackend, rds_backends
from moto.rds.responses import RDSResponse
from moto.rdsdata.responses import RDSDataServiceResponse

from .state import STATE, patch

GLOBAL_REGION = "us-east-1"
"""moto keeps every global cluster in this region's backend."""

_MUTATING = re.compile(r"^\s*(insert|update|delete|create|drop|alter|truncate)\b", re.IGNORECASE)
_RECOVERY = re.compile(r"^\s*select\s+pg_is_in_recovery\(\)\s*;?\s*$", re.IGNORECASE)


@dataclass(slots=True)
class Entry:
    """One change shipped from the writer to the secondaries."""

    seq: int
    ts: float
    sql: str
    params: dict[str, Any]
    source_region: str


@dataclass(slots=True)
class ClusterStore:
    """One regional cluster's database and the changes it applied, with when (for PITR)."""

    arn: str
    conn: sqlite3.Connection
    history: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    applied_seq: int = 0

    def apply(self, sql: str, params: dict[str, Any], at: float) -> int:
        """Run a mutating statement; returns the number of rows it changed."""
        cursor = self.conn.execute(_to_sqlite(sql), params)
        self.history.append((at, sql, params))
        return max(cursor.rowcount, 0)

    def query(self, sql: str, params: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a read-only statement; returns column names and rows."""
        cursor = self.conn.execute(_to_sqlite(sql), params)
        columns = [d[0] for d in cursor.description or ()]
        return columns, cursor.fetchall()


def _to_sqlite(sql: str) -> str:
    return re.sub(r"\bdouble precision\b", "REAL", sql, flags=re.IGNORECASE)


def _new_store(
    arn: str, history: list[tuple[float, str, dict[str, Any]]] | None = None
) -> ClusterStore:
    store = ClusterStore(arn, sqlite3.connect(":memory:", check_same_thread=False))
    for at, sql, params in history or []:
        store.apply(sql, params, at)
    return store


@dataclass(slots=True)
class Transition:
    """A switchover or failover in progress."""

    kind: str
    from_arn: str
    to_arn: str
    allow_data_loss: bool
    started: float


class AuroraData:
    """Emulator state for Aurora: stores, replication streams, transitions, status overrides."""

    def __init__(self) -> None:
        self.stores: dict[str, ClusterStore] = {}
        self.streams: dict[str, list[Entry]] = {}
        self.seq: dict[str, int] = {}
        self.transitions: dict[str, Transition] = {}
        self.fenced: set[str] = set()
        self.pending_rejoin: dict[str, str] = {}
        self.rejoin_scheduled: set[str] = set()
        self.cluster_status: dict[str, str] = {}
        self.lost_changes: dict[str, int] = {}
        """Global cluster id -> changes discarded by lossy failovers (for assertions)."""
        self.active: set[str] = set()
        """Global clusters with changes not yet applied everywhere (the pump's work list)."""
        self.published_at = 0.0
        """When the lag metrics were last published to CloudWatch."""

    def reset(self) -> None:
        """Forget all data-plane state."""
        self.published_at = 0.0
        for store in self.stores.values():
            store.conn.close()
        for part in (
            self.stores,
            self.streams,
            self.seq,
            self.transitions,
            self.pending_rejoin,
            self.cluster_status,
            self.lost_changes,
        ):
            part.clear()
        for members in (self.fenced, self.rejoin_scheduled, self.active):
            members.clear()

    # -- lookups -----------------------------------------------------------------------------

    def store(self, cluster: DBCluster) -> ClusterStore:
        """The database of ``cluster``, created empty on first use."""
        arn = cluster.db_cluster_arn
        if arn not in self.stores:
            self.stores[arn] = _new_store(arn)
        return self.stores[arn]

    def global_of(self, cluster: DBCluster) -> GlobalCluster | None:
        """The global cluster ``cluster`` is a member of, if any."""
        for gc in _global_backend().global_clusters.values():
            if cluster in gc.members:
                return gc
        return None

    def writable(self, cluster: DBCluster) -> bool:
        """Whether ``cluster`` accepts writes right now."""
        arn = cluster.db_cluster_arn
        if self.cluster_status.get(arn, "available") != "available" or arn in self.fenced:
            return False
        gc = self.global_of(cluster)
        if gc is None:
            return True
        return bool(cluster.is_writer)

    def in_recovery(self, cluster: DBCluster) -> bool:
        """``pg_is_in_recovery()``: true for a secondary (read-only replica)."""
        gc = self.global_of(cluster)
        return gc is not None and not cluster.is_writer

    # -- writes and replication --------------------------------------------------------------

    def execute_write(self, cluster: DBCluster, sql: str, params: dict[str, Any]) -> int:
        """Run a change on a writer and ship it to the secondaries."""
        now = STATE.now()
        store = self.store(cluster)
        changed = store.apply(sql, params, now)
        gc = self.global_of(cluster)
        if gc is not None:
            gid = gc.global_cluster_identifier
            seq = self.seq.get(gid, 0) + 1
            self.seq[gid] = seq
            self.streams.setdefault(gid, []).append(Entry(seq, now, sql, params, cluster.region))
            store.applied_seq = seq
            self.active.add(gid)
        return changed

    def pump(self, now: float) -> None:
        """Apply the shipped changes whose lag has elapsed (tick hook)."""
        lag = STATE.timings.aurora_replication_lag_seconds
        faults = STATE.faults
        clusters = _global_backend().global_clusters
        for gid in list(self.active):
            gc = clusters.get(gid)
            if gc is None:
                self.active.discard(gid)
                continue
            entries = self.streams.get(gid, [])
            behind = False
            for member in gc.members:
                arn = member.db_cluster_arn
                if member.is_writer:
                    continue
                if arn in self.pending_rejoin or faults.is_down(member.region):
                    behind = True
                    continue
                store = self.store(member)
                start = bisect.bisect_right(entries, store.applied_seq, key=lambda e: e.seq)
                for entry in entries[start:]:
                    if not self._arrived(entry, now, lag):
                        behind = True
                        break
                    store.apply(entry.sql, entry.params, entry.ts + lag)
                    store.applied_seq = entry.seq
                    STATE.scheduler.record("aurora replication", entry.ts, entry.ts + lag)
            if self.pending_rejoin:
                self._schedule_rejoins(gc)
            if not behind and not self.transitions.get(gid):
                self.active.discard(gid)

    def publish_lag(self, now: float) -> None:
        """Publish ``AuroraGlobalDBReplicationLag`` and ``AuroraGlobalDBRPOLag`` (milliseconds,
        namespace AWS/RDS, dimension DBClusterIdentifier) for every secondary cluster, in its
        own region, as Aurora does (Aurora User Guide, "Monitoring Amazon Aurora global
        databases" and "Amazon CloudWatch metrics for Amazon Aurora"). The lag is the age of
        the oldest change the secondary has not applied, never less than the configured lag;
        a secondary whose writer's region does not answer falls further behind every second.
        Tick hook; at most every ``metric_interval_seconds``."""
        if now - self.published_at < STATE.timings.metric_interval_seconds:
            return
        self.published_at = now
        lag = STATE.timings.aurora_replication_lag_seconds
        stamp = datetime.fromtimestamp(now, tz=UTC).replace(tzinfo=None)  # moto compares naive UTC
        for gid, gc in _global_backend().global_clusters.items():
            writer = next((m for m in gc.members if m.is_writer), None)
            if writer is None:
                continue
            down_since = STATE.faults.down_since(writer.region)
            entries = self.streams.get(gid, [])
            for member in gc.members:
                if member.is_writer or STATE.faults.is_down(member.region):
                    continue
                applied = self.store(member).applied_seq
                pending = [e.ts for e in entries if e.seq > applied]
                behind = max(lag, now - min(pending)) if pending else lag
                if down_since is not None:
                    behind = max(behind, now - down_since)
                dims = [{"Name": "DBClusterIdentifier", "Value": member.db_cluster_identifier}]
                backend = cloudwatch_backends[DEFAULT_ACCOUNT_ID][member.region]
                for name, value in (
                    ("AuroraGlobalDBReplicationLag", behind * 1000.0),
                    ("AuroraGlobalDBRPOLag", behind * 1000.0),
                ):
                    backend.metric_data.append(
                        MetricDatum(
                            namespace="AWS/RDS",
                            name=name,
                            value=value,
                            dimensions=dims,
                            timestamp=stamp,
                            unit="Milliseconds",
                        )
                    )

    @staticmethod
    def _arrived(entry: Entry, now: float, lag: float) -> bool:
        due = entry.ts + lag
        if due > now:
            return False
        down_since = STATE.faults.down_since(entry.source_region)
        return down_since is None or due <= down_since

    def catch_up(self, gc: GlobalCluster, cluster: DBCluster, everything: bool) -> None:
        """Apply pending changes to ``cluster``: all of them, or only those that arrived."""
        gid = gc.global_cluster_identifier
        store = self.store(cluster)
        lag = STATE.timings.aurora_replication_lag_seconds
        now = STATE.now()
        kept: list[Entry] = []
        for entry in self.streams.get(gid, []):
            if entry.seq <= store.applied_seq:
                kept.append(entry)
                continue
            if everything or self._arrived(entry, now, lag):
                store.apply(entry.sql, entry.params, now)
                store.applied_seq = entry.seq
                kept.append(entry)
        lost = len(self.streams.get(gid, [])) - len(kept)
        if lost:
            self.lost_changes[gid] = self.lost_changes.get(gid, 0) + lost
            self.streams[gid] = kept
            self.seq[gid] = store.applied_seq

    def _schedule_rejoins(self, gc: GlobalCluster) -> None:
        for member in gc.members:
            arn = member.db_cluster_arn
            if arn not in self.pending_rejoin or arn in self.rejoin_scheduled:
                continue
            if STATE.faults.is_down(member.region):
                continue
            self.rejoin_scheduled.add(arn)
            STATE.scheduler.after(
                STATE.timings.rejoin_seconds,
                f"aurora rejoin {member.db_cluster_identifier}",
                self._rejoin_later(gc, member),
            )

    def _rejoin_later(self, gc: GlobalCluster, member: DBCluster) -> Callable[[], None]:
        def rejoin() -> None:
            self._rejoin(gc, member)

        return rejoin

    def _rejoin(self, gc: GlobalCluster, member: DBCluster) -> None:
        arn = member.db_cluster_arn
        writer = next((m for m in gc.members if m.is_writer), None)
        if writer is None:
            return
        source = self.store(writer)
        old = self.stores.pop(arn, None)
        if old is not None:
            old.conn.close()
        rebuilt = _new_store(arn, source.history)
        rebuilt.applied_seq = source.applied_seq
        self.stores[arn] = rebuilt
        self.pending_rejoin.pop(arn, None)
        self.rejoin_scheduled.discard(arn)
        self.fenced.discard(arn)
        self.cluster_status.pop(arn, None)

    # -- switchover / failover ---------------------------------------------------------------

    def start_transition(
        self, gc: GlobalCluster, target: DBCluster, *, switchover: bool, allow_data_loss: bool
    ) -> None:
        """Begin a switchover (no data loss) or a failover (data loss allowed)."""
        gid = gc.global_cluster_identifier
        if gc.status != "available" or gid in self.transitions:
            raise RDSClientError(
                "InvalidGlobalClusterStateFault",
                f"Global cluster {gid} is in state {gc.status}; it must be available.",
            )
        if target not in gc.members:
            raise RDSClientError(
                "InvalidParameterValue",
                f"{target.db_cluster_arn} is not a member of global cluster {gid}.",
            )
        writer = next((m for m in gc.members if m.is_writer), None)
        if writer is None or writer is target:
            raise RDSClientError(
                "InvalidParameterValue",
                f"{target.db_cluster_arn} is already the primary cluster of {gid}.",
            )
        if STATE.faults.is_down(target.region):
            raise RDSClientError(
                "InvalidDBClusterStateFault",
                f"Target cluster {target.db_cluster_identifier} is not available.",
            )
        planned = switchover or not allow_data_loss
        if planned and STATE.faults.is_down(writer.region):
            raise RDSClientError(
                "InvalidGlobalClusterStateFault",
                f"The primary cluster {writer.db_cluster_identifier} is unavailable; a switchover "
                "needs it. Use FailoverGlobalCluster with AllowDataLoss.",
            )
        kind = "switchover" if planned else "failover"
        operation = "switchover_global_cluster" if switchover else "failover_global_cluster"
        now = STATE.now()
        self.transitions[gid] = Transition(
            kind, writer.db_cluster_arn, target.db_cluster_arn, not planned, now
        )
        gc.status = "switching-over" if planned else "failing-over"
        _set_failover_state(
            gc,
            {
                "Status": "pending",
                "FromDbClusterArn": writer.db_cluster_arn,
                "ToDbClusterArn": target.db_cluster_arn,
                "IsDataLossAllowed": not planned,
            },
        )
        timings = STATE.timings
        if planned:
            duration = timings.switchover_seconds
            STATE.scheduler.after(
                duration / 2,
                f"aurora fence {writer.db_cluster_identifier}",
                lambda: self._fence(gc, writer),
            )
        else:
            duration = timings.failover_seconds
            if not STATE.faults.is_down(writer.region):
                self.fenced.add(writer.db_cluster_arn)

        def finish() -> None:
            self._complete(gc, writer, target)

        if STATE.faults.park(operation, finish):
            return  # a test holds it in flight until it releases the gate
        STATE.scheduler.after(duration, f"aurora {kind} {gid}", finish)

    def _fence(self, gc: GlobalCluster, writer: DBCluster) -> None:
        self.fenced.add(writer.db_cluster_arn)
        state = _failover_state(gc)
        if state:
            state["Status"] = "failing-over"

    def _complete(self, gc: GlobalCluster, old: DBCluster, new: DBCluster) -> None:
        gid = gc.global_cluster_identifier
        transition = self.transitions.pop(gid, None)
        lossy = transition is not None and transition.allow_data_loss
        self.catch_up(gc, new, everything=not lossy)
        old.is_writer = False
        new.is_writer = True
        self.fenced.discard(new.db_cluster_arn)
        self.fenced.discard(old.db_cluster_arn)
        if lossy:
            self.pending_rejoin[old.db_cluster_arn] = gid
            self.active.add(gid)
        else:
            self.store(old).applied_seq = self.seq.get(gid, 0)
        gc.status = "available"
        _set_failover_state(gc, None)

    def detach(self, gc: GlobalCluster, cluster: DBCluster) -> None:
        """``remove_from_global_cluster``: a secondary becomes a standalone writer."""
        if cluster.is_writer and len(gc.members) > 1:
            raise RDSClientError(
                "InvalidGlobalClusterStateFault",
                f"The primary cluster {cluster.db_cluster_identifier} can't be removed while "
                f"global cluster {gc.global_cluster_identifier} has secondary clusters.",
            )
        if not cluster.is_writer:
            self.catch_up(gc, cluster, everything=False)
        gc.members.remove(cluster)
        cluster.global_cluster_identifier = None
        cluster.is_writer = True
        arn = cluster.db_cluster_arn
        self.pending_rejoin.pop(arn, None)
        self.cluster_status[arn] = "promoting"
        if STATE.faults.is_stuck("remove_from_global_cluster"):
            return
        STATE.scheduler.after(
            STATE.timings.detach_seconds,
            f"aurora detach {cluster.db_cluster_identifier}",
            self.clear_status(arn),
        )

    def clear_status(self, arn: str) -> Callable[[], None]:
        """An event that ends a cluster's temporary status (back to moto's own)."""

        def clear() -> None:
            self.cluster_status.pop(arn, None)

        return clear

    def member_sync_status(self, cluster: DBCluster) -> str:
        """``SynchronizationStatus`` of a global cluster member."""
        return "pending-resync" if cluster.db_cluster_arn in self.pending_rejoin else "connected"


def _failover_state(gc: GlobalCluster) -> dict[str, Any] | None:
    state: dict[str, Any] | None = getattr(gc, "failover_state", None)
    return state


def _set_failover_state(gc: GlobalCluster, state: dict[str, Any] | None) -> None:
    patch(gc, "failover_state", state)


def _global_backend() -> RDSBackend:
    return rds_backends[DEFAULT_ACCOUNT_ID][GLOBAL_REGION]


def _data() -> AuroraData:
    data = STATE.aurora
    assert isinstance(data, AuroraData)
    return data


def find_cluster_by_arn(arn: str) -> DBCluster:
    """The moto cluster with this ARN (its region's backend)."""
    parts = arn.split(":")
    if len(parts) < 7:
        raise RDSClientError("DBClusterNotFoundFault", f"DBCluster {arn} not found.")
    region, account = parts[3], parts[4]
    backend = rds_backends[account][region]
    for cluster in backend.clusters.values():
        if cluster.db_cluster_arn == arn:
            return cluster
    raise RDSClientError("DBClusterNotFoundFault", f"DBCluster {arn} not found.")


def _find_cluster(identifier: str, backend: RDSBackend) -> DBCluster:
    if identifier.startswith("arn:"):
        return find_cluster_by_arn(identifier)
    return backend.describe_db_clusters(db_cluster_identifier=identifier)[0]


def _get_global(identifier: str) -> GlobalCluster:
    clusters = _global_backend().global_clusters
    if identifier not in clusters:
        raise RDSClientError(
            "GlobalClusterNotFoundFault", f"Global cluster {identifier} not found."
        )
    return clusters[identifier]


# -- moto response handlers (installed on RDSResponse / RDSDataServiceResponse) --------------


def _describe_global_clusters(self: Any) -> ActionResult:
    wanted = self.params.get("GlobalClusterIdentifier")
    if wanted:
        return ActionResult({"GlobalClusters": [_get_global(wanted)]})
    return ActionResult({"GlobalClusters": list(_global_backend().global_clusters.values())})


def _switchover_global_cluster(self: Any) -> ActionResult:
    gc = _get_global(self.params["GlobalClusterIdentifier"])
    target = _find_cluster(self.params["TargetDbClusterIdentifier"], self.backend)
    _data().start_transition(gc, target, switchover=True, allow_data_loss=False)
    return ActionResult({"GlobalCluster": gc})


def _failover_global_cluster(self: Any) -> ActionResult:
    gc = _get_global(self.params["GlobalClusterIdentifier"])
    target = _find_cluster(self.params["TargetDbClusterIdentifier"], self.backend)
    allow = bool(self.params.get("AllowDataLoss", False))
    switchover = bool(self.params.get("Switchover", False))
    _data().start_transition(gc, target, switchover=switchover, allow_data_loss=allow)
    return ActionResult({"GlobalCluster": gc})


def _remove_from_global_cluster(self: Any) -> ActionResult:
    gc = _get_global(self.params["GlobalClusterIdentifier"])
    cluster = _find_cluster(self.params["DbClusterIdentifier"], self.backend)
    if cluster not in gc.members:
        raise RDSClientError(
            "DBClusterNotFoundFault",
            f"{cluster.db_cluster_arn} is not a member of {gc.global_cluster_identifier}.",
        )
    _data().detach(gc, cluster)
    return ActionResult({"GlobalCluster": gc})


def _restore_db_cluster_to_point_in_time(self: Any) -> ActionResult:
    params = self.params
    source = _find_cluster(params["SourceDBClusterIdentifier"], self.backend)
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
    data = _data()
    history = [h for h in data.store(source).history if h[0] <= restore_ts]
    data.stores[cluster.db_cluster_arn] = _new_store(cluster.db_cluster_arn, history)
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


def _enable_http_endpoint(self: Any) -> ActionResult:
    arn = self.params["ResourceArn"]
    cluster = find_cluster_by_arn(arn)
    cluster._enable_http_endpoint = True  # moto allows it only on Serverless v1
    return ActionResult({"ResourceArn": arn, "HttpEndpointEnabled": True})


def _disable_http_endpoint(self: Any) -> ActionResult:
    arn = self.params["ResourceArn"]
    cluster = find_cluster_by_arn(arn)
    cluster._enable_http_endpoint = False
    return ActionResult({"ResourceArn": arn, "HttpEndpointEnabled": False})


class DataApiError(ServiceException):
    """An RDS Data API error, serialized by moto in the service's protocol."""


def _value(field_value: dict[str, Any]) -> Any:
    if field_value.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "doubleValue", "booleanValue"):
        if key in field_value:
            return field_value[key]
    return None


def _field(value: Any) -> dict[str, Any]:
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _execute_statement(self: Any) -> str:
    body = json.loads(self.body or "{}")
    arn = body.get("resourceArn", "")
    sql = body.get("sql", "")
    params = {p["name"]: _value(p.get("value", {})) for p in body.get("parameters", [])}
    try:
        cluster = find_cluster_by_arn(arn)
    except RDSClientError as exc:
        raise DataApiError("BadRequestException", f"Resource {arn} not found") from exc
    if cluster.region != self.region:
        raise DataApiError("BadRequestException", f"Resource {arn} is not in {self.region}")
    data = _data()
    if not cluster.http_endpoint_enabled:
        # RDS Data API: the HTTP endpoint must be enabled on the cluster (EnableHttpEndpoint)
        raise DataApiError(
            "HttpEndpointNotEnabledException",
            f"HttpEndpoint is not enabled for cluster {cluster.db_cluster_identifier}.",
        )
    members = cluster.members
    status = data.cluster_status.get(cluster.db_cluster_arn, "available")
    gc = data.global_of(cluster)
    if gc is not None and not cluster.is_writer:
        # "Limitations for the RDS Data API": a global database's secondary cluster has no
        # writer instance until it is promoted; Data API queries, even reads, fail there.
        raise DataApiError(
            "DatabaseUnavailableException",
            f"The writer instance in the DB cluster {cluster.db_cluster_identifier} isn't "
            "available: it is a secondary cluster of a global database.",
        )
    if (
        status != "available"
        or not members
        or all(getattr(m, "status", "available") != "available" for m in members)
    ):
        raise DataApiError("DatabaseUnavailableException", "The writer instance isn't available.")
    if _RECOVERY.match(sql):
        in_recovery = data.in_recovery(cluster)
        return json.dumps(
            {
                "records": [[{"booleanValue": in_recovery}]],
                "columnMetadata": [{"name": "pg_is_in_recovery", "typeName": "bool"}],
                "numberOfRecordsUpdated": 0,
            }
        )
    try:
        mutating = _MUTATING.match(sql)
        if mutating:
            if not data.writable(cluster):
                verb = mutating.group(1).upper()
                raise DataApiError(
                    "DatabaseErrorException",
                    f"ERROR: cannot execute {verb} in a read-only transaction",
                )
            changed = data.execute_write(cluster, sql, params)
            return json.dumps({"records": [], "numberOfRecordsUpdated": changed})
        columns, rows = data.store(cluster).query(sql, params)
    except sqlite3.Error as exc:
        message = str(exc)
        missing = re.match(r"no such table: (\S+)", message)
        if missing:
            message = f'relation "{missing.group(1)}" does not exist'
        raise DataApiError("DatabaseErrorException", f"ERROR: {message}") from exc
    return json.dumps(
        {
            "records": [[_field(v) for v in row] for row in rows],
            "columnMetadata": [{"name": c} for c in columns],
            "numberOfRecordsUpdated": 0,
        }
    )


def _members_with_sync_status(self: GlobalCluster) -> list[dict[str, Any]]:
    data = _data()
    members: list[dict[str, Any]] = []
    readers = [m.db_cluster_arn for m in self.members if not m.is_writer]
    for member in self.members:
        entry: dict[str, Any] = {
            "DBClusterArn": member.db_cluster_arn,
            "IsWriter": bool(member.is_writer),
            "Readers": readers if member.is_writer else [],
            "SynchronizationStatus": data.member_sync_status(member),
        }
        if not member.is_writer:
            entry["GlobalWriteForwardingStatus"] = "disabled"
        members.append(entry)
    return members


_original_cluster_status: Any = inspect.getattr_static(DBCluster, "status")


def _cluster_status(self: DBCluster) -> str:
    data = STATE.aurora
    if isinstance(data, AuroraData):
        override = data.cluster_status.get(self.db_cluster_arn)
        if override is not None:
            return override
    return str(_original_cluster_status.fget(self))


def _set_cluster_status(self: DBCluster, value: str) -> None:
    _original_cluster_status.fset(self, value)


def _latest_restorable_time(self: DBCluster) -> datetime:
    lag = STATE.timings.restorable_lag_seconds
    return datetime.fromtimestamp(STATE.now() - lag, tz=UTC).replace(tzinfo=None)


def install() -> None:
    """Extend moto's RDS and RDS Data API (idempotent)."""
    if isinstance(STATE.aurora, AuroraData):
        return
    STATE.aurora = AuroraData()
    STATE.add_tick_hook(STATE.aurora.pump)
    STATE.add_tick_hook(STATE.aurora.publish_lag)
    patch(RDSResponse, "describe_global_clusters", _describe_global_clusters)
    patch(RDSResponse, "switchover_global_cluster", _switchover_global_cluster)
    patch(RDSResponse, "failover_global_cluster", _failover_global_cluster)
    patch(RDSResponse, "remove_from_global_cluster", _remove_from_global_cluster)
    patch(RDSResponse, "restore_db_cluster_to_point_in_time", _restore_db_cluster_to_point_in_time)
    patch(RDSResponse, "create_db_instance", _create_db_instance)
    patch(RDSResponse, "enable_http_endpoint", _enable_http_endpoint)
    patch(RDSResponse, "disable_http_endpoint", _disable_http_endpoint)
    patch(RDSDataServiceResponse, "execute_statement", _execute_statement)
    patch(GlobalCluster, "failover_state", None)
    patch(GlobalCluster, "global_cluster_members", property(_members_with_sync_status))
    patch(DBCluster, "status", property(_cluster_status, _set_cluster_status))
    patch(DBCluster, "latest_restorable_time", property(_latest_restorable_time))
