"""The vocabulary of the mutation cases: what a case is, predicates that pick the resource to
change, and values computed from the resource and its stack."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from policies import resource_types as t
from preflight.model import RecordedResource
from tests.policies.policy_support import DELETE, Computed, Mutation


@dataclass(frozen=True)
class Override:
    """A config for the rule that flips the outcome: fires on the golden stack, or no longer
    fires on the golden stack changed by ``mutation``."""

    config: dict[str, Any]
    mutation: Mutation | None = None
    fires: bool = True


@dataclass(frozen=True)
class Case:
    violations: tuple[Mutation, ...]
    """Single-property removals and wrong values: the guardrail is gone."""
    overrides: tuple[Override, ...] = field(default_factory=tuple)
    ineffective: tuple[Mutation, ...] = field(default_factory=tuple)
    """The guardrail is present but does not work (an AWS-managed key, a key of another
    region, transit encryption "preferred", an alarm that cannot fire, ...)."""

    @property
    def mutations(self) -> tuple[Mutation, ...]:
        return self.violations + self.ineffective


def _has(key: str) -> Any:
    return lambda r: key in r.inputs


def _lacks(key: str) -> Any:
    return lambda r: key not in r.inputs


def _eq(key: str, value: Any) -> Any:
    return lambda r: r.inputs.get(key) == value


def _alarm(namespace: str, *metrics: str) -> Any:
    return lambda r: (
        r.inputs.get("namespace") == namespace and r.inputs.get("metricName") in metrics
    )


def _dns(label: str) -> Any:
    """A Route 53 record whose DNS name starts with ``label.``."""
    return lambda r: str(r.inputs.get("name", "")).startswith(f"{label}.")


def _latency(r: RecordedResource) -> bool:
    return bool(r.inputs.get("latencyRoutingPolicies"))


def _metric_check(r: RecordedResource) -> bool:
    return r.inputs.get("type") == "CLOUDWATCH_METRIC"


def _other_region(resource: RecordedResource, resources: Sequence[RecordedResource]) -> list[Any]:
    """The other region of the pair than the one a health check looks in."""
    pair = {r.inputs.get("region") for r in resources if r.type == t.RDS_CLUSTER}
    return sorted(pair - {resource.inputs.get("cloudwatchAlarmRegion")})


def _source_instance_region(
    _resource: RecordedResource, resources: Sequence[RecordedResource]
) -> list[Any]:
    """The region of the RDS instances that are no one's read replica (move a replica or a
    backup replication there, and nothing of the instance is outside its region any more)."""
    return sorted(
        {
            r.inputs.get("region")
            for r in resources
            if r.type == t.RDS_INSTANCE and "replicateSourceDb" not in r.inputs
        }
    )


def _source_identifier(
    resource: RecordedResource, resources: Sequence[RecordedResource]
) -> list[Any]:
    """The identifier (not the ARN) of the instance a read replica replicates."""
    sources = set(resource.property_dependencies.get("replicateSourceDb", ()))
    return sorted(
        r.inputs["identifier"] for r in resources if r.urn in sources and "identifier" in r.inputs
    )


def _sibling_zones(resource: RecordedResource, resources: Sequence[RecordedResource]) -> list[Any]:
    """Move an Aurora instance into the AZ of another instance of the same cluster."""
    cluster = resource.inputs.get("clusterIdentifier")
    own = resource.inputs.get("availabilityZone")
    zones = {
        r.inputs.get("availabilityZone")
        for r in resources
        if r.type == t.RDS_CLUSTER_INSTANCE and r.inputs.get("clusterIdentifier") == cluster
    }
    return sorted(z for z in zones if z and z != own)


def _same_region_vault(
    resource: RecordedResource, _resources: Sequence[RecordedResource]
) -> list[Any]:
    region = resource.inputs.get("region")
    return [f"arn:aws:backup:{region}:123456789012:backup-vault:same-region"]


def _tags(change: dict[str, Any]) -> Computed:
    """Rewrite the provider's defaultTags (a JSON string on the wire, or an object)."""

    def values(resource: RecordedResource, _resources: Sequence[RecordedResource]) -> list[Any]:
        raw = resource.inputs.get("defaultTags")
        encoded = isinstance(raw, str)
        data = json.loads(raw) if encoded else dict(raw or {})
        tags = dict(data.get("tags", {}))
        for key, value in change.items():
            if value is DELETE:
                tags.pop(key, None)
            else:
                tags[key] = value
        data["tags"] = tags
        return [json.dumps(data) if encoded else data]

    return Computed(values)


