"""Preflight of the real program, stacks and policy pack (in-process; one subprocess test).

Each stack is previewed once per test process and shared by the tests that read it.
"""

from __future__ import annotations

import functools
import io
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from preflight.cli import EXIT_BLOCKED, EXIT_CONFIG, EXIT_OK, report, run
from preflight.critical_path import (
    TYPICAL_CREATE_SECONDS,
    CriticalPath,
    PathStep,
    critical_path,
    plan_dependencies,
)
from preflight.model import RecordedResource, Recording
from preflight.pipeline import REPO, PreflightResult, run_preflight
from preflight.redaction import secret_plaintexts
from tests.support.stacks import STACKS, recorded

GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
PARAMS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
TABLE = "aws:dynamodb/table:Table"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
GLOBAL_CACHE = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
DATA_STORES = (GLOBAL_CLUSTER, CLUSTER, INSTANCE, TABLE, CACHE, GLOBAL_CACHE)
MONITORING_PREFIXES = ("aws:cloudwatch/", "aws:sns/", "aws:route53/", "aws:backup/", "aws:budgets/")


@dataclass(frozen=True)
class Run:
    """One preflight run: its result, exit code, terminal output and JSON document."""

    result: PreflightResult
    code: int
    output: str
    doc: dict[str, Any]
    graph: str


def _preview(stack: str, tmp: Path, **options: Any) -> Run:
    result = run_preflight(stack, **options)
    buffer = io.StringIO()
    json_file, graph_file = tmp / f"{stack}.json", tmp / f"{stack}.dot"
    code = report(result, json_file, graph_file, Console(file=buffer, width=200, color_system=None))
    return Run(
        result,
        code,
        buffer.getvalue(),
        json.loads(json_file.read_text(encoding="utf-8")),
        graph_file.read_text(encoding="utf-8"),
    )


_previews: dict[str, Run] = {}


def preview(stack: str) -> Run:
    """The stack's preflight with its own policy config, computed once per test process."""
    if stack not in _previews:
        with tempfile.TemporaryDirectory(prefix=f"preflight-{stack}-") as tmp:
            _previews[stack] = _preview(stack, Path(tmp))
    return _previews[stack]


@functools.cache
def planned(stack: str) -> tuple[Recording, CriticalPath]:
    """The stack's recording and critical path (no policy server needed)."""
    recording = preview(stack).result.recording if stack in _previews else recorded(stack)
    return recording, critical_path(recording)


def _why(run_: Run) -> str:
    """Assertion text: the mandatory findings and the critical path, not the whole report."""
    rec = run_.result.recording
    lines = [
        f"{f.policy_name} on {rec.get(f.urn).name if f.urn else '(stack)'}: {f.detail}"
        for f in run_.result.mandatory
    ]
    lines += [
        f"path: {s.name} ({s.type}) at {s.start:.0f}s" for s in run_.result.critical_path.steps
    ]
    return "\n".join(lines)


def _regions(run_: Run) -> tuple[str, str]:
    """The stack's (primary, secondary) regions, from its exports."""
    outputs = run_.result.recording.outputs
    return str(outputs["primaryRegion"]), str(outputs["secondaryRegion"])


def _by_type(recording: Recording, type_: str) -> list[RecordedResource]:
    return recording.by_type(type_)


# --- every stack: one test per stack, so a parallel run previews each stack once -----------


@pytest.mark.parametrize("stack", STACKS)
def test_stack_preflight(stack: str) -> None:
    """Exits 0; JSON complete; no secret anywhere; plan printed per region and component."""
    run_ = preview(stack)
    _passes_its_guardrails(run_)
    _json_has_every_resource_and_every_diagnostic(run_)
    _secrets_never_appear_in_output_or_json(run_)
    _plan_is_printed_per_region_and_component(run_)


def _passes_its_guardrails(run_: Run) -> None:
    assert run_.code == EXIT_OK, _why(run_)
    assert not run_.result.mandatory
    assert "Preflight passed" in run_.output
    assert run_.result.policies, "the policy pack reported no policies"
    assert run_.result.timings.analyze_calls == len(run_.result.recording.resources)


def _json_has_every_resource_and_every_diagnostic(run_: Run) -> None:
    rec = run_.result.recording
    assert [r["urn"] for r in run_.doc["resources"]] == [r.urn for r in rec.resources]
    assert {r["type"] for r in run_.doc["resources"]} >= {
        GLOBAL_CLUSTER,
        CLUSTER,
        INSTANCE,
        TABLE,
        CACHE,
    }
    assert len(run_.doc["diagnostics"]) == len(run_.result.findings)
    assert [
        (d["policyName"], d["urn"], d["enforcementLevel"], d["message"])
        for d in run_.doc["diagnostics"]
    ] == [(f.policy_name, f.urn, f.enforcement_level, f.message) for f in run_.result.findings]
    assert {p["name"] for p in run_.doc["policyPack"]["policies"]} == {
        p.name for p in run_.result.policies
    }
    planned_count = sum(1 for r in rec.resources if r.custom and not r.type.startswith("pulumi:"))
    assert run_.doc["counts"]["total"] == planned_count
    assert set(run_.doc["counts"]["byRegion"]) >= set(_regions(run_))
    assert run_.doc["criticalPath"]["totalSeconds"] == run_.result.critical_path.total_seconds


