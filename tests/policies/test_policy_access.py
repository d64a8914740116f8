"""Edges of the access and hardening rules the single-property mutations do not reach: the
documents and settings that must pass (pinned conditions, actions without resource-level
permissions, private zones, zones with query logs)."""

from __future__ import annotations

import json
from typing import Any

from policies import RULES_BY_NAME
from policies import access as ac
from policies import hardening as hd
from policies._values import Res, StackView


def _res(type_token: str, props: dict[str, Any], name: str = "r") -> Res:
    return Res(
        type=type_token, name=name, urn=f"urn:pulumi:s::p::{type_token}::{name}", props=props
    )


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_least_privilege_allows_star_resource_for_actions_without_resource_level() -> None:
    rule = RULES_BY_NAME["iam-policy-least-privilege"]
    ok = _doc(
        {"Effect": "Allow", "Action": "secretsmanager:GetRandomPassword", "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:1:key/k"},
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": "logs:Put*", "Resource": "*"},
    )
    assert rule.evaluate(_res(ac.IAM_ROLE_POLICY, {"policy": ok})) == []
    bad = _doc({"Effect": "Allow", "Action": "kms:ReEncryptFrom", "Resource": ["*"]})
    (message,) = rule.evaluate(_res(ac.IAM_POLICY, {"policy": bad}))
    assert "policy.Statement[0].Resource" in message and "every KMS key" in message


def test_public_principals_pass_only_when_a_condition_names_the_caller() -> None:
    rule = RULES_BY_NAME["sns-topic-policy-not-public"]
    pinned = _doc(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sns:Publish",
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    )
    if_exists = _doc(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sns:Publish",
            "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}},
        }
    )
    assert rule.evaluate(_res(ac.SNS_TOPIC_POLICY, {"policy": pinned})) == []
    assert len(rule.evaluate(_res(ac.SNS_TOPIC_POLICY, {"policy": if_exists}))) == 1
    trust = RULES_BY_NAME["iam-trust-policy-no-public-principal"]
    service = _doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    assert trust.evaluate(_res(ac.IAM_ROLE, {"assumeRolePolicy": service})) == []


def test_lambda_permission_star_needs_an_account_and_services_need_a_source() -> None:
    rule = RULES_BY_NAME["lambda-permission-not-public"]
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"

    def check(**props: Any) -> list[str]:
        return rule.evaluate(
            _res(ac.LAMBDA_PERMISSION, {"action": "lambda:InvokeFunction", **props})
        )

    assert check(principal="*", sourceAccount="123456789012") == []
    assert len(check(principal="*", sourceArn="arn:aws:s3:::bucket")) == 1
    assert check(principal="secretsmanager.amazonaws.com", sourceArn=arn) == []
    assert check(principal="secretsmanager.amazonaws.com", sourceAccount="123456789012") == []
    assert check(principal="123456789012") == []


def test_query_logging_judges_public_zones_and_accepts_a_query_log() -> None:
    rule = RULES_BY_NAME["route53-public-zone-query-logging"]
    private = _res(hd.ROUTE53_ZONE, {"name": "a.internal", "vpcs": [{"vpcId": "vpc-1"}]}, "p")
    public = _res(hd.ROUTE53_ZONE, {"name": "a.example", "zoneId": "Z123"}, "pub")
    assert rule.evaluate_stack(StackView([private])) == []
    ((message, urn),) = rule.evaluate_stack(StackView([private, public]))
    assert urn == public.urn and "QueryLog" in message
    log = _res(hd.ROUTE53_QUERY_LOG, {"zoneId": "Z123", "cloudwatchLogGroupArn": "arn"}, "q")
    assert rule.evaluate_stack(StackView([public, log])) == []


def test_runtime_rule_ignores_container_images() -> None:
    rule = RULES_BY_NAME["lambda-supported-runtime"]
    assert rule.evaluate(_res("aws:lambda/function:Function", {"packageType": "Image"})) == []
    (message,) = rule.evaluate(_res("aws:lambda/function:Function", {"runtime": "go1.x"}))
    assert "runtime" in message and "go1.x" in message
