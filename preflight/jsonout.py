"""``--json FILE``: the whole run, machine-readable, secrets redacted.

Shape (format 1)::

    {"format": 1, "project", "stack", "blocked": bool,
     "config": {...}, "outputs": {...},
     "resources": [{"urn", "type", "name", "custom", "region", "parent", "provider",
                    "dependencies", "propertyDependencies", "inputs", "ignoreChanges",
                    "protect", "retainOnDelete",
                    "estimatedStartSeconds", "estimatedFinishSeconds"}],
     "counts": {"byType": {type: {region: n}}, "byRegion": {region: n}, "total": n},
     "policyPack": {"path", "configFile", "config", "policies": [{"name", "description",
                    "remediation", "enforcementLevel"}]},
     "diagnostics": [{"policyName", "policyPackName", "description", "message",
                      "enforcementLevel", "urn", "resourceName", "resourceType", "remediation"}],
     "summary": {"mandatory": n, "remediate": n, "advisory": n},
     "diff": null | {"against", "unchanged": bool, "counts": {op: n},
                     "blocking": [message], "unusedApprovals": [entry],
                     "changes": [{"urn", "type", "name", "op", "changedInputs",
                                  "replacedBy", "stateful", "approved", "blocks", "message"}]},
     "criticalPath": {"totalSeconds", "steps": [{"urn", "name", "type", "region",
                      "startSeconds", "durationSeconds"}]},
     "cost": {"monthlyUsd", "reservedMonthlyUsd": {"1y", "3y"}, "reservedEstimated": [term],
              "budgetUsd", "lines": [...],
              ...} (preflight/cost.py, docs/cost.md),
     "timings": {...}}

Regions: a resource's ``region`` input; ``"global"`` for regionless custom resources; ``null`` for
components and providers. A document is a valid ``--against`` baseline (``preflight.baseline``).

The document is built from ``SECTIONS``, one function per group of keys, in order: a new
section is one function appended there.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from preflight.baseline import FORMAT_VERSION, resource_entry, scrub_strings
from preflight.changes import Op
from preflight.cost import cost_document
from preflight.critical_path import GLOBAL, is_plan_resource, region_label
from preflight.model import Recording
from preflight.pipeline import LEVELS, PreflightResult
from preflight.redaction import redact

Section = Callable[[PreflightResult], Mapping[str, Any]]
"""Builds some top-level keys of the document from a run."""


def counts(recording: Recording) -> dict[str, Any]:
    """Planned resources by type and region."""
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    by_region: Counter[str] = Counter()
    for r in recording.resources:
        if is_plan_resource(r):
            by_type[r.type][region_label(r)] += 1
            by_region[region_label(r)] += 1
    return {
        "byType": {t: dict(sorted(c.items())) for t, c in sorted(by_type.items())},
        "byRegion": dict(sorted(by_region.items())),
        "total": sum(by_region.values()),
    }


def _identity(result: PreflightResult) -> dict[str, Any]:
    rec = result.recording
    return {
        "format": FORMAT_VERSION,
        "project": rec.project,
        "stack": rec.stack,
        "blocked": result.blocked,
        "config": redact(rec.config),
        "outputs": redact(rec.outputs),
    }


def _resources(result: PreflightResult) -> dict[str, Any]:
    schedule = result.critical_path.schedule
    return {
        "resources": [resource_entry(r, schedule.get(r.urn)) for r in result.recording.resources],
        "counts": counts(result.recording),
    }


def _policies(result: PreflightResult) -> dict[str, Any]:
    by_urn = {r.urn: r for r in result.recording.resources}
    diagnostics = []
    for f in result.findings:
        target = by_urn.get(f.urn)
        diagnostics.append(
            {
                "policyName": f.policy_name,
                "policyPackName": f.policy_pack_name,
                "description": f.description,
                "message": f.message,
                "enforcementLevel": f.enforcement_level,
                "urn": f.urn,
                "resourceName": target.name if target else None,
                "resourceType": target.type if target else None,
                "remediation": f.remediation,
            }
        )
    levels = Counter(f.enforcement_level for f in result.findings)
    return {
        "policyPack": {
            "path": str(result.policy_pack),
            "configFile": str(result.policy_config_file) if result.policy_config_file else None,
            "config": redact(result.policy_config),
            "policies": [
                {
                    "name": p.name,
                    "description": p.description,
                    "remediation": p.remediation,
                    "enforcementLevel": p.enforcement_level,
                }
                for p in result.policies
            ],
        },
        "diagnostics": diagnostics,
        "summary": {level: levels.get(level, 0) for level in LEVELS if level != "disabled"},
    }


def _diff(result: PreflightResult) -> dict[str, Any]:
    diff = result.diff
    if diff is None:
        return {"diff": None}
    return {
        "diff": {
            "against": diff.against,
            "unchanged": diff.unchanged,
            "counts": diff.counts,
            "blocking": [c.reason() for c in diff.blocking],
            "unusedApprovals": list(diff.unused_approvals),
            "changes": [
                {
                    "urn": c.urn,
                    "type": c.type,
                    "name": c.name,
                    "op": c.op.value,
                    "changedInputs": list(c.changed),
                    "replacedBy": list(c.replaced_by),
                    "stateful": c.stateful,
                    "approved": c.approved,
                    "blocks": c.blocks,
                    "message": c.reason(),
                }
                for c in diff.changes
                if c.op is not Op.SAME
            ],
        }
    }


def _critical_path(result: PreflightResult) -> dict[str, Any]:
    path = result.critical_path
    return {
        "criticalPath": {
            "totalSeconds": path.total_seconds,
            "steps": [
                {
                    "urn": s.urn,
                    "name": s.name,
                    "type": s.type,
                    "region": s.region or GLOBAL,
                    "startSeconds": s.start,
                    "durationSeconds": s.duration,
                }
                for s in path.steps
            ],
        }
    }


def _advisories(result: PreflightResult) -> dict[str, Any]:
    return {"advisories": result.advisories}


def _cost(result: PreflightResult) -> dict[str, Any]:
    return {"cost": cost_document(result)}


def _timings(result: PreflightResult) -> dict[str, Any]:
    t = result.timings
    return {
        "timings": {
            "recordSeconds": t.record_seconds,
            "serverStartSeconds": t.server_start_seconds,
            "analyzeCalls": t.analyze_calls,
            "analyzeSeconds": t.analyze_seconds,
            "msPerAnalyze": t.ms_per_analyze,
            "analyzeWaitSeconds": t.analyze_wait_seconds,
            "analyzeStackSeconds": t.analyze_stack_seconds,
            "totalSeconds": t.total_seconds,
        }
    }


SECTIONS: list[Section] = [
    _identity,
    _resources,
    _policies,
    _diff,
    _critical_path,
    _cost,
    _advisories,
    _timings,
]
"""The document's parts, in order."""


