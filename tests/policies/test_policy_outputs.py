"""AnalyzeStack sees what the engine sends it: each resource's outputs (its inputs plus what the
provider computed), where Analyze sees the inputs. Preflight records the mocks' outputs and
sends that shape; the stack rules are run, and hold, on it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from policies import RULES_BY_NAME
from policies import resource_types as t
from preflight.model import RecordedResource, Recording, is_secret
from preflight.pipeline import run_preflight, stack_resources
from tests.policies.policy_support import run_rule
from tests.support.stacks import recorded

REPO = Path(__file__).resolve().parents[2]


def test_recorded_outputs_are_the_inputs_plus_what_the_mocks_computed() -> None:
    rec = recorded("prod")
    for resource in rec.resources:
        if not resource.custom:
            continue
        assert {k: resource.outputs[k] for k in resource.inputs} == resource.inputs, resource.urn
    cluster = rec.named("aurora-us-east-1")
    extra = set(cluster.outputs) - set(cluster.inputs)
    assert {"arn", "endpoint", "readerEndpoint", "id"} <= extra
    assert (
        cluster.outputs["arn"]
        == "arn:aws:rds:us-east-1:123456789012:cluster:securecart-prod-us-east-1"
    )
    assert is_secret(cluster.outputs["masterPassword"])  # secrets stay secrets in the outputs
    assert is_secret(rec.named("aurora-master-password").outputs["result"])


class _Capturing:
    """A policy server stand-in that keeps what each call was sent."""

    def __init__(self, _pack: Path) -> None:
        self.analyzed: list[RecordedResource] = []
        self.stacked: list[RecordedResource] = []

    def __enter__(self) -> _Capturing:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def info(self) -> list[Any]:
        return []

    def configure(self, _config: Any) -> None:
        return None

    def analyze(self, resource: RecordedResource) -> list[Any]:
        self.analyzed.append(resource)
        return []

    def analyze_stack(self, resources: Sequence[RecordedResource]) -> list[Any]:
        self.stacked = list(resources)
        return []


def test_preflight_sends_inputs_to_analyze_and_outputs_to_analyze_stack() -> None:
    rec = recorded("prod")
    servers: list[_Capturing] = []

    def factory(pack: Path) -> _Capturing:
        servers.append(_Capturing(pack))
        return servers[-1]

    def recorder(_stack: str, _overrides: Any, _root: Path) -> Recording:
        return rec

    run_preflight("prod", recorder=recorder, server_factory=factory)
    (server,) = servers
    assert [r.inputs for r in server.analyzed] == [r.inputs for r in rec.resources]
    assert [r.inputs for r in server.stacked] == [r.outputs or r.inputs for r in rec.resources]
    assert "arn" in next(r for r in server.stacked if r.name == "aurora-master-secret").inputs


def test_stack_rules_link_resources_by_their_outputs() -> None:
    """Without property dependencies (an engine that only has state), the rotation schedule is
    tied to its secret by the secret's ARN: an output, absent from the secret's inputs."""
    rec = recorded("prod")
    resources = [
        dataclasses.replace(r, property_dependencies={}, dependencies=())
        if r.type == t.SECRET_ROTATION
        else r
        for r in rec.resources
    ]
    rule = RULES_BY_NAME["secretsmanager-rotation"]
    as_inputs = [dataclasses.replace(r, outputs={}) for r in resources]
    assert run_rule(rule, as_inputs), "inputs alone cannot tie the schedule to its secret"
    assert run_rule(rule, resources) == []  # run_rule's AnalyzeStack view carries the outputs
    assert stack_resources(resources)[0].inputs == resources[0].outputs
