"""DynamoDB global tables (version 2019.11.21) and point-in-time restore, on top of moto.

- ``update_table`` with ``ReplicaUpdates`` creates (or deletes) the table in another region;
  the replica is ``CREATING`` for a while, then ``ACTIVE``; ``describe_table`` lists
  ``Replicas`` and ``GlobalTableVersion`` in every region of the group.
- Items written in one region (put, update, delete, batch writes) appear in the other regions of
  the group after the configured lag. Changes made in a region that is down are shipped when it
  answers again, as DynamoDB does after an outage.
- Every change is kept with its time, so ``restore_table_to_point_in_time`` restores the table as
  it was at ``RestoreDateTime`` (moto copied the current items). The restored table is
  ``CREATING`` for a while; ``LatestRestorableDateTime`` trails the clock by a configurable lag.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler, DynamoResult

from .state import STATE, patch

Key = tuple[str, str, str]
"""(region, table name, item key as JSON)."""


@dataclass(slots=True)
class Change:
    """One item change waiting to be shipped to another region."""

    ts: float
    source: str
    target: str
    table: str
    attrs: dict[str, Any] | None
    """The full item (DynamoDB JSON), or None for a delete."""
    key: dict[str, Any]


@dataclass(slots=True)
class DynamoData:
    """Global-table groups, replica statuses, the replication queue and item history."""

    groups: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Table name -> regions holding a replica."""
    replica_status: dict[tuple[str, str], str] = field(default_factory=dict)
    table_status: dict[tuple[str, str], str] = field(default_factory=dict)
    kms: dict[tuple[str, str], str] = field(default_factory=dict)
    queue: list[Change] = field(default_factory=list)
    history: dict[tuple[str, str], list[tuple[float, dict[str, Any], dict[str, Any] | None]]] = (
        field(default_factory=lambda: defaultdict(list))
    )
    last_write: dict[tuple[str, str, str], float] = field(default_factory=dict)
    """(region, table, item key) -> time of the latest change applied there (last writer wins)."""
    replicating: bool = False
    replicated_count: int = 0

    def reset(self) -> None:
        """Forget everything."""
        self.groups.clear()
        self.replica_status.clear()
        self.table_status.clear()
        self.kms.clear()
        self.queue.clear()
        self.history.clear()
        self.last_write.clear()
        self.replicating = False
        self.replicated_count = 0

    # -- change capture ----------------------------------------------------------------------

    def captured(self, table: Table, key: dict[str, Any], attrs: dict[str, Any] | None) -> None:
        """Record a change made in ``table`` and queue it for the other regions."""
        now = STATE.now()
        region = table.region_name
        self.history[(region, table.name)].append((now, key, copy.deepcopy(attrs)))
        if self.replicating:
            return
        self.last_write[(region, table.name, _key_text(key))] = now
        for other in sorted(self.groups.get(table.name, set()) - {region}):
            if self.replica_status.get((other, table.name)) in {"ACTIVE", "CREATING", "UPDATING"}:
                self.queue.append(Change(now, region, other, table.name, attrs, key))

    def pump(self, now: float) -> None:
        """Apply queued changes whose lag has elapsed (tick hook)."""
        lag = STATE.timings.dynamodb_replication_lag_seconds
        faults = STATE.faults
        remaining: list[Change] = []
        for change in self.queue:
            due = change.ts + lag
            down_since = faults.down_since(change.source)
            shipped = due <= now and (down_since is None or due <= down_since)
            if not shipped or faults.is_down(change.target):
                remaining.append(change)
                continue
            self._apply(change)
            STATE.scheduler.record("dynamodb replication", change.ts, change.ts + lag)
        self.queue = remaining

    def _apply(self, change: Change) -> None:
        """Apply a replicated change unless the target saw a later write of the same item:
        global tables reconcile concurrent writes with "last writer wins" (DynamoDB Developer
        Guide, "Global tables: how it works", conflict resolution), so a delete made after a
        put is never undone by that put arriving late."""
        backend = _backend(change.target)
        if change.table not in backend.tables:
            return
        slot = (change.target, change.table, _key_text(change.key))
        if self.last_write.get(slot, 0.0) > change.ts:
            return
        self.last_write[slot] = change.ts
        table = backend.tables[change.table]
        self.replicating = True
        try:
            if change.attrs is None:
                hash_key, range_key = _key_types(table, change.key)
                table.delete_item(hash_key, range_key)
            else:
                table.put_item(copy.deepcopy(change.attrs), overwrite=True)
            self.replicated_count += 1
        finally:
            self.replicating = False

    # -- replicas ----------------------------------------------------------------------------

    def create_replica(self, table: Table, region: str, kms_key: str | None) -> None:
        """``ReplicaUpdates: Create``: the table appears in ``region`` (CREATING, then ACTIVE)."""
        name = table.name
        target = _backend(region)
        if region == table.region_name or name in target.tables:
            raise JsonRESTError(
                "ValidationException",
                f"Failed to create a the new replica of table with name: '{name}' because "
                f"one or more replicas already existed as tables in {region}.",
            )
        table_class: Any = Table
        replica = table_class(
            name,
            account_id=table.account_id,
            region=region,
            schema=copy.deepcopy(table.schema),
            attr=copy.deepcopy(table.attr),
            billing_mode=table.billing_mode,
            streams=copy.deepcopy(table.stream_specification),
            sse_specification=copy.deepcopy(table.sse_specification),
            tags=copy.deepcopy(table.tags),
            deletion_protection_enabled=table.deletion_protection_enabled,
        )
        replica.global_indexes = copy.deepcopy(table.global_indexes)
        replica.indexes = copy.deepcopy(table.indexes)
        replica.items = copy.deepcopy(table.items)
        replica.ttl = copy.deepcopy(table.ttl)
        replica.continuous_backups = copy.deepcopy(table.continuous_backups)
        target.tables[name] = replica
        group = self.groups[name]
        group.add(table.region_name)
        group.add(region)
        self.replica_status.setdefault((table.region_name, name), "ACTIVE")
        self.replica_status[(region, name)] = "CREATING"
        if kms_key:
            self.kms[(region, name)] = kms_key
        self.table_status[(table.region_name, name)] = "UPDATING"
        if STATE.faults.is_stuck("update_table_replica"):
            return

        def ready() -> None:
            self.replica_status[(region, name)] = "ACTIVE"
            self.table_status.pop((table.region_name, name), None)

        STATE.scheduler.after(
            STATE.timings.replica_create_seconds, f"dynamodb replica {name} {region}", ready
        )

    def delete_replica(self, table: Table, region: str) -> None:
        """``ReplicaUpdates: Delete``: the replica in ``region`` goes away."""
        name = table.name
        if region not in self.groups.get(name, set()):
            raise JsonRESTError(
                "ValidationException", f"Replica for table {name} in {region} does not exist."
            )
        self.replica_status[(region, name)] = "DELETING"

        def gone() -> None:
            self.groups[name].discard(region)
            self.replica_status.pop((region, name), None)
            _backend(region).tables.pop(name, None)

        STATE.scheduler.after(
            STATE.timings.replica_create_seconds, f"dynamodb delete replica {name} {region}", gone
        )

    def clear_status(self, key: tuple[str, str]) -> Callable[[], None]:
        """An event that ends a table's temporary status."""

        def clear() -> None:
            self.table_status.pop(key, None)

        return clear

    def describe_extra(self, table: Table, description: dict[str, Any]) -> None:
        """Add status, replicas and the global-table version to a table description."""
        region, name = table.region_name, table.name
        status = self.table_status.get((region, name))
        if status is not None:
            description["TableStatus"] = status
        group = self.groups.get(name)
        if group and region in group and len(group) > 1:
            description["GlobalTableVersion"] = "2019.11.21"
            description["Replicas"] = [
                {
                    "RegionName": other,
                    "ReplicaStatus": self.replica_status.get((other, name), "ACTIVE"),
                    **(
                        {"KMSMasterKeyId": self.kms[(other, name)]}
                        if (other, name) in self.kms
                        else {}
                    ),
                }
                for other in sorted(group - {region})
            ]