def _secrets_never_appear_in_output_or_json(run_: Run) -> None:
    rec = run_.result.recording
    plaintexts = secret_plaintexts([r.inputs for r in rec.resources] + [rec.outputs])
    assert plaintexts, "expected the generated master password among the recorded secrets"
    for text in (run_.output, json.dumps(run_.doc), run_.graph):
        leaked = [p for p in plaintexts if p in text]
        assert not leaked
    (primary,) = [
        r for r in run_.doc["resources"] if r["type"] == CLUSTER and "masterPassword" in r["inputs"]
    ]
    assert primary["inputs"]["masterPassword"] == "[secret]"


def _plan_is_printed_per_region_and_component(run_: Run) -> None:
    out = run_.output
    for heading in (
        "Plan:",
        *_regions(run_),
        "global",
        "Resources by type and region",
        "Deploy critical path: estimated",
    ):
        assert heading in out
    for component in {r.name for r in run_.result.recording.resources if not r.custom}:
        assert component in out
    for region in _regions(run_):
        assert f'label="{region}"' in run_.graph


# --- prod's deploy critical path -------------------------------------------------------------


def _global_chain(recording: Recording) -> list[str]:
    """global cluster -> primary's parameter group (its family follows the version the global
    cluster reports) -> primary cluster -> writer -> secondary cluster -> its first instance."""
    deps = plan_dependencies(recording)
    (global_cluster,) = _by_type(recording, GLOBAL_CLUSTER)
    clusters = _by_type(recording, CLUSTER)
    (primary,) = [c for c in clusters if "masterUsername" in c.inputs]
    (secondary,) = [c for c in clusters if c is not primary]
    instances = _by_type(recording, INSTANCE)
    writers = [i for i in instances if i.urn in deps[secondary.urn]]
    assert len(writers) == 1, "the secondary cluster should wait for exactly the primary's writer"
    assert primary.urn in deps[writers[0].urn]
    replicas = [i for i in instances if secondary.urn in deps[i.urn]]
    assert replicas
    (params,) = [p for p in _by_type(recording, PARAMS) if p.urn in deps[primary.urn]]
    assert global_cluster.urn in deps[params.urn]
    return [
        global_cluster.urn,
        params.urn,
        primary.urn,
        writers[0].urn,
        secondary.urn,
        replicas[0].urn,
    ]


def _path_text(path: CriticalPath) -> str:
    return "\n".join(f"{s.name} ({s.type}) at {s.start:.0f}s" for s in path.steps)


def test_prod_critical_path_runs_through_the_global_database_chain() -> None:
    rec, path = planned("prod")
    chain = _global_chain(rec)
    steps = [s.urn for s in path.steps]
    assert chain[0] in steps, _path_text(path)
    start = steps.index(chain[0])
    # the six links follow one another, the secondary's instance being any of its instances
    assert steps[start : start + 5] == chain[:5], _path_text(path)
    assert (
        path.steps[start + 5].type == INSTANCE
        and path.steps[start + 5].region == rec.get(chain[4]).region
    )
    chain_seconds = sum(TYPICAL_CREATE_SECONDS[rec.get(u).type] for u in chain)
    assert chain_seconds == 37 * 60 + 5


def _before(steps: tuple[PathStep, ...], urn: str) -> list[PathStep]:
    return list(steps[: [s.urn for s in steps].index(urn)])


def test_prod_critical_path_is_not_lengthened_by_avoidable_dependencies() -> None:
    rec, path = planned("prod")
    chain = _global_chain(rec)

    # Nothing has to exist before a global cluster: it must start at once.
    assert path.schedule[chain[0]].start == 0, "the global cluster waits for " + ", ".join(
        f"{s.name} ({s.type})" for s in _before(path.steps, chain[0])
    )
    # After the chain only what needs the secondary's instances (reader auto scaling) may follow.
    deps = plan_dependencies(rec)
    tail = list(path.steps[6:])
    for step in tail:
        assert step.type.startswith("aws:appautoscaling/"), (
            f"{step.name} ({step.type}) lengthens the path"
        )
    assert path.total_seconds == 37 * 60 + 5 + sum(s.duration for s in tail)
    assert all(deps[s.urn] for s in tail)

    # No table or cache waits on the database; no data store waits on monitoring resources.
    closure = _transitive(deps)
    for resource in rec.resources:
        if resource.type in (TABLE, CACHE, GLOBAL_CACHE):
            waits = {rec.get(u).type for u in closure[resource.urn]}
            assert not waits & {GLOBAL_CLUSTER, CLUSTER, INSTANCE}, (
                f"{resource.name} waits on Aurora"
            )
        if resource.type in DATA_STORES:
            monitoring = sorted(
                rec.get(u).name
                for u in closure[resource.urn]
                if rec.get(u).type.startswith(MONITORING_PREFIXES)
            )
            assert not monitoring, f"{resource.name} waits on {monitoring}"
    # The cache's own chain (primary group, global datastore, secondary group) runs beside it.
    for cache in _by_type(rec, CACHE):
        assert path.schedule[cache.urn].finish < path.total_seconds


