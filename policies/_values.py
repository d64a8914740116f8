"""Plain views of what the engine hands a policy, with preview-unknowns made explicit.

pulumi_policy wraps inputs in a proxy that raises on unknown values; a rule that touched one
would be reported as "can't run during preview" (an advisory diagnostic the user must read).
We unwrap once into plain data where every unknown is the :data:`UNKNOWN` marker, so each rule
decides explicitly that "unknown passes" and never reports a violation for a value that is not
known yet.

Only the engine's sentinels are unknown: the engine marshals a computed value as one of the
``UNKNOWN_*_VALUE`` strings (``MarshalOptions{KeepUnknowns: true}``), never as null. A JSON null
is a value that is not set, so it stays None and every rule judges it by the provider's default,
exactly like an absent key (a ``storageEncrypted: null`` cluster is unencrypted).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    _DictProxy,
    _is_unknown,
    _ListProxy,
)

from policies.resource_types import AWS_PROVIDER, STATEFUL_DATA_STORES, is_regional

_SENTINELS: Final = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)
_SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
_SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"


class Unknown:
    """A value the engine will only know after the update (``<unknown>`` in preview output)."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Final = Unknown()


def plain(value: Any) -> Any:
    """Deep copy of ``value`` without proxies or secret wrappers, unknowns as :data:`UNKNOWN`."""
    kind = type(value)
    if kind is str:
        return UNKNOWN if value in _SENTINELS else value
    if kind is bool or kind is int or kind is float or value is None:
        return value
    if kind is dict:
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return plain(value.get("value"))
        return {str(k): plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [plain(v) for v in value]
    return _plain_slow(value)


def _plain_slow(value: Any) -> Any:
    """Proxies, other mappings and pulumi_policy ``Secret`` objects (rare, so kept off the fast path)."""
    if isinstance(value, _DictProxy | _ListProxy):
        return plain(value["__target"])
    if isinstance(value, str) and _is_unknown(value):
        return UNKNOWN
    if isinstance(value, Mapping):
        return plain(dict(value))
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(v) for v in value]
    if type(value).__name__ == "Secret":
        return plain(getattr(value, "value", None))
    return value


def dig(data: Any, path: str) -> Any:
    """Value at a dotted path (``pointInTimeRecovery.enabled``, ``rules.0.schedule``).

    Returns None when a key is absent or null and :data:`UNKNOWN` when any step is unknown.
    """
    if "." not in path and type(data) is dict:
        return data.get(path)
    current = data
    for step in path.split("."):
        if current is UNKNOWN:
            return UNKNOWN
        if isinstance(current, Mapping):
            if step not in current:
                return None
            current = current[step]
        elif isinstance(current, list) and step.isdigit():
            index = int(step)
            if index >= len(current):
                return None
            current = current[index]
        else:
            return None
    return current


def known_str(value: Any) -> str | None:
    """The value if it is a known, non-empty string."""
    return value if isinstance(value, str) and value else None


def as_number(value: Any) -> float | None:
    """A known number (protobuf sends integers as floats; strings of digits count too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def as_bool(value: Any) -> bool | None:
    """A known boolean; bridged string-typed flags ("true"/"false") count too."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def show(value: Any) -> str:
    """How a value appears in a message."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value) if isinstance(value, list | dict | str) else repr(value)


def maybe_json(value: Any) -> Any:
    """Provider inputs arrive JSON-encoded from the engine (``defaultTags``); decode them."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return plain(json.loads(value))
        except ValueError:
            return value
    return value


