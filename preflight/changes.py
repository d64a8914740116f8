"""What a change to a planned resource does: one definition for the drills' offline preview and
the data tier's role-flip proof.

``FORCE_NEW`` lists, per type, the inputs whose change makes the provider replace the resource
(its ForceNew fields): every stateful type, and the other types of this program that a region
swap could touch (records, health checks, alarms, parameter groups). A change of ``region``
replaces every regional resource. ``ROUTE53_RECORD_SWAPPED`` are the record inputs the provider
changes in place by a DELETE + CREATE batch rather than an UPSERT (terraform-provider-aws
route53 record update): a swap must not touch them either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from preflight.model import RecordedResource

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""Pulumi's marker for a value unknown during preview."""

STATEFUL_TYPES = frozenset(
    {
        "aws:rds/globalCluster:GlobalCluster",
        "aws:rds/cluster:Cluster",
        "aws:rds/clusterInstance:ClusterInstance",
        "aws:dynamodb/table:Table",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
        "aws:kms/key:Key",
        "aws:kms/replicaKey:ReplicaKey",
        "aws:secretsmanager/secret:Secret",
        "aws:backup/vault:Vault",
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:route53/zone:Zone",
        "random:index/randomPassword:RandomPassword",
    }
)
"""Resources whose replacement or deletion loses data, breaks replication or (VPC, subnet,
zone, generated password) drags the data stores with it."""

FORCE_NEW: Mapping[str, frozenset[str]] = {
    "aws:rds/globalCluster:GlobalCluster": frozenset(
        {
            "globalClusterIdentifier",
            "engine",
            "databaseName",
            "sourceDbClusterIdentifier",
            "storageEncrypted",
        }
    ),
    "aws:rds/cluster:Cluster": frozenset(
        {
            "clusterIdentifier",
            "engine",
            "engineMode",
            "availabilityZones",
            "databaseName",
            "masterUsername",
            "kmsKeyId",
            "storageEncrypted",
            "dbSubnetGroupName",
            "snapshotIdentifier",
            "sourceRegion",
            "restoreToPointInTime",
            "s3Import",
        }
    ),
    "aws:rds/clusterInstance:ClusterInstance": frozenset(
        {"identifier", "clusterIdentifier", "engine", "availabilityZone", "dbSubnetGroupName"}
    ),
    "aws:dynamodb/table:Table": frozenset({"name", "hashKey", "rangeKey", "localSecondaryIndexes"}),
    "aws:elasticache/replicationGroup:ReplicationGroup": frozenset(
        {
            "replicationGroupId",
            "atRestEncryptionEnabled",
            "kmsKeyId",
            "subnetGroupName",
            "globalReplicationGroupId",
            "port",
            "snapshotArns",
            "snapshotName",
        }
    ),
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": frozenset(
        {"globalReplicationGroupIdSuffix", "primaryReplicationGroupId"}
    ),
    "aws:kms/key:Key": frozenset({"multiRegion", "customerMasterKeySpec", "keySpec", "keyUsage"}),
    "aws:kms/replicaKey:ReplicaKey": frozenset({"primaryKeyArn"}),
    "aws:backup/vault:Vault": frozenset({"name", "kmsKeyArn"}),
    "aws:secretsmanager/secret:Secret": frozenset({"name", "namePrefix"}),
    "aws:ec2/vpc:Vpc": frozenset({"cidrBlock"}),
    "aws:ec2/subnet:Subnet": frozenset({"cidrBlock", "availabilityZone", "vpcId"}),
    "aws:route53/zone:Zone": frozenset({"name", "delegationSetId"}),
    # Route 53 (terraform-provider-aws route53 record/health check schemas): a record is keyed by
    # zone and name; a health check's type and caller reference are fixed at creation.
    "aws:route53/record:Record": frozenset({"name", "zoneId"}),
    "aws:route53/healthCheck:HealthCheck": frozenset(
        {"type", "referenceName", "measureLatency", "requestInterval", "routingControlArn"}
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": frozenset({"name"}),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": frozenset(
        {"name", "namePrefix", "family", "description"}
    ),
    "aws:sns/topic:Topic": frozenset({"name", "namePrefix", "fifoTopic"}),
}

ROUTE53_RECORD_SWAPPED = frozenset({"type", "setIdentifier"})
"""Record inputs whose change is a DELETE + CREATE of the record set (one batch), not an UPSERT."""


def _effective(inputs: Mapping[str, Any], ignore_changes: tuple[str, ...]) -> dict[str, Any]:
    """Inputs the engine compares: without the top-level fields of ``ignore_changes``."""
    ignored = {path.split(".")[0].split("[")[0] for path in ignore_changes}
    return {k: v for k, v in inputs.items() if k not in ignored}


def _unknown(value: Any) -> bool:
    return isinstance(value, str) and value == UNKNOWN


def changed_inputs(prior: RecordedResource, current: RecordedResource) -> list[str]:
    """Inputs that differ between two registrations of one resource, as the engine would diff
    them (the current ``ignore_changes`` applies; values unknown on either side are skipped)."""
    old = _effective(prior.inputs, current.ignore_changes)
    new = _effective(current.inputs, current.ignore_changes)
    return [
        key
        for key in sorted(set(old) | set(new))
        if not (_unknown(old.get(key)) or _unknown(new.get(key))) and old.get(key) != new.get(key)
    ]


def replacing_inputs(resource_type: str, changed: list[str]) -> tuple[str, ...]:
    """The changed inputs that force a replacement."""
    force_new = FORCE_NEW.get(resource_type, frozenset())
    return tuple(key for key in changed if key == "region" or key in force_new)
