"""Secrets Manager: credentials encrypted under the stack's own keys in every region they are
replicated to, and rotated (or exempted, with a reason someone reviewed).

The data tier keeps two secrets: the Aurora master credentials and the cache AUTH token. AWS's
managed rotation does not reach either (RDS-managed master passwords are not available for
clusters in a global database; ElastiCache offers Secrets Manager rotation only for RBAC users,
not for AUTH tokens), so rotation is a function the stack deploys and schedules itself.
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
    as_number,
    dig,
    known_str,
    list_items,
    problem,
    show,
)
from policies.backups import schedule_gap_hours

CONCERN = "secrets"


def _secret_cmk(res: Res, _cfg: Config) -> Iterator[str]:
    yield from cmk_problems(
        res,
        "kmsKeyId",
        res.get("kmsKeyId"),
        home_region(res),
        fix="set kms_key_id to the secret region's CMK",
        absent="is not set (the AWS-managed aws/secretsmanager key)",
    )
    for index, replica in enumerate(list_items(res.get("replicas"))):
        if replica is UNKNOWN:
            continue
        region = dig(replica, "region")
        yield from cmk_problems(
            res,
            f"replicas[{index}].kmsKeyId",
            dig(replica, "kmsKeyId"),
            known_str(region),
            fix="set kms_key_id on the replica to the CMK (replica key) of its region",
            absent=f"is not set for the replica in {show(region)} (the AWS-managed key)",
        )


def _rotation_days(rotation: Res) -> Any:
    """Longest time between two rotations in days (None: no schedule; UNKNOWN: not known yet)."""
    rules = rotation.get("rotationRules")
    if rules is UNKNOWN:
        return UNKNOWN
    days, expression = dig(rules, "automaticallyAfterDays"), dig(rules, "scheduleExpression")
    if UNKNOWN in (days, expression):
        return UNKNOWN
    if days is not None:
        return as_number(days)
    if isinstance(expression, str):
        hours = schedule_gap_hours(expression)
        return None if hours is None else hours / 24
    return None


def _rotations_of(secret: Res, rotations: list[Res]) -> list[Res]:
    ids = {known_str(secret.get(k)) for k in ("arn", "id", "name")} - {None}
    return [
        r
        for r in rotations
        if r.depends_on("secretId", secret.urn) or known_str(r.get("secretId")) in ids
    ]


def _rotation(stack: StackView, cfg: Config) -> Iterator[Finding]:
    rotations = stack.of_type(t.SECRET_ROTATION)
    if any(r.get("secretId") is UNKNOWN and not r.sources("secretId") for r in rotations):
        return
    exempt: dict[str, Any] = dict(cfg["exemptSecrets"])
    maximum = cfg["maxRotationDays"]
    for secret in stack.of_type(t.SECRET):
        name = known_str(secret.get("name"))
        reason = exempt.get(name or "")
        if isinstance(reason, str) and reason.strip():
            continue
        mine = _rotations_of(secret, rotations)
        if not mine:
            yield (
                problem(
                    secret,
                    "SecretRotation",
                    "is missing: the secret never rotates",
                    "add an aws.secretsmanager.SecretRotation with a rotation function, or list the "
                    "secret's name with a reason under exemptSecrets in the stack's policy config",
                ),
                secret.urn,
            )
            continue
        for rotation in mine:
            days = _rotation_days(rotation)
            if days is UNKNOWN:
                continue
            if days is None or days > maximum:
                shown = "has no schedule" if days is None else f"rotates every {show(days)} days"
                yield (
                    problem(
                        rotation,
                        "rotationRules",
                        f"{shown}; at most {show(maximum)} allowed",
                        f"set rotation_rules.automatically_after_days to {show(maximum)} or fewer",
                    ),
                    rotation.urn,
                )
            if rotation.get("rotationLambdaArn") in (None, ""):
                yield (
                    problem(
                        rotation,
                        "rotationLambdaArn",
                        "is not set; no AWS-managed rotation exists for these credentials",
                        "point it at the function that changes the database (or cache) and the secret together",
                    ),
                    rotation.urn,
                )


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="secretsmanager-cmk",
        summary="Secrets Manager secrets, and each of their replicas, encrypt with a CMK of their own region.",
        remediation="Set kms_key_id on the secret and on every replica to that region's (replica) CMK.",
        severity=Severity.HIGH,
        targets=(t.SECRET,),
        check_resource=_secret_cmk,
        checkov=("CKV_AWS_149",),
        aws_config=("secretsmanager-using-cmk",),
    ),
    _rule(
        name="secretsmanager-rotation",
        summary=(
            "Every secret rotates through a rotation function at least every N days, or is exempted "
            "by name with a reason in the policy config."
        ),
        remediation="Add an aws.secretsmanager.SecretRotation (rotation_lambda_arn, rotation_rules).",
        severity=Severity.HIGH,
        check_stack=_rotation,
        params={
            "maxRotationDays": Param(
                "integer",
                90,
                "Longest allowed time between rotations, in days.",
                minimum=1,
                maximum=1000,
            ),
            "exemptSecrets": Param(
                "object",
                {},
                "Secret name -> why it does not rotate (reviewed with the policy config).",
                values="string",
            ),
        },
        checkov=("CKV2_AWS_57",),
        aws_config=("secretsmanager-rotation-enabled-check",),
        cdk_nag=("AwsSolutions-SMG4",),
    ),
)
