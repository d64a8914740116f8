"""Advisories: settings of the account (not of the stack) that the plan needs to work.

AWS Backup copies a DynamoDB backup to another region only with "advanced DynamoDB backup"
turned on in the backup's region (AWS Backup, Feature availability by resource; Advanced
DynamoDB backup). That is a Region setting of the account (``UpdateRegionSettings``,
``aws:backup/regionSettings:RegionSettings``), one per account and region, which several stacks
of one account share: a stack manages it only when configured to (``backupManageRegionSettings``).
When a plan copies DynamoDB backups across regions and nothing in the plan turns the setting on
in that region, the copy jobs would fail: the preview cannot see the account, so it says what to
check rather than failing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from preflight.model import RecordedResource

PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"
REGION_SETTINGS = "aws:backup/regionSettings:RegionSettings"
VAULT = "aws:backup/vault:Vault"
DYNAMODB_ARN = "arn:aws:dynamodb:"


def _arn_region(value: Any) -> str | None:
    parts = value.split(":") if isinstance(value, str) and value.startswith("arn:") else []
    return parts[3] if len(parts) > 3 and parts[3] else None


def _copy_regions(plan: RecordedResource, vaults: dict[str, RecordedResource]) -> set[str]:
    """Regions the plan's rules copy recovery points to (from the vault ARN, else the vault)."""
    regions: set[str] = set()
    for rule in plan.inputs.get("rules") or []:
        for action in (rule or {}).get("copyActions") or []:
            region = _arn_region((action or {}).get("destinationVaultArn"))
            if region is not None:
                regions.add(region)
    for urn in plan.property_dependencies.get("rules", ()):
        vault = vaults.get(urn)
        if vault is not None and vault.region is not None:
            regions.add(vault.region)
    return regions - {plan.region} if plan.region else regions


def _advanced_dynamodb(settings: Iterable[RecordedResource], region: str | None) -> bool:
    return any(
        s.region == region
        and (s.inputs.get("resourceTypeOptInPreference") or {}).get("DynamoDB") is True
        and (s.inputs.get("resourceTypeManagementPreference") or {}).get("DynamoDB") is True
        for s in settings
    )


def dynamodb_copy_advisories(resources: Sequence[RecordedResource]) -> Iterator[str]:
    """One line per backup plan that copies DynamoDB backups to another region while nothing in
    the plan turns advanced DynamoDB backup on in the plan's region."""
    vaults = {r.urn: r for r in resources if r.type == VAULT}
    settings = [r for r in resources if r.type == REGION_SETTINGS]
    selections = [r for r in resources if r.type == SELECTION]
    for plan in (r for r in resources if r.type == PLAN):
        targets = _copy_regions(plan, vaults)
        tables = [
            arn
            for s in selections
            if plan.urn in s.property_dependencies.get("planId", ())
            for arn in s.inputs.get("resources") or []
            if isinstance(arn, str) and arn.startswith(DYNAMODB_ARN)
        ]
        if not targets or not tables or _advanced_dynamodb(settings, plan.region):
            continue
        yield (
            f"AWS Backup in {plan.region}: plan {plan.name!r} copies DynamoDB backups"
            f" ({len(tables)} table(s)) to {', '.join(sorted(targets))}; cross-Region copies of"
            " DynamoDB backups need advanced DynamoDB backup, an account setting of each region"
            " that this stack does not manage (backupManageRegionSettings: false). Check it with"
            f" `aws backup describe-region-settings --region {plan.region}`"
            " (ResourceTypeManagementPreference.DynamoDB true), or set"
            " backupManageRegionSettings: true in the one stack of the account that owns it."
        )


def advisories(resources: Sequence[RecordedResource]) -> list[str]:
    """Every account-level advisory of the plan, in plan order."""
    return list(dynamodb_copy_advisories(resources))
