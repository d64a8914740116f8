"""The analytics warehouse (Redshift provisioned clusters): encrypted, private, logged, recoverable.

A cluster's audit logging and its cross-region snapshot copy are separate resources in
pulumi-aws v7 (``redshift.Logging``, ``redshift.SnapshotCopy`` with a ``SnapshotCopyGrant`` in
the destination region), so those rules are stack rules that look for the resources pointing at
each cluster; Checkov's Redshift checks read the cluster alone and cannot see either. The
parameter group that requires TLS is found the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import Severity

from policies import resource_types as t
from policies._keys import cmk_problems, home_region
from policies._rule import Config, Finding, Param, Rule
from policies._values import (
    UNKNOWN,
    Res,
    StackView,
    as_bool,
    as_number,
    dig,
    known_str,
    list_items,
    problem,
    reference_unknown,
    require_not_false,
    require_not_true,
    require_set,
    require_true,
    show,
)

AUDIT_LOGS = ("connectionlog", "userlog", "useractivitylog")
"""The logs Redshift exports to CloudWatch Logs (``redshift.Logging.log_exports``)."""
DEFAULT_ADMIN = "awsuser"
"""The console's default admin user name (Security Hub Redshift.8)."""


def _ids(cluster: Res) -> list[str]:
    return [known_str(cluster.get("clusterIdentifier")) or ""]


def _referrers(stack: StackView, cluster: Res, type_token: str) -> tuple[list[Res], bool]:
    """Resources of ``type_token`` naming ``cluster`` in ``clusterIdentifier``, and whether one
    cannot be attributed yet (an unknown identifier with no recorded dependency)."""
    candidates = stack.of_type(type_token)
    found = stack.referrers(cluster, "clusterIdentifier", candidates, _ids(cluster))
    undecided = any(reference_unknown(c, "clusterIdentifier") for c in candidates)
    return found, undecided


# --- resource rules ----------------------------------------------------------------------------


def _encrypted_cmk(res: Res, _cfg: Config) -> Iterator[str]:
    # `encrypted` is a string in pulumi-aws v7 ("true"); AWS encrypts new clusters by default,
    # but only kms_key_id makes it the stack's own key.
    yield from require_not_false(res, "encrypted", 'set encrypted="true"')
    yield from cmk_problems(
        res,
        "kmsKeyId",
        res.get("kmsKeyId"),
        home_region(res),
        fix="set kms_key_id to the region's CMK ARN",
        absent="is not set (an AWS-owned or AWS-managed key)",
    )


