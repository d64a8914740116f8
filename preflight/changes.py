"""What a change to a planned resource does: one definition for the plan diff (``--against``),
the drills' offline preview and the data tier's role-flip proof.

``FORCE_NEW`` (``preflight.provider_schema``) lists, per type the program creates, the inputs
whose change makes the provider replace the resource (its ForceNew fields); a change of
``region`` replaces every regional resource. ``ignore_changes`` is applied the way the engine applies it before it asks the
provider for a diff (``processIgnoreChanges``: every ignored path is reset to its old value).
``ROUTE53_RECORD_SWAPPED`` are the record inputs the provider changes in place by a DELETE +
CREATE batch rather than an UPSERT (terraform-provider-aws route53 record update): a region swap
must not touch them either.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from preflight.model import SECRET_SIG, SIG_KEY, RecordedResource
from preflight.provider_schema import (
    FORCE_NEW,
    REGIONLESS_PREFIXES,
    REPLACE_UNLESS_CLEARED,
    ROUTE53_RECORD_SWAPPED,
)

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""Pulumi's marker for a value unknown during preview."""

STATEFUL_TYPES = frozenset(
    {
        "aws:rds/globalCluster:GlobalCluster",
        "aws:rds/cluster:Cluster",
        "aws:rds/clusterInstance:ClusterInstance",
        "aws:dynamodb/table:Table",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
        "aws:redshift/cluster:Cluster",
        "aws:neptune/globalCluster:GlobalCluster",
        "aws:neptune/cluster:Cluster",
        "aws:neptune/clusterInstance:ClusterInstance",
        "aws:kms/key:Key",
        "aws:kms/replicaKey:ReplicaKey",
        "aws:secretsmanager/secret:Secret",
        "aws:backup/vault:Vault",
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:route53/zone:Zone",
        "random:index/randomPassword:RandomPassword",
    }
)
"""Resources whose replacement or deletion loses data, breaks replication or (VPC, subnet,
zone, generated password) drags the data stores with it."""


class IgnoreChangesError(ValueError):
    """An ``ignore_changes`` path that cannot be applied: the engine fails the preview with
    'cannot ignore changes to the following properties because one or more elements of the
    path are missing'."""


# --- ignore_changes, as the engine applies it --------------------------------------------------

_PATH_TOKEN = re.compile(r'\.?([^.\[\]]+)|\[(\d+|\*|"(?:[^"\\]|\\.)*")\]')
"""A name (read up to the next ``.`` or ``[``, as the engine's parser does), or an index, a
``*`` or a quoted key in brackets."""


def parse_path(path: str) -> list[str | int]:
    """``a.b[0]["c.d"][*]`` -> ``["a", "b", 0, "c.d", "*"]`` (Pulumi's property-path grammar)."""
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if match is None or match.end() == position:
            raise IgnoreChangesError(f"ignore_changes path {path!r} is not a property path")
        name, index = match.group(1), match.group(2)
        if name is not None:
            parts.append(name)
        elif index.startswith('"'):
            parts.append(index[1:-1].replace('\\"', '"'))
        else:
            parts.append("*" if index == "*" else int(index))
        position = match.end()
    return parts


def _unwrap(value: Any) -> Any:
    while isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG:
        value = value.get("value")
    return value


