"""The pack's cost is linear in the size of the stack (issue 22).

Plans: prod as it is (3 DynamoDB tables, 197 resources), and prod with 24 and 45 tables through
the same ``--set dynamodbTables=...`` the scale benchmark uses (``preflight.bench_scale``): the
part of the plan that grows (each table with its global table, replicas and alarms) is 8 times
bigger in the second plan, and grows again by the same number of tables in the third.

Work is counted, not timed: every Python and builtin function call (cProfile's count), after a
warm-up call, so the counts are deterministic and the machine's load does not matter. For every
rule of ALL_RULES (rules added later are held too):

- the work on the plan with 8 times the tables is at most 10 times the work on prod;
- the work is linear: the second step of 21 tables costs no more than the first.

A rule that compared tables pairwise (or scanned the stack for every table) fails both.
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from policies import ALL_RULES, PACK_NAME, Rule
from policies import _decode_once as decode_once
from policies._values import Res, StackView
from preflight.analyzer import PolicyServer
from preflight.bench_scale import scale_overrides
from preflight.model import RecordedResource
from preflight.pipeline import stack_resources
from tests.support.stacks import recorded

TABLES = (3, 24, 45)
"""prod's own 3 tables, 8 times as many, and 21 more again."""
ROOT = Path(__file__).resolve().parents[2]


def _plan(tables: int) -> list[RecordedResource]:
    overrides = scale_overrides(tables, ROOT) if tables != 3 else []
    return stack_resources(recorded("prod", *overrides).resources)


def _views(resources: list[RecordedResource]) -> StackView:
    return StackView(
        [
            Res(
                type=r.type,
                name=r.name,
                urn=r.urn,
                props=r.inputs,
                parent=r.parent,
                dependencies=frozenset(r.dependencies),
                property_dependencies={k: frozenset(v) for k, v in r.property_dependencies.items()},
            )
            for r in resources
        ]
    )


@pytest.fixture(scope="module")
def stacks() -> list[StackView]:
    return [_views(_plan(n)) for n in TABLES]


def calls(action: Callable[[], object]) -> int:
    """Function calls (Python and builtin) ``action`` makes, after a warm-up run."""
    action()
    profile = cProfile.Profile()
    profile.enable()
    action()
    profile.disable()
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def _run(rule: Rule, stack: StackView) -> Callable[[], object]:
    if rule.kind == "stack":
        return lambda: rule.evaluate_stack(stack)
    return lambda: [rule.evaluate(r) for r in stack.resources]


def assert_linear(what: str, work: list[int]) -> None:
    small, eight, more = work
    assert eight <= 10 * small, f"{what}: {eight} calls with 8x the tables, {small} with prod's"
    first, second = eight - small, more - eight
    # A rule whose work does not depend on the tables wobbles by a few calls either way (a
    # first step of -19 is no growth): the second step is held to the first's growth, at least 0.
    assert second <= 1.1 * max(first, 0) + 20, (
        f"{what} grows faster than the stack: +{first} calls for the first 21 tables,"
        f" +{second} for the next 21 ({work})"
    )


def test_the_plans_grow_as_intended(stacks: list[StackView]) -> None:
    tables = [len(s.of_type("aws:dynamodb/table:Table")) for s in stacks]
    assert tables == [n + 1 for n in TABLES]  # and the drills' lease table
    sizes = [len(s.resources) for s in stacks]
    assert sizes[2] - sizes[1] == sizes[1] - sizes[0] > 0  # each table brings the same resources


@pytest.mark.parametrize("rule", ALL_RULES, ids=[r.name for r in ALL_RULES])
def test_every_rule_is_linear_in_the_stack(rule: Rule, stacks: list[StackView]) -> None:
    assert_linear(rule.name, [calls(_run(rule, stack)) for stack in stacks])


# --- the served pack ---------------------------------------------------------------------------


def _servicer() -> Any:
    decode_once.install()
    return _PolicyAnalyzerServicer(
        PACK_NAME, "0.0.1", [rule.policy for rule in ALL_RULES], EnforcementLevel.MANDATORY
    )