def _not_public(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_not_true(res, "publiclyAccessible", "set publicly_accessible=False")
    # Without a subnet group the cluster lands in the account's default VPC (the provider:
    # "If this parameter is not provided the resulting cluster will be deployed outside VPC"),
    # whose subnets are public: not the data VPC's private subnets.
    yield from require_set(
        res,
        "clusterSubnetGroupName",
        "set cluster_subnet_group_name to a subnet group of the data VPC's private subnets",
    )


def _enhanced_vpc_routing(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_true(res, "enhancedVpcRouting", "set enhanced_vpc_routing=True")


def _snapshot_retention(res: Res, cfg: Config) -> Iterator[str]:
    minimum = cfg["minDays"]
    value = res.get("automatedSnapshotRetentionPeriod")
    if value is UNKNOWN:
        return
    days = 1.0 if value is None else as_number(value)  # the provider's default is 1 day
    if days is None or days < minimum:
        shown = "is not set (1 day)" if value is None else f"is {show(value)} day(s)"
        yield problem(
            res,
            "automatedSnapshotRetentionPeriod",
            f"{shown}, fewer than {show(minimum)}",
            f"keep automated snapshots at least {show(minimum)} days (redshiftSnapshotRetentionDays)",
        )


def _admin(res: Res, _cfg: Config) -> Iterator[str]:
    if known_str(res.get("masterUsername")) == DEFAULT_ADMIN:
        yield problem(
            res,
            "masterUsername",
            f"is the default {show(DEFAULT_ADMIN)}",
            "choose another admin user name (a new cluster: it cannot be changed)",
        )
    yield from require_true(
        res,
        "manageMasterPassword",
        "set manage_master_password=True (Secrets Manager generates and rotates it)",
    )


def _version_upgrade(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_not_false(res, "allowVersionUpgrade", "set allow_version_upgrade=True")


def _node_types(res: Res, cfg: Config) -> Iterator[str]:
    node = known_str(res.get("nodeType"))
    allowed = list(cfg["allowed"])
    if node is not None and node not in allowed:
        yield problem(res, "nodeType", f"is {show(node)}", f"use one of {', '.join(allowed)}")


# --- stack rules -------------------------------------------------------------------------------


def _audit_logging(stack: StackView, cfg: Config) -> Iterator[Finding]:
    required = list(cfg["logExports"])
    for cluster in stack.of_type(t.REDSHIFT_CLUSTER):
        logs, undecided = _referrers(stack, cluster, t.REDSHIFT_LOGGING)
        if undecided:
            continue
        if not logs:
            yield (
                problem(
                    cluster,
                    "Logging.clusterIdentifier",
                    "is named by no redshift.Logging resource (audit logging off)",
                    "add a redshift.Logging for the cluster (log_destination_type cloudwatch)",
                ),
                cluster.urn,
            )
            continue
        for log in logs:
            kind = log.get("logDestinationType")
            if kind is UNKNOWN:
                continue
            if kind == "s3":
                if log.get("bucketName") is None:
                    yield (
                        problem(log, "bucketName", "is not set", "name the log bucket"),
                        log.urn,
                    )
                continue
            exports = log.get("logExports")
            if exports is UNKNOWN or UNKNOWN in list_items(exports):
                continue
            missing = [x for x in required if x not in list_items(exports)]
            if kind != "cloudwatch" or missing:
                shown = f"misses {show(missing)}" if missing else f"goes to {show(kind)}"
                yield (
                    problem(
                        log,
                        "logExports" if missing else "logDestinationType",
                        shown,
                        f'log_destination_type="cloudwatch", log_exports={show(required)}',
                    ),
                    log.urn,
                )


def _grant_names(stack: StackView, region: str) -> tuple[set[str], bool]:
    names: set[str] = set()
    unknown = False
    for grant in stack.of_type(t.REDSHIFT_SNAPSHOT_COPY_GRANT):
        if grant.region is UNKNOWN:
            unknown = True
        elif known_str(grant.region) == region:
            name = grant.get("snapshotCopyGrantName")
            if name is UNKNOWN:
                unknown = True
            elif known_str(name):
                names.add(name)
    return names, unknown


def _copy_problems(cluster: Res, copy: Res, stack: StackView) -> Iterator[str]:
    source = home_region(cluster)
    dest = copy.get("destinationRegion")
    if dest is UNKNOWN or source is None:
        return
    if not known_str(dest) or dest == source:
        yield problem(
            copy,
            "destinationRegion",
            f"is {show(dest)}, not another region than the cluster's ({source})",
            "copy the snapshots to the other region of the pair",
        )
        return
    if not cluster.has("kmsKeyId"):
        return
    fix = f"create a redshift.SnapshotCopyGrant in {dest} for its CMK and name it here"
    grant = copy.get("snapshotCopyGrantName")
    if grant is None or grant == "":
        yield problem(
            copy,
            "snapshotCopyGrantName",
            "is not set (a KMS-encrypted cluster copies its snapshots only through a grant)",
            fix,
        )
        return
    grants = stack.of_type(t.REDSHIFT_SNAPSHOT_COPY_GRANT)
    named_by = [g for g in grants if copy.depends_on("snapshotCopyGrantName", g.urn)]
    if named_by:
        for g in named_by:
            if g.region is not UNKNOWN and home_region(g) != dest:
                yield problem(
                    copy,
                    "snapshotCopyGrantName",
                    f"names the grant {g.name} of {show(home_region(g))}, not of {dest} (the grant "
                    "must be in the destination region)",
                    fix,
                )
        return
    if grant is UNKNOWN:
        return
    names, unknown = _grant_names(stack, dest)
    if not unknown and grant not in names:
        yield problem(
            copy,
            "snapshotCopyGrantName",
            f"is {show(grant)}, no snapshot copy grant of {dest}",
            fix,
        )


def _snapshot_copy(stack: StackView, cfg: Config) -> Iterator[Finding]:
    minimum = cfg["minRetentionDays"]
    for cluster in stack.of_type(t.REDSHIFT_CLUSTER):
        copies, undecided = _referrers(stack, cluster, t.REDSHIFT_SNAPSHOT_COPY)
        if undecided:
            continue
        if not copies:
            yield (
                problem(
                    cluster,
                    "SnapshotCopy.clusterIdentifier",
                    "is named by no redshift.SnapshotCopy (no snapshot reaches another region)",
                    "add a redshift.SnapshotCopy to the other region of the pair",
                ),
                cluster.urn,
            )
            continue
        for copy in copies:
            for message in _copy_problems(cluster, copy, stack):
                yield message, copy.urn
            days = copy.get("retentionPeriod")
            if days is UNKNOWN:
                continue
            number = 7.0 if days is None else as_number(days)  # EnableSnapshotCopy's default
            if number is None or number < minimum:
                yield (
                    problem(
                        copy,
                        "retentionPeriod",
                        f"is {show(days)}, fewer than {show(minimum)} days",
                        f"keep the copies at least {show(minimum)} days (redshiftCopyRetentionDays)",
                    ),
                    copy.urn,
                )
    for grant in stack.of_type(t.REDSHIFT_SNAPSHOT_COPY_GRANT):
        if grant.region is UNKNOWN:
            continue  # home_region would fall back to the provider's region
        for message in cmk_problems(
            grant,
            "kmsKeyId",
            grant.get("kmsKeyId"),
            home_region(grant),
            fix="set kms_key_id to the destination region's CMK ARN",
            absent="is not set (the AWS-managed key)",
        ):
            yield message, grant.urn


def _parameter(group: Res, name: str) -> Any:
    for item in list_items(group.get("parameters")):
        if item is UNKNOWN:
            return UNKNOWN
        if dig(item, "name") == name:
            return dig(item, "value")
    return None


def _require_ssl(stack: StackView, _cfg: Config) -> Iterator[Finding]:
    groups = stack.of_type(t.REDSHIFT_PARAMETER_GROUP)
    for cluster in stack.of_type(t.REDSHIFT_CLUSTER):
        name = cluster.get("clusterParameterGroupName")
        if name is UNKNOWN and not cluster.sources("clusterParameterGroupName"):
            continue
        if name is None or (isinstance(name, str) and name.startswith("default.")):
            yield (
                problem(
                    cluster,
                    "clusterParameterGroupName",
                    f"is {show(name)} (the default group: require_ssl false)",
                    "give the cluster a parameter group with require_ssl=true",
                ),
                cluster.urn,
            )
            continue
        mine = [
            g
            for g in groups
            if cluster.depends_on("clusterParameterGroupName", g.urn) or g.get("name") == name
        ]
        for group in mine:
            value = _parameter(group, "require_ssl")
            if value is UNKNOWN:
                continue
            if as_bool(value) is not True:
                yield (
                    problem(
                        group,
                        "parameters.require_ssl",
                        f"is {show(value)}",
                        'add {"name": "require_ssl", "value": "true"}',
                    ),
                    group.urn,
                )


def _rule(concern: str, **kwargs: Any) -> Rule:
    return Rule(concern=concern, **kwargs)


CLUSTER = (t.REDSHIFT_CLUSTER,)

RULES: tuple[Rule, ...] = (
    _rule(
        "encryption",
        name="redshift-cmk",
        summary="Redshift clusters are encrypted with a customer-managed key of their own region.",
        remediation='Set encrypted="true" and kms_key_id to the region\'s CMK (components/redshift.py).',
        severity=Severity.HIGH,
        targets=CLUSTER,
        check_resource=_encrypted_cmk,
        checkov=("CKV_AWS_64", "CKV_AWS_142"),
        aws_config=("redshift-cluster-kms-enabled",),
    ),
    _rule(
        "encryption",
        name="redshift-require-ssl",
        summary="Every Redshift cluster uses a parameter group that sets require_ssl to true.",
        remediation="Give the cluster its own parameter group with require_ssl=true.",
        severity=Severity.MEDIUM,
        check_stack=_require_ssl,
        aws_config=("redshift-require-tls-ssl",),
    ),
    _rule(
        "network",
        name="redshift-not-publicly-accessible",
        summary="Redshift clusters are not publicly accessible and sit in a subnet group of the data VPC.",
        remediation="Set publicly_accessible=False and cluster_subnet_group_name to the data VPC's subnet group.",
        severity=Severity.CRITICAL,
        targets=CLUSTER,
        check_resource=_not_public,
        checkov=("CKV_AWS_87", "CKV_AWS_154"),
        aws_config=("redshift-cluster-public-access-check",),
    ),
    _rule(
        "network",
        name="redshift-enhanced-vpc-routing",
        summary="Redshift clusters route COPY and UNLOAD traffic through their VPC (enhanced VPC routing).",
        remediation="Set enhanced_vpc_routing=True.",
        severity=Severity.MEDIUM,
        targets=CLUSTER,
        check_resource=_enhanced_vpc_routing,
        checkov=("CKV_AWS_321",),
        aws_config=("redshift-enhanced-vpc-routing-enabled",),
    ),
    _rule(
        "observability",
        name="redshift-audit-logging",
        summary="Every Redshift cluster exports its audit logs (connection, user, user activity) to CloudWatch Logs.",
        remediation='Add a redshift.Logging with log_destination_type="cloudwatch" and every log export.',
        severity=Severity.MEDIUM,
        check_stack=_audit_logging,
        params={
            "logExports": Param(
                "array",
                list(AUDIT_LOGS),
                "Audit logs every cluster must export.",
                items="string",
                item_enum=AUDIT_LOGS,
            )
        },
        checkov=("CKV_AWS_71",),
        aws_config=("redshift-audit-logging-enabled",),
    ),
    _rule(
        "backups",
        name="redshift-snapshot-retention",
        summary="Redshift clusters keep automated snapshots at least N days.",
        remediation="Raise redshiftSnapshotRetentionDays in the stack file.",
        severity=Severity.MEDIUM,
        targets=CLUSTER,
        check_resource=_snapshot_retention,
        checkov=("CKV_AWS_343",),
        params={
            "minDays": Param(
                "integer",
                7,
                "Fewest days of automated snapshots (Security Hub Redshift.3 asks for 7).",
                minimum=1,
                maximum=35,
            )
        },
        aws_config=("redshift-backup-enabled",),
    ),
    _rule(
        "backups",
        name="redshift-snapshot-copy",
        summary=(
            "Every Redshift cluster copies its snapshots to another region, through a snapshot copy "
            "grant of that region for a KMS-encrypted cluster, and keeps the copies at least N days."
        ),
        remediation="Add a redshift.SnapshotCopy to the other region with a SnapshotCopyGrant there (components/redshift.py).",
        severity=Severity.HIGH,
        check_stack=_snapshot_copy,
        params={
            "minRetentionDays": Param(
                "integer",
                7,
                "Fewest days the copied snapshots are kept in the destination region.",
                minimum=1,
                maximum=35,
            )
        },
    ),
    _rule(
        "hardening",
        name="redshift-admin-credentials",
        summary=(
            "Redshift clusters do not use the default admin user name and let Secrets Manager "
            "manage the admin password."
        ),
        remediation="Set master_username (not awsuser) and manage_master_password=True.",
        severity=Severity.MEDIUM,
        targets=CLUSTER,
        check_resource=_admin,
        aws_config=("redshift-default-admin-check",),
    ),
    _rule(
        "hardening",
        name="redshift-version-upgrade",
        summary="Redshift clusters take major version upgrades in their maintenance window.",
        remediation="Leave allow_version_upgrade at its default (True).",
        severity=Severity.MEDIUM,
        targets=CLUSTER,
        check_resource=_version_upgrade,
        checkov=("CKV_AWS_141",),
        aws_config=("redshift-cluster-maintenancesettings-check",),
    ),
    _rule(
        "cost",
        name="cost-allowed-redshift-node-types",
        summary="Redshift clusters use an allowed node type.",
        remediation="Set redshiftNodeType to an allowed RA3 node type.",
        severity=Severity.LOW,
        targets=CLUSTER,
        check_resource=_node_types,
        params={
            "allowed": Param(
                "array",
                ["ra3.large", "ra3.xlplus", "ra3.4xlarge"],
                "Node types a cluster may use.",
                items="string",
            )
        },
    ),
)
