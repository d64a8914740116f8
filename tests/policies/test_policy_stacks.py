"""The recorded stacks (dev, staging, prod, built under Pulumi's mocks) against the pack.

Each stack passes every mandatory rule of its own policy config (prod: no violation at all),
served over gRPC as the engine would: ``Analyze`` with each resource's inputs, ``AnalyzeStack``
with their outputs (inputs plus the mocks' computed values), the shape the engine sends. Then
the mutation test: for every stack and every rule, some single-property change to a compliant
recorded resource makes exactly that rule fire, and every "present but ineffective" change that
applies to the stack is caught by its rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.settings import Settings, load_settings
from policies import ALL_RULES
from policies import resource_types as t
from policies.neptune import RULES as NEPTUNE_RULE_LIST
from preflight.analyzer import PolicyServer
from preflight.config import load_stack_config
from preflight.pipeline import stack_resources
from tests.policies.policy_cases import CASES
from tests.policies.policy_support import Evaluator, apply, find, reconciled
from tests.support.stacks import STACKS
from tests.support.stacks import recorded as recording

REPO = Path(__file__).resolve().parents[2]


PAYMENTS_RULES = frozenset({"rds-instance-backup-replication", "rds-instance-cross-region-replica"})
"""Rules only the payments database (off in dev) gives something to check in the stacks."""
NEPTUNE_RULES = frozenset(rule.name for rule in NEPTUNE_RULE_LIST)
"""Rules only the fraud graph (on in prod only) gives something to check."""


def stack_settings(stack: str) -> Settings:
    return load_settings(load_stack_config(stack, REPO).project_values())


def stack_config(stack: str) -> dict:
    return json.loads((REPO / "stacks" / f"policy-config.{stack}.json").read_text())


@pytest.fixture(scope="module")
def server() -> Iterator[PolicyServer]:
    with PolicyServer(REPO / "policies") as running:
        yield running


@pytest.mark.parametrize("stack", STACKS)
def test_stack_passes_its_own_mandatory_rules(server: PolicyServer, stack: str) -> None:
    resources = recording(stack).resources
    server.configure(stack_config(stack))
    found = []
    for resource in resources:
        found += server.analyze(resource)
    found += server.analyze_stack(stack_resources(resources))
    mandatory = [
        f"{d.policy_name}: {d.message.splitlines()[-1]}"
        for d in found
        if d.enforcement_level == "mandatory"
    ]
    assert mandatory == []
    if stack == "prod":
        assert found == []
    # The fast in-process evaluation used by the mutation test agrees with the served pack.
    fast = Evaluator(list(resources), reconciled(stack_config(stack)))
    assert {(rule, message) for rule, _urn, message in fast.baseline} == {
        (d.policy_name, d.message.split("\n", 1)[1]) for d in found
    }


OPTIONAL_STORE_TYPES = (
    t.REDSHIFT_CLUSTER,
    t.REDSHIFT_LOGGING,
    t.REDSHIFT_PARAMETER_GROUP,
    t.REDSHIFT_SNAPSHOT_COPY,
    t.REDSHIFT_SNAPSHOT_COPY_GRANT,
)
"""Types of the stores a stack may leave out (redshiftEnabled: false): a rule whose every case
mutates only these types has nothing to break in a stack without them, so it is counted as not
applicable there instead of missed. The stacks that enable the store still need a catch."""


def _absent_store(case: Any, resources: list[Any]) -> bool:
    types = {m.type for m in case.mutations}
    return types <= set(OPTIONAL_STORE_TYPES) and not any(r.type in types for r in resources)


@pytest.mark.parametrize("stack", STACKS)
def test_every_rule_has_a_catching_single_property_mutation(stack: str, record_property) -> None:
    resources = list(recording(stack).resources)
    evaluator = Evaluator(resources, reconciled(stack_config(stack)))
    counts = {
        "tried": 0,
        "caught": 0,
        "ineffective_tried": 0,
        "ineffective_caught": 0,
        "not_applicable": 0,
    }
    missed: list[str] = []
    uncaught_ineffective: list[str] = []
    for rule in ALL_RULES:
        rule_caught = 0
        outcomes: list[str] = []
        case = CASES[rule.name]
        if _absent_store(case, resources):
            counts["not_applicable"] += 1
            continue
        for kind, mutations in (("", case.violations), ("ineffective_", case.ineffective)):
            for mutation in mutations:
                for index in find(resources, mutation):
                    for value in mutation.candidate_values(resources[index], resources):
                        counts[f"{kind}tried"] += 1
                        fired = evaluator.fired(apply(resources, index, mutation.path, value))
                        # a mutation marked inexact may also leave the cost estimate incomplete
                        # (a class or region the price table lacks): the budget gate fires too
                        also = set() if mutation.exact else {"cost-budget-estimate"}
                        if set(fired) - also == {rule.name}:
                            counts[f"{kind}caught"] += 1
                            rule_caught += 1
                            continue
                        outcome = f"{resources[index].name}: {mutation.describe(value)} -> {sorted(fired)}"
                        outcomes.append(outcome)
                        if kind and rule.name not in fired:
                            uncaught_ineffective.append(f"{rule.name}: {outcome}")
        if not rule_caught and not outcomes and rule.name in PAYMENTS_RULES:
            # Rules of the optional payments database: nothing to mutate only where the stack
            # does not build it (dev), which the stack's own config must say.
            assert not stack_settings(stack).payments.enabled, rule.name
            continue
        if not rule_caught and not outcomes and rule.name in NEPTUNE_RULES:
            # The fraud graph is on in prod only: nothing to mutate in dev and staging, which
            # the stack's own config must say (prod's mutations are caught above).
            assert not stack_settings(stack).neptune.enabled, rule.name
            continue
        if not rule_caught:
            missed.append(f"{rule.name}: " + ("; ".join(outcomes[:3]) or "no resource to mutate"))
    record_property("mutations", {"stack": stack, "rules": len(ALL_RULES), **counts})
    print(f"{stack}: {counts}; {len(ALL_RULES)} rules")
    assert missed == []
    assert uncaught_ineffective == []


def _with_tags(raw: Any, extra: dict[str, str]) -> Any:
    data = json.loads(raw) if isinstance(raw, str) else dict(raw)
    data["tags"] = {**data.get("tags", {}), **extra}
    return json.dumps(data) if isinstance(raw, str) else data


BENIGN = [
    # (type, predicate, path, value): changes a reviewer would wave through
    (t.RDS_CLUSTER_INSTANCE, None, "instanceClass", "db.r7g.2xlarge"),  # bigger, allowed in prod
    (t.RDS_CLUSTER, None, "preferredBackupWindow", "05:00-06:00"),  # another backup window
    (t.BACKUP_PLAN, None, "rules.0.schedule", "cron(0 3 * * ? *)"),
    (t.BACKUP_PLAN, None, "rules.0.copyActions.0.lifecycle.deleteAfter", 120.0),
    (t.METRIC_ALARM, "CPUUtilization", "threshold", 70.0),  # a stricter alarm
    (t.METRIC_ALARM, "CPUUtilization", "evaluationPeriods", 2.0),
    (t.METRIC_ALARM, "CPUUtilization", "datapointsToAlarm", 2.0),
    (t.SECRET_ROTATION, None, "rotationRules.automaticallyAfterDays", 7.0),  # shorter rotation
    (t.AWS_PROVIDER, None, "defaultTags", {"Team": "data-platform"}),  # an extra tag
    (t.SNS_TOPIC, None, "tags", {"Team": "data-platform"}),
    (t.LOG_GROUP, None, "retentionInDays", 731.0),
    (t.KMS_KEY, None, "rotationPeriodInDays", 180.0),
]


@pytest.mark.parametrize(
    ("type_token", "metric", "path", "value"), BENIGN, ids=[b[2] for b in BENIGN]
)
def test_benign_changes_raise_nothing_on_prod(
    type_token: str, metric: str | None, path: str, value: Any
) -> None:
    resources = list(recording("prod").resources)
    evaluator = Evaluator(resources, reconciled(stack_config("prod")))
    assert evaluator.baseline == set()
    targets = [
        i
        for i, r in enumerate(resources)
        if r.type == type_token and (metric is None or r.inputs.get("metricName") == metric)
    ]
    assert targets, f"prod has no {type_token}"
    for index in targets:
        new = value
        if type_token == t.AWS_PROVIDER:
            new = _with_tags(resources[index].inputs["defaultTags"], value)
        elif path == "tags":
            new = {**(resources[index].inputs.get("tags") or {}), **value}
        assert evaluator.fired(apply(resources, index, path, new)) == {}, resources[index].name
