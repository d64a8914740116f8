"""``--against``, ``--allow-replace`` and ``--markdown``: the plan diff as the command reports it.

The first tests use hand-built recordings and a stand-in policy server (the diff is preflight's
own logic); the last ones diff the real program's dev stack against a baseline written by a
real run, through the real command line where the exit code is the point.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from preflight_fakes import Builder, Harness, global_database

from preflight.cli import EXIT_BLOCKED, EXIT_CONFIG, EXIT_OK
from preflight.critical_path import is_plan_resource
from preflight.jsonout import write_json
from preflight.model import Recording
from preflight.pipeline import REPO, run_preflight

CLUSTER = "aws:rds/cluster:Cluster"


def _plan(builder: Builder) -> Recording:
    top = builder.add("securecart:index:DataTier", "data", region=None)
    global_database(builder, parent=top)
    builder.add("aws:sns/topic:Topic", "alarms-us-east-1", parent=top, kmsMasterKeyId="k")
    return builder.recording()


def _changed(recording: Recording, name: str, **inputs: Any) -> Recording:
    """The recording with one resource's inputs changed (None removes an input)."""
    resources = []
    for r in recording.resources:
        merged = {**r.inputs, **inputs}
        updated = {k: v for k, v in merged.items() if v is not None}
        resources.append(dataclasses.replace(r, inputs=updated) if r.name == name else r)
    return dataclasses.replace(recording, resources=resources)


def _without(recording: Recording, name: str) -> Recording:
    return dataclasses.replace(
        recording, resources=[r for r in recording.resources if r.name != name]
    )


def _run(root: Path, recording: Recording, **options: Any) -> tuple[int, Harness]:
    harness = Harness(root, recording, rules={}, stack_rules={})
    return harness.run(**options), harness


@pytest.fixture
def baseline(builder: Builder, fake_root: Path, tmp_path: Path) -> tuple[Recording, Path]:
    """A plan, and the JSON a run wrote for it."""
    recording = _plan(builder)
    path = tmp_path / "base" / "test.json"
    code, _ = _run(fake_root, recording, json_file=path)
    assert code == EXIT_OK
    return recording, path


def test_the_json_of_a_run_is_its_own_baseline(
    baseline: tuple[Recording, Path], fake_root: Path, tmp_path: Path
) -> None:
    recording, path = baseline
    out = tmp_path / "again.json"
    code, harness = _run(fake_root, recording, against=path, json_file=out)
    assert code == EXIT_OK
    assert f"No changes: the plan matches {path}" in harness.output
    assert f"({len(recording.resources)} resources unchanged)" in harness.output
    diff = json.loads(out.read_text())["diff"]
    assert diff["unchanged"] is True and diff["changes"] == []
    # cloud resources only (not the provider or the components), as the resource counts count
    assert diff["counts"]["same"] == sum(is_plan_resource(r) for r in recording.resources)


def test_an_update_names_the_changed_inputs(
    baseline: tuple[Recording, Path], fake_root: Path, tmp_path: Path
) -> None:
    recording, path = baseline
    changed = _changed(recording, "aurora-us-east-1", backupRetentionPeriod=14.0)
    out = tmp_path / "p.json"
    code, harness = _run(fake_root, changed, against=path, json_file=out)
    assert code == EXIT_OK  # an update of a stateful resource is fine
    (change,) = json.loads(out.read_text())["diff"]["changes"]
    assert (change["name"], change["op"], change["changedInputs"]) == (
        "aurora-us-east-1",
        "update",
        ["backupRetentionPeriod"],
    )
    assert "1 to update" in harness.output


def test_replacing_a_stateful_resource_blocks_until_a_reviewer_approves(
    baseline: tuple[Recording, Path], fake_root: Path, tmp_path: Path
) -> None:
    recording, path = baseline
    changed = _changed(recording, "aurora-us-east-1", kmsKeyId="arn:aws:kms:us-east-1:1:key/2")
    code, harness = _run(fake_root, changed, against=path)
    assert code == EXIT_BLOCKED
    assert (
        "Preview blocked: replace of aws:rds/cluster:Cluster 'aurora-us-east-1': input kmsKeyId"
        " forces a new resource" in harness.output
    )
    assert "--allow-replace aurora-us-east-1" in harness.output
    assert "Preflight passed" not in harness.output

    out = tmp_path / "approved.json"
    code, harness = _run(
        fake_root, changed, against=path, allow_replace=["aurora-us-east-1"], json_file=out
    )
    assert code == EXIT_OK
    assert "approved (--allow-replace)" in harness.output
    document = json.loads(out.read_text())
    (change,) = document["diff"]["changes"]
    assert change["op"] == "replace" and change["replacedBy"] == ["kmsKeyId"]
    assert change["approved"] is True and change["blocks"] is False
    assert document["blocked"] is False


