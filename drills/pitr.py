"""Point-in-time recovery: canaries written, some deleted (the accident), Aurora and the order
table restored to a moment before the deletion into **new** resources, verified, removed.

Restores never touch the source: ``restore_db_cluster_to_point_in_time`` creates a new cluster
(which needs an instance before it answers, and its own HTTP endpoint for the Data API) and
``restore_table_to_point_in_time`` a new table (RDS "Restoring a DB cluster to a specified
time"; DynamoDB "Restoring a table to a point in time").
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from .aws import error_code
from .engine import DrillContext, Step
from .errors import VerificationError
from .reads import describe_cluster
from .verify import write_canaries


def _pitr_names(ctx: DrillContext) -> tuple[str, str]:
    suffix = ctx.drill_id.rsplit("-", 1)[-1]
    src = ctx.phase("pitr")["from"]
    cluster = f"{ctx.target.aurora[src].identifier}"[:50] + f"-pitr-{suffix}"
    table = ctx.target.order_table().name[:230] + f"-pitr-{suffix}"
    return cluster, table


def _pitr_canaries(ctx: DrillContext) -> None:
    # Aurora's canaries go through the Data API, as the deletion and the read of the restored
    # copy do: this scenario measures what a restore brings back, not the application's path,
    # and the sandbox's emulated restore replays the changes the Data API made (on AWS both
    # paths reach the same database; docs/drills.md, "Scenarios")
    tables = [ctx.target.order_table().name]
    write_canaries(ctx, ctx.phase_run("pitr"), aurora=True, tables=tables, aurora_data_api=True)
    ph = ctx.phase("pitr")
    if "restore_point" not in ph:
        acked = [c.acked_at for c in ctx.log.attempts("pitr") if c.ok]
        gap = max(ctx.settings.poll_interval, 0.01)
        ph["restore_point"] = (max(acked) if acked else time.time()) + gap
        ctx.sleep(max(0.0, ph["restore_point"] + gap - time.time()))
        ctx.event("restore-point", "restore point recorded", at=ph["restore_point"])


def _pitr_delete(ctx: DrillContext) -> None:
    ph = ctx.phase("pitr")
    if ph.get("deleted"):
        return
    src = ph["from"]
    acked = [c for c in ctx.log.attempts("pitr") if c.ok]
    victims = acked[::2]
    aurora_ids = [c.id for c in victims if c.store == "aurora"]
    table = ctx.target.order_table().name
    ddb_ids = [c.id for c in victims if c.store == "dynamodb"]
    if aurora_ids:
        ctx.aurora.delete(src, ctx.target.aurora[src].arn, aurora_ids)
    if ddb_ids:
        ctx.dynamo(table).delete(src, ddb_ids)
    ph["deleted"] = sorted(aurora_ids + ddb_ids)
    ph["deleted_at"] = time.time()
    ctx.event("deletion", f"accidentally deleted {len(ph['deleted'])} canaries", phase="pitr")


def _exists_cluster(ctx: DrillContext, region: str, identifier: str) -> dict[str, Any] | None:
    try:
        return describe_cluster(ctx, region, identifier)
    except ClientError as exc:
        if error_code(exc) in {"DBClusterNotFoundFault", "DBClusterNotFound"}:
            return None
        raise


def _exists_table(ctx: DrillContext, region: str, name: str) -> dict[str, Any] | None:
    try:
        table: dict[str, Any] = ctx.aws.call("dynamodb", region, "describe_table", TableName=name)[
            "Table"
        ]
        return table
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def _pitr_restore(ctx: DrillContext) -> None:
    ph = ctx.phase("pitr")
    src = ph["from"]
    restore_point = float(ph["restore_point"])
    restore_dt = datetime.fromtimestamp(restore_point, tz=UTC)
    source_ref = ctx.target.aurora[src]
    table = ctx.target.order_table().name
    cluster_id, restored_table = _pitr_names(ctx)
    ma, md = ctx.measurement("pitr", "aurora"), ctx.measurement("pitr", f"dynamodb:{table}")
    ma.update(
        {
            "action": "restore_db_cluster_to_point_in_time",
            "from": src,
            "to": src,
            "restored": cluster_id,
        }
    )
    md.update(
        {
            "action": "restore_table_to_point_in_time",
            "from": src,
            "to": src,
            "restored": restored_table,
        }
    )

    def restorable() -> bool | None:
        latest = describe_cluster(ctx, src).get("LatestRestorableTime")
        backups = ctx.aws.call("dynamodb", src, "describe_continuous_backups", TableName=table)
        table_latest = backups["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"
        ].get("LatestRestorableDateTime")
        ok = all(
            isinstance(v, datetime) and v.timestamp() >= restore_point
            for v in (latest, table_latest)
        )
        return True if ok else None

    ctx.wait_until("the restore point to become restorable", restorable)
    source = describe_cluster(ctx, src)
    tags = [{"Key": DRILL_TAG, "Value": ctx.drill_id}]
    key = f"pitr:restore-cluster:{cluster_id}"
    if _exists_cluster(ctx, src, cluster_id) is None:
        ma.setdefault("requested_at", time.time())
        kwargs: dict[str, Any] = {
            "DBClusterIdentifier": cluster_id,
            "SourceDBClusterIdentifier": source_ref.identifier,
            "RestoreToTime": restore_dt,
            "RestoreType": "full-copy",
            "DeletionProtection": False,
            "EnableIAMDatabaseAuthentication": True,
            "Tags": tags,
        }
        if isinstance(source.get("DBSubnetGroup"), str):
            kwargs["DBSubnetGroupName"] = source["DBSubnetGroup"]
        groups = [g["VpcSecurityGroupId"] for g in source.get("VpcSecurityGroups", [])]
        if groups:
            kwargs["VpcSecurityGroupIds"] = groups
        with ctx.irreversible(
            key,
            f"restore_db_cluster_to_point_in_time {source_ref.identifier} -> {cluster_id} "
            f"at {restore_dt.isoformat()}",
            store="aurora",
        ):
            ctx.aws.call("rds", src, "restore_db_cluster_to_point_in_time", **kwargs)
    else:
        ctx.resolve_call(key, "AWS shows it done")
    key = f"pitr:restore-table:{restored_table}"
    if _exists_table(ctx, src, restored_table) is None:
        md.setdefault("requested_at", time.time())
        with ctx.irreversible(
            key,
            f"restore_table_to_point_in_time {table} -> {restored_table} at "
            f"{restore_dt.isoformat()}",
            store="dynamodb",
        ):
            ctx.aws.call(
                "dynamodb",
                src,
                "restore_table_to_point_in_time",
                SourceTableName=table,
                TargetTableName=restored_table,
                RestoreDateTime=restore_dt,
                BillingModeOverride="PAY_PER_REQUEST",
            )
    else:
        ctx.resolve_call(key, "AWS shows it done")
    ma.setdefault("requested_at", time.time())
    md.setdefault("requested_at", time.time())

    def cluster_ready() -> dict[str, Any] | None:
        found = _exists_cluster(ctx, src, cluster_id)
        return found if found and found.get("Status") == "available" else None

    restored = ctx.wait_until(f"{cluster_id} to be available", cluster_ready)
    instance_id = f"{cluster_id}-1"
    key = f"pitr:create-instance:{instance_id}"
    if not restored.get("DBClusterMembers"):
        instances = ctx.aws.call(
            "rds",
            src,
            "describe_db_instances",
            Filters=[{"Name": "db-cluster-id", "Values": [source_ref.identifier]}],
        ).get("DBInstances", [])
        instance_class = instances[0]["DBInstanceClass"] if instances else "db.r6g.large"
        with ctx.irreversible(
            key, f"create_db_instance {instance_id} in {cluster_id}", store="aurora"
        ):
            ctx.aws.call(
                "rds",
                src,
                "create_db_instance",
                DBInstanceIdentifier=instance_id,
                DBClusterIdentifier=cluster_id,
                Engine=source.get("Engine", "aurora-postgresql"),
                DBInstanceClass=instance_class,
                Tags=tags,
            )
    else:
        ctx.resolve_call(key, "AWS shows it done")

    def instance_ready() -> bool | None:
        result = ctx.aws.call("rds", src, "describe_db_instances", DBInstanceIdentifier=instance_id)
        return True if result["DBInstances"][0].get("DBInstanceStatus") == "available" else None

    ctx.wait_until(f"{instance_id} to be available", instance_ready)
    key = f"pitr:enable-http-endpoint:{cluster_id}"
    current = _exists_cluster(ctx, src, cluster_id) or restored
    if not current.get("HttpEndpointEnabled"):
        with ctx.irreversible(key, f"enable_http_endpoint {cluster_id}", store="aurora"):
            ctx.aws.call("rds", src, "enable_http_endpoint", ResourceArn=restored["DBClusterArn"])
    else:
        ctx.resolve_call(key, "AWS shows it done")
    ph["restored_cluster_arn"] = restored["DBClusterArn"]
    ma["restored_at"] = time.time()

    def table_ready() -> dict[str, Any] | None:
        found = _exists_table(ctx, src, restored_table)
        return found if found and found.get("TableStatus") == "ACTIVE" else None

    ready = ctx.wait_until(f"{restored_table} to be ACTIVE", table_ready)
    # RestoreTableToPointInTime takes no tags: tag the copy once it is ACTIVE (DynamoDB API
    # Reference, TagResource: "ResourceNotFound ... its status might not be ACTIVE")
    key = f"pitr:tag-table:{restored_table}"
    if _tag_of_table(ctx, src, ready["TableArn"]) != ctx.drill_id:
        with ctx.irreversible(
            key, f"tag_resource {restored_table} {DRILL_TAG}={ctx.drill_id}", store="dynamodb"
        ):
            ctx.aws.call("dynamodb", src, "tag_resource", ResourceArn=ready["TableArn"], Tags=tags)
    else:
        ctx.resolve_call(key, "AWS shows it done")
    md["restored_at"] = time.time()
    ctx.event("restored", f"restored copies available: {cluster_id}, {restored_table}")


DRILL_TAG = "securecart:drill"
"""The tag every copy the drill restores carries (value: the drill's id). The removal deletes
only what carries it with this drill's id: a name collision never deletes someone's cluster."""


def _tag_of_cluster(ctx: DrillContext, region: str, arn: str) -> str | None:
    tags = ctx.aws.call("rds", region, "list_tags_for_resource", ResourceName=arn)["TagList"]
    return next((str(t["Value"]) for t in tags if t["Key"] == DRILL_TAG), None)


def _tag_of_table(ctx: DrillContext, region: str, arn: str) -> str | None:
    tags = ctx.aws.call("dynamodb", region, "list_tags_of_resource", ResourceArn=arn)["Tags"]
    return next((str(t["Value"]) for t in tags if t["Key"] == DRILL_TAG), None)


def _pitr_verify(ctx: DrillContext) -> None:
    ph = ctx.phase("pitr")
    src = ph["from"]
    table = ctx.target.order_table().name
    _, restored_table = _pitr_names(ctx)
    acked = [c for c in ctx.log.attempts("pitr") if c.ok]
    restore_point = float(ph["restore_point"])
    expected_aurora = {c.id for c in acked if c.store == "aurora" and c.acked_at <= restore_point}
    expected_ddb = {c.id for c in acked if c.store == "dynamodb" and c.acked_at <= restore_point}
    in_restored = ctx.aurora.present(src, ph["restored_cluster_arn"])
    in_table = ctx.dynamo(table).present(src, sorted(expected_ddb), table=restored_table)
    now = time.time()
    for store, expected, found in (
        ("aurora", expected_aurora, in_restored),
        (f"dynamodb:{table}", expected_ddb, in_table),
    ):
        m = ctx.measurement("pitr", store)
        lost = sorted(expected - found)
        m["canaries_acknowledged"] = len(expected)
        m["canaries_lost"] = lost
        m["rpo_canaries_lost"] = len(lost)
        m["rpo_seconds"] = (
            0.0
            if not lost
            else round(restore_point - min(c.written_at for c in acked if c.id in lost), 3)
        )
        m["restored_deleted"] = len(set(ph.get("deleted", [])) & found)
        m["takeover_at"] = now
        m["fault_at"] = float(ph.get("deleted_at") or m["requested_at"])
        m["rto_seconds"] = round(now - m["fault_at"], 3)
        m["rto_label"] = "restore time, from the accidental deletion"
    still_there = set(ph.get("deleted", [])) & ctx.aurora.present(src, ctx.target.aurora[src].arn)
    if still_there:
        raise VerificationError(f"the deletion did not happen in the source: {sorted(still_there)}")
    ctx.event(
        "verified",
        f"restored copies hold {len(in_restored)} Aurora and {len(in_table)} DynamoDB canaries",
    )


def _pitr_remove(ctx: DrillContext) -> None:
    """Delete the restored copies, each only if it carries this drill's tag (instances first:
    RDS refuses to delete a cluster that still has them); every delete journaled."""
    ph = ctx.phase("pitr")
    src = ph["from"]
    cluster_id, restored_table = _pitr_names(ctx)
    cluster = _exists_cluster(ctx, src, cluster_id)
    if cluster is not None and cluster.get("Status") != "deleting":
        _require_tag(ctx, "cluster", cluster_id, _tag_of_cluster(ctx, src, cluster["DBClusterArn"]))
        for m in cluster.get("DBClusterMembers", []):
            instance = m["DBInstanceIdentifier"]
            with ctx.irreversible(
                f"pitr:delete-instance:{instance}", f"delete_db_instance {instance}"
            ):
                try:
                    ctx.aws.call(
                        "rds",
                        src,
                        "delete_db_instance",
                        DBInstanceIdentifier=instance,
                        SkipFinalSnapshot=True,
                    )
                except ClientError as exc:
                    if error_code(exc) not in {"DBInstanceNotFound", "DBInstanceNotFoundFault"}:
                        raise
        with ctx.irreversible(
            f"pitr:delete-cluster:{cluster_id}", f"delete_db_cluster {cluster_id}"
        ):
            try:
                ctx.aws.call(
                    "rds",
                    src,
                    "delete_db_cluster",
                    DBClusterIdentifier=cluster_id,
                    SkipFinalSnapshot=True,
                )
            except ClientError as exc:
                if error_code(exc) not in {"DBClusterNotFoundFault", "DBClusterNotFound"}:
                    raise
    else:
        ctx.resolve_call(f"pitr:delete-cluster:{cluster_id}", "AWS shows it gone")
    found = _exists_table(ctx, src, restored_table)
    if found is not None and found.get("TableStatus") != "DELETING":
        _require_tag(ctx, "table", restored_table, _tag_of_table(ctx, src, found["TableArn"]))
        with ctx.irreversible(
            f"pitr:delete-table:{restored_table}", f"delete_table {restored_table}"
        ):
            ctx.aws.call("dynamodb", src, "delete_table", TableName=restored_table)
    else:
        ctx.resolve_call(f"pitr:delete-table:{restored_table}", "AWS shows it gone")
    ctx.wait_until(
        "the restored copies to be gone",
        lambda: (
            True
            if _exists_cluster(ctx, src, cluster_id) is None
            and _exists_table(ctx, src, restored_table) is None
            else None
        ),
    )
    ph["removed_at"] = time.time()
    ctx.event("removed", f"restored copies removed: {cluster_id}, {restored_table}")


def _require_tag(ctx: DrillContext, kind: str, name: str, value: str | None) -> None:
    """Refuse to delete a copy this drill did not make (or whose tag is not visible yet)."""
    if value != ctx.drill_id:
        raise VerificationError(
            f"the {kind} {name} carries {DRILL_TAG}={value!r}, not this drill's id "
            f"{ctx.drill_id!r}: not deleting it (delete it by hand if it is a leftover copy)"
        )


def pitr_steps() -> list[Step]:
    """The PITR steps between the preconditions and the reconcile check."""
    return [
        Step(
            "canaries",
            "write canaries; record the restore point",
            _pitr_canaries,
            "canaries",
            phase="pitr",
        ),
        Step(
            "accidental-deletion",
            "delete some canaries (the accident)",
            _pitr_delete,
            "canaries",
            phase="pitr",
        ),
        Step(
            "restore",
            "restore Aurora and DynamoDB to the restore point",
            _pitr_restore,
            "restore",
            undo=_pitr_remove,
            phase="pitr",
        ),
        Step(
            "verify-restored",
            "the restored copies hold every canary",
            _pitr_verify,
            "verify",
            phase="pitr",
        ),
    ]


def remove_step() -> Step:
    """Remove the restored copies (after the reconcile check)."""
    return Step(
        "remove-restored",
        "remove the restored copies",
        _pitr_remove,
        "cleanup",
        undo=_pitr_remove,
        phase="pitr",
    )