def _reset(path: Sequence[str | int], old: Any, new: Any) -> bool:
    """Reset ``path`` inside ``new`` (mutated) to its value in ``old``; False on a path error.

    The semantics of Pulumi's ``PropertyPath.Reset``: a leaf present in old is copied into new,
    a leaf absent from old is deleted from new, ``*`` matches every key or index, and the path
    is an error where old and new disagree on its shape (or an array index exists on one side).
    """
    old, new = _unwrap(old), _unwrap(new)
    key, rest = path[0], path[1:]
    if isinstance(key, int):
        if not isinstance(old, list) or not isinstance(new, list):
            return not isinstance(old, list) and not isinstance(new, list)
        if not rest:
            if key >= len(old) and key >= len(new):
                return True  # absent on both sides: the same
            if key >= len(old) or key >= len(new):
                return False  # an array element cannot be added or removed
            new[key] = copy.deepcopy(old[key])
            return True
        if key >= len(old) or key >= len(new):
            return False
        return _reset(rest, old[key], new[key])
    if key == "*":
        if not rest:
            if isinstance(new, dict):
                if isinstance(old, dict):
                    for name in [k for k in new if k not in old]:
                        del new[name]
                    new.update(copy.deepcopy(old))
                return True
            if isinstance(new, list):
                if isinstance(old, list):
                    if len(old) != len(new):
                        return False
                    new[:] = copy.deepcopy(old)
                return True
            return False
        if isinstance(old, dict) and isinstance(new, dict):
            return all(name in new and _reset(rest, old[name], new[name]) for name in old)
        if isinstance(old, list) and isinstance(new, list):
            return len(old) == len(new) and all(
                _reset(rest, o, n) for o, n in zip(old, new, strict=True)
            )
        return False
    if not rest:
        if isinstance(old, dict) and key in old:
            if not isinstance(new, dict):
                return False
            new[key] = copy.deepcopy(old[key])
        elif isinstance(new, dict):
            new.pop(key, None)
        return True
    if not isinstance(old, dict) or not isinstance(new, dict):
        return not isinstance(old, dict) and not isinstance(new, dict)
    if key in old and key not in new:
        return False
    if key not in old and key not in new:
        return True
    return _reset(rest, old.get(key), new[key])


def apply_ignore_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], ignore_changes: Iterable[str]
) -> dict[str, Any]:
    """``new`` with every ``ignore_changes`` path reset to its value in ``old`` (a copy).

    Raises :class:`IgnoreChangesError` naming the paths the engine would reject.
    """
    result = copy.deepcopy(dict(new))
    invalid = [path for path in ignore_changes if not _reset(parse_path(path), old, result)]
    if invalid:
        raise IgnoreChangesError(
            "cannot ignore changes to the following properties because one or more elements"
            f" of the path are missing: {', '.join(repr(p) for p in invalid)}"
        )
    return result


# --- what changed, and what that does ----------------------------------------------------------


def _unknown(value: Any) -> bool:
    return isinstance(value, str) and value == UNKNOWN


_ASSET_SIGNATURES = frozenset(
    {"c44067f5952c0a294b673a41bacd8c17", "0def7320c3a5731c473e5ecbe6d01bc7"}
)
"""Pulumi's signatures of an asset and of an archive (``pulumi.runtime.rpc``)."""


def comparable(value: Any) -> Any:
    """``value`` as the engine compares it: an asset or archive by its content hash alone (not
    by where its file lives), everything else as is."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) in _ASSET_SIGNATURES and "hash" in value:
            return {SIG_KEY: value[SIG_KEY], "hash": value["hash"]}
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def changed_inputs(prior: RecordedResource, current: RecordedResource) -> list[str]:
    """Top-level inputs that differ between two registrations of one resource, as the engine
    diffs them: the current ``ignore_changes`` applied against the prior inputs, values
    unknown on either side skipped."""
    old = prior.inputs
    new = apply_ignore_changes(old, current.inputs, current.ignore_changes)
    return [
        key
        for key in sorted(set(old) | set(new))
        if not (_unknown(old.get(key)) or _unknown(new.get(key)))
        and comparable(old.get(key)) != comparable(new.get(key))
    ]


def _values_at(value: Any, path: Sequence[str]) -> list[Any]:
    """Every value at a dotted ``path`` (lists are looked through, as for a set of blocks)."""
    value = _unwrap(value)
    if not path:
        return [value]
    if isinstance(value, list):
        return [found for item in value for found in _values_at(item, path)]
    if isinstance(value, dict):
        return _values_at(value.get(path[0]), path[1:])
    return [None]


def _region_replaces(resource_type: str) -> bool:
    return not resource_type.startswith(REGIONLESS_PREFIXES)


def forcing_inputs(
    resource_type: str, old: Mapping[str, Any], new: Mapping[str, Any], changed: Collection[str]
) -> tuple[str, ...]:
    """The force-new inputs (or nested paths) among ``changed`` whose values really differ."""
    paths = set(FORCE_NEW.get(resource_type, frozenset()))
    if _region_replaces(resource_type):
        paths.add("region")
    cleared_ok = REPLACE_UNLESS_CLEARED.get(resource_type, frozenset())
    found = []
    for path in sorted(paths):
        parts = path.split(".")
        if parts[0] not in changed:
            continue
        if comparable(_values_at(old, parts)) == comparable(_values_at(new, parts)):
            continue
        if path in cleared_ok and new.get(parts[0]) in (None, "", [], {}):
            continue
        found.append(path)
    return tuple(found)


# --- the plan diff -----------------------------------------------------------------------------


class Op(StrEnum):
    """What the engine would do with one resource."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    SAME = "same"


