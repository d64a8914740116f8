"""The fraud graph (issue 20): Neptune clusters and their global database.

What the Security Hub Neptune controls ask of a cluster (encryption at rest, audit logs in
CloudWatch Logs, deletion protection, automated backups, IAM database authentication, tags
copied to snapshots; "Security Hub CSPM controls for Neptune") plus what this design adds: a
customer-managed key of the cluster's own region, a backup floor above AWS's 1-day default, and
membership of a global database with a cluster in both regions of the pair.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import Severity

from policies._keys import cmk_problems, home_region
from policies._rule import Config, Finding, Param, Rule
from policies._values import (
    UNKNOWN,
    Res,
    StackView,
    as_number,
    known_str,
    list_items,
    problem,
    reference_unknown,
    require_true,
    show,
)

NEPTUNE_CLUSTER = "aws:neptune/cluster:Cluster"
NEPTUNE_GLOBAL_CLUSTER = "aws:neptune/globalCluster:GlobalCluster"
NEPTUNE_PARAMETER_GROUP = "aws:neptune/clusterParameterGroup:ClusterParameterGroup"


def _cmk(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_true(res, "storageEncrypted", "set storage_encrypted=True")
    yield from cmk_problems(
        res,
        "kmsKeyArn",
        res.get("kmsKeyArn"),
        home_region(res),
        fix="set kms_key_arn to a customer-managed key of the cluster's region",
        absent="is not set (the AWS-managed aws/rds key)",
    )


def _backup_retention(res: Res, cfg: Config) -> Iterator[str]:
    days = res.get("backupRetentionPeriod")
    if days is UNKNOWN:
        return
    value = 1.0 if days is None else as_number(days)  # the provider's default is 1 day
    minimum = cfg["minDays"]
    if value is None or not minimum <= value <= 35:
        shown = show(days) if days is not None else "not set (1)"
        yield problem(
            res,
            "backupRetentionPeriod",
            f"is {shown}; allowed {show(minimum)}-35 days",
            f"set backup_retention_period to at least {show(minimum)}",
        )


def _iam_auth(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_true(
        res, "iamDatabaseAuthenticationEnabled", "set iam_database_authentication_enabled=True"
    )


def _deletion_protection(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_true(res, "deletionProtection", "set deletion_protection=True")


def _copy_tags(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_true(res, "copyTagsToSnapshot", "set copy_tags_to_snapshot=True")


def _audit_logs(stack: StackView, _cfg: Config) -> Iterator[Finding]:
    """Audit records reach CloudWatch Logs only when the cluster exports ``audit`` AND its
    cluster parameter group sets ``neptune_enable_audit_log`` to 1 ("Publishing Neptune logs to
    Amazon CloudWatch Logs"): the default group leaves it at 0."""
    groups = stack.of_type(NEPTUNE_PARAMETER_GROUP)
    for cluster in stack.of_type(NEPTUNE_CLUSTER):
        exports = cluster.get("enableCloudwatchLogsExports")
        if exports is not UNKNOWN and "audit" not in {known_str(e) for e in list_items(exports)}:
            yield (
                problem(
                    cluster,
                    "enableCloudwatchLogsExports",
                    f"is {show(exports) if exports is not None else 'not set'} (no audit)",
                    'set enable_cloudwatch_logs_exports=["audit"]',
                ),
                cluster.urn,
            )
            continue
        if reference_unknown(cluster, "neptuneClusterParameterGroupName"):
            continue
        name = known_str(cluster.get("neptuneClusterParameterGroupName"))
        mine = [
            g
            for g in groups
            if cluster.depends_on("neptuneClusterParameterGroupName", g.urn)
            or (name is not None and known_str(g.get("name")) == name)
        ]
        if not mine:
            yield (
                problem(
                    cluster,
                    "neptuneClusterParameterGroupName",
                    f"is {show(name) if name else 'not set'}: no parameter group of the stack"
                    " turns the audit log on (the default group has neptune_enable_audit_log=0)",
                    "attach a neptune.ClusterParameterGroup with neptune_enable_audit_log=1",
                ),
                cluster.urn,
            )
            continue
        for group in mine:
            if _audit_on(group.get("parameters")) is False:
                yield (
                    problem(
                        group,
                        "parameters",
                        "do not set neptune_enable_audit_log=1 (audit exports stay empty)",
                        'add {name: "neptune_enable_audit_log", value: "1"}',
                    ),
                    group.urn,
                )


def _audit_on(parameters: Any) -> bool | None:
    if parameters is UNKNOWN:
        return None
    for p in list_items(parameters):
        if isinstance(p, dict) and p.get("name") == "neptune_enable_audit_log":
            value = p.get("value")
            return None if value is UNKNOWN else str(value) == "1"
    return False


def _global_membership(stack: StackView, _cfg: Config) -> Iterator[Finding]:
    """Every Neptune cluster joins a global database, and each global database has a member in
    both regions of the pair: a region's loss must not take the fraud graph with it."""
    clusters = stack.of_type(NEPTUNE_CLUSTER)
    globals_ = stack.of_type(NEPTUNE_GLOBAL_CLUSTER)
    for cluster in clusters:
        if cluster.get("globalClusterIdentifier") is None:
            yield (
                problem(
                    cluster,
                    "globalClusterIdentifier",
                    "is not set (a regional cluster only)",
                    "set global_cluster_identifier to the stack's neptune.GlobalCluster",
                ),
                cluster.urn,
            )
    if any(reference_unknown(c, "globalClusterIdentifier") for c in clusters):
        return
    pair = stack.region_pair()
    for global_cluster in globals_:
        gid = known_str(global_cluster.get("globalClusterIdentifier")) or ""
        members = stack.referrers(global_cluster, "globalClusterIdentifier", clusters, [gid])
        regions = {m.region for m in members}
        if UNKNOWN in regions:
            continue
        known = {r for r in regions if isinstance(r, str)}
        missing = sorted(set(pair) - known) if pair else []
        if missing or len(known) < 2:
            yield (
                problem(
                    global_cluster,
                    "members (neptune.Cluster.globalClusterIdentifier)",
                    f"are in {show(sorted(known))}; none in {show(missing or 'a second region')}",
                    "add a Neptune cluster with global_cluster_identifier in the missing region",
                ),
                global_cluster.urn,
            )


def _rule(**kwargs: Any) -> Rule:
    """A Neptune rule under the concern its kind of check belongs to (as the RDS rules are)."""
    return Rule(**kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="neptune-cmk",
        concern="encryption",
        summary=(
            "Neptune clusters encrypt their storage with a customer-managed KMS key of their own"
            " region."
        ),
        remediation="Set storage_encrypted=True and kms_key_arn to the region's CMK.",
        severity=Severity.HIGH,
        targets=(NEPTUNE_CLUSTER,),
        check_resource=_cmk,
        checkov=("CKV_AWS_44", "CKV_AWS_347"),
        aws_config=("neptune-cluster-encrypted",),
    ),
    _rule(
        name="neptune-backup-retention",
        concern="backups",
        summary="Neptune clusters keep automated backups for N-35 days (AWS's default is 1).",
        remediation="Set backup_retention_period to at least the configured minimum.",
        severity=Severity.HIGH,
        targets=(NEPTUNE_CLUSTER,),
        check_resource=_backup_retention,
        params={
            "minDays": Param(
                "integer", 7, "Shortest allowed retention in days.", minimum=1, maximum=35
            )
        },
        checkov=("CKV_AWS_361",),
        aws_config=("neptune-cluster-backup-retention-check",),
    ),
    _rule(
        name="neptune-iam-auth",
        concern="encryption",
        summary="Neptune clusters accept IAM database authentication (SigV4-signed requests).",
        remediation="Set iam_database_authentication_enabled=True.",
        severity=Severity.HIGH,
        targets=(NEPTUNE_CLUSTER,),
        check_resource=_iam_auth,
        checkov=("CKV_AWS_359",),
        aws_config=("neptune-cluster-iam-database-authentication",),
    ),
    _rule(
        name="neptune-deletion-protection",
        concern="resilience",
        summary="Neptune clusters and global databases have deletion protection on.",
        remediation="Set deletion_protection=True on the clusters and the GlobalCluster.",
        severity=Severity.HIGH,
        targets=(NEPTUNE_CLUSTER, NEPTUNE_GLOBAL_CLUSTER),
        check_resource=_deletion_protection,
        aws_config=("neptune-cluster-deletion-protection-enabled",),
    ),
    _rule(
        name="neptune-copy-tags-to-snapshot",
        concern="backups",
        summary="Neptune clusters copy their tags to snapshots.",
        remediation="Set copy_tags_to_snapshot=True.",
        severity=Severity.LOW,
        targets=(NEPTUNE_CLUSTER,),
        check_resource=_copy_tags,
        checkov=("CKV_AWS_362",),
        aws_config=("neptune-cluster-copy-tags-to-snapshot-enabled",),
    ),
    _rule(
        name="neptune-audit-logs",
        concern="observability",
        summary=(
            "Neptune clusters export audit logs to CloudWatch Logs, and their cluster parameter"
            " group turns the audit log on (neptune_enable_audit_log=1)."
        ),
        remediation=(
            'Set enable_cloudwatch_logs_exports=["audit"] and attach a cluster parameter group'
            " with neptune_enable_audit_log=1."
        ),
        severity=Severity.MEDIUM,
        check_stack=_audit_logs,
        checkov=("CKV_AWS_101",),
        aws_config=("neptune-cluster-cloudwatch-log-export-enabled",),
    ),
    _rule(
        name="neptune-global-membership",
        concern="resilience",
        summary=(
            "Every Neptune cluster belongs to a global database, and every Neptune global"
            " database has a cluster in both regions of the pair."
        ),
        remediation=(
            "Create a neptune.GlobalCluster and set global_cluster_identifier on a cluster in"
            " each region."
        ),
        severity=Severity.HIGH,
        check_stack=_global_membership,
    ),
)