def test_deleting_a_stateful_resource_blocks_and_a_topic_does_not(
    baseline: tuple[Recording, Path], fake_root: Path
) -> None:
    recording, path = baseline
    code, harness = _run(fake_root, _without(recording, "alarms-us-east-1"), against=path)
    assert code == EXIT_OK
    assert "- delete" in harness.output and "alarms-us-east-1" in harness.output
    code, harness = _run(fake_root, _without(recording, "aurora-us-west-2-1"), against=path)
    assert code == EXIT_BLOCKED
    assert (
        "delete of aws:rds/clusterInstance:ClusterInstance 'aurora-us-west-2-1'" in harness.output
    )


def test_an_approval_that_matches_nothing_is_reported(
    baseline: tuple[Recording, Path], fake_root: Path
) -> None:
    recording, path = baseline
    code, harness = _run(fake_root, recording, against=path, allow_replace=["aurora-global"])
    assert code == EXIT_OK
    assert "--allow-replace aurora-global: no replacement or deletion" in harness.output


def test_an_approval_without_a_baseline_is_a_config_error(
    builder: Builder, fake_root: Path
) -> None:
    code, harness = _run(fake_root, _plan(builder), allow_replace=["aurora-us-east-1"])
    assert code == EXIT_CONFIG
    assert "--allow-replace aurora-us-east-1: needs --against" in harness.err.getvalue()


def test_ignore_changes_is_recorded_and_honoured(
    builder: Builder, fake_root: Path, tmp_path: Path
) -> None:
    recording = _plan(builder)
    resources = [
        dataclasses.replace(r, ignore_changes=("engineVersion",)) if r.type == CLUSTER else r
        for r in recording.resources
    ]
    recording = dataclasses.replace(recording, resources=resources)
    path = tmp_path / "base.json"
    assert _run(fake_root, recording, json_file=path)[0] == EXIT_OK
    entries = {r["name"]: r for r in json.loads(path.read_text())["resources"]}
    assert entries["aurora-us-east-1"]["ignoreChanges"] == ["engineVersion"]
    drifted = _changed(recording, "aurora-us-east-1", engineVersion="16.6")
    code, harness = _run(fake_root, drifted, against=path)
    assert code == EXIT_OK and "No changes" in harness.output


def test_the_markdown_report(
    baseline: tuple[Recording, Path], fake_root: Path, tmp_path: Path
) -> None:
    recording, path = baseline
    changed = _changed(recording, "aurora-us-east-1", kmsKeyId="arn:aws:kms:us-east-1:1:key/2")
    changed = _changed(changed, "alarms-us-east-1", displayName="Alarms")
    report = tmp_path / "report.md"
    harness = Harness(
        fake_root,
        changed,
        rules={"tag-rule": ("advisory", lambda r: "no CostCenter tag" if r.custom else None)},
        stack_rules={"alarms-present": ("mandatory", "no CPU alarm for aurora-us-west-2")},
    )
    assert harness.run(against=path, markdown_file=report) == EXIT_BLOCKED
    text = report.read_text()
    assert text.startswith("## preflight `securecart-data/test`: ❌ blocked")
    assert "0 to create, 1 to update, 1 to replace, 0 to delete" in text
    # advisory: every custom resource (the provider, 7 of the database, the topic)
    assert "- **Policies**: 1 mandatory, 0 remediate, 9 advisory" in text
    assert "### Blocking" in text
    assert "mandatory policy `alarms-present` on `(stack)`: no CPU alarm" in text
    assert "input kmsKeyId forces a new resource" in text
    assert "| +- replace | `aurora-us-east-1` | `aws:rds/cluster:Cluster` | `kmsKeyId` |" in text
    assert "| ~ update | `alarms-us-east-1` | `aws:sns/topic:Topic` | `displayName` |" in text
    assert "#### Mandatory (1)" in text
    assert "<details><summary>Advisory (9)</summary>" in text
    # the path of the changes: the replaced cluster (8 min); what exists unchanged takes no time
    assert "Critical path of the changes: 8m 00s" in text


