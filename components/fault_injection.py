"""AWS FIS experiment templates that impair a region's data tier for applications (drills).

With ``drillsFaultInjection`` on, each region of the pair (either can be the primary) gets one
experiment template: ``aws:network:disrupt-connectivity`` with ``scope: all`` on the stack's data
subnets, which FIS implements by swapping the subnets' network ACL association for a deny-all ACL
it creates (tagged ``managedByFIS=true``) and restoring it when the action ends (AWS FIS User
Guide, "Actions reference", Network actions). Applications lose the region's Aurora writer and
cache endpoints while AWS's own replication keeps running: the honest version of "the primary
region is lost" for the unplanned-failover drill (issue 17 item 4), which starts the experiment,
journals its id, and stops it on rollback.

The experiment bounds itself: the action lasts :data:`FAULT_DURATION` even if the drill dies, and
its stop conditions are the region's alarms the fault does not set off itself (FIS stops the
experiment when one goes to ALARM: User Guide, "Stop conditions for AWS FIS"). The FIS role may
only manage FIS-tagged network ACLs and swap subnet associations in the stack's account and
regions (least privilege; the actions FIS documents for this action).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

FAULT_ACTION = "aws:network:disrupt-connectivity"
FAULT_DURATION = "PT30M"
"""ISO 8601 (FIS: one minute to 12 hours). Longer than a drill's failover and verification;
the drill stops the experiment itself before the rebuild, this only bounds a dead drill."""
MAX_STOP_CONDITIONS = 5
"""FIS quota "Stop conditions per experiment template" (User Guide, "Quotas and limitations")."""
FAULT_ALARM_KEYS = ("aurora-health", "aurora-replication-lag", "cache-health-", "cache-role-")
"""Alarm keys (``<prefix>-<key>-<region>``, components/monitoring.py) the fault or the failover
sets off on purpose: never stop conditions (they would end the experiment at once)."""


@dataclass(frozen=True, kw_only=True)
class FaultInjectionArgs:
    """Inputs of :class:`FaultInjection`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-dev``."""
    regions: tuple[str, str]
    """The stack's region pair: a template in each (either can be the primary)."""
    account_id: pulumi.Input[str]
    """The stack's account (ARNs, the role's trust condition)."""
    subnet_ids: Mapping[str, pulumi.Input[Sequence[str]]]
    """Data subnets per region (RegionalNetwork.subnet_ids): the fault's targets."""
    alarm_names: Mapping[str, Sequence[str]]
    """The stack's alarms per region (Monitoring.alarm_names): stop-condition candidates."""


def stop_alarms(alarm_names: Sequence[str]) -> list[str]:
    """The alarms (at most :data:`MAX_STOP_CONDITIONS`, in the stack's order) that stop an
    experiment in their region: every one the fault does not set off itself."""
    keep = [n for n in alarm_names if not any(f"-{key}" in n for key in FAULT_ALARM_KEYS)]
    return keep[:MAX_STOP_CONDITIONS]


