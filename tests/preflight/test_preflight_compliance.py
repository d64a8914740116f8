"""``--compliance``: the report of every control of a framework for a stack, driven through the
command's body (``preflight.cli.run``, the real recorder and policy pack) and asserted on its
JSON; the judging rules checked on the prod preview with injected findings and drill reports."""

from __future__ import annotations

import io
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from policies import controls
from preflight.cli import EXIT_CONFIG, EXIT_OK, main, run
from preflight.compliance import ComplianceReport, build_report, latest_drill
from preflight.pipeline import Finding, PreflightResult
from tests.preflight.test_preflight_stacks import preview

DAY = 86400.0


def _drill(directory: Path, drill_id: str, stack: str, *, ended: float, **extra: Any) -> Path:
    """A drill's report.json as drills/report.py writes it (``<dir>/<drill id>/report.json``)."""
    data = {
        "drill_id": drill_id,
        "stack": stack,
        "status": "succeeded",
        "ended_at": ended,
        "rto_seconds": 61.5,
        "rpo_seconds": 0.4,
        "objectives": {"rtoSeconds": 120.0, "rpoSeconds": 1.0, "maxReplicationLagSeconds": 2.0},
        "objectives_met": True,
        "measured": True,
        **extra,
    }
    path = directory / drill_id / "report.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _by_id(report: ComplianceReport) -> dict[str, Any]:
    return {c.id: c for c in report.controls}


def test_cli_writes_every_pci_requirement_to_json_markdown_and_terminal(tmp_path: Path) -> None:
    reports = tmp_path / "drills"
    fresh = _drill(reports, "drill-new", "prod", ended=time.time() - 3 * DAY)
    _drill(reports, "drill-old", "prod", ended=time.time() - 200 * DAY, objectives_met=False)
    _drill(reports, "drill-dev", "dev", ended=time.time())
    out = io.StringIO()
    code = run(
        "prod",
        json_file=tmp_path / "prod.json",
        markdown_file=tmp_path / "prod.md",
        compliance="pci-dss",
        drill_reports=reports,
        console=Console(file=out, width=240, color_system=None),
    )
    assert code == EXIT_OK
    doc = json.loads((tmp_path / "prod.json").read_text())["compliance"]
    assert (doc["framework"], doc["version"], doc["stack"]) == ("pci-dss", "v4.0.1", "prod")
    ids = [c["id"] for c in doc["controls"]]
    assert ids == list(controls.framework("pci-dss").ids)  # every requirement, once, in order
    for c in doc["controls"]:
        assert set(c) >= {"id", "status", "rules", "resources", "reason"}
        assert c["status"] in ("pass", "fail", "advisory", "not-covered", "out-of-scope")
        assert c["reason"], c["id"]
    found = {c["id"]: c for c in doc["controls"]}
    # 3.5.1: encryption at rest, evidenced by the rules on the stack's clusters and tables
    assert found["3.5.1"]["status"] == "pass"
    assert "rds-storage-encrypted" in found["3.5.1"]["rules"]
    assert {"aurora-us-east-1", "aurora-us-west-2"} <= set(found["3.5.1"]["resources"])
    # 8.6.3 and 8.3.9 come from the SecretsManager.1/.4 pages; secrets rotate
    assert found["8.6.3"]["rules"] == ["secretsmanager-rotation"]
    assert set(found["8.6.3"]["resources"]) == {
        "aurora-master-secret",
        "cache-auth-secret",
        "payments-master-secret",  # issue 20: the payments database's rotated secret
    }
    # 12.10.2 (DR tested): the newest prod drill is the evidence, the older and dev ones are not
    assert found["12.10.2"]["status"] == "pass"
    assert found["12.10.2"]["resources"] == [str(fresh)]
    assert "drill-new" in found["12.10.2"]["reason"] and "RTO 61.5s" in found["12.10.2"]["reason"]
    # physical security: nothing in a preview evidences it, and the report says so
    assert found["9.1.1"]["status"] == "not-covered"
    assert "outside the preview" in found["9.1.1"]["reason"]
    # 1.2.7 (EC2.16, unused network ACLs): the design has none -> out of scope, with the reason
    assert found["1.2.7"]["status"] == "out-of-scope" and "EC2.16" in found["1.2.7"]["reason"]
    assert sum(doc["counts"].values()) == len(ids)
    markdown = (tmp_path / "prod.md").read_text()
    assert "### Compliance: PCI DSS v4.0.1" in markdown and "| `12.10.2` | pass |" in markdown
    printed = out.getvalue()
    assert "PCI DSS v4.0.1: 270 controls" in printed and "drill-new" in printed


