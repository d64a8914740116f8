"""backup-coverage and the global tables backed up once: a replica is covered by the copies its
home replica's plan puts in the replica's region, and by nothing else of the other region."""

from __future__ import annotations

import dataclasses

from policies import resource_types as t
from preflight.model import RecordedResource
from tests.policies.policy_support import rule, run_rule
from tests.support.stacks import recorded

COVERAGE = rule("backup-coverage")


def _with(r: RecordedResource, key: str, value: object) -> RecordedResource:
    """The resource with one property changed in its inputs and its outputs (AnalyzeStack's)."""
    return dataclasses.replace(
        r, inputs={**r.inputs, key: value}, outputs={**r.outputs, key: value}
    )


def _without_copies(resources: list[RecordedResource], region: str) -> list[RecordedResource]:
    out = []
    for r in resources:
        if r.type == t.BACKUP_PLAN and r.inputs.get("region") == region:
            rules = [{**rule_, "copyActions": []} for rule_ in r.inputs["rules"]]
            out.append(_with(r, "rules", rules))
        else:
            out.append(r)
    return out


def test_prod_replicas_are_covered_by_the_copies_of_their_home_plan() -> None:
    resources = list(recorded("prod").resources)
    west = [
        r
        for r in resources
        if r.type == t.BACKUP_SELECTION and r.inputs.get("region") == "us-west-2"
    ]
    assert west and not any(":dynamodb:" in a for s in west for a in s.inputs["resources"])
    assert run_rule(COVERAGE, resources) == []


def test_without_the_home_plans_copy_the_replicas_are_uncovered() -> None:
    resources = _without_copies(list(recorded("prod").resources), "us-east-1")
    messages = run_rule(COVERAGE, resources)
    # carts, sessions, order-history and the drills' lease table: their us-west-2 replicas
    assert len(messages) == 4
    assert all('no backup plan in "us-west-2" selects the replica' in m for m in messages)
    assert all(
        "or copy its home replica's recovery points to a vault in us-west-2" in m for m in messages
    )


def test_a_table_its_home_selection_drops_is_uncovered_in_both_regions() -> None:
    resources = []
    for r in recorded("prod").resources:
        if r.type == t.BACKUP_SELECTION and r.inputs.get("region") == "us-east-1":
            kept = [a for a in r.inputs["resources"] if ":dynamodb:" not in a]
            r = _with(r, "resources", kept)  # noqa: PLW2901
        resources.append(r)
    messages = run_rule(COVERAGE, resources)
    # the three data tables and the drills' lease table
    assert sum("selects the table" in m for m in messages) == 4
    assert sum('selects the replica in "us-west-2"' in m for m in messages) == 4
