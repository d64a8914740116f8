"""``--json FILE``: the whole run, machine-readable, secrets redacted.

Shape (format 1)::

    {"format": 1, "project", "stack", "blocked": bool,
     "config": {...}, "outputs": {...},
     "resources": [{"urn", "type", "name", "custom", "region", "parent", "provider",
                    "dependencies", "propertyDependencies", "inputs",
                    "estimatedStartSeconds", "estimatedFinishSeconds"}],
     "counts": {"byType": {type: {region: n}}, "byRegion": {region: n}, "total": n},
     "policyPack": {"path", "configFile", "config", "policies": [{"name", "description",
                    "remediation", "enforcementLevel"}]},
     "diagnostics": [{"policyName", "policyPackName", "description", "message",
                      "enforcementLevel", "urn", "resourceName", "resourceType", "remediation"}],
     "summary": {"mandatory": n, "remediate": n, "advisory": n},
     "criticalPath": {"totalSeconds", "steps": [{"urn", "name", "type", "region",
                      "startSeconds", "durationSeconds"}]},
     "cost": {"monthlyUsd", "reservedMonthlyUsd": {"1y", "3y"}, "budgetUsd", "lines": [...],
              ...} (preflight/cost.py, docs/cost.md),
     "timings": {...}}

Regions: a resource's ``region`` input; ``"global"`` for regionless custom resources; ``null`` for
components and providers.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from preflight.cost import cost_document
from preflight.critical_path import GLOBAL, is_plan_resource, region_label
from preflight.model import Recording
from preflight.pipeline import LEVELS, PreflightResult
from preflight.redaction import Scrubber, redact

FORMAT_VERSION = 1


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


def to_document(result: PreflightResult) -> dict[str, Any]:
    """The JSON document for one run (secrets already redacted)."""
    rec = result.recording
    by_urn = {r.urn: r for r in rec.resources}
    schedule = result.critical_path.schedule
    resources = []
    for r in rec.resources:
        window = schedule.get(r.urn)
        resources.append(
            {
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
                "estimatedStartSeconds": window.start if window else None,
                "estimatedFinishSeconds": window.finish if window else None,
            }
        )
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
    path = result.critical_path
    t = result.timings
    document = {
        "format": FORMAT_VERSION,
        "project": rec.project,
        "stack": rec.stack,
        "blocked": result.blocked,
        "config": redact(rec.config),
        "outputs": redact(rec.outputs),
        "resources": resources,
        "counts": counts(rec),
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
        },
        "cost": cost_document(result),
        "timings": {
            "recordSeconds": t.record_seconds,
            "serverStartSeconds": t.server_start_seconds,
            "analyzeCalls": t.analyze_calls,
            "analyzeSeconds": t.analyze_seconds,
            "msPerAnalyze": t.ms_per_analyze,
            "analyzeStackSeconds": t.analyze_stack_seconds,
            "totalSeconds": t.total_seconds,
        },
    }
    scrubbed: dict[str, Any] = _scrub_strings(document, result.scrub)
    return scrubbed


def write_json(result: PreflightResult, path: Path) -> None:
    """Write ``to_document(result)`` to ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(to_document(result), indent=2, sort_keys=False, default=str)
    path.write_text(text + "\n", encoding="utf-8")


def _scrub_strings(value: Any, scrub: Scrubber) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrub_strings(v, scrub) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_strings(v, scrub) for v in value]
    return value
