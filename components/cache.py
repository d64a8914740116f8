"""ElastiCache (Valkey/Redis) global datastore for the product cache."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.functions.secret_rotation import CACHE
from components.network import CACHE_PORT, RegionalNetwork, log_group_prefix
from components.secrets import PINNED_GENERATOR_INPUTS, SecretRotation, replicated_secret
from components.settings import CacheSettings

# Inputs only the primary replication group may carry: a secondary inherits engine, version,
# node type, encryption, auth and failover settings from the global datastore, and AWS rejects
# them on it (InvalidParameterCombination). After a failover swaps the roles, the replication
# group that becomes primary already has all of these; several force replacement, so the
# provider must not act on the difference.
REPLICATION_GROUP_IGNORED = [
    "globalReplicationGroupId",
    "engine",
    "engineVersion",
    "nodeType",
    "parameterGroupName",
    "atRestEncryptionEnabled",
    "transitEncryptionEnabled",
    "authToken",
    "authTokenUpdateStrategy",
    "automaticFailoverEnabled",
    "multiAzEnabled",
]


@dataclass(frozen=True, kw_only=True)
class CacheGlobalDatastoreArgs:
    """Inputs of :class:`CacheGlobalDatastore`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-dev``."""
    environment: str
    """Environment (short ids: replication group ids are limited to 40 characters)."""
    primary_region: str
    """Region of the writable replication group."""
    secondary_region: str
    """Region of the read-only replication group."""
    anchor_region: str
    """Region of the auth-token secret (never swaps)."""
    settings: CacheSettings
    """Engine, node type, replicas, snapshot retention."""
    networks: Mapping[str, RegionalNetwork]
    """Network per region."""
    availability_zones: Mapping[str, tuple[str, str, str]]
    """AZs per region: nodes are spread over them (Multi-AZ)."""
    key_arns: Mapping[str, pulumi.Input[str]]
    """At-rest CMK per region."""
    secret_key_arns: Mapping[str, pulumi.Input[str]]
    """CMK per region for the auth-token secret and its replica."""


class CacheGlobalDatastore(pulumi.ComponentResource):
    """Primary and secondary replication groups joined in a global datastore.

    Multi-AZ with automatic failover, encrypted at rest (CMK) and in transit, AUTH token
    generated and stored in a replicated secret.
    """

    global_replication_group_id: pulumi.Output[str]
    """Global datastore id (what a cache failover drill acts on)."""
    replication_group_ids: dict[str, str]
    """Replication group id per region."""
    primary_endpoints: dict[str, pulumi.Output[str]]
    """Primary endpoint per region."""
    reader_endpoints: dict[str, pulumi.Output[str]]
    """Reader endpoint per region."""
    member_cluster_ids: dict[str, list[str]]
    """Node (cache cluster) ids per region, the dimension of the node metrics."""
    auth_secret_arn: pulumi.Output[str]
    """Secret holding the AUTH token (replicated)."""

    def __init__(
        self, name: str, args: CacheGlobalDatastoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:cache:CacheGlobalDatastore", name, None, opts)
        s = args.settings
        regions = (args.primary_region, args.secondary_region)
        nodes = 1 + s.replicas_per_region
        token = random.RandomPassword(
            "cache-auth-token",
            length=64,
            special=False,  # AUTH tokens allow only printable ASCII without '/', '"', '@'
            opts=pulumi.ResourceOptions(
                parent=self,
                additional_secret_outputs=["result"],
                ignore_changes=PINNED_GENERATOR_INPUTS,
            ),
        )

        self.replication_group_ids = {}
        self.primary_endpoints = {}
        self.reader_endpoints = {}
        self.member_cluster_ids = {}
        groups: dict[str, aws.elasticache.ReplicationGroup] = {}
        global_group: aws.elasticache.GlobalReplicationGroup | None = None
        for region in regions:
            is_primary = region == args.primary_region
            group_id = f"sc-{args.environment}-cache-{region}"
            network = args.networks[region]
            role_inputs: dict[str, pulumi.Input[object]]
            if is_primary:
                role_inputs = {
                    "engine": s.engine,
                    "engine_version": s.engine_version,
                    "node_type": s.node_type,
                    "at_rest_encryption_enabled": True,
                    "transit_encryption_enabled": True,
                    "auth_token": token.result,
                    "auth_token_update_strategy": "ROTATE",
                    "automatic_failover_enabled": True,
                    "multi_az_enabled": True,
                }
            else:
                assert global_group is not None
                role_inputs = {
                    "global_replication_group_id": global_group.global_replication_group_id
                }
            group = aws.elasticache.ReplicationGroup(
                f"cache-{region}",
                region=region,
                replication_group_id=group_id,
                description=f"{args.prefix} product cache in {region}",
                num_cache_clusters=nodes,
                preferred_cache_cluster_azs=[
                    args.availability_zones[region][n % 3] for n in range(nodes)
                ],
                subnet_group_name=network.cache_subnet_group_name,
                security_group_ids=[network.cache_security_group_id],
                port=CACHE_PORT,
                # The secondary names its own region's key; encryption itself is inherited.
                kms_key_id=args.key_arns[region],
                snapshot_retention_limit=s.snapshot_retention_days,
                snapshot_window=s.snapshot_window,
                maintenance_window=s.maintenance_window,
                # AWS's own value (components/day_two.py): ElastiCache turns auto minor version
                # upgrade off on every member of a global datastore and refuses to turn it on
                # (Global datastores: Prerequisites and limitations;
                # hashicorp/terraform-provider-aws#24919). A global datastore's engine is upgraded
                # for all members at once through the global datastore's engine_version below.
                auto_minor_version_upgrade=False,
                apply_immediately=False,
                final_snapshot_identifier=f"{group_id}-final",
                **role_inputs,  # type: ignore[arg-type]
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=REPLICATION_GROUP_IGNORED),
            )
            groups[region] = group
            if is_primary:
                global_group = aws.elasticache.GlobalReplicationGroup(
                    "cache-global",
                    region=region,
                    global_replication_group_id_suffix=f"{args.prefix}-cache",
                    global_replication_group_description=f"{args.prefix} product cache",
                    primary_replication_group_id=group.id,
                    # Node type, version and failover of a global datastore change here, for
                    # every member at once.
                    cache_node_type=s.node_type,
                    # Engine given with the version: without it the provider assumes redis
                    # whenever engine_version is set, and would "upgrade" valkey to redis.
                    engine=s.engine,
                    engine_version=s.engine_version,
                    automatic_failover_enabled=True,
                    # Created from the primary's region; after a failover the primary moves.
                    # Both inputs force replacement, which would delete the datastore.
                    opts=pulumi.ResourceOptions(
                        parent=self, ignore_changes=["region", "primaryReplicationGroupId"]
                    ),
                )
            self.replication_group_ids[region] = group_id
            self.primary_endpoints[region] = group.primary_endpoint_address
            self.reader_endpoints[region] = group.reader_endpoint_address
            self.member_cluster_ids[region] = [f"{group_id}-{n + 1:03d}" for n in range(nodes)]
        assert global_group is not None
        # After the datastore: the rotation function finds its PRIMARY member at rotation time.
        secret = replicated_secret(
            "cache-auth-secret",
            parent=self,
            secret_name=f"{args.prefix}/cache/auth-token",
            description=f"AUTH token of the {args.prefix} product cache",
            home_region=args.anchor_region,
            regions=regions,
            key_arns=args.secret_key_arns,
            value=token.result,
            rotation=SecretRotation(
                kind=CACHE,
                target=global_group.global_replication_group_id,
                log_key_arn=args.networks[args.anchor_region].logs_key_arn,
                log_group_name=f"{log_group_prefix(args.prefix)}secret-rotation/cache-auth-token",
                resource_arns=(
                    f"arn:aws:elasticache:*:*:replicationgroup:sc-{args.environment}-cache-*",
                    f"arn:aws:elasticache::*:globalreplicationgroup:*{args.prefix}-cache",
                ),
            ),
        )
        self.global_replication_group_id = global_group.global_replication_group_id
        self.auth_secret_arn = secret.arn
        self.register_outputs(
            {
                "global_replication_group_id": self.global_replication_group_id,
                "primary_endpoints": self.primary_endpoints,
                "reader_endpoints": self.reader_endpoints,
                "auth_secret_arn": self.auth_secret_arn,
            }
        )
