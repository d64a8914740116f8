"""Rough edges a new user hits, refused early and in one line: a stack file that is not UTF-8,
two outputs written to one file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXIT_CONFIG = 2


def _preflight(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "preflight", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"COLUMNS": "300", "PATH": "/usr/bin:/bin"},
    )


def test_a_stack_file_that_is_not_utf8_exits_2_naming_the_file(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(REPO / "stacks", root / "stacks")
    (root / "policies").symlink_to(REPO / "policies")
    stack = root / "stacks" / "Pulumi.dev.yaml"
    text = stack.read_bytes()
    stack.write_bytes(text.replace(b"data-platform", b"donn\xe9es", 1))  # Latin-1, not UTF-8
    offset = text.index(b"data-platform") + len(b"donn")
    proc = _preflight("--stack", "dev", "--root", str(root))
    assert proc.returncode == EXIT_CONFIG
    assert proc.stderr.strip() == (
        f"config error: {stack}: not UTF-8 text (byte 0xe9 at offset {offset}); save it as UTF-8"
    )


def test_json_and_markdown_to_one_file_are_refused_before_anything_runs(tmp_path: Path) -> None:
    out = tmp_path / "report.out"
    proc = _preflight("--stack", "dev", "--json", str(out), "--markdown", str(out))
    assert proc.returncode == EXIT_CONFIG
    assert proc.stderr.strip() == (
        f"config error: --json and --markdown both write {out}: give each its own file"
    )
    assert not out.exists()
    # the same file by two spellings is the same file
    graph = tmp_path / "plan.mmd"
    proc = _preflight(
        "--stack", "dev", "--graph", str(graph), "--markdown", f"{tmp_path}/./plan.mmd"
    )
    assert proc.returncode == EXIT_CONFIG and "--graph and --markdown both write" in proc.stderr


def test_an_option_is_called_an_option_not_a_config_key() -> None:
    proc = _preflight("--stack", "qa")
    assert proc.returncode == EXIT_CONFIG
    assert proc.stderr.strip() == (
        "config error: option --stack has value 'qa'; allowed: one of the stacks in stacks/:"
        " ['dev', 'prod', 'staging']"
    )


def test_a_missing_value_is_named_as_not_set() -> None:
    proc = _preflight("--stack", "dev", "--set", "budgetMonthlyLimitUsd=null")
    assert proc.returncode == EXIT_CONFIG
    assert proc.stderr.strip() == (
        "config error: config key 'budgetMonthlyLimitUsd' is not set;"
        " allowed: a number from 1 to 1000000"
    )
    assert "None" not in proc.stderr and "-1" not in proc.stderr
