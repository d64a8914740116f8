"""Per rule: the single-property changes that must make it fire, and a config override.

The same mutations serve the golden-stack tests (first matching resource) and the mutation test
of the recorded stacks (every matching resource), so they are written by type and predicate,
not by resource name.
"""

from __future__ import annotations

from dataclasses import replace

from policies import resource_types as t
from tests.policies.mutations import (
    PRIMARY_CACHE,
    PRIMARY_CLUSTER,
    PUBLIC_POLICY,
    SECONDARY_CACHE,
    SECONDARY_CLUSTER,
    Case,
    Override,
    _alarm,
    _dns,
    _eq,
    _has,
    _lacks,
    _latency,
    _metric_check,
    _other_region,
    _same_region_vault,
    _sibling_zones,
    _source_identifier,
    _source_instance_region,
    _tags,
)
from tests.policies.policy_cases_controls import CONTROL_CASES
from tests.policies.policy_cases_effect import INEFFECTIVE, NEW_CASES
from tests.policies.policy_cases_neptune import NEPTUNE_CASES
from tests.policies.policy_cases_redshift import REDSHIFT_CASES
from tests.policies.policy_support import DELETE, Computed, Mutation

M = Mutation
_BASE: dict[str, Case] = {
    # --- multi_az ---------------------------------------------------------------------------------
    "rds-multi-az": Case(
        (
            M(
                t.RDS_CLUSTER_INSTANCE,
                "availabilityZone",
                Computed(_sibling_zones),
                expect="availabilityZone",
            ),
            M(t.RDS_INSTANCE, "multiAz", False),
        ),
        (Override({"minInstances": 3}), Override({"minAvailabilityZones": 3})),
    ),
    "elasticache-automatic-failover": Case(
        (
            M(t.CACHE_REPLICATION_GROUP, "automaticFailoverEnabled", False, where=PRIMARY_CACHE),
            M(t.CACHE_REPLICATION_GROUP, "automaticFailoverEnabled", False, where=SECONDARY_CACHE),
        )
    ),
    "elasticache-multi-az": Case(
        (
            M(t.CACHE_REPLICATION_GROUP, "multiAzEnabled", False, where=PRIMARY_CACHE),
            M(t.CACHE_REPLICATION_GROUP, "numCacheClusters", 1.0),
            M(t.CACHE_REPLICATION_GROUP, "numCacheClusters", DELETE),
        ),
        (Override({"minNodes": 3}),),
    ),
    # --- backups ----------------------------------------------------------------------------------
    "rds-backup-retention": Case(
        (
            M(t.RDS_CLUSTER, "backupRetentionPeriod", 1.0),
            M(t.RDS_CLUSTER, "backupRetentionPeriod", DELETE),
            M(t.RDS_INSTANCE, "backupRetentionPeriod", 36.0),
        ),
        (
            Override({"minDays": 8}),
            Override({"minDays": 1}, M(t.RDS_CLUSTER, "backupRetentionPeriod", 1.0), fires=False),
        ),
    ),
    "rds-instance-backup-replication": Case(
        (
            M(t.RDS_INSTANCE_BACKUPS_REPLICATION, "kmsKeyId", DELETE),
            M(t.RDS_INSTANCE_BACKUPS_REPLICATION, "retentionPeriod", 3.0),
            M(
                t.RDS_INSTANCE_BACKUPS_REPLICATION,
                "region",
                Computed(_source_instance_region),
                exact=False,
            ),
        ),
        (
            Override({"minRetentionDays": 8}),
            Override(
                {"minRetentionDays": 3},
                M(t.RDS_INSTANCE_BACKUPS_REPLICATION, "retentionPeriod", 3.0),
                fires=False,
            ),
        ),
    ),
    "rds-instance-cross-region-replica": Case(
        (
            M(
                t.RDS_INSTANCE,
                "replicateSourceDb",
                Computed(_source_identifier),
                where=_has("replicateSourceDb"),
            ),
            M(
                t.RDS_INSTANCE,
                "region",
                Computed(_source_instance_region),
                where=_has("replicateSourceDb"),
                exact=False,
            ),
        ),
    ),
    "rds-final-snapshot": Case(
        (
            M(t.RDS_CLUSTER, "skipFinalSnapshot", True),
            M(t.RDS_CLUSTER, "finalSnapshotIdentifier", DELETE),
            M(t.RDS_INSTANCE, "skipFinalSnapshot", True),
        ),
        (
            Override(
                {"requireIdentifier": False},
                M(t.RDS_CLUSTER, "finalSnapshotIdentifier", DELETE),
                fires=False,
            ),
        ),
    ),
    "rds-copy-tags-to-snapshot": Case(
        (
            M(t.RDS_CLUSTER, "copyTagsToSnapshot", False),
            M(t.RDS_CLUSTER_INSTANCE, "copyTagsToSnapshot", False),
            M(t.RDS_INSTANCE, "copyTagsToSnapshot", DELETE),
        )
    ),
    "dynamodb-table-pitr": Case(
        (
            M(t.DYNAMODB_TABLE, "pointInTimeRecovery.enabled", False),
            M(t.DYNAMODB_TABLE, "pointInTimeRecovery", DELETE),
            M(t.DYNAMODB_TABLE, "pointInTimeRecovery.recoveryPeriodInDays", 3.0),
        ),
        (
            Override(
                {"minRecoveryPeriodDays": 2},
                M(t.DYNAMODB_TABLE, "pointInTimeRecovery.recoveryPeriodInDays", 3.0),
                fires=False,
            ),
        ),
    ),
    "dynamodb-replica-pitr": Case(
        (
            M(
                t.DYNAMODB_TABLE,
                "replicas.0.pointInTimeRecovery",
                False,
                where=_has("replicas"),
                expect="replicas[0].pointInTimeRecovery",
            ),
            M(t.DYNAMODB_TABLE_REPLICA, "pointInTimeRecovery", DELETE),
        )
    ),
    "elasticache-snapshot-retention": Case(
        (M(t.CACHE_REPLICATION_GROUP, "snapshotRetentionLimit", 0.0, where=PRIMARY_CACHE),),
        (
            Override({"minDays": 8}),
            Override(
                {"exemptGlobalSecondaries": False},
                M(
                    t.CACHE_REPLICATION_GROUP,
                    "snapshotRetentionLimit",
                    DELETE,
                    where=SECONDARY_CACHE,
                ),
                fires=True,
            ),
        ),
    ),
    "backup-plan-frequency-retention": Case(
        (
            M(t.BACKUP_PLAN, "rules.0.schedule", "cron(0 5 ? * SUN *)", expect="rules[0].schedule"),
            M(t.BACKUP_PLAN, "rules.0.schedule", "every day", expect="rules[0].schedule"),
            M(
                t.BACKUP_PLAN,
                "rules.0.lifecycle.deleteAfter",
                1.0,
                expect="rules[0].lifecycle.deleteAfter",
            ),
            M(
                t.BACKUP_PLAN,
                "rules.0.copyActions.0.lifecycle.deleteAfter",
                1.0,
                expect="copyActions[0].lifecycle.deleteAfter",
            ),
        ),
        (
            Override(
                {"maxIntervalHours": 168},
                M(t.BACKUP_PLAN, "rules.0.schedule", "cron(0 5 ? * SUN *)"),
                fires=False,
            ),
            Override({"minRetentionDays": 90}),
            Override({"minCopyRetentionDays": 90}),
            Override(
                {"minCopyRetentionDays": 1},
                M(t.BACKUP_PLAN, "rules.0.copyActions.0.lifecycle.deleteAfter", 1.0),
                fires=False,
            ),
        ),
    ),
    "backup-cross-region-copy": Case(
        (
            M(t.BACKUP_PLAN, "rules.0.copyActions", [], expect="rules[0].copyActions"),
            M(
                t.BACKUP_PLAN,
                "rules.0.copyActions.0.destinationVaultArn",
                Computed(_same_region_vault),
                expect="rules[0].copyActions",
            ),
        )
    ),
    "backup-dynamodb-copy-region-settings": Case(
        (
            M(
                t.BACKUP_REGION_SETTINGS,
                "resourceTypeManagementPreference.DynamoDB",
                False,
                expect="resourceTypeManagementPreference.DynamoDB",
            ),
            M(
                t.BACKUP_REGION_SETTINGS,
                "resourceTypeOptInPreference.DynamoDB",
                DELETE,
                expect="resourceTypeManagementPreference.DynamoDB",
            ),
            # a stack that leaves the setting to the account says so on its plans
            M(
                t.BACKUP_PLAN,
                "tags.BackupRegionSettings",
                DELETE,
                where=lambda r: "BackupRegionSettings" in (r.inputs.get("tags") or {}),
                expect="resourceTypeManagementPreference.DynamoDB",
            ),
        ),
    ),
    # --- encryption -------------------------------------------------------------------------------
    "rds-storage-encrypted": Case(
        (
            M(t.RDS_CLUSTER, "storageEncrypted", False),
            M(t.RDS_CLUSTER, "storageEncrypted", DELETE),
            M(t.RDS_INSTANCE, "storageEncrypted", False),
        )
    ),
    "rds-cmk": Case((M(t.RDS_CLUSTER, "kmsKeyId", DELETE), M(t.RDS_INSTANCE, "kmsKeyId", ""))),
    "rds-global-cluster-encrypted": Case(
        (
            M(t.RDS_GLOBAL_CLUSTER, "storageEncrypted", False),
            M(t.RDS_GLOBAL_CLUSTER, "storageEncrypted", DELETE),
        )
    ),
    "rds-performance-insights-encrypted": Case(
        (
            M(t.RDS_CLUSTER_INSTANCE, "performanceInsightsKmsKeyId", DELETE),
            M(t.RDS_INSTANCE, "performanceInsightsKmsKeyId", DELETE),
        )
    ),
    "rds-iam-auth": Case(
        (
            M(t.RDS_CLUSTER, "iamDatabaseAuthenticationEnabled", False),
            M(t.RDS_INSTANCE, "iamDatabaseAuthenticationEnabled", DELETE),
        )
    ),
    "rds-not-publicly-accessible": Case(
        (
            M(t.RDS_CLUSTER_INSTANCE, "publiclyAccessible", True),
            M(t.RDS_INSTANCE, "publiclyAccessible", True),
        )
    ),
    "rds-master-password-not-literal": Case(
        (
            M(t.RDS_CLUSTER, "masterPassword", "hunter2-hunter2", where=PRIMARY_CLUSTER),
            M(t.RDS_CLUSTER, "masterPassword", "hunter2-hunter2", where=SECONDARY_CLUSTER),
            # The source of a cross-region replica: a generated password is its only option.
            M(t.RDS_INSTANCE, "password", "hunter2-hunter2", where=_lacks("replicateSourceDb")),
            # A plain instance (here a replica) passes no password at all.
            M(
                t.RDS_INSTANCE,
                "password",
                "hunter2-hunter2",
                where=_has("replicateSourceDb"),
                unknown_passes=False,
            ),
        )
    ),
    "rds-force-ssl": Case(
        (
            M(t.RDS_CLUSTER_PARAMETER_GROUP, "parameters.0.value", "0", expect="rds.force_ssl"),
            # no parameters at all: TLS and DDL logging both go (rds-ddl-logging fires too)
            M(t.RDS_CLUSTER_PARAMETER_GROUP, "parameters", [], expect="parameters", exact=False),
            M(t.RDS_CLUSTER, "dbClusterParameterGroupName", DELETE),
            M(t.RDS_CLUSTER, "dbClusterParameterGroupName", "default.aurora-postgresql16"),
        )
    ),
    "rds-ca-certificate": Case(
        (
            M(t.RDS_CLUSTER_INSTANCE, "caCertIdentifier", "rds-ca-2019"),
            M(t.RDS_INSTANCE, "caCertIdentifier", "rds-ca-2015"),
        ),
        (
            Override(
                {"allowed": ["rds-ca-2019", "rds-ca-rsa2048-g1"]},
                M(t.RDS_CLUSTER_INSTANCE, "caCertIdentifier", "rds-ca-2019"),
                fires=False,
            ),
        ),
    ),
    "dynamodb-table-cmk": Case(
        (
            M(t.DYNAMODB_TABLE, "serverSideEncryption.kmsKeyArn", DELETE),
            M(t.DYNAMODB_TABLE, "serverSideEncryption", DELETE),
            M(t.DYNAMODB_TABLE, "serverSideEncryption.enabled", False),
        )
    ),
    "dynamodb-replica-cmk": Case(
        (
            M(
                t.DYNAMODB_TABLE,
                "replicas.0.kmsKeyArn",
                DELETE,
                where=_has("replicas"),
                expect="replicas[0].kmsKeyArn",
            ),
            M(t.DYNAMODB_TABLE_REPLICA, "kmsKeyArn", DELETE),
        )
    ),
    "elasticache-at-rest-encryption": Case(
        (
            M(t.CACHE_REPLICATION_GROUP, "atRestEncryptionEnabled", False, where=PRIMARY_CACHE),
            M(t.CACHE_REPLICATION_GROUP, "atRestEncryptionEnabled", False, where=SECONDARY_CACHE),
        )
    ),
    "elasticache-cmk": Case(
        (M(t.CACHE_REPLICATION_GROUP, "kmsKeyId", DELETE),),
        (
            Override(
                {"requireOnSecondary": False},
                M(t.CACHE_REPLICATION_GROUP, "kmsKeyId", DELETE, where=SECONDARY_CACHE),
                fires=False,
            ),
        ),
    ),
    "elasticache-in-transit-encryption": Case(
        (
            M(t.CACHE_REPLICATION_GROUP, "transitEncryptionEnabled", False, where=PRIMARY_CACHE),
            M(t.CACHE_REPLICATION_GROUP, "transitEncryptionEnabled", DELETE, where=PRIMARY_CACHE),
        )
    ),
    "elasticache-auth": Case(
        (M(t.CACHE_REPLICATION_GROUP, "authToken", DELETE, where=PRIMARY_CACHE),)
    ),
    "kms-key-rotation": Case(
        (
            M(t.KMS_KEY, "enableKeyRotation", False),
            M(t.KMS_KEY, "enableKeyRotation", DELETE),
            M(t.KMS_KEY, "rotationPeriodInDays", 730.0),
        ),
        (
            Override(
                {"maxRotationPeriodDays": 730},
                M(t.KMS_KEY, "rotationPeriodInDays", 730.0),
                fires=False,
            ),
        ),
    ),
    "kms-key-deletion-window": Case(
        (
            M(t.KMS_KEY, "deletionWindowInDays", Computed(lambda _r, _s: [7.0, 6.0])),
            M(t.KMS_REPLICA_KEY, "deletionWindowInDays", Computed(lambda _r, _s: [7.0, 6.0])),
        ),
        (Override({"minDays": 7}, M(t.KMS_KEY, "deletionWindowInDays", 7.0), fires=False),),
    ),
    "kms-key-enabled": Case(
        (M(t.KMS_KEY, "isEnabled", False), M(t.KMS_REPLICA_KEY, "enabled", False))
    ),
    "kms-key-policy-no-public-principal": Case(
        (
            M(t.KMS_KEY, "policy", PUBLIC_POLICY, expect="Principal"),
            M(t.KMS_REPLICA_KEY, "policy", PUBLIC_POLICY, expect="Principal"),
            M(t.KMS_KEY, "policy", "{not json", expect="policy"),
        )
    ),
    "sns-topic-encrypted": Case(
        (
            M(t.SNS_TOPIC, "kmsMasterKeyId", DELETE),
            M(t.SNS_TOPIC, "kmsMasterKeyId", "alias/aws/sns"),
        ),
        (
            Override(
                {"allowAwsManagedKey": True},
                M(t.SNS_TOPIC, "kmsMasterKeyId", "alias/aws/sns"),
                fires=False,
            ),
        ),
    ),
    "backup-vault-cmk": Case((M(t.BACKUP_VAULT, "kmsKeyArn", DELETE),)),
    # --- cost ---------------------------------------------------------------------------------------
    # A class, node type or region the price table lacks also leaves the estimate incomplete,
    # so the budget gate cannot confirm it and fires too (exact=False).
    "cost-allowed-instance-classes": Case(
        (
            M(t.RDS_CLUSTER_INSTANCE, "instanceClass", "db.x2iedn.32xlarge", exact=False),
            M(t.RDS_INSTANCE, "instanceClass", "db.m5.24xlarge", exact=False),
        ),
        (
            Override({"allowed": ["db.t4g.medium"]}),
            Override(
                {"allowed": ["db.r6g.large", "db.x2iedn.32xlarge"]},
                M(t.RDS_CLUSTER_INSTANCE, "instanceClass", "db.x2iedn.32xlarge"),
                fires=False,
            ),
        ),
    ),
    "cost-allowed-cache-node-types": Case(
        (
            M(
                t.CACHE_REPLICATION_GROUP,
                "nodeType",
                "cache.r6gd.16xlarge",
                where=PRIMARY_CACHE,
                exact=False,
            ),
            M(
                t.CACHE_GLOBAL_REPLICATION_GROUP,
                "cacheNodeType",
                "cache.r6gd.16xlarge",
                exact=False,
            ),
        ),
        (Override({"allowed": ["cache.m5.large"]}),),
    ),
    "cost-performance-insights-retention": Case(
        (M(t.RDS_CLUSTER_INSTANCE, "performanceInsightsRetentionPeriod", 31.0),),
        (
            Override(
                {"maxRetentionDays": 31},
                M(t.RDS_CLUSTER_INSTANCE, "performanceInsightsRetentionPeriod", 31.0),
                fires=False,
            ),
        ),
    ),
    "cost-allowed-regions": Case(
        (
            M(t.SNS_SUBSCRIPTION, "region", "ap-south-1"),
            M(
                t.DYNAMODB_TABLE,
                "replicas.0.regionName",
                "ap-south-1",
                where=_has("replicas"),
                expect="replicas[0].regionName",
                exact=False,
            ),
        ),
        (
            Override({"allowed": ["us-east-1"]}),
            Override(
                {"allowed": ["us-east-1", "us-west-2", "ap-south-1"]},
                M(t.SNS_SUBSCRIPTION, "region", "ap-south-1"),
                fires=False,
            ),
        ),
    ),
    "cost-reader-count-cap": Case(
        (
            M(
                t.AUTOSCALING_TARGET,
                "maxCapacity",
                99.0,
                where=_eq("scalableDimension", "rds:cluster:ReadReplicaCount"),
            ),
        ),
        (Override({"maxInstancesPerCluster": 1}), Override({"maxAutoscaledReaders": 2})),
    ),
    "cost-budget-present": Case(
        (
            M(t.BUDGET, "budgetType", "USAGE"),
            M(t.BUDGET, "notifications", []),
            M(t.BUDGET, "notifications.0.subscriberEmailAddresses", [], expect="notifications"),
        ),
        (
            Override({"maxMonthlyLimitUsd": 10}),
            Override(
                {"requireNotifications": False}, M(t.BUDGET, "notifications", []), fires=False
            ),
        ),
    ),
    "cost-budget-estimate": Case(
        (M(t.BUDGET, "limitAmount", "100.00"),),
        (
            Override({"headroomPercent": 50}),
            Override(
                {"compareWith": "reserved-3y"}, M(t.BUDGET, "limitAmount", "3000.00"), fires=False
            ),
            Override({"usage": {"aurora": {"storageGb": 100000}}}),
        ),
    ),
    "dynamodb-billing-mode": Case(
        (
            M(
                t.DYNAMODB_TABLE,
                "billingMode",
                "PROVISIONED",
                where=_eq("billingMode", "PAY_PER_REQUEST"),
                expect="billingMode",
            ),
            M(
                t.DYNAMODB_TABLE,
                "billingMode",
                DELETE,
                where=_eq("billingMode", "PAY_PER_REQUEST"),
                expect="billingMode",
            ),
            M(
                t.AUTOSCALING_TARGET,
                "resourceId",
                "table/other",
                where=_eq("serviceNamespace", "dynamodb"),
                expect="billingMode",
            ),
        ),
        (Override({"allowProvisioned": False}),),
    ),
    "rds-storage": Case(
        (
            M(t.RDS_CLUSTER, "storageType", "aurora-iopt1"),
            M(t.RDS_INSTANCE, "storageType", "gp2"),
            M(t.RDS_INSTANCE, "maxAllocatedStorage", DELETE),
        ),
        (
            Override(
                {"allowedClusterStorageTypes": ["aurora", "aurora-iopt1"]},
                M(t.RDS_CLUSTER, "storageType", "aurora-iopt1"),
                fires=False,
            ),
            Override({"allowedInstanceStorageTypes": ["io2"]}),
        ),
    ),
    # --- resilience ---------------------------------------------------------------------------------
    "rds-deletion-protection": Case(
        (
            M(t.RDS_CLUSTER, "deletionProtection", False),
            M(t.RDS_GLOBAL_CLUSTER, "deletionProtection", DELETE),
            M(t.RDS_INSTANCE, "deletionProtection", False),
        )
    ),
    "dynamodb-deletion-protection": Case(
        (
            M(t.DYNAMODB_TABLE, "deletionProtectionEnabled", False),
            M(
                t.DYNAMODB_TABLE,
                "replicas.0.deletionProtectionEnabled",
                False,
                where=_has("replicas"),
                expect="replicas[0].deletionProtectionEnabled",
            ),
            M(t.DYNAMODB_TABLE_REPLICA, "deletionProtectionEnabled", False),
        )
    ),
    "dynamodb-streams-when-replicated": Case(
        (
            M(t.DYNAMODB_TABLE, "streamEnabled", False, where=_has("replicas")),
            M(t.DYNAMODB_TABLE, "streamViewType", "KEYS_ONLY", where=_has("replicas")),
        ),
        (
            Override(
                {"streamViewType": "KEYS_ONLY"},
                M(t.DYNAMODB_TABLE, "streamViewType", "KEYS_ONLY", where=_has("replicas")),
                fires=False,
            ),
        ),
    ),
    "rds-performance-insights": Case(
        (
            M(t.RDS_CLUSTER_INSTANCE, "performanceInsightsEnabled", False),
            M(t.RDS_INSTANCE, "performanceInsightsEnabled", DELETE),
        )
    ),
    "rds-enhanced-monitoring": Case(
        (
            M(t.RDS_CLUSTER_INSTANCE, "monitoringInterval", 0.0),
            M(t.RDS_CLUSTER_INSTANCE, "monitoringInterval", 7.0),
            M(t.RDS_CLUSTER_INSTANCE, "monitoringRoleArn", DELETE),
        ),
        (Override({"maxIntervalSeconds": 30}),),
    ),
    "rds-auto-minor-version-upgrade": Case(
        (
            M(t.RDS_CLUSTER_INSTANCE, "autoMinorVersionUpgrade", False),
            M(t.RDS_INSTANCE, "autoMinorVersionUpgrade", False),
        )
    ),
    "rds-log-exports": Case(
        (
            M(t.RDS_CLUSTER, "enabledCloudwatchLogsExports", []),
            M(t.RDS_CLUSTER, "enabledCloudwatchLogsExports", ["upgrade"]),
            M(t.RDS_INSTANCE, "enabledCloudwatchLogsExports", DELETE),
        ),
        (Override({"requiredExports": {"postgresql": ["postgresql", "iam-db-auth-error"]}}),),
    ),
    "explicit-region": Case(
        (M(t.SNS_TOPIC, "region", DELETE), M(t.RDS_CLUSTER_PARAMETER_GROUP, "region", DELETE))
    ),
    "region-pair": Case(
        (M(t.AWS_PROVIDER, "region", "us-west-2"),),
        (
            Override(
                {"requireAnchorProvider": False},
                M(t.AWS_PROVIDER, "region", "us-west-2"),
                fires=False,
            ),
        ),
    ),
    "aurora-global-cluster-both-regions": Case(
        (
            M(
                t.RDS_CLUSTER,
                "globalClusterIdentifier",
                "another-global",
                where=SECONDARY_CLUSTER,
                expect="members",
            ),
        )
    ),
    "dynamodb-replica-in-other-region": Case(
        (
            M(
                t.DYNAMODB_TABLE,
                "replicas.0.regionName",
                Computed(lambda r, _s: [r.inputs.get("region")]),
                where=_has("replicas"),
                expect="replicas",
                exact=False,  # its key is now the other region's too (dynamodb-replica-cmk)
            ),
            M(t.DYNAMODB_TABLE, "replicas", [], where=_has("replicas")),
            M(
                t.DYNAMODB_TABLE_REPLICA,
                "globalTableArn",
                "arn:aws:dynamodb:us-east-1:123456789012:table/other",
                expect="replicas",
                exact=False,  # nor does any backup selection name that other table's replica
            ),
        )
    ),
    "cache-global-datastore-secondary": Case(
        (
            M(
                t.CACHE_REPLICATION_GROUP,
                "globalReplicationGroupId",
                "ldgnf-other",
                where=SECONDARY_CACHE,
                expect="secondary",
            ),
        )
    ),
    "database-cpu-alarm": Case(
        (
            M(t.METRIC_ALARM, "threshold", 95.0, where=_alarm("AWS/RDS", "CPUUtilization")),
            M(
                t.METRIC_ALARM,
                "dimensions",
                {"DBClusterIdentifier": "unrelated"},
                where=_alarm("AWS/RDS", "CPUUtilization"),
                expect="CPUUtilization alarm",
            ),
        ),
        (Override({"maxThreshold": 70}),),
    ),
    "cache-cpu-alarm": Case(
        (
            M(
                t.METRIC_ALARM,
                "threshold",
                95.0,
                where=_alarm("AWS/ElastiCache", "CPUUtilization", "EngineCPUUtilization"),
            ),
            M(
                t.METRIC_ALARM,
                "comparisonOperator",
                "LessThanThreshold",
                where=_alarm("AWS/ElastiCache", "CPUUtilization", "EngineCPUUtilization"),
                expect="threshold",
            ),
        ),
        (Override({"maxThreshold": 70}),),
    ),
    "aurora-replication-lag-alarm": Case(
        (
            M(
                t.METRIC_ALARM,
                "threshold",
                999999.0,
                where=_alarm("AWS/RDS", "AuroraGlobalDBReplicationLag"),
            ),
            M(
                t.METRIC_ALARM,
                "region",
                Computed(
                    lambda r, s: sorted(
                        {x.inputs["region"] for x in s if x.type == t.RDS_CLUSTER}
                        - {r.inputs.get("region")}
                    )
                ),
                where=_alarm("AWS/RDS", "AuroraGlobalDBReplicationLag"),
                expect="AuroraGlobalDBReplicationLag alarm",
            ),
        ),
        (Override({"maxThresholdMs": 500}),),
    ),
    "cloudwatch-alarm-actions": Case(
        (M(t.METRIC_ALARM, "actionsEnabled", False), M(t.METRIC_ALARM, "alarmActions", [])),
        (
            Override({"maxEvaluationWindowSeconds": 60}),
            Override(
                {"maxEvaluationWindowSeconds": 604800},
                M(t.METRIC_ALARM, "period", 86400.0),
                fires=False,
            ),
        ),
    ),
    "route53-writer-failover": Case(
        (
            M(
                t.ROUTE53_RECORD,
                "records",
                ["sc-us-east-1.cluster-abc.us-east-1.rds.amazonaws.com"],
                where=_dns("writer"),
            ),
            M(
                t.ROUTE53_RECORD,
                "failoverRoutingPolicies",
                [{"type": "PRIMARY"}],
                where=_dns("writer"),
            ),
            M(
                t.ROUTE53_RECORD,
                "failoverRoutingPolicies",
                [{"type": "PRIMARY"}],
                where=_dns("cache"),
            ),
            M(t.ROUTE53_RECORD, "healthCheckId", DELETE, where=_latency),
            M(t.ROUTE53_RECORD, "type", "A", where=_dns("writer")),
            # The cache name as one simple record: only the us-east-1 control plane moves it.
            M(t.ROUTE53_RECORD, "weightedRoutingPolicies", DELETE, where=_dns("cache")),
        ),
        (
            Override(
                {"requireLatencyHealthChecks": False},
                M(t.ROUTE53_RECORD, "healthCheckId", DELETE, where=_latency),
                fires=False,
            ),
            Override(
                {"cacheRecordPattern": "sessions"},
                M(
                    t.ROUTE53_RECORD,
                    "failoverRoutingPolicies",
                    [{"type": "PRIMARY"}],
                    where=_dns("cache"),
                ),
                fires=False,
            ),
            Override({"writerRecordPattern": "primary-db"}),
        ),
    ),
    "route53-health-check-alarm": Case(
        (
            M(t.ROUTE53_HEALTH_CHECK, "type", "HTTPS"),
            M(t.ROUTE53_HEALTH_CHECK, "cloudwatchAlarmName", DELETE, where=_metric_check),
            M(t.ROUTE53_HEALTH_CHECK, "insufficientDataHealthStatus", "Maybe", where=_metric_check),
            M(
                t.ROUTE53_HEALTH_CHECK,
                "insufficientDataHealthStatus",
                "LastKnownStatus",
                where=_metric_check,
            ),
            M(t.ROUTE53_HEALTH_CHECK, "insufficientDataHealthStatus", DELETE, where=_metric_check),
            M(t.ROUTE53_HEALTH_CHECK, "triggers", DELETE, where=_metric_check),
            M(
                t.ROUTE53_HEALTH_CHECK,
                "cloudwatchAlarmName",
                "sc-no-such-alarm",
                where=_metric_check,
            ),
            M(
                t.ROUTE53_HEALTH_CHECK,
                "cloudwatchAlarmRegion",
                Computed(_other_region),
                where=_metric_check,
            ),
        ),
        (
            Override(
                {"allowedTypes": ["HTTPS", "CLOUDWATCH_METRIC"]},
                M(t.ROUTE53_HEALTH_CHECK, "type", "HTTPS"),
                fires=False,
            ),
            Override(
                {"insufficientDataStatuses": ["Unhealthy", "LastKnownStatus"]},
                M(
                    t.ROUTE53_HEALTH_CHECK,
                    "insufficientDataHealthStatus",
                    DELETE,
                    where=_metric_check,
                ),
                fires=False,
            ),
            Override(
                {"requireTriggers": False},
                M(t.ROUTE53_HEALTH_CHECK, "triggers", DELETE, where=_metric_check),
                fires=False,
            ),
        ),
    ),
    "network-app-path": Case(
        (
            # No connection with the application VPC: the zone names it.
            M(t.VPC_PEERING, "peerVpcId", "vpc-99999999", expect="vpcs"),
            # A same-region connection nobody accepts.
            M(t.VPC_PEERING, "autoAccept", False, where=_has("autoAccept")),
            # A cross-region connection whose accepter does not accept.
            M(t.VPC_PEERING_ACCEPTER, "autoAccept", False, expect="autoAccept"),
            # A route that routes nothing.
            M(t.ROUTE, "destinationCidrBlock", DELETE, expect="has no route"),
        ),
        (
            Override(
                {"exemptVpcIds": ["vpc-0a1b2c3d"]},
                M(t.VPC_PEERING, "peerVpcId", "vpc-99999999"),
                fires=False,
            ),
        ),
    ),
    # --- tagging -------------------------------------------------------------------------------------
    "required-tags": Case(
        (
            M(t.AWS_PROVIDER, "defaultTags", _tags({"Owner": DELETE}), expect="tags"),
            M(t.SNS_TOPIC, "tags", {"CostCenter": ""}),
        ),
        (Override({"required": ["Project", "Team"]}),),
    ),
    "tag-values-allowed": Case(
        (
            M(
                t.AWS_PROVIDER,
                "defaultTags",
                _tags({"Environment": "qa"}),
                expect="tags.Environment",
            ),
            M(
                t.SNS_TOPIC,
                "tags",
                {"DataClassification": "secret"},
                expect="tags.DataClassification",
            ),
        ),
        (
            Override({"allowedValues": {"Environment": ["qa"]}}),
            Override({"environment": "prod"}),
        ),
    ),
    "dynamodb-replica-propagate-tags": Case(
        (
            M(
                t.DYNAMODB_TABLE,
                "replicas.0.propagateTags",
                False,
                where=_has("replicas"),
                expect="replicas[0].propagateTags",
            ),
        )
    ),
}

CASES: dict[str, Case] = {
    name: replace(case, ineffective=case.ineffective + INEFFECTIVE.get(name, ()))
    for name, case in {
        **_BASE,
        **NEW_CASES,
        **CONTROL_CASES,
        **NEPTUNE_CASES,
        **REDSHIFT_CASES,
    }.items()
}
"""Every rule's cases: the base single-property violations, the new rules' cases, and the
"present but ineffective" mutations (policy_cases_effect.py)."""
