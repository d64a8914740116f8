"""The budget gate served as the engine serves the pack, driven over the Analyzer gRPC protocol.

A one-instance stack keeps the figures hand-checkable: one db.r6g.large for 730 h at $0.26 is
$189.80 a month (reserved 1y: 730 h x $0.208 = $151.84); its cluster's usage-driven lines are
zeroed by the usage in the rule's config unless a test sets them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policies import resource_types as t
from policies.budget_gate import NAME
from preflight.analyzer import Diagnostic, PolicyServer
from preflight.model import RecordedResource
from tests.policies.policy_support import make
from tests.support.stacks import STACKS, recorded

REPO = Path(__file__).resolve().parents[2]
QUIET = {
    "aurora": {"storageGb": 0, "writeIoPerSecond": 0, "readIoPerSecond": 0},
    "backup": {"dailyChangePercent": 0},
}


def _budget(limit: str) -> RecordedResource:
    return make(
        t.BUDGET,
        "budget",
        {
            "budgetType": "COST",
            "timeUnit": "MONTHLY",
            "limitAmount": limit,
            "limitUnit": "USD",
            "notifications": [{"subscriberEmailAddresses": ["a@example.com"]}],
        },
    )


def _one_instance(limit: str) -> list[RecordedResource]:
    return [
        make(
            t.RDS_CLUSTER,
            "aurora-us-east-1",
            {
                "region": "us-east-1",
                "engine": "aurora-postgresql",
                "masterUsername": "admin",
                "backupRetentionPeriod": 1.0,
            },
        ),
        make(
            t.RDS_CLUSTER_INSTANCE,
            "aurora-us-east-1-1",
            {"region": "us-east-1", "instanceClass": "db.r6g.large", "engine": "aurora-postgresql"},
        ),
        _budget(limit),
    ]


@pytest.fixture(scope="module")
def server() -> Iterator[PolicyServer]:
    with PolicyServer(REPO / "policies") as running:
        yield running


def _gate(
    server: PolicyServer, resources: list[RecordedResource], config: dict[str, Any]
) -> list[Diagnostic]:
    server.configure(config)
    server.remember(resources)
    return [d for d in server.analyze_stack(resources) if d.policy_name == NAME]


def test_the_pack_describes_the_gate_with_bounded_config(server: PolicyServer) -> None:
    info = {p.name: p for p in server.info()}[NAME]
    assert info.policy_type == "stack"
    headroom = info.config_schema["headroomPercent"]
    assert (headroom["type"], headroom["minimum"], headroom["maximum"], headroom["default"]) == (
        "number",
        0,
        90,
        10,
    )
    assert info.config_schema["compareWith"]["enum"] == ["on-demand", "reserved-1y", "reserved-3y"]
    usage = info.config_schema["usage"]
    assert usage["additionalProperties"] is False
    assert usage["properties"]["aurora"]["properties"]["storageGb"]["maximum"] == 131072


@pytest.mark.parametrize(
    ("headroom", "fires"),
    [
        (10, True),  # allows $200 x 0.90 = $180 < $189.80
        (5, False),  # allows $190 >= $189.80
        (0, False),
    ],
)
def test_headroom_decides(server: PolicyServer, headroom: int, fires: bool) -> None:
    found = _gate(
        server,
        _one_instance("200.00"),
        {"all": "mandatory", NAME: {"headroomPercent": headroom, "usage": QUIET}},
    )
    assert bool(found) is fires
    if fires:
        (diagnostic,) = found
        assert diagnostic.enforcement_level == "mandatory"
        assert diagnostic.urn.endswith("::budget")
        message = diagnostic.message
        assert "budget (aws:budgets/budget:Budget): `limitAmount` is 200 USD" in message
        assert "the estimated monthly cost (on-demand) is $189.80, above the $180.00" in message
        assert "10% headroom" in message and "aurora $189.80" in message
        assert "raise budgetMonthlyLimitUsd" in message


def test_advisory_where_the_stack_config_says_so(server: PolicyServer) -> None:
    (diagnostic,) = _gate(
        server,
        _one_instance("100.00"),
        {"all": "mandatory", NAME: {"enforcementLevel": "advisory", "usage": QUIET}},
    )
    assert diagnostic.enforcement_level == "advisory"


def test_reserved_totals_can_be_what_the_budget_covers(server: PolicyServer) -> None:
    config = {"all": "mandatory", NAME: {"usage": QUIET, "compareWith": "reserved-1y"}}
    # reserved 1y: $151.84 <= $180 allowed
    assert _gate(server, _one_instance("200.00"), config) == []
    # $160 budget allows $144 < $151.84
    (diagnostic,) = _gate(server, _one_instance("160.00"), config)
    assert "(reserved-1y) is $151.84" in diagnostic.message


def test_the_usage_in_the_config_reaches_the_rule(server: PolicyServer) -> None:
    usage = {**QUIET, "aurora": {**QUIET["aurora"], "storageGb": 200}}
    # 200 GB x $0.10 = $20 more: $209.80 > $190 allowed with 5% headroom
    (diagnostic,) = _gate(
        server, _one_instance("200.00"), {NAME: {"headroomPercent": 5, "usage": usage}}
    )
    assert "is $209.80" in diagnostic.message


def test_a_bad_usage_copy_is_reported_naming_the_key(server: PolicyServer) -> None:
    (diagnostic,) = _gate(
        server, _one_instance("200.00"), {NAME: {"usage": {"aurora": {"storageGb": -1}}}}
    )
    assert "usage key 'aurora.storageGb' has value -1" in diagnostic.message
    assert "python -m preflight.cost --sync" in diagnostic.message
    assert diagnostic.urn == ""


def test_no_budget_or_an_unknown_limit_stays_quiet(server: PolicyServer) -> None:
    stack = _one_instance("200.00")
    assert _gate(server, stack[:2], {NAME: {"headroomPercent": 90}}) == []
    unknown = dataclasses.replace(
        stack[2], inputs={**stack[2].inputs, "limitAmount": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}
    )
    assert _gate(server, [*stack[:2], unknown], {NAME: {"headroomPercent": 90}}) == []


def _with_budget(resources: list[RecordedResource], limit: str) -> list[RecordedResource]:
    return [
        dataclasses.replace(r, inputs={**r.inputs, "limitAmount": limit})
        if r.type == t.BUDGET
        else r
        for r in resources
    ]


def _config(stack: str) -> dict[str, Any]:
    return json.loads((REPO / "stacks" / f"policy-config.{stack}.json").read_text())


@pytest.mark.parametrize("stack", STACKS)
def test_each_recorded_stack_fits_its_budget_and_fails_a_tenth_of_it(
    server: PolicyServer, stack: str
) -> None:
    resources = list(recorded(stack).resources)
    assert _gate(server, resources, _config(stack)) == []
    budget = next(r for r in resources if r.type == t.BUDGET)
    tenth = f"{float(budget.inputs['limitAmount']) / 10:.2f}"
    (diagnostic,) = _gate(server, _with_budget(resources, tenth), _config(stack))
    assert diagnostic.enforcement_level == ("mandatory" if stack == "prod" else "advisory")
    assert f"`limitAmount` is {float(tenth):g} USD" in diagnostic.message


def test_the_report_shows_the_budget_the_gate_judges() -> None:
    """preflight's report and the gate agree on "the budget": the lowest monthly COST budget."""
    from preflight.cost import _budget
    from preflight.model import RecordedResource

    def budget(name: str, **inputs: object) -> RecordedResource:
        return RecordedResource(
            urn=f"urn:pulumi:dev::p::aws:budgets/budget:Budget::{name}",
            type="aws:budgets/budget:Budget",
            name=name,
            custom=True,
            inputs={"budgetType": "COST", "timeUnit": "MONTHLY", **inputs},
            parent=None,
            provider=None,
        )

    annual = budget("annual", timeUnit="ANNUALLY", limitAmount="100")
    usage = budget("usage", budgetType="USAGE", limitAmount="50")
    big, small = budget("big", limitAmount="5000"), budget("small", limitAmount="2500.5")
    assert _budget([annual, usage, big, small]) == 2500.5
    assert _budget([annual, usage]) is None
    assert _budget([budget("unset-unit", timeUnit=None, limitAmount="700")]) == 700.0


