"""The compliant "golden" stack: a small two-region data tier every rule accepts by default.

Every guardrail has a resource here to break: the mutation cases (policy_cases.py) change one
property of one of these resources and expect exactly one rule to fire.
"""

from __future__ import annotations

import json
from typing import Any

from policies import access as ac
from policies import hardening as hd
from policies import neptune as nep
from policies import resource_types as t
from preflight.model import RecordedResource
from tests.policies.golden_redshift import REDSHIFT_SPECS, redshift_resources
from tests.policies.policy_support import (
    _NAMES,
    ACCOUNT,
    EAST,
    KEY,
    TAGS,
    WEST,
    make,
    secret,
    urn,
)

APP_CIDR = "10.100.0.0/16"
"""The application tier's CIDR (what ``security-group-data-ingress.allowedCidrs`` names)."""


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
        (t.RDS_INSTANCE, "legacy-postgres-replica"),
        (t.RDS_INSTANCE_BACKUPS_REPLICATION, "legacy-postgres-backups"),
        (nep.NEPTUNE_GLOBAL_CLUSTER, "fraud-global"),
        (nep.NEPTUNE_PARAMETER_GROUP, "fraud-params-us-east-1"),
        (nep.NEPTUNE_PARAMETER_GROUP, "fraud-params-us-west-2"),
        (nep.NEPTUNE_CLUSTER, "fraud-us-east-1"),
        (nep.NEPTUNE_CLUSTER, "fraud-us-west-2"),
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
        (t.METRIC_ALARM, "cpu-legacy-replica"),
        (t.METRIC_ALARM, "cpu-cache-us-east-1"),
        (t.METRIC_ALARM, "cpu-cache-us-west-2"),
        (t.METRIC_ALARM, "lag-us-west-2"),
        (t.METRIC_ALARM, "aurora-health-us-east-1"),
        (t.METRIC_ALARM, "aurora-health-us-west-2"),
        (t.ROUTE53_HEALTH_CHECK, "health-us-east-1"),
        (t.ROUTE53_HEALTH_CHECK, "health-us-west-2"),
        (t.ROUTE53_RECORD, "writer"),
        (t.ROUTE53_RECORD, "cache-us-east-1-001"),
        (t.ROUTE53_RECORD, "cache-us-west-2-001"),
        (t.ROUTE53_ZONE, "dns-zone"),
        ("aws:ec2/routeTable:RouteTable", "data-routes-us-east-1"),
        ("aws:ec2/routeTable:RouteTable", "data-routes-us-west-2"),
        (t.VPC_PEERING, "peer-us-east-1"),
        (t.VPC_PEERING, "peer-us-west-2"),
        (t.VPC_PEERING_ACCEPTER, "peer-accept-us-west-2"),
        (t.ROUTE53_RECORD, "reader-us-east-1"),
        (t.ROUTE53_RECORD, "reader-us-west-2"),
        (t.BACKUP_VAULT, "vault-us-east-1"),
        (t.BACKUP_VAULT, "vault-us-west-2"),
        (t.BACKUP_PLAN, "plan-us-east-1"),
        (t.BACKUP_PLAN, "plan-us-west-2"),
        (t.BUDGET, "budget"),
        (t.SNS_SUBSCRIPTION, "alarms-us-east-1-email"),
        (t.SNS_SUBSCRIPTION, "alarms-us-west-2-email"),
        (t.BACKUP_SELECTION, "selection-us-east-1"),
        (t.BACKUP_SELECTION, "selection-us-west-2"),
        (t.BACKUP_REGION_SETTINGS, "backup-settings-us-east-1"),
        (t.SECRET, "master-secret"),
        (t.SECRET_ROTATION, "master-secret-rotation"),
        (t.VPC, "vpc-us-east-1"),
        (t.VPC, "vpc-us-west-2"),
        (t.SECURITY_GROUP, "db-sg-us-east-1"),
        (t.SECURITY_GROUP, "db-sg-us-west-2"),
        (t.SECURITY_GROUP_INGRESS_RULE, "cache-ingress-us-east-1"),
        (t.SECURITY_GROUP_RULE, "cache-ingress-us-west-2"),
        (t.LOG_GROUP, "flow-logs-us-east-1"),
        (t.LOG_GROUP, "flow-logs-us-west-2"),
        (t.FLOW_LOG, "flow-log-us-east-1"),
        (t.FLOW_LOG, "flow-log-us-west-2"),
        *CONTROL_SPECS,
        *REDSHIFT_SPECS,
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
                        {"name": "log_statement", "value": "ddl"},
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
    # Its cross-region read replica (rds-instance-cross-region-replica) and its automated backups
    # replicated to the other region under that region's key (rds-instance-backup-replication).
    out.append(
        make(
            t.RDS_INSTANCE,
            "legacy-postgres-replica",
            {
                "region": WEST,
                "identifier": "sc-legacy-replica",
                "replicateSourceDb": f"arn:aws:rds:{EAST}:{ACCOUNT}:db:sc-legacy",
                "instanceClass": "db.r6g.large",
                "allocatedStorage": 100.0,
                "maxAllocatedStorage": 500.0,
                "storageType": "gp3",
                "storageEncrypted": True,
                "kmsKeyId": KEY[WEST],
                "multiAz": True,
                "deletionProtection": True,
                "iamDatabaseAuthenticationEnabled": True,
                "enabledCloudwatchLogsExports": ["postgresql", "upgrade"],
                "copyTagsToSnapshot": True,
                "finalSnapshotIdentifier": "sc-legacy-replica-final",
                "performanceInsightsEnabled": True,
                "performanceInsightsKmsKeyId": KEY[WEST],
                "monitoringInterval": 60.0,
                "monitoringRoleArn": f"arn:aws:iam::{ACCOUNT}:role/sc-monitoring",
                "publiclyAccessible": False,
                "caCertIdentifier": "rds-ca-rsa2048-g1",
                "autoMinorVersionUpgrade": True,
            },
            deps={"replicateSourceDb": ["legacy-postgres"]},
        )
    )
    out.append(
        make(
            t.RDS_INSTANCE_BACKUPS_REPLICATION,
            "legacy-postgres-backups",
            {
                "region": WEST,
                "sourceDbInstanceArn": f"arn:aws:rds:{EAST}:{ACCOUNT}:db:sc-legacy",
                "kmsKeyId": KEY[WEST],
                "retentionPeriod": 7.0,
            },
            deps={"sourceDbInstanceArn": ["legacy-postgres"]},
        )
    )
    # The fraud graph (issue 20): a Neptune global database with a cluster per region, each on
    # its region's CMK, with IAM auth, backups, audit logs (exported and turned on by its
    # parameter group), deletion protection and tags copied to snapshots.
    out.append(
        make(
            nep.NEPTUNE_GLOBAL_CLUSTER,
            "fraud-global",
            {
                "region": EAST,
                "globalClusterIdentifier": "sc-fraud",
                "engine": "neptune",
                "engineVersion": "1.3.2.1",
                "storageEncrypted": True,
                "deletionProtection": True,
            },
        )
    )
    for region in (EAST, WEST):
        out.append(
            make(
                nep.NEPTUNE_PARAMETER_GROUP,
                f"fraud-params-{region}",
                {
                    "region": region,
                    "name": f"sc-fraud-{region}",
                    "family": "neptune1.3",
                    "parameters": [{"name": "neptune_enable_audit_log", "value": "1"}],
                },
            )
        )
        out.append(
            make(
                nep.NEPTUNE_CLUSTER,
                f"fraud-{region}",
                {
                    "region": region,
                    "clusterIdentifier": f"sc-fraud-{region}",
                    "engine": "neptune",
                    "engineVersion": "1.3.2.1",
                    "globalClusterIdentifier": "sc-fraud",
                    "neptuneClusterParameterGroupName": f"sc-fraud-{region}",
                    "storageEncrypted": True,
                    "kmsKeyArn": KEY[region],
                    "backupRetentionPeriod": 7.0,
                    "iamDatabaseAuthenticationEnabled": True,
                    "enableCloudwatchLogsExports": ["audit"],
                    "deletionProtection": True,
                    "copyTagsToSnapshot": True,
                    "skipFinalSnapshot": False,
                    "finalSnapshotIdentifier": f"sc-fraud-{region}-final",
                },
                deps={
                    "globalClusterIdentifier": ["fraud-global"],
                    "neptuneClusterParameterGroupName": [f"fraud-params-{region}"],
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
                # AWS's own value on global datastore members (components/day_two.py).
                "autoMinorVersionUpgrade": False,
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
                "autoMinorVersionUpgrade": False,
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
            "cpu-legacy-replica",
            WEST,
            "AWS/RDS",
            "CPUUtilization",
            {"DBInstanceIdentifier": "sc-legacy-replica"},
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
                    "triggers": {"threshold": "1", "period": "60"},
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
    # cache.<zone>: a weighted record per region to its own primary endpoint, guarded by a
    # health check (here the region's Aurora one stands in for the role-following check).
    for region in (EAST, WEST):
        out.append(
            make(
                t.ROUTE53_RECORD,
                f"cache-{region}-001",
                {
                    **record,
                    "name": "cache.data.securecart.internal",
                    "setIdentifier": f"{region}-001",
                    "records": [f"master.sc-cache-{region}.abc.{region}.cache.amazonaws.com"],
                    "weightedRoutingPolicies": [{"weight": 1.0}],
                    "healthCheckId": f"hc-{region}",
                },
                deps={"healthCheckId": [f"health-{region}"], "records": [f"cache-{region}"]},
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
                    **({"tags": {"BackupRegionSettings": "account"}} if region == WEST else {}),
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
                "limitAmount": "3500.00",  # the golden stack estimates ~$3,100 a month (every store)
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
    out += _golden_extras()
    return out


def _golden_extras() -> list[RecordedResource]:
    """Alarm subscribers, backup selections, a rotated secret and the network with flow logs."""
    out: list[RecordedResource] = []
    for region in (EAST, WEST):
        out.append(
            make(
                t.SNS_SUBSCRIPTION,
                f"alarms-{region}-email",
                {
                    "region": region,
                    "topic": f"arn:aws:sns:{region}:{ACCOUNT}:sc-alarms",
                    "protocol": "email",
                    "endpoint": "oncall@securecart.example",
                },
                deps={"topic": [f"alarms-{region}"]},
            )
        )
    selected = {
        EAST: [
            f"arn:aws:rds:{EAST}:{ACCOUNT}:cluster:sc-{EAST}",
            f"arn:aws:rds:{EAST}:{ACCOUNT}:db:sc-legacy",
            f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/sc-carts",
            f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/sc-sessions",
        ],
        WEST: [
            f"arn:aws:rds:{WEST}:{ACCOUNT}:cluster:sc-{WEST}",
            f"arn:aws:dynamodb:{WEST}:{ACCOUNT}:table/sc-carts",
            f"arn:aws:dynamodb:{WEST}:{ACCOUNT}:table/sc-sessions",
        ],
    }
    for region, resources in selected.items():
        out.append(
            make(
                t.BACKUP_SELECTION,
                f"selection-{region}",
                {
                    "region": region,
                    "name": f"sc-data-{region}",
                    "planId": f"plan-{region}-id",
                    "iamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/sc-backup",
                    "resources": resources,
                },
                deps={"planId": [f"plan-{region}"]},
            )
        )
    # Advanced DynamoDB backup, which the plans' cross-region copies of the tables need: managed
    # in us-east-1; us-west-2's plan says the account owns it there (tag BackupRegionSettings).
    out.append(
        make(
            t.BACKUP_REGION_SETTINGS,
            f"backup-settings-{EAST}",
            {
                "region": EAST,
                "resourceTypeOptInPreference": {"Aurora": True, "DynamoDB": True, "RDS": True},
                "resourceTypeManagementPreference": {"DynamoDB": True, "EFS": True},
            },
        )
    )
    out.append(
        make(
            t.SECRET,
            "master-secret",
            {
                "region": EAST,
                "name": "sc/aurora/master",
                "kmsKeyId": KEY[EAST],
                "recoveryWindowInDays": 30.0,
                "replicas": [{"region": WEST, "kmsKeyId": KEY[WEST]}],
            },
            deps={"kmsKeyId": ["key-us-east-1"], "replicas": ["key-us-west-2"]},
        )
    )
    out.append(
        make(
            t.SECRET_ROTATION,
            "master-secret-rotation",
            {
                "region": EAST,
                "secretId": f"arn:aws:secretsmanager:{EAST}:{ACCOUNT}:secret:sc/aurora/master-abc123",
                "rotationLambdaArn": f"arn:aws:lambda:{EAST}:{ACCOUNT}:function:sc-rotation",
                "rotationRules": {"automaticallyAfterDays": 30.0},
                "rotateImmediately": False,
            },
            deps={"secretId": ["master-secret"]},
        )
    )
    for region, cidr in ((EAST, "10.16.0.0/16"), (WEST, "10.18.0.0/16")):
        out.append(
            make(
                t.VPC,
                f"vpc-{region}",
                {"region": region, "cidrBlock": cidr, "enableDnsSupport": True},
            )
        )
        out.append(
            make(
                t.SECURITY_GROUP,
                f"db-sg-{region}",
                {
                    "region": region,
                    "name": f"sc-db-{region}",
                    "description": "Aurora from the application tier only",
                    "vpcId": f"vpc-{region}-id",
                    "ingress": [
                        {
                            "protocol": "tcp",
                            "fromPort": 5432.0,
                            "toPort": 5432.0,
                            "cidrBlocks": [APP_CIDR],
                        }
                    ],
                    "egress": [],
                },
                deps={"vpcId": [f"vpc-{region}"]},
            )
        )
        out.append(
            make(
                t.LOG_GROUP,
                f"flow-logs-{region}",
                {
                    "region": region,
                    "name": f"/sc/vpc-flow-logs/{region}",
                    "kmsKeyId": KEY[region],
                    "retentionInDays": 365.0,
                },
            )
        )
        out.append(
            make(
                t.FLOW_LOG,
                f"flow-log-{region}",
                {
                    "region": region,
                    "vpcId": f"vpc-{region}-id",
                    "trafficType": "ALL",
                    "logDestinationType": "cloud-watch-logs",
                    "logDestination": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/sc/vpc-flow-logs/{region}",
                    "iamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/sc-flow-logs",
                },
                deps={"vpcId": [f"vpc-{region}"], "logDestination": [f"flow-logs-{region}"]},
            )
        )
    out.append(
        make(
            t.SECURITY_GROUP_INGRESS_RULE,
            "cache-ingress-us-east-1",
            {
                "region": EAST,
                "securityGroupId": "sg-cache-east",
                "ipProtocol": "tcp",
                "fromPort": 6379.0,
                "toPort": 6379.0,
                "cidrIpv4": APP_CIDR,
            },
        )
    )
    out.append(
        make(
            t.SECURITY_GROUP_RULE,
            "cache-ingress-us-west-2",
            {
                "region": WEST,
                "type": "ingress",
                "securityGroupId": "sg-cache-west",
                "protocol": "tcp",
                "fromPort": 6379.0,
                "toPort": 6379.0,
                "cidrBlocks": [APP_CIDR],
            },
        )
    )
    out += _app_path()
    out += control_resources()
    out += redshift_resources()
    return out


APP_VPC = "vpc-0a1b2c3d"
"""The application VPC of the golden stack (in us-east-1, inside APP_CIDR)."""


def _app_path() -> list[RecordedResource]:
    """The private zone, associated with both data VPCs and one application VPC, and the path
    components/peering.py builds: a peering per data region (accepted in us-east-1 when
    requested from us-west-2), a route each way."""
    out = [
        make(
            t.ROUTE53_ZONE,
            "dns-zone",
            {
                "name": "data.securecart.internal",
                "vpcs": [
                    {"vpcId": f"vpc-{EAST}-id", "vpcRegion": EAST},
                    {"vpcId": APP_VPC, "vpcRegion": EAST},
                    {"vpcId": f"vpc-{WEST}-id", "vpcRegion": WEST},
                ],
            },
            deps={"vpcs": [f"vpc-{EAST}", f"vpc-{WEST}"]},
        )
    ]
    for region in (EAST, WEST):
        out.append(
            make(
                "aws:ec2/routeTable:RouteTable",
                f"data-routes-{region}",
                {"region": region, "vpcId": f"vpc-{region}-id"},
                deps={"vpcId": [f"vpc-{region}"]},
            )
        )
        same = region == EAST
        out.append(
            make(
                t.VPC_PEERING,
                f"peer-{region}",
                {
                    "region": region,
                    "vpcId": f"vpc-{region}-id",
                    "peerVpcId": APP_VPC,
                    **({"autoAccept": True} if same else {"peerRegion": EAST}),
                },
                deps={"vpcId": [f"vpc-{region}"]},
            )
        )
        via = f"peer-{region}" if same else "peer-accept-us-west-2"
        if not same:
            out.append(
                make(
                    t.VPC_PEERING_ACCEPTER,
                    "peer-accept-us-west-2",
                    {"region": EAST, "vpcPeeringConnectionId": "pcx-west", "autoAccept": True},
                    deps={"vpcPeeringConnectionId": [f"peer-{region}"]},
                )
            )
        out.append(
            make(
                t.ROUTE,
                f"route-{region}-to-app",
                {
                    "region": region,
                    "routeTableId": f"rtb-{region}",
                    "destinationCidrBlock": "10.100.0.0/17",
                    "vpcPeeringConnectionId": f"pcx-{region}",
                },
                deps={"routeTableId": [f"data-routes-{region}"], "vpcPeeringConnectionId": [via]},
            )
        )
        out.append(
            make(
                t.ROUTE,
                f"route-app-to-{region}",
                {
                    "region": EAST,
                    "routeTableId": "rtb-0a1b2c3d",
                    "destinationCidrBlock": "10.16.0.0/16" if same else "10.18.0.0/16",
                    "vpcPeeringConnectionId": f"pcx-{region}",
                },
                deps={"vpcPeeringConnectionId": [via]},
            )
        )
    return out


ROTATION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/sc-rotation"
SECRET_ARN = f"arn:aws:secretsmanager:{EAST}:{ACCOUNT}:secret:sc/aurora/master-abc123"

CONTROL_SPECS: list[tuple[str, str]] = [
    (ac.IAM_ROLE, "rotation-role"),
    (ac.IAM_ROLE_POLICY, "rotation-policy"),
    (t.LAMBDA_FUNCTION, "rotation"),
    (ac.LAMBDA_PERMISSION, "rotation-invoke"),
    (hd.SUBNET, "subnet-us-east-1a"),
    (hd.SUBNET, "subnet-us-west-2a"),
    (t.DEFAULT_SECURITY_GROUP, "default-sg-us-east-1"),
    (hd.ROUTE53_ZONE, "zone"),
]
"""The resources the access and hardening rules (issue 19) judge, as the stack writes them."""


def control_resources() -> list[RecordedResource]:
    """A rotation function with its role, policy and permission, subnets, a closed default
    security group and a private zone: what the stack writes, least privilege throughout."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ],
    }
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
                "Resource": SECRET_ARN,
            },
            {"Effect": "Allow", "Action": "secretsmanager:GetRandomPassword", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": KEY[EAST],
            },
        ],
    }
    out = [
        make(
            ac.IAM_ROLE,
            "rotation-role",
            {"name": "sc-rotation", "assumeRolePolicy": json.dumps(trust)},
        ),
        make(
            ac.IAM_ROLE_POLICY,
            "rotation-policy",
            {"role": "sc-rotation", "policy": json.dumps(policy)},
            deps={"role": ["rotation-role"]},
        ),
        make(
            t.LAMBDA_FUNCTION,
            "rotation",
            {
                "region": EAST,
                "name": "sc-rotation",
                "runtime": "python3.12",
                "handler": "secret_rotation.handler",
                "role": ROTATION_ROLE,
            },
            deps={"role": ["rotation-role"]},
        ),
        make(
            ac.LAMBDA_PERMISSION,
            "rotation-invoke",
            {
                "region": EAST,
                "function": "sc-rotation",
                "action": "lambda:InvokeFunction",
                "principal": "secretsmanager.amazonaws.com",
                "sourceArn": SECRET_ARN,
            },
            deps={"function": ["rotation"], "sourceArn": ["master-secret"]},
        ),
        make(
            t.DEFAULT_SECURITY_GROUP,
            "default-sg-us-east-1",
            {"region": EAST, "vpcId": f"vpc-{EAST}-id", "ingress": [], "egress": []},
            deps={"vpcId": [f"vpc-{EAST}"]},
        ),
        make(
            hd.ROUTE53_ZONE,
            "zone",
            {
                "name": "data.sc.internal",
                "vpcs": [
                    {"vpcId": f"vpc-{EAST}-id", "vpcRegion": EAST},
                    {"vpcId": f"vpc-{WEST}-id", "vpcRegion": WEST},
                ],
            },
        ),
    ]
    for region, cidr in ((EAST, "10.16.0.0/20"), (WEST, "10.18.0.0/20")):
        out.append(
            make(
                hd.SUBNET,
                f"subnet-{region}a",
                {
                    "region": region,
                    "vpcId": f"vpc-{region}-id",
                    "cidrBlock": cidr,
                    "availabilityZone": f"{region}a",
                    "mapPublicIpOnLaunch": False,
                },
                deps={"vpcId": [f"vpc-{region}"]},
            )
        )
    return out
