"""docs/drills-iam.json is the least-privilege policy of a drill (issue 17, item 7): every AWS
call the drills make is in it, and nothing is in it that no call needs.

The calls are found by parsing drills/ (``<clients>.call("<service>", <region>,
"<operation>", ...)``, the one way drill code reaches AWS: AwsClients.call); each operation is
turned into its IAM action by botocore's own service model (the API name the SDK signs), with
the service's IAM prefix. A statement whose Sid is ``For<Service><Operation>`` holds what AWS
requires besides the operation's own action (cited in docs/drills-iam.md); it is needed only
while that call is."""

from __future__ import annotations

import ast
import functools
import json
import re

import boto3

from drills.stackfile import REPO_ROOT

DRILLS = REPO_ROOT / "drills"
POLICY = REPO_ROOT / "docs" / "drills-iam.json"

EMULATOR_ONLY = {"sandbox.py", "serve.py", "bench.py", "seed.py"}
"""Modules that only ever talk to the local emulator (seeding it, serving it, benchmarking the
sandbox): they create boto3 clients with an explicit loopback endpoint."""

IAM_PREFIX = {
    "rds": "rds",
    "rds-data": "rds-data",
    "dynamodb": "dynamodb",
    "elasticache": "elasticache",
    "cloudwatch": "cloudwatch",
    "ssm": "ssm",
    "secretsmanager": "secretsmanager",
    "route53": "route53",
    "sts": "sts",
    "fis": "fis",
    "lambda": "lambda",
    "neptune": "rds",
    "redshift": "redshift",
}
"""boto3 service name -> IAM action prefix (Service Authorization Reference; Neptune's
management API is authorized by ``rds:`` actions: Neptune User Guide, "Managing access using
IAM policies")."""

NO_PERMISSION = {"sts:GetCallerIdentity"}
"""STS API Reference, GetCallerIdentity: "No permissions are required to perform this
operation" (an explicit deny cannot block it either)."""


def drill_calls() -> set[tuple[str, str]]:
    """(service, operation) of every AwsClients.call in drills/ (not the emulator)."""
    calls: set[tuple[str, str]] = set()
    for path in sorted(DRILLS.glob("*.py")):
        if path.name in EMULATOR_ONLY:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "call"
                and len(node.args) >= 3
            ):
                continue
            service, _region, operation = node.args[:3]
            where = f"{path.name}:{node.lineno}"
            assert isinstance(service, ast.Constant) and isinstance(service.value, str), where
            assert isinstance(operation, ast.Constant) and isinstance(operation.value, str), where
            calls.add((service.value, operation.value))
    return calls


@functools.cache
def _api_names(service: str) -> dict[str, str]:
    """boto3 method name -> API operation name, from botocore's model of ``service``."""
    client = boto3.session.Session().client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return dict(client.meta.method_to_api_mapping)


ACTION_FOR_API = {"lambda:Invoke": "lambda:InvokeFunction"}
"""Where the IAM action is not named after the API: Lambda's Invoke API is authorized by
``lambda:InvokeFunction`` (Service Authorization Reference, "Actions defined by AWS Lambda")."""


def iam_action(service: str, operation: str) -> str:
    api = f"{IAM_PREFIX[service]}:{_api_names(service)[operation]}"
    return ACTION_FOR_API.get(api, api)


def sid_for(service: str, operation: str) -> str:
    api = iam_action(service, operation).split(":")[1]
    return "For" + service.replace("-", "").capitalize() + api


def test_no_drill_module_creates_its_own_client() -> None:
    """Every AWS call goes through AwsClients.call (so the scan below sees all of them)."""
    for path in sorted(DRILLS.glob("*.py")):
        if path.name in EMULATOR_ONLY | {"aws.py"}:
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"boto3\.(client|resource|session)|\.client\(", text), path.name


def test_the_policy_allows_every_drill_call_and_nothing_else() -> None:
    calls = drill_calls()
    assert ("rds", "switchover_global_cluster") in calls  # the scan finds the drills' calls
    assert ("dynamodb", "put_item") in calls and ("sts", "get_caller_identity") in calls
    needed = {iam_action(s, o) for s, o in calls} - NO_PERMISSION
    policy = json.loads(POLICY.read_text(encoding="utf-8"))
    assert policy["Version"] == "2012-10-17"
    direct: set[str] = set()
    implied: set[str] = set()
    sids = {sid_for(s, o) for s, o in calls}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = set(statement["Action"])
        if statement["Sid"].startswith("For"):
            assert statement["Sid"] in sids, f"{statement['Sid']}: no drill call needs it"
            implied |= actions
        else:
            direct |= actions

    missing = needed - direct - implied
    unneeded = direct - needed
    assert not missing, f"drill calls the policy does not allow: {sorted(missing)}"
    assert not unneeded, f"actions no drill call makes: {sorted(unneeded)}"
    assert not (implied & direct), "an action is listed twice"


def test_the_document_states_the_action_count() -> None:
    policy = json.loads(POLICY.read_text(encoding="utf-8"))
    count = len({a for s in policy["Statement"] for a in s["Action"]})
    page = (REPO_ROOT / "docs" / "drills-iam.md").read_text(encoding="utf-8")
    assert f"**{count} actions**" in page