@dataclass(frozen=True, slots=True)
class ResourceChange:
    """One resource of the plan compared with the baseline."""

    urn: str
    type: str
    name: str
    op: Op
    changed: tuple[str, ...] = ()
    """Top-level inputs whose value changed (after ``ignore_changes``)."""
    replaced_by: tuple[str, ...] = ()
    """The force-new inputs (or nested paths) that make this a replacement."""
    via: tuple[tuple[str, str], ...] = ()
    """(input, resource) pairs: inputs whose value comes from a resource that is replaced, so
    the engine sees them unknown during the preview (and a force-new one among them forces
    this replacement too)."""
    approved: bool = False
    """A reviewer allowed this replacement or deletion (``--allow-replace``)."""
    error: str | None = None
    """Why the engine would fail the preview for this resource (an invalid ignore path)."""
    cloud: bool = True
    """A resource the deploy makes in the cloud (not a component, a provider or the stack):
    only these are counted, so the diff's counts add up to the plan's resource count."""

    @property
    def stateful(self) -> bool:
        """True when replacing or deleting this resource loses data (``STATEFUL_TYPES``)."""
        return self.type in STATEFUL_TYPES

    @property
    def destructive(self) -> bool:
        """A replacement or deletion of a stateful resource."""
        return self.stateful and self.op in (Op.REPLACE, Op.DELETE)

    @property
    def blocks(self) -> bool:
        """True when this change alone blocks the preview."""
        return self.error is not None or (self.destructive and not self.approved)

    def reason(self) -> str:
        """One line naming the resource and what forces the change."""
        what = f"{self.op.value} of {self.type} {self.name!r}"
        if self.error is not None:
            return f"{what}: {self.error}"
        if self.op is Op.REPLACE:
            one = len(self.replaced_by) == 1
            text = (
                f"{what}: {'input' if one else 'inputs'} {', '.join(self.replaced_by)}"
                f" {'forces' if one else 'force'} a new resource"
            )
            sources = dict(self.via)
            inherited = [i for i in self.replaced_by if i in sources]
            if inherited:
                upstream = ", ".join(sorted({sources[i] for i in inherited}))
                verb = "comes" if len(inherited) == 1 else "come"
                text += f" ({', '.join(inherited)} {verb} from {upstream}, which is replaced)"
            return text
        if self.op is Op.DELETE:
            return f"{what}: it is in the baseline and no longer in the program"
        if self.op is Op.UPDATE:
            return f"{what}: {', '.join(self.changed)} changed"
        return what


@dataclass(slots=True)
class PlanDiff:
    """The plan compared with a baseline: one entry per resource of either side."""

    against: str
    """Where the baseline came from (its file name)."""
    changes: list[ResourceChange] = field(default_factory=list)
    unused_approvals: tuple[str, ...] = ()
    """``--allow-replace`` entries that matched no replacement or deletion."""

    def count(self, op: Op) -> int:
        """How many cloud resources get ``op`` (as the plan's resource counts count them)."""
        return sum(1 for c in self.changes if c.op is op and c.cloud)

    @property
    def counts(self) -> dict[str, int]:
        """Resources per operation, every operation listed."""
        return {op.value: self.count(op) for op in Op}

    @property
    def unchanged(self) -> bool:
        """True when the plan matches the baseline exactly."""
        return all(c.op is Op.SAME for c in self.changes)

    @property
    def blocking(self) -> list[ResourceChange]:
        """Changes that block the preview (unapproved stateful replacements and deletions)."""
        return [c for c in self.changes if c.blocks]

    @property
    def visible(self) -> list[ResourceChange]:
        """Every change that is not "same", in plan order."""
        return [c for c in self.changes if c.op is not Op.SAME]


