"""Each stack's policy config holds the stack to what its README row promises, and a value the
schema does not allow is refused, by preflight as by the Pulumi CLI (which validates the config
against the JSON schema each policy publishes)."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rich.console import Console

from components.settings import Settings, load_settings
from policies import ALL_RULES, RULES_BY_NAME
from preflight.analyzer import PolicyConfigError, PolicyServer, reconcile_config
from preflight.cli import EXIT_CONFIG, run
from preflight.config import load_stack_config
from tests.policies.policy_support import policy_infos
from tests.support.stacks import STACKS

REPO = Path(__file__).resolve().parents[2]
ROW = re.compile(
    r"^\| `(?P<stack>\w+)` \| (?P<first>[\w-]+) → (?P<second>[\w-]+) \| (?P<instances>\d+) \u00d7 "
    r"(?P<cls>db\.[\w.]+) per region(?P<azs> \(3 AZs\))? \| (?P<node>cache\.[\w.]+), "
    r"(?P<replicas>\d+) replicas? \| (?P<pitr>\d+) d PITR, (?P<vault>\d+) d vault"
    r"(?: and copies|, (?P<copies>\d+) d copies) \| .*\|$"
)


def _promises() -> dict[str, dict[str, Any]]:
    """The README's Stacks table, one dict per row."""
    rows = {}
    for line in (REPO / "README.md").read_text().splitlines():
        match = ROW.match(line)
        if match:
            row = match.groupdict()
            row["copies"] = row["copies"] or row["vault"]
            rows[row["stack"]] = row
    return rows


def _effective(stack: str) -> dict[str, tuple[str, dict[str, Any]]]:
    config = json.loads((REPO / "stacks" / f"policy-config.{stack}.json").read_text())
    return reconcile_config(policy_infos(), config)


def _settings(stack: str) -> Settings:
    return load_settings(load_stack_config(stack, REPO, []).project_values())


def test_readme_has_a_row_per_stack() -> None:
    assert set(_promises()) == set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_policy_config_enforces_the_readme_row(stack: str) -> None:
    row, config = _promises()[stack], _effective(stack)

    def value(rule: str, prop: str) -> Any:
        return config[rule][1][prop]

    pitr = int(row["pitr"])
    assert value("rds-backup-retention", "minDays") == pitr
    assert value("dynamodb-table-pitr", "minRecoveryPeriodDays") == pitr  # tables too
    assert value("backup-plan-frequency-retention", "minRetentionDays") == int(row["vault"])
    assert value("backup-plan-frequency-retention", "minCopyRetentionDays") == int(row["copies"])
    assert value("rds-multi-az", "minInstances") == int(row["instances"])
    assert value("rds-multi-az", "minAvailabilityZones") == (3 if row["azs"] else 2)
    assert value("elasticache-multi-az", "minNodes") == int(row["replicas"]) + 1
    assert row["cls"] in value("cost-allowed-instance-classes", "allowed")
    assert row["node"] in value("cost-allowed-cache-node-types", "allowed")
    assert {row["first"], row["second"]} <= set(value("cost-allowed-regions", "allowed"))
    assert value("tag-values-allowed", "environment") == stack
    if "every guardrail mandatory" in _raw_row(stack):
        assert {level for level, _props in config.values()} == {"mandatory"}


def _raw_row(stack: str) -> str:
    return next(
        line for line in (REPO / "README.md").read_text().splitlines() if f"`{stack}`" in line
    )


@pytest.mark.parametrize("stack", STACKS)
def test_stack_file_keeps_the_readme_row_and_its_policy_config(stack: str) -> None:
    """The stack file delivers the row; the policy config is tight around what it delivers."""
    row, config, s = _promises()[stack], _effective(stack), _settings(stack)
    assert (s.primary_region, s.secondary_region) == (row["first"], row["second"])
    assert s.aurora.instances_per_region == int(row["instances"])
    assert s.aurora.instance_class == row["cls"]
    assert s.aurora.backup_retention_days == int(row["pitr"])
    assert s.cache.node_type == row["node"]
    assert s.cache.replicas_per_region == int(row["replicas"])
    assert s.backup.retention_days == int(row["vault"])
    assert s.backup.copy_retention_days == int(row["copies"])
    assert config["security-group-data-ingress"][1]["allowedCidrs"] == list(s.network.app_cidrs)
    assert s.monitoring.alarm_emails, "alarms must notify someone (alarm-topic-subscribed)"