def to_document(result: PreflightResult, compliance: Any = None) -> dict[str, Any]:
    """The JSON document for one run (secrets redacted, their plaintexts scrubbed); with
    ``compliance`` (a ``preflight.compliance.ComplianceReport``), its ``compliance`` key:
    ``{"framework", "name", "version", "source", "stack", "counts", "drill",
    "controls": [{"id", "title", "status", "rules", "resources", "reason"}]}``."""
    document: dict[str, Any] = {}
    for section in SECTIONS:
        document.update(section(result))
    if compliance is not None:
        document["compliance"] = compliance.to_json()
    scrubbed: dict[str, Any] = scrub_strings(document, result.scrub)
    return scrubbed


def render_json(result: PreflightResult, compliance: Any = None) -> str:
    """The document as text."""
    document = to_document(result, compliance)
    return json.dumps(document, indent=2, sort_keys=False, default=str) + "\n"


def write_json(result: PreflightResult, path: Path, compliance: Any = None) -> None:
    """Write ``to_document(result, compliance)`` to ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = to_document(result, compliance)
    # Streamed, not render_json's one string: json.dumps with indent joins a list of every
    # chunk it encodes (about a million small strings for 1,400 resources) at the run's peak
    # memory; the text is the same.
    with path.open("w", encoding="utf-8") as out:
        json.dump(document, out, indent=2, sort_keys=False, default=str)
        out.write("\n")