def fis_role_policy(account: str, regions: Sequence[str]) -> str:
    """What FIS needs to run ``aws:network:disrupt-connectivity`` (the EC2 permissions of the
    AWS managed policy AWSFaultInjectionSimulatorNetworkAccess for network ACLs), scoped to
    this account and the pair's regions; creating and deleting only FIS-tagged ACLs."""

    def arns(kind: str) -> list[str]:
        return [f"arn:aws:ec2:{r}:{account}:{kind}/*" for r in regions]

    tagged = {"StringEquals": {"aws:RequestTag/managedByFIS": "true"}}
    statements = [
        {
            "Sid": "CreateTaggedNetworkAcl",
            "Effect": "Allow",
            "Action": "ec2:CreateNetworkAcl",
            "Resource": arns("network-acl"),
            "Condition": tagged,
        },
        {
            "Sid": "CreateNetworkAclInVpc",
            "Effect": "Allow",
            "Action": "ec2:CreateNetworkAcl",
            "Resource": arns("vpc"),
        },
        {
            "Sid": "TagNetworkAclOnCreate",
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": arns("network-acl"),
            "Condition": {
                "StringEquals": {
                    "ec2:CreateAction": "CreateNetworkAcl",
                    "aws:RequestTag/managedByFIS": "true",
                }
            },
        },
        {
            "Sid": "ManageFisNetworkAcl",
            "Effect": "Allow",
            "Action": ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"],
            "Resource": [*arns("network-acl"), *arns("vpc")],
            "Condition": {"StringEquals": {"ec2:ResourceTag/managedByFIS": "true"}},
        },
        {
            "Sid": "SwapSubnetAcl",
            "Effect": "Allow",
            "Action": "ec2:ReplaceNetworkAclAssociation",
            "Resource": [*arns("subnet"), *arns("network-acl")],
        },
        {
            # Describe/Get calls support no resource-level permissions (Service Authorization
            # Reference, Amazon EC2): "*", limited to the pair's regions
            "Sid": "ReadNetwork",
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeManagedPrefixLists",
                "ec2:DescribeNetworkAcls",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcs",
                "ec2:GetManagedPrefixListEntries",
            ],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": list(regions)}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def fis_trust_policy(account: str) -> str:
    """FIS may assume the role only for experiments of this account (the confused-deputy
    conditions of the FIS User Guide, "Set up the IAM role for the experiment")."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "fis.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account},
                        "ArnLike": {"aws:SourceArn": f"arn:aws:fis:*:{account}:experiment/*"},
                    },
                }
            ],
        },
        sort_keys=True,
    )


def _arns_of(region: str, kind: str) -> Callable[[list[Any]], list[str]]:
    """``[account, [ids...]]`` -> the ARNs of those subnets or CloudWatch alarms in ``region``."""

    def arns(values: list[Any]) -> list[str]:
        account, ids = str(values[0]), [str(i) for i in values[1]]
        if kind == "alarm":
            return [f"arn:aws:cloudwatch:{region}:{account}:alarm:{i}" for i in ids]
        return [f"arn:aws:ec2:{region}:{account}:{kind}/{i}" for i in ids]

    return arns


class FaultInjection(pulumi.ComponentResource):
    """One FIS experiment template per region and the role FIS runs them with."""

    template_ids: dict[str, pulumi.Output[str]]
    """Stack output ``faultInjectionTemplates``: region -> experiment template id."""

    def __init__(
        self, name: str, args: FaultInjectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:drills:FaultInjection", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = pulumi.Output.from_input(args.account_id)
        role = aws.iam.Role(
            "fault-injection-role",
            name=f"{args.prefix}-fis",
            description="AWS FIS runs the drills' network-disruption experiments with this role",
            assume_role_policy=account.apply(fis_trust_policy),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            "fault-injection-role-policy",
            role=role.id,
            policy=account.apply(lambda a: fis_role_policy(a, args.regions)),
            opts=child,
        )
        self.template_ids = {}
        for region in args.regions:
            subnet_arns = pulumi.Output.all(account, args.subnet_ids[region]).apply(
                _arns_of(region, "subnet")
            )
            alarm_arns = pulumi.Output.all(
                account, stop_alarms(args.alarm_names.get(region, ()))
            ).apply(_arns_of(region, "alarm"))
            stop_conditions: pulumi.Output[Any] = alarm_arns.apply(
                lambda arns: (
                    [{"source": "aws:cloudwatch:alarm", "value": a} for a in arns]
                    or [{"source": "none"}]
                )
            )
            template = aws.fis.ExperimentTemplate(
                f"fault-{region}",
                region=region,
                description=f"{args.prefix}: cut the data subnets of {region} off the network",
                # the policy must be in place before an experiment can use the role
                role_arn=pulumi.Output.all(role.arn, policy.id).apply(lambda v: str(v[0])),
                targets=[
                    aws.fis.ExperimentTemplateTargetArgs(
                        name="data-subnets",
                        resource_type="aws:ec2:subnet",
                        selection_mode="ALL",
                        resource_arns=subnet_arns,
                    )
                ],
                actions=[
                    aws.fis.ExperimentTemplateActionArgs(
                        name="disrupt-data-subnets",
                        action_id=FAULT_ACTION,
                        parameters=[
                            aws.fis.ExperimentTemplateActionParameterArgs(
                                key="duration", value=FAULT_DURATION
                            ),
                            aws.fis.ExperimentTemplateActionParameterArgs(key="scope", value="all"),
                        ],
                        target=aws.fis.ExperimentTemplateActionTargetArgs(
                            key="Subnets", value="data-subnets"
                        ),
                    )
                ],
                stop_conditions=stop_conditions,
                experiment_options=aws.fis.ExperimentTemplateExperimentOptionsArgs(
                    account_targeting="single-account", empty_target_resolution_mode="fail"
                ),
                opts=child,
            )
            self.template_ids[region] = template.id
        self.register_outputs({"template_ids": self.template_ids})
