"""The cost difference against a baseline (``python -m preflight --against``): what a pull
request adds to the bill, line by line, in the terminal, the JSON and the Markdown report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
# dev's instance class in us-east-1 and us-west-2: db.r6g.large at $0.26 an hour (the pinned
# table), 730 h a month; every instance brings one freeable-memory alarm at $0.10 a month.
INSTANCE_MONTH = 730 * 0.26
ALARM_MONTH = 0.10


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "preflight", "--stack", "dev", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("base") / "dev.json"
    proc = _run("--json", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


def _against(tmp_path: Path, baseline: Path, *args: str) -> tuple[str, dict[str, Any], str]:
    out, md = tmp_path / "plan.json", tmp_path / "plan.md"
    proc = _run("--against", str(baseline), "--json", str(out), "--markdown", str(md), *args)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout, json.loads(out.read_text()), md.read_text()


def test_the_same_plan_costs_the_same(tmp_path: Path, baseline: Path) -> None:
    stdout, doc, md = _against(tmp_path, baseline)
    against = doc["cost"]["against"]
    assert against["deltaUsd"] == 0 and against["lines"] == [] and against["byStore"] == {}
    assert against["baselineMonthlyUsd"] == doc["cost"]["monthlyUsd"]
    assert "no cost change" in stdout
    assert "no cost change" in md


def test_two_more_instances_add_exactly_their_hours_and_alarms(
    tmp_path: Path, baseline: Path
) -> None:
    stdout, doc, md = _against(tmp_path, baseline, "--set", "auroraInstancesPerRegion=3")
    against = doc["cost"]["against"]
    assert against["deltaUsd"] == pytest.approx(2 * INSTANCE_MONTH + 2 * ALARM_MONTH)
    assert against["byStore"] == pytest.approx(
        {"aurora": 2 * INSTANCE_MONTH, "monitoring": 2 * ALARM_MONTH}
    )
    changes = {(c["name"], c["change"]): c["deltaUsd"] for c in against["lines"]}
    assert changes == pytest.approx(
        {
            ("aurora-us-east-1-3", "added"): INSTANCE_MONTH,
            ("aurora-us-west-2-3", "added"): INSTANCE_MONTH,
            ("alarm-aurora-memory-3-us-east-1", "added"): ALARM_MONTH,
            ("alarm-aurora-memory-3-us-west-2", "added"): ALARM_MONTH,
        }
    )
    assert "+$379.80" in stdout and "4 item(s) changed" in stdout
    assert "| `aurora-us-east-1-3` | instance db.r6g.large (aurora-postgresql) |" in md
    assert "+$189.80" in md


def test_a_baseline_without_an_estimate_is_said_so(tmp_path: Path, baseline: Path) -> None:
    old = json.loads(baseline.read_text())
    del old["cost"]
    written = tmp_path / "old.json"
    written.write_text(json.dumps(old))
    stdout, doc, _ = _against(tmp_path, written)
    assert doc["cost"]["against"]["baselineMonthlyUsd"] is None
    assert doc["cost"]["against"]["deltaUsd"] is None
    assert "the baseline has no cost estimate" in stdout


def test_a_baseline_with_a_broken_estimate_is_refused(tmp_path: Path, baseline: Path) -> None:
    broken = json.loads(baseline.read_text())
    broken["cost"] = {"monthlyUsd": "lots"}
    written = tmp_path / "broken.json"
    written.write_text(json.dumps(broken))
    proc = _run("--against", str(written))
    assert proc.returncode == 2
    assert f"--against {written}: cost is not a cost estimate (monthlyUsd and lines)" in (
        proc.stdout + proc.stderr
    )
