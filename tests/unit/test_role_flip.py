"""Swapping primaryRegion and secondaryRegion (what a drill does after a failover) must not
replace or delete anything stateful: same URNs, same inputs outside the fields the components
deliberately ignore (each ignore is documented where it is set)."""

from __future__ import annotations

import pytest

from preflight.model import RecordedResource, Recording
from tests.support.stacks import STACKS, STATEFUL_TYPES, recorded

# Inputs that force replacement per stateful type (from the provider's schema): none of these
# may change under a swap, and none may hide behind ignore_changes.
FORCE_NEW: dict[str, tuple[str, ...]] = {
    "aws:rds/globalCluster:GlobalCluster": (
        "globalClusterIdentifier",
        "engine",
        "storageEncrypted",
        "region",
    ),
    "aws:rds/cluster:Cluster": (
        "clusterIdentifier",
        "engine",
        "engineMode",
        "availabilityZones",
        "kmsKeyId",
        "storageEncrypted",
        "dbSubnetGroupName",
        "region",
    ),
    "aws:rds/clusterInstance:ClusterInstance": (
        "identifier",
        "clusterIdentifier",
        "engine",
        "availabilityZone",
        "region",
    ),
    "aws:dynamodb/table:Table": ("name", "hashKey", "rangeKey", "region"),
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "replicationGroupId",
        "kmsKeyId",
        "subnetGroupName",
        "port",
        "region",
    ),
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": (
        "globalReplicationGroupIdSuffix",
    ),
    "aws:kms/key:Key": ("multiRegion", "keyUsage", "customerMasterKeySpec", "region"),
    "aws:kms/replicaKey:ReplicaKey": ("primaryKeyArn", "region"),
    "aws:secretsmanager/secret:Secret": ("name", "region"),
    "aws:backup/vault:Vault": ("name", "kmsKeyArn", "region"),
    "aws:ec2/vpc:Vpc": ("cidrBlock", "region"),
    "aws:ec2/subnet:Subnet": ("cidrBlock", "availabilityZone", "region"),
}


def _effective(resource: RecordedResource) -> dict[str, object]:
    return {k: v for k, v in resource.inputs.items() if k not in resource.ignore_changes}


def _swapped(stack: str) -> tuple[Recording, Recording]:
    normal = recorded(stack)
    primary, secondary = normal.outputs["primaryRegion"], normal.outputs["secondaryRegion"]
    flipped = recorded(stack, f"primaryRegion={secondary}", f"secondaryRegion={primary}")
    assert flipped.outputs["primaryRegion"] == secondary
    return normal, flipped


@pytest.mark.parametrize("stack", STACKS)
def test_swap_keeps_every_urn(stack: str) -> None:
    normal, flipped = _swapped(stack)
    assert {r.urn for r in normal.resources} == {r.urn for r in flipped.resources}


@pytest.mark.parametrize("stack", STACKS)
def test_swap_changes_no_stateful_input(stack: str) -> None:
    normal, flipped = _swapped(stack)
    before = {r.urn: r for r in normal.resources if r.type in STATEFUL_TYPES}
    after = {r.urn: r for r in flipped.resources if r.type in STATEFUL_TYPES}
    assert len(before) >= 40
    changed = {
        urn: sorted(
            k
            for k in set(_effective(r)) | set(_effective(after[urn]))
            if _effective(r).get(k) != _effective(after[urn]).get(k)
        )
        for urn, r in before.items()
        if _effective(r) != _effective(after[urn])
    }
    assert changed == {}
    for urn, resource in before.items():
        for key in FORCE_NEW.get(resource.type, ()):
            assert key not in resource.ignore_changes, (urn, key)
            assert resource.inputs.get(key) == after[urn].inputs.get(key), (urn, key)


@pytest.mark.parametrize("stack", ["dev"])
def test_swap_moves_the_writer_roles(stack: str) -> None:
    _normal, flipped = _swapped(stack)
    new_primary = flipped.outputs["primaryRegion"]
    (cluster,) = [r for r in flipped.by_type("aws:rds/cluster:Cluster") if r.region == new_primary]
    assert "masterUsername" in cluster.inputs
    writer = next(
        r for r in flipped.by_type("aws:route53/record:Record") if r.name == f"writer-{new_primary}"
    )
    assert writer.inputs["failoverRoutingPolicies"] == [{"type": "PRIMARY"}]
    (group,) = flipped.by_type("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup")
    assert group.inputs["primaryReplicationGroupId"] == f"sc-dev-cache-{new_primary}"
