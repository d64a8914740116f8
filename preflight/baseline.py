"""A plan as ``--json`` writes it, and reading one back as the baseline of ``--against``.

The baseline's inputs went through the JSON writer (secrets redacted, secret plaintexts
scrubbed, tuples as lists), so the current plan is compared in the same form:
:func:`as_written` passes it through the same writer. One definition of a resource's JSON
entry (:func:`resource_entry`) serves both the writer and the reader.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preflight.critical_path import Window, is_plan_resource, region_label
from preflight.model import RecordedResource
from preflight.redaction import Scrubber, redact

FORMAT_VERSION = 1
"""Version of the ``--json`` document; a baseline of another version is refused."""


class BaselineError(ValueError):
    """The ``--against`` file cannot serve as a baseline; the message names it and says why."""


def resource_entry(resource: RecordedResource, window: Window | None = None) -> dict[str, Any]:
    """One resource as the JSON document lists it (inputs redacted; scrub strings after)."""
    r = resource
    return {
        "urn": r.urn,
        "type": r.type,
        "name": r.name,
        "custom": r.custom,
        "region": region_label(r) if is_plan_resource(r) else None,
        "parent": r.parent,
        "provider": r.provider,
        "dependencies": list(r.dependencies),
        "propertyDependencies": {k: list(v) for k, v in r.property_dependencies.items()},
        "inputs": redact(r.inputs),
        "ignoreChanges": list(r.ignore_changes),
        "protect": r.protect,
        "retainOnDelete": r.retain_on_delete,
        "estimatedStartSeconds": window.start if window else None,
        "estimatedFinishSeconds": window.finish if window else None,
    }


def scrub_strings(value: Any, scrub: Scrubber) -> Any:
    """``value`` with ``scrub`` applied to every string in it."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_strings(v, scrub) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_strings(v, scrub) for v in value]
    return value


def from_entry(entry: Mapping[str, Any]) -> RecordedResource:
    """A resource back from its JSON entry (what the diff needs: identity, inputs, options)."""
    return RecordedResource(
        urn=str(entry["urn"]),
        type=str(entry["type"]),
        name=str(entry.get("name") or str(entry["urn"]).rsplit("::", 1)[-1]),
        custom=bool(entry.get("custom", True)),
        inputs=dict(entry.get("inputs") or {}),
        parent=entry.get("parent"),
        provider=entry.get("provider"),
        dependencies=tuple(entry.get("dependencies") or ()),
        property_dependencies={
            k: tuple(v) for k, v in (entry.get("propertyDependencies") or {}).items()
        },
        protect=bool(entry.get("protect", False)),
        ignore_changes=tuple(entry.get("ignoreChanges") or ()),
        retain_on_delete=bool(entry.get("retainOnDelete", False)),
    )


def as_written(resources: Sequence[RecordedResource], scrub: Scrubber) -> list[RecordedResource]:
    """The resources as a ``--json`` document would carry them (for comparing with one)."""
    entries = [scrub_strings(resource_entry(r), scrub) for r in resources]
    return [from_entry(e) for e in json.loads(json.dumps(entries, default=str))]


@dataclass(frozen=True, slots=True)
class Baseline:
    """The plan an earlier ``--json`` run wrote."""

    path: Path
    project: str
    stack: str
    resources: list[RecordedResource]
    cost: Mapping[str, Any] | None = None
    """The baseline's ``cost`` object (None when the run that wrote it had no estimate)."""

    def check_project(self, project: str) -> None:
        """Raise :class:`BaselineError` unless the baseline is of ``project``."""
        if self.project != project:
            raise BaselineError(
                f"--against {self.path}: baseline of project {self.project!r}, not {project!r}"
            )


def load_baseline(path: Path, *, stack: str) -> Baseline:
    """The plan in ``path``, a document an earlier ``--json`` run wrote for ``stack``.

    Raises :class:`BaselineError` naming the file and what is wrong with it: missing,
    unreadable, not JSON, not a preflight document, another format or stack (the project is
    checked against the recording with :meth:`Baseline.check_project`).
    """
    where = f"--against {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise BaselineError(f"{where}: is a directory, expected a preflight --json file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{where}: cannot be read ({exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(
            f"{where}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        raise BaselineError(
            f"{where}: not a preflight --json document (expected an object with a 'resources' list)"
        )
    version = document.get("format")
    if version != FORMAT_VERSION:
        raise BaselineError(
            f"{where}: document format {version!r}; this preflight reads format {FORMAT_VERSION}"
        )
    if document.get("stack") != stack:
        raise BaselineError(
            f"{where}: baseline of stack {document.get('stack')!r}, not {stack!r};"
            f" write one with: python -m preflight --stack {stack} --json FILE"
        )
    resources = []
    for index, entry in enumerate(document["resources"]):
        missing = [
            key
            for key in ("urn", "type", "inputs")
            if not isinstance(entry, dict) or key not in entry
        ]
        if missing:
            raise BaselineError(f"{where}: resources[{index}] has no {', '.join(missing)}")
        if not isinstance(entry["inputs"], dict):
            raise BaselineError(f"{where}: resources[{index}].inputs is not an object")
        resources.append(from_entry(entry))
    cost = document.get("cost")
    if cost is not None and not (
        isinstance(cost, dict)
        and isinstance(cost.get("monthlyUsd"), int | float)
        and isinstance(cost.get("lines"), list)
    ):
        raise BaselineError(f"{where}: cost is not a cost estimate (monthlyUsd and lines)")
    return Baseline(path, str(document.get("project")), stack, resources, cost)
