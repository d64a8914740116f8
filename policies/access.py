"""Least privilege in the policies the stack itself writes, and no public principals.

The stack writes IAM roles (trust policies and inline policies) for the rotation functions, the
flow logs, AWS Backup and enhanced monitoring, resource policies (Lambda permissions for
Secrets Manager, SNS topic policies) and key policies (kms.py). Security Hub judges these after
the deploy (IAM.1, IAM.21, KMS.1, KMS.2, Lambda.1, SNS.4); these rules judge the documents in
the plan, one resource at a time, so their cost is linear in the stack.

An action that supports no resource-level permission must name ``"Resource": "*"`` (for
example ``secretsmanager:GetRandomPassword``), so ``*`` as a resource is only judged for the
decrypt actions KMS.1/KMS.2 name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any, Final

from pulumi_policy import Severity

from policies._rule import Config, Rule
from policies._values import UNKNOWN, Res, list_items, problem, show
from policies.kms import _principals, _restricts_caller

CONCERN = "access"

IAM_ROLE: Final = "aws:iam/role:Role"
IAM_ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY: Final = "aws:iam/policy:Policy"
IAM_USER_POLICY: Final = "aws:iam/userPolicy:UserPolicy"
IAM_GROUP_POLICY: Final = "aws:iam/groupPolicy:GroupPolicy"
LAMBDA_PERMISSION: Final = "aws:lambda/permission:Permission"
SNS_TOPIC: Final = "aws:sns/topic:Topic"
SNS_TOPIC_POLICY: Final = "aws:sns/topicPolicy:TopicPolicy"

# kms:Decrypt and kms:ReEncryptFrom are the actions KMS.1/KMS.2 block on all keys
# (https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html).
_DECRYPT_ACTIONS: Final = ("kms:decrypt", "kms:reencryptfrom")


def _document(value: Any) -> dict[str, Any] | None:
    """A policy document from a JSON string or an already-parsed object; None when unknown."""
    if value is UNKNOWN or value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return value if isinstance(value, dict) else None


def _statements(document: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    raw = document.get("Statement", [])
    items = raw if isinstance(raw, list) else [raw]
    return [(i, s) for i, s in enumerate(items) if isinstance(s, dict)]


def _strings(value: Any) -> list[str]:
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def _all_keys(resource: str) -> bool:
    """True for a Resource that names every KMS key ("*" or any "...:key/*")."""
    return resource == "*" or (resource.lower().startswith("arn:") and resource.endswith(":key/*"))


def _policy_findings(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(statement path, issue) for each over-broad Allow statement of one identity policy."""
    for index, statement in _statements(document):
        if statement.get("Effect") != "Allow":
            continue
        where = f"Statement[{index}]"
        if "NotAction" in statement:
            yield (
                f"{where}.NotAction",
                "allows every action except those listed (Allow with NotAction)",
            )
            continue
        actions = _strings(statement.get("Action"))
        resources = _strings(statement.get("Resource"))
        for action in actions:
            if action == "*":
                yield f"{where}.Action", 'allows every action ("*")'
            elif action.endswith(":*"):
                yield f"{where}.Action", f"allows every action of a service ({action})"
        decrypting = [
            a for a in actions if any(fnmatchcase(d, a.lower()) for d in _DECRYPT_ACTIONS)
        ]
        broad = [r for r in resources if _all_keys(r)]
        if decrypting and broad and not any(a == "*" or a.endswith(":*") for a in decrypting):
            yield (
                f"{where}.Resource",
                f"allows {show(decrypting)} on every KMS key ({show(broad)})",
            )


def _identity_documents(res: Res) -> Iterator[tuple[str, Any]]:
    """(property path, policy) of each identity policy the resource writes."""
    if res.type == IAM_ROLE:
        for index, inline in enumerate(list_items(res.get("inlinePolicies"))):
            if isinstance(inline, dict):
                yield f"inlinePolicies[{index}].policy", inline.get("policy")
    else:
        yield "policy", res.get("policy")


def _least_privilege(res: Res, _cfg: Config) -> Iterator[str]:
    for prop, value in _identity_documents(res):
        document = _document(value)
        if document is None:
            continue
        for where, issue in _policy_findings(document):
            yield problem(
                res,
                f"{prop}.{where}",
                issue,
                "name the actions the role needs (e.g. secretsmanager:GetSecretValue) and the "
                "resources they act on (the key ARNs for kms:Decrypt)",
            )


