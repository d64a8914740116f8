"""Resilience across the region pair: replicas in the other region, deletion guards and the
telemetry a failover depends on (its alarms are in ``policies.alarms``, its names and health
checks in ``policies.route53``).

Most rules here are stack rules: "every table has a replica in the other region" or "every
global datastore has a secondary" can only be judged with the whole graph. Links
between resources are followed through property dependencies first (what the engine records
for outputs) and identifiers second; a link that is unknown during preview never fails a rule.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pulumi_policy import Severity

from policies import resource_types as t
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
    require_set,
    require_true,
    show,
)
from policies.multi_az import is_aurora

CONCERN = "resilience"


# --- Deletion protection, streams ---------------------------------------------------------------


def _deletion_protection(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_true(res, "deletionProtection", "set deletion_protection=True")


def _table_deletion_protection(res: Res, _cfg: Config) -> Iterator[str]:
    fix = "set deletion_protection_enabled=True"
    yield from require_true(res, "deletionProtectionEnabled", fix)
    for index, replica in enumerate(list_items(res.get("replicas"))):
        value = dig(replica, "deletionProtectionEnabled")
        if replica is UNKNOWN or value is UNKNOWN or as_bool(value) is True:
            continue
        yield problem(
            res,
            f"replicas[{index}].deletionProtectionEnabled",
            f"is {show(value)} for the replica in {show(dig(replica, 'regionName'))}",
            "set deletion_protection_enabled=True on every replica",
        )


def _streams(res: Res, cfg: Config) -> Iterator[str]:
    replicas = res.get("replicas")
    if replicas is UNKNOWN or not list_items(replicas):
        return
    yield from require_true(
        res, "streamEnabled", "set stream_enabled=True (global tables replicate through streams)"
    )
    view = res.get("streamViewType")
    wanted = cfg["streamViewType"]
    if as_bool(res.get("streamEnabled")) is True and view is not UNKNOWN and view != wanted:
        yield problem(res, "streamViewType", f"is {show(view)}", f"set stream_view_type={wanted}")


# --- Telemetry on the instances ----------------------------------------------------------------


def _performance_insights(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_true(
        res, "performanceInsightsEnabled", "set performance_insights_enabled=True"
    )


_MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)


def _enhanced_monitoring(res: Res, cfg: Config) -> Iterator[str]:
    value = res.get("monitoringInterval")
    if value is UNKNOWN:
        return
    seconds = 0.0 if value is None else as_number(value)
    maximum = cfg["maxIntervalSeconds"]
    if seconds is None or seconds not in _MONITORING_INTERVALS or seconds > maximum:
        shown = "is not set (enhanced monitoring off)" if value is None else f"is {show(value)}"
        yield problem(
            res,
            "monitoringInterval",
            shown,
            f"set monitoring_interval to one of {[i for i in _MONITORING_INTERVALS if i <= maximum]}",
        )
        return
    yield from require_set(
        res, "monitoringRoleArn", "set monitoring_role_arn to the enhanced-monitoring role"
    )


def _minor_upgrades(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_not_false(
        res, "autoMinorVersionUpgrade", "set auto_minor_version_upgrade=True"
    )


def _engine_family(res: Res) -> str | None:
    engine = res.get("engine")
    if engine is UNKNOWN:
        return None
    if engine is None:
        return "aurora-mysql" if res.type == t.RDS_CLUSTER else "other"
    if not isinstance(engine, str):
        return "other"
    if "postgres" in engine:
        return "postgresql"
    if engine in ("aurora", "aurora-mysql"):
        return "aurora-mysql"
    if engine in ("mysql", "mariadb"):
        return "mysql"
    return "other"


def _log_exports(res: Res, cfg: Config) -> Iterator[str]:
    value = res.get("enabledCloudwatchLogsExports")
    if value is UNKNOWN:
        return
    exports = {v for v in list_items(value) if isinstance(v, str)}
    if UNKNOWN in list_items(value):
        return
    family = _engine_family(res)
    required: Sequence[str] = cfg["requiredExports"].get(family, []) if family else []
    missing = sorted(set(required) - exports)
    if not exports:
        yield problem(
            res,
            "enabledCloudwatchLogsExports",
            "is empty" if value is not None else "is not set",
            f"export the engine logs ({', '.join(required) or 'any'}) to CloudWatch Logs",
        )
    elif missing:
        yield problem(
            res,
            "enabledCloudwatchLogsExports",
            f"is {show(sorted(exports))}; missing {show(missing)}",
            f"add {', '.join(missing)}",
        )


# --- Regions -----------------------------------------------------------------------------------


def _explicit_region(res: Res, _cfg: Config) -> Iterator[str]:
    if res.get("region") is None:
        yield problem(
            res,
            "region",
            "is not set (falls back to the provider's region)",
            "pass region= explicitly so a swap of primary/secondary never moves it",
        )


def _region_pair(stack: StackView, cfg: Config) -> Iterator[Finding]:
    regions, unknown = stack.regions_of_data_stores()
    if unknown:
        return
    if len(regions) != 2:
        yield (
            f"The stack's data stores span {len(regions)} region(s) {show(sorted(regions))}; exactly two "
            "(primary and secondary) are required. Fix: set `region` on every data store to one of "
            "primaryRegion/secondaryRegion.",
            None,
        )
        return
    if not cfg["requireAnchorProvider"]:
        return
    anchor = min(regions)
    for provider in stack.providers():
        region = provider.get("region")
        if isinstance(region, str) and region != anchor:
            yield (
                problem(
                    provider,
                    "region",
                    f"is {show(region)}, not the anchor region {show(anchor)} of {show(sorted(regions))}",
                    "set the provider's region to min(primaryRegion, secondaryRegion) so a swap never replaces it",
                ),
                provider.urn,
            )


# --- Cross-region replication --------------------------------------------------------------------


def _other_region(stack: StackView, home: str) -> str | None:
    pair = stack.region_pair()
    if pair is None or home not in pair:
        return None
    return pair[1] if pair[0] == home else pair[0]


def _aurora_global(stack: StackView, _cfg: Config) -> Iterator[Finding]:
    clusters = [c for c in stack.of_type(t.RDS_CLUSTER) if is_aurora(c)]
    globals_ = stack.of_type(t.RDS_GLOBAL_CLUSTER)
    if clusters and not globals_:
        yield (
            f"No {t.RDS_GLOBAL_CLUSTER} joins the {len(clusters)} Aurora cluster(s): a region loss loses "
            "the database. Fix: create a GlobalCluster and set global_cluster_identifier on a cluster per region.",
            None,
        )
        return
    if any(reference_unknown(c, "globalClusterIdentifier") for c in clusters):
        return
    pair = stack.region_pair()
    for global_cluster in globals_:
        gid = known_str(global_cluster.get("globalClusterIdentifier")) or ""
        members = stack.referrers(global_cluster, "globalClusterIdentifier", clusters, [gid])
        source = global_cluster.get("sourceDbClusterIdentifier")
        if source is UNKNOWN and not global_cluster.sources("sourceDbClusterIdentifier"):
            continue
        for cluster in clusters:
            ids = {known_str(cluster.get("clusterIdentifier")), known_str(cluster.get("arn"))}
            if cluster not in members and (
                global_cluster.depends_on("sourceDbClusterIdentifier", cluster.urn)
                or source in ids - {None}
            ):
                members.append(cluster)
        member_regions = [m.region for m in members]
        if UNKNOWN in member_regions:
            continue
        regions = {r for r in member_regions if isinstance(r, str)}
        expected = set(pair) if pair else None
        missing = sorted(expected - regions) if expected else []
        if missing or len(regions) < 2:
            yield (
                problem(
                    global_cluster,
                    "members (Cluster.globalClusterIdentifier)",
                    f"are in {show(sorted(regions))}; none in {show(missing or 'a second region')}",
                    "add a regional cluster with global_cluster_identifier in the missing region",
                ),
                global_cluster.urn,
            )


def _table_replicas(stack: StackView, _cfg: Config) -> Iterator[Finding]:
    standalone = stack.of_type(t.DYNAMODB_TABLE_REPLICA)
    for table in stack.of_type(t.DYNAMODB_TABLE):
        home = table.region
        inline = table.get("replicas")
        if home is UNKNOWN or inline is UNKNOWN:
            continue
        regions: set[Any] = {dig(r, "regionName") for r in list_items(inline)}
        name = known_str(table.get("name"))
        for replica in standalone:
            arn = replica.get("globalTableArn")
            if replica.depends_on("globalTableArn", table.urn) or (
                name is not None and isinstance(arn, str) and arn.endswith(f":table/{name}")
            ):
                regions.add(replica.region)
            elif reference_unknown(replica, "globalTableArn"):
                regions.add(UNKNOWN)  # may belong to this table: decide after the update
        if UNKNOWN in regions:
            continue
        other = _other_region(stack, home) if isinstance(home, str) else None
        if other is not None and other in regions:
            continue
        if other is None and any(isinstance(r, str) and r != home for r in regions):
            continue
        target = other or "the other region"
        yield (
            problem(
                table,
                "replicas",
                f"has replicas in {show(sorted(str(r) for r in regions))}; none in {target}",
                f"add replicas=[{{region_name: {target!r}, ...}}]",
            ),
            table.urn,
        )


def _cache_global(stack: StackView, _cfg: Config) -> Iterator[Finding]:
    groups = stack.of_type(t.CACHE_REPLICATION_GROUP)
    datastores = stack.of_type(t.CACHE_GLOBAL_REPLICATION_GROUP)
    if groups and not datastores:
        yield (
            f"No {t.CACHE_GLOBAL_REPLICATION_GROUP} spans the {len(groups)} cache replication group(s). "
            "Fix: create a global datastore from the primary group and add a secondary in the other region.",
            None,
        )
        return
    for datastore in datastores:
        primary_ref = datastore.get("primaryReplicationGroupId")
        primaries = [
            g
            for g in groups
            if datastore.depends_on("primaryReplicationGroupId", g.urn)
            or (isinstance(primary_ref, str) and primary_ref == g.get("replicationGroupId"))
        ]
        suffix = known_str(datastore.get("globalReplicationGroupIdSuffix"))
        secondaries = [
            g
            for g in groups
            if g.depends_on("globalReplicationGroupId", datastore.urn)
            or (
                suffix is not None and str(g.get("globalReplicationGroupId")).endswith(f"-{suffix}")
            )
        ]
        if any(reference_unknown(g, "globalReplicationGroupId") for g in groups):
            continue
        home = primaries[0].region if primaries else UNKNOWN
        regions = {g.region for g in secondaries}
        if (home is UNKNOWN or UNKNOWN in regions) and secondaries:
            continue
        if any(r != home for r in regions):
            continue
        yield (
            problem(
                datastore,
                "secondary (ReplicationGroup.globalReplicationGroupId)",
                f"has no member outside {show(home if isinstance(home, str) else None)}",
                "add a replication group in the other region with global_replication_group_id set",
            ),
            datastore.urn,
        )


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="rds-deletion-protection",
        summary="Aurora global clusters, regional clusters and plain RDS instances have deletion protection on.",
        remediation="Set deletion_protection=True.",
        severity=Severity.HIGH,
        targets=(t.RDS_GLOBAL_CLUSTER, t.RDS_CLUSTER, t.RDS_INSTANCE),
        check_resource=_deletion_protection,
        checkov=("CKV_AWS_139", "CKV_AWS_293"),
        aws_config=(
            "rds-cluster-deletion-protection-enabled",
            "rds-instance-deletion-protection-enabled",
        ),
    ),
    _rule(
        name="dynamodb-deletion-protection",
        summary="DynamoDB tables and every replica have deletion protection on.",
        remediation="Set deletion_protection_enabled=True on the table and on each replica.",
        severity=Severity.HIGH,
        targets=(t.DYNAMODB_TABLE, t.DYNAMODB_TABLE_REPLICA),
        check_resource=_table_deletion_protection,
        aws_config=("dynamodb-table-deletion-protection-enabled",),
    ),
    _rule(
        name="dynamodb-streams-when-replicated",
        summary="Replicated DynamoDB tables have streams on with the view global tables need.",
        remediation="Set stream_enabled=True and stream_view_type=NEW_AND_OLD_IMAGES.",
        severity=Severity.MEDIUM,
        targets=(t.DYNAMODB_TABLE,),
        check_resource=_streams,
        params={
            "streamViewType": Param(
                "string",
                "NEW_AND_OLD_IMAGES",
                "Required stream view type.",
                enum=("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"),
            )
        },
    ),
    _rule(
        name="rds-performance-insights",
        summary="Database instances have Performance Insights on.",
        remediation="Set performance_insights_enabled=True.",
        severity=Severity.MEDIUM,
        targets=(t.RDS_CLUSTER_INSTANCE, t.RDS_INSTANCE),
        check_resource=_performance_insights,
        checkov=("CKV_AWS_353",),
    ),
    _rule(
        name="rds-enhanced-monitoring",
        summary="Database instances have enhanced monitoring at N seconds or finer, with a monitoring role.",
        remediation="Set monitoring_interval (1-60 s) and monitoring_role_arn.",
        severity=Severity.MEDIUM,
        targets=(t.RDS_CLUSTER_INSTANCE, t.RDS_INSTANCE),
        check_resource=_enhanced_monitoring,
        params={
            "maxIntervalSeconds": Param(
                "integer",
                60,
                "Coarsest allowed enhanced-monitoring interval.",
                enum=_MONITORING_INTERVALS,
            )
        },
        checkov=("CKV_AWS_118",),
        aws_config=("rds-enhanced-monitoring-enabled",),
    ),
    _rule(
        name="rds-auto-minor-version-upgrade",
        summary="Database instances take minor engine upgrades automatically (security patches)"
        " where AWS applies them: standalone instances and clusters. AWS: the setting has no"
        " effect on members of an Aurora global database (AWS Config"
        " rds-automatic-minor-version-upgrade-enabled); their minor versions are upgraded"
        " through the global cluster's engine version (ModifyGlobalCluster EngineVersion,"
        " Upgrading an Amazon Aurora global database).",
        remediation="Remove auto_minor_version_upgrade=False (keep it on for global database"
        " members too: it applies again to a cluster that leaves the global database); upgrade"
        " a global database's minor version by changing its global cluster's engine version"
        " (docs/components.md, Aurora engine upgrades).",
        severity=Severity.LOW,
        targets=(t.RDS_CLUSTER_INSTANCE, t.RDS_INSTANCE),
        check_resource=_minor_upgrades,
        checkov=("CKV_AWS_226",),
        aws_config=("rds-automatic-minor-version-upgrade-enabled",),
    ),
    _rule(
        name="rds-log-exports",
        summary="Clusters and instances export the engine's logs to CloudWatch Logs (per-engine required set).",
        remediation="Set enabled_cloudwatch_logs_exports (postgresql for Aurora PostgreSQL).",
        severity=Severity.MEDIUM,
        targets=(t.RDS_CLUSTER, t.RDS_INSTANCE),
        check_resource=_log_exports,
        params={
            "requiredExports": Param(
                "object",
                {
                    "postgresql": ["postgresql"],
                    "aurora-mysql": ["audit", "error", "slowquery"],
                    "mysql": ["error", "slowquery"],
                },
                "Engine family -> log types that must be exported (other engines: any).",
                values="array",
            )
        },
        checkov=("CKV_AWS_324", "CKV_AWS_325", "CKV_AWS_129"),
        aws_config=("rds-logging-enabled",),
    ),
    _rule(
        name="explicit-region",
        summary="Every regional AWS resource sets pulumi-aws v7's per-resource region explicitly.",
        remediation="Pass region= (primary or secondary) instead of relying on the provider's region.",
        severity=Severity.MEDIUM,
        applies=t.is_regional,
        targets_doc="every regional aws:* resource",
        check_resource=_explicit_region,
    ),
    _rule(
        name="region-pair",
        summary=(
            "The data stores span exactly two regions, and the AWS provider sits in the anchor region "
            "(the lexically smaller one) so a region swap never replaces it."
        ),
        remediation="Give every data store region= primary or secondary; set the provider's region to the anchor.",
        severity=Severity.HIGH,
        check_stack=_region_pair,
        params={
            "requireAnchorProvider": Param("boolean", True, "Check the provider's anchor region.")
        },
    ),
    _rule(
        name="aurora-global-cluster-both-regions",
        summary="The Aurora global cluster has a member cluster in both regions of the pair.",
        remediation="Create a regional cluster with global_cluster_identifier in each region.",
        severity=Severity.CRITICAL,
        check_stack=_aurora_global,
    ),
    _rule(
        name="dynamodb-replica-in-other-region",
        summary="Every DynamoDB table has a replica in the other region of the pair.",
        remediation="Add replicas=[{region_name: <other region>, ...}] (or an aws.dynamodb.TableReplica).",
        severity=Severity.CRITICAL,
        check_stack=_table_replicas,
    ),
    _rule(
        name="cache-global-datastore-secondary",
        summary="The cache replication groups form a global datastore with a secondary in the other region.",
        remediation="Create a GlobalReplicationGroup from the primary and a secondary group with global_replication_group_id.",
        severity=Severity.HIGH,
        check_stack=_cache_global,
    ),
)
