"""What the drill reads from AWS: each store's state as its control plane reports it, the
stack's alarms, and the active-region setting applications read.

Reads only: deciding (preconditions, stop conditions, the invariant) happens in the modules
that use them (:mod:`.preconditions`, :mod:`.stop_conditions`, :mod:`.invariant`). Every read
goes through ``ctx.aws`` (retries, timeouts, the region's reachability) and names the region
it asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .aws import error_code
from .engine import DrillContext
from .errors import RegionUnavailableError, VerificationError


def region_of_arn(arn: str) -> str:
    """The region field of an ARN."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def describe_global_cluster(
    ctx: DrillContext, regions: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The global cluster, read from the first region that answers."""
    order = regions or (
        ctx.state.get("to") or ctx.target.secondary_region,
        ctx.target.primary_region,
    )
    last: RegionUnavailableError | None = None
    for region in dict.fromkeys(order):
        try:
            result = ctx.aws.call(
                "rds",
                region,
                "describe_global_clusters",
                GlobalClusterIdentifier=ctx.target.global_cluster_id,
            )
        except RegionUnavailableError as exc:
            last = exc
            continue
        wanted = ctx.target.global_cluster_id.lower()
        clusters: list[dict[str, Any]] = [
            c
            for c in result.get("GlobalClusters", [])
            if str(c.get("GlobalClusterIdentifier", "")).lower() == wanted
        ]
        if not clusters:
            raise VerificationError(f"global cluster {ctx.target.global_cluster_id} not found")
        return clusters[0]
    assert last is not None
    raise last


def writer_regions(global_cluster: dict[str, Any]) -> list[str]:
    """Regions of the members that are writers."""
    return [
        region_of_arn(m["DBClusterArn"])
        for m in global_cluster.get("GlobalClusterMembers", [])
        if m.get("IsWriter")
    ]


def synchronized(member: dict[str, Any]) -> bool:
    """Whether a global cluster member replicates normally: ``SynchronizationStatus``
    ``connected`` (RDS API Reference, GlobalClusterMember: ``connected | pending-resync``);
    a member that reports none counts as connected."""
    return bool(member.get("SynchronizationStatus", "connected") == "connected")


def member(global_cluster: dict[str, Any], region: str) -> dict[str, Any] | None:
    """The member of ``global_cluster`` in ``region``."""
    for m in global_cluster.get("GlobalClusterMembers", []):
        if region_of_arn(m["DBClusterArn"]) == region:
            found: dict[str, Any] = m
            return found
    return None


def describe_cluster(
    ctx: DrillContext, region: str, identifier: str | None = None
) -> dict[str, Any]:
    """One regional cluster."""
    ident = identifier or ctx.target.aurora[region].identifier
    result = ctx.aws.call("rds", region, "describe_db_clusters", DBClusterIdentifier=ident)
    cluster: dict[str, Any] = result["DBClusters"][0]
    return cluster


def describe_datastore(
    ctx: DrillContext, region: str | tuple[str, ...] | None = None
) -> dict[str, Any] | None:
    """The ElastiCache global datastore, read from the first region that answers (None when
    the stack has none)."""
    if not ctx.target.cache_global_id:
        return None
    if isinstance(region, tuple):
        order = region
    elif region:
        order = (region,)
    else:
        order = (ctx.target.secondary_region, ctx.target.primary_region)
    last: RegionUnavailableError | None = None
    for candidate in dict.fromkeys(order):
        try:
            result = ctx.aws.call(
                "elasticache",
                candidate,
                "describe_global_replication_groups",
                GlobalReplicationGroupId=ctx.target.cache_global_id,
                ShowMemberInfo=True,
            )
        except RegionUnavailableError as exc:
            last = exc
            continue
        groups: list[dict[str, Any]] = result.get("GlobalReplicationGroups", [])
        return groups[0] if groups else None
    assert last is not None
    raise last


def cache_primaries(datastore: dict[str, Any]) -> list[str]:
    """Regions of the PRIMARY members."""
    return [
        m["ReplicationGroupRegion"]
        for m in datastore.get("Members", [])
        if m.get("Role") == "PRIMARY"
    ]


def alarms_in_alarm(
    ctx: DrillContext, regions: tuple[str, ...] | None = None
) -> tuple[list[str], list[str]]:
    """(alarms in ALARM, regions that did not answer) among the stack's alarms."""
    firing: list[str] = []
    unreachable: list[str] = []
    ignored = set(ctx.settings.ignored_alarms)
    for region in regions or ctx.target.regions:
        names = [n for n in ctx.target.alarms.get(region, []) if n not in ignored]
        for start in range(0, len(names), 100):
            try:
                result = ctx.aws.call(
                    "cloudwatch",
                    region,
                    "describe_alarms",
                    AlarmNames=names[start : start + 100],
                    StateValue="ALARM",
                )
            except RegionUnavailableError:
                unreachable.append(region)
                break
            firing.extend(
                f"{region}/{a['AlarmName']}"
                for a in result.get("MetricAlarms", []) + result.get("CompositeAlarms", [])
                if a.get("StateValue") == "ALARM"
            )
    return firing, unreachable


def reachable(ctx: DrillContext, region: str) -> bool:
    """Whether ``region``'s RDS endpoint answers (one attempt)."""
    try:
        ctx.aws.call(
            "rds",
            region,
            "describe_db_clusters",
            retries=False,
            DBClusterIdentifier=ctx.target.aurora[region].identifier,
        )
    except RegionUnavailableError:
        return False
    except ClientError:
        return True
    return True


# -- the active-region setting ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActiveRegionSetting:
    """The active-region setting (an SSM parameter, one copy per region) as read: the value
    where it exists, the regions that answered without it, the regions that did not answer."""

    name: str
    values: dict[str, str]
    missing: tuple[str, ...] = ()
    unanswered: tuple[str, ...] = ()

    @property
    def regions(self) -> list[str]:
        """The distinct values, sorted (one when the copies agree)."""
        return sorted(set(self.values.values()))

    @property
    def agreed(self) -> str | None:
        """The value when every copy read says the same, else None."""
        distinct = self.regions
        return distinct[0] if len(distinct) == 1 else None


def read_active_region(
    ctx: DrillContext, regions: tuple[str, ...] | None = None
) -> ActiveRegionSetting:
    """The one way the drill reads the setting applications read: ``get_parameter`` in each
    of ``regions`` (default: every region not known to be down), in order. A region that
    does not answer is listed as such, never guessed."""
    name = ctx.target.active_region_parameter
    order = regions or tuple(r for r in ctx.target.regions if r not in ctx.unreachable)
    values: dict[str, str] = {}
    missing: list[str] = []
    unanswered: list[str] = []
    for region in order:
        if not name:
            missing.append(region)
            continue
        try:
            result = ctx.aws.call("ssm", region, "get_parameter", Name=name)
        except RegionUnavailableError:
            unanswered.append(region)
            continue
        except ClientError as exc:
            if error_code(exc) != "ParameterNotFound":
                raise
            missing.append(region)
            continue
        values[region] = str(result["Parameter"]["Value"])
    return ActiveRegionSetting(name, values, tuple(missing), tuple(unanswered))
