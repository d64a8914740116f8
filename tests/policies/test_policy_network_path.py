"""The network-app-path rule (issue 16 item 5): passes on the path components/peering.py builds,
fails, with the missing piece named, when any part of it is gone, and can exempt a VPC."""

from __future__ import annotations

from policies import RULES_BY_NAME
from policies import resource_types as t
from preflight.model import RecordedResource
from tests.policies.policy_support import EAST, WEST, golden_stack, mutate, run_rule
from tests.support.stacks import STACKS, recorded

RULE = RULES_BY_NAME["network-app-path"]
APP = "vpc-0a1b2c3d"
ZONE = "dns-zone (aws:route53/zone:Zone)"


def _without(stack: list[RecordedResource], *names: str) -> list[RecordedResource]:
    return [r for r in stack if r.name not in names]


def test_the_golden_path_and_every_recorded_stack_pass() -> None:
    assert run_rule(RULE, golden_stack()) == []
    for stack in STACKS:
        assert run_rule(RULE, list(recorded(stack).resources)) == [], stack


def test_no_peering_with_one_data_region_is_refused() -> None:
    stack = _without(
        golden_stack(), f"peer-{WEST}", "peer-accept-us-west-2", f"route-{WEST}-to-app"
    )
    stack = _without(stack, f"route-app-to-{WEST}")
    assert run_rule(RULE, stack) == [
        f"{ZONE}: `vpcs` associates application VPC {APP} ({EAST}), which has no VPC peering "
        f"connection with the data VPC in {WEST}: it resolves the data tier's names but cannot "
        "reach them (after a failover the writer may be there). Fix: peer "
        f"{APP} with the data VPC of {WEST} (networkAppPeering) and route both ways, or exempt "
        "it (exemptVpcIds) if a Transit Gateway connects it"
    ]


def test_a_missing_route_either_way_or_acceptance_is_named() -> None:
    (message,) = run_rule(RULE, _without(golden_stack(), f"route-{EAST}-to-app"))
    assert message.startswith(f"peer-{EAST} (aws:ec2/vpcPeeringConnection:VpcPeeringConnection)")
    assert f"has no route to {APP} in the data route tables of {EAST}" in message
    (message,) = run_rule(RULE, _without(golden_stack(), f"route-app-to-{WEST}"))
    assert f"has no route back from {APP}'s route tables to the data VPC of {WEST}" in message
    stack = golden_stack()
    accepter = next(r for r in stack if r.type == t.VPC_PEERING_ACCEPTER)
    refused = [mutate(accepter, "autoAccept", False) if r is accepter else r for r in stack]
    (message,) = run_rule(RULE, refused)
    assert message.startswith(f"peer-{WEST} (aws:ec2/vpcPeeringConnection:VpcPeeringConnection)")
    assert f"is not accepted by an accepter in {EAST}" in message


def test_a_vpc_reached_another_way_can_be_exempted() -> None:
    stack = _without(golden_stack(), f"peer-{WEST}", "peer-accept-us-west-2")
    assert run_rule(RULE, stack)
    assert run_rule(RULE, stack, config={"exemptVpcIds": [APP]}) == []
    assert run_rule(RULE, stack, config={"exemptVpcIds": ["vpc-99999999"]})


def test_a_recorded_stack_without_its_peering_fails_for_each_pair() -> None:
    rec = recorded("staging")
    kept = [r for r in rec.resources if r.type not in {t.VPC_PEERING, t.VPC_PEERING_ACCEPTER}]
    messages = run_rule(RULE, kept)
    # Two application VPCs (us-east-2, us-west-2) x two data regions.
    assert len(messages) == 4
    assert all("has no VPC peering connection" in m for m in messages)