def _public_statements(document: dict[str, Any]) -> Iterator[tuple[int, bool]]:
    """(index, has a condition) of Allow statements open to ``"*"`` without naming the caller."""
    for index, statement in _statements(document):
        if statement.get("Effect") != "Allow":
            continue
        if "*" not in _principals(statement.get("Principal")):
            continue
        condition = statement.get("Condition")
        if not _restricts_caller(condition):
            yield index, bool(condition)


def _resource_policy(prop: str, what: str) -> Any:
    def check(res: Res, _cfg: Config) -> Iterator[str]:
        document = _document(res.get(prop))
        if document is None:
            return
        for index, conditioned in _public_statements(document):
            issue = (
                f'lets any principal ("*") {what} under a Condition that does not name the '
                "caller's account or source"
                if conditioned
                else f'lets any principal ("*") {what} without a Condition'
            )
            yield problem(
                res,
                f"{prop}.Statement[{index}].Principal",
                issue,
                "name the account or service, or add StringEquals aws:SourceAccount / ArnLike "
                "aws:SourceArn",
            )

    return check


def _lambda_permission(res: Res, _cfg: Config) -> Iterator[str]:
    principal = res.get("principal")
    if not isinstance(principal, str):
        return
    values = {key: res.get(key) for key in ("sourceAccount", "sourceArn", "principalOrgId")}
    if UNKNOWN in values.values():
        return  # decided after the update, when the reference is known
    account = any(
        isinstance(values[k], str) and values[k] for k in ("sourceAccount", "principalOrgId")
    )
    source = account or (isinstance(values["sourceArn"], str) and bool(values["sourceArn"]))
    if principal == "*" and not account:
        # A source ARN alone does not make "*" private: an ARN such as an S3 bucket's names no
        # account, so only an account or organization condition limits who may invoke.
        yield problem(
            res,
            "principal",
            'is "*": any account may invoke the function',
            "name the invoking service, with source_account (or principal_org_id)",
        )
    elif principal.endswith(".amazonaws.com") and not source:
        # Without a source condition any account's resources of that service may invoke the
        # function (the confused-deputy case Lambda.1 fails for S3 without AWS:SourceAccount).
        yield problem(
            res,
            "sourceArn",
            f"is not set, so {principal} may invoke the function on behalf of any account",
            "set source_arn (the secret's ARN for Secrets Manager rotation) or source_account",
        )


def _trust_policy(res: Res, _cfg: Config) -> Iterator[str]:
    yield from _resource_policy("assumeRolePolicy", "assume the role")(res, _cfg)


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="iam-policy-least-privilege",
        summary=(
            'IAM policies the stack writes allow no "*" or "service:*" action, no Allow with '
            "NotAction, and no kms:Decrypt/kms:ReEncryptFrom on every key."
        ),
        remediation="List the actions each role needs and scope kms:Decrypt to the key ARNs.",
        severity=Severity.HIGH,
        targets=(IAM_ROLE, IAM_ROLE_POLICY, IAM_POLICY, IAM_USER_POLICY, IAM_GROUP_POLICY),
        check_resource=_least_privilege,
        aws_config=(
            "iam-policy-no-statements-with-admin-access",
            "iam-policy-no-statements-with-full-access",
            "iam-customer-policy-blocked-kms-actions",
            "iam-inline-policy-blocked-kms-actions",
        ),
        cdk_nag=("AwsSolutions-IAM5",),
    ),
    _rule(
        name="iam-trust-policy-no-public-principal",
        summary='Role trust policies let no "*" principal assume the role unless a Condition names the caller.',
        remediation="Trust the service or account that assumes the role, with aws:SourceAccount.",
        severity=Severity.CRITICAL,
        targets=(IAM_ROLE,),
        check_resource=_trust_policy,
    ),
    _rule(
        name="lambda-permission-not-public",
        summary=(
            'Lambda permissions grant no "*" principal, and a service principal only with '
            "source_arn or source_account."
        ),
        remediation="Name the invoking service and pin it with source_arn (the secret's ARN).",
        severity=Severity.CRITICAL,
        targets=(LAMBDA_PERMISSION,),
        check_resource=_lambda_permission,
        aws_config=("lambda-function-public-access-prohibited",),
    ),
    _rule(
        name="sns-topic-policy-not-public",
        summary='SNS topic policies let no "*" principal act on the topic unless a Condition names the caller.',
        remediation="Name the publishing service or account, with aws:SourceAccount or aws:SourceArn.",
        severity=Severity.HIGH,
        targets=(SNS_TOPIC, SNS_TOPIC_POLICY),
        check_resource=_resource_policy("policy", "use the topic"),
        aws_config=("sns-topic-no-public-access",),
    ),
)
