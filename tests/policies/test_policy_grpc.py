"""The pack served the way the engine serves it (``python -u -m pulumi.policy <engine> policies/``)
and driven over the Analyzer gRPC protocol: one server for the whole module."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from policies import ALL_RULES, PACK_NAME, RULES_BY_NAME
from policies import resource_types as t
from preflight.analyzer import PolicyConfigError, PolicyServer, PolicyServerError
from tests.policies.golden import golden_stack
from tests.policies.policy_cases import CASES
from tests.policies.policy_support import UNKNOWN, apply, find, mutate

REPO = Path(__file__).resolve().parents[2]
GOLDEN = golden_stack()
LEVELS = ("advisory", "mandatory", "disabled")


@pytest.fixture(scope="module")
def server() -> Iterator[PolicyServer]:
    with PolicyServer(REPO / "policies") as running:
        running.remember(GOLDEN)
        yield running


def _analyze_all(server: PolicyServer, resources) -> list:
    found = []
    for resource in resources:
        found += server.analyze(resource)
    return found + server.analyze_stack(resources)


def test_analyzer_info_lists_every_rule(server: PolicyServer) -> None:
    info = {p.name: p for p in server.info()}
    assert server.pack_name == PACK_NAME
    assert set(info) == set(RULES_BY_NAME)
    for rule in ALL_RULES:
        policy = info[rule.name]
        assert policy.policy_type == rule.kind
        assert policy.severity == rule.severity.value
        assert policy.enforcement_level == "mandatory"
        assert (
            policy.description == rule.description and policy.remediation_steps == rule.remediation
        )
        assert {k: s["default"] for k, s in policy.config_schema.items()} == rule.defaults()


def test_golden_stack_has_no_diagnostics(server: PolicyServer) -> None:
    server.configure({"all": "mandatory"})
    assert _analyze_all(server, GOLDEN) == []


def test_configure_applies_a_stack_config_file(server: PolicyServer) -> None:
    sent = server.configure_file(REPO / "stacks" / "policy-config.dev.json")
    assert sent["rds-multi-az"][0] == "advisory" and sent["rds-storage-encrypted"][0] == "mandatory"
    assert sent["cost-reader-count-cap"][1]["maxAutoscaledReaders"] == 2
    # The golden stack's reader auto scaling goes to 3: dev's cap of 2 makes it a violation.
    stack = server.analyze_stack(GOLDEN)
    assert [(d.policy_name, d.enforcement_level) for d in stack] == [
        ("cost-reader-count-cap", "mandatory")
    ]
    assert "aurora-readers-us-east-1" in stack[0].message and "maxCapacity" in stack[0].message
    # An advisory rule of dev reports at advisory level.
    instance = next(r for r in GOLDEN if r.type == t.RDS_CLUSTER_INSTANCE)
    found = server.analyze(mutate(instance, "monitoringInterval", 0.0))
    assert [(d.policy_name, d.enforcement_level, d.urn) for d in found] == [
        ("rds-enhanced-monitoring", "advisory", instance.urn)
    ]


@pytest.fixture(scope="module")
def levels(server: PolicyServer) -> dict[str, str]:
    chosen = {rule.name: LEVELS[i % len(LEVELS)] for i, rule in enumerate(ALL_RULES)}
    server.configure({"all": "mandatory", **chosen})
    return chosen


@pytest.mark.parametrize("name", sorted(CASES))
def test_violation_diagnostics_carry_the_configured_level(
    server: PolicyServer, levels: dict[str, str], name: str
) -> None:
    rule = RULES_BY_NAME[name]
    mutation = CASES[name].violations[0]
    index = find(GOLDEN, mutation)[0]
    value = mutation.candidate_values(GOLDEN[index], GOLDEN)[0]
    changed = apply(GOLDEN, index, mutation.path, value)
    if rule.kind == "stack":
        found = server.analyze_stack(changed)
    elif mutation.type == t.AWS_PROVIDER:
        server.remember([changed[index]])
        try:
            topic = next(r for r in changed if r.type == t.SNS_TOPIC)
            found = server.analyze(topic)
        finally:
            server.remember([GOLDEN[index]])
    else:
        found = server.analyze(changed[index])
    ours = [d for d in found if d.policy_name == name]
    assert {d.policy_name for d in found} <= {name}
    if levels[name] == "disabled":
        assert ours == []
        return
    assert ours, f"{name} did not report over gRPC"
    for diagnostic in ours:
        assert diagnostic.enforcement_level == levels[name]
        assert diagnostic.policy_pack_name == PACK_NAME
        assert diagnostic.severity == rule.severity.value
        assert diagnostic.message.startswith(rule.description)
        assert mutation.expected_text in diagnostic.message
        if rule.kind == "resource" and mutation.type != t.AWS_PROVIDER:
            assert diagnostic.urn == changed[index].urn


def test_unknown_values_produce_no_diagnostics(server: PolicyServer) -> None:
    server.configure({"all": "mandatory"})
    for resource in GOLDEN:
        blank = resource
        for key in list(resource.inputs):
            blank = mutate(blank, key, UNKNOWN)
        assert server.analyze(blank) == [], resource.name


def test_stack_wide_violation_has_no_urn(server: PolicyServer) -> None:
    server.configure({"all": "mandatory"})
    without_budget = [r for r in GOLDEN if r.type != t.BUDGET]
    found = server.analyze_stack(without_budget)
    assert [(d.policy_name, d.urn) for d in found] == [("cost-budget-present", "")]


@pytest.mark.parametrize(
    "config",
    [
        {"no-such-rule": "advisory"},
        {"all": "sometimes"},
        {"rds-backup-retention": {"minDays": "seven"}},
        {"rds-backup-retention": {"maxDays": 7}},
        {"region-pair": {"requireAnchorProvider": 1}},
    ],
)
def test_bad_config_is_rejected_with_its_name(server: PolicyServer, config: dict) -> None:
    with pytest.raises(PolicyConfigError) as error:
        server.configure(config)
    assert any(
        str(key) in str(error.value) or str(value) in str(error.value)
        for key, value in config.items()
    )


def test_analyze_round_trip_time(server: PolicyServer) -> None:
    """Record how long one Analyze call takes over gRPC (reported by the benchmark too)."""
    server.configure_file(REPO / "stacks" / "policy-config.prod.json")
    started, calls = time.perf_counter(), 0
    for _ in range(3):
        for resource in GOLDEN:
            server.analyze(resource)
            calls += 1
    per_call_ms = 1000 * (time.perf_counter() - started) / calls
    print(json.dumps({"analyze_calls": calls, "ms_per_analyze": round(per_call_ms, 2)}))
    assert per_call_ms < 250


def test_a_pack_that_fails_to_start_is_reported_with_its_stderr(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text("raise RuntimeError('no pack here')\n")
    with pytest.raises(PolicyServerError) as error, PolicyServer(tmp_path):
        pass
    assert "no pack here" in str(error.value)
