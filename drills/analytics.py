"""The analytics warehouse's drill (issue 20): restore the latest snapshot copied to the copy
region, measure it, delete the restored cluster.

The warehouse (components/redshift.py) is one provisioned cluster in the anchor region whose
automated snapshots are copied to the other region (a snapshot copy grant there). Its recovery
is docs/drills.md's runbook, "Restoring the analytics warehouse", done by the drill:

1. the newest ``available`` automated snapshot of the source cluster **in the copy region**
   (``describe_cluster_snapshots`` there: a copy keeps the source's cluster identifier);
2. ``restore_from_cluster_snapshot`` there into a new cluster named by the drill, with the
   landing the stack exports (``redshift.restore``: parameter group, subnet group, security
   group: RestoreFromClusterSnapshot otherwise takes the defaults), not publicly accessible,
   enhanced VPC routing, tagged ``securecart:drill=<drill id>`` (RestoreFromClusterSnapshot
   takes no tags: CreateTags right after);
3. RTO: from the restore request until the cluster is ``available``; RPO: the copy's age at
   the request (now minus its ``SnapshotCreateTime``, the moment the snapshot's data is from;
   Management Guide, "Amazon Redshift snapshots and backups");
4. ``delete_cluster`` of the restored cluster (``SkipFinalClusterSnapshot``: it is a copy),
   only if it carries this drill's tag, journaled, also on rollback (after waiting for a
   restore still ``creating``: Redshift refuses to delete a cluster mid-operation).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from .aws import error_code
from .engine import DrillContext, Step
from .errors import VerificationError
from .pitr import DRILL_TAG

PHASE = "redshift-restore"
GONE = ("ClusterNotFound", "ClusterNotFoundFault")


def _ref(ctx: DrillContext) -> dict[str, Any]:
    raw = ctx.target.raw.get("redshift")
    if not isinstance(raw, dict) or not raw.get("clusterIdentifier"):
        raise VerificationError("the stack exports no redshift output (redshiftEnabled is off)")
    return raw


def restored_name(ctx: DrillContext) -> str:
    """``<source>-drill-<suffix>``: Redshift identifiers are at most 63 characters."""
    ref = _ref(ctx)
    suffix = ctx.drill_id.rsplit("-", 1)[-1]
    return f"{str(ref['clusterIdentifier'])[: 63 - 7 - len(suffix)]}-drill-{suffix}".lower()


def _cluster(ctx: DrillContext, region: str, identifier: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = ctx.aws.call(
            "redshift", region, "describe_clusters", ClusterIdentifier=identifier
        )["Clusters"][0]
    except ClientError as exc:
        if error_code(exc) in GONE:
            return None
        raise
    return found


def latest_copy(ctx: DrillContext) -> dict[str, Any]:
    """The newest available automated snapshot of the source cluster in the copy region."""
    ref = _ref(ctx)
    region = str(ref["copyRegion"])
    snapshots = ctx.aws.call(
        "redshift",
        region,
        "describe_cluster_snapshots",
        ClusterIdentifier=str(ref["clusterIdentifier"]),
        SnapshotType="automated",
    ).get("Snapshots", [])
    ready = [s for s in snapshots if s.get("Status") == "available"]
    if not ready:
        raise VerificationError(
            f"no available automated snapshot of {ref['clusterIdentifier']} copied to {region} "
            "(is cross-region snapshot copy on?)"
        )
    newest: dict[str, Any] = max(ready, key=lambda s: s["SnapshotCreateTime"])
    return newest


def _restore(ctx: DrillContext) -> None:
    ref = _ref(ctx)
    region = str(ref["copyRegion"])
    name = restored_name(ctx)
    ph = ctx.phase(PHASE)
    ph.setdefault("from", str(ref["region"]))
    ph.setdefault("to", region)
    m = ctx.measurement(PHASE, "redshift")
    key = f"{PHASE}:restore:{name}"
    if _cluster(ctx, region, name) is None:
        snapshot = latest_copy(ctx)
        created = snapshot["SnapshotCreateTime"]
        requested = time.time()
        m.update(
            {
                "action": "restore_from_cluster_snapshot",
                "from": str(ref["region"]),
                "to": region,
                "restored": name,
                "snapshot": snapshot["SnapshotIdentifier"],
                "snapshot_created_at": created.timestamp()
                if isinstance(created, datetime)
                else None,
            }
        )
        landing = dict(ref.get("restore") or {})
        kwargs: dict[str, Any] = {
            "ClusterIdentifier": name,
            "SnapshotIdentifier": snapshot["SnapshotIdentifier"],
            "SnapshotClusterIdentifier": str(ref["clusterIdentifier"]),
            "PubliclyAccessible": False,
            "EnhancedVpcRouting": True,
        }
        if landing.get("parameterGroupName"):
            kwargs["ClusterParameterGroupName"] = landing["parameterGroupName"]
        if landing.get("subnetGroupName"):
            kwargs["ClusterSubnetGroupName"] = landing["subnetGroupName"]
        if landing.get("securityGroupId"):
            kwargs["VpcSecurityGroupIds"] = [landing["securityGroupId"]]
        m["requested_at"] = requested
        with ctx.irreversible(
            key,
            f"redshift restore_from_cluster_snapshot {snapshot['SnapshotIdentifier']} -> {name} "
            f"in {region}",
            store="redshift",
        ):
            ctx.aws.call("redshift", region, "restore_from_cluster_snapshot", **kwargs)
    else:
        ctx.resolve_call(key, "AWS shows it done")
    m.setdefault("requested_at", time.time())
    tag_key = f"{PHASE}:tag:{name}"
    arn = f"arn:aws:redshift:{region}:{_account(ref)}:cluster:{name}"
    with ctx.irreversible(tag_key, f"redshift create_tags {name} {DRILL_TAG}", store="redshift"):
        ctx.aws.call(
            "redshift",
            region,
            "create_tags",
            ResourceName=arn,
            Tags=[{"Key": DRILL_TAG, "Value": ctx.drill_id}],
        )

    def available() -> float | None:
        found = _cluster(ctx, region, name)
        return time.time() if found and found.get("ClusterStatus") == "available" else None

    ready = ctx.wait_until(f"{name} to be available in {region}", available)
    requested_at = float(m["requested_at"])
    m["fault_at"] = requested_at
    m["takeover_at"] = ready
    m["rto_seconds"] = round(ready - requested_at, 3)
    m["rto_from"] = "the restore request"
    m["rto_label"] = "from the restore request until the restored cluster is available"
    if m.get("snapshot_created_at") is not None:
        m["rpo_seconds"] = round(requested_at - float(m["snapshot_created_at"]), 3)
        m["rpo_note"] = "age of the newest copied snapshot at the restore request"
    ctx.event(
        "restored",
        f"{name} available in {region} {m['rto_seconds']:.3f}s after the request",
        store="redshift",
    )


def _account(ref: dict[str, Any]) -> str:
    parts = str(ref.get("arn", "")).split(":")
    return parts[4] if len(parts) > 4 else ""


def _remove(ctx: DrillContext) -> None:
    """Delete the restored cluster (only with this drill's tag), waiting for a restore in
    flight first; journaled."""
    if "redshift" not in ctx.target.raw:
        return
    ref = _ref(ctx)
    region = str(ref["copyRegion"])
    name = restored_name(ctx)

    def settled() -> dict[str, Any] | bool | None:
        found = _cluster(ctx, region, name)
        if found is None:
            return False
        return found if found.get("ClusterStatus") == "available" else None

    found = ctx.wait_until(f"{name} to finish what it is doing", settled)
    if found is False or not isinstance(found, dict):
        ctx.resolve_call(f"{PHASE}:delete:{name}", "AWS shows it gone")
        return
    tags = {str(t["Key"]): str(t["Value"]) for t in found.get("Tags", [])}
    if tags.get(DRILL_TAG) != ctx.drill_id:
        raise VerificationError(
            f"the cluster {name} carries {DRILL_TAG}={tags.get(DRILL_TAG)!r}, not this drill's "
            f"id {ctx.drill_id!r}: not deleting it (delete it by hand if it is a leftover)"
        )
    with ctx.irreversible(
        f"{PHASE}:delete:{name}", f"redshift delete_cluster {name}", store="redshift"
    ):
        try:
            ctx.aws.call(
                "redshift",
                region,
                "delete_cluster",
                ClusterIdentifier=name,
                SkipFinalClusterSnapshot=True,
            )
        except ClientError as exc:
            if error_code(exc) not in GONE:
                raise
    ctx.wait_until(
        f"{name} to be deleted",
        lambda: True if _cluster(ctx, region, name) is None else None,
    )
    ctx.measurement(PHASE, "redshift")["removed_at"] = time.time()
    ctx.event("removed", f"restored cluster {name} deleted", store="redshift")


def restore_steps() -> list[Step]:
    """Restore (measured), then remove; both undone by the removal."""
    return [
        Step(
            "redshift-restore",
            "restore the newest copied snapshot in the copy region; RTO and snapshot age",
            _restore,
            "restore",
            undo=_remove,
            phase=PHASE,
        ),
        Step(
            "redshift-remove",
            "delete the restored cluster (tagged by this drill)",
            _remove,
            "cleanup",
            undo=_remove,
            phase=PHASE,
        ),
    ]
