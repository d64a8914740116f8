"""Bad input through the real command line (``python -m preflight``), not through ``run()``.

Exit 2 is bad configuration (the message names the key or file and what is wrong), exit 3 is
an output that cannot be written (one line, naming option and path). Every case here is caught
before the program is recorded, so nothing is printed before the error, and above all no
"Preflight passed". The paths that cannot be written are ones no user can write, root included:
a file where a directory must be, a directory where a file must be.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.cli import EXIT_CONFIG, EXIT_FAILED
from preflight.pipeline import REPO


def preflight(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "preflight", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _assert_refused(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    detail = f"exit {proc.returncode}\nstdout:\n{proc.stdout[-1500:]}\nstderr:\n{proc.stderr}"
    assert proc.returncode == code, detail
    for needle in needles:
        assert needle in proc.stderr, detail
    assert "Traceback" not in proc.stderr, detail
    assert "Preflight passed" not in proc.stdout, detail
    assert proc.stdout == "", detail  # nothing ran, nothing was reported


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project root with the real program, where a test writes its own stack file."""
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
    for name in ("__main__.py", "components", "policies"):
        (root / name).symlink_to(REPO / name)
    return root


def test_malformed_stack_yaml(project: Path) -> None:
    stack_file = project / "stacks" / "Pulumi.broken.yaml"
    stack_file.write_text(
        "config:\n  securecart-data:primaryRegion: us-east-1\n"
        "  securecart-data:secondaryRegion: [us-west-2\n",
        encoding="utf-8",
    )
    proc = preflight("--stack", "broken", "--root", project)
    # the parser notices the '[' left open on line 3 where the file ends, on line 4
    _assert_refused(
        proc,
        EXIT_CONFIG,
        f"config error: {stack_file}: invalid YAML at line 4, column 1: did not find expected",
    )
    assert proc.stderr.strip().count("\n") == 0, proc.stderr


def test_a_root_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-project"
    proc = preflight("--stack", "dev", "--root", missing)
    _assert_refused(proc, EXIT_CONFIG, f"--root {missing}: no such directory")


def test_a_root_that_is_not_a_pulumi_project(tmp_path: Path) -> None:
    proc = preflight("--stack", "dev", "--root", tmp_path)
    _assert_refused(proc, EXIT_CONFIG, f"--root {tmp_path}: no Pulumi.yaml")


def test_a_bad_enforcement_level_in_the_policy_config(tmp_path: Path) -> None:
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"all": "mandatory", "aurora-deletion-protection": "blocking"}))
    proc = preflight("--stack", "dev", "--policy-config", config)
    _assert_refused(
        proc,
        EXIT_CONFIG,
        f"policy config {config}: 'aurora-deletion-protection' has enforcement level 'blocking';"
        " allowed: mandatory, remediate, advisory, disabled",
    )


def test_an_unknown_flag() -> None:
    proc = preflight("--stack", "dev", "--frobnicate")
    assert proc.returncode == EXIT_CONFIG
    assert "unrecognized arguments: --frobnicate" in proc.stderr
    assert "Preflight passed" not in proc.stdout


@pytest.mark.parametrize("option", ["--json", "--graph", "--markdown"])
def test_an_output_under_a_file_exits_3_with_one_line(option: str, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file, where the output's directory would have to be\n")
    target = blocker / ("out.mmd" if option == "--graph" else "out.json")
    proc = preflight("--stack", "dev", option, target)
    _assert_refused(
        proc,
        EXIT_FAILED,
        f"error: cannot write {option} {target}: {blocker} is a file, not a directory",
    )
    assert proc.stderr.strip().count("\n") == 0, proc.stderr


@pytest.mark.parametrize("option", ["--json", "--graph", "--markdown"])
def test_an_output_that_is_a_directory_exits_3(option: str, tmp_path: Path) -> None:
    target = tmp_path / ("report.dot" if option == "--graph" else "report")
    target.mkdir()
    proc = preflight("--stack", "dev", option, target)
    _assert_refused(proc, EXIT_FAILED, f"error: cannot write {option} {target}: Is a directory")
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert target.is_dir()  # left alone


def test_a_missing_baseline(tmp_path: Path) -> None:
    missing = tmp_path / "base" / "dev.json"
    proc = preflight("--stack", "dev", "--against", missing)
    _assert_refused(proc, EXIT_CONFIG, f"--against {missing}: no such file")


def test_a_malformed_baseline(tmp_path: Path) -> None:
    baseline = tmp_path / "dev.json"
    baseline.write_text('{"format": 1, "stack": "dev", "resources": [\n')
    proc = preflight("--stack", "dev", "--against", baseline)
    _assert_refused(proc, EXIT_CONFIG, f"--against {baseline}: not valid JSON", "line 2")


def test_a_baseline_that_is_not_a_preflight_document(tmp_path: Path) -> None:
    baseline = tmp_path / "dev.json"
    baseline.write_text(json.dumps({"steps": []}))
    proc = preflight("--stack", "dev", "--against", baseline)
    _assert_refused(proc, EXIT_CONFIG, f"--against {baseline}: not a preflight --json document")


def test_a_baseline_of_another_stack(tmp_path: Path) -> None:
    baseline = tmp_path / "prod.json"
    baseline.write_text(
        json.dumps({"format": 1, "project": "securecart-data", "stack": "prod", "resources": []})
    )
    proc = preflight("--stack", "dev", "--against", baseline)
    _assert_refused(proc, EXIT_CONFIG, f"--against {baseline}: baseline of stack 'prod', not 'dev'")