@pytest.mark.parametrize(
    ("rule", "prop", "value", "allowed"),
    [
        ("rds-backup-retention", "minDays", 36, "maximum 35"),
        ("dynamodb-table-pitr", "minRecoveryPeriodDays", 0, "minimum 1"),
        ("rds-enhanced-monitoring", "maxIntervalSeconds", 45, "[1, 5, 10, 15, 30, 60]"),
        ("kms-key-deletion-window", "minDays", 3, "minimum 7"),
        ("tag-values-allowed", "environment", "qa", "['', 'dev', 'staging', 'prod']"),
        (
            "rds-storage",
            "allowedInstanceStorageTypes",
            ["gp9"],
            "['gp2', 'gp3', 'io1', 'io2', 'standard']",
        ),
        ("vpc-flow-logs", "trafficType", "SOME", "['ALL', 'ACCEPT', 'REJECT']"),
        ("secretsmanager-rotation", "exemptSecrets", {"a": 1}, "string"),
        ("rds-multi-az", "minAvailabilityZones", 4, "maximum 3"),
    ],
)
def test_a_value_outside_the_schema_is_refused(
    rule: str, prop: str, value: Any, allowed: str
) -> None:
    config = {rule: {prop: value}}
    # preflight reconciles the config as the CLI does, and refuses it naming the value
    with pytest.raises(PolicyConfigError) as error:
        reconcile_config(policy_infos(), config)
    text = str(error.value)
    assert rule in text and prop in text and allowed in text, text
    # the Pulumi CLI validates each policy's config with the JSON schema the pack publishes
    schema = {
        "type": "object",
        "properties": {k: p.schema() for k, p in RULES_BY_NAME[rule].params.items()},
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({prop: value}, schema)


def test_every_default_and_every_stack_value_satisfies_its_schema() -> None:
    for rule in ALL_RULES:
        schema = {"type": "object", "properties": {k: p.schema() for k, p in rule.params.items()}}
        jsonschema.validate(rule.defaults(), schema)
        numeric = [p.schema() for p in rule.params.values() if p.type in ("integer", "number")]
        assert all("enum" in p or "minimum" in p for p in numeric), rule.name
    for stack in STACKS:
        for name, (_level, props) in _effective(stack).items():
            schema = {
                "type": "object",
                "properties": {k: p.schema() for k, p in RULES_BY_NAME[name].params.items()},
            }
            jsonschema.validate(props, schema)


def test_the_served_schema_carries_the_bounds() -> None:
    """What the CLI validates against is what GetAnalyzerInfo returns, bounds included."""
    with PolicyServer(REPO / "policies") as server:
        info = {p.name: p for p in server.info()}
        with pytest.raises(PolicyConfigError, match="minDays=36 is above the maximum 35"):
            server.configure({"rds-backup-retention": {"minDays": 36}})
    assert info["rds-backup-retention"].config_schema["minDays"]["maximum"] == 35
    assert info["tag-values-allowed"].config_schema["environment"]["enum"] == [
        "",
        "dev",
        "staging",
        "prod",
    ]


def test_preflight_exits_2_on_an_out_of_range_policy_config(tmp_path: Path) -> None:
    """Through preflight's command line: the stack's policy config with a bad value."""
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copy(REPO / "stacks" / "Pulumi.dev.yaml", root / "stacks" / "Pulumi.dev.yaml")
    for name in ("__main__.py", "components", "policies"):
        (root / name).symlink_to(REPO / name)
    config = json.loads((REPO / "stacks" / "policy-config.dev.json").read_text())
    config["rds-backup-retention"] = {"minDays": 40}
    (root / "stacks" / "policy-config.dev.json").write_text(json.dumps(config))
    err = io.StringIO()
    code = run(
        "dev",
        root=root,
        console=Console(file=io.StringIO()),
        err_console=Console(file=err, width=300),
    )
    assert code == EXIT_CONFIG
    assert "rds-backup-retention" in err.getvalue() and "minDays=40" in err.getvalue()
