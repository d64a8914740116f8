"""``python -m drills`` answers like a command line (issue 17, item 11; issue 21's drills CLI
edges), driven through the real interpreter: usage errors are one line on stderr with exit 2
and no traceback, no arguments prints the help, ``list`` piped prints whole drill ids, a
Ctrl-C before a sandbox drill starts says nothing changed, ``--failback`` where it means
nothing is refused, ``AWS_ENDPOINT_URL`` outside ``serve``/the sandbox is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drills.journal import Journal
from drills.stackfile import REPO_ROOT


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["MPLCONFIGDIR"] = str(tmp / "mpl")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def drills(tmp: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drills", *args],
        env=_env(tmp, **extra),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO_ROOT,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["bogus"], "No such command 'bogus'"),
        (["run", "--stack", "dev"], "Missing option '--scenario'"),
        (
            ["run", "--stack", "dev", "--scenario", "pitr", "--poll-interval", "soon"],
            "Invalid value for '--poll-interval'",
        ),
        (
            ["plan", "--stack", "dev", "--scenario", "cache-failover", "--failback"],
            "--failback means nothing for scenario cache-failover",
        ),
    ],
    ids=["unknown-command", "missing-scenario", "bad-number", "failback-meaningless"],
)
def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path, args: list[str], says: str) -> None:
    done = drills(tmp_path, *args)

    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert says in lines[0] and lines[0].startswith("error: ")
    assert "Traceback" not in done.stderr


def test_no_arguments_prints_the_help(tmp_path: Path) -> None:
    done = drills(tmp_path)

    assert done.returncode == 2  # no command given: a usage error, with the help
    assert "Usage: python -m drills [OPTIONS] COMMAND" in done.stdout
    for command in ("plan", "run", "resume", "rollback", "list", "sandbox", "serve", "break-lease"):
        assert command in done.stdout
    assert "Traceback" not in done.stderr


def test_aws_endpoint_url_is_refused_outside_serve_and_the_sandbox(tmp_path: Path) -> None:
    done = drills(
        tmp_path,
        "run",
        "--stack",
        "dev",
        "--scenario",
        "planned-switchover",
        "--state-dir",
        str(tmp_path),
        AWS_ENDPOINT_URL="http://127.0.0.1:4566",
    )

    assert done.returncode == 2
    assert "AWS_ENDPOINT_URL is set (http://127.0.0.1:4566)" in done.stderr
    assert list(tmp_path.glob("*/journal.json")) == []
    elsewhere = drills(
        tmp_path,
        "run",
        "--stack",
        "dev",
        "--scenario",
        "pitr",
        "--endpoint-url",
        "http://10.0.0.5:4566",
    )
    assert elsewhere.returncode == 2 and "loopback only" in elsewhere.stderr


def test_list_piped_shows_whole_drill_ids(tmp_path: Path) -> None:
    state = tmp_path / "state"
    long_id = "dev-dynamodb-evacuation-20261207T000000-abcdef-with-a-much-longer-tail-than-80-cols"
    journal = Journal.create(
        state,
        long_id,
        stack="dev",
        scenario="dynamodb-evacuation",
        options={},
        settings={},
        plan=[],
    )
    journal.set_status("paused", "waiting for us-east-1 to answer again")
    sandbox = Journal.create(
        state / "sandbox",
        "dev-pitr-20261207T000001-123456",
        stack="dev",
        scenario="pitr",
        options={},
        settings={},
        plan=[],
    )
    sandbox.set_status("succeeded", "all steps done")

    done = drills(tmp_path, "list", "--state-dir", str(state))

    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    assert rows[0][:3] == [long_id, "paused", "waiting for us-east-1 to answer again"]
    assert rows[0][3].startswith(f"python -m drills resume {long_id} --state-dir {state}")
    assert rows[1][:2] == ["dev-pitr-20261207T000001-123456", "succeeded (sandbox)"]


def test_resume_of_a_sandbox_drill_says_why_not(tmp_path: Path) -> None:
    state = tmp_path / "state"
    journal = Journal.create(
        state / "sandbox",
        "dev-pitr-20261207T000002-654321",
        stack="dev",
        scenario="pitr",
        options={},
        settings={},
        plan=[],
    )
    journal.data["sandbox"] = True
    journal.set_status("running")

    done = drills(tmp_path, "resume", journal.drill_id, "--state-dir", str(state))

    assert done.returncode == 2
    assert "ran in the sandbox" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.timeout(600)
def test_ctrl_c_before_the_sandbox_drill_starts_says_nothing_changed(tmp_path: Path) -> None:
    """SIGINT while the sandbox records the program (seconds before any drill can start; the
    CLI honours it at the next preparation checkpoint even when the recorder swallows it)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "drills",
            "sandbox",
            "--stack",
            "dev",
            "--no-policies",
            "--state-dir",
            str(tmp_path / "state"),
            "--report",
            str(tmp_path / "reports"),
        ],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 120
    while "recording the program" not in seen:
        line = proc.stderr.readline()
        assert line and time.monotonic() < deadline, seen
        seen += line
    proc.send_signal(signal.SIGINT)
    stdout, rest = proc.communicate(timeout=300)

    assert proc.returncode == 130, seen + rest
    said = " ".join((seen + rest).split())
    assert "interrupted before the drill started: nothing changed" in said
    assert "Traceback" not in rest and stdout == ""
    assert not list((tmp_path / "state").glob("**/journal.json"))
    assert not (tmp_path / "reports").exists()


def test_matplotlib_notices_do_not_reach_the_drill_user(tmp_path: Path) -> None:
    """An unusable MPLCONFIGDIR makes matplotlib warn on import (the control shows it does);
    with the drills' CLI loaded, as for every drill, nothing reaches stderr."""
    env = _env(tmp_path, MPLCONFIGDIR=str(tmp_path / "not-a-dir"))
    (tmp_path / "not-a-dir").write_text("a file, not a directory")
    script = "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot"
    control = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert "Matplotlib created a temporary cache directory" in control.stderr

    quiet = subprocess.run(
        [sys.executable, "-c", "import drills.cli; " + script],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert quiet.stderr == ""
