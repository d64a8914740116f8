"""The drills' in-VPC probe function (config ``drillsProbes``, components/drill_probes.py), as
the program records it for the dev stack with the key on: where it runs, what it may reach,
what its role may do, what its package holds, and what the pack and the cost estimate say."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.drill_probes import (
    VENDORED,
    VendoringError,
    package,
    pinned_versions,
    vendored_files,
)
from components.settings import ConfigError, load_settings
from policies.pricing.estimate import estimate
from policies.pricing.table import pinned_table
from policies.pricing.usage import parse_usage
from preflight.config import load_stack_config
from preflight.cost import _Planned, read_usage
from preflight.model import RecordedResource, Recording
from tests.policies.policy_support import Evaluator, reconciled
from tests.support.stacks import recorded

REPO = Path(__file__).resolve().parents[2]
REGIONS = ("us-east-1", "us-west-2")
FUNCTION = "aws:lambda/function:Function"
SG = "aws:ec2/securityGroup:SecurityGroup"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


@functools.cache
def probes_on() -> Recording:
    return recorded("dev", "drillsProbes=true")


def _named(rec: Recording, name: str) -> RecordedResource:
    (found,) = [r for r in rec.resources if r.name == name and r.custom]
    return found


def _sg_id(rec: Recording, name: str) -> str:
    return str(_named(rec, name).outputs["id"])


@pytest.mark.parametrize("region", REGIONS)
def test_a_probe_function_runs_in_each_regions_private_data_subnets(region: str) -> None:
    rec = probes_on()
    function = _named(rec, f"probe-{region}")
    assert function.type == FUNCTION
    assert function.inputs["region"] == region
    # the same three subnets the region's Aurora and cache live in
    subnets = _named(rec, f"db-subnets-{region}").inputs["subnetIds"]
    assert len(subnets) == 3
    assert function.inputs["vpcConfig"]["subnetIds"] == subnets
    assert function.inputs["vpcConfig"]["securityGroupIds"] == [_sg_id(rec, f"probe-sg-{region}")]
    assert function.inputs["runtime"] == "python3.12"  # on Lambda.2's supported list
    assert function.inputs["handler"] == "components/functions/drill_probe.handler"
    assert function.inputs["name"] == f"securecart-dev-drill-probe-{region}"
    # named by region, in the stack output the drill reads
    assert rec.outputs["drillProbes"][region] == f"securecart-dev-drill-probe-{region}"


@pytest.mark.parametrize("region", REGIONS)
def test_the_probe_reaches_only_the_stores_ports_and_the_secrets_endpoint(region: str) -> None:
    rec = probes_on()
    probe, db, cache = (_sg_id(rec, f"{kind}-sg-{region}") for kind in ("probe", "db", "cache"))
    endpoint_sg = _sg_id(rec, f"probe-endpoint-sg-{region}")
    egress = {
        (r.inputs["fromPort"], r.inputs["toPort"], r.inputs["referencedSecurityGroupId"])
        for r in rec.by_type(EGRESS)
        if r.inputs["securityGroupId"] == probe
    }
    assert egress == {(5432, 5432, db), (6379, 6379, cache), (443, 443, endpoint_sg)}
    assert all(r.inputs["ipProtocol"] == "tcp" for r in rec.by_type(EGRESS))
    # the probe SG has no inline rules (they would fight the standalone ones)
    probe_sg = _named(rec, f"probe-sg-{region}").inputs
    assert "ingress" not in probe_sg and "egress" not in probe_sg
    # the stores admit it on their own port only, beside the application CIDRs
    for name, port in ((f"db-sg-{region}", 5432), (f"cache-sg-{region}", 6379)):
        rules = _named(rec, name).inputs["ingress"]
        from_probe = [r for r in rules if r.get("securityGroups")]
        assert [(r["fromPort"], r["toPort"], r["securityGroups"]) for r in from_probe] == [
            (port, port, [probe])
        ]
    endpoint = _named(rec, f"probe-endpoint-sg-{region}").inputs
    assert [(r["fromPort"], r["securityGroups"]) for r in endpoint["ingress"]] == [(443, [probe])]
    assert endpoint["egress"] == []
    vpce = _named(rec, f"probe-secrets-endpoint-{region}").inputs
    assert vpce["serviceName"] == f"com.amazonaws.{region}.secretsmanager"
    assert vpce["vpcEndpointType"] == "Interface"
    assert vpce["privateDnsEnabled"] is False  # nothing else in the VPC is redirected
    assert vpce["securityGroupIds"] == [endpoint_sg]


def _replica(arn: str, region: str) -> str:
    # arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>: a replica keeps all
    # but the region (Secrets Manager User Guide, "Replicate ... to other AWS Regions")
    parts = arn.split(":")
    return ":".join([*parts[:3], region, *parts[4:]])


@pytest.mark.parametrize("region", REGIONS)
def test_the_role_reads_this_regions_secrets_and_manages_its_interfaces(region: str) -> None:
    rec = probes_on()
    policy = json.loads(_named(rec, f"probe-policy-{region}").inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert all(s["Effect"] == "Allow" for s in by_sid.values())
    secrets = sorted(
        _replica(rec.outputs[key], region) for key in ("auroraSecretArn", "cacheAuthSecretArn")
    )
    assert by_sid["ReadTheStoresSecrets"]["Action"] == "secretsmanager:GetSecretValue"
    assert by_sid["ReadTheStoresSecrets"]["Resource"] == secrets
    decrypt = by_sid["DecryptThroughSecretsManager"]
    assert decrypt["Action"] == "kms:Decrypt"
    assert f":{region}:" in decrypt["Resource"] and ":key/" in decrypt["Resource"]
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
    }
    actions = {
        a
        for s in by_sid.values()
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    # AWSLambdaVPCAccessExecutionRole's ENI actions, logs, the secrets: nothing else
    assert actions == {
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
    }
    star = [s["Sid"] for s in by_sid.values() if s["Resource"] == "*"]
    assert star == ["DescribeNetworkInterfaces"]  # EC2 scopes no Describe* action
    env = _named(rec, f"probe-{region}").inputs["environment"]["variables"]
    assert sorted([env["AURORA_SECRET_ID"], env["CACHE_SECRET_ID"]]) == secrets
    # nobody but IAM principals invoke it: no resource policy at all
    assert not [r for r in rec.by_type("aws:lambda/permission:Permission") if "probe" in r.name]


def test_the_package_holds_the_handler_the_probe_module_and_the_pinned_clients() -> None:
    code = _named(probes_on(), "probe-us-east-1").inputs["code"]
    assets = code["assets"]
    for path in (
        "components/functions/drill_probe.py",
        "components/functions/app_probes.py",
        "components/functions/__init__.py",
        "components/__init__.py",
        "pg8000/native.py",
        "scramp/core.py",
        "asn1crypto/__init__.py",
        "dateutil/parser/__init__.py",
        "six.py",
        "redis/connection.py",
    ):
        assert path in assets, path
    assert "scramp-1.5.0.dist-info/METADATA" in assets  # scramp reads its version from it
    others = [p for p in assets if not p.endswith((".py", ".pem"))]
    assert all(".dist-info/" in p and ("METADATA" in p or "LICENSE" in p) for p in others)
    assert not [p for p in assets if "__pycache__" in p]
    pins = pinned_versions()
    assert [pins.get(name) for name in VENDORED] == [
        "1.31.6",
        "1.5.0",
        "1.5.1",
        "2.9.0.post0",
        "1.17.0",
        "8.1.0",
    ]
    # both regions get the same archive: same pins, same files
    assert code == _named(probes_on(), "probe-us-west-2").inputs["code"]


def test_a_client_at_another_version_than_the_pin_is_refused(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    text = (REPO / "requirements.txt").read_text(encoding="utf-8")
    requirements.write_text(text.replace("redis==8.1.0", "redis==8.0.0"), encoding="utf-8")
    with pytest.raises(
        VendoringError, match=r"redis 8\.1\.0 is installed but requirements.txt pins 8\.0\.0"
    ):
        vendored_files(requirements)


def test_the_pack_and_the_cost_estimate_accept_the_probe_resources() -> None:
    rec = probes_on()
    config = json.loads((REPO / "stacks" / "policy-config.dev.json").read_text())
    # no finding at all, advisory ones included (prod makes every rule mandatory)
    found = Evaluator(list(rec.resources), reconciled(config)).baseline
    probe_urns = {r.urn for r in rec.resources if "probe" in r.name}
    assert [f for f in found if f[1] in probe_urns] == []
    planned = [_Planned(r.type, r.name, r.urn, r.inputs) for r in rec.resources if r.custom]
    est = estimate(planned, parse_usage(read_usage("dev", REPO).document), pinned_table())
    assert not [line for line in est.unpriced if "probe" in line.name]
    endpoint = [line for line in est.lines if line.name == "probe-secrets-endpoint-us-east-1"]
    # three Availability Zones x 730 h x $0.01 (AWS PrivateLink pricing)
    assert [round(line.monthly_usd, 2) for line in endpoint] == [21.90]


def test_drills_probes_is_off_unless_set_and_must_be_a_boolean() -> None:
    base = load_stack_config("dev").project_values()
    assert load_settings(base).drills.probes is False
    assert load_settings({**base, "drillsProbes": True}).drills.probes is True
    with pytest.raises(ConfigError) as caught:
        load_settings({**base, "drillsProbes": "yes"})
    assert caught.value.key == "drillsProbes"
    assert "'yes'" in str(caught.value)


def test_the_package_imports_with_nothing_but_the_standard_library(tmp_path: Path) -> None:
    """The archive unpacked as Lambda does (/var/task), imported by an interpreter that sees
    only the standard library (-I -S: no site-packages): every import the handler makes is in
    the package (scramp and pg8000 read their own METADATA at import time)."""
    for path, asset in package().items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(asset.path, target)
    code = (
        "import sys; sys.path.insert(0, '.')\n"
        "import components.functions.drill_probe as h\n"
        "import pg8000.native, redis, scramp, dateutil.parser\n"
        "try:\n"
        "    h.run_probes({'probes': []}, None)\n"
        "except h.ProbeEventError as e:\n"
        "    print('refused:', e)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'pulumi', 'yaml'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "refused: probes has value []; allowed: a non-empty list",
        "[]",
    ]
