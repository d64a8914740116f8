"""The active-region setting applications read to pick the DynamoDB write region: one SSM
parameter per region, same name, naming the primary; the drills find it through an output."""

from __future__ import annotations

import pytest

from tests.support.stacks import STACKS, recorded

PARAMETER = "aws:ssm/parameter:Parameter"
# (primary, secondary) of each stack file, copied by hand from the README's Stacks table.
PAIRS = {
    "dev": ("us-east-1", "us-west-2"),
    "staging": ("us-east-2", "us-west-2"),
    "prod": ("us-east-1", "us-west-2"),
}


@pytest.mark.parametrize("stack", STACKS)
def test_one_parameter_per_region_naming_the_primary(stack: str) -> None:
    rec = recorded(stack)
    primary, secondary = PAIRS[stack]
    name = f"/securecart/{stack}/dynamodb/active-region"
    parameters = {r.name: r for r in rec.by_type(PARAMETER)}
    assert set(parameters) == {f"active-region-{primary}", f"active-region-{secondary}"}
    pattern = "^(" + "|".join(sorted((primary, secondary))) + ")$"
    for region in (primary, secondary):
        assert parameters[f"active-region-{region}"].inputs == {
            "region": region,
            "name": name,
            "description": "Region applications write DynamoDB global tables in (moved by DR drills)",
            "type": "String",
            "tier": "Standard",
            "allowedPattern": pattern,
            # Not `value`: the SDK marks that secret, and a region name must stay readable.
            "insecureValue": primary,
        }
    assert rec.outputs["dynamodbActiveRegionParameter"] == name


@pytest.mark.parametrize("stack", STACKS)
def test_cache_outputs_carry_the_port_the_drill_writes_to(stack: str) -> None:
    rec = recorded(stack)
    groups = {r.name: r for r in rec.by_type("aws:elasticache/replicationGroup:ReplicationGroup")}
    for region, out in rec.outputs["cacheReplicationGroups"].items():
        assert out["port"] == 6379
        assert groups[f"cache-{region}"].inputs["port"] == 6379