def test_unknown_framework_exits_2_naming_what_is_allowed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--stack", "prod", "--compliance", "sox"])
    assert exit_.value.code == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "--compliance 'sox'" in err and "pci-dss, fsbp, cis" in err


@pytest.fixture(scope="module")
def prod() -> PreflightResult:
    return preview("prod").result


def test_fsbp_report_lists_every_control_with_rules_or_reasons(prod: PreflightResult) -> None:
    report = build_report(prod, "fsbp", drill_reports=Path("/nonexistent"))
    found = _by_id(report)
    assert list(found) == list(controls.fsbp_catalog())
    assert found["RDS.27"].status == "pass"
    assert set(found["RDS.27"].rules) == {"rds-storage-encrypted", "rds-global-cluster-encrypted"}
    assert set(found["RDS.27"].resources) == {
        "aurora-us-east-1",
        "aurora-us-west-2",
        "aurora-global",
        "payments-us-east-1",  # issue 20: the payments source and replica (plain RDS instances)
        "payments-us-west-2",
    }
    assert found["Lambda.7"].status == "not-covered" and "X-Ray" in found["Lambda.7"].reason
    assert found["RDS.14"].status == "out-of-scope"
    assert found["RDS.14"].reason.startswith("not applicable to this design: ")
    assert found["IAM.9"].status == "out-of-scope" and found["IAM.9"].reason.startswith(
        "account-level: "
    )
    assert report.counts["fail"] == 0 and report.counts["advisory"] == 0


def test_cis_report_covers_the_62_recommendations(prod: PreflightResult) -> None:
    found = _by_id(build_report(prod, "cis"))
    assert len(found) == 62
    assert found["3.7"].status == "pass" and found["3.7"].rules == ("vpc-flow-logs",)
    assert found["2.3.3"].rules == ("rds-not-publicly-accessible",)
    assert found["1.6"].status == "out-of-scope"  # root hardware MFA: account-level (IAM.6)


def test_findings_turn_controls_fail_or_advisory(prod: PreflightResult) -> None:
    cluster = prod.recording.by_type("aws:rds/cluster:Cluster")[0]
    finding = Finding(
        policy_name="rds-storage-encrypted",
        policy_pack_name="securecart-guardrails",
        description="",
        message="storageEncrypted is false",
        enforcement_level="mandatory",
        urn=cluster.urn,
        remediation="",
    )
    failing = _by_id(build_report(replace(prod, findings=[finding]), "pci-dss"))
    assert failing["3.5.1"].status == "fail" and failing["3.5.1"].resources == (cluster.name,)
    assert "rds-storage-encrypted" in failing["3.5.1"].reason
    advisory = replace(finding, enforcement_level="advisory")
    fsbp = _by_id(build_report(replace(prod, findings=[advisory]), "fsbp"))
    assert fsbp["RDS.27"].status == "advisory" and fsbp["RDS.3"].status == "advisory"
    disabled = replace(prod, policy_config={**prod.policy_config, "kms-key-rotation": "disabled"})
    off = _by_id(build_report(disabled, "pci-dss"))
    assert off["3.7.4"].status == "not-covered" and "disabled" in off["3.7.4"].reason


def test_drill_evidence_missing_stale_or_missed_fails_prod_and_is_advisory_on_dev(
    prod: PreflightResult, tmp_path: Path
) -> None:
    now = 1_800_000_000.0
    assert (
        _by_id(build_report(prod, "pci-dss", drill_reports=tmp_path, now=now))["12.10.2"].status
        == "fail"
    )
    _drill(tmp_path, "d1", "prod", ended=now - 91 * DAY)
    stale = _by_id(build_report(prod, "pci-dss", drill_reports=tmp_path, now=now))["12.10.2"]
    assert (
        stale.status == "fail"
        and "91 days old" in stale.reason
        and "drillsMaxAgeDays=90" in stale.reason
    )
    _drill(tmp_path, "d2", "prod", ended=now - DAY, rto_seconds=300.0, objectives_met=False)
    missed = _by_id(build_report(prod, "pci-dss", drill_reports=tmp_path, now=now))["12.10.2"]
    assert missed.status == "fail" and "RTO 300s for 120s" in missed.reason
    longer = replace(
        prod,
        recording=replace(
            prod.recording,
            config={**prod.recording.config, "securecart-data:drillsMaxAgeDays": 120},
        ),
    )
    assert latest_drill(tmp_path, "prod", longer.recording.config, now=now).drill_id == "d2"
    dev = replace(prod, recording=replace(prod.recording, stack="dev", config={}))
    assert (
        _by_id(build_report(dev, "pci-dss", drill_reports=tmp_path, now=now))["12.10.2"].status
        == "advisory"
    )
