"""``make drill`` end to end: ``python -m drills sandbox`` on its default path, the program
recorded for both region orders under Pulumi's mocks and the real policy pack served over
gRPC, then a drill against the emulator seeded from that recording. And a stack the real pack
blocks: the drill refuses to run ``up``, rolls back, and its exit code and report say so.

The sandbox seeds the stack's real names, and moto keeps its backends per process, so these
tests empty them before and after (nothing else runs in an xdist worker meanwhile)."""

from __future__ import annotations

import functools
import json
import re
import shutil
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from drill_harness import PRIMARY, SECONDARY, TIMINGS
from typer.testing import CliRunner

from drills import apppath
from drills.cli import app
from drills.sandbox import forget_everything
from drills.stackfile import REPO_ROOT
from emulator import Emulator

runner = CliRunner()


@pytest.fixture
def world(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """An empty emulator world; the sandbox's emulated operations take milliseconds."""
    import drills.sandbox as sandbox

    monkeypatch.setattr(sandbox, "SANDBOX_TIMINGS", TIMINGS)
    forget_everything(emulator)
    yield emulator
    forget_everything(emulator)


def _client(emulator: Emulator, service: str, region: str) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=emulator.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _writers(emulator: Emulator) -> tuple[list[str], list[str]]:
    """(Aurora writer regions, cache primary regions) of the one seeded stack."""
    (gc,) = _client(emulator, "rds", SECONDARY).describe_global_clusters()["GlobalClusters"]
    writers = [m["DBClusterArn"].split(":")[3] for m in gc["GlobalClusterMembers"] if m["IsWriter"]]
    (datastore,) = _client(emulator, "elasticache", SECONDARY).describe_global_replication_groups(
        ShowMemberInfo=True
    )["GlobalReplicationGroups"]
    primaries = [
        m["ReplicationGroupRegion"] for m in datastore["Members"] if m["Role"] == "PRIMARY"
    ]
    return writers, primaries


def _setting(emulator: Emulator) -> dict[str, str]:
    name = "/securecart/dev/dynamodb/active-region"
    return {
        r: _client(emulator, "ssm", r).get_parameter(Name=name)["Parameter"]["Value"]
        for r in (PRIMARY, SECONDARY)
    }


def _offline_sandbox(tmp_path: Path, scenario: str, *options: str) -> list[str]:
    """``sandbox`` on dev without the recording or the pack (the seeded defaults), reports and
    journals under ``tmp_path``: for tests whose subject is the drill, not the program."""
    return [
        "sandbox",
        "--stack",
        "dev",
        "--scenario",
        scenario,
        *options,
        "--no-recording",
        "--no-policies",
        "--report",
        str(tmp_path),
        "--state-dir",
        str(tmp_path / "state"),
    ]


def _traceback(result: Any) -> str:
    """The exception a failed command ended on, with its traceback: the summary line alone
    ("FileNotFoundError(2, ...)") does not say which file (seen once, in a full-suite run)."""
    if not result.exc_info or isinstance(result.exception, SystemExit):
        return ""
    return "".join(traceback.format_exception(*result.exc_info))


def _report(folder: Path) -> tuple[str, dict[str, Any]]:
    return (folder / "report.md").read_text(), json.loads((folder / "report.json").read_text())


def test_make_drill_records_the_program_runs_the_real_pack_and_fails_back(
    world: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The probes' resolver runs ten times faster than the wall clock, as in the real-pair tests
    # (tests/drills/conftest.py): the four moves do not each wait out AWS's 5-second endpoint
    # TTL; that TTLs are honoured at all is tests/drills/test_drill_apppath.py's subject.
    started = time.monotonic()
    monkeypatch.setattr(
        apppath,
        "Resolver",
        functools.partial(
            apppath.Resolver, clock=lambda: started + 10 * (time.monotonic() - started)
        ),
    )
    result = runner.invoke(
        app,
        [
            "sandbox",
            "--stack",
            "dev",
            "--scenario",
            "planned-switchover",
            "--failback",
            "--report",
            str(tmp_path),
            "--state-dir",
            str(tmp_path / "state"),
        ],
    )

    assert result.exit_code == 0, result.output + _traceback(result)
    progress = result.stderr
    for primary in (PRIMARY, SECONDARY):
        assert f"recording the program for primary {primary} with the policy pack" in progress
    count = re.search(r"offline recording of the program \((\d+) resources\)", progress)
    assert count and int(count.group(1)) > 100, progress
    summary = result.stdout.strip().splitlines()
    assert summary[0] == "planned-switchover on dev: succeeded"
    (folder,) = [p.parent.resolve() for p in tmp_path.glob("*/report.md")]
    assert summary[-3:] == [str(folder / n) for n in ("report.md", "report.json", "timeline.png")]
    assert len(summary) <= 23 and "# DR drill" not in result.stdout
    assert any("resolution (canary interval)" in line for line in summary)

    md, js = _report(folder)
    assert js["status"] == "succeeded" and "Objectives met: yes" in md
    previews = [p for p in js["pulumi"] if p["kind"] == "preview"]
    assert len(previews) == 2  # one before each up, in the same process
    # The swap changes what follows primaryRegion: the active-region parameter in each
    # region, and the cache record's target, which the drill already moved right after the
    # cache failover, so the refresh before the preview finds it right (issue 8): two
    # updates, and the real pack (dev's config) finds nothing. The only replacements are the
    # reader auto scaling target and policy, which hold no data and follow the primary cluster
    # (AWS supports Aurora Auto Scaling on a global database's primary only; issue 16).
    for preview in previews:
        assert preview["change_summary"].get("update") == 2, preview
        assert preview["change_summary"].get("replace") == 2, preview
        assert set(preview["change_summary"]) == {"same", "update", "replace"}
        assert preview["policy"] == []
    # read back from the emulator: the writers and the setting are home again
    assert _writers(world) == ([PRIMARY], [PRIMARY])
    assert _setting(world) == {PRIMARY: PRIMARY, SECONDARY: PRIMARY}


def _blocked_project(tmp_path: Path) -> Path:
    """The project with dev on an instance class dev's policy config does not allow
    (``cost-allowed-instance-classes`` is mandatory there: ``"all": "mandatory"``)."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "components", "policies"):
        (root / name).symlink_to(REPO_ROOT / name)
    shutil.copytree(REPO_ROOT / "stacks", root / "stacks")
    stack_file = root / "stacks" / "Pulumi.dev.yaml"
    data = yaml.safe_load(stack_file.read_text())
    allowed = json.loads((root / "stacks" / "policy-config.dev.json").read_text())[
        "cost-allowed-instance-classes"
    ]["allowed"]
    assert "db.r6g.xlarge" not in allowed
    data["config"]["securecart-data:auroraInstanceClass"] = "db.r6g.xlarge"
    stack_file.write_text(yaml.safe_dump(data, sort_keys=False))
    return root


def test_a_preview_the_real_pack_blocks_stops_the_drill_before_up_and_rolls_it_back(
    world: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pack's verdict is this test's subject; the test above runs the real servers.
    monkeypatch.setenv("DRILLS_DATA_PLANE", "model")
    root = _blocked_project(tmp_path)
    reports = tmp_path / "reports"

    result = runner.invoke(
        app,
        [
            "sandbox",
            "--stack",
            "dev",
            "--scenario",
            "planned-switchover",
            "--root",
            str(root),
            "--report",
            str(reports),
            "--state-dir",
            str(reports / "state"),
        ],
    )

    assert result.exit_code == 1, result.output
    summary = result.stdout.strip().splitlines()
    assert summary[0] == "planned-switchover on dev: rolled-back"
    assert "cost-allowed-instance-classes" in result.stdout
    assert "objectives not measured (the drill rolled-back)" in result.stdout
    (folder,) = [p.parent for p in reports.glob("*/report.md")]
    md, js = _report(folder)
    assert js["status"] == "rolled-back" and "Objectives met: not measured" in md
    steps = {s["name"]: s for s in js["steps"]}
    assert steps["up"]["status"] == "failed"
    assert "mandatory" in (steps["up"]["error"] or "")
    assert "cost-allowed-instance-classes" in (steps["up"]["error"] or "")
    kinds = [p["kind"] for p in js["pulumi"]]
    assert "preview" in kinds and "up" not in kinds  # the blocked preview was the last word
    # read back from the emulator: the switchover and the cache failover were undone
    assert _writers(world) == ([PRIMARY], [PRIMARY])
    assert _setting(world) == {PRIMARY: PRIMARY, SECONDARY: PRIMARY}


def test_a_sandbox_failback_starts_from_the_switched_state_and_brings_the_writers_home(
    world: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the emulator's models stand in for the servers here (the real pair: docs/benchmarks.md)
    monkeypatch.setenv("DRILLS_DATA_PLANE", "model")
    result = runner.invoke(app, _offline_sandbox(tmp_path, "failback"))

    assert result.exit_code == 0, result.output
    assert (
        f"failback starts from the switched state: moving the writers to {SECONDARY} first "
        f"(the stack file still names {PRIMARY})"
    ) in " ".join(result.stderr.split())
    assert result.stdout.strip().splitlines()[0] == "failback on dev: succeeded"
    (folder,) = [p.parent for p in tmp_path.glob("*/report.md")]
    _, js = _report(folder)
    moves = {
        (m["store"], m["from_region"], m["to_region"])
        for m in js["measurements"]
        if m["phase"] == "failback"
    }
    assert {("aurora", SECONDARY, PRIMARY), ("cache", SECONDARY, PRIMARY)} <= moves
    assert _writers(world) == ([PRIMARY], [PRIMARY])


def test_a_lossy_failover_of_a_primary_that_answers_needs_allow_data_loss(
    world: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--keep-primary``: the primary still answers, so AllowDataLoss would lose acknowledged
    writes (Aurora User Guide, "Performing managed failovers"); the sandbox refuses it as `run`
    does, and ``--allow-data-loss`` accepts it, as `run`'s option does."""
    monkeypatch.setenv("DRILLS_DATA_PLANE", "model")  # the consent is the subject, not the servers
    args = _offline_sandbox(tmp_path, "unplanned-failover", "--keep-primary")

    refused = runner.invoke(app, args)

    assert refused.exit_code == 1, refused.output
    assert refused.stdout.strip().splitlines()[0] == "unplanned-failover on dev: refused"
    assert "pass --allow-data-loss to accept it" in " ".join(refused.stdout.split())
    assert _writers(world) == ([PRIMARY], [PRIMARY])  # nothing moved
    forget_everything(world)  # the next sandbox seeds the stack afresh

    accepted = runner.invoke(app, [*args, "--allow-data-loss"])

    assert accepted.exit_code == 0, accepted.output
    assert accepted.stdout.strip().splitlines()[0] == "unplanned-failover on dev: succeeded"
    assert _writers(world) == ([SECONDARY], [SECONDARY])
    journals = sorted((tmp_path / "state").glob("sandbox/*/journal.json"))
    states = [json.loads(j.read_text())["state"] for j in journals]
    assert sorted(bool(s.get("allow_data_loss")) for s in states) == [False, True]


def test_the_default_unplanned_failover_loses_the_primary_and_needs_no_consent(
    world: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--lose-primary`` (the default): the sandbox takes the primary down after the canaries,
    so the preconditions still find it answering; the loss is the scenario's subject and the
    drill runs without ``--allow-data-loss`` (it was refused, so `sandbox --scenario
    unplanned-failover` as documented never ran)."""
    monkeypatch.setenv("DRILLS_DATA_PLANE", "model")
    result = runner.invoke(app, _offline_sandbox(tmp_path, "unplanned-failover"))

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[0] == "unplanned-failover on dev: succeeded"
    assert f"{PRIMARY} stops answering after the canaries" in " ".join(result.stderr.split())
    (folder,) = [p.parent for p in tmp_path.glob("*/report.md")]
    _, js = _report(folder)
    aurora = next(m for m in js["measurements"] if m["store"] == "aurora")
    # the clock starts on the store's last write in the lost region (docs/drills.md)
    assert aurora["rto_from"] == f"last acknowledged write in {PRIMARY} before it was lost"
    assert _writers(world) == ([SECONDARY], [SECONDARY])