def _approved(resource: RecordedResource, allow: Collection[str]) -> str | None:
    for entry in allow:
        if entry in (resource.urn, resource.name):
            return entry
    return None


def diff_resource(
    prior: RecordedResource,
    current: RecordedResource,
    unknown: Mapping[str, str] | None = None,
) -> ResourceChange:
    """The engine's decision for one resource present in both plans.

    ``unknown`` maps inputs whose value the engine cannot know during the preview (they come
    from a resource being replaced) to that resource's name: each counts as changed, and a
    force-new one forces a replacement, as the provider treats an unknown ForceNew value.
    Inputs under ``ignore_changes`` keep their old value and are not unknown.
    """
    try:
        changed = changed_inputs(prior, current)
    except IgnoreChangesError as exc:
        return ResourceChange(current.urn, current.type, current.name, Op.UPDATE, error=str(exc))
    ignored = {str(parse_path(path)[0]) for path in current.ignore_changes}
    via = {key: name for key, name in (unknown or {}).items() if key not in ignored}
    if not changed and not via:
        return ResourceChange(current.urn, current.type, current.name, Op.SAME)
    new = apply_ignore_changes(prior.inputs, current.inputs, current.ignore_changes)
    forcing = set(forcing_inputs(current.type, prior.inputs, new, changed))
    for path in FORCE_NEW.get(current.type, frozenset()):
        if path.split(".")[0] in via:
            forcing.add(path)
    op = Op.REPLACE if forcing else Op.UPDATE
    return ResourceChange(
        current.urn,
        current.type,
        current.name,
        op,
        tuple(sorted(set(changed) | set(via))),
        tuple(sorted(forcing)),
        tuple(sorted(via.items())),
    )


def diff_plans(
    before: Sequence[RecordedResource],
    after: Sequence[RecordedResource],
    *,
    against: str = "baseline",
    allow: Collection[str] = (),
) -> PlanDiff:
    """What the engine would do to go from ``before`` (a baseline) to ``after`` (this plan).

    ``allow`` holds URNs or logical names a reviewer approved for replacement or deletion.
    """
    prior_by_urn = {r.urn: r for r in before}
    current_urns = {r.urn for r in after}
    replaced: dict[str, str] = {}
    """URN -> name of the resources replaced so far (the plan lists dependencies first)."""
    used: set[str] = set()
    changes: list[ResourceChange] = []
    pending = [*after, *(r for r in before if r.urn not in current_urns)]
    for resource in pending:
        if resource.urn not in current_urns:
            change = ResourceChange(resource.urn, resource.type, resource.name, Op.DELETE)
        elif (prior := prior_by_urn.get(resource.urn)) is None:
            change = ResourceChange(resource.urn, resource.type, resource.name, Op.CREATE)
        else:
            unknown = {
                key: replaced[urn]
                for key, urns in resource.property_dependencies.items()
                for urn in urns
                if urn in replaced
            }
            change = diff_resource(prior, resource, unknown)
        if not resource.custom or resource.type.startswith("pulumi:"):
            change = replace(change, cloud=False)
        if change.op is Op.REPLACE:
            replaced[change.urn] = change.name
        if change.destructive and (entry := _approved(resource, allow)) is not None:
            used.add(entry)
            change = replace(change, approved=True)
        changes.append(change)
    unused = tuple(entry for entry in allow if entry not in used)
    return PlanDiff(against=against, changes=changes, unused_approvals=unused)


__all__ = [
    "FORCE_NEW",
    "REGIONLESS_PREFIXES",
    "REPLACE_UNLESS_CLEARED",
    "ROUTE53_RECORD_SWAPPED",
    "STATEFUL_TYPES",
    "UNKNOWN",
    "IgnoreChangesError",
    "Op",
    "PlanDiff",
    "ResourceChange",
    "apply_ignore_changes",
    "changed_inputs",
    "comparable",
    "diff_plans",
    "diff_resource",
    "forcing_inputs",
    "parse_path",
]