def _with_unpriced_instance(limit: str) -> list[RecordedResource]:
    stack = _one_instance(limit)
    extra = next(r for r in stack if r.type == t.RDS_CLUSTER_INSTANCE)
    return [
        *stack,
        RecordedResource(
            urn=extra.urn + "-r8g",
            type=extra.type,
            name=extra.name + "-r8g",
            custom=True,
            inputs={**extra.inputs, "instanceClass": "db.r8g.large"},
            parent=None,
            provider=None,
        ),
    ]


def test_the_gate_does_not_pass_an_incomplete_estimate(server: PolicyServer) -> None:
    # priced part: one db.r6g.large, 730 h x $0.26 = $189.80, within the $1,800 allowed
    assert _gate(server, _one_instance("2000.00"), {NAME: {"usage": QUIET}}) == []
    (diagnostic,) = _gate(server, _with_unpriced_instance("2000.00"), {NAME: {"usage": QUIET}})
    assert "the priced part of the estimate (on-demand) is $189.80" in diagnostic.message
    assert "within the $1,800.00 allowed" in diagnostic.message
    assert "cannot confirm" in diagnostic.message
    assert "1 item(s) not priced" in diagnostic.message
    assert "aurora.instance/aurora-postgresql/db.r8g.large" in diagnostic.message


def test_an_incomplete_estimate_already_over_is_over_at_least(server: PolicyServer) -> None:
    # $189.80 priced > $90 allowed (budget $100, 10% headroom)
    (diagnostic,) = _gate(server, _with_unpriced_instance("100.00"), {NAME: {"usage": QUIET}})
    assert "is at least $189.80 (1 item(s) not priced" in diagnostic.message
    assert "above the $90.00" in diagnostic.message
