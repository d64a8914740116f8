"""The recorded resource graph: what a mocked run of the program registered.

Every consumer (unit tests, the policy pack's stack tests, the preflight report and the
drill sandbox) reads this one model, so the shape of a "planned resource" is defined once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RecordedResource:
    """One resource registration as the engine would see it during a preview."""

    urn: str
    type: str
    """Type token, e.g. ``aws:rds/cluster:Cluster`` or ``securecart:database:AuroraGlobalDatabase``."""
    name: str
    """Logical name (the last part of the URN)."""
    custom: bool
    """True for provider resources, False for ComponentResources."""
    inputs: dict[str, Any]
    """camelCase inputs as the provider receives them; secrets stay wrapped (see ``SECRET_SIG``)."""
    parent: str | None
    """URN of the parent resource (the stack for top-level resources)."""
    provider: str | None
    """Provider reference ``<urn>::<id>`` or None for the default provider."""
    dependencies: tuple[str, ...] = ()
    """URNs this resource depends on (``depends_on`` plus those implied by its inputs)."""
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Input name -> URNs that input's value came from (used to prove a password is generated)."""
    protect: bool = False
    ignore_changes: tuple[str, ...] = ()
    """Inputs whose drift the engine ignores (global-cluster role fields, see components)."""
    retain_on_delete: bool = False
    outputs: dict[str, Any] = field(default_factory=dict)
    """What the engine holds after the update, as it sends it to ``AnalyzeStack``: the inputs
    plus what the provider computed (here the mocks' outputs: ARNs, endpoints, ids)."""

    @property
    def region(self) -> str | None:
        """The per-resource region (pulumi-aws v7 ``region=`` input), when set."""
        value = self.inputs.get("region")
        return value if isinstance(value, str) else None


@dataclass(slots=True)
class Recording:
    """Everything one mocked run of ``__main__.py`` produced."""

    project: str
    stack: str
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    """Stack exports, resolved (secrets left wrapped)."""
    config: dict[str, Any]
    """The effective config the program ran with (secrets redacted)."""

    def by_type(self, type_token: str) -> list[RecordedResource]:
        """All resources of one type token."""
        return [r for r in self.resources if r.type == type_token]

    def get(self, urn: str) -> RecordedResource:
        """The resource with this URN; KeyError names it when absent."""
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)

    def named(self, name: str) -> RecordedResource:
        """The single resource with this logical name."""
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]


SIG_KEY = "4dabf18193072939515e22adb298388d"
"""Pulumi's special signature key in serialized property maps."""
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
"""The signature value marking a secret: ``{SIG_KEY: SECRET_SIG, "value": ...}``."""


def is_secret(value: Any) -> bool:
    """True for a value wrapped as a Pulumi secret."""
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG
