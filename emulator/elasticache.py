"""ElastiCache global datastores, which moto does not implement.

``create_global_replication_group`` makes a global datastore from a primary replication group;
``create_replication_group`` with ``GlobalReplicationGroupId`` adds a secondary in another
region; ``failover_global_replication_group`` promotes a secondary (the datastore is
``modifying`` for a while, then ``available`` with the roles swapped);
``describe_global_replication_groups`` shows members, roles and statuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult, PaginatedResult
from moto.elasticache.exceptions import ElastiCacheException
from moto.elasticache.models import ElastiCacheBackend, elasticache_backends
from moto.elasticache.responses import ElastiCacheResponse

from .state import STATE, patch

_PREFIX = "ldgnf"
"""AWS prefixes global datastore ids with a fixed string per account; any constant will do."""


class CacheError(ElastiCacheException):
    """An ElastiCache error with an explicit code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


@dataclass(slots=True)
class Member:
    """One replication group in a global datastore."""

    replication_group_id: str
    region: str
    role: str

    def describe(self, status: str) -> dict[str, Any]:
        """The ``GlobalReplicationGroupMember`` shape."""
        return {
            "ReplicationGroupId": self.replication_group_id,
            "ReplicationGroupRegion": self.region,
            "Role": self.role,
            "AutomaticFailover": "enabled",
            "Status": status,
        }


@dataclass(slots=True)
class GlobalDatastore:
    """A global datastore (``GlobalReplicationGroup``)."""

    global_id: str
    description: str
    engine: str
    engine_version: str | None
    node_type: str
    members: list[Member] = field(default_factory=list)
    status: str = "available"

    def primary(self) -> Member | None:
        """The PRIMARY member (exactly one outside a failover)."""
        return next((m for m in self.members if m.role == "PRIMARY"), None)

    def describe(self, show_members: bool) -> dict[str, Any]:
        """The ``GlobalReplicationGroup`` shape."""
        member_status = "associated" if self.status == "available" else "modifying"
        result: dict[str, Any] = {
            "GlobalReplicationGroupId": self.global_id,
            "GlobalReplicationGroupDescription": self.description,
            "Status": self.status,
            "CacheNodeType": self.node_type,
            "Engine": self.engine,
            "EngineVersion": self.engine_version,
            "ClusterEnabled": False,
            "AuthTokenEnabled": True,
            "TransitEncryptionEnabled": True,
            "AtRestEncryptionEnabled": True,
            "ARN": f"arn:aws:elasticache::{DEFAULT_ACCOUNT_ID}:globalreplicationgroup:{self.global_id}",
        }
        if show_members:
            result["Members"] = [m.describe(member_status) for m in self.members]
        return result


