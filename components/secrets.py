"""A Secrets Manager secret kept in the anchor region and replicated to the other region."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from components.naming import other

RECOVERY_WINDOW_DAYS = 30


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
) -> aws.secretsmanager.Secret:
    """Secret ``resource_name`` and its value ``<resource_name>-value``, children of ``parent``.

    Each region encrypts with its own replica of the multi-region key, so applications and
    drills read the same secret locally on either side of a failover.
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
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.secretsmanager.SecretVersion(
        f"{resource_name}-value",
        region=home_region,
        secret_id=secret.id,
        secret_string=value,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return secret
