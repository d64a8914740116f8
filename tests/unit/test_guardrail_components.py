"""What closes Checkov's three findings on prod, checked on the inputs each resource receives:
VPC flow logs (CKV2_AWS_11), secret rotation (CKV2_AWS_57) and DDL logging (CKV2_AWS_27), and
the pinned generators that keep a secret and its database from disagreeing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pulumi
import pytest

from components.functions import secret_rotation
from components.network import RegionalNetwork, RegionalNetworkArgs
from components.secrets import PINNED_GENERATOR_INPUTS
from components.settings import ExistingNetwork
from preflight.recorder import CloudMocks, RecordingMonitor
from tests.support.stacks import STACKS, only, recorded, unwrap

ACCOUNT = "123456789012"
SIG_KEY, ASSET_SIG = "4dabf18193072939515e22adb298388d", "c44067f5952c0a294b673a41bacd8c17"
"""Pulumi's signature key and the value marking an asset (sdk/go/common/resource/properties.go)."""


@pytest.mark.parametrize("stack", STACKS)
def test_every_vpc_logs_all_traffic_to_an_encrypted_log_group(stack: str) -> None:
    rec = recorded(stack)
    for vpc in rec.by_type("aws:ec2/vpc:Vpc"):
        region = vpc.region
        assert region is not None
        (flow,) = only(rec, "aws:ec2/flowLog:FlowLog", region)
        assert flow.property_dependencies["vpcId"] == (vpc.urn,)
        assert flow.inputs["trafficType"] == "ALL"
        assert flow.inputs["logDestinationType"] == "cloud-watch-logs"
        group = rec.named(f"flow-logs-{region}")
        assert flow.property_dependencies["logDestination"] == (group.urn,)
        assert group.inputs["retentionInDays"] == 365
        key = rec.named(f"logs-key-{region}")
        assert group.property_dependencies["kmsKeyId"] == (key.urn,)
        assert group.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{region}:")
        assert key.inputs["enableKeyRotation"] is True
        policy = json.loads(key.inputs["policy"])
        (logs,) = [s for s in policy["Statement"] if s["Sid"] == "CloudWatchLogsEncrypts"]
        assert logs["Principal"] == {"Service": f"logs.{region}.amazonaws.com"}
        prefix = f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/securecart/securecart-{stack}/*"
        assert logs["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": prefix}}
        role = rec.named(f"flow-logs-role-{region}")
        assert flow.property_dependencies["iamRoleArn"] == (role.urn,)
        trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
        assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
        grant = json.loads(rec.named(f"flow-logs-role-policy-{region}").inputs["policy"])
        assert set(grant["Statement"][0]["Action"]) >= {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_a_brought_vpc_gets_its_flow_log_too() -> None:
    monitor = RecordingMonitor(CloudMocks("eu-west-1"))
    pulumi.runtime.set_mocks(
        monitor.mocks, project="securecart-data", stack="unit", preview=False, monitor=monitor
    )

    @pulumi.runtime.test
    def build() -> None:
        RegionalNetwork(
            "network-eu-west-1",
            RegionalNetworkArgs(
                prefix="securecart-dev",
                region="eu-west-1",
                availability_zones=("eu-west-1a", "eu-west-1b", "eu-west-1c"),
                vpc_cidr="10.20.0.0/16",
                app_cidrs=("10.100.0.0/16",),
                existing=ExistingNetwork(
                    vpc_id="vpc-0123456789abcdef0",
                    subnet_ids=("subnet-0000000a", "subnet-0000000b", "subnet-0000000c"),
                ),
            ),
        )

    build()  # returns once every registration is done
    (flow,) = [r for r in monitor.recorded if r.type == "aws:ec2/flowLog:FlowLog"]
    assert flow.inputs["vpcId"] == "vpc-0123456789abcdef0"
    assert flow.inputs["trafficType"] == "ALL" and flow.region == "eu-west-1"
    assert [r for r in monitor.recorded if r.type == "aws:ec2/vpc:Vpc"] == []


@pytest.mark.parametrize("stack", STACKS)
def test_postgres_cluster_parameter_groups_log_ddl(stack: str) -> None:
    for group in recorded(stack).by_type("aws:rds/clusterParameterGroup:ClusterParameterGroup"):
        parameters = {p["name"]: p["value"] for p in group.inputs["parameters"]}
        assert parameters["log_statement"] == "ddl", group.name
        assert parameters["rds.force_ssl"] == "1"


@pytest.mark.parametrize("stack", STACKS)
def test_both_secrets_rotate_through_the_rotation_function(stack: str) -> None:
    rec = recorded(stack)
    anchor = min(rec.outputs["primaryRegion"], rec.outputs["secondaryRegion"])
    code = secret_rotation.__file__
    expected = {
        "aurora-master-secret": (secret_rotation.AURORA, f"securecart-{stack}-aurora"),
        "cache-auth-secret": (secret_rotation.CACHE, f"ldgnf-securecart-{stack}-cache"),
    }
    for name, (kind, target) in expected.items():
        secret = rec.named(name)
        assert secret.region == anchor
        assert secret.inputs["tags"] == {
            secret_rotation.KIND_TAG: kind,
            secret_rotation.TARGET_TAG: target,
        }
        schedule = rec.named(f"{name}-rotation-schedule")
        assert schedule.region == anchor
        assert schedule.property_dependencies["secretId"] == (secret.urn,)
        assert schedule.inputs["rotationRules"] == {"automaticallyAfterDays": 30}
        assert schedule.inputs["rotateImmediately"] is False
        function = rec.named(f"{name}-rotation")
        assert schedule.property_dependencies["rotationLambdaArn"] == (function.urn,)
        assert function.region == anchor and function.inputs["runtime"] == "python3.12"
        assert function.inputs["handler"] == "secret_rotation.handler"
        # the code archive as the engine marshals it: one file, the rotation function, with
        # the SHA-256 of its contents the engine compares assets by
        assert function.inputs["code"]["assets"] == {
            "secret_rotation.py": {
                SIG_KEY: ASSET_SIG,
                "path": code,
                "hash": hashlib.sha256(Path(code).read_bytes()).hexdigest(),
            }
        }
        logs = rec.named(f"{name}-rotation-logs")
        assert logs.inputs["name"].startswith(f"/securecart/securecart-{stack}/secret-rotation/")
        assert logs.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{anchor}:")
        assert function.inputs["loggingConfig"]["logGroup"] == logs.inputs["name"]
        permission = rec.named(f"{name}-rotation-invoke")
        assert permission.inputs["principal"] == "secretsmanager.amazonaws.com"
        assert permission.property_dependencies["sourceArn"] == (secret.urn,)
        policy = json.loads(rec.named(f"{name}-rotation-policy").inputs["policy"])
        by_sid = {s["Sid"]: s for s in policy["Statement"]}
        assert by_sid["RotateThisSecret"]["Resource"].startswith(
            f"arn:aws:secretsmanager:{anchor}:{ACCOUNT}:secret:securecart-{stack}/"
        )
        keys = by_sid["SecretKey"]["Resource"]
        assert sorted(k.split(":")[3] for k in keys) == sorted(
            [rec.outputs["primaryRegion"], rec.outputs["secondaryRegion"]]
        )
        assert "reservedConcurrentExecutions" not in function.inputs
        service = "rds" if kind == secret_rotation.AURORA else "elasticache"
        assert {a.split(":")[0] for a in by_sid["ChangeTheCredential"]["Action"]} == {service}
        assert all(
            f"securecart-{stack}" in r or f"sc-{stack}" in r
            for r in by_sid["ChangeTheCredential"]["Resource"]
        )


@pytest.mark.parametrize("stack", STACKS)
def test_generators_are_pinned_and_pulumi_writes_each_secret_once(stack: str) -> None:
    rec = recorded(stack)
    generators = rec.by_type("random:index/randomPassword:RandomPassword")
    payments = {"payments-master-password"} if "payments" in rec.outputs else set()
    assert {g.name for g in generators} == {"aurora-master-password", "cache-auth-token", *payments}
    for generator in generators:
        assert set(generator.ignore_changes) == set(PINNED_GENERATOR_INPUTS)
    for version in rec.by_type("aws:secretsmanager/secretVersion:SecretVersion"):
        assert version.ignore_changes == ("secretString",)
        assert unwrap(version.inputs["secretString"]) != version.inputs["secretString"]
    # the databases ignore the program's password after creation, so a rotation stays
    assert "masterPassword" in rec.named(f"aurora-{rec.outputs['primaryRegion']}").ignore_changes
    for group in rec.by_type("aws:elasticache/replicationGroup:ReplicationGroup"):
        assert "authToken" in group.ignore_changes
    if payments:
        source = rec.named(f"payments-{rec.outputs['payments']['sourceRegion']}")
        assert "password" in source.ignore_changes
