"""What DR drills need from the stack itself: the lease table, and optionally a drill role.

The lease (drills/lease.py): one item per stack in a small DynamoDB table, written with
conditional writes, so that one drill at a time runs on the stack from any machine. Drills
write it in one fixed region of the pair (the alphabetically last; a swap of the writers never
moves it). Like every table of the stack it is a global table encrypted with each region's
DynamoDB key, with point-in-time recovery and deletion protection (the policy pack checks them).

The role (config ``drillsRoleEnabled``): the least-privilege policy of docs/drills-iam.json,
assumable by principals of the stack's own account that are allowed to assume it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.dynamodb import GlobalTable, GlobalTableArgs
from components.settings import AttributeSettings, TableSettings

DRILL_POLICY = Path(__file__).resolve().parents[1] / "docs" / "drills-iam.json"
"""The drill policy document (tested against every AWS call in drills/)."""


@dataclass(frozen=True, kw_only=True)
class DrillAccessArgs:
    """Inputs of :class:`DrillAccess`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-dev``."""
    regions: tuple[str, str]
    """The stack's region pair (either order)."""
    key_arns: Mapping[str, pulumi.Input[str]]
    """DynamoDB CMK per region (the lease table uses its own region's key)."""
    account_id: pulumi.Input[str]
    """The stack's account: the role trusts only its principals."""
    role_enabled: bool = False
    """Create the drill role (``drillsRoleEnabled``)."""


class DrillAccess(pulumi.ComponentResource):
    """The drill lease table, and the drill role when enabled."""

    lease: dict[str, pulumi.Input[str]]
    """Stack output ``drillLease``: ``{"tableName", "region"}``."""
    role_arn: pulumi.Output[str] | None
    """The drill role's ARN (None when not enabled)."""

    def __init__(
        self, name: str, args: DrillAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:drills:DrillAccess", name, None, opts)
        region = sorted(args.regions)[-1]
        anchor = sorted(args.regions)[0]
        # A global table like every table of the stack (the pack demands a replica, PITR, the
        # region's CMK and backup coverage of every table). Drills write the lease only in
        # `region`, so its conditional writes are evaluated in one place; the replica is a copy.
        self.table = GlobalTable(
            "table-drill-lease",
            GlobalTableArgs(
                prefix=args.prefix,
                table=TableSettings(
                    name="drill-lease",
                    hash_key="stack",
                    attributes=(AttributeSettings(name="stack", type="S"),),
                ),
                home_region=anchor,
                replica_region=region,
                key_arns=args.key_arns,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.lease = {"tableName": self.table.table_name, "region": region}
        self.role_arn = None
        if args.role_enabled:
            trust = pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                )
            )
            role = aws.iam.Role(
                "drill-role",
                name=f"{args.prefix}-drill",
                description="DR drills (python -m drills): docs/drills-iam.md",
                assume_role_policy=trust,
                max_session_duration=21600,  # the drill workflow's whole job (356 minutes)
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.iam.RolePolicy(
                "drill-role-policy",
                role=role.id,
                policy=DRILL_POLICY.read_text(encoding="utf-8"),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.role_arn = role.arn
        self.register_outputs({"lease": self.lease, "role_arn": self.role_arn})