def _stack_request(resources: list[RecordedResource]) -> analyzer_pb2.AnalyzeStackRequest:
    return PolicyServer(ROOT / "policies")._analyze_stack_request(resources)


def _decodes(action: Callable[[], object], monkeypatch: pytest.MonkeyPatch) -> int:
    """How many times ``action`` converts a protobuf message to a dict."""
    count = 0
    original = json_format.MessageToDict

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        return original(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(json_format, "MessageToDict", counting)
        action()
    return count


def test_analyze_stack_decodes_each_resource_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """20 stack policies, one decoding of each resource's and each provider's properties."""
    servicer = _servicer()
    resources = _plan(3)
    request = _stack_request(resources)
    with_provider = sum(1 for r in request.resources if r.HasField("provider"))
    stack_policies = sum(1 for rule in ALL_RULES if rule.kind == "stack")
    assert stack_policies > 10
    decoded = _decodes(lambda: servicer.AnalyzeStack(request, None), monkeypatch)
    assert decoded == len(resources) + with_provider
    assert decode_once.request_memo() is None  # nothing is kept between requests


def test_analyze_decodes_once_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    servicer = _servicer()
    table = next(r for r in _plan(3) if r.type == "aws:dynamodb/table:Table")
    server = PolicyServer(ROOT / "policies")
    server.remember(r for r in _plan(3) if r.type == "pulumi:providers:aws")
    request = server._analyze_request(table, None)
    assert request.HasField("provider")
    assert _decodes(lambda: servicer.Analyze(request, None), monkeypatch) == 2


def test_served_analyze_stack_is_linear_in_the_stack() -> None:
    servicer = _servicer()
    requests = [_stack_request(_plan(n)) for n in TABLES]
    assert_linear(
        "AnalyzeStack", [calls(lambda q=q: servicer.AnalyzeStack(q, None)) for q in requests]
    )


def _mutated(resources: list[RecordedResource]) -> list[RecordedResource]:
    """The stack with violations for stack rules: every table without replicas, a cluster
    without its global cluster, an alarm without actions."""
    out = []
    seen: set[str] = set()
    for r in resources:
        inputs: Mapping[str, Any] = r.inputs
        if r.type == "aws:dynamodb/table:Table" or (
            r.type not in seen
            and r.type in ("aws:rds/cluster:Cluster", "aws:cloudwatch/metricAlarm:MetricAlarm")
        ):
            seen.add(r.type)
            drop = {"replicas", "globalClusterIdentifier", "alarmActions", "dimensions"}
            inputs = {k: v for k, v in inputs.items() if k not in drop}
        out.append(RecordedResource(**{**_fields(r), "inputs": dict(inputs)}))
    return out


def _fields(r: RecordedResource) -> dict[str, Any]:
    return {name: getattr(r, name) for name in RecordedResource.__dataclass_fields__}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_building_the_stack_once_answers_as_pulumi_policy_does(stack: str) -> None:
    """The build-once ``AnalyzeStack`` and pulumi-policy's own give identical responses,
    violations and levels included (advisory, disabled and remediate policies configured)."""
    servicer = _servicer()
    configure = analyzer_pb2.ConfigureAnalyzerRequest()
    stack_rules = [rule.name for rule in ALL_RULES if rule.kind == "stack"]
    for name, level in zip(stack_rules, ("ADVISORY", "DISABLED", "REMEDIATE"), strict=False):
        configure.policyConfig[name].enforcementLevel = analyzer_pb2.EnforcementLevel.Value(level)
    servicer.Configure(configure, None)
    request = _stack_request(_mutated(stack_resources(recorded(stack).resources)))
    once = servicer.AnalyzeStack(request, None)
    with decode_once.request_scope():
        original = decode_once._original_analyze_stack(servicer, request, None)
    assert len(once.diagnostics) >= 3
    assert once.SerializeToString(deterministic=True) == original.SerializeToString(
        deterministic=True
    )
