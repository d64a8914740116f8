"""What makes a KMS key reference effective: customer-managed, and in the region that uses it.

A key argument is effective only when it names a customer-managed key of the resource's own
region. Two mistakes pass a presence check and defeat the point of a CMK:

* ``alias/aws/<service>`` (or the ARN of such an alias) is the AWS-managed key: its policy
  cannot be changed, it cannot be disabled, and every principal in the account that may use the
  service may use it. AWS reserves the ``alias/aws/`` prefix for these keys
  (https://docs.aws.amazon.com/kms/latest/developerguide/alias-about.html: "the aws/ prefix is
  reserved for AWS managed keys").
* A key ARN from another region: KMS keys are regional resources, and services encrypt with a
  key of their own region (a DynamoDB replica, a Secrets Manager replica and an RDS cluster all
  take the key "in the Region" of the replica/cluster; a multi-region key still has one ARN per
  region, https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html).

A bare key id or an alias name resolves in the caller's region, so only ARNs carry a region to
compare. An AWS-managed key named by its key id (``key/<uuid>``) cannot be told apart without
calling KMS; that case is out of reach of a static check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies._values import UNKNOWN, Res, known_str, problem, show

AWS_MANAGED_ALIAS_PREFIX = "alias/aws/"


def key_region(value: str) -> str | None:
    """Region of a KMS key or alias ARN (None for key ids and alias names)."""
    if not value.startswith("arn:"):
        return None
    parts = value.split(":")
    return parts[3] or None if len(parts) > 5 and parts[2] == "kms" else None


def aws_managed(value: str) -> bool:
    """True for ``alias/aws/...`` and ``arn:<partition>:kms:<region>:<account>:alias/aws/...``."""
    if value.startswith(AWS_MANAGED_ALIAS_PREFIX):
        return True
    resource = value.split(":", 5)[5] if value.startswith("arn:") and value.count(":") >= 5 else ""
    return resource.startswith(AWS_MANAGED_ALIAS_PREFIX)


def home_region(res: Res) -> str | None:
    """The region a resource lives in: its own ``region``, else its provider's (None if unknown)."""
    region = known_str(res.region)
    if region is None and res.provider is not None:
        region = known_str(res.provider.get("region"))
    return region


def cmk_problems(
    res: Res,
    prop: str,
    value: Any,
    region: str | None,
    *,
    fix: str,
    required: bool = True,
    allow_aws_managed: bool = False,
    absent: str = "is not set",
) -> Iterator[str]:
    """Violations unless ``value`` names a customer-managed key of ``region``.

    ``value`` is what the resource passes at ``prop`` (unknown passes). ``required`` False lets
    an absent value through (for rules that only judge keys that are given).
    """
    if value is UNKNOWN:
        return
    if value is None or value == "":
        if required:
            yield problem(res, prop, absent, fix)
        return
    text = known_str(value)
    if text is None:
        yield problem(res, prop, f"is {show(value)}, not a key id, alias or ARN", fix)
        return
    if aws_managed(text) and not allow_aws_managed:
        yield problem(
            res,
            prop,
            f"is {show(text)}, an AWS-managed key (its policy cannot be restricted)",
            fix,
        )
        return
    where = key_region(text)
    if where is not None and region is not None and where != region:
        yield problem(
            res,
            prop,
            f"is a key in {where}, but the data it encrypts is in {region}",
            f"use the key (or multi-region replica key) in {region}",
        )
