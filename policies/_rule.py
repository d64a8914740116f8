"""One declarative shape for every rule, and its translation into a pulumi_policy Policy.

A :class:`Rule` carries what the policy table (docs/policies.md) and the engine both need (name, what it checks,
remediation, severity, config schema with defaults, matching Checkov / AWS Config ids) and a
plain check function. Keeping the check free of pulumi_policy types lets the tests, the docs
and the policy server share one definition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies._decode_once import memoized
from policies._values import Res, StackView, plain

Config = Mapping[str, Any]
Finding = tuple[str, str | None]
"""A stack-rule violation: message and the URN of the offending resource (None: the stack)."""
ResourceCheck = Callable[[Res, Config], Iterable[str]]
StackCheck = Callable[[StackView, Config], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Param:
    """One configurable threshold or list, with the default the engine fills in.

    ``minimum``/``maximum``/``enum`` (and ``item_enum`` for arrays) go into the JSON schema the
    pack publishes, so the Pulumi CLI rejects an out-of-range policy config before a preview
    runs (it validates the config against each policy's schema), and preflight does the same.
    """

    type: str
    default: Any
    description: str
    items: str | None = None
    """JSON-schema type of array items."""
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[Any, ...] | None = None
    """The only values allowed (strings or numbers)."""
    item_enum: tuple[Any, ...] | None = None
    """The only values array items may take."""
    values: str | None = None
    """For objects: JSON-schema type of every property value (``additionalProperties``)."""

    def schema(self) -> dict[str, Any]:
        """JSON schema as Pulumi's policy config expects it."""
        schema: dict[str, Any] = {
            "type": self.type,
            "default": self.default,
            "description": self.description,
        }
        if self.items is not None:
            schema["items"] = {"type": self.items}
            if self.item_enum is not None:
                schema["items"]["enum"] = list(self.item_enum)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.enum is not None:
            schema["enum"] = list(self.enum)
        if self.values is not None:
            schema["additionalProperties"] = {"type": self.values}
        return schema


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A guardrail: metadata for humans and the engine plus a check for one resource or stack."""

    name: str
    concern: str
    """Module it lives in (multi_az, backups, encryption, secrets, network, observability, cost,
    resilience, tagging); also the policy's tag."""
    summary: str
    """What the rule checks, one sentence."""
    remediation: str
    severity: Severity
    targets: tuple[str, ...] = ()
    """Type tokens a resource rule inspects (empty for stack rules and predicate rules)."""
    applies: Callable[[str], bool] | None = None
    """Type predicate for rules that span many types (regions, tags)."""
    targets_doc: str = ""
    """How the policy table names what ``applies`` selects."""
    check_resource: ResourceCheck | None = None
    check_stack: StackCheck | None = None
    params: Mapping[str, Param] = field(default_factory=dict)
    checkov: tuple[str, ...] = ()
    aws_config: tuple[str, ...] = ()
    cdk_nag: tuple[str, ...] = ()
    """Matching cdk-nag rule ids (AwsSolutions pack)."""

    def __post_init__(self) -> None:
        if (self.check_resource is None) == (self.check_stack is None):
            raise ValueError(f"{self.name}: give exactly one of check_resource/check_stack")

    @property
    def kind(self) -> str:
        """ "resource" or "stack"."""
        return "resource" if self.check_resource is not None else "stack"

    @property
    def description(self) -> str:
        """What the engine prints above every violation: the check and its remediation."""
        return f"{self.summary} Remediation: {self.remediation}"

    def defaults(self) -> dict[str, Any]:
        """Parameter defaults, as the engine fills them in from the schema."""
        return {key: param.default for key, param in self.params.items()}

    def settings(self, config: Config | None) -> dict[str, Any]:
        """Effective config: defaults overlaid with what the stack's policy config sets.

        The engine normally fills in defaults itself; applying them here too keeps direct
        calls (tests, an engine that sends no config) on the documented thresholds.
        """
        merged = self.defaults()
        if config:
            merged.update({k: plain(v) for k, v in config.items() if k in self.params})
        return merged

    def matches(self, type_token: str) -> bool:
        """True when this resource rule inspects resources of ``type_token``."""
        if self.applies is not None:
            return self.applies(type_token)
        return type_token in self.targets

    def evaluate(self, res: Res, config: Config | None = None) -> list[str]:
        """Violation messages of a resource rule for one resource."""
        if self.check_resource is None or not self.matches(res.type):
            return []
        return list(self.check_resource(res, self.settings(config)))

    def evaluate_stack(self, stack: StackView, config: Config | None = None) -> list[Finding]:
        """Violations of a stack rule for the whole stack."""
        if self.check_stack is None:
            return []
        return list(self.check_stack(stack, self.settings(config)))

    def _validate_resource(self, args: ResourceValidationArgs, report: ReportViolation) -> None:
        if not self.matches(args.resource_type):
            return
        res = memoized("res", args.props, lambda _props: res_from_args(args))
        for message in self.evaluate(res, args.get_config()):
            report(message, None)

    def _validate_stack(self, args: StackValidationArgs, report: ReportViolation) -> None:
        for message, urn in self.evaluate_stack(stack_view(args), args.get_config()):
            report(message, urn)

    @cached_property
    def policy(self) -> Policy:
        """The pulumi_policy object the pack serves."""
        schema = (
            PolicyConfigSchema({k: p.schema() for k, p in self.params.items()})
            if self.params
            else None
        )
        common: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "enforcement_level": EnforcementLevel.MANDATORY,
            "config_schema": schema,
            "severity": self.severity,
            "remediation_steps": self.remediation,
            "tags": [self.concern],
        }
        if self.check_resource is not None:
            return ResourceValidationPolicy(validate=self._validate_resource, **common)
        return StackValidationPolicy(validate=self._validate_stack, **common)


