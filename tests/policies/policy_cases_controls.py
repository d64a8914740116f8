"""Cases of the rules added for issue 19 (access.py, hardening.py): the single-property changes
that make each fire, written by type so they also break the recorded stacks' own resources."""

from __future__ import annotations

import json
from typing import Any

from policies import access as ac
from policies import hardening as hd
from policies import resource_types as t
from tests.policies.mutations import PRIMARY_CLUSTER, Case, Override
from tests.policies.policy_support import DELETE, Mutation

M = Mutation


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:sc/aurora/master-abc123"
_ALL_KMS = _doc({"Effect": "Allow", "Action": "kms:*", "Resource": "*"})
_STAR = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
_NOT_ACTION = _doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
_DECRYPT_ALL = _doc(
    {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}
)
_DECRYPT_ALL_KEYS = _doc(
    {
        "Effect": "Allow",
        "Action": "kms:Decrypt*",
        "Resource": "arn:aws:kms:us-east-1:123456789012:key/*",
    }
)
_TRUST_ANYONE = _doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
_TRUST_ANY_IP = _doc(
    {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "sts:AssumeRole",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    }
)
_TOPIC_PUBLIC = _doc(
    {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "*"}
)
_SSH_WORLD = {"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": ["0.0.0.0/0"]}
_ALL_V6 = {"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "ipv6CidrBlocks": ["::/0"]}
_OPEN_EGRESS = [{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"]}]
_SELF_INGRESS = [{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "self": True}]

CONTROL_CASES: dict[str, Case] = {
    "iam-policy-least-privilege": Case(
        (
            M(ac.IAM_ROLE_POLICY, "policy", _STAR, expect="Statement[0].Action"),
            M(ac.IAM_ROLE_POLICY, "policy", _ALL_KMS, expect="kms:*"),
            M(ac.IAM_ROLE_POLICY, "policy", _NOT_ACTION, expect="NotAction"),
            M(ac.IAM_ROLE_POLICY, "policy", _DECRYPT_ALL, expect="every KMS key"),
            M(ac.IAM_ROLE_POLICY, "policy", _DECRYPT_ALL_KEYS, expect="key/*"),
            M(
                ac.IAM_ROLE,
                "inlinePolicies",
                [{"name": "all", "policy": _STAR}],
                expect="inlinePolicies[0].policy",
            ),
        )
    ),
    "iam-trust-policy-no-public-principal": Case(
        (
            M(ac.IAM_ROLE, "assumeRolePolicy", _TRUST_ANYONE, expect="without a Condition"),
            M(ac.IAM_ROLE, "assumeRolePolicy", _TRUST_ANY_IP, expect="does not name the caller"),
        )
    ),
    "lambda-permission-not-public": Case(
        (
            M(ac.LAMBDA_PERMISSION, "principal", "*"),
            M(ac.LAMBDA_PERMISSION, "sourceArn", DELETE),
        )
    ),
    "sns-topic-policy-not-public": Case(
        (M(t.SNS_TOPIC, "policy", _TOPIC_PUBLIC, expect="policy.Statement[0].Principal"),),
    ),
    "lambda-supported-runtime": Case(
        (
            M(t.LAMBDA_FUNCTION, "runtime", "python3.8"),
            M(t.LAMBDA_FUNCTION, "runtime", "nodejs16.x"),
        ),
        (
            Override({"allowedRuntimes": ["python3.13"]}),
            Override(
                {"allowedRuntimes": ["python3.12", "python3.8"]},
                M(t.LAMBDA_FUNCTION, "runtime", "python3.8"),
                fires=False,
            ),
        ),
    ),
    "rds-custom-admin-username": Case(
        (
            M(t.RDS_CLUSTER, "masterUsername", "postgres", where=PRIMARY_CLUSTER),
            M(t.RDS_CLUSTER, "masterUsername", "Admin", where=PRIMARY_CLUSTER),
        ),
        (
            Override(
                {"defaultNames": ["root"]},
                M(t.RDS_CLUSTER, "masterUsername", "postgres", where=PRIMARY_CLUSTER),
                fires=False,
            ),
        ),
    ),
    # Every recorded group is a global datastore member, where AWS keeps the setting off: true
    # or the provider's default (true) is the violation there.
    "elasticache-auto-minor-version-upgrade": Case(
        (
            M(t.CACHE_REPLICATION_GROUP, "autoMinorVersionUpgrade", True),
            M(t.CACHE_REPLICATION_GROUP, "autoMinorVersionUpgrade", DELETE),
        )
    ),
    "subnet-no-public-ip": Case(
        (
            M(hd.SUBNET, "mapPublicIpOnLaunch", True),
            M(hd.SUBNET, "assignIpv6AddressOnCreation", True),
        )
    ),
    "default-security-group-closed": Case(
        (
            M(t.DEFAULT_SECURITY_GROUP, "egress", _OPEN_EGRESS),
            M(t.DEFAULT_SECURITY_GROUP, "ingress", _SELF_INGRESS),
        )
    ),
    "security-group-high-risk-ports": Case(
        (
            M(t.SECURITY_GROUP, "ingress.0", _SSH_WORLD, expect="ingress[0].cidrBlocks"),
            M(
                t.SECURITY_GROUP,
                "ingress.0",
                _ALL_V6,
                expect="ingress[0].ipv6CidrBlocks",
                exact=False,  # every port, so the data ports too (security-group-data-ingress)
            ),
        ),
        (
            Override(
                {"ports": [2222]},
                M(t.SECURITY_GROUP, "ingress.0", _SSH_WORLD),
                fires=False,
            ),
        ),
    ),
    "route53-public-zone-query-logging": Case(
        (M(hd.ROUTE53_ZONE, "vpcs", DELETE, expect="QueryLog"),)
    ),
}
