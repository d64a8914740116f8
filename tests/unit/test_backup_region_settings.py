"""Cross-region copies of DynamoDB backups need AWS Backup's advanced DynamoDB backup, a Region
setting of the account (AWS Backup, Feature availability by resource). A stack manages it in
both its regions when ``backupManageRegionSettings`` says so (prod); otherwise preflight says,
in its report and its JSON, what to check (dev, staging)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from preflight.advisories import advisories
from tests.support.stacks import recorded

REPO = Path(__file__).resolve().parents[2]
SETTINGS = "aws:backup/regionSettings:RegionSettings"
PLAN = "aws:backup/plan:Plan"
STACK_REGIONS = {"dev": ("us-east-1", "us-west-2"), "staging": ("us-east-2", "us-west-2")}


def test_prod_owns_the_setting_in_both_regions_before_its_plans() -> None:
    rec = recorded("prod")
    settings = {r.region: r for r in rec.by_type(SETTINGS)}
    assert set(settings) == {"us-east-1", "us-west-2"}
    for region, resource in settings.items():
        assert resource.inputs["resourceTypeManagementPreference"]["DynamoDB"] is True
        opt_in = resource.inputs["resourceTypeOptInPreference"]
        assert opt_in["DynamoDB"] is True and opt_in["Aurora"] is True
        # the whole map, as the provider reads it back (a partial map diffs after a refresh)
        assert set(opt_in.values()) == {True} and len(opt_in) >= 15
        (plan,) = [p for p in rec.by_type(PLAN) if p.region == region]
        assert resource.urn in plan.dependencies, region
        assert "BackupRegionSettings" not in (plan.inputs.get("tags") or {})
    assert advisories(rec.resources) == []


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_a_stack_that_does_not_own_it_gets_one_advisory_per_copying_region(stack: str) -> None:
    rec = recorded(stack)
    assert rec.by_type(SETTINGS) == []
    # the plans acknowledge it (policy backup-dynamodb-copy-region-settings)
    assert [p.inputs["tags"] for p in rec.by_type(PLAN)] == [
        {"BackupRegionSettings": "account"}
    ] * 2
    lines = advisories(rec.resources)
    # the global tables are backed up once, in their home (anchor) region, and copied from
    # there: only that region's plan copies DynamoDB backups (the three data tables and the
    # drills' lease table)
    anchor, other = sorted(STACK_REGIONS[stack])
    (line,) = lines
    assert line.startswith(f"AWS Backup in {anchor}:")
    assert f"copies DynamoDB backups (4 table(s)) to {other}" in line
    assert "advanced DynamoDB backup" in line and "backupManageRegionSettings" in line


def test_settings_without_advanced_dynamodb_do_not_silence_it() -> None:
    """A RegionSettings that opts DynamoDB in but leaves full management off is not enough."""
    rec = recorded("prod")
    weakened = [
        replace(
            r,
            inputs={
                **r.inputs,
                "resourceTypeManagementPreference": {
                    **r.inputs["resourceTypeManagementPreference"],
                    "DynamoDB": False,
                },
            },
        )
        if r.type == SETTINGS and r.region == "us-east-1"
        else r
        for r in rec.resources
    ]
    lines = advisories(weakened)
    # us-east-1 is where prod's global tables are backed up and copied from
    assert [line.split(":", 1)[0] for line in lines] == ["AWS Backup in us-east-1"]


def test_the_advisory_reaches_the_report_and_the_json(tmp_path: Path) -> None:
    out = tmp_path / "staging.json"
    proc = subprocess.run(
        [sys.executable, "-m", "preflight", "--stack", "staging", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    text = " ".join(proc.stdout.split())
    assert "Advisory: AWS Backup in us-east-2: plan 'backup-plan-us-east-2' copies DynamoDB" in text
    document = json.loads(out.read_text())
    assert len(document["advisories"]) == 1  # the anchor region's plan copies the tables
    assert all("advanced DynamoDB backup" in line for line in document["advisories"])