PUBLIC_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}
        ],
    }
)
PRIMARY_CACHE = _lacks("globalReplicationGroupId")
SECONDARY_CACHE = _has("globalReplicationGroupId")
PRIMARY_CLUSTER = _has("masterUsername")
SECONDARY_CLUSTER = _lacks("masterUsername")


ACCOUNT = "123456789012"
FAR_REGION = "ap-south-1"
"""A region no stack allows (cost-allowed-regions)."""


def _region_of(resource: RecordedResource) -> str:
    return str(resource.inputs.get("region") or "us-east-1")


def _pair(resources: Sequence[RecordedResource]) -> list[str]:
    return sorted(
        {r.inputs["region"] for r in resources if r.type == t.RDS_CLUSTER and "region" in r.inputs}
    )


def _get(data: Any, path: str) -> Any:
    for step in path.split("."):
        if isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        elif isinstance(data, dict):
            data = data.get(step)
        else:
            return None
    return data


def aws_managed_key(service: str) -> Computed:
    """The AWS-managed key of ``service``: its alias, and the ARN of that alias."""

    def values(resource: RecordedResource, _resources: Sequence[RecordedResource]) -> list[Any]:
        region = _region_of(resource)
        return [f"alias/aws/{service}", f"arn:aws:kms:{region}:{ACCOUNT}:alias/aws/{service}"]

    return Computed(values)


def key_of_other_region(path: str) -> Computed:
    """The same key ARN, but the other region's (a multi-region key's wrong replica)."""

    def values(resource: RecordedResource, resources: Sequence[RecordedResource]) -> list[Any]:
        arn = _get(resource.inputs, path)
        if not isinstance(arn, str) or not arn.startswith("arn:aws:kms:"):
            return []
        parts = arn.split(":")
        others = [r for r in _pair(resources) if r != parts[3]]
        return [":".join([*parts[:3], others[0], *parts[4:]])] if others else []

    return Computed(values)


def replica_far_away(region_key: str, key_key: str) -> Computed:
    """Move replica 0 to a region outside the allow-list, with a key of that region."""

    def values(resource: RecordedResource, _resources: Sequence[RecordedResource]) -> list[Any]:
        replicas = resource.inputs.get("replicas") or []
        if not replicas:
            return []
        replica = dict(replicas[0])
        replica[region_key] = FAR_REGION
        key = replica.get(key_key)
        if isinstance(key, str) and key.startswith("arn:aws:kms:"):
            parts = key.split(":")
            replica[key_key] = ":".join([*parts[:3], FAR_REGION, *parts[4:]])
        return [replica]

    return Computed(values)


def far_copy_destination(resource: RecordedResource, _s: Sequence[RecordedResource]) -> list[Any]:
    """Copy destination: a vault in a region outside the allow-list."""
    return [f"arn:aws:backup:{FAR_REGION}:{ACCOUNT}:backup-vault:far-away"]


def other_environment(resource: RecordedResource, _s: Sequence[RecordedResource]) -> list[Any]:
    """The provider's Environment tag set to another environment of the vocabulary."""
    raw = resource.inputs.get("defaultTags")
    encoded = isinstance(raw, str)
    data = json.loads(raw) if encoded else dict(raw or {})
    tags = dict(data.get("tags", {}))
    current = tags.get("Environment")
    tags["Environment"] = next(e for e in ("dev", "staging", "prod") if e != current)
    data["tags"] = tags
    return [json.dumps(data) if encoded else data]


def public_policy_with(condition: dict[str, Any]) -> str:
    """A key policy granting Principal "*" under ``condition``."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "kms:*",
                    "Resource": "*",
                    "Condition": condition,
                }
            ],
        }
    )


def log_statement(value: Any) -> Computed:
    """The parameter group's parameters with log_statement set to ``value`` (DELETE: removed)."""

    def values(resource: RecordedResource, _resources: Sequence[RecordedResource]) -> list[Any]:
        params = [
            p for p in resource.inputs.get("parameters") or [] if p["name"] != "log_statement"
        ]
        if value is not DELETE:
            params.append({"name": "log_statement", "value": value})
        return [params]

    return Computed(values)


def longer_window(resource: RecordedResource, _s: Sequence[RecordedResource]) -> list[Any]:
    """evaluationPeriods making period x evaluationPeriods one day (the alarm fires a day late)."""
    period = float(resource.inputs.get("period") or 60.0)
    return [max(2.0, 86400.0 / period)]
