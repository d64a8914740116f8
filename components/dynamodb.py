"""DynamoDB global table: one table, replicated to the other region, encrypted with CMKs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings import TableSettings

PITR_DAYS = 35


@dataclass(frozen=True, kw_only=True)
class GlobalTableArgs:
    """Inputs of :class:`GlobalTable`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-dev``."""
    table: TableSettings
    """Keys, indexes, TTL and billing from stack config."""
    home_region: str
    """Region of the table resource itself: the anchor region, which a role swap never changes.
    DynamoDB global tables (2019.11.21) are multi-active, so "home" carries no write role."""
    replica_region: str
    """Region of the replica."""
    key_arns: Mapping[str, pulumi.Input[str]]
    """CMK per region: the table and its replica each use the key of their own region."""


class GlobalTable(pulumi.ComponentResource):
    """A global table with streams, PITR, CMK and deletion protection on every replica."""

    table_name: pulumi.Output[str]
    """Physical name, identical in both regions."""
    arns: dict[str, pulumi.Output[str]]
    """Table ARN per region."""
    stream_arn: pulumi.Output[str]
    """Stream of the home-region table (global tables require NEW_AND_OLD_IMAGES)."""

    def __init__(
        self, name: str, args: GlobalTableArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:dynamodb:GlobalTable", name, None, opts)
        t = args.table
        provisioned = t.billing_mode == "PROVISIONED"
        physical = f"{args.prefix}-{t.name}"
        table = aws.dynamodb.Table(
            f"table-{t.name}",
            region=args.home_region,
            name=physical,
            billing_mode=t.billing_mode,
            read_capacity=t.read_capacity if provisioned else None,
            write_capacity=t.write_capacity if provisioned else None,
            hash_key=t.hash_key,
            range_key=t.range_key,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=a.name, type=a.type) for a in t.attributes
            ],
            global_secondary_indexes=[
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name=index.name,
                    key_schemas=[
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name=index.hash_key, key_type="HASH"
                        ),
                        *(
                            [
                                aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                                    attribute_name=index.range_key, key_type="RANGE"
                                )
                            ]
                            if index.range_key
                            else []
                        ),
                    ],
                    projection_type=index.projection_type,
                    non_key_attributes=list(index.non_key_attributes) or None,
                    read_capacity=t.read_capacity if provisioned else None,
                    write_capacity=t.write_capacity if provisioned else None,
                )
                for index in t.global_secondary_indexes
            ],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=t.ttl_attribute, enabled=True)
            if t.ttl_attribute
            else None,
            # Replicas need streams; set them explicitly, or the provider shows a diff once
            # DynamoDB turns them on for the replica.
            stream_enabled=True,
            stream_view_type="NEW_AND_OLD_IMAGES",
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=args.key_arns[args.home_region]
            ),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                enabled=True, recovery_period_in_days=PITR_DAYS
            ),
            deletion_protection_enabled=True,
            table_class="STANDARD",
            # Each replica names its own region's key: a key ARN from another region is
            # rejected (ValidationException), and PITR is per replica, off unless asked for.
            replicas=[
                aws.dynamodb.TableReplicaArgs(
                    region_name=args.replica_region,
                    kms_key_arn=args.key_arns[args.replica_region],
                    point_in_time_recovery=True,
                    propagate_tags=True,
                    deletion_protection_enabled=True,
                )
            ],
            # Auto scaling owns provisioned capacity once it is on.
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=["readCapacity", "writeCapacity"] if provisioned else None,
            ),
        )
        if provisioned:
            self._autoscaling(args, physical, table)
        self.table_name = table.name
        self.arns = {
            args.home_region: table.arn,
            args.replica_region: table.arn.apply(
                lambda arn: arn.replace(f":{args.home_region}:", f":{args.replica_region}:", 1)
            ),
        }
        self.stream_arn = table.stream_arn
        self.register_outputs(
            {"table_name": self.table_name, "arns": self.arns, "stream_arn": self.stream_arn}
        )

    def _autoscaling(self, args: GlobalTableArgs, physical: str, table: aws.dynamodb.Table) -> None:
        """Provisioned global tables must auto scale writes in every region (AWS requires it
        so replication never throttles); reads scale too."""
        t = args.table
        assert t.read_capacity is not None and t.write_capacity is not None
        for region in (args.home_region, args.replica_region):
            for kind, dimension, metric, floor in (
                (
                    "read",
                    "dynamodb:table:ReadCapacityUnits",
                    "DynamoDBReadCapacityUtilization",
                    t.read_capacity,
                ),
                (
                    "write",
                    "dynamodb:table:WriteCapacityUnits",
                    "DynamoDBWriteCapacityUtilization",
                    t.write_capacity,
                ),
            ):
                target = aws.appautoscaling.Target(
                    f"table-{t.name}-{kind}-{region}",
                    region=region,
                    service_namespace="dynamodb",
                    scalable_dimension=dimension,
                    resource_id=f"table/{physical}",
                    min_capacity=floor,
                    max_capacity=floor * 10,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[table]),
                )
                aws.appautoscaling.Policy(
                    f"table-{t.name}-{kind}-{region}",
                    region=region,
                    name=f"{physical}-{kind}-{region}",
                    policy_type="TargetTrackingScaling",
                    service_namespace=target.service_namespace,
                    scalable_dimension=target.scalable_dimension,
                    resource_id=target.resource_id,
                    target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                        predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                            predefined_metric_type=metric
                        ),
                        target_value=70,
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )
