"""KMS key hygiene: keys rotate, stay enabled, keep a deletion window, and their policies admit
only named callers and never bypass the lockout safety check.

The data-store rules (encryption.py) make sure every store names a customer-managed key of its
region; these rules make sure that key is one worth naming. Part of the encryption concern.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pulumi_policy import Severity

from policies import resource_types as t
from policies._rule import Config, Param, Rule
from policies._values import (
    UNKNOWN,
    Res,
    problem,
    require_not_false,
    require_not_true,
    require_true,
    show,
)

CONCERN = "encryption"


def _kms_rotation(res: Res, cfg: Config) -> Iterator[str]:
    spec = res.get("customerMasterKeySpec")
    if isinstance(spec, str) and spec != "SYMMETRIC_DEFAULT":
        return  # AWS rotates only symmetric encryption keys
    yield from require_true(res, "enableKeyRotation", "set enable_key_rotation=True")
    period = res.get("rotationPeriodInDays")
    if isinstance(period, int | float) and period > cfg["maxRotationPeriodDays"]:
        yield problem(
            res,
            "rotationPeriodInDays",
            f"is {show(period)}, above {cfg['maxRotationPeriodDays']}",
            f"rotate at least every {cfg['maxRotationPeriodDays']} days",
        )


def _kms_deletion_window(res: Res, cfg: Config) -> Iterator[str]:
    value = res.get("deletionWindowInDays")
    if value is UNKNOWN or value is None:
        return  # AWS default: 30 days, the maximum
    minimum = cfg["minDays"]
    if not isinstance(value, int | float) or value < minimum:
        yield problem(
            res,
            "deletionWindowInDays",
            f"is {show(value)}, below {show(minimum)}",
            f"set deletion_window_in_days between {show(minimum)} and 30",
        )


def _kms_enabled(res: Res, _cfg: Config) -> Iterator[str]:
    prop = "isEnabled" if res.type == t.KMS_KEY else "enabled"
    yield from require_not_false(
        res, prop, f"remove {prop}=False (a disabled key makes the data unreadable)"
    )


_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _parse_policy(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(_TRAILING_COMMA.sub(r"\1", text))  # tolerate hand-written trailing commas


def _principals(principal: Any) -> list[Any]:
    if isinstance(principal, dict):
        values: list[Any] = []
        for item in principal.values():
            values.extend(item if isinstance(item, list) else [item])
        return values
    return principal if isinstance(principal, list) else [principal]


# Condition keys that pin *who* calls: with Principal "*" only these make the statement
# narrower than "anyone". kms:CallerAccount is the one AWS's default key policies use; the aws:
# keys are the global principal/source keys
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
_CALLER_KEYS = frozenset(
    {
        "kms:calleraccount",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:userid",
    }
)
# Operators that require the key to be present and to match: "...IfExists" passes when the key
# is absent, negated operators and ForAllValues pass for any caller the value does not name.
_MATCHING_OPERATORS = frozenset(
    {
        "stringequals",
        "stringequalsignorecase",
        "stringlike",
        "arnequals",
        "arnlike",
        "foranyvalue:stringequals",
        "foranyvalue:stringlike",
    }
)


def _restricts_caller(condition: Any) -> bool:
    """True when a statement's Condition limits the caller to named accounts/principals."""
    if not isinstance(condition, dict):
        return False
    for operator, pairs in condition.items():
        if str(operator).lower() not in _MATCHING_OPERATORS or not isinstance(pairs, dict):
            continue
        for key, values in pairs.items():
            if str(key).lower() not in _CALLER_KEYS:
                continue
            items = values if isinstance(values, list) else [values]
            if items and all(isinstance(v, str) and v.strip("*?") for v in items):
                return True
    return False


def _kms_policy(res: Res, _cfg: Config) -> Iterator[str]:
    text = res.get("policy")
    if not isinstance(text, str):
        return
    try:
        document = _parse_policy(text)
    except ValueError:
        yield problem(res, "policy", "is not valid JSON", "fix the key policy document")
        return
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for index, statement in enumerate(statements if isinstance(statements, list) else [statements]):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if "*" not in _principals(statement.get("Principal")):
            continue
        condition = statement.get("Condition")
        if _restricts_caller(condition):
            continue
        issue = (
            'allows "*" without a Condition'
            if not condition
            else 'allows "*" under a Condition that does not name the caller\'s account or principal'
        )
        yield problem(
            res,
            f"policy.Statement[{index}].Principal",
            issue,
            "name the account or roles, or add StringEquals kms:CallerAccount (or aws:PrincipalArn)",
        )


def _kms_lockout(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_not_true(
        res,
        "bypassPolicyLockoutSafetyCheck",
        "remove bypass_policy_lockout_safety_check (KMS then refuses a policy that locks the account out)",
    )


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="kms-key-rotation",
        summary="Symmetric customer-managed keys rotate automatically, at least every N days.",
        remediation="Set enable_key_rotation=True (rotation_period_in_days within the limit).",
        severity=Severity.HIGH,
        targets=(t.KMS_KEY,),
        check_resource=_kms_rotation,
        params={
            "maxRotationPeriodDays": Param(
                "integer",
                365,
                "Longest allowed rotation period (KMS accepts 90-2560 days).",
                minimum=90,
                maximum=2560,
            )
        },
        checkov=("CKV_AWS_7",),
        aws_config=("cmk-backing-key-rotation-enabled",),
    ),
    _rule(
        name="kms-key-deletion-window",
        summary="KMS keys and replica keys keep a deletion window of at least N days.",
        remediation="Set deletion_window_in_days to at least the configured minimum (max 30).",
        severity=Severity.MEDIUM,
        targets=(t.KMS_KEY, t.KMS_REPLICA_KEY),
        check_resource=_kms_deletion_window,
        params={
            "minDays": Param(
                "integer",
                30,
                "Shortest allowed deletion window in days (KMS accepts 7-30).",
                minimum=7,
                maximum=30,
            )
        },
    ),
    _rule(
        name="kms-key-enabled",
        summary="KMS keys and replica keys are not disabled.",
        remediation="Remove is_enabled=False / enabled=False.",
        severity=Severity.HIGH,
        targets=(t.KMS_KEY, t.KMS_REPLICA_KEY),
        check_resource=_kms_enabled,
        checkov=("CKV_AWS_227",),
    ),
    _rule(
        name="kms-key-policy-no-public-principal",
        summary=(
            'KMS key policies never allow Principal "*" unless a condition pins the caller '
            "(kms:CallerAccount, aws:PrincipalArn, aws:PrincipalOrgID, ...)."
        ),
        remediation="Name the account/roles in Principal, or restrict with StringEquals kms:CallerAccount.",
        severity=Severity.CRITICAL,
        targets=(t.KMS_KEY, t.KMS_REPLICA_KEY, t.KMS_KEY_POLICY),
        check_resource=_kms_policy,
        checkov=("CKV_AWS_33",),
    ),
    _rule(
        name="kms-key-policy-lockout-safety",
        summary="KMS keys and replica keys never bypass the policy lockout safety check.",
        remediation="Remove bypass_policy_lockout_safety_check (it defaults to false).",
        severity=Severity.HIGH,
        targets=(t.KMS_KEY, t.KMS_REPLICA_KEY, t.KMS_KEY_POLICY),
        check_resource=_kms_lockout,
    ),
)
