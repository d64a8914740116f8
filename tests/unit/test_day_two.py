"""Day two: the settings AWS changes on its own (components/day_two.py), applied to a recorded
stack as ``pulumi refresh`` leaves the state, must leave the next preview empty.

A refresh stores what the provider's Read functions return; the next preview diffs the program's
inputs against that. So the baseline here is the recorded stack with every input the program
sets replaced by AWS's value after the events of the table (a switchover to the other region, a
failover whose old primary has not rejoined yet, a minor upgrade through the global cluster, a
rotation of both secrets, the datastore's membership). An input the program leaves out is
not in the state's inputs either (the bridge diffs an optional, computed input only when the
program sets it), which is why an ``UNSET`` row must stay out of the program's inputs.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from components.day_two import SETTINGS, AfterEvents, Handling
from preflight.baseline import FORMAT_VERSION, as_written, from_entry, resource_entry
from preflight.changes import diff_plans
from preflight.model import Recording
from preflight.redaction import Scrubber, secret_plaintexts
from tests.support.stacks import STACKS, recorded
from tests.unit.test_role_flip import STATELESS_MOVES, expected_flip_changes

REPO = Path(__file__).resolve().parents[2]
UPGRADED = "16.8"
"""A minor version above every stack's auroraEngineVersion (16.6): what the members report after
a minor upgrade of the global database."""
ROTATED = "rotated-token-AWSCURRENT-after-finishSecret"
OPTIONAL_STORES = frozenset({"aws:redshift/cluster:Cluster"})
"""Types of stores a stack may leave out (redshiftEnabled): their rows are met where they exist."""


def _after(recording: Recording) -> AfterEvents:
    """AWS after a switchover to the stack's secondary region (and the other events)."""
    out = recording.outputs
    return AfterEvents(
        primary_region=str(out["secondaryRegion"]),
        cluster_arns={r: str(c["arn"]) for r, c in out["auroraClusters"].items()},
        replication_group_ids={
            r: str(g["replicationGroupId"]) for r, g in out["cacheReplicationGroups"].items()
        },
        engine_version=UPGRADED,
        rotated_token=ROTATED,
    )


def _written(recording: Recording) -> list[dict[str, Any]]:
    """The resources as a ``--json`` baseline carries them."""
    scrub = Scrubber(
        secret_plaintexts(
            [r.inputs for r in recording.resources] + [recording.outputs, recording.config]
        )
    )
    return [resource_entry(r) for r in as_written(recording.resources, scrub)]


def refreshed(recording: Recording) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The baseline entries after a refresh, and the (resource, input) pairs whose value AWS
    changed (inputs the program sets: what a preview diffs)."""
    after = _after(recording)
    entries = copy.deepcopy(_written(recording))
    changed: list[tuple[str, str]] = []
    for entry in entries:
        for row in SETTINGS:
            if entry["type"] != row.resource_type or row.input not in entry["inputs"]:
                continue
            old = entry["inputs"][row.input]
            new = row.read_back(after, entry["region"], old)
            entry["inputs"][row.input] = new
            if new != old:
                changed.append((entry["name"], row.input))
    return entries, changed


def _document(recording: Recording, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "project": recording.project,
        "stack": recording.stack,
        "resources": entries,
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_row_is_met_the_way_the_table_says(stack: str) -> None:
    recording = recorded(stack)
    after = _after(recording)
    for row in SETTINGS:
        resources = recording.by_type(row.resource_type)
        optional = row.resource_type in OPTIONAL_STORES and stack != "prod"
        assert resources or optional, (row.resource_type, "no resource of the type in the stack")
        for resource in resources:
            if row.handling is Handling.SET:
                aws_value = row.read_back(after, resource.region, None)
                assert resource.inputs.get(row.input) == aws_value, (resource.name, row.input)
            elif row.handling is Handling.IGNORED:
                assert row.input in resource.ignore_changes, (resource.name, row.input)
            else:
                assert row.input not in resource.inputs, (resource.name, row.input)
        assert row.page.startswith("https://"), row


def test_the_refresh_changes_what_the_program_sets() -> None:
    """Not vacuous: AWS's values differ from the recorded ones where the program sets the input
    (derived by hand: dev's primary us-east-1 fails over to us-west-2)."""
    _, changed = refreshed(recorded("dev"))
    assert set(changed) == {
        # the old primary reads no global cluster until it rejoins
        ("aurora-us-east-1", "globalClusterIdentifier"),
        # every Aurora member and the global cluster report the upgraded minor
        ("aurora-global", "engineVersion"),
        ("aurora-us-east-1", "engineVersion"),
        ("aurora-us-west-2", "engineVersion"),
        *((f"aurora-{r}-{n}", "engineVersion") for r in ("us-east-1", "us-west-2") for n in (1, 2)),
        # the datastore's primary moved; the rotated token is on the group the program creates
        # as primary
        ("cache-global", "primaryReplicationGroupId"),
        ("cache-us-east-1", "authToken"),
    }


@pytest.mark.parametrize("stack", STACKS)
def test_after_a_refresh_the_preview_is_empty(stack: str) -> None:
    recording = recorded(stack)
    entries, _ = refreshed(recording)
    baseline = [from_entry(e) for e in entries]
    plan = diff_plans(baseline, [from_entry(e) for e in _written(recording)])
    assert plan.unchanged, [(c.name, c.changed) for c in plan.visible]


def test_after_a_refresh_the_flip_changes_only_the_role_inputs() -> None:
    """The drills' reconciliation after a failover (regions swapped in the config) against the
    refreshed state: exactly the changes of the role-flip test, nothing AWS already did."""
    normal = recorded("dev")
    flipped = recorded("dev", "primaryRegion=us-west-2", "secondaryRegion=us-east-1")
    entries, _ = refreshed(normal)
    plan = diff_plans([from_entry(e) for e in entries], [from_entry(e) for e in _written(flipped)])
    expected = expected_flip_changes("dev")
    assert {(c.type, c.name) for c in plan.visible} == set(expected)
    for change in plan.visible:
        if (change.type, change.name) in STATELESS_MOVES:
            assert change.op.value == "replace" and not change.blocks, change
        else:
            assert (change.op.value, sorted(change.changed)) == (
                "update",
                sorted(expected[change.type, change.name]),
            ), change


def test_the_preview_after_a_refresh_is_empty_through_the_command_line(tmp_path: Path) -> None:
    recording = recorded("prod")
    entries, changed = refreshed(recording)
    assert changed
    baseline = tmp_path / "prod-refreshed.json"
    baseline.write_text(json.dumps(_document(recording, entries)), encoding="utf-8")
    out = tmp_path / "prod.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "preflight",
            "--stack",
            "prod",
            "--against",
            str(baseline),
            "--json",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "No changes" in proc.stdout
    diff = json.loads(out.read_text())["diff"]
    assert diff["unchanged"] is True and diff["changes"] == [], diff


def test_the_docs_table_lists_every_row() -> None:
    text = (REPO / "docs" / "components.md").read_text(encoding="utf-8")
    section = text.split("## Day two: what AWS changes on its own", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    for setting in SETTINGS:
        short = setting.resource_type.split(":")[1]
        (line,) = [r for r in rows if f"`{short}`" in r and f"`{setting.input}`" in r]
        assert setting.handling.value in line, (setting.input, line)
