"""Multi-AZ inside each region: a single AZ outage must not take a data store down.

Checkov has no Aurora Multi-AZ check at all (Aurora's placement lives on the instances, not the
cluster), so the Aurora rule is a stack rule that counts each cluster's instances and AZs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import Severity

from policies import resource_types as t
from policies._rule import Config, Finding, Param, Rule
from policies._values import (
    UNKNOWN,
    Res,
    StackView,
    as_number,
    known_str,
    problem,
    reference_unknown,
    require_not_false,
    require_true,
    show,
)

CONCERN = "multi_az"


def is_aurora(cluster: Res) -> bool:
    """Aurora engines (or an engine not known yet); Multi-AZ DB clusters have no ClusterInstances."""
    engine = cluster.get("engine")
    return engine is UNKNOWN or (isinstance(engine, str) and engine.startswith("aurora"))


def cluster_members(stack: StackView, cluster: Res) -> tuple[list[Res], bool]:
    """The ClusterInstances of ``cluster``, and whether some instance cannot be attributed yet."""
    instances = stack.of_type(t.RDS_CLUSTER_INSTANCE)
    ids = [known_str(cluster.get("clusterIdentifier")) or ""]
    members = stack.referrers(cluster, "clusterIdentifier", instances, ids)
    undecided = any(
        reference_unknown(i, "clusterIdentifier") and i.region in (cluster.region, UNKNOWN)
        for i in instances
    )
    return members, undecided


def _multi_az(stack: StackView, cfg: Config) -> Iterator[Finding]:
    minimum_instances = cfg["minInstances"]
    minimum_azs = cfg["minAvailabilityZones"]
    for cluster in stack.of_type(t.RDS_CLUSTER):
        if not is_aurora(cluster):
            continue
        members, undecided = cluster_members(stack, cluster)
        if undecided:
            continue
        if len(members) < minimum_instances:
            yield (
                problem(
                    cluster,
                    "ClusterInstance.clusterIdentifier",
                    f"is referenced by {len(members)} instance(s), fewer than {show(minimum_instances)}",
                    f"give the cluster at least {show(minimum_instances)} instances in different AZs",
                ),
                cluster.urn,
            )
            continue
        zones = [m.get("availabilityZone") for m in members]
        if UNKNOWN in zones:
            continue
        distinct = sorted({z for z in zones if isinstance(z, str) and z})
        if len(distinct) < minimum_azs:
            unset = [m.name for m, z in zip(members, zones, strict=True) if not z]
            detail = f" ({', '.join(unset)} without one)" if unset else ""
            yield (
                problem(
                    cluster,
                    "ClusterInstance.availabilityZone",
                    f"spans {len(distinct)} AZ(s) {show(distinct)}{detail}, fewer than {show(minimum_azs)}",
                    "set availability_zone on each instance to a different AZ",
                ),
                cluster.urn,
            )
    for instance in stack.of_type(t.RDS_INSTANCE):
        for message in require_true(instance, "multiAz", "set multi_az=True"):
            yield message, instance.urn


def _secondary(res: Res) -> bool:
    return res.has("globalReplicationGroupId")


def _cache_failover(res: Res, _cfg: Config) -> Iterator[str]:
    fix = "set automatic_failover_enabled=True"
    if _secondary(res):
        yield from require_not_false(res, "automaticFailoverEnabled", fix)
    else:
        yield from require_true(res, "automaticFailoverEnabled", fix)


def _node_count(res: Res) -> float | Any | None:
    clusters = res.get("numCacheClusters")
    replicas = res.get("replicasPerNodeGroup")
    if UNKNOWN in (clusters, replicas):
        return UNKNOWN
    if clusters is not None:
        return as_number(clusters)
    if replicas is not None:
        count = as_number(replicas)
        return None if count is None else count + 1
    return None


def _cache_multi_az(res: Res, cfg: Config) -> Iterator[str]:
    fix = "set multi_az_enabled=True"
    if _secondary(res):
        yield from require_not_false(res, "multiAzEnabled", fix)
    else:
        yield from require_true(res, "multiAzEnabled", fix)
    minimum = cfg["minNodes"]
    count = _node_count(res)
    if count is UNKNOWN:
        return
    if count is None or count < minimum:
        prop = "replicasPerNodeGroup" if res.has("replicasPerNodeGroup") else "numCacheClusters"
        shown = "is not set (1 node)" if count is None else f"gives {show(count)} node(s)"
        yield problem(
            res,
            prop,
            f"{shown}, fewer than {show(minimum)}",
            f"run at least {show(minimum)} nodes (a primary and a replica in another AZ)",
        )


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="rds-multi-az",
        summary=(
            "Each regional Aurora cluster has at least N instances in at least M distinct AZs, and every "
            "plain RDS instance runs Multi-AZ."
        ),
        remediation="Raise auroraInstancesPerRegion in the stack file (each instance gets its own availability zone).",
        severity=Severity.CRITICAL,
        check_stack=_multi_az,
        params={
            "minInstances": Param(
                "integer",
                2,
                "Fewest instances per regional Aurora cluster.",
                minimum=1,
                maximum=16,
            ),
            "minAvailabilityZones": Param(
                "integer",
                2,
                "Fewest distinct AZs per regional Aurora cluster.",
                minimum=1,
                maximum=3,
            ),
        },
        checkov=("CKV_AWS_157",),
        aws_config=("rds-cluster-multi-az-enabled", "rds-multi-az-support"),
    ),
    _rule(
        name="elasticache-automatic-failover",
        summary="Cache replication groups fail over automatically (a global secondary inherits it).",
        remediation="Set automatic_failover_enabled=True.",
        severity=Severity.HIGH,
        targets=(t.CACHE_REPLICATION_GROUP,),
        check_resource=_cache_failover,
        aws_config=("elasticache-repl-grp-auto-failover-enabled",),
    ),
    _rule(
        name="elasticache-multi-az",
        summary="Cache replication groups are Multi-AZ with at least N nodes.",
        remediation="Raise cacheReplicasPerRegion in the stack file (multi_az_enabled=True with enough num_cache_clusters).",
        severity=Severity.HIGH,
        targets=(t.CACHE_REPLICATION_GROUP,),
        check_resource=_cache_multi_az,
        params={
            "minNodes": Param(
                "integer",
                2,
                "Fewest nodes (primary + replicas) per replication group.",
                minimum=1,
                maximum=6,
            )
        },
    ),
)
