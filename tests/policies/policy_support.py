"""Builders for the policy tests: a compliant "golden" stack, mutations, and two ways to run rules.

``run_rule`` drives a rule's pulumi_policy ``validate`` exactly as the policy server would
(properties deserialized and wrapped in pulumi_policy's unknown-checking proxy, providers,
parents and property dependencies linked). ``Evaluator`` runs the whole pack through the rules'
plain check functions, which is fast enough to try hundreds of mutations of a recorded stack.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policies import ALL_RULES, RULES_BY_NAME, Rule
from policies import resource_types as t
from policies._values import Res, StackView, plain
from preflight.analyzer import PolicyInfo, reconcile_config
from preflight.model import SECRET_SIG, SIG_KEY, RecordedResource

STACK = "test"
PROJECT = "securecart-data"
ACCOUNT = "123456789012"
EAST, WEST = "us-east-1", "us-west-2"
KEY = {
    EAST: f"arn:aws:kms:{EAST}:{ACCOUNT}:key/mrk-1",
    WEST: f"arn:aws:kms:{WEST}:{ACCOUNT}:key/mrk-1",
}
TAGS = {
    "Project": "securecart-data",
    "Environment": "dev",
    "CostCenter": "cc-1",
    "Owner": "data-platform",
    "ManagedBy": "pulumi",
    "DataClassification": "confidential",
}
UNKNOWN = UNKNOWN_STRING_VALUE
"""What an input computed from an unknown output looks like on the wire during preview."""
DELETE: Any = object()
"""Mutation value: remove the property."""


def urn(type_token: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_token}::{name}"


PROVIDER_URN = urn(t.AWS_PROVIDER, "aws")
PROVIDER_REF = f"{PROVIDER_URN}::04da6b54-provider-id"


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def make(
    type_token: str,
    name: str,
    inputs: Mapping[str, Any],
    *,
    deps: Mapping[str, Sequence[str]] | None = None,
    provider: str | None = PROVIDER_REF,
) -> RecordedResource:
    """A recorded resource; ``deps`` maps input names to the *names* of resources they came from."""
    by_name = {k: tuple(urn_of(n) for n in v) for k, v in (deps or {}).items()}
    return RecordedResource(
        urn=urn(type_token, name),
        type=type_token,
        name=name,
        custom=True,
        inputs=dict(inputs),
        parent=None,
        provider=provider,
        dependencies=tuple(sorted({u for v in by_name.values() for u in v})),
        property_dependencies=by_name,
    )


_NAMES: dict[str, str] = {}


def urn_of(name: str) -> str:
    return _NAMES[name]


# --- mutations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Computed:
    """Mutation values that depend on the resource and its stack (tried in order)."""

    values: Callable[[RecordedResource, Sequence[RecordedResource]], list[Any]]


@dataclass(frozen=True)
class Mutation:
    """A single-property change: set ``path`` (dotted, list indices as numbers) or delete it."""

    type: str
    path: str
    value: Any = DELETE
    where: Callable[[RecordedResource], bool] | None = None
    expect: str | None = None
    """Text the violation message must contain besides the resource name (default: ``path``)."""
    exact: bool = True
    """Whether this change should make only its own rule fire."""
    unknown_passes: bool = True
    """Whether the rule must pass when this property is unknown instead (false where merely
    setting the property is the violation, e.g. passing any password at all)."""
    config: Mapping[str, Any] | None = None
    """The rule's config the golden-stack tests apply (a threshold the defaults leave open, e.g.
    the stack's environment); the recorded stacks use their own policy config."""

    @property
    def expected_text(self) -> str:
        return self.expect or self.path

    def matches(self, resource: RecordedResource) -> bool:
        return resource.type == self.type and (self.where is None or self.where(resource))

    def candidate_values(
        self, resource: RecordedResource, resources: Sequence[RecordedResource]
    ) -> list[Any]:
        if isinstance(self.value, Computed):
            return self.value.values(resource, resources)
        return [self.value]

    def describe(self, value: Any) -> str:
        shown = (
            "<deleted>"
            if value is DELETE
            else json.dumps(value)[:60]
            if not isinstance(value, str)
            else value[:60]
        )
        return f"{self.type.split(':')[1]}.{self.path}={shown}"


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set (or delete, for ``DELETE``) the value at a dotted path, creating no containers."""
    steps = path.split(".")
    current: Any = data
    for step in steps[:-1]:
        current = current[int(step)] if isinstance(current, list) else current[step]
    last = steps[-1]
    if isinstance(current, list):
        if value is DELETE:
            del current[int(last)]
        else:
            current[int(last)] = value
    elif value is DELETE:
        current.pop(last, None)
    else:
        current[last] = value


def mutate(resource: RecordedResource, path: str, value: Any) -> RecordedResource:
    """``resource`` with one property changed, as the program would record it.

    Replacing a whole top-level input with a literal also drops its property dependencies
    (a literal comes from nowhere), which is how a hard-coded password looks to the engine.
    The recorded outputs (what ``AnalyzeStack`` sees) change the same way: an input the
    provider echoes back is an output too.
    """
    inputs = copy.deepcopy(resource.inputs)
    set_path(inputs, path, value)
    outputs = resource.outputs
    if outputs:
        outputs = {**copy.deepcopy(outputs), **inputs}
        if value is DELETE and "." not in path:
            outputs.pop(path, None)
    property_dependencies = dict(resource.property_dependencies)
    if "." not in path:
        property_dependencies.pop(path, None)
    return replace(
        resource, inputs=inputs, outputs=outputs, property_dependencies=property_dependencies
    )


def find(resources: Sequence[RecordedResource], mutation: Mutation) -> list[int]:
    """Indexes of the resources a mutation applies to."""
    return [i for i, r in enumerate(resources) if mutation.matches(r)]


def apply(
    resources: Sequence[RecordedResource], index: int, path: str, value: Any
) -> list[RecordedResource]:
    changed = list(resources)
    changed[index] = mutate(resources[index], path, value)
    return changed


# --- driving validate() as the policy server does --------------------------------------------------


def _wire(value: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs as the server sees them: JSON round trip, secrets unwrapped, unknowns proxied."""
    # assets (a Lambda's code) travel as their description, as in preflight's protobuf Struct
    return unknown_checking_proxy(
        deserialize_properties(json.loads(json.dumps(value, default=str)))
    )