def _backend(region: str) -> DynamoDBBackend:
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region]


def _data() -> DynamoData:
    data = STATE.dynamodb
    assert isinstance(data, DynamoData)
    return data


def _key_text(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)


def _key_of(table: Table, attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: attrs[k] for k in table.table_key_attrs if k in attrs}


def _key_types(table: Table, key: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
    hash_key = DynamoType(key[table.hash_key_attr])
    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return hash_key, range_key


_original_put = Table.put_item
_original_delete = Table.delete_item
_original_describe = Table.describe
_original_update_item = DynamoDBBackend.update_item
_original_describe_backups = DynamoDBBackend.describe_continuous_backups
_original_update_table = DynamoHandler.update_table


def _put_item(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    item = _original_put(self, item_attrs, *args, **kwargs)
    attrs = item.to_json()["Attributes"]
    _data().captured(self, _key_of(self, attrs), attrs)
    return item


def _delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Any:
    item = _original_delete(self, hash_key, range_key)
    if item is not None:
        attrs = item.to_json()["Attributes"]
        _data().captured(self, _key_of(self, attrs), None)
    return item


def _update_item(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Any:
    item = _original_update_item(self, table_name, *args, **kwargs)
    table = self.get_table(table_name)
    attrs = item.to_json()["Attributes"]
    _data().captured(table, _key_of(table, attrs), attrs)
    return item


def _describe(self: Table, base_key: str = "TableDescription") -> dict[str, Any]:
    result: dict[str, Any] = _original_describe(self, base_key)
    _data().describe_extra(self, result[base_key])
    return result


def _describe_continuous_backups(self: DynamoDBBackend, table_name: str) -> dict[str, Any]:
    result: dict[str, Any] = _original_describe_backups(self, table_name)
    pitr = result.get("PointInTimeRecoveryDescription", {})
    if pitr.get("PointInTimeRecoveryStatus") == "ENABLED":
        pitr["LatestRestorableDateTime"] = STATE.now() - STATE.timings.restorable_lag_seconds
    return result


def _update_table(self: DynamoHandler) -> Any:
    updates = self.body.get("ReplicaUpdates") or []
    if updates:
        table = self.dynamodb_backend.get_table(self.body["TableName"])
        data = _data()
        for update in updates:
            if "Create" in update:
                create = update["Create"]
                data.create_replica(table, create["RegionName"], create.get("KMSMasterKeyId"))
            elif "Delete" in update:
                data.delete_replica(table, update["Delete"]["RegionName"])
    return _original_update_table(self)


def _restore_table_to_point_in_time(self: DynamoHandler) -> Any:
    body = self.body
    source_name = body.get("SourceTableName") or str(body.get("SourceTableArn", "")).split("/")[-1]
    target_name = body["TargetTableName"]
    backend = self.dynamodb_backend
    source = backend.get_table(source_name)
    pitr = source.continuous_backups["PointInTimeRecoveryDescription"]
    if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
        raise JsonRESTError(
            "PointInTimeRecoveryUnavailableException",
            f"Point in time recovery is not enabled for table '{source_name}'",
        )
    latest = STATE.now() - STATE.timings.restorable_lag_seconds
    restore_at = body.get("RestoreDateTime")
    restore_ts: float
    if body.get("UseLatestRestorableTime") or restore_at is None:
        restore_ts = latest
    else:
        restore_ts = (
            restore_at.timestamp() if isinstance(restore_at, datetime) else float(restore_at)
        )
        if restore_ts > latest + 1e-3:
            raise JsonRESTError(
                "InvalidRestoreTimeException",
                "RestoreDateTime is later than the latest restorable date time.",
            )
    restored = backend.restore_table_to_point_in_time(target_name, source_name)
    restored.items = defaultdict(dict)
    data = _data()
    data.replicating = True
    try:
        for at, key, attrs in data.history.get((source.region_name, source_name), []):
            if at > restore_ts:
                break
            if attrs is None:
                hash_key, range_key = _key_types(restored, key)
                _original_delete(restored, hash_key, range_key)
            else:
                _original_put(restored, copy.deepcopy(attrs), overwrite=True)
    finally:
        data.replicating = False
    restored.restore_date_time = datetime.fromtimestamp(restore_ts, tz=UTC).replace(tzinfo=None)
    status_key = (restored.region_name, target_name)
    data.table_status[status_key] = "CREATING"
    if not STATE.faults.is_stuck("restore_table_to_point_in_time"):
        STATE.scheduler.after(
            STATE.timings.restore_table_seconds,
            f"dynamodb restore {target_name}",
            data.clear_status(status_key),
        )
    return DynamoResult(restored.describe())


def install() -> None:
    """Extend moto's DynamoDB (idempotent)."""
    if isinstance(STATE.dynamodb, DynamoData):
        return
    STATE.dynamodb = DynamoData()
    STATE.add_tick_hook(STATE.dynamodb.pump)
    patch(Table, "put_item", _put_item)
    patch(Table, "delete_item", _delete_item)
    patch(Table, "describe", _describe)
    patch(DynamoDBBackend, "update_item", _update_item)
    patch(DynamoDBBackend, "describe_continuous_backups", _describe_continuous_backups)
    patch(DynamoHandler, "update_table", _update_table)
    patch(DynamoHandler, "restore_table_to_point_in_time", _restore_table_to_point_in_time)


def dump_items(region: str, table: str) -> list[dict[str, Any]]:
    """Every item of a table in one region, as DynamoDB JSON (for assertions)."""
    backend = _backend(region)
    if table not in backend.tables:
        return []
    return [
        json.loads(json.dumps(i.to_json()["Attributes"])) for i in backend.tables[table].all_items()
    ]
