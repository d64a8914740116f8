"""The CLI pipeline with a hand-built recording and a stand-in policy server.

These pin down preflight's own behaviour (exit codes, JSON, redaction, the server's life
cycle) independently of the program and the policy pack; test_preflight_stacks.py runs the real
ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from preflight_fakes import PASSWORD, Builder, Harness, global_database, secret

from components.settings import ConfigError
from preflight.cli import EXIT_BLOCKED, EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from preflight.model import RecordedResource, Recording
from preflight.pipeline import run_preflight
from preflight.report import format_duration

SECURE_CIPHERTEXT = "AAABAJdP9cZxsecure-ciphertext"


def _recording(builder: Builder) -> Recording:
    top = builder.add("securecart:index:DataTier", "data", region=None)
    global_database(builder, parent=top)
    builder.add(
        "aws:dynamodb/table:Table", "carts", parent=top, replicas=[{"regionName": "us-west-2"}]
    )
    builder.add(
        "aws:secretsmanager/secretVersion:SecretVersion",
        "aurora-master",
        parent=top,
        secretString=secret(json.dumps({"username": "admin", "password": PASSWORD})),
    )
    return builder.recording(
        outputs={
            "primaryRegion": "us-east-1",
            "secondaryRegion": "us-west-2",
            "password": secret(PASSWORD),
        }
    )


def _backup_rule(resource: RecordedResource) -> str | None:
    if resource.type == "aws:rds/cluster:Cluster":
        return f"backup retention too short (master password {PASSWORD})"
    return None


def _tag_rule(resource: RecordedResource) -> str | None:
    return "missing CostCenter tag" if resource.type == "aws:dynamodb/table:Table" else None


@pytest.fixture
def harness(builder: Builder, fake_root: Path) -> Harness:
    return Harness(
        fake_root,
        _recording(builder),
        rules={
            "aurora-backup-retention": ("mandatory", _backup_rule),
            "cost-tags": ("advisory", _tag_rule),
        },
        stack_rules={"alarms-present": ("advisory", "no CPU alarm for aurora-us-west-2")},
    )


def test_mandatory_violation_exits_1_and_names_rule_and_resources(harness: Harness) -> None:
    assert harness.run() == EXIT_BLOCKED
    out = harness.output
    assert "Preview blocked" in out
    assert "aurora-backup-retention" in out
    assert "aurora-us-east-1" in out and "aurora-us-west-2" in out
    assert "fix aurora-backup-retention" in out  # remediation
    assert "Mandatory violations (2)" in out and "Advisory violations (2)" in out


def test_advisory_only_exits_0(harness: Harness, fake_root: Path) -> None:
    (fake_root / "stacks" / "policy-config.test.json").write_text(
        json.dumps({"all": "advisory", "aurora-backup-retention": {"enforcementLevel": "advisory"}})
    )
    assert harness.run() == EXIT_OK
    assert harness.servers[0].config == {
        "all": "advisory",
        "aurora-backup-retention": {"enforcementLevel": "advisory"},
    }
    assert "Preflight passed" in harness.output


def test_disabled_policies_are_not_reported(harness: Harness, fake_root: Path) -> None:
    config = fake_root / "custom.json"
    config.write_text(json.dumps({"aurora-backup-retention": "disabled"}))
    assert harness.run(policy_config=config) == EXIT_OK
    assert (
        "aurora-backup-retention"
        not in harness.out.getvalue().split("Policies")[-1].split("Deploy")[0]
    )


def test_every_resource_is_analyzed_and_the_server_stopped(harness: Harness) -> None:
    result = run_preflight(
        "test", root=harness.root, recorder=harness.recorder, server_factory=harness.server
    )
    (server,) = harness.servers
    assert server.analyzed == [r.urn for r in harness.recording.resources]
    assert server.entered and server.exited
    assert result.timings.analyze_calls == len(harness.recording.resources)
    assert {f.policy_name for f in result.findings} == {
        "aurora-backup-retention",
        "cost-tags",
        "alarms-present",
    }
    assert result.blocked


def test_json_has_every_resource_and_diagnostic(harness: Harness, tmp_path: Path) -> None:
    out = tmp_path / "out" / "preflight.json"
    assert harness.run(json_file=out) == EXIT_BLOCKED
    doc = json.loads(out.read_text())
    assert [r["urn"] for r in doc["resources"]] == [r.urn for r in harness.recording.resources]
    assert len(doc["diagnostics"]) == 2 + 1 + 1
    assert doc["summary"] == {"mandatory": 2, "remediate": 0, "advisory": 2}
    assert doc["blocked"] is True
    by_policy = {d["policyName"]: d for d in doc["diagnostics"]}
    assert by_policy["cost-tags"]["resourceName"] == "carts"
    assert (
        by_policy["alarms-present"]["urn"] == ""
        and by_policy["alarms-present"]["resourceName"] is None
    )
    assert by_policy["aurora-backup-retention"]["remediation"] == "fix aurora-backup-retention"
    assert doc["criticalPath"]["totalSeconds"] == 37 * 60
    assert doc["counts"]["byRegion"] == {"us-east-1": 7, "us-west-2": 2}
    assert doc["counts"]["byType"]["aws:rds/cluster:Cluster"] == {"us-east-1": 1, "us-west-2": 1}
    assert doc["timings"]["analyzeCalls"] == len(harness.recording.resources)


def test_secrets_never_appear_in_output_or_json(harness: Harness, tmp_path: Path) -> None:
    harness.recording.config["securecart-data:alertToken"] = {"secure": SECURE_CIPHERTEXT}
    out = tmp_path / "p.json"
    graph = tmp_path / "p.dot"
    harness.run(json_file=out, graph_file=graph)
    for text in (harness.output, out.read_text(), graph.read_text()):
        assert PASSWORD not in text
        assert SECURE_CIPHERTEXT not in text
    doc = json.loads(out.read_text())
    cluster = next(r for r in doc["resources"] if r["name"] == "aurora-us-east-1")
    assert cluster["inputs"]["masterPassword"] == "[secret]"
    assert doc["outputs"]["password"] == "[secret]"
    assert doc["config"]["securecart-data:alertToken"] == "[secret]"
    assert "master password [secret]" in harness.output


def test_bad_config_exits_2_naming_the_key(harness: Harness) -> None:
    def bad(stack: str, overrides: Mapping[str, str] | None, root: Path) -> Recording:
        raise ConfigError("secondaryRegion", "us-east-1", "a region different from primaryRegion")

    assert harness.run(recorder=bad) == EXIT_CONFIG
    assert "secondaryRegion" in harness.err.getvalue()
    # the policy server was started in parallel and is stopped all the same
    assert all(s.exited for s in harness.servers if s.entered)


def test_set_overrides_reach_the_recorder(harness: Harness) -> None:
    harness.run(overrides=["primaryRegion=us-west-2", "aurora.instanceClass=db.r7g.large"])
    assert harness.overrides == {
        "primaryRegion": "us-west-2",
        "aurora.instanceClass": "db.r7g.large",
    }


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"overrides": ["primaryRegion"]}, "key=value"),
        ({"graph_file": Path("graph.png")}, ".png"),
        ({"policy_config": Path("/nonexistent/policy.json")}, "policy.json"),
        ({"policy_pack": Path("/nonexistent/pack")}, "pack"),
    ],
)
def test_bad_options_exit_2(harness: Harness, kwargs: dict[str, Any], needle: str) -> None:
    assert harness.run(**kwargs) == EXIT_CONFIG
    assert needle in harness.err.getvalue()


def test_invalid_policy_config_json_exits_2(harness: Harness, fake_root: Path) -> None:
    (fake_root / "stacks" / "policy-config.test.json").write_text("{not json")
    assert harness.run() == EXIT_CONFIG
    assert "policy-config.test.json" in harness.err.getvalue()


def test_unexpected_failure_exits_3(harness: Harness) -> None:
    def broken(stack: str, overrides: Mapping[str, str] | None, root: Path) -> Recording:
        raise RuntimeError("the program crashed")

    assert harness.run(recorder=broken) == EXIT_FAILED
    assert "the program crashed" in harness.err.getvalue()


def test_graph_file_is_written(harness: Harness, tmp_path: Path) -> None:
    graph = tmp_path / "g.mmd"
    harness.run(graph_file=graph)
    assert "flowchart LR" in graph.read_text()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45, "45s"), (60, "1m 00s"), (2233, "37m 13s"), (3720, "1h 02m")],
)
def test_durations_are_printed_readably(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_a_write_that_fails_after_the_check_exits_3_before_any_verdict(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file could be opened when the run started, but not written at its end (disk full):
    exit 3, one line, and the report (with its verdict) is not printed."""
    import preflight.jsonout

    def full_disk(result: object, path: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(preflight.jsonout, "write_json", full_disk)
    out = tmp_path / "p.json"
    assert harness.run(json_file=out) == EXIT_FAILED
    assert harness.err.getvalue().strip() == (
        f"error: cannot write --json {out}: No space left on device"
    )
    assert "Preview blocked" not in harness.out.getvalue()
    assert "Preflight passed" not in harness.out.getvalue()
    assert not out.exists()