def _opts(resource: RecordedResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=resource.parent,
    )


def _provider(
    resource: RecordedResource, by_urn: Mapping[str, RecordedResource]
) -> PolicyProviderResource | None:
    if not resource.provider:
        return None
    provider = by_urn.get(resource.provider.rsplit("::", 1)[0])
    if provider is None:
        return None
    return PolicyProviderResource(
        provider.type, _wire(provider.inputs), provider.urn, provider.name
    )


def resource_args(
    resource: RecordedResource,
    resources: Iterable[RecordedResource],
    config: Mapping[str, Any] | None = None,
) -> ResourceValidationArgs:
    by_urn = {r.urn: r for r in resources}
    return ResourceValidationArgs(
        resource.type,
        _wire(resource.inputs),
        resource.urn,
        resource.name,
        _opts(resource),
        _provider(resource, by_urn),
        dict(config) if config else None,
    )


def stack_args(
    resources: Sequence[RecordedResource], config: Mapping[str, Any] | None = None
) -> StackValidationArgs:
    """What ``AnalyzeStack`` hands the stack policies: every resource with its outputs."""
    by_urn = {r.urn: r for r in resources}
    policy_resources = {
        r.urn: PolicyResource(
            r.type,
            _wire(r.outputs or r.inputs),
            r.urn,
            r.name,
            _opts(r),
            _provider(r, by_urn),
            None,
            [],
            {},
        )
        for r in resources
    }
    for r in resources:
        pr = policy_resources[r.urn]
        pr.parent = policy_resources.get(r.parent or "")
        pr.dependencies = [policy_resources[u] for u in r.dependencies if u in policy_resources]
        pr.property_dependencies = {
            k: [policy_resources[u] for u in v if u in policy_resources]
            for k, v in r.property_dependencies.items()
        }
    return StackValidationArgs(list(policy_resources.values()), dict(config) if config else None)


def run_rule(
    rule: Rule,
    resources: Sequence[RecordedResource],
    target: RecordedResource | None = None,
    config: Mapping[str, Any] | None = None,
) -> list[str]:
    """Violation messages from the rule's pulumi_policy ``validate`` (stack rules ignore ``target``).

    For resource rules, ``target`` None means every resource of the stack.
    """
    messages: list[str] = []

    def report(message: str, _urn: str | None = None) -> None:
        messages.append(message)

    policy: Any = rule.policy
    if rule.kind == "stack":
        policy.validate(stack_args(resources, config), report)
        return messages
    for resource in [target] if target is not None else resources:
        policy.validate(resource_args(resource, resources, config), report)
    return messages


# --- the whole pack, fast ----------------------------------------------------------------------


def policy_infos(rules: Iterable[Rule] = ALL_RULES) -> list[PolicyInfo]:
    return [
        PolicyInfo(
            name=r.name,
            description=r.description,
            enforcement_level="mandatory",
            severity=r.severity.value,
            policy_type=r.kind,
            remediation_steps=r.remediation,
            config_schema={k: p.schema() for k, p in r.params.items()},
        )
        for r in rules
    ]


