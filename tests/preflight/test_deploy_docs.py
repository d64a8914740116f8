"""The README's Deploy section and the deploying role's policy (docs/deploy-iam.json) stay true:
the CLI version is the pinned SDK's, the commands create the stack and run the policy pack on
`up`, and the policy names an action of every AWS service the stacks create resources in."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.support.stacks import STACKS, recorded

REPO = Path(__file__).resolve().parents[2]
POLICY = json.loads((REPO / "docs" / "deploy-iam.json").read_text())
README = (REPO / "README.md").read_text()
DEPLOY = README[
    README.index("## Deploy\n") : README.index("\n## ", README.index("## Deploy\n") + 1)
]

# pulumi-aws module of a type token -> the IAM service prefix its API calls use
IAM_SERVICE = {
    "ec2": "ec2",
    "rds": "rds",
    "dynamodb": "dynamodb",
    "elasticache": "elasticache",
    "kms": "kms",
    "secretsmanager": "secretsmanager",
    "lambda": "lambda",
    "ssm": "ssm",
    "sns": "sns",
    "appautoscaling": "application-autoscaling",
    "route53": "route53",
    "backup": "backup",
    "budgets": "budgets",
    "iam": "iam",
    "redshift": "redshift",
    # Neptune's management API is authorised by rds: actions ("IAM actions for administering
    # Amazon Neptune", Neptune User Guide).
    "neptune": "rds",
}


def _allowed_actions() -> set[str]:
    found: set[str] = set()
    for statement in POLICY["Statement"]:
        if statement["Effect"] == "Allow":
            found |= set(statement["Action"])
    return found


def test_the_policy_is_a_well_formed_identity_policy() -> None:
    assert POLICY["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in POLICY["Statement"]]
    assert len(sids) == len(set(sids))
    for statement in POLICY["Statement"]:
        assert statement["Effect"] in ("Allow", "Deny")
        assert ("Action" in statement) != ("NotAction" in statement)
        assert statement["Resource"]
        for action in statement.get("Action", statement.get("NotAction")):
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z*]+", action), action
    (deny,) = [s for s in POLICY["Statement"] if s["Effect"] == "Deny"]
    from components.settings.placement import PRICED_REGIONS

    regions = deny["Condition"]["StringNotEquals"]["aws:RequestedRegion"]
    assert sorted(regions) == sorted(PRICED_REGIONS)


def _service(type_token: str) -> str:
    module = type_token.split(":")[1].split("/", maxsplit=1)[0]
    if type_token == "aws:cloudwatch/logGroup:LogGroup":
        return "logs"
    return "cloudwatch" if module == "cloudwatch" else IAM_SERVICE[module]


@pytest.mark.parametrize("stack", STACKS)
def test_every_service_the_stack_uses_has_actions(stack: str) -> None:
    services = {a.split(":")[0] for a in _allowed_actions()}
    used = {
        _service(r.type)
        for r in recorded(stack).resources
        if r.custom and r.type.startswith("aws:")
    }
    assert used <= services, used - services


def test_the_deploy_section_deploys_on_a_new_backend() -> None:
    pinned = re.search(r"^pulumi==(\S+)$", (REPO / "requirements.txt").read_text(), re.M)
    assert pinned is not None
    assert f"Pulumi CLI v{pinned.group(1)}" in DEPLOY
    assert f"--version {pinned.group(1)}" in DEPLOY
    assert "pulumi stack select --create dev" in DEPLOY
    assert "(cd policies && pulumi install)" in DEPLOY
    up = [line for line in DEPLOY.splitlines() if line.startswith("pulumi up")]
    assert up and all("--policy-pack policies" in line for line in up)
    assert "--policy-pack-config stacks/policy-config.dev.json" in up[0]
    assert "docs/deploy-iam.md" in DEPLOY


def test_the_keys_to_replace_are_config_keys_with_example_values() -> None:
    project = (REPO / "Pulumi.yaml").read_text()
    # structured keys are described in comments (the project schema cannot type objects)
    declared = set(yaml.safe_load(project)["config"]) | set(
        re.findall(r"#\s*(\w+) \(object", project)
    )
    rows = [line for line in DEPLOY.splitlines() if line.startswith("| `")]
    keys = {k for row in rows for k in re.findall(r"`([A-Za-z]+)`", row.split("|")[1])}
    assert {"networkAppVpcIds", "monitoringAlarmEmails", "budgetAlertEmails"} <= keys
    assert keys <= declared, keys - declared
    dev = (REPO / "stacks" / "Pulumi.dev.yaml").read_text()
    assert "vpc-0a1b2c3d4e5f60718" in dev and "@securecart.example" in dev
