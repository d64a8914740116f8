"""The Makefile's venv step: Python 3.11 or one clear line, and progress while it builds."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _project(tmp_path: Path) -> Path:
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt"):
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def _fake_python(tmp_path: Path, version: str) -> Path:
    """A ``python`` that reports ``version`` and fails the 3.11 check unless it is 3.11."""
    ok = "0" if version.startswith("3.11.") else "1"
    script = tmp_path / "python-fake"
    script.write_text(
        f'#!/bin/sh\ncase "$1" in -V) echo "Python {version}";; -c) exit {ok};; *) exit 9;; esac\n'
    )
    script.chmod(0o755)
    return script


def _make(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # A top-level make, as a user types it: under `make test` (CI) the inherited MAKELEVEL and
    # MAKEFLAGS would make it a sub-make, whose messages read "make[1]: ...".
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def test_another_python_is_refused_in_one_line(tmp_path: Path) -> None:
    project = _project(tmp_path)
    python = _fake_python(tmp_path, "3.12.4")
    proc = _make(project, "venv", f"PYTHON={python}")
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("make: ***")]
    assert errors == [
        f"make: Python 3.11 is required, but {python} is Python 3.12.4; install python3.11"
        " or run: make PYTHON=/path/to/python3.11"
    ]
    assert not (project / ".venv").exists()


def test_a_missing_python_is_named(tmp_path: Path) -> None:
    proc = _make(_project(tmp_path), "venv", "PYTHON=/nonexistent/python3.11")
    assert proc.returncode != 0
    assert "make: Python 3.11 is required, but /nonexistent/python3.11 is not installed" in (
        proc.stderr
    )


def test_the_first_build_reports_its_steps_and_pip_is_not_quiet(tmp_path: Path) -> None:
    project = _project(tmp_path)
    python = _fake_python(tmp_path, "3.11.9")
    proc = _make(project, "-n", "venv", f"PYTHON={python}")  # what it would run, in order
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    steps = [i for i, line in enumerate(lines) if "make: [" in line]
    assert len(steps) == 2
    pip = next(line for line in lines if "pip install" in line)
    assert "--quiet" not in pip and "-r requirements-dev.txt" in pip
    assert lines.index(pip) > steps[1]
