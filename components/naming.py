"""Names and placement shared by every component.

Regional resources are named by region, never by role: swapping primaryRegion and
secondaryRegion after a failover must leave every URN (and so every stateful resource) intact.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

# Three AZs per region, given explicitly: Aurora's ``availabilityZones`` and subnets must not be
# left to AWS (it picks three itself and the provider then shows a perpetual diff that replaces
# the cluster). Letters follow what new accounts get (ca-central-1 has no "c", ap-northeast-1
# no "b").
REGION_AZS: Mapping[str, tuple[str, str, str]] = {
    "us-east-1": ("us-east-1a", "us-east-1b", "us-east-1c"),
    "us-east-2": ("us-east-2a", "us-east-2b", "us-east-2c"),
    "us-west-2": ("us-west-2a", "us-west-2b", "us-west-2c"),
    "ca-central-1": ("ca-central-1a", "ca-central-1b", "ca-central-1d"),
    "eu-west-1": ("eu-west-1a", "eu-west-1b", "eu-west-1c"),
    "eu-west-2": ("eu-west-2a", "eu-west-2b", "eu-west-2c"),
    "eu-west-3": ("eu-west-3a", "eu-west-3b", "eu-west-3c"),
    "eu-central-1": ("eu-central-1a", "eu-central-1b", "eu-central-1c"),
    "eu-north-1": ("eu-north-1a", "eu-north-1b", "eu-north-1c"),
    "ap-south-1": ("ap-south-1a", "ap-south-1b", "ap-south-1c"),
    "ap-southeast-1": ("ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"),
    "ap-southeast-2": ("ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"),
    "ap-northeast-1": ("ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"),
    "ap-northeast-2": ("ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"),
    "sa-east-1": ("sa-east-1a", "sa-east-1b", "sa-east-1c"),
}


def prefix(environment: str) -> str:
    """Physical-name prefix shared by every resource of one stack."""
    return f"securecart-{environment}"


def other(region: str, regions: tuple[str, str]) -> str:
    """The region of the pair that is not ``region``."""
    first, second = regions
    return second if region == first else first


def assume_role_policy(service: str) -> str:
    """Trust policy letting one AWS service principal assume a role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def account_trust_policy(service: str, account_id: str) -> str:
    """Trust policy letting one AWS service principal assume a role for ``account_id`` only.

    The ``aws:SourceAccount`` condition is the confused-deputy guard (the VPC flow logs IAM role
    page shows it for ``vpc-flow-logs.amazonaws.com``; IAM User Guide, "The confused deputy
    problem").
    """
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        },
        sort_keys=True,
    )
