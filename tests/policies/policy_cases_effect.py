"""Cases of the rules added for issue 10, and the "present but ineffective" mutations.

A removal leaves the guardrail missing; the mutations here leave it in place and make it
useless: a customer-managed-key argument naming the AWS-managed key or a key of another region,
transit encryption that still accepts plaintext, a key policy whose condition does not pin the
caller, an alarm that cannot fire in time or notifies nobody, a backup plan that selects
nothing, a budget that is not monthly, a prod stack tagged dev, replicas and copies outside the
allowed regions, and nulls that mean "not set".
"""

from __future__ import annotations

from typing import Any

from policies import resource_types as t
from tests.policies.golden import APP_CIDR
from tests.policies.mutations import (
    FAR_REGION,
    PRIMARY_CACHE,
    PRIMARY_CLUSTER,
    SECONDARY_CACHE,
    Case,
    Override,
    _alarm,
    _has,
    aws_managed_key,
    far_copy_destination,
    key_of_other_region,
    log_statement,
    longer_window,
    other_environment,
    public_policy_with,
    replica_far_away,
)
from tests.policies.policy_support import DELETE, Computed, Mutation

M = Mutation
_CPU = _alarm("AWS/RDS", "CPUUtilization")
_SG_INGRESS = {"protocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0}

NEW_CASES: dict[str, Case] = {
    "kms-key-policy-lockout-safety": Case(
        (
            M(t.KMS_KEY, "bypassPolicyLockoutSafetyCheck", True),
            M(t.KMS_REPLICA_KEY, "bypassPolicyLockoutSafetyCheck", True),
        )
    ),
    "secretsmanager-cmk": Case(
        (
            M(t.SECRET, "kmsKeyId", DELETE),
            M(t.SECRET, "replicas.0.kmsKeyId", DELETE, expect="replicas[0].kmsKeyId"),
        )
    ),
    "secretsmanager-rotation": Case(
        (
            M(
                t.SECRET_ROTATION,
                "secretId",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:someone-else",
                expect="SecretRotation",
            ),
            M(
                t.SECRET_ROTATION,
                "rotationRules.automaticallyAfterDays",
                365.0,
                expect="rotationRules",
            ),
            M(t.SECRET_ROTATION, "rotationLambdaArn", DELETE),
        ),
        (
            Override({"maxRotationDays": 7}),
            Override(
                {"exemptSecrets": {"sc/aurora/master": "rotated by the DBA team's vault"}},
                M(t.SECRET_ROTATION, "secretId", "arn:aws:secretsmanager:us-east-1:1:secret:x"),
                fires=False,
            ),
        ),
    ),
    "security-group-data-ingress": Case(
        (
            M(
                t.SECURITY_GROUP,
                "ingress.0.cidrBlocks",
                ["0.0.0.0/0"],
                expect="ingress[0].cidrBlocks",
            ),
            M(
                t.SECURITY_GROUP,
                "ingress.0",
                {"protocol": "6", "fromPort": 6379.0, "toPort": 6379.0, "ipv6CidrBlocks": ["::/0"]},
                expect="ingress[0].ipv6CidrBlocks",
            ),
            M(t.SECURITY_GROUP_INGRESS_RULE, "cidrIpv4", "0.0.0.0/0"),
            M(t.SECURITY_GROUP_RULE, "cidrBlocks", ["10.0.0.0/8", "0.0.0.0/0"]),
        ),
        (
            Override({"allowedCidrs": ["10.200.0.0/16"]}),
            Override(
                {"dataPorts": [3306]},
                M(t.SECURITY_GROUP, "ingress.0.cidrBlocks", ["0.0.0.0/0"]),
                fires=False,
            ),
        ),
    ),
    "vpc-flow-logs": Case(
        (
            M(t.FLOW_LOG, "vpcId", "vpc-someone-else", expect="FlowLog.vpcId"),
            M(t.FLOW_LOG, "trafficType", "REJECT"),
            M(t.FLOW_LOG, "iamRoleArn", DELETE),
        ),
        (Override({"trafficType": "REJECT"}, M(t.FLOW_LOG, "trafficType", "REJECT"), fires=False),),
    ),
    "cloudwatch-log-group-protected": Case(
        (
            M(t.LOG_GROUP, "kmsKeyId", DELETE),
            M(t.LOG_GROUP, "retentionInDays", DELETE),
            M(t.LOG_GROUP, "retentionInDays", 0.0),
            M(t.LOG_GROUP, "retentionInDays", 30.0),
        ),
        (
            Override(
                {"minRetentionDays": 30}, M(t.LOG_GROUP, "retentionInDays", 30.0), fires=False
            ),
            Override({"minRetentionDays": 400}),
        ),
    ),
    "rds-ddl-logging": Case(
        (
            M(
                t.RDS_CLUSTER_PARAMETER_GROUP,
                "parameters",
                log_statement(DELETE),
                where=lambda r: "postgres" in str(r.inputs.get("family")),
            ),
            M(
                t.RDS_CLUSTER_PARAMETER_GROUP,
                "parameters",
                log_statement("none"),
                where=lambda r: "postgres" in str(r.inputs.get("family")),
                expect="log_statement",
            ),
        ),
        (Override({"allowedLogStatement": ["all"]}),),
    ),
    "backup-coverage": Case(
        (
            M(t.BACKUP_SELECTION, "resources", [], expect="backup selection"),
            M(t.BACKUP_SELECTION, "resources.0", DELETE, expect="backup selection"),
            M(t.BACKUP_SELECTION, "planId", "plan-of-another-stack", expect="Selection.planId"),
        )
    ),
    "alarm-topic-subscribed": Case(
        (
            M(
                t.SNS_SUBSCRIPTION,
                "topic",
                Computed(
                    lambda r, _s: [
                        f"arn:aws:sns:{r.inputs.get('region')}:123456789012:someone-elses-topic"
                    ]
                ),
                expect="TopicSubscription.topic",
            ),
        )
    ),
}
"""Cases of the rules new in this pack version."""


def _null(type_token: str, path: str, **kwargs: Any) -> Mutation:
    """A property sent as null: not set, so judged by the provider's default."""
    return M(type_token, path, None, **kwargs)


INEFFECTIVE: dict[str, tuple[Mutation, ...]] = {
    # customer-managed keys: never the AWS-managed key, always the key of the resource's region
    "rds-cmk": (
        M(t.RDS_CLUSTER, "kmsKeyId", aws_managed_key("rds")),
        M(t.RDS_CLUSTER, "kmsKeyId", key_of_other_region("kmsKeyId")),
        _null(t.RDS_CLUSTER, "kmsKeyId"),
    ),
    "rds-performance-insights-encrypted": (
        M(t.RDS_CLUSTER_INSTANCE, "performanceInsightsKmsKeyId", aws_managed_key("rds")),
        M(
            t.RDS_CLUSTER_INSTANCE,
            "performanceInsightsKmsKeyId",
            key_of_other_region("performanceInsightsKmsKeyId"),
        ),
    ),
    "dynamodb-table-cmk": (
        M(t.DYNAMODB_TABLE, "serverSideEncryption.kmsKeyArn", aws_managed_key("dynamodb")),
        M(
            t.DYNAMODB_TABLE,
            "serverSideEncryption.kmsKeyArn",
            key_of_other_region("serverSideEncryption.kmsKeyArn"),
        ),
    ),
    "dynamodb-replica-cmk": (
        M(
            t.DYNAMODB_TABLE,
            "replicas.0.kmsKeyArn",
            key_of_other_region("replicas.0.kmsKeyArn"),
            where=_has("replicas"),
            expect="replicas[0].kmsKeyArn",
        ),
        M(t.DYNAMODB_TABLE_REPLICA, "kmsKeyArn", key_of_other_region("kmsKeyArn")),
    ),
    "elasticache-cmk": (
        M(t.CACHE_REPLICATION_GROUP, "kmsKeyId", aws_managed_key("elasticache")),
        M(t.CACHE_REPLICATION_GROUP, "kmsKeyId", key_of_other_region("kmsKeyId")),
    ),
    "sns-topic-encrypted": (
        M(t.SNS_TOPIC, "kmsMasterKeyId", aws_managed_key("sns")),
        M(t.SNS_TOPIC, "kmsMasterKeyId", key_of_other_region("kmsMasterKeyId")),
    ),
    "backup-vault-cmk": (
        M(t.BACKUP_VAULT, "kmsKeyArn", aws_managed_key("backup")),
        M(t.BACKUP_VAULT, "kmsKeyArn", key_of_other_region("kmsKeyArn")),
    ),
    "secretsmanager-cmk": (
        M(t.SECRET, "kmsKeyId", aws_managed_key("secretsmanager")),
        M(
            t.SECRET,
            "replicas.0.kmsKeyId",
            key_of_other_region("replicas.0.kmsKeyId"),
            expect="replicas[0].kmsKeyId",
        ),
    ),
    "cloudwatch-log-group-protected": (
        M(t.LOG_GROUP, "kmsKeyId", aws_managed_key("logs")),
        M(t.LOG_GROUP, "kmsKeyId", key_of_other_region("kmsKeyId")),
    ),
    # transit encryption that still accepts plaintext clients
    "elasticache-in-transit-encryption": (
        M(t.CACHE_REPLICATION_GROUP, "transitEncryptionMode", "preferred", where=PRIMARY_CACHE),
        M(t.CACHE_REPLICATION_GROUP, "transitEncryptionMode", "preferred", where=SECONDARY_CACHE),
        _null(t.CACHE_REPLICATION_GROUP, "transitEncryptionEnabled", where=PRIMARY_CACHE),
    ),
    # Principal "*" under a condition that does not pin the caller
    "kms-key-policy-no-public-principal": (
        M(
            t.KMS_KEY,
            "policy",
            public_policy_with({"Bool": {"aws:SecureTransport": "true"}}),
            expect="Principal",
        ),
        M(
            t.KMS_REPLICA_KEY,
            "policy",
            public_policy_with({"StringEqualsIfExists": {"kms:CallerAccount": "123456789012"}}),
            expect="Principal",
        ),
        M(
            t.KMS_KEY,
            "policy",
            public_policy_with({"StringLike": {"kms:CallerAccount": "*"}}),
            expect="Principal",
        ),
    ),
    # alarms that cannot fire in time
    "cloudwatch-alarm-actions": (
        M(t.METRIC_ALARM, "evaluationPeriods", Computed(longer_window), where=_CPU),
        M(t.METRIC_ALARM, "period", 86400.0, where=_CPU, expect="evaluationPeriods"),
        M(t.METRIC_ALARM, "alarmActions", [""], where=_CPU),
    ),
    # a budget that is not monthly, or alerts an empty address
    "cost-budget-present": (
        M(t.BUDGET, "timeUnit", "ANNUALLY"),
        M(
            t.BUDGET,
            "notifications",
            Computed(
                lambda r, _s: [
                    [{**n, "subscriberEmailAddresses": [""]} for n in r.inputs["notifications"]]
                ]
            ),
        ),
    ),
    # Environment from the vocabulary, but not this stack's
    "tag-values-allowed": (
        M(
            t.AWS_PROVIDER,
            "defaultTags",
            Computed(other_environment),
            expect="tags.Environment",
            config={"environment": "dev"},
        ),
    ),
    # data outside the allowed regions through replicas and copies; a region the price table
    # lacks also leaves the estimate incomplete, so the budget gate fires too (exact=False)
    "cost-allowed-regions": (
        M(
            t.SECRET,
            "replicas.0",
            replica_far_away("region", "kmsKeyId"),
            expect="replicas[0].region",
            exact=False,
        ),
        M(
            t.DYNAMODB_TABLE,
            "replicas.0",
            replica_far_away("regionName", "kmsKeyArn"),
            where=_has("replicas"),
            expect="replicas[0].regionName",
            exact=False,  # the table also loses its replica in the pair's other region
        ),
        M(
            t.BACKUP_PLAN,
            "rules.0.copyActions.0.destinationVaultArn",
            Computed(far_copy_destination),
            expect="destinationVaultArn",
            exact=False,
        ),
        M(t.KMS_REPLICA_KEY, "region", FAR_REGION, exact=False),
    ),
    # wide CIDRs that are not 0.0.0.0/0
    "security-group-data-ingress": (
        M(
            t.SECURITY_GROUP,
            "ingress.0",
            {**_SG_INGRESS, "cidrBlocks": ["10.0.0.0/8"]},
            expect="ingress[0].cidrBlocks",
            config={"allowedCidrs": [APP_CIDR]},
        ),
    ),
    # nulls are "not set", judged by the provider's default
    "rds-storage-encrypted": (_null(t.RDS_CLUSTER, "storageEncrypted"),),
    "rds-deletion-protection": (_null(t.RDS_CLUSTER, "deletionProtection", where=PRIMARY_CLUSTER),),
    "dynamodb-table-pitr": (_null(t.DYNAMODB_TABLE, "pointInTimeRecovery"),),
    "backup-cross-region-copy": (
        _null(t.BACKUP_PLAN, "rules.0.copyActions", expect="rules[0].copyActions"),
    ),
}
"""Per rule, the present-but-ineffective mutations (tried beside the base violations)."""
