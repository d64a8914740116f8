"""Every rule, driven through its pulumi_policy ``validate`` on a small compliant two-region stack:
it passes as is, fails for each single-property violation with a message naming the resource and
the property, changes its verdict under config overrides, and passes when the value is unknown."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import policies
from policies import ALL_RULES, RULES_BY_NAME
from policies import resource_types as t
from tests.policies.golden import golden_stack
from tests.policies.policy_cases import CASES
from tests.policies.policy_support import (
    UNKNOWN,
    Evaluator,
    Mutation,
    apply,
    find,
    make,
    mutate,
    reconciled,
    run_rule,
)

GOLDEN = golden_stack()
EVALUATOR = Evaluator(GOLDEN)
LABEL = re.compile(r"\S+ \((aws|pulumi|random):[^)]+\)")

VARIANTS = [(name, i, m) for name, case in CASES.items() for i, m in enumerate(case.mutations)]
_EVALUATORS: dict[str, Evaluator] = {}


def _evaluator(name: str, config: dict | None) -> Evaluator:
    """The golden stack's evaluator with ``config`` for rule ``name`` (cached)."""
    if not config:
        return EVALUATOR
    key = f"{name}:{sorted(config.items())}"
    if key not in _EVALUATORS:
        _EVALUATORS[key] = Evaluator(GOLDEN, reconciled({name: dict(config)}))
    return _EVALUATORS[key]


OVERRIDES = [(name, i, o) for name, case in CASES.items() for i, o in enumerate(case.overrides)]


def _first_change(mutation: Mutation) -> tuple[int, list]:
    """Apply a mutation to the first golden resource it matches, with its first effective value."""
    indexes = find(GOLDEN, mutation)
    assert indexes, f"golden stack has no {mutation.type} for {mutation.path}"
    index = indexes[0]
    value = mutation.candidate_values(GOLDEN[index], GOLDEN)[0]
    return index, apply(GOLDEN, index, mutation.path, value)


def test_pack_has_at_least_40_kebab_case_rules_with_metadata() -> None:
    assert len(ALL_RULES) >= 40
    assert len(RULES_BY_NAME) == len(ALL_RULES), "duplicate rule names"
    for rule in ALL_RULES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name), rule.name
        assert rule.summary.endswith(".") and "Remediation:" in rule.description
        assert rule.remediation and rule.severity.value in ("low", "medium", "high", "critical")
        assert rule.concern in (
            "multi_az",
            "backups",
            "encryption",
            "secrets",
            "network",
            "observability",
            "cost",
            "resilience",
            "tagging",
            "access",
            "hardening",
        )
        for param in rule.params.values():
            assert param.description and param.default is not None
        policy = rule.policy
        assert policy.name == rule.name and policy.severity == rule.severity


def test_every_targeted_type_is_a_pulumi_aws_resource() -> None:
    sdk = Path(pytest.importorskip("pulumi_aws").__file__).parent
    for rule in ALL_RULES:
        for token in rule.targets:
            module, resource = t.module_of(token) or ("", "")
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", resource).lower()
            # keyword modules get a trailing underscore (pulumi_aws.lambda_)
            folder = module if (sdk / module).is_dir() else f"{module}_"
            source = sdk / folder / f"{snake}.py"
            assert source.exists() and f"'{token}'" in source.read_text(), f"{rule.name}: {token}"


def test_every_rule_has_cases() -> None:
    assert set(CASES) == set(RULES_BY_NAME)


def test_golden_stack_passes_every_rule_through_validate() -> None:
    for rule in ALL_RULES:
        assert run_rule(rule, GOLDEN) == [], rule.name
    assert EVALUATOR.baseline == set()


@pytest.mark.parametrize(
    ("name", "index", "mutation"), VARIANTS, ids=[f"{n}-{i}" for n, i, _ in VARIANTS]
)
def test_violation_names_resource_and_property(name: str, index: int, mutation: Mutation) -> None:
    rule = RULES_BY_NAME[name]
    position, changed = _first_change(mutation)
    messages = run_rule(rule, changed, config=mutation.config)
    assert messages, f"{mutation.describe(mutation.value)} did not make {name} fire"
    text = "\n".join(messages)
    assert mutation.expected_text in text
    assert LABEL.search(text) or "No " in text
    if rule.kind == "resource" and mutation.type != t.AWS_PROVIDER:
        assert f"{GOLDEN[position].name} ({mutation.type})" in text
    if mutation.exact:
        assert set(_evaluator(name, mutation.config).fired(changed)) == {name}


