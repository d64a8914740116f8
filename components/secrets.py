"""A Secrets Manager secret kept in the anchor region, replicated to the other region, and
rotated by a function that changes the database (or cache) and the secret together."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.functions import secret_rotation
from components.naming import account_trust_policy, other

RECOVERY_WINDOW_DAYS = 30
ROTATION_DAYS = 30
"""Days between rotations (the policy pack allows up to its ``maxRotationDays``)."""
ROTATION_LOG_RETENTION_DAYS = 365
PINNED_GENERATOR_INPUTS = [
    "length",
    "keepers",
    "lower",
    "minLower",
    "minNumeric",
    "minSpecial",
    "minUpper",
    "number",
    "numeric",
    "overrideSpecial",
    "special",
    "upper",
]
"""Every input of random.RandomPassword: a changed generator setting never regenerates the
first password (the database would keep the old one; rotation is how credentials change)."""
ROTATION_FUNCTION = Path(secret_rotation.__file__)
"""The rotation function's code, shipped as the whole Lambda package (it imports only boto3)."""


@dataclass(frozen=True, kw_only=True)
class SecretRotation:
    """What the rotation function changes when it rotates the secret."""

    kind: str
    """``aurora-global-cluster`` or ``cache-global-datastore`` (see components/functions)."""
    target: pulumi.Input[str]
    """The global cluster / global datastore id; its writer is looked up at rotation time."""
    log_key_arn: pulumi.Input[str]
    """CMK for the function's log group (the home region's CloudWatch Logs key)."""
    log_group_name: str
    """The function's log group; under the prefix the logs key admits (see RegionalNetwork)."""
    resource_arns: tuple[str, ...]
    """ARN patterns the function may modify (clusters, replication groups) and describe."""


