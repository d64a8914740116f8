"""Cost-allocation tags: every taggable resource carries them, counting the provider's default tags.

The program tags through one explicit provider's ``defaultTags``, so a rule that looked only at
each resource's own ``tags`` would flag everything; one that ignored resources would miss a
resource created with another provider. We merge the two the way AWS does (resource wins).

A closed vocabulary is not enough for ``Environment``: ``Environment=dev`` on the prod stack is
in the vocabulary and still wrong (the dev budget and dashboards then count prod's spend). The
pack learns the stack's environment from its policy config (``tag-values-allowed.environment``,
set in every ``stacks/policy-config.<stack>.json`` and in each policy group's config); left
empty, it takes the stack name the Pulumi CLI hands the policy process (``PULUMI_STACK``) when
that name is one of the allowed environments.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from policies import resource_types as t
from policies._rule import Config, Param, Rule
from policies._values import UNKNOWN, Res, as_bool, dig, list_items, maybe_json, problem, show

CONCERN = "tagging"


def effective_tags(res: Res) -> Mapping[str, Any] | None:
    """Provider default tags overlaid with the resource's tags; None when either is unknown."""
    merged: dict[str, Any] = {}
    if res.provider is not None:
        default_tags = maybe_json(res.provider.get("defaultTags"))
        if default_tags is UNKNOWN:
            return None
        provider_tags = dig(default_tags, "tags")
        if provider_tags is UNKNOWN:
            return None
        if isinstance(provider_tags, dict):
            merged.update(provider_tags)
    own = res.get("tags")
    if own is UNKNOWN:
        return None
    if isinstance(own, dict):
        merged.update(own)
    return merged


def _taggable(res: Res) -> bool:
    return res.type in t.TAGGABLE or res.has("tags")


def _required_tags(res: Res, cfg: Config) -> Iterator[str]:
    if not _taggable(res):
        return
    tags = effective_tags(res)
    if tags is None:
        return
    missing = [k for k in cfg["required"] if tags.get(k) is not UNKNOWN and not tags.get(k)]
    if missing:
        yield problem(
            res,
            "tags",
            f"lacks {show(missing)} (resource tags plus the provider's defaultTags)",
            "set them in the provider's default_tags (or the resource's tags)",
        )


def stack_environment(cfg: Config) -> str | None:
    """The stack's environment: the configured one, else the engine's stack name if it is one."""
    configured = cfg.get("environment")
    if isinstance(configured, str) and configured:
        return configured
    stack = os.environ.get("PULUMI_STACK", "").rsplit("/", 1)[-1]
    vocabulary = dig(cfg.get("allowedValues"), "Environment")
    return stack if isinstance(vocabulary, list) and stack in vocabulary else None


def _tag_values(res: Res, cfg: Config) -> Iterator[str]:
    if not _taggable(res):
        return
    tags = effective_tags(res)
    if tags is None:
        return
    allowed: Mapping[str, list[str]] = cfg["allowedValues"]
    for key, values in allowed.items():
        value = tags.get(key)
        if isinstance(value, str) and value not in values:
            yield problem(
                res, f"tags.{key}", f"is {show(value)}", f"use one of {', '.join(values)}"
            )
    expected = stack_environment(cfg)
    value = tags.get("Environment")
    in_vocabulary = value in allowed.get("Environment", [value])  # else reported above
    if expected is not None and isinstance(value, str) and value != expected and in_vocabulary:
        yield problem(
            res,
            "tags.Environment",
            f"is {show(value)} on the {expected} stack",
            f"set Environment={expected} (the provider's default_tags follow the stack's environment)",
        )


def _replica_tags(res: Res, _cfg: Config) -> Iterator[str]:
    for index, replica in enumerate(list_items(res.get("replicas"))):
        value = dig(replica, "propagateTags")
        if replica is UNKNOWN or value is UNKNOWN or as_bool(value) is True:
            continue
        yield problem(
            res,
            f"replicas[{index}].propagateTags",
            f"is {show(value)} for the replica in {show(dig(replica, 'regionName'))}",
            "set propagate_tags=True so the replica carries the cost-allocation tags",
        )


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


def _is_aws(type_token: str) -> bool:
    return type_token.startswith("aws:")


RULES: tuple[Rule, ...] = (
    _rule(
        name="required-tags",
        summary="Every taggable resource carries the cost-allocation tags (own tags plus provider defaultTags).",
        remediation="Add the missing keys to the provider's default_tags.",
        severity=Severity.MEDIUM,
        applies=_is_aws,
        targets_doc="every taggable aws:* resource",
        check_resource=_required_tags,
        params={
            "required": Param(
                "array",
                [
                    "Project",
                    "Environment",
                    "CostCenter",
                    "Owner",
                    "ManagedBy",
                    "DataClassification",
                ],
                "Tag keys every taggable resource must carry (non-empty).",
                items="string",
            )
        },
        aws_config=("required-tags",),
    ),
    _rule(
        name="tag-values-allowed",
        summary=(
            "Tags with a closed vocabulary (Environment, ManagedBy, DataClassification) use an allowed "
            "value, and Environment is the stack's own environment."
        ),
        remediation="Fix the tag value in the provider's default_tags.",
        severity=Severity.LOW,
        applies=_is_aws,
        targets_doc="every taggable aws:* resource",
        check_resource=_tag_values,
        params={
            "allowedValues": Param(
                "object",
                {
                    "Environment": ["dev", "staging", "prod"],
                    "ManagedBy": ["pulumi"],
                    "DataClassification": ["public", "internal", "confidential", "restricted"],
                },
                "Tag key -> allowed values.",
                values="array",
            ),
            "environment": Param(
                "string",
                "",
                "The stack's environment, which the Environment tag must equal (empty: the Pulumi "
                "stack name, when it is one of the allowed Environment values).",
                enum=("", "dev", "staging", "prod"),
            ),
        },
    ),
    _rule(
        name="dynamodb-replica-propagate-tags",
        summary="DynamoDB replicas inherit the table's tags (cost allocation in the second region).",
        remediation="Set propagate_tags=True on every replica.",
        severity=Severity.LOW,
        targets=(t.DYNAMODB_TABLE,),
        check_resource=_replica_tags,
    ),
)