@pytest.mark.parametrize(
    ("name", "index", "mutation"), VARIANTS, ids=[f"{n}-{i}" for n, i, _ in VARIANTS]
)
def test_unknown_value_passes(name: str, index: int, mutation: Mutation) -> None:
    position = find(GOLDEN, mutation)[0]
    changed = apply(GOLDEN, position, mutation.path, UNKNOWN)
    if mutation.unknown_passes:
        assert run_rule(RULES_BY_NAME[name], changed, config=mutation.config) == []
    else:
        # Setting this property at all is the violation (e.g. a literal master password on a
        # plain instance): even an unknown value must be reported.
        assert run_rule(RULES_BY_NAME[name], changed, config=mutation.config) != []


@pytest.mark.parametrize(
    ("name", "index", "override"), OVERRIDES, ids=[f"{n}-{i}" for n, i, _ in OVERRIDES]
)
def test_config_override_changes_the_outcome(name: str, index: int, override) -> None:
    rule = RULES_BY_NAME[name]
    stack = GOLDEN if override.mutation is None else _first_change(override.mutation)[1]
    without = run_rule(rule, stack)
    with_config = run_rule(rule, stack, config=override.config)
    if override.fires:
        assert with_config and not without
    else:
        assert without and not with_config


def test_null_means_absent_and_only_the_sentinel_is_unknown() -> None:
    """A null is judged by the provider's default (the engine marks unknowns with a sentinel)."""
    cluster = next(r for r in GOLDEN if r.type == t.RDS_CLUSTER)
    index = GOLDEN.index(cluster)
    rule = RULES_BY_NAME["rds-storage-encrypted"]
    (message,) = run_rule(rule, apply(GOLDEN, index, "storageEncrypted", None))
    assert "`storageEncrypted` is not set (defaults to false)" in message
    assert run_rule(rule, apply(GOLDEN, index, "storageEncrypted", UNKNOWN)) == []
    # null where the provider's default is compliant passes: autoMinorVersionUpgrade defaults on
    instance = next(r for r in GOLDEN if r.type == t.RDS_CLUSTER_INSTANCE)
    changed = apply(GOLDEN, GOLDEN.index(instance), "autoMinorVersionUpgrade", None)
    assert run_rule(RULES_BY_NAME["rds-auto-minor-version-upgrade"], changed) == []
    # and through the stack rules' view too: a null replicas list is no replica at all
    table = next(r for r in GOLDEN if r.type == t.DYNAMODB_TABLE and "replicas" in r.inputs)
    changed = apply(GOLDEN, GOLDEN.index(table), "replicas", None)
    assert run_rule(RULES_BY_NAME["dynamodb-replica-in-other-region"], changed)


def test_unknown_props_never_reach_pulumi_policy_as_errors() -> None:
    """A whole resource of unknowns passes every rule (no "can't run during preview")."""
    for resource in GOLDEN:
        blank = mutate(resource, "region", UNKNOWN) if "region" in resource.inputs else resource
        for key in list(blank.inputs):
            blank = mutate(blank, key, UNKNOWN)
        stack = [blank if r.urn == resource.urn else r for r in GOLDEN]
        for rule in ALL_RULES:
            if rule.kind == "resource":
                assert run_rule(rule, stack, target=blank) == [], (rule.name, resource.name)


def test_default_provider_resources_are_judged_by_their_own_tags() -> None:
    topic = make(
        t.SNS_TOPIC, "loose-topic", {"region": "us-east-1", "kmsMasterKeyId": "k"}, provider=None
    )
    messages = run_rule(RULES_BY_NAME["required-tags"], [*GOLDEN, topic], target=topic)
    assert messages and "loose-topic" in messages[0]


def test_schedule_gaps() -> None:
    from policies.backups import schedule_gap_hours

    assert schedule_gap_hours("cron(0 5 * * ? *)") == 24
    assert schedule_gap_hours("cron(0 */6 * * ? *)") == 6
    assert schedule_gap_hours("cron(0 5,17 ? * * *)") == 12
    assert schedule_gap_hours("cron(0 5 ? * MON-FRI *)") == 72
    assert schedule_gap_hours("cron(0 5 1 * ? *)") == 31 * 24
    assert schedule_gap_hours("rate(12 hours)") == 12
    assert schedule_gap_hours("rate(1 day)") == 24
    assert schedule_gap_hours("daily") is None


def test_pack_module_builds_the_pack_only_in_main() -> None:
    tree = ast.parse((Path(policies.__file__).parent / "__main__.py").read_text())
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "PolicyPack"
    ]
    assert len(calls) == 1
    assert not any(isinstance(n, ast.FunctionDef | ast.ClassDef) for n in ast.walk(tree))
