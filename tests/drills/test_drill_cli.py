"""``python -m drills``: plan, run (no CLI on this machine), list, resume/rollback errors.
The sandbox through the command line is in test_drill_sandbox.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drills.cli import app, main

runner = CliRunner()


def test_plan_lists_steps_preconditions_and_objectives() -> None:
    result = runner.invoke(
        app, ["plan", "--stack", "dev", "--scenario", "planned-switchover", "--failback"]
    )

    from drills.stackfile import load_stack_settings

    rto = load_stack_settings("dev").objectives.rto_seconds
    assert result.exit_code == 0, result.output
    for text in (
        "Planned switchover",
        "aurora-switchover",
        "failback-up",
        "Preconditions",
        "no Pulumi update",
        f"RTO {rto:g}s",
    ):
        assert text in result.output


def test_plan_as_json() -> None:
    result = runner.invoke(app, ["plan", "--stack", "prod", "--scenario", "pitr", "--json"])

    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["scenario"] == "pitr" and plan["objectives"]["rtoSeconds"] > 0
    assert [s["name"] for s in plan["steps"]][:4] == [
        "preconditions",
        "canaries",
        "accidental-deletion",
        "restore",
    ]
    assert all(s["timeoutSeconds"] > 0 for s in plan["steps"])


def test_unknown_scenario_and_stack_are_usage_errors() -> None:
    assert main(["plan", "--stack", "dev", "--scenario", "meteor"]) == 2
    result = runner.invoke(app, ["plan", "--stack", "nosuch", "--scenario", "pitr"])
    assert result.exit_code == 2 and "nosuch" in result.output


def test_run_without_the_pulumi_cli_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = runner.invoke(
        app,
        ["run", "--stack", "dev", "--scenario", "planned-switchover", "--state-dir", str(tmp_path)],
    )

    assert result.exit_code == 2
    assert "Pulumi CLI on PATH" in result.output and "drills sandbox" in result.output


def test_prod_needs_confirmation_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no CLI: the refusal must come first
    result = runner.invoke(
        app,
        [
            "run",
            "--stack",
            "prod",
            "--scenario",
            "planned-switchover",
            "--state-dir",
            str(tmp_path),
        ],
    )

    assert result.exit_code == 2
    assert "--yes-i-mean-prod" in result.output
    assert "Pulumi CLI" not in result.output
    assert list(tmp_path.iterdir()) == []  # no journal was started


def test_resume_and_rollback_of_an_unknown_drill(tmp_path: Path) -> None:
    for command in ("resume", "rollback"):
        result = runner.invoke(app, [command, "dev-nope", "--state-dir", str(tmp_path)])
        assert result.exit_code == 2 and "no journal for drill 'dev-nope'" in result.output
    listing = runner.invoke(app, ["list", "--state-dir", str(tmp_path)])
    assert listing.exit_code == 0
