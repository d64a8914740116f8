"""Multi-region KMS keys: one key material, usable in both regions of the pair."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True, kw_only=True)
class MultiRegionKeyArgs:
    """Inputs of :class:`MultiRegionKey`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-dev``."""
    family: str
    """Data-store family the key protects (``aurora``, ``dynamodb``, ...); one key per family."""
    home_region: str
    """Region of the primary key: the anchor region, which a role swap never changes."""
    replica_region: str
    """Region of the replica key."""
    account_id: pulumi.Input[str]
    """Account that administers the key (its root principal is in the key policy)."""
    service_principals: tuple[str, ...] = ()
    """AWS services (``cloudwatch.amazonaws.com``) that must encrypt with the key directly."""
    deletion_window_days: int = 30
    """Waiting period before a scheduled deletion; the maximum, so a mistake can be undone."""
    tags: dict[str, str] = field(default_factory=dict)


class MultiRegionKey(pulumi.ComponentResource):
    """A rotating multi-region CMK (primary + replica) with an alias in each region.

    Both regions encrypt with the same key material, so a snapshot, a secret replica or a
    global table replica can be decrypted on either side of a failover.
    """

    arns: dict[str, pulumi.Output[str]]
    """Key ARN per region."""
    alias_names: dict[str, str]
    """Alias per region (``alias/securecart-dev-aurora``)."""

    def __init__(
        self, name: str, args: MultiRegionKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:keys:MultiRegionKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        policy = pulumi.Output.from_input(args.account_id).apply(
            lambda acct: _key_policy(acct, args.service_principals)
        )
        description = f"{args.prefix} {args.family} data (multi-region)"
        primary = aws.kms.Key(
            f"{args.family}-key-{args.home_region}",
            region=args.home_region,
            description=description,
            multi_region=True,
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=args.deletion_window_days,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=policy,
            tags=args.tags,
            opts=child,
        )
        replica = aws.kms.ReplicaKey(
            f"{args.family}-key-{args.replica_region}",
            region=args.replica_region,
            description=description,
            primary_key_arn=primary.arn,
            deletion_window_in_days=args.deletion_window_days,
            policy=policy,
            tags=args.tags,
            opts=child,
        )
        alias = f"alias/{args.prefix}-{args.family}"
        for region, key in (
            (args.home_region, primary.key_id),
            (args.replica_region, replica.key_id),
        ):
            aws.kms.Alias(
                f"{args.family}-alias-{region}",
                region=region,
                name=alias,
                target_key_id=key,
                opts=child,
            )
        self.arns = {args.home_region: primary.arn, args.replica_region: replica.arn}
        self.alias_names = {args.home_region: alias, args.replica_region: alias}
        self.register_outputs({"arns": self.arns, "alias_names": self.alias_names})


def _key_policy(account_id: str, services: tuple[str, ...]) -> str:
    """Account root administers the key (IAM decides who uses it); listed services may encrypt."""
    statements: list[dict[str, object]] = [
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if services:
        statements.append(
            {
                "Sid": "ServicesEncrypt",
                "Effect": "Allow",
                "Principal": {"Service": sorted(services)},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
