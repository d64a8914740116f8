"""Swapping primaryRegion and secondaryRegion (what a drill does after a failover) must not
replace or delete anything stateful: same URNs, same inputs outside the fields the components
deliberately ignore (each ignore is documented where it is set)."""

from __future__ import annotations

import pytest

from preflight.changes import FORCE_NEW, STATEFUL_TYPES, changed_inputs
from preflight.model import Recording
from tests.support.stacks import STACKS, recorded

# Force-new inputs that a component ignores on purpose, because they follow the role and AWS
# (not Pulumi) moves the role: each is explained where the component sets ignore_changes.
ROLE_FIELDS: dict[str, set[str]] = {
    "aws:rds/cluster:Cluster": {"masterUsername", "databaseName"},
    "aws:elasticache/replicationGroup:ReplicationGroup": {
        "globalReplicationGroupId",
        "atRestEncryptionEnabled",
    },
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": {
        "primaryReplicationGroupId",
        "region",
    },
}


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
    changed = {urn: keys for urn, r in before.items() if (keys := changed_inputs(r, after[urn]))}
    assert changed == {}
    for urn, resource in before.items():
        force_new = FORCE_NEW.get(resource.type, frozenset()) | {"region"}
        hidden = force_new & set(resource.ignore_changes)
        assert hidden <= ROLE_FIELDS.get(resource.type, set()), (urn, hidden)
        for key in force_new - hidden:
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