# --- the real program ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev_baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A baseline of the dev stack written by a real run (the base branch's plan)."""
    path = tmp_path_factory.mktemp("baseline") / "dev.json"
    write_json(run_preflight("dev"), path)
    return path


VPC_CHANGE = 'networkVpcCidrs={"us-east-1": "10.60.0.0/16"}'
"""A new CIDR for the us-east-1 VPC: AWS cannot change a VPC's primary CIDR in place."""


def test_a_vpc_cidr_change_is_blocked_through_the_command_line(dev_baseline: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "preflight",
            "--stack",
            "dev",
            "--against",
            str(dev_baseline),
            "--set",
            VPC_CHANGE,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == EXIT_BLOCKED, proc.stdout[-2000:] + proc.stderr
    out = proc.stdout
    assert (
        "Preview blocked: replace of aws:ec2/vpc:Vpc 'vpc-us-east-1': input cidrBlock forces a"
        " new resource" in out
    )
    # the subnets follow: their CIDRs change and their vpcId is unknown until the new VPC exists
    assert (
        "replace of aws:ec2/subnet:Subnet 'subnet-us-east-1a': inputs cidrBlock, vpcId force a"
        " new resource (vpcId comes from vpc-us-east-1, which is replaced)" in out
    )
    assert "Preflight passed" not in out


def test_approving_every_replacement_lets_it_through(dev_baseline: Path) -> None:
    names = ["vpc-us-east-1", "subnet-us-east-1a", "subnet-us-east-1b", "subnet-us-east-1c"]
    result = run_preflight(
        "dev",
        overrides=dict([VPC_CHANGE.split("=", 1)]),
        against=dev_baseline,
        allow_replace=names,
    )
    assert result.diff is not None
    replaced = {c.name for c in result.diff.changes if c.op.value == "replace"}
    assert set(names) <= replaced
    assert not result.blocked
    # security groups are replaced too (vpcId is ForceNew), but they hold no data
    assert {"db-sg-us-east-1", "cache-sg-us-east-1"} <= replaced


def test_a_region_swap_replaces_nothing_stateful(dev_baseline: Path) -> None:
    """What a drill's reconciliation does after a failover, as a plan diff."""
    result = run_preflight(
        "dev",
        overrides={"primaryRegion": "us-west-2", "secondaryRegion": "us-east-1"},
        against=dev_baseline,
    )
    assert result.diff is not None
    assert not result.diff.blocking, [c.reason() for c in result.diff.blocking]
    ops = {c.op.value for c in result.diff.changes}
    assert ops <= {"same", "update", "replace"}
    # the only replacements: the reader auto scaling, which holds no data and follows the primary
    # cluster (AWS supports Aurora Auto Scaling on a global database's primary only)
    replaced = {c.name for c in result.diff.changes if c.op.value == "replace"}
    assert replaced == {"aurora-readers", "aurora-readers-cpu"}
    # No Route 53 record changes: health checks move the cache name (docs/components.md,
    # "Names that fail over without us-east-1"), so the reconcile needs no ChangeResourceRecordSets.
    records = [c for c in result.diff.changes if c.type == "aws:route53/record:Record"]
    assert records and all(c.op.value == "same" for c in records)


def _entry(document: dict[str, Any], name: str) -> dict[str, Any]:
    (entry,) = [r for r in document["resources"] if r["name"] == name]
    return entry


def test_the_baseline_carries_each_resource_s_ignore_changes(dev_baseline: Path) -> None:
    document = json.loads(dev_baseline.read_text())
    assert _entry(document, "aurora-global")["ignoreChanges"] == ["engineVersion"]
    assert "masterUsername" in _entry(document, "aurora-us-east-1")["ignoreChanges"]
    assert _entry(document, "vpc-us-east-1")["ignoreChanges"] == []
    assert all(isinstance(r.get("ignoreChanges"), list) for r in document["resources"])
