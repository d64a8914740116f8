"""Cases of the analytics warehouse's rules (policies/redshift.py): the single-property changes
that make each fire, written by type so they also break the recorded stacks' own cluster."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from policies import resource_types as t
from preflight.model import RecordedResource
from tests.policies.mutations import Case, Override
from tests.policies.policy_support import DELETE, Computed, Mutation

M = Mutation
CLUSTER = t.REDSHIFT_CLUSTER


def _own_region(resource: RecordedResource, _resources: Sequence[RecordedResource]) -> list[Any]:
    """A snapshot copy "to" the region it copies from (the cluster's own)."""
    return [resource.inputs.get("region")]


def _cluster_region(resource: RecordedResource, resources: Sequence[RecordedResource]) -> list[Any]:
    """Move a snapshot copy grant into the cluster's region (away from the copies' region)."""
    return sorted({r.inputs.get("region") for r in resources if r.type == CLUSTER})


def _key_of_other_region(
    resource: RecordedResource, resources: Sequence[RecordedResource]
) -> list[Any]:
    """The ARN the cluster's key would have in the other region (a multi-region replica's)."""
    key = resource.inputs.get("kmsKeyId")
    region = resource.inputs.get("region")
    regions = {
        r.inputs.get("region") for r in resources if r.type == t.REDSHIFT_SNAPSHOT_COPY_GRANT
    }
    if not isinstance(key, str) or not key.startswith("arn:"):
        return []
    return [key.replace(f":{region}:", f":{other}:") for other in sorted(regions - {region})]


REDSHIFT_CASES: dict[str, Case] = {
    "redshift-cmk": Case(
        (
            M(CLUSTER, "kmsKeyId", DELETE),
            M(CLUSTER, "encrypted", "false"),
        ),
        ineffective=(
            M(CLUSTER, "kmsKeyId", "alias/aws/redshift", expect="AWS-managed"),
            M(CLUSTER, "kmsKeyId", Computed(_key_of_other_region), expect="is a key in"),
        ),
    ),
    "redshift-require-ssl": Case(
        (
            M(t.REDSHIFT_PARAMETER_GROUP, "parameters.0.value", "false", expect="require_ssl"),
            M(CLUSTER, "clusterParameterGroupName", DELETE),
        )
    ),
    "redshift-not-publicly-accessible": Case(
        (
            M(CLUSTER, "publiclyAccessible", True),
            M(CLUSTER, "clusterSubnetGroupName", DELETE),
        )
    ),
    "redshift-enhanced-vpc-routing": Case(
        (
            M(CLUSTER, "enhancedVpcRouting", False),
            M(CLUSTER, "enhancedVpcRouting", DELETE),
        )
    ),
    "redshift-audit-logging": Case(
        (
            M(t.REDSHIFT_LOGGING, "logExports", ["connectionlog", "userlog"]),
            M(t.REDSHIFT_LOGGING, "logDestinationType", "s3", expect="bucketName"),
        ),
        (
            Override(
                {"logExports": ["connectionlog"]},
                M(t.REDSHIFT_LOGGING, "logExports", ["connectionlog"]),
                fires=False,
            ),
        ),
    ),
    "redshift-snapshot-retention": Case(
        (
            M(CLUSTER, "automatedSnapshotRetentionPeriod", 1.0),
            M(CLUSTER, "automatedSnapshotRetentionPeriod", DELETE),
        ),
        (Override({"minDays": 36 - 1}),),
    ),
    "redshift-snapshot-copy": Case(
        (
            M(t.REDSHIFT_SNAPSHOT_COPY, "destinationRegion", Computed(_own_region)),
            M(t.REDSHIFT_SNAPSHOT_COPY, "retentionPeriod", 1.0),
            M(t.REDSHIFT_SNAPSHOT_COPY, "snapshotCopyGrantName", DELETE),
        ),
        (Override({"minRetentionDays": 35}),),
        ineffective=(
            M(
                t.REDSHIFT_SNAPSHOT_COPY_GRANT,
                "region",
                Computed(_cluster_region),
                expect="snapshotCopyGrantName",
            ),
            M(
                t.REDSHIFT_SNAPSHOT_COPY_GRANT,
                "kmsKeyId",
                "alias/aws/redshift",
                expect="AWS-managed",
            ),
        ),
    ),
    "redshift-admin-credentials": Case(
        (
            M(CLUSTER, "masterUsername", "awsuser"),
            M(CLUSTER, "manageMasterPassword", DELETE),
        )
    ),
    "redshift-version-upgrade": Case((M(CLUSTER, "allowVersionUpgrade", False),)),
    "cost-allowed-redshift-node-types": Case(
        # dc2.large is not in the price table either: the estimate is incomplete too
        (M(CLUSTER, "nodeType", "dc2.large", exact=False),),
        (Override({"allowed": ["ra3.4xlarge"]}),),
    ),
}
"""Every Redshift rule's cases."""
