"""AWS Backup: an encrypted vault in each region and plans that copy to the other region."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import assume_role_policy, other
from components.settings import BackupSettings

# AWS Backup's Region settings (UpdateRegionSettings), one per account and region. Opting a
# resource type in only lets a backup plan select resources of that type, so the map opts in
# every type the pinned provider documents (pulumi-aws RegionSettings example): the provider
# reads the whole map back, and a map naming only Aurora and DynamoDB would diff after every
# refresh (components/day_two.py). Full management for DynamoDB ("advanced DynamoDB backup") is
# what a cross-Region copy of a DynamoDB backup needs (AWS Backup, Feature availability by
# resource: https://docs.aws.amazon.com/aws-backup/latest/devguide/backup-feature-availability.html
# #features-by-resource; Advanced DynamoDB backup:
# https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html). The other
# types of the management map are listed as the pinned provider's example lists them, so the
# map read back equals this one.
OPT_IN_RESOURCE_TYPES = (
    "Aurora",
    "CloudFormation",
    "DocumentDB",
    "DSQL",
    "DynamoDB",
    "EBS",
    "EC2",
    "EFS",
    "FSx",
    "Neptune",
    "RDS",
    "Redshift",
    "Redshift Serverless",
    "S3",
    "SAP HANA on Amazon EC2",
    "Storage Gateway",
    "VirtualMachine",
)
FULL_MANAGEMENT = {"CloudFormation": True, "DSQL": True, "DynamoDB": True, "EFS": True}


@dataclass(frozen=True, kw_only=True)
class CrossRegionBackupArgs:
    """Inputs of :class:`CrossRegionBackup`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-dev``."""
    regions: tuple[str, str]
    """The region pair; each backs up its own data stores and copies to the other."""
    settings: BackupSettings
    """Schedule and retention."""
    key_arns: Mapping[str, pulumi.Input[str]]
    """Vault CMK per region."""
    resources: Mapping[str, Sequence[pulumi.Input[str]]]
    """ARNs to protect per region (the Aurora cluster and the table replicas there)."""


class CrossRegionBackup(pulumi.ComponentResource):
    """Daily recovery points kept beside the data and copied across regions, so losing a whole
    region (or a whole global database, which replicates deletes too) still leaves backups."""

    vault_arns: dict[str, pulumi.Output[str]]
    """Vault per region."""
    plan_ids: dict[str, pulumi.Output[str]]
    """Backup plan per region."""
    region_settings_managed: bool
    """Whether this stack manages AWS Backup's Region settings in both regions."""

    def __init__(
        self, name: str, args: CrossRegionBackupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:backup:CrossRegionBackup", name, None, opts)
        s = args.settings
        role = aws.iam.Role(
            "backup-role",
            name=f"{args.prefix}-backup",
            description="Lets AWS Backup back up and restore the SecureCart data tier",
            assume_role_policy=assume_role_policy("backup.amazonaws.com"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"backup-role-{kind}",
                role=role.name,
                policy_arn=f"arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyFor{kind.title()}",
                opts=pulumi.ResourceOptions(parent=self),
            )
            for kind in ("backup", "restores")
        ]
        self.region_settings_managed = s.manage_region_settings
        region_settings: dict[str, aws.backup.RegionSettings] = {}
        if s.manage_region_settings:
            for region in args.regions:
                region_settings[region] = aws.backup.RegionSettings(
                    f"backup-region-settings-{region}",
                    region=region,
                    resource_type_opt_in_preference=dict.fromkeys(OPT_IN_RESOURCE_TYPES, True),
                    resource_type_management_preference=FULL_MANAGEMENT,
                    opts=pulumi.ResourceOptions(parent=self),
                )
        self.vault_arns = {}
        vaults: dict[str, aws.backup.Vault] = {}
        for region in args.regions:
            vaults[region] = aws.backup.Vault(
                f"backup-vault-{region}",
                region=region,
                name=f"{args.prefix}-data-{region}",
                kms_key_arn=args.key_arns[region],
                force_destroy=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.vault_arns[region] = vaults[region].arn
        self.plan_ids = {}
        for region in args.regions:
            target = other(region, args.regions)
            plan = aws.backup.Plan(
                f"backup-plan-{region}",
                region=region,
                name=f"{args.prefix}-data-{region}",
                rules=[
                    aws.backup.PlanRuleArgs(
                        rule_name="daily-with-cross-region-copy",
                        target_vault_name=vaults[region].name,
                        schedule=s.schedule,
                        start_window=60,
                        completion_window=360,
                        lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=s.retention_days),
                        copy_actions=[
                            aws.backup.PlanRuleCopyActionArgs(
                                destination_vault_arn=vaults[target].arn,
                                lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                                    delete_after=s.copy_retention_days
                                ),
                            )
                        ],
                        recovery_point_tags={"CopiedTo": target},
                    )
                ],
                # Without the Region settings here, the stack acknowledges that the account owns
                # them (policy backup-dynamodb-copy-region-settings; preflight says what to check).
                tags=None if s.manage_region_settings else {"BackupRegionSettings": "account"},
                # Copies of DynamoDB backups need advanced DynamoDB backup in this region first.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[region_settings[region]] if region in region_settings else [],
                ),
            )
            aws.backup.Selection(
                f"backup-selection-{region}",
                region=region,
                name=f"{args.prefix}-data-{region}",
                plan_id=plan.id,
                iam_role_arn=role.arn,
                resources=list(args.resources[region]),
                opts=pulumi.ResourceOptions(parent=self, depends_on=attachments),
            )
            self.plan_ids[region] = plan.id
        self.register_outputs({"vault_arns": self.vault_arns, "plan_ids": self.plan_ids})