def replicated_secret(
    resource_name: str,
    *,
    parent: pulumi.Resource,
    secret_name: str,
    description: str,
    home_region: str,
    regions: tuple[str, str],
    key_arns: Mapping[str, pulumi.Input[str]],
    value: pulumi.Input[str],
    rotation: SecretRotation,
) -> aws.secretsmanager.Secret:
    """Secret ``resource_name``, its first value ``<resource_name>-value`` and its rotation.

    Each region encrypts with its own replica of the multi-region key, so applications and
    drills read the same secret locally on either side of a failover (replicas follow every
    rotation). After the first value, the rotation function owns the secret: Pulumi never
    writes a value again (``ignore_changes`` on ``secretString``), so a regenerated password in
    the program cannot leave the secret and the database disagreeing.
    """
    replica_region = other(home_region, regions)
    secret = aws.secretsmanager.Secret(
        resource_name,
        region=home_region,
        name=secret_name,
        description=description,
        kms_key_id=key_arns[home_region],
        recovery_window_in_days=RECOVERY_WINDOW_DAYS,
        replicas=[
            aws.secretsmanager.SecretReplicaArgs(
                region=replica_region, kms_key_id=key_arns[replica_region]
            )
        ],
        tags=pulumi.Output.from_input(rotation.target).apply(
            lambda target: {
                secret_rotation.KIND_TAG: rotation.kind,
                secret_rotation.TARGET_TAG: str(target),
            }
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.secretsmanager.SecretVersion(
        f"{resource_name}-value",
        region=home_region,
        secret_id=secret.id,
        secret_string=value,
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["secretString"]),
    )
    _rotation(resource_name, parent, secret, secret_name, home_region, key_arns, rotation)
    return secret


def _rotation(
    resource_name: str,
    parent: pulumi.Resource,
    secret: aws.secretsmanager.Secret,
    secret_name: str,
    region: str,
    key_arns: Mapping[str, pulumi.Input[str]],
    rotation: SecretRotation,
) -> None:
    """The rotation function (same region as the secret), its role, logs and schedule.

    The function only calls AWS APIs (Secrets Manager, RDS, ElastiCache), so it runs outside
    the VPC, whose private subnets have no route to those endpoints.
    """
    child = pulumi.ResourceOptions(parent=parent)
    function_name = f"{secret_name.replace('/', '-')}-rotation"
    log_group = aws.cloudwatch.LogGroup(
        f"{resource_name}-rotation-logs",
        region=region,
        name=rotation.log_group_name,
        kms_key_id=rotation.log_key_arn,
        retention_in_days=ROTATION_LOG_RETENTION_DAYS,
        opts=child,
    )
    account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    role = aws.iam.Role(
        f"{resource_name}-rotation-role",
        name=function_name,
        description="Rotates one Secrets Manager secret and the credential it holds",
        assume_role_policy=account_id.account_id.apply(
            lambda acct: account_trust_policy("lambda.amazonaws.com", acct)
        ),
        opts=child,
    )
    policy = aws.iam.RolePolicy(
        f"{resource_name}-rotation-policy",
        role=role.id,
        # Both regions' keys: a new version is encrypted at home and re-encrypted in the replica.
        policy=pulumi.Output.all(secret.arn, log_group.arn, *key_arns.values()).apply(
            lambda values: _rotation_policy(
                str(values[0]), str(values[1]), [str(v) for v in values[2:]], rotation
            )
        ),
        opts=child,
    )
    function = aws.lambda_.Function(
        f"{resource_name}-rotation",
        region=region,
        name=function_name,
        description=f"Rotates the secret {resource_name} and the credential it holds",
        runtime=aws.lambda_.Runtime.PYTHON3D12,
        handler=f"{ROTATION_FUNCTION.stem}.handler",
        code=pulumi.AssetArchive({ROTATION_FUNCTION.name: pulumi.FileAsset(ROTATION_FUNCTION)}),
        role=role.arn,
        timeout=600,
        memory_size=256,
        # No reserved concurrency (Checkov CKV_AWS_115): Secrets Manager never runs two
        # rotations of one secret at once, and reserving capacity fails in accounts whose
        # concurrency quota is still the new-account minimum.
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(
            log_format="Text", log_group=log_group.name
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[policy]),
    )
    permission = aws.lambda_.Permission(
        f"{resource_name}-rotation-invoke",
        region=region,
        action="lambda:InvokeFunction",
        function=function.name,
        principal="secretsmanager.amazonaws.com",
        source_arn=secret.arn,
        opts=child,
    )
    aws.secretsmanager.SecretRotation(
        f"{resource_name}-rotation-schedule",
        region=region,
        secret_id=secret.id,
        rotation_lambda_arn=function.arn,
        rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
            automatically_after_days=ROTATION_DAYS
        ),
        # The first value is the one the database was created with: rotate on schedule only.
        rotate_immediately=False,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[permission]),
    )


def _rotation_policy(
    secret_arn: str, log_group_arn: str, key_arns: list[str], rotation: SecretRotation
) -> str:
    """Least privilege: this secret, its key, its log group, and the one credential it rotates."""
    actions = {
        secret_rotation.AURORA: [
            "rds:DescribeGlobalClusters",
            "rds:DescribeDBClusters",
            "rds:ModifyDBCluster",
        ],
        secret_rotation.RDS_INSTANCE: ["rds:DescribeDBInstances", "rds:ModifyDBInstance"],
    }.get(
        rotation.kind,
        [
            "elasticache:DescribeGlobalReplicationGroups",
            "elasticache:DescribeReplicationGroups",
            "elasticache:ModifyReplicationGroup",
        ],
    )
    statements: list[dict[str, object]] = [
        {
            "Sid": "RotateThisSecret",
            "Effect": "Allow",
            "Action": [
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            "Resource": secret_arn,
        },
        {
            "Sid": "NewPasswords",
            "Effect": "Allow",
            "Action": "secretsmanager:GetRandomPassword",
            "Resource": "*",
        },
        {
            "Sid": "SecretKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": sorted(key_arns),
        },
        {
            "Sid": "ChangeTheCredential",
            "Effect": "Allow",
            "Action": actions,
            "Resource": list(rotation.resource_arns),
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:*",
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
