"""Aurora Global Database behaviours moto lacks: switchover, failover, detach, replication.

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
- Each regional cluster has its own SQLite database. Changes made on the writer (through the
  Data API, :mod:`.dataapi`) are shipped to the secondaries after the configured replication
  lag (not at all from a region that is down, nor while a test holds ``aurora_replication``).
- The lag each secondary reports to CloudWatch is published by :mod:`.cloudwatch`.

Point-in-time restore lives in :mod:`.rds_restore`.
"""

from __future__ import annotations

import bisect
import inspect
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult
from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBCluster, GlobalCluster, RDSBackend, rds_backends
from moto.rds.responses import RDSResponse

from .state import STATE, patch

GLOBAL_REGION = "us-east-1"
"""moto keeps every global cluster in this region's backend."""

REPLICATION = "aurora_replication"
"""The operation a test holds (``faults.hold``) to keep changes from reaching the secondaries:
they stay within the lag window, as the last writes before a region loss are."""


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


def new_store(
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
        self.published: dict[tuple[str, str], tuple[float, float]] = {}
        """(secondary cluster, source region) -> (when, lag seconds) of its last datapoint."""

    def reset(self) -> None:
        """Forget all data-plane state."""
        self.published_at = 0.0
        self.published.clear()
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
            self.stores[arn] = new_store(arn)
        return self.stores[arn]

    def global_of(self, cluster: DBCluster) -> GlobalCluster | None:
        """The global cluster ``cluster`` is a member of, if any."""
        for gc in global_backend().global_clusters.values():
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

    def create_schema(self, arn: str, ddl: str) -> None:
        """Run a schema statement on the writer ``arn`` and ship it to the secondaries: the
        application's migrations (the Data API accepts no DDL, :mod:`.dataapi`)."""
        with STATE.lock:
            writer = find_cluster_by_arn(arn)
            self.execute_write(writer, ddl, {})
            plane = STATE.data_plane
            if plane is not None and plane.carries_cluster(arn):
                plane.create_schema(ddl)
            gc = self.global_of(writer)
            if gc is None:
                return
            for member in gc.members:
                if member is not writer:  # long replicated by the time anyone drills
                    self.catch_up(gc, member, everything=True)

    def pump(self, now: float) -> None:
        """Apply the shipped changes whose lag has elapsed (tick hook)."""
        lag = STATE.timings.aurora_replication_lag_seconds
        faults = STATE.faults
        clusters = global_backend().global_clusters
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

    @staticmethod
    def _arrived(entry: Entry, now: float, lag: float) -> bool:
        due = entry.ts + lag
        if due > now or STATE.faults.is_stuck(REPLICATION):
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
        rebuilt = new_store(arn, source.history)
        rebuilt.applied_seq = source.applied_seq
        self.stores[arn] = rebuilt
        self.pending_rejoin.pop(arn, None)
        self.rejoin_scheduled.discard(arn)
        self.fenced.discard(arn)
        self.cluster_status.pop(arn, None)
        plane = STATE.data_plane
        if plane is not None and plane.carries_global_cluster(gc.global_cluster_identifier):
            plane.aurora_rejoined(member.region)

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
        if planned and (target.engine_version or "") != (writer.engine_version or ""):
            # "the primary and secondary DB clusters must have the same major, minor, and patch
            # levels" (Aurora User Guide, "Performing switchovers for Amazon Aurora global
            # databases", prerequisites)
            raise RDSClientError(
                "InvalidParameterCombination",
                f"Switchover target {target.db_cluster_identifier} runs engine version "
                f"{target.engine_version}; the primary {writer.db_cluster_identifier} runs "
                f"{writer.engine_version}. A switchover needs the same engine version.",
            )
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
            STATE.scheduler.after(
                duration / 2,
                f"aurora promoting {target.db_cluster_identifier}",
                lambda: self._advance(gc, "failing-over"),
            )

        def finish() -> None:
            self._complete(gc, writer, target)

        if STATE.faults.park(operation, finish):
            return  # a test holds it in flight until it releases the gate
        STATE.scheduler.after(duration, f"aurora {kind} {gid}", finish)

    def _fence(self, gc: GlobalCluster, writer: DBCluster) -> None:
        self.fenced.add(writer.db_cluster_arn)
        self._advance(gc, "switching-over")

    @staticmethod
    def _advance(gc: GlobalCluster, status: str) -> None:
        """FailoverState.Status after ``pending`` (RDS API Reference, ``FailoverState``):
        ``switching-over`` for a switchover, ``failing-over`` for a failover."""
        state = _failover_state(gc)
        if state:
            state["Status"] = status

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
        plane = STATE.data_plane
        if plane is not None and plane.carries_global_cluster(gid):
            plane.aurora_moved(new.region, lossy=lossy)

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


def global_backend() -> RDSBackend:
    return rds_backends[DEFAULT_ACCOUNT_ID][GLOBAL_REGION]


def aurora_data() -> AuroraData:
    """The installed Aurora extension's state (``install`` ran)."""
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


def find_cluster(identifier: str, backend: RDSBackend) -> DBCluster:
    if identifier.startswith("arn:"):
        return find_cluster_by_arn(identifier)
    return backend.describe_db_clusters(db_cluster_identifier=identifier)[0]


def _get_global(identifier: str) -> GlobalCluster:
    clusters = global_backend().global_clusters
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
    return ActionResult({"GlobalClusters": list(global_backend().global_clusters.values())})


def _switchover_global_cluster(self: Any) -> ActionResult:
    gc = _get_global(self.params["GlobalClusterIdentifier"])
    target = find_cluster(self.params["TargetDbClusterIdentifier"], self.backend)
    aurora_data().start_transition(gc, target, switchover=True, allow_data_loss=False)
    return ActionResult({"GlobalCluster": gc})


def _failover_global_cluster(self: Any) -> ActionResult:
    gc = _get_global(self.params["GlobalClusterIdentifier"])
    target = find_cluster(self.params["TargetDbClusterIdentifier"], self.backend)
    if "AllowDataLoss" in self.params and "Switchover" in self.params:
        # RDS API Reference, FailoverGlobalCluster: AllowDataLoss "Can't be specified together
        # with the Switchover parameter" (and the other way round)
        raise RDSClientError(
            "InvalidParameterCombination",
            "AllowDataLoss and Switchover can't be specified together: AllowDataLoss asks for a "
            "failover, Switchover for a switchover.",
        )
    allow = bool(self.params.get("AllowDataLoss", False))
    switchover = bool(self.params.get("Switchover", False))
    aurora_data().start_transition(gc, target, switchover=switchover, allow_data_loss=allow)
    return ActionResult({"GlobalCluster": gc})


def _remove_from_global_cluster(self: Any) -> ActionResult:
    gc = _get_global(self.params["GlobalClusterIdentifier"])
    cluster = find_cluster(self.params["DbClusterIdentifier"], self.backend)
    if cluster not in gc.members:
        raise RDSClientError(
            "DBClusterNotFoundFault",
            f"{cluster.db_cluster_arn} is not a member of {gc.global_cluster_identifier}.",
        )
    aurora_data().detach(gc, cluster)
    return ActionResult({"GlobalCluster": gc})


def _members_with_sync_status(self: GlobalCluster) -> list[dict[str, Any]]:
    data = aurora_data()
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
    """The emulator's transient status, else moto's. moto answers ``creating`` exactly once
    (its first read), whatever the time: the emulator schedules its own ``creating`` where AWS
    has one, so moto's one-read version is dropped."""
    data = STATE.aurora
    if isinstance(data, AuroraData):
        override = data.cluster_status.get(self.db_cluster_arn)
        if override is not None:
            return override
    if getattr(self, "_status", None) == "creating":
        self._status = "available"
    return str(_original_cluster_status.fget(self))


def _set_cluster_status(self: DBCluster, value: str) -> None:
    _original_cluster_status.fset(self, value)


def install() -> None:
    """Extend moto's RDS and RDS Data API (idempotent)."""
    if isinstance(STATE.aurora, AuroraData):
        return
    STATE.aurora = AuroraData()
    STATE.add_tick_hook(STATE.aurora.pump)
    patch(RDSResponse, "describe_global_clusters", _describe_global_clusters)
    patch(RDSResponse, "switchover_global_cluster", _switchover_global_cluster)
    patch(RDSResponse, "failover_global_cluster", _failover_global_cluster)
    patch(RDSResponse, "remove_from_global_cluster", _remove_from_global_cluster)
    patch(GlobalCluster, "failover_state", None)
    patch(GlobalCluster, "global_cluster_members", property(_members_with_sync_status))
    patch(DBCluster, "status", property(_cluster_status, _set_cluster_status))