def reconciled(config: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per rule (level, properties) for a policy-config document, as the engine reconciles it."""
    return reconcile_config(policy_infos(), config)


Violation = tuple[str, str, str]
"""(rule name, urn or "", message)."""


@dataclass
class Evaluator:
    """The whole pack over a stack through the plain check functions, with cached baselines."""

    resources: list[RecordedResource]
    config: Mapping[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rules = [r for r in ALL_RULES if self.level(r.name) != "disabled"]
        self.resource_rules = [r for r in self.rules if r.kind == "resource"]
        self.stack_rules = [r for r in self.rules if r.kind == "stack"]
        self.views = self._views(self.resources)
        self.stack_views = self._views(self.resources, outputs=True)
        self.per_resource = {v.urn: self._resource_violations(v) for v in self.views}
        self.stack_violations = self._stack_violations(self.stack_views)

    def level(self, name: str) -> str:
        return self.config[name][0] if name in self.config else "mandatory"

    def props(self, name: str) -> dict[str, Any] | None:
        return self.config[name][1] if name in self.config else None

    @staticmethod
    def _views(resources: Sequence[RecordedResource], *, outputs: bool = False) -> list[Res]:
        """Rule views: inputs (what ``Analyze`` sees) or outputs (what ``AnalyzeStack`` sees)."""
        by_urn = {r.urn: r for r in resources}
        providers: dict[str, Res] = {}

        def provider_of(r: RecordedResource) -> Res | None:
            if not r.provider:
                return None
            purn = r.provider.rsplit("::", 1)[0]
            if purn not in providers and purn in by_urn:
                p = by_urn[purn]
                providers[purn] = Res(type=p.type, name=p.name, urn=p.urn, props=plain(p.inputs))
            return providers.get(purn)

        return [
            Res(
                type=r.type,
                name=r.name,
                urn=r.urn,
                props=plain((r.outputs or r.inputs) if outputs else r.inputs),
                provider=provider_of(r),
                parent=r.parent,
                dependencies=frozenset(r.dependencies),
                property_dependencies={k: frozenset(v) for k, v in r.property_dependencies.items()},
            )
            for r in resources
        ]

    def _resource_violations(self, view: Res) -> set[Violation]:
        return {
            (rule.name, view.urn, message)
            for rule in self.resource_rules
            for message in rule.evaluate(view, self.props(rule.name))
        }

    def _stack_violations(self, views: Sequence[Res]) -> set[Violation]:
        stack = StackView(views)
        return {
            (rule.name, urn_ or "", message)
            for rule in self.stack_rules
            for message, urn_ in rule.evaluate_stack(stack, self.props(rule.name))
        }

    @property
    def baseline(self) -> set[Violation]:
        return set().union(*self.per_resource.values(), self.stack_violations)

    def violations(self, resources: Sequence[RecordedResource]) -> set[Violation]:
        """All violations of a (mutated) copy of the stack, reusing unchanged resources' results."""
        changed = {r.urn for r, old in zip(resources, self.resources, strict=True) if r is not old}
        provider_changed = any(r.type == t.AWS_PROVIDER for r in resources if r.urn in changed)
        if provider_changed:
            views = self._views(resources)
            stack_views = self._views(resources, outputs=True)
        else:
            subset = [r for r in resources if r.urn in changed]
            views = self._refresh(self.views, self._views(subset))
            stack_views = self._refresh(self.stack_views, self._views(subset, outputs=True))
        found: set[Violation] = set()
        for view in views:
            if provider_changed or view.urn in changed:
                found |= self._resource_violations(view)
            else:
                found |= self.per_resource[view.urn]
        return found | self._stack_violations(stack_views)

    @staticmethod
    def _refresh(old: Sequence[Res], new: Sequence[Res]) -> list[Res]:
        """``old`` with the views in ``new`` swapped in (keeping the shared provider views)."""
        fresh = {v.urn: v for v in new}
        providers = {v.provider.urn: v.provider for v in old if v.provider is not None}
        return [
            replace(fresh[v.urn], provider=providers.get(v.provider.urn) if v.provider else None)
            if v.urn in fresh
            else v
            for v in old
        ]

    def fired(self, resources: Sequence[RecordedResource]) -> dict[str, list[str]]:
        """Rule -> messages of the violations the change added to the baseline."""
        added = self.violations(resources) - self.baseline
        out: dict[str, list[str]] = {}
        for rule, _urn, message in sorted(added):
            out.setdefault(rule, []).append(message)
        return out


def rule(name: str) -> Rule:
    return RULES_BY_NAME[name]


def golden_stack() -> list[RecordedResource]:
    """The compliant golden stack (tests/policies/golden.py), importable from here as before."""
    from tests.policies.golden import golden_stack as build

    return build()
