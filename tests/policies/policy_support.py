"""Builders for the policy tests: a compliant "golden" stack, mutations, and two ways to run rules.

``run_rule`` drives a rule's pulumi_policy ``validate`` exactly as the policy server would
(properties deserialized and wrapped in pulumi_policy's unknown-checking proxy, providers,
parents and property dependencies linked). ``Evaluator`` runs the whole pack through the rules'
plain check functions, which is fast enough to try hundreds of mutations of a recorded stack.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policies import ALL_RULES, RULES_BY_NAME, Rule
from policies import resource_types as t
from policies._values import Res, StackView, plain
from preflight.analyzer import PolicyInfo, reconcile_config
from preflight.model import SECRET_SIG, SIG_KEY, RecordedResource

STACK = "test"
PROJECT = "securecart-data"
ACCOUNT = "123456789012"
EAST, WEST = "us-east-1", "us-west-2"
KEY = {
    EAST: f"arn:aws:kms:{EAST}:{ACCOUNT}:key/mrk-1",
    WEST: f"arn:aws:kms:{WEST}:{ACCOUNT}:key/mrk-1",
}
TAGS = {
    "Project": "securecart-data",
    "Environment": "dev",
    "CostCenter": "cc-1",
    "Owner": "data-platform",
    "ManagedBy": "pulumi",
    "DataClassification": "confidential",
}
UNKNOWN = UNKNOWN_STRING_VALUE
"""What an input computed from an unknown output looks like on the wire during preview."""
DELETE: Any = object()
"""Mutation value: remove the property."""


def urn(type_token: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_token}::{name}"


PROVIDER_URN = urn(t.AWS_PROVIDER, "aws")
PROVIDER_REF = f"{PROVIDER_URN}::04da6b54-provider-id"


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def make(
    type_token: str,
    name: str,
    inputs: Mapping[str, Any],
    *,
    deps: Mapping[str, Sequence[str]] | None = None,
    provider: str | None = PROVIDER_REF,
) -> RecordedResource:
    """A recorded resource; ``deps`` maps input names to the *names* of resources they came from."""
    by_name = {k: tuple(urn_of(n) for n in v) for k, v in (deps or {}).items()}
    return RecordedResource(
        urn=urn(type_token, name),
        type=type_token,
        name=name,
        custom=True,
        inputs=dict(inputs),
        parent=None,
        provider=provider,
        dependencies=tuple(sorted({u for v in by_name.values() for u in v})),
        property_dependencies=by_name,
    )


_NAMES: dict[str, str] = {}


def urn_of(name: str) -> str:
    return _NAMES[name]


def _alarm(
    name: str, region: str, namespace: str, metric: str, dims: dict[str, str], threshold: float
) -> RecordedResource:
    topic = f"arn:aws:sns:{region}:{ACCOUNT}:sc-alarms"
    return make(
        t.METRIC_ALARM,
        name,
        {
            "region": region,
            "name": f"sc-{name}",
            "namespace": namespace,
            "metricName": metric,
            "dimensions": dims,
            "statistic": "Maximum",
            "period": 60.0,
            "evaluationPeriods": 3.0,
            "threshold": threshold,
            "comparisonOperator": "GreaterThanOrEqualToThreshold",
            "alarmActions": [topic],
            "okActions": [topic],
        },
        deps={"alarmActions": [f"alarms-{region}"], "okActions": [f"alarms-{region}"]},
    )


def golden_stack() -> list[RecordedResource]:
    """A small two-region data tier that every rule of the pack accepts with default config."""
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )
    # Dependencies are given by name, so every URN is known before the resources are built.
    specs: list[tuple[str, str]] = [
        (t.AWS_PROVIDER, "aws"),
        (t.KMS_KEY, "key-us-east-1"),
        (t.KMS_REPLICA_KEY, "key-us-west-2"),
        (t.RANDOM_PASSWORD, "master-password"),
        (t.RDS_GLOBAL_CLUSTER, "aurora-global"),
        (t.RDS_CLUSTER_PARAMETER_GROUP, "params-us-east-1"),
        (t.RDS_CLUSTER_PARAMETER_GROUP, "params-us-west-2"),
        (t.RDS_CLUSTER, "aurora-us-east-1"),
        (t.RDS_CLUSTER, "aurora-us-west-2"),
        (t.RDS_CLUSTER_INSTANCE, "aurora-us-east-1-1"),
        (t.RDS_CLUSTER_INSTANCE, "aurora-us-east-1-2"),
        (t.RDS_CLUSTER_INSTANCE, "aurora-us-west-2-1"),
        (t.RDS_CLUSTER_INSTANCE, "aurora-us-west-2-2"),
        (t.AUTOSCALING_TARGET, "aurora-readers-us-east-1"),
        (t.RDS_INSTANCE, "legacy-postgres"),
        (t.DYNAMODB_TABLE, "table-carts"),
        (t.DYNAMODB_TABLE, "table-sessions"),
        (t.DYNAMODB_TABLE_REPLICA, "sessions-us-west-2"),
        (t.AUTOSCALING_TARGET, "sessions-read"),
        (t.AUTOSCALING_TARGET, "sessions-write"),
        (t.CACHE_REPLICATION_GROUP, "cache-us-east-1"),
        (t.CACHE_GLOBAL_REPLICATION_GROUP, "cache-global"),
        (t.CACHE_REPLICATION_GROUP, "cache-us-west-2"),
        (t.SNS_TOPIC, "alarms-us-east-1"),
        (t.SNS_TOPIC, "alarms-us-west-2"),
        (t.METRIC_ALARM, "cpu-aurora-us-east-1"),
        (t.METRIC_ALARM, "cpu-aurora-us-west-2"),
        (t.METRIC_ALARM, "cpu-legacy"),
        (t.METRIC_ALARM, "cpu-cache-us-east-1"),
        (t.METRIC_ALARM, "cpu-cache-us-west-2"),
        (t.METRIC_ALARM, "lag-us-west-2"),
        (t.METRIC_ALARM, "aurora-health-us-east-1"),
        (t.METRIC_ALARM, "aurora-health-us-west-2"),
        (t.ROUTE53_HEALTH_CHECK, "health-us-east-1"),
        (t.ROUTE53_HEALTH_CHECK, "health-us-west-2"),
        (t.ROUTE53_RECORD, "writer"),
        (t.ROUTE53_RECORD, "cache"),
        (t.ROUTE53_RECORD, "reader-us-east-1"),
        (t.ROUTE53_RECORD, "reader-us-west-2"),
        (t.BACKUP_VAULT, "vault-us-east-1"),
        (t.BACKUP_VAULT, "vault-us-west-2"),
        (t.BACKUP_PLAN, "plan-us-east-1"),
        (t.BACKUP_PLAN, "plan-us-west-2"),
        (t.BUDGET, "budget"),
    ]
    _NAMES.clear()
    _NAMES.update({name: urn(type_token, name) for type_token, name in specs})

    out: list[RecordedResource] = [
        make(
            t.AWS_PROVIDER,
            "aws",
            {
                "region": EAST,
                "defaultTags": json.dumps({"tags": TAGS}),
                "skipCredentialsValidation": "false",
            },
            provider=None,
        ),
        make(
            t.KMS_KEY,
            "key-us-east-1",
            {
                "region": EAST,
                "multiRegion": True,
                "enableKeyRotation": True,
                "rotationPeriodInDays": 365.0,
                "deletionWindowInDays": 30.0,
                "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
                "policy": policy,
            },
        ),
        make(
            t.KMS_REPLICA_KEY,
            "key-us-west-2",
            {
                "region": WEST,
                "primaryKeyArn": KEY[EAST],
                "deletionWindowInDays": 30.0,
                "policy": policy,
            },
            deps={"primaryKeyArn": ["key-us-east-1"]},
        ),
        make(
            t.RANDOM_PASSWORD, "master-password", {"length": 32.0, "special": False}, provider=None
        ),
        make(
            t.RDS_GLOBAL_CLUSTER,
            "aurora-global",
            {
                "region": EAST,
                "globalClusterIdentifier": "sc-global",
                "engine": "aurora-postgresql",
                "engineVersion": "16.6",
                "storageEncrypted": True,
                "deletionProtection": True,
            },
        ),
    ]
    for region in (EAST, WEST):
        out.append(
            make(
                t.RDS_CLUSTER_PARAMETER_GROUP,
                f"params-{region}",
                {
                    "region": region,
                    "name": f"sc-pg16-{region}",
                    "family": "aurora-postgresql16",
                    "parameters": [
                        {"name": "rds.force_ssl", "value": "1"},
                        {"name": "log_connections", "value": "1"},
                    ],
                },
            )
        )
    for region in (EAST, WEST):
        inputs: dict[str, Any] = {
            "region": region,
            "clusterIdentifier": f"sc-{region}",
            "engine": "aurora-postgresql",
            "engineVersion": "16.6",
            "globalClusterIdentifier": "sc-global",
            "storageEncrypted": True,
            "kmsKeyId": KEY[region],
            "backupRetentionPeriod": 7.0,
            "deletionProtection": True,
            "iamDatabaseAuthenticationEnabled": True,
            "enabledCloudwatchLogsExports": ["postgresql"],
            "copyTagsToSnapshot": True,
            "skipFinalSnapshot": False,
            "finalSnapshotIdentifier": f"sc-{region}-final",
            "dbClusterParameterGroupName": f"sc-pg16-{region}",
            "availabilityZones": [f"{region}a", f"{region}b", f"{region}c"],
        }
        deps: dict[str, list[str]] = {
            "globalClusterIdentifier": ["aurora-global"],
            "kmsKeyId": [f"key-{region}"],
            "dbClusterParameterGroupName": [f"params-{region}"],
        }
        if region == EAST:
            inputs.update(
                masterUsername="securecart_admin", masterPassword=secret("generated-0123456789")
            )
            deps["masterPassword"] = ["master-password"]
        out.append(make(t.RDS_CLUSTER, f"aurora-{region}", inputs, deps=deps))
    for region in (EAST, WEST):
        for index, zone in ((1, "a"), (2, "b")):
            out.append(
                make(
                    t.RDS_CLUSTER_INSTANCE,
                    f"aurora-{region}-{index}",
                    {
                        "region": region,
                        "clusterIdentifier": f"sc-{region}",
                        "identifier": f"sc-{region}-{index}",
                        "engine": "aurora-postgresql",
                        "instanceClass": "db.r6g.large",
                        "availabilityZone": f"{region}{zone}",
                        "performanceInsightsEnabled": True,
                        "performanceInsightsKmsKeyId": KEY[region],
                        "performanceInsightsRetentionPeriod": 7.0,
                        "monitoringInterval": 60.0,
                        "monitoringRoleArn": f"arn:aws:iam::{ACCOUNT}:role/sc-monitoring",
                        "autoMinorVersionUpgrade": True,
                        "publiclyAccessible": False,
                        "caCertIdentifier": "rds-ca-rsa2048-g1",
                        "copyTagsToSnapshot": True,
                        "promotionTier": float(index),
                    },
                    deps={
                        "clusterIdentifier": [f"aurora-{region}"],
                        "performanceInsightsKmsKeyId": [f"key-{region}"],
                    },
                )
            )
    out.append(
        make(
            t.AUTOSCALING_TARGET,
            "aurora-readers-us-east-1",
            {
                "region": EAST,
                "serviceNamespace": "rds",
                "scalableDimension": "rds:cluster:ReadReplicaCount",
                "resourceId": f"cluster:sc-{EAST}",
                "minCapacity": 1.0,
                "maxCapacity": 3.0,
            },
        )
    )
    out.append(
        make(
            t.RDS_INSTANCE,
            "legacy-postgres",
            {
                "region": EAST,
                "identifier": "sc-legacy",
                "engine": "postgres",
                "instanceClass": "db.r6g.large",
                "allocatedStorage": 100.0,
                "maxAllocatedStorage": 500.0,
                "storageType": "gp3",
                "storageEncrypted": True,
                "kmsKeyId": KEY[EAST],
                "multiAz": True,
                "backupRetentionPeriod": 7.0,
                "deletionProtection": True,
                "iamDatabaseAuthenticationEnabled": True,
                "enabledCloudwatchLogsExports": ["postgresql", "upgrade"],
                "copyTagsToSnapshot": True,
                "finalSnapshotIdentifier": "sc-legacy-final",
                "manageMasterUserPassword": True,
                "username": "securecart_admin",
                "performanceInsightsEnabled": True,
                "performanceInsightsKmsKeyId": KEY[EAST],
                "monitoringInterval": 60.0,
                "monitoringRoleArn": f"arn:aws:iam::{ACCOUNT}:role/sc-monitoring",
                "publiclyAccessible": False,
                "caCertIdentifier": "rds-ca-rsa2048-g1",
                "autoMinorVersionUpgrade": True,
            },
        )
    )
    table_common: dict[str, Any] = {
        "region": EAST,
        "hashKey": "id",
        "attributes": [{"name": "id", "type": "S"}],
        "pointInTimeRecovery": {"enabled": True},
        "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY[EAST]},
        "deletionProtectionEnabled": True,
        "streamEnabled": True,
        "streamViewType": "NEW_AND_OLD_IMAGES",
    }
    out.append(
        make(
            t.DYNAMODB_TABLE,
            "table-carts",
            {
                **table_common,
                "name": "sc-carts",
                "billingMode": "PAY_PER_REQUEST",
                "replicas": [
                    {
                        "regionName": WEST,
                        "kmsKeyArn": KEY[WEST],
                        "pointInTimeRecovery": True,
                        "propagateTags": True,
                        "deletionProtectionEnabled": True,
                    }
                ],
            },
            deps={"serverSideEncryption": ["key-us-east-1"], "replicas": ["key-us-west-2"]},
        )
    )
    out.append(
        make(
            t.DYNAMODB_TABLE,
            "table-sessions",
            {
                **table_common,
                "name": "sc-sessions",
                "billingMode": "PROVISIONED",
                "readCapacity": 5.0,
                "writeCapacity": 5.0,
            },
            deps={"serverSideEncryption": ["key-us-east-1"]},
        )
    )
    out.append(
        make(
            t.DYNAMODB_TABLE_REPLICA,
            "sessions-us-west-2",
            {
                "region": WEST,
                "globalTableArn": f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/sc-sessions",
                "kmsKeyArn": KEY[WEST],
                "pointInTimeRecovery": True,
                "deletionProtectionEnabled": True,
                "propagateTags": True,
            },
            deps={"globalTableArn": ["table-sessions"], "kmsKeyArn": ["key-us-west-2"]},
        )
    )
    for kind in ("Read", "Write"):
        out.append(
            make(
                t.AUTOSCALING_TARGET,
                f"sessions-{kind.lower()}",
                {
                    "region": EAST,
                    "serviceNamespace": "dynamodb",
                    "scalableDimension": f"dynamodb:table:{kind}CapacityUnits",
                    "resourceId": "table/sc-sessions",
                    "minCapacity": 5.0,
                    "maxCapacity": 50.0,
                },
            )
        )
    out.append(
        make(
            t.CACHE_REPLICATION_GROUP,
            "cache-us-east-1",
            {
                "region": EAST,
                "replicationGroupId": "sc-cache-us-east-1",
                "description": "product cache",
                "engine": "valkey",
                "engineVersion": "7.2",
                "nodeType": "cache.r6g.large",
                "numCacheClusters": 2.0,
                "automaticFailoverEnabled": True,
                "multiAzEnabled": True,
                "atRestEncryptionEnabled": True,
                "kmsKeyId": KEY[EAST],
                "transitEncryptionEnabled": True,
                "authToken": secret("token-0123456789abcdef"),
                "snapshotRetentionLimit": 7.0,
            },
            deps={"kmsKeyId": ["key-us-east-1"]},
        )
    )
    out.append(
        make(
            t.CACHE_GLOBAL_REPLICATION_GROUP,
            "cache-global",
            {
                "region": EAST,
                "globalReplicationGroupIdSuffix": "sc-cache",
                "primaryReplicationGroupId": "sc-cache-us-east-1",
                "cacheNodeType": "cache.r6g.large",
            },
            deps={"primaryReplicationGroupId": ["cache-us-east-1"]},
        )
    )
    out.append(
        make(
            t.CACHE_REPLICATION_GROUP,
            "cache-us-west-2",
            {
                "region": WEST,
                "replicationGroupId": "sc-cache-us-west-2",
                "description": "product cache",
                "globalReplicationGroupId": "ldgnf-sc-cache",
                "numCacheClusters": 2.0,
                "kmsKeyId": KEY[WEST],
            },
            deps={"globalReplicationGroupId": ["cache-global"], "kmsKeyId": ["key-us-west-2"]},
        )
    )
    for region in (EAST, WEST):
        out.append(
            make(
                t.SNS_TOPIC,
                f"alarms-{region}",
                {"region": region, "name": "sc-alarms", "kmsMasterKeyId": KEY[region]},
            )
        )
    out += [
        _alarm(
            "cpu-aurora-us-east-1",
            EAST,
            "AWS/RDS",
            "CPUUtilization",
            {"DBClusterIdentifier": f"sc-{EAST}"},
            80.0,
        ),
        _alarm(
            "cpu-aurora-us-west-2",
            WEST,
            "AWS/RDS",
            "CPUUtilization",
            {"DBClusterIdentifier": f"sc-{WEST}"},
            80.0,
        ),
        _alarm(
            "cpu-legacy",
            EAST,
            "AWS/RDS",
            "CPUUtilization",
            {"DBInstanceIdentifier": "sc-legacy"},
            75.0,
        ),
        _alarm(
            "cpu-cache-us-east-1",
            EAST,
            "AWS/ElastiCache",
            "EngineCPUUtilization",
            {"CacheClusterId": "sc-cache-us-east-1-001"},
            80.0,
        ),
        _alarm(
            "cpu-cache-us-west-2",
            WEST,
            "AWS/ElastiCache",
            "EngineCPUUtilization",
            {"CacheClusterId": "sc-cache-us-west-2-001"},
            80.0,
        ),
        _alarm(
            "lag-us-west-2",
            WEST,
            "AWS/RDS",
            "AuroraGlobalDBReplicationLag",
            {"DBClusterIdentifier": f"sc-{WEST}"},
            1000.0,
        ),
        *(
            _alarm(
                f"aurora-health-{region}",
                region,
                "AWS/RDS",
                "EngineUptime",
                {"DBClusterIdentifier": f"sc-{region}"},
                1.0,
            )
            for region in (EAST, WEST)
        ),
    ]
    for region in (EAST, WEST):
        out.append(
            make(
                t.ROUTE53_HEALTH_CHECK,
                f"health-{region}",
                {
                    "type": "CLOUDWATCH_METRIC",
                    "cloudwatchAlarmName": f"sc-aurora-health-{region}",
                    "cloudwatchAlarmRegion": region,
                    "insufficientDataHealthStatus": "Unhealthy",
                },
                deps={"cloudwatchAlarmName": [f"aurora-health-{region}"]},
            )
        )
    record = {"zoneId": "Z0123456789", "type": "CNAME", "ttl": 30.0}
    out.append(
        make(
            t.ROUTE53_RECORD,
            "writer",
            {
                **record,
                "name": "writer.data.securecart.internal",
                "records": ["sc-global.global-abc.global.rds.amazonaws.com"],
            },
            deps={"records": ["aurora-global"]},
        )
    )
    out.append(
        make(
            t.ROUTE53_RECORD,
            "cache",
            {
                **record,
                "name": "cache.data.securecart.internal",
                "records": [f"master.sc-cache-{EAST}.abc.{EAST}.cache.amazonaws.com"],
            },
            deps={"records": [f"cache-{EAST}"]},
        )
    )
    for region in (EAST, WEST):
        out.append(
            make(
                t.ROUTE53_RECORD,
                f"reader-{region}",
                {
                    **record,
                    "name": "reader.data.securecart.internal",
                    "setIdentifier": region,
                    "records": [f"sc-{region}.cluster-ro-abc.{region}.rds.amazonaws.com"],
                    "latencyRoutingPolicies": [{"region": region}],
                    "healthCheckId": f"hc-{region}",
                },
                deps={"healthCheckId": [f"health-{region}"], "records": [f"aurora-{region}"]},
            )
        )
    for region in (EAST, WEST):
        out.append(
            make(
                t.BACKUP_VAULT,
                f"vault-{region}",
                {"region": region, "name": f"sc-vault-{region}", "kmsKeyArn": KEY[region]},
            )
        )
    for region, other in ((EAST, WEST), (WEST, EAST)):
        out.append(
            make(
                t.BACKUP_PLAN,
                f"plan-{region}",
                {
                    "region": region,
                    "name": f"sc-plan-{region}",
                    "rules": [
                        {
                            "ruleName": "daily",
                            "targetVaultName": f"sc-vault-{region}",
                            "schedule": "cron(0 5 * * ? *)",
                            "lifecycle": {"deleteAfter": 35.0},
                            "copyActions": [
                                {
                                    "destinationVaultArn": f"arn:aws:backup:{other}:{ACCOUNT}:backup-vault:sc-vault-{other}",
                                    "lifecycle": {"deleteAfter": 35.0},
                                }
                            ],
                        }
                    ],
                },
                deps={"rules": [f"vault-{region}", f"vault-{other}"]},
            )
        )
    out.append(
        make(
            t.BUDGET,
            "budget",
            {
                "name": "sc-data-tier",
                "budgetType": "COST",
                "limitAmount": "3000.00",  # the golden stack estimates ~$1,800 a month
                "limitUnit": "USD",
                "timeUnit": "MONTHLY",
                "notifications": [
                    {
                        "comparisonOperator": "GREATER_THAN",
                        "notificationType": "ACTUAL",
                        "threshold": 80.0,
                        "thresholdType": "PERCENTAGE",
                        "subscriberEmailAddresses": ["data-platform@securecart.example"],
                    }
                ],
            },
        )
    )
    return out


# --- mutations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Computed:
    """Mutation values that depend on the resource and its stack (tried in order)."""

    values: Callable[[RecordedResource, Sequence[RecordedResource]], list[Any]]


@dataclass(frozen=True)
class Mutation:
    """A single-property change: set ``path`` (dotted, list indices as numbers) or delete it."""

    type: str
    path: str
    value: Any = DELETE
    where: Callable[[RecordedResource], bool] | None = None
    expect: str | None = None
    """Text the violation message must contain besides the resource name (default: ``path``)."""
    exact: bool = True
    """Whether this change should make only its own rule fire."""
    unknown_passes: bool = True
    """Whether the rule must pass when this property is unknown instead (false where merely
    setting the property is the violation, e.g. passing any password at all)."""

    @property
    def expected_text(self) -> str:
        return self.expect or self.path

    def matches(self, resource: RecordedResource) -> bool:
        return resource.type == self.type and (self.where is None or self.where(resource))

    def candidate_values(
        self, resource: RecordedResource, resources: Sequence[RecordedResource]
    ) -> list[Any]:
        if isinstance(self.value, Computed):
            return self.value.values(resource, resources)
        return [self.value]

    def describe(self, value: Any) -> str:
        shown = (
            "<deleted>"
            if value is DELETE
            else json.dumps(value)[:60]
            if not isinstance(value, str)
            else value[:60]
        )
        return f"{self.type.split(':')[1]}.{self.path}={shown}"


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set (or delete, for ``DELETE``) the value at a dotted path, creating no containers."""
    steps = path.split(".")
    current: Any = data
    for step in steps[:-1]:
        current = current[int(step)] if isinstance(current, list) else current[step]
    last = steps[-1]
    if isinstance(current, list):
        if value is DELETE:
            del current[int(last)]
        else:
            current[int(last)] = value
    elif value is DELETE:
        current.pop(last, None)
    else:
        current[last] = value


