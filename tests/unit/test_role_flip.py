"""Swapping primaryRegion and secondaryRegion (what a drill does after a failover), over EVERY
resource of every stack: same URNs, and exactly the in-place changes listed below, each one an
update AWS accepts on its own (no replacement, no failover-role swap, no set-identifier change,
never two records of one name and role on the way)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import pytest

from preflight.changes import FORCE_NEW, ROUTE53_RECORD_SWAPPED, changed_inputs
from preflight.model import RecordedResource, Recording
from tests.support.stacks import STACKS, recorded

RECORD = "aws:route53/record:Record"

# Derived by hand from the design, not from the code: every regional resource is named by region
# and receives the same inputs in either role, the role-dependent inputs of the clusters and
# replication groups are ignored on purpose (below), the zone's VPC associations are ordered by
# region, and the only record whose target follows a role is cache.<zone> (the primary
# replication group's endpoint; writer.<zone> follows the global endpoint, which never changes).
SSM_PARAMETER = "aws:ssm/parameter:Parameter"
STACK_REGIONS = {
    "dev": ("us-east-1", "us-west-2"),
    "staging": ("us-east-2", "us-west-2"),
    "prod": ("us-east-1", "us-west-2"),
}


def expected_flip_changes(stack: str) -> dict[tuple[str, str], list[str]]:
    """The in-place changes of a swap of ``stack``'s regions (the README's Stacks table)."""
    return {
        (RECORD, "cache"): ["records"],
        # The active-region setting names the primary in both regions: a PutParameter with
        # Overwrite in each region (the name stays, nothing is replaced).
        **{
            (SSM_PARAMETER, f"active-region-{region}"): ["insecureValue"]
            for region in STACK_REGIONS[stack]
        },
    }


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


def _changes(normal: Recording, flipped: Recording) -> dict[tuple[str, str], list[str]]:
    after = {r.urn: r for r in flipped.resources}
    return {
        (r.type, r.name): keys
        for r in normal.resources
        if (keys := changed_inputs(r, after[r.urn]))
    }


def _record_sets_are_valid(records: Iterable[RecordedResource]) -> None:
    """What Route 53 requires of the records of one zone at any moment: a simple record is alone
    with its name and type; routed records of one name carry distinct set identifiers, and a
    failover name has at most one PRIMARY and one SECONDARY."""
    groups: dict[tuple[str, str, str], list[RecordedResource]] = {}
    for record in records:
        key = (str(record.inputs["zoneId"]), str(record.inputs["name"]), str(record.inputs["type"]))
        groups.setdefault(key, []).append(record)
    for key, members in groups.items():
        identifiers = [m.inputs.get("setIdentifier") for m in members]
        if None in identifiers:
            assert len(members) == 1, (key, [m.name for m in members])
            continue
        assert len(set(identifiers)) == len(identifiers), (key, identifiers)
        roles = Counter(
            p["type"] for m in members for p in m.inputs.get("failoverRoutingPolicies") or []
        )
        assert all(count == 1 for count in roles.values()), (key, roles)


@pytest.mark.parametrize("stack", STACKS)
def test_swap_keeps_every_urn(stack: str) -> None:
    normal, flipped = _swapped(stack)
    assert {r.urn for r in normal.resources} == {r.urn for r in flipped.resources}


@pytest.mark.parametrize("stack", STACKS)
def test_swap_changes_exactly_the_listed_inputs_of_all_resources(stack: str) -> None:
    normal, flipped = _swapped(stack)
    assert len(normal.resources) >= 150
    assert _changes(normal, flipped) == expected_flip_changes(stack)


@pytest.mark.parametrize("stack", STACKS)
def test_every_change_is_one_update_aws_accepts(stack: str) -> None:
    normal, flipped = _swapped(stack)
    for (type_token, name), keys in _changes(normal, flipped).items():
        replacing = (FORCE_NEW.get(type_token, frozenset()) | {"region"}) & set(keys)
        assert not replacing, (name, replacing)
        if type_token == RECORD:
            # An UPSERT of the target only: no DELETE + CREATE of the record set, no role flip.
            assert not ROUTE53_RECORD_SWAPPED & set(keys), (name, keys)
            assert "failoverRoutingPolicies" not in keys, name
    # The provider sends one change batch per record, in an order it chooses: the zone must be
    # valid before, after and after each single record change, in either order.
    before = {r.urn: r for r in normal.by_type(RECORD)}
    after = {r.urn: r for r in flipped.by_type(RECORD)}
    moved = [urn for urn in before if changed_inputs(before[urn], after[urn])]
    for order in (moved, moved[::-1]):
        state = dict(before)
        _record_sets_are_valid(state.values())
        for urn in order:
            state[urn] = after[urn]
            _record_sets_are_valid(state.values())
    for record in [*before.values(), *after.values()]:
        assert "failoverRoutingPolicies" not in record.inputs, record.name


@pytest.mark.parametrize("stack", STACKS)
def test_ignored_force_new_inputs_are_only_the_documented_role_fields(stack: str) -> None:
    normal, flipped = _swapped(stack)
    after = {r.urn: r for r in flipped.resources}
    for resource in normal.resources:
        force_new = FORCE_NEW.get(resource.type, frozenset()) | {"region"}
        hidden = force_new & set(resource.ignore_changes)
        assert hidden <= ROLE_FIELDS.get(resource.type, set()), (resource.urn, hidden)
        for key in force_new - hidden:
            assert resource.inputs.get(key) == after[resource.urn].inputs.get(key), (
                resource.urn,
                key,
            )


@pytest.mark.parametrize("stack", ["dev"])
def test_swap_moves_the_writer_roles(stack: str) -> None:
    normal, flipped = _swapped(stack)
    new_primary = flipped.outputs["primaryRegion"]
    (cluster,) = [r for r in flipped.by_type("aws:rds/cluster:Cluster") if r.region == new_primary]
    assert "masterUsername" in cluster.inputs
    (group,) = flipped.by_type("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup")
    assert group.inputs["primaryReplicationGroupId"] == f"sc-dev-cache-{new_primary}"
    cache = next(r for r in flipped.by_type(RECORD) if r.name == "cache")
    assert cache.inputs["records"] == [
        flipped.outputs["cacheReplicationGroups"][new_primary]["primaryEndpoint"]
    ]
    # The writer name needs no change at all: the global endpoint follows the writer.
    writer = next(r for r in flipped.by_type(RECORD) if r.name == "writer")
    assert writer.inputs["records"] == [normal.outputs["writerEndpoint"]]


def _failover_record(region: str, role: str) -> RecordedResource:
    return RecordedResource(
        urn=f"urn:pulumi:dev::securecart-data::{RECORD}::writer-{region}",
        type=RECORD,
        name=f"writer-{region}",
        custom=True,
        inputs={
            "zoneId": "Z1",
            "name": "writer.data.securecart.internal",
            "type": "CNAME",
            "setIdentifier": region,
            "failoverRoutingPolicies": [{"type": role}],
        },
        parent=None,
        provider=None,
    )


def test_the_record_check_catches_the_old_failover_role_swap() -> None:
    """The design this replaces: swapping PRIMARY/SECONDARY in place, one record at a time,
    leaves two PRIMARY records of one name after the first upsert (Route 53 refuses it)."""
    east, west = (
        _failover_record("us-east-1", "PRIMARY"),
        _failover_record("us-west-2", "SECONDARY"),
    )
    _record_sets_are_valid([east, west])
    first_upsert = _failover_record("us-west-2", "PRIMARY")
    with pytest.raises(AssertionError):
        _record_sets_are_valid([east, first_upsert])