@dataclass(slots=True)
class CacheData:
    """Every global datastore, by id."""

    datastores: dict[str, GlobalDatastore] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget every datastore."""
        self.datastores.clear()

    def get(self, global_id: str) -> GlobalDatastore:
        """The datastore, or ``GlobalReplicationGroupNotFoundFault``."""
        if global_id not in self.datastores:
            raise CacheError(
                "GlobalReplicationGroupNotFoundFault", f"Global datastore {global_id} not found."
            )
        return self.datastores[global_id]

    def failover(self, datastore: GlobalDatastore, region: str, group_id: str) -> None:
        """Promote the member ``group_id`` in ``region``; completes after the configured delay."""
        if datastore.status != "available":
            raise CacheError(
                "InvalidGlobalReplicationGroupStateFault",
                f"Global datastore {datastore.global_id} is {datastore.status}.",
            )
        target = next(
            (
                m
                for m in datastore.members
                if m.region == region and m.replication_group_id == group_id
            ),
            None,
        )
        if target is None:
            raise CacheError(
                "InvalidParameterValue",
                f"{group_id} in {region} is not a member of {datastore.global_id}.",
            )
        if target.role == "PRIMARY":
            raise CacheError(
                "InvalidParameterValue", f"{group_id} is already the primary of the datastore."
            )
        if STATE.faults.is_down(region):
            raise CacheError("InvalidReplicationGroupStateFault", f"{group_id} is not available.")
        datastore.status = "modifying"

        def complete() -> None:
            for member in datastore.members:
                member.role = "PRIMARY" if member is target else "SECONDARY"
                group = _group(member.region, member.replication_group_id)
                if group is not None:
                    group.global_replication_group_member_role = member.role
            datastore.status = "available"
            plane = STATE.data_plane
            if plane is not None and plane.carries_datastore(datastore.global_id):
                old = next((m for m in datastore.members if m is not target), None)
                planned = old is None or not STATE.faults.is_down(old.region)
                plane.cache_moved(region, planned=planned)

        if STATE.faults.park("failover_global_replication_group", complete):
            return  # a test holds it in flight until it releases the gate
        STATE.scheduler.after(
            STATE.timings.cache_failover_seconds, f"cache failover {datastore.global_id}", complete
        )


def _data() -> CacheData:
    data = STATE.cache
    assert isinstance(data, CacheData)
    return data


def _backend(region: str) -> ElastiCacheBackend:
    return elasticache_backends[DEFAULT_ACCOUNT_ID][region]


def _group(region: str, group_id: str) -> Any:
    return _backend(region).replication_groups.get(group_id)


def _create_global_replication_group(self: ElastiCacheResponse) -> ActionResult:
    suffix = self._get_param("GlobalReplicationGroupIdSuffix")
    primary_id = self._get_param("PrimaryReplicationGroupId")
    group = _group(self.region, primary_id)
    if group is None:
        raise CacheError(
            "ReplicationGroupNotFoundFault", f"Replication group {primary_id} not found."
        )
    global_id = f"{_PREFIX}-{suffix}"
    data = _data()
    if global_id in data.datastores:
        raise CacheError(
            "GlobalReplicationGroupAlreadyExistsFault", f"Global datastore {global_id} exists."
        )
    datastore = GlobalDatastore(
        global_id=global_id,
        description=self._get_param("GlobalReplicationGroupDescription") or "",
        engine=group.engine,
        engine_version=group.engine_version,
        node_type=group.cache_node_type,
        members=[Member(primary_id, self.region, "PRIMARY")],
    )
    data.datastores[global_id] = datastore
    group.global_replication_group_id = global_id
    group.global_replication_group_member_role = "PRIMARY"
    return ActionResult({"GlobalReplicationGroup": datastore.describe(show_members=True)})


def _describe_global_replication_groups(self: ElastiCacheResponse) -> ActionResult:
    wanted = self._get_param("GlobalReplicationGroupId")
    show = bool(self._get_bool_param("ShowMemberInfo"))
    data = _data()
    if wanted:
        groups = [data.get(wanted).describe(show)]
    else:
        groups = [d.describe(show) for d in data.datastores.values()]
    return PaginatedResult({"GlobalReplicationGroups": groups})


def _failover_global_replication_group(self: ElastiCacheResponse) -> ActionResult:
    data = _data()
    datastore = data.get(self._get_param("GlobalReplicationGroupId"))
    data.failover(
        datastore, self._get_param("PrimaryRegion"), self._get_param("PrimaryReplicationGroupId")
    )
    return ActionResult({"GlobalReplicationGroup": datastore.describe(show_members=True)})


_original_create_rg = ElastiCacheBackend.create_replication_group


def _create_replication_group(self: ElastiCacheBackend, *args: Any, **kwargs: Any) -> Any:
    global_id = kwargs.get("global_replication_group_id")
    data = _data()
    if global_id:
        datastore = data.get(global_id)
        if any(m.region == self.region_name for m in datastore.members):
            raise CacheError(
                "InvalidParameterValue",
                f"Global datastore {global_id} already has a member in {self.region_name}.",
            )
    group = _original_create_rg(self, *args, **kwargs)
    if global_id:
        data.datastores[global_id].members.append(
            Member(group.replication_group_id, self.region_name, "SECONDARY")
        )
    return group


def install() -> None:
    """Extend moto's ElastiCache (idempotent)."""
    if isinstance(STATE.cache, CacheData):
        return
    STATE.cache = CacheData()
    patch(ElastiCacheResponse, "create_global_replication_group", _create_global_replication_group)
    patch(
        ElastiCacheResponse,
        "describe_global_replication_groups",
        _describe_global_replication_groups,
    )
    patch(
        ElastiCacheResponse, "failover_global_replication_group", _failover_global_replication_group
    )
    patch(ElastiCacheBackend, "create_replication_group", _create_replication_group)