def mutate(resource: RecordedResource, path: str, value: Any) -> RecordedResource:
    """``resource`` with one property changed, as the program would record it.

    Replacing a whole top-level input with a literal also drops its property dependencies
    (a literal comes from nowhere), which is how a hard-coded password looks to the engine.
    """
    inputs = copy.deepcopy(resource.inputs)
    set_path(inputs, path, value)
    property_dependencies = dict(resource.property_dependencies)
    if "." not in path:
        property_dependencies.pop(path, None)
    return replace(resource, inputs=inputs, property_dependencies=property_dependencies)


def find(resources: Sequence[RecordedResource], mutation: Mutation) -> list[int]:
    """Indexes of the resources a mutation applies to."""
    return [i for i, r in enumerate(resources) if mutation.matches(r)]


def apply(
    resources: Sequence[RecordedResource], index: int, path: str, value: Any
) -> list[RecordedResource]:
    changed = list(resources)
    changed[index] = mutate(resources[index], path, value)
    return changed


# --- driving validate() as the policy server does --------------------------------------------------


def _wire(value: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs as the server sees them: JSON round trip, secrets unwrapped, unknowns proxied."""
    return unknown_checking_proxy(deserialize_properties(json.loads(json.dumps(value))))


def _opts(resource: RecordedResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=resource.parent,
    )


def _provider(
    resource: RecordedResource, by_urn: Mapping[str, RecordedResource]
) -> PolicyProviderResource | None:
    if not resource.provider:
        return None
    provider = by_urn.get(resource.provider.rsplit("::", 1)[0])
    if provider is None:
        return None
    return PolicyProviderResource(
        provider.type, _wire(provider.inputs), provider.urn, provider.name
    )


def resource_args(
    resource: RecordedResource,
    resources: Iterable[RecordedResource],
    config: Mapping[str, Any] | None = None,
) -> ResourceValidationArgs:
    by_urn = {r.urn: r for r in resources}
    return ResourceValidationArgs(
        resource.type,
        _wire(resource.inputs),
        resource.urn,
        resource.name,
        _opts(resource),
        _provider(resource, by_urn),
        dict(config) if config else None,
    )


def stack_args(
    resources: Sequence[RecordedResource], config: Mapping[str, Any] | None = None
) -> StackValidationArgs:
    by_urn = {r.urn: r for r in resources}
    policy_resources = {
        r.urn: PolicyResource(
            r.type, _wire(r.inputs), r.urn, r.name, _opts(r), _provider(r, by_urn), None, [], {}
        )
        for r in resources
    }
    for r in resources:
        pr = policy_resources[r.urn]
        pr.parent = policy_resources.get(r.parent or "")
        pr.dependencies = [policy_resources[u] for u in r.dependencies if u in policy_resources]
        pr.property_dependencies = {
            k: [policy_resources[u] for u in v if u in policy_resources]
            for k, v in r.property_dependencies.items()
        }
    return StackValidationArgs(list(policy_resources.values()), dict(config) if config else None)


def run_rule(
    rule: Rule,
    resources: Sequence[RecordedResource],
    target: RecordedResource | None = None,
    config: Mapping[str, Any] | None = None,
) -> list[str]:
    """Violation messages from the rule's pulumi_policy ``validate`` (stack rules ignore ``target``).

    For resource rules, ``target`` None means every resource of the stack.
    """
    messages: list[str] = []

    def report(message: str, _urn: str | None = None) -> None:
        messages.append(message)

    policy: Any = rule.policy
    if rule.kind == "stack":
        policy.validate(stack_args(resources, config), report)
        return messages
    for resource in [target] if target is not None else resources:
        policy.validate(resource_args(resource, resources, config), report)
    return messages


# --- the whole pack, fast ----------------------------------------------------------------------


def policy_infos(rules: Iterable[Rule] = ALL_RULES) -> list[PolicyInfo]:
    return [
        PolicyInfo(
            name=r.name,
            description=r.description,
            enforcement_level="mandatory",
            severity=r.severity.value,
            policy_type=r.kind,
            remediation_steps=r.remediation,
            config_schema={k: p.schema() for k, p in r.params.items()},
        )
        for r in rules
    ]


def reconciled(config: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per rule (level, properties) for a policy-config document, as the engine reconciles it."""
    return reconcile_config(policy_infos(), config)


Violation = tuple[str, str, str]
"""(rule name, urn or "", message)."""


@dataclass
class Evaluator:
    """The whole pack over a stack through the plain check functions, with cached baselines."""

    resources: list[RecordedResource]
    config: Mapping[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rules = [r for r in ALL_RULES if self.level(r.name) != "disabled"]
        self.resource_rules = [r for r in self.rules if r.kind == "resource"]
        self.stack_rules = [r for r in self.rules if r.kind == "stack"]
        self.views = self._views(self.resources)
        self.per_resource = {v.urn: self._resource_violations(v) for v in self.views}
        self.stack_violations = self._stack_violations(self.views)

    def level(self, name: str) -> str:
        return self.config[name][0] if name in self.config else "mandatory"

    def props(self, name: str) -> dict[str, Any] | None:
        return self.config[name][1] if name in self.config else None

    @staticmethod
    def _views(resources: Sequence[RecordedResource]) -> list[Res]:
        by_urn = {r.urn: r for r in resources}
        providers: dict[str, Res] = {}

        def provider_of(r: RecordedResource) -> Res | None:
            if not r.provider:
                return None
            purn = r.provider.rsplit("::", 1)[0]
            if purn not in providers and purn in by_urn:
                p = by_urn[purn]
                providers[purn] = Res(type=p.type, name=p.name, urn=p.urn, props=plain(p.inputs))
            return providers.get(purn)

        return [
            Res(
                type=r.type,
                name=r.name,
                urn=r.urn,
                props=plain(r.inputs),
                provider=provider_of(r),
                parent=r.parent,
                dependencies=frozenset(r.dependencies),
                property_dependencies={k: frozenset(v) for k, v in r.property_dependencies.items()},
            )
            for r in resources
        ]

    def _resource_violations(self, view: Res) -> set[Violation]:
        return {
            (rule.name, view.urn, message)
            for rule in self.resource_rules
            for message in rule.evaluate(view, self.props(rule.name))
        }

    def _stack_violations(self, views: Sequence[Res]) -> set[Violation]:
        stack = StackView(views)
        return {
            (rule.name, urn_ or "", message)
            for rule in self.stack_rules
            for message, urn_ in rule.evaluate_stack(stack, self.props(rule.name))
        }

    @property
    def baseline(self) -> set[Violation]:
        return set().union(*self.per_resource.values(), self.stack_violations)

    def violations(self, resources: Sequence[RecordedResource]) -> set[Violation]:
        """All violations of a (mutated) copy of the stack, reusing unchanged resources' results."""
        changed = {r.urn for r, old in zip(resources, self.resources, strict=True) if r is not old}
        provider_changed = any(r.type == t.AWS_PROVIDER for r in resources if r.urn in changed)
        if provider_changed:
            views = self._views(resources)
        else:
            fresh = {v.urn: v for v in self._views([r for r in resources if r.urn in changed])}
            providers = {v.provider.urn: v.provider for v in self.views if v.provider is not None}
            views = [
                replace(
                    fresh[v.urn], provider=providers.get(v.provider.urn) if v.provider else None
                )
                if v.urn in fresh
                else v
                for v in self.views
            ]
        found: set[Violation] = set()
        for view in views:
            if provider_changed or view.urn in changed:
                found |= self._resource_violations(view)
            else:
                found |= self.per_resource[view.urn]
        return found | self._stack_violations(views)

    def fired(self, resources: Sequence[RecordedResource]) -> dict[str, list[str]]:
        """Rule -> messages of the violations the change added to the baseline."""
        added = self.violations(resources) - self.baseline
        out: dict[str, list[str]] = {}
        for rule, _urn, message in sorted(added):
            out.setdefault(rule, []).append(message)
        return out


def rule(name: str) -> Rule:
    return RULES_BY_NAME[name]
