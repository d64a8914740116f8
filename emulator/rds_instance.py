"""RDS DB instances outside a cluster (the payments database): Multi-AZ failover, cross-Region
read replicas, their promotion, and the ``ReplicaLag`` metric, as strict as AWS.

- ``reboot_db_instance`` with ``ForceFailover``: refused on a Single-AZ instance ("You can't
  enable force failover if the instance isn't configured for Multi-AZ", RDS API Reference,
  RebootDBInstance); the instance is ``rebooting`` for a while, then answers from the other
  Availability Zone (RDS User Guide, "Failover process for Amazon RDS": the endpoint's DNS
  record moves to the standby, so the address stays the same).
- ``create_db_instance_read_replica`` from another Region's source (by ARN): refused unless the
  source is ``available`` with automated backups on, and, for an encrypted source, unless the
  request names a key of the destination Region (RDS API Reference,
  CreateDBInstanceReadReplica, ``KmsKeyId``; RDS User Guide, "Creating a read replica in a
  different AWS Region"); a cross-Region replica gets the engine's default parameter group
  unless one is named. The replica is ``creating`` for a while.
- ``promote_read_replica``: refused for an instance that is not a read replica (RDS User
  Guide, "Promoting a read replica to be a standalone DB instance"); ``modifying`` for a while,
  then standalone. Promotion is one-way and the old source keeps running and accepting writes.
- ``ReplicaLag`` (``AWS/RDS``, Seconds, dimension ``DBInstanceIdentifier``) for every read
  replica, in its Region: the configured lag while the source accepts writes, 0 once it has
  stopped accepting them (read-only or down) and the replica has caught up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import MetricDatum, cloudwatch_backends
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult
from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBInstance, DBParameterGroup, rds_backends
from moto.rds.responses import RDSResponse

from .state import STATE, patch

READ_ONLY_PARAMETER = "default_transaction_read_only"
"""The PostgreSQL setting that makes every new transaction read-only (a fence the drill sets
on the old source before it promotes the replica)."""

_published_at: list[float] = [0.0]
_fenced_at: dict[str, float] = {}
"""Source instance ARN -> when it stopped accepting writes (for ReplicaLag's catch-up)."""


def _find(identifier: str, backend: Any) -> DBInstance:
    if identifier.startswith("arn:"):
        parts = identifier.split(":")
        backend = rds_backends[parts[4]][parts[3]]
        identifier = parts[-1]
    database = backend.databases.get(identifier)
    if database is None or getattr(database, "db_cluster_identifier", None):
        raise RDSClientError("DBInstanceNotFound", f"DBInstance {identifier} not found.")
    return database  # type: ignore[no-any-return]


def read_only(database: DBInstance) -> bool:
    """Whether the instance's parameter group makes new transactions read-only."""
    backend = rds_backends[database.account_id][database.region]
    group = backend.db_parameter_groups.get(database.db_parameter_group_name or "")
    if group is None:
        return False
    value = group.parameters.get(READ_ONLY_PARAMETER, {}).get("ParameterValue")
    return str(value).lower() in {"1", "on", "true"}


def accepts_writes(database: DBInstance) -> bool:
    """Available, standalone, not read-only, its region answering."""
    return (
        database.status == "available"
        and not database.is_replica
        and not read_only(database)
        and not STATE.faults.is_down(database.region)
    )


def _invalid_state(message: str) -> RDSClientError:
    return RDSClientError("InvalidDBInstanceState", message)


_LOCAL = threading.local()


def _mark(now: float) -> None:
    """Tick hook: the emulator's middleware ticks right before it serves a request, in the
    thread that serves it: remember which request this thread serves."""
    _LOCAL.request = STATE.request_count


def emulated() -> bool:
    """Whether the request being served came through the emulator (its clock and gates). A
    plain moto server in the same process (another test's) never ticks: there an operation
    completes at once, as moto's own does."""
    return getattr(_LOCAL, "request", None) == STATE.request_count


def _later(operation: str, seconds: float, label: str, finish: Callable[[], None]) -> None:
    if not emulated():
        finish()
        return
    if STATE.faults.park(operation, finish):
        return  # a test holds it in flight until it releases the gate
    STATE.scheduler.after(seconds, label, finish)


def _reboot_db_instance(self: Any) -> ActionResult:
    found = self.backend.databases.get(self.params["DBInstanceIdentifier"])
    if found is None or getattr(found, "db_cluster_identifier", None):
        return _ORIGINAL["reboot"](self)  # type: ignore[no-any-return]  # a cluster's: moto's
    database = _find(self.params["DBInstanceIdentifier"], self.backend)
    force = bool(self.params.get("ForceFailover", False))
    if force and not database.multi_az:
        raise RDSClientError(
            "InvalidParameterCombination",
            f"Cannot force a failover of {database.db_instance_identifier}: it isn't "
            "configured for Multi-AZ (ForceFailover needs a Multi-AZ DB instance).",
        )
    if database.status != "available":
        raise _invalid_state(
            f"DB instance {database.db_instance_identifier} is {database.status}; it must be "
            "available to be rebooted."
        )
    database.status = "rebooting"

    def finish() -> None:
        if force:
            zones = STATE_ZONES.setdefault(
                database.db_instance_arn,
                [database.availability_zone, _other_zone(database.availability_zone)],
            )
            zones.reverse()
            database.availability_zone = zones[0]
        database.status = "available"

    seconds = STATE.timings.rds_failover_seconds if force else STATE.timings.rds_reboot_seconds
    _later("reboot_db_instance", seconds, f"rds reboot {database.db_instance_identifier}", finish)
    return ActionResult({"DBInstance": database})


STATE_ZONES: dict[str, list[str]] = {}
"""Instance ARN -> [current AZ, standby AZ] (a Multi-AZ failover swaps them)."""


def _other_zone(zone: str) -> str:
    return zone[:-1] + ("b" if zone.endswith("a") else "a")


def _secondary_zone(self: DBInstance) -> str | None:
    if not self.multi_az:
        return None
    zones = STATE_ZONES.get(self.db_instance_arn)
    return zones[1] if zones else _other_zone(self.availability_zone)


def _create_db_instance_read_replica(self: Any) -> ActionResult:
    params = self.params
    source = _find(params["SourceDBInstanceIdentifier"], self.backend)
    identifier = params["DBInstanceIdentifier"]
    cross_region = source.region != self.region
    if source.status != "available":
        raise _invalid_state(
            f"Source DB instance {source.db_instance_identifier} is {source.status}; it must be "
            "available to create a read replica."
        )
    if not source.backup_retention_period:
        raise _invalid_state(
            f"Automated backups are not enabled for {source.db_instance_identifier}: a read "
            "replica needs a backup retention period other than 0."
        )
    if cross_region and source.storage_encrypted and not params.get("KmsKeyId"):
        raise RDSClientError(
            "InvalidParameterCombination",
            "KmsKeyId is required for an encrypted cross-Region read replica: name a key of "
            f"{self.region}.",
        )
    if identifier in self.backend.databases:
        raise RDSClientError("DBInstanceAlreadyExists", f"DB instance {identifier} exists.")
    major = str(source.engine_version).split(".", maxsplit=1)[0]
    kwargs: dict[str, Any] = {
        "db_instance_identifier": identifier,
        "engine": source.engine,
        "engine_version": source.engine_version,
        "db_instance_class": params.get("DBInstanceClass") or source.db_instance_class,
        "allocated_storage": source.allocated_storage,
        "storage_type": params.get("StorageType") or source.storage_type,
        "multi_az": bool(params.get("MultiAZ", False)),
        "storage_encrypted": bool(source.storage_encrypted),
        "kms_key_id": params.get("KmsKeyId") or source.kms_key_id,
        "port": source.port,
        "master_username": source.master_username,
        "db_name": source.db_name,
        "publicly_accessible": bool(params.get("PubliclyAccessible", False)),
        "deletion_protection": bool(params.get("DeletionProtection", False)),
        "db_subnet_group_name": params.get("DBSubnetGroupName"),
        "vpc_security_group_ids": list(params.get("VpcSecurityGroupIds") or []),
        "backup_retention_period": 0,
        # a cross-Region replica takes the engine's default group unless one is named
        "db_parameter_group_name": params.get("DBParameterGroupName")
        or (f"default.{source.engine}{major}" if cross_region else source.db_parameter_group_name),
        "tags": list(params.get("Tags") or []),
    }
    replica = self.backend.create_db_instance(kwargs)
    replica.set_as_replica()
    replica.source_db_instance_identifier = (
        source.db_instance_arn if cross_region else source.db_instance_identifier
    )
    source.add_replica(replica)
    replica.status = "creating"

    def ready() -> None:
        replica.status = "available"

    _later(
        "create_db_instance_read_replica",
        STATE.timings.rds_replica_create_seconds,
        f"rds replica {identifier}",
        ready,
    )
    return ActionResult({"DBInstance": replica})


def _detach(replica: DBInstance) -> None:
    """Forget the replica on its source's side (the source may be in another Region)."""
    source_id = replica.source_db_instance_identifier
    if not source_id:
        return
    try:
        source = _find(source_id, rds_backends[replica.account_id][replica.region])
    except RDSClientError:
        return
    for key in (replica.db_instance_arn, replica.db_instance_identifier):
        if key in source.replicas:
            source.replicas.remove(key)


def _promote_read_replica(self: Any) -> ActionResult:
    database = _find(self.params["DBInstanceIdentifier"], self.backend)
    if not database.is_replica:
        raise _invalid_state(
            f"DB instance {database.db_instance_identifier} is not a read replica: only a read "
            "replica can be promoted."
        )
    if database.status != "available":
        raise _invalid_state(
            f"Read replica {database.db_instance_identifier} is {database.status}; it must be "
            "available to be promoted."
        )
    retention = self.params.get("BackupRetentionPeriod")
    database.status = "modifying"

    def finish() -> None:
        _detach(database)
        database.is_replica = False
        database.source_db_instance_identifier = None
        if retention is not None:
            database.backup_retention_period = int(retention)
        database.status = "available"

    _later(
        "promote_read_replica",
        STATE.timings.rds_promote_seconds,
        f"rds promote {database.db_instance_identifier}",
        finish,
    )
    return ActionResult({"DBInstance": database})


def _delete_db_instance(self: Any) -> ActionResult:
    found = self.backend.databases.get(self.params["DBInstanceIdentifier"])
    if found is None or getattr(found, "db_cluster_identifier", None):
        return _ORIGINAL["delete"](self)  # type: ignore[no-any-return]  # a cluster's: moto's
    database = _find(self.params["DBInstanceIdentifier"], self.backend)
    if database.status not in {"available", "stopped", "failed", "storage-full"}:
        raise _invalid_state(
            f"DB instance {database.db_instance_identifier} is {database.status}; it can't be "
            "deleted now."
        )
    if database.is_replica:
        _detach(database)
        database.is_replica = False  # moto's own bookkeeping expects a same-Region source
        database.source_db_instance_identifier = None
    return _ORIGINAL["delete"](self)  # type: ignore[no-any-return]


_ORIGINAL: dict[str, Any] = {}


def _update_parameters(self: DBParameterGroup, new: Any) -> None:
    """AWS adds a parameter a group does not list yet (its engine default until then)."""
    for parameter in new:
        self.parameters[parameter["ParameterName"]].update(parameter)


def _reset_db_parameter_group(self: Any) -> ActionResult:
    """ResetDBParameterGroup: the named parameters (or all) back to the engine default, i.e.
    no longer set by the user (moto has no such action)."""
    name = self.params["DBParameterGroupName"]
    group = self.backend.db_parameter_groups.get(name)
    if group is None:
        raise RDSClientError("DBParameterGroupNotFound", f"DBParameterGroup {name} not found.")
    if self.params.get("ResetAllParameters"):
        group.parameters.clear()
    else:
        for parameter in self.params.get("Parameters") or []:
            group.parameters.pop(parameter["ParameterName"], None)
    return ActionResult({"DBParameterGroupName": name})


def publish_replica_lag(now: float) -> None:
    """Tick hook: ``ReplicaLag`` of every read replica, every ``metric_interval_seconds``."""
    if 0.0 <= now - _published_at[0] < STATE.timings.metric_interval_seconds:
        return
    _published_at[0] = now
    lag = STATE.timings.rds_replica_lag_seconds
    stamp = datetime.fromtimestamp(now, tz=UTC).replace(tzinfo=None)
    for region, backend in rds_backends[DEFAULT_ACCOUNT_ID].items():
        if STATE.faults.is_down(region):
            continue
        for database in list(backend.databases.values()):
            if not database.is_replica or database.status != "available":
                continue
            try:
                source = _find(str(database.source_db_instance_identifier), backend)
            except RDSClientError:
                continue
            if accepts_writes(source):
                _fenced_at.pop(source.db_instance_arn, None)
                behind = lag
            else:
                since = _fenced_at.setdefault(source.db_instance_arn, now)
                behind = max(0.0, lag - (now - since))
            cloudwatch_backends[DEFAULT_ACCOUNT_ID][region].metric_data.append(
                MetricDatum(
                    namespace="AWS/RDS",
                    name="ReplicaLag",
                    value=behind,
                    dimensions=[
                        {"Name": "DBInstanceIdentifier", "Value": database.db_instance_identifier}
                    ],
                    timestamp=stamp,
                    unit="Seconds",
                )
            )


def install() -> None:
    """Install the DB instance behaviours on moto's RDS responses (idempotent)."""
    if "delete" not in _ORIGINAL:
        _ORIGINAL["delete"] = RDSResponse.delete_db_instance
        _ORIGINAL["reboot"] = RDSResponse.reboot_db_instance
        STATE.add_tick_hook(_mark)
        STATE.add_tick_hook(publish_replica_lag)
    patch(RDSResponse, "reboot_db_instance", _reboot_db_instance)
    patch(RDSResponse, "create_db_instance_read_replica", _create_db_instance_read_replica)
    patch(RDSResponse, "promote_read_replica", _promote_read_replica)
    patch(RDSResponse, "delete_db_instance", _delete_db_instance)
    patch(RDSResponse, "reset_db_parameter_group", _reset_db_parameter_group)
    patch(DBParameterGroup, "update_parameters", _update_parameters)
    patch(DBInstance, "secondary_availability_zone", property(_secondary_zone))