def stack_view(args: StackValidationArgs) -> StackView:
    """The stack of an ``AnalyzeStack`` request, built once and shared by every stack policy.

    The served pack hands every stack policy the same list of resources
    (``policies._decode_once``), so the view is memoized on that list for the request; each
    resource's :class:`Res` is memoized on its properties, which are the same objects for the
    whole request even where a list is built per policy.
    """

    def view_of(resource: PolicyResource) -> Res:
        return memoized("res", resource.props, lambda _props: res_from_policy_resource(resource))  # type: ignore[no-any-return]

    def build(resources: Any) -> StackView:
        return StackView([view_of(r) for r in resources])

    return memoized("stack", args.resources, build)  # type: ignore[no-any-return]


def _plain_props(props: Any) -> Any:
    """``plain(props)``, once per request for the same properties object."""
    return memoized("plain", props, plain)


def _provider_view(provider: Any) -> Res | None:
    if provider is None:
        return None
    return Res(
        type=provider.resource_type,
        name=provider.name,
        urn=provider.urn,
        props=_plain_props(provider.props),
    )


def res_from_args(args: ResourceValidationArgs) -> Res:
    """A rule's view of the resource an ``Analyze`` call is about."""
    return Res(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        props=_plain_props(args.props),
        provider=_provider_view(args.provider),
        parent=args.opts.parent if args.opts is not None else None,
    )


def res_from_policy_resource(resource: PolicyResource) -> Res:
    """A rule's view of one resource of an ``AnalyzeStack`` call."""
    return Res(
        type=resource.resource_type,
        name=resource.name,
        urn=resource.urn,
        props=_plain_props(resource.props),
        provider=_provider_view(resource.provider),
        parent=resource.parent.urn if resource.parent is not None else None,
        dependencies=frozenset(d.urn for d in resource.dependencies),
        property_dependencies={
            key: frozenset(d.urn for d in deps)
            for key, deps in resource.property_dependencies.items()
        },
    )
