"""The FIS experiment templates of ``drillsFaultInjection`` (issue 17 item 4): off by default;
when on, one template per region that cuts that region's data subnets off the network
(aws:network:disrupt-connectivity, scope all), run with a role FIS alone may assume for this
account's experiments, stopped by the region's alarms the fault does not set off itself."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from components.fault_injection import stop_alarms
from components.settings import ConfigError, load_settings
from policies import RULES_BY_NAME
from policies._values import Res
from preflight.config import load_stack_config
from tests.support.stacks import only, recorded, unwrap

TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
ACCOUNT = "123456789012"  # the account Pulumi's mocks answer GetCallerIdentity with


def test_off_by_default() -> None:
    rec = recorded("dev")  # every stack file leaves drillsFaultInjection unset
    assert not only(rec, TEMPLATE)
    assert "faultInjectionTemplates" not in rec.outputs


def test_bad_value_names_the_key() -> None:
    raw: dict[str, Any] = copy.deepcopy(load_stack_config("dev").project_values())
    raw["drillsFaultInjection"] = "sometimes"
    with pytest.raises(ConfigError, match=r"'drillsFaultInjection' has value 'sometimes'"):
        load_settings(raw)


def test_one_template_per_region_on_its_data_subnets() -> None:
    rec = recorded("dev", "drillsFaultInjection=true")
    templates = {r.region: r for r in only(rec, TEMPLATE)}
    assert set(templates) == {"us-east-1", "us-west-2"}
    assert set(rec.outputs["faultInjectionTemplates"]) == set(templates)
    for region, template in templates.items():
        inputs = unwrap(template.inputs)
        [target] = inputs["targets"]
        subnets = only(rec, "aws:ec2/subnet:Subnet", region)
        assert len(subnets) == 3
        assert target["resourceType"] == "aws:ec2:subnet" and target["selectionMode"] == "ALL"
        # every data subnet of that region, by ARN, and nothing else
        assert len(target["resourceArns"]) == 3
        assert all(
            a.startswith(f"arn:aws:ec2:{region}:{ACCOUNT}:subnet/") for a in target["resourceArns"]
        )
        [action] = inputs["actions"]
        assert action["actionId"] == "aws:network:disrupt-connectivity"
        assert {p["key"]: p["value"] for p in action["parameters"]} == {
            "duration": "PT30M",
            "scope": "all",
        }
        assert action["target"] == {"key": "Subnets", "value": "data-subnets"}
        stops = [s["value"] for s in inputs["stopConditions"]]
        assert 1 <= len(stops) <= 5  # FIS quota: 5 stop conditions per template
        for arn in stops:
            assert arn.startswith(f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:securecart-dev-")
            assert arn.endswith(f"-{region}")
            # never an alarm the fault itself (or the failover it causes) sets off
            assert "-aurora-health-" not in arn and "-cache-health-" not in arn
            assert "-aurora-replication-lag-" not in arn
        assert inputs["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/securecart-dev-fis"


def test_the_fis_role_is_least_privilege_and_trusts_fis_for_this_account() -> None:
    rec = recorded("dev", "drillsFaultInjection=true")
    [role] = [r for r in only(rec, "aws:iam/role:Role") if r.name == "fault-injection-role"]
    trust = json.loads(unwrap(role.inputs)["assumeRolePolicy"])
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Service": "fis.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    [policy] = [
        r for r in only(rec, "aws:iam/rolePolicy:RolePolicy") if r.name.startswith("fault-")
    ]
    document = json.loads(unwrap(policy.inputs)["policy"])
    actions = {
        a
        for s in document["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    # the EC2 calls FIS makes for aws:network:disrupt-connectivity (FIS actions reference)
    assert actions == {
        "ec2:CreateNetworkAcl",
        "ec2:CreateNetworkAclEntry",
        "ec2:CreateTags",
        "ec2:DeleteNetworkAcl",
        "ec2:ReplaceNetworkAclAssociation",
        "ec2:DescribeManagedPrefixLists",
        "ec2:DescribeNetworkAcls",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
        "ec2:GetManagedPrefixListEntries",
    }
    deleting = next(s for s in document["Statement"] if "ec2:DeleteNetworkAcl" in s["Action"])
    assert deleting["Condition"] == {"StringEquals": {"ec2:ResourceTag/managedByFIS": "true"}}
    for resource in (role, policy):
        res = Res(
            type=resource.type, name=resource.name, urn=resource.urn, props=unwrap(resource.inputs)
        )
        for rule in ("iam-policy-least-privilege", "iam-trust-policy-no-public-principal"):
            assert RULES_BY_NAME[rule].evaluate(res) == [], rule


def test_stop_alarms_skip_what_the_fault_sets_off_and_keep_the_quota() -> None:
    names = [
        "p-aurora-cpu-r",
        "p-aurora-replication-lag-r",
        "p-aurora-health-r",
        "p-aurora-memory-a-r",
        "p-cache-health-001-r",
        "p-ddb-carts-replication-latency-r",
        "p-ddb-carts-read-throttles-r",
        "p-ddb-carts-write-throttles-r",
        "p-ddb-sessions-read-throttles-r",
    ]
    assert stop_alarms(names) == [
        "p-aurora-cpu-r",
        "p-aurora-memory-a-r",
        "p-ddb-carts-replication-latency-r",
        "p-ddb-carts-read-throttles-r",
        "p-ddb-carts-write-throttles-r",
    ]
