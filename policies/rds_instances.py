"""Plain RDS instances (the payments database): a region's loss must not take the database or
its backups with it.

The instance rules of the other concern modules (Multi-AZ, CMK in the instance's own region,
retention, public access, deletion protection, log exports, allowed classes, gp3 with a storage
auto scaling ceiling above the allocated size) already target ``aws:rds/instance:Instance``.
These two add what only a cross-region deployment of an instance has: its automated backups
replicated to another region, and a read replica there that can be promoted.
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
    arn_region,
    as_number,
    known_str,
    show,
)

CONCERN = "backups"


def is_read_replica(instance: Res) -> bool:
    """An instance created from another (``replicate_source_db``): it replicates, it does not
    keep its own automated backups (RDS for PostgreSQL read replicas have none)."""
    return instance.has("replicateSourceDb")


def _sources(stack: StackView) -> Iterator[Res]:
    """Instances that are no one's replica, in a known region."""
    for instance in stack.of_type(t.RDS_INSTANCE):
        if not is_read_replica(instance) and instance.region is not UNKNOWN:
            yield instance


def _backup_replication(stack: StackView, cfg: Config) -> Iterator[Finding]:
    replications = stack.of_type(t.RDS_INSTANCE_BACKUPS_REPLICATION)
    minimum = cfg["minRetentionDays"]
    for instance in _sources(stack):
        mine = [r for r in replications if r.depends_on("sourceDbInstanceArn", instance.urn)]
        if any(r.region is UNKNOWN for r in mine):
            continue
        if any(
            r.get("sourceDbInstanceArn") is UNKNOWN and not r.sources("sourceDbInstanceArn")
            for r in replications
        ):
            continue  # some replication's source is not known yet: decide at the next preview
        away = [r for r in mine if r.region != instance.region]
        if not away:
            where = (
                f"only within {show(instance.region)} ({', '.join(r.label for r in mine)})"
                if mine
                else "to no other region"
            )
            yield (
                _problem(
                    instance,
                    f"are replicated {where}",
                    "add an aws.rds.InstanceAutomatedBackupsReplication in the other region of the"
                    " pair with source_db_instance_arn=<instance>.arn",
                ),
                instance.urn,
            )
            continue
        for replication in away:
            region = home_region(replication)
            for message in cmk_problems(
                replication,
                "kmsKeyId",
                replication.get("kmsKeyId"),
                region,
                fix="set kms_key_id to the destination region's CMK ARN",
                absent="is not set (replicated backups of an encrypted instance need a key of the"
                " destination region)",
            ):
                yield message, replication.urn
            days = replication.get("retentionPeriod")
            if days is UNKNOWN:
                continue
            value = 7.0 if days is None else as_number(days)
            if value is None or value < minimum:
                yield (
                    f"{replication.label}: `retentionPeriod` is {show(days) if days is not None else 'not set (7)'}; "
                    f"allowed {show(minimum)}-35 days. Fix: set retention_period to at least {show(minimum)}",
                    replication.urn,
                )


def _problem(instance: Res, issue: str, fix: str) -> str:
    return f"{instance.label}: automated backups {issue}. Fix: {fix}"


def _cross_region_replica(stack: StackView, _cfg: Config) -> Iterator[Finding]:
    instances = stack.of_type(t.RDS_INSTANCE)
    for instance in _sources(stack):
        # By dependency (replicate_source_db=<source>.arn) or by the source's identifier.
        ids = [i for i in [known_str(instance.get("identifier"))] if i]
        candidates = [r for r in instances if is_read_replica(r)]
        if any(
            r.get("replicateSourceDb") is UNKNOWN and not r.sources("replicateSourceDb")
            for r in candidates
        ):
            continue  # a replica whose source is not known yet may be this instance's
        replicas = stack.referrers(instance, "replicateSourceDb", candidates, ids)
        if any(r.region is UNKNOWN for r in replicas):
            continue
        away = [r for r in replicas if r.region != instance.region]
        for replica in away:
            # AWS: a replica in another region names its source by ARN (pulumi-aws
            # rds.Instance replicate_source_db; "Creating a read replica in a different AWS
            # Region"); an identifier resolves only in the replica's own region.
            source = replica.get("replicateSourceDb")
            if isinstance(source, str) and arn_region(source) != instance.region:
                yield (
                    f"{replica.label}: `replicateSourceDb` is {show(source)}, not the ARN of"
                    f" {instance.label} in {show(instance.region)}. Fix: set"
                    " replicate_source_db=<source>.arn (a cross-region replica names its source by"
                    " ARN)",
                    replica.urn,
                )
        if not away:
            named = f": {', '.join(r.label for r in replicas)}" if replicas else ""
            yield (
                f"{instance.label}: `read replica` in another region is missing ({len(replicas)}"
                f" replica(s) in {show(instance.region)}{named}). Fix: add an aws.rds.Instance in"
                " the other region of the pair with replicate_source_db=<instance>.arn (a drill"
                " promotes it when the region is lost)",
                instance.urn,
            )


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="rds-instance-backup-replication",
        summary=(
            "Every RDS instance that is not a read replica replicates its automated backups to"
            " another region, under a CMK of that region, for N days or more."
        ),
        remediation=(
            "Add an aws.rds.InstanceAutomatedBackupsReplication in the other region with the"
            " destination region's CMK and a retention of at least the configured minimum."
        ),
        severity=Severity.HIGH,
        check_stack=_backup_replication,
        params={
            "minRetentionDays": Param(
                "integer",
                7,
                "Shortest allowed retention of the replicated backups in days.",
                minimum=1,
                maximum=35,
            )
        },
    ),
    _rule(
        name="rds-instance-cross-region-replica",
        summary=(
            "Every RDS instance that is not a read replica has a read replica in another region"
            " (what a region-loss drill promotes)."
        ),
        remediation=(
            "Add an aws.rds.Instance in the other region with replicate_source_db set to the"
            " source's ARN."
        ),
        severity=Severity.HIGH,
        check_stack=_cross_region_replica,
    ),
)