@dataclass(frozen=True, slots=True)
class Res:
    """One resource as a rule sees it: plain inputs plus the graph facts stack rules need."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    provider: Res | None = None
    parent: str | None = None
    dependencies: frozenset[str] = frozenset()
    property_dependencies: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def get(self, path: str) -> Any:
        """Input at a dotted path: None if absent or null, :data:`UNKNOWN` if not known yet."""
        return dig(self.props, path)

    def has(self, path: str) -> bool:
        """True when the input is set (known or unknown); null counts as not set."""
        return self.get(path) is not None

    @property
    def label(self) -> str:
        """How messages name the resource: logical name and type token."""
        return f"{self.name} ({self.type})"

    @property
    def region(self) -> Any:
        """The per-resource region input: a string, None if unset, or :data:`UNKNOWN`."""
        return self.get("region")

    def depends_on(self, prop: str, urn: str) -> bool:
        """True when input ``prop`` was computed from resource ``urn``."""
        return urn in self.property_dependencies.get(prop, frozenset())

    def sources(self, prop: str) -> frozenset[str]:
        """URNs input ``prop`` was computed from."""
        return self.property_dependencies.get(prop, frozenset())


def problem(res: Res, prop: str, issue: str, fix: str) -> str:
    """A violation message that names the resource, the property and the fix."""
    return f"{res.label}: `{prop}` {issue}. Fix: {fix}"


def require_true(res: Res, prop: str, fix: str, *, default: bool = False) -> Iterator[str]:
    """Violation unless ``prop`` is true (absent means ``default``); unknown passes."""
    value = res.get(prop)
    if value is UNKNOWN:
        return
    flag = default if value is None else as_bool(value)
    if flag is not True:
        shown = (
            f"is not set (defaults to {show(default)})" if value is None else f"is {show(value)}"
        )
        yield problem(res, prop, shown, fix)


def require_not_true(res: Res, prop: str, fix: str) -> Iterator[str]:
    """Violation when ``prop`` is explicitly true; absent and unknown pass."""
    value = res.get(prop)
    if value is not UNKNOWN and as_bool(value) is True:
        yield problem(res, prop, "is true", fix)


def require_not_false(res: Res, prop: str, fix: str) -> Iterator[str]:
    """Violation when ``prop`` is explicitly false (absent means the compliant default)."""
    value = res.get(prop)
    if value is not UNKNOWN and as_bool(value) is False:
        yield problem(res, prop, "is false", fix)


def require_set(res: Res, prop: str, fix: str) -> Iterator[str]:
    """Violation unless ``prop`` has a non-empty value; unknown passes (it is an output)."""
    value = res.get(prop)
    if value is None or value in ("", []):
        yield problem(res, prop, "is not set", fix)


def list_items(value: Any) -> list[Any]:
    """Items of a known list (an unknown or absent list yields nothing)."""
    return list(value) if isinstance(value, list) else []


def arn_region(value: Any) -> str | None:
    """Region field of a known ARN string (``arn:aws:backup:us-west-2:...``)."""
    text = known_str(value)
    if text is None or not text.startswith("arn:"):
        return None
    parts = text.split(":")
    return parts[3] or None if len(parts) > 3 else None


class StackView:
    """All resources of one preview, indexed for the cross-resource (region pair) rules.

    Built once per ``AnalyzeStack`` and shared by every stack rule (``policies._rule``): what
    several rules look up (resources by type and URN, the data stores' regions) is computed
    here once, so no rule scans the stack per resource it checks.
    """

    def __init__(self, resources: Sequence[Res]) -> None:
        self.resources: tuple[Res, ...] = tuple(resources)
        self.by_urn: dict[str, Res] = {r.urn: r for r in self.resources}
        self._by_type: dict[str, list[Res]] = {}
        for res in self.resources:
            self._by_type.setdefault(res.type, []).append(res)
        self._position: dict[str, int] = {r.urn: i for i, r in enumerate(self.resources)}
        self._data_store_regions: tuple[frozenset[str], bool] | None = None

    def of_type(self, *types: str) -> list[Res]:
        """Resources of the given type tokens, in registration order."""
        if len(types) == 1:
            return list(self._by_type.get(types[0], ()))
        found = [r for token in dict.fromkeys(types) for r in self._by_type.get(token, ())]
        found.sort(key=lambda r: self._position[r.urn])
        return found

    def regions_of_data_stores(self) -> tuple[set[str], bool]:
        """Known regions of the stateful data stores, and whether some region is unknown."""
        if self._data_store_regions is None:
            regions: set[str] = set()
            unknown = False
            for token in STATEFUL_DATA_STORES:
                for res in self._by_type.get(token, ()):
                    values = [res.region]
                    values += [dig(rep, "regionName") for rep in list_items(res.get("replicas"))]
                    for value in values:
                        if value is UNKNOWN:
                            unknown = True
                        elif known_str(value):
                            regions.add(value)
            self._data_store_regions = (frozenset(regions), unknown)
        regions_seen, unknown_seen = self._data_store_regions
        return set(regions_seen), unknown_seen

    def region_pair(self) -> tuple[str, str] | None:
        """The (anchor, other) regions when the data stores span exactly two known regions."""
        regions, unknown = self.regions_of_data_stores()
        if unknown or len(regions) != 2:
            return None
        first, second = sorted(regions)
        return first, second

    def providers(self) -> list[Res]:
        """The explicit AWS providers of the stack."""
        return self.of_type(AWS_PROVIDER)

    def regional(self) -> Iterator[Res]:
        """Resources that take a per-resource region."""
        return (r for r in self.resources if is_regional(r.type))

    def referrers(
        self, target: Res, prop: str, candidates: Iterable[Res], ids: Iterable[str]
    ) -> list[Res]:
        """Candidates whose ``prop`` refers to ``target``: by dependency or by identifier."""
        id_set = {i for i in ids if i}
        found: list[Res] = []
        for cand in candidates:
            if cand.depends_on(prop, target.urn):
                found.append(cand)
                continue
            value = cand.get(prop)
            if isinstance(value, str) and value in id_set:
                found.append(cand)
        return found


def reference_unknown(res: Res, prop: str) -> bool:
    """True when ``prop`` is unknown and has no recorded dependency to attribute it by."""
    return res.get(prop) is UNKNOWN and not res.sources(prop)
