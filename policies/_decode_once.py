"""Decode each resource once per Analyzer request instead of once per policy, and build the
stack once per ``AnalyzeStack`` instead of once per stack policy.

pulumi-policy 1.21.0 builds a policy's view of a resource from scratch for every policy:
``Analyze`` runs ``deserialize_properties(json_format.MessageToDict(props))`` and
``unknown_checking_proxy`` on the resource and on its provider for each of the ~50 resource
policies, and ``AnalyzeStack`` does the same for *every resource of the stack* once per stack
policy (20 of them). All three steps are pure, so inside one request their results are
memoized by the identity of their argument: the request's messages (protobuf hands back the
same object for a submessage while it is referenced, which the memo does), then the decoded
dicts. Rules only read what they are given.

The memo lives for one request on the thread serving it (:func:`request_scope`, entered by the
patched ``Analyze`` and ``AnalyzeStack``) and is dropped when the request ends, so it holds
exactly one request, whatever the size of the stack, and concurrent requests never share it.
``AnalyzeStack`` also rebuilds, per stack policy, every resource's options, provider, parent,
dependencies and property dependencies from the protobuf request (16,000 property-dependency
entries at 1,400 resources): 20 policies times the stack, most of the time of the call. With
pulumi-policy 1.21.0 (the pinned version, checked) :func:`_analyze_stack` builds that list once
and hands the same resources to every stack policy; everything else is pulumi-policy's own code
path (levels, violations, not-applicable and unknown-value handling). A test runs both
versions over real plans and requires identical responses.

An earlier version kept a process-wide cache of 2,048 entries: a stack of more than about
1,000 resources (resource and provider per entry) emptied it within every stack policy, so
every policy decoded the whole stack again, and it kept up to 2,048 requests alive between
calls. Outside a request (tests calling rules directly) nothing is memoized.

:func:`request_memo` gives the rules' adapters (``policies._rule``) the same per-request
store, so the plain :class:`~policies._values.Res` of a resource and the
:class:`~policies._values.StackView` of a stack are built once per request and shared by every
policy.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from inspect import isawaitable
from types import SimpleNamespace
from typing import Any

import pulumi_policy.policy as _policy
from google.protobuf import json_format
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError
from pulumi_policy.version import VERSION as POLICY_SDK_VERSION

BUILD_ONCE_VERSION = "1.21.0"
"""The pulumi-policy whose ``AnalyzeStack`` :func:`_analyze_stack` reproduces."""

Memo = dict[tuple[str, int], tuple[Any, Any]]
"""(namespace, id of the key object) -> (the key object, held so its id stays its own; value)."""

_local = threading.local()


@contextmanager
def request_scope() -> Iterator[Memo]:
    """Memoize decoding on this thread until the block ends (one Analyzer request)."""
    previous: Memo | None = getattr(_local, "memo", None)
    memo: Memo = {}
    _local.memo = memo
    try:
        yield memo
    finally:
        _local.memo = previous
        memo.clear()


def request_memo() -> Memo | None:
    """The current request's memo, or None outside a request."""
    memo: Memo | None = getattr(_local, "memo", None)
    return memo


def memoized(namespace: str, key: Any, compute: Callable[[Any], Any]) -> Any:
    """``compute(key)``, once per request for the same ``key`` object."""
    memo: Memo | None = getattr(_local, "memo", None)
    if memo is None:
        return compute(key)
    slot = (namespace, id(key))
    entry = memo.get(slot)
    if entry is not None and entry[0] is key:
        return entry[1]
    value = compute(key)
    memo[slot] = (key, value)
    return value


def _message_to_dict(message: Any, *args: Any, **kwargs: Any) -> Any:
    if args or kwargs:
        return json_format.MessageToDict(message, *args, **kwargs)
    return memoized("message", message, json_format.MessageToDict)


_original_deserialize = _policy.deserialize_properties  # type: ignore[attr-defined]
_original_proxy = _policy.unknown_checking_proxy  # type: ignore[attr-defined]
_Servicer: Any = _policy._PolicyAnalyzerServicer
_original_analyze = _Servicer.Analyze
_original_analyze_stack = _Servicer.AnalyzeStack


def _deserialize(props: Any, *args: Any, **kwargs: Any) -> Any:
    if args or kwargs:
        return _original_deserialize(props, *args, **kwargs)
    return memoized("deserialized", props, _original_deserialize)


def _proxy(props: Any) -> Any:
    return memoized("proxy", props, _original_proxy)


def _analyze(self: Any, request: Any, context: Any) -> Any:
    with request_scope():
        return _original_analyze(self, request, context)


def _analyze_stack(self: Any, request: Any, context: Any) -> Any:
    with request_scope():
        return _original_analyze_stack(self, request, context)


def _stack_resources(self: Any, request: Any) -> list[Any]:
    """pulumi-policy 1.21.0's per-policy loop of ``AnalyzeStack``, once: the stack's resources
    with parent, dependencies and property dependencies linked to each other."""
    resources: list[Any] = []
    links: list[tuple[Any, str, list[str], dict[str, list[str]]]] = []
    for r in request.resources:
        props = _policy.unknown_checking_proxy(  # type: ignore[attr-defined]
            _policy.deserialize_properties(  # type: ignore[attr-defined]
                _policy.json_format.MessageToDict(r.properties)  # type: ignore[attr-defined]
            )
        )
        opts = self._get_resource_options(r)
        provider = self._get_provider_resource(r)
        resource = PolicyResource(r.type, props, r.urn, r.name, opts, provider, None, [], {})
        by_property = {k: list(v.urns) for k, v in r.propertyDependencies.items()}
        links.append((resource, r.parent, list(r.dependencies), by_property))
        resources.append(resource)
    by_urn = {resource.urn: resource for resource in resources}
    for resource, parent, dependencies, property_dependencies in links:
        if parent is not None and parent in by_urn:
            resource.parent = by_urn[parent]
        resource.dependencies.extend(by_urn[d] for d in dependencies if d in by_urn)
        for key, urns in property_dependencies.items():
            resource.property_dependencies[key] = [by_urn[d] for d in urns if d in by_urn]
    return resources


def _analyze_stack_once(self: Any, request: Any, _context: Any) -> Any:
    """pulumi-policy 1.21.0's ``AnalyzeStack`` with the resources built once for all policies."""
    with request_scope():
        self._configure_runtime_settings()
        response = _policy.proto.AnalyzeResponse()  # type: ignore[attr-defined]
        name = self._PolicyAnalyzerServicer__policy_pack_name
        version = self._PolicyAnalyzerServicer__policy_pack_version
        resources: list[Any] | None = None
        for policy in self._PolicyAnalyzerServicer__policies:
            level = self._get_enforcement_level(policy)
            if level == EnforcementLevel.DISABLED or not isinstance(policy, StackValidationPolicy):
                continue
            if level == EnforcementLevel.REMEDIATE:
                level = EnforcementLevel.MANDATORY
            report = self._create_report_violation(
                response, policy.name, policy.description, level, policy.severity
            )
            if resources is None:
                resources = _stack_resources(self, request)
            args = StackValidationArgs(
                resources,
                self._get_policy_config(policy.name),
                self._PolicyAnalyzerServicer__stack_tags,
            )
            try:
                result = policy.validate(args, report)
                if isawaitable(result):
                    loop = asyncio.new_event_loop()
                    loop.run_until_complete(result)
                    loop.close()
            except UnknownValueError as e:
                response.diagnostics.append(
                    _policy.proto.AnalyzeDiagnostic(  # type: ignore[attr-defined]
                        policyName=policy.name,
                        policyPackName=name,
                        policyPackVersion=version,
                        message=(
                            f"can't run policy '{policy.name}' from policy pack "
                            f"'{name}@v{version}' during preview: {e.message}"
                        ),
                        urn="",
                        description=policy.description,
                        enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY),
                    )
                )
            except _policy._NotApplicableError as e:
                response.not_applicable.append(
                    _policy.proto.PolicyNotApplicable(  # type: ignore[attr-defined]
                        policy_name=policy.name, reason=e.reason or ""
                    )
                )
        return response


def install() -> None:
    """Route pulumi-policy's decoding through the per-request memo (the policy server only)."""
    shim = SimpleNamespace(
        **{
            name: getattr(json_format, name)
            for name in dir(json_format)
            if not name.startswith("__")
        }
    )
    shim.MessageToDict = _message_to_dict
    _policy.json_format = shim  # type: ignore[attr-defined]
    _policy.deserialize_properties = _deserialize  # type: ignore[attr-defined]
    _policy.unknown_checking_proxy = _proxy  # type: ignore[attr-defined]
    _Servicer.Analyze = _analyze
    build_once = POLICY_SDK_VERSION == BUILD_ONCE_VERSION
    _Servicer.AnalyzeStack = _analyze_stack_once if build_once else _analyze_stack