def _transitive(deps: dict[str, set[str]]) -> dict[str, set[str]]:
    closure: dict[str, set[str]] = {}

    def visit(urn: str) -> set[str]:
        if urn not in closure:
            closure[urn] = set()
            found: set[str] = set()
            for dep in deps.get(urn, ()):
                found |= {dep} | visit(dep)
            closure[urn] = found
        return closure[urn]

    for urn in deps:
        visit(urn)
    return closure


# --- bad config and broken guardrails --------------------------------------------------------


def test_bad_config_exits_2_naming_the_key() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run(
        "dev",
        overrides=["secondaryRegion=us-east-1"],
        console=Console(file=out, width=200),
        err_console=Console(file=err, width=200),
    )
    assert code == EXIT_CONFIG
    assert "secondaryRegion" in err.getvalue()
    assert "us-east-1" in err.getvalue()


def test_unknown_stack_exits_2() -> None:
    err = io.StringIO()
    code = run(
        "nosuchstack", console=Console(file=io.StringIO()), err_console=Console(file=err, width=200)
    )
    assert code == EXIT_CONFIG
    assert "nosuchstack" in err.getvalue()


def _project_copy(tmp_path: Path) -> Path:
    """A project root with the real program and pack, where tests write their own stack files."""
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
    for name in ("__main__.py", "components", "policies"):
        (root / name).symlink_to(REPO / name)
    return root


BROKEN_STACK = "broken"
SECURE_CIPHERTEXT = "v1:Zm9vYmFyYmF6cXV4:dGhpcyBpcyBub3QgcmVhbGx5IGVuY3J5cHRlZA=="


def _write_broken_stack(root: Path) -> None:
    """dev's config with guardrail-breaking values the settings loader accepts, and prod's
    (all mandatory) policy config."""
    stack = yaml.safe_load((REPO / "stacks" / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    stack["config"]["securecart-data:auroraDeletionProtection"] = False
    stack["config"]["aws:secretKey"] = {"secure": SECURE_CIPHERTEXT}
    (root / "stacks" / f"Pulumi.{BROKEN_STACK}.yaml").write_text(
        yaml.safe_dump(stack), encoding="utf-8"
    )
    shutil.copy(
        REPO / "stacks" / "policy-config.prod.json",
        root / "stacks" / f"policy-config.{BROKEN_STACK}.json",
    )


def test_broken_guardrails_exit_1_naming_rules_and_resources(tmp_path: Path) -> None:
    """The real command line (``python -m preflight``) on a stack file written here: the
    preview is blocked, exit code 1, and every mandatory rule and resource it broke is named."""
    root = _project_copy(tmp_path)
    _write_broken_stack(root)
    json_file, graph_file = tmp_path / "broken.json", tmp_path / "broken.mmd"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "preflight",
            "--stack",
            BROKEN_STACK,
            "--root",
            str(root),
            "--json",
            str(json_file),
            "--graph",
            str(graph_file),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == EXIT_BLOCKED, out[-3000:] + proc.stderr
    assert "Preview blocked" in out
    doc = json.loads(json_file.read_text(encoding="utf-8"))
    mandatory = [d for d in doc["diagnostics"] if d["enforcementLevel"] == "mandatory"]
    assert mandatory
    assert doc["blocked"] is True and doc["summary"]["mandatory"] == len(mandatory)
    # the change made here (auroraDeletionProtection: false) is caught on every Aurora cluster
    unprotected = {d["resourceName"] for d in mandatory if "deletion" in d["policyName"]}
    assert unprotected >= {"aurora-global", "aurora-us-east-1", "aurora-us-west-2"}, mandatory
    for diagnostic in mandatory:
        assert diagnostic["policyName"] in out
        if diagnostic["resourceName"]:
            assert diagnostic["resourceName"] in out
    # the secure: value of the stack file is a secret: never shown, in the report or the files
    for text in (out, proc.stderr, json_file.read_text(), graph_file.read_text()):
        assert SECURE_CIPHERTEXT not in text
    assert doc["config"]["aws:secretKey"] == "[secret]"
