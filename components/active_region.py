"""The active-region setting: where applications write DynamoDB global tables.

Global tables accept writes in every replica region, so nothing in DynamoDB itself says which
region applications should write in. Writing in one region at a time avoids last-writer-wins
conflicts between regions (AWS "Global tables: how it works", conflict resolution). This
component owns that choice as an SSM parameter with the same name in both regions, so an
application reads it from its own region even when the other one is down (Parameter Store is a
regional service). Its value follows ``primaryRegion``; the ``dynamodb-evacuation`` drill moves
it to the other region and back, and a region swap moves it with the writers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True, kw_only=True)
class ActiveRegionSettingArgs:
    """Inputs of :class:`ActiveRegionSetting`."""

    environment: str
    """Environment of the stack; part of the parameter name."""
    regions: tuple[str, str]
    """(primary, secondary): the value is the primary; a parameter lives in each."""


class ActiveRegionSetting(pulumi.ComponentResource):
    """``/securecart/<environment>/dynamodb/active-region`` in both regions, naming the primary.

    A Standard-tier String parameter (free, no KMS key needed: a region name is not secret).
    ``allowed_pattern`` admits only the two regions of the pair (sorted, so a swap leaves it
    unchanged): a typo by an operator is refused by SSM instead of sending writes nowhere.
    """

    parameter_name: str
    """Name of the parameter (the same in both regions)."""
    parameter_arns: dict[str, pulumi.Output[str]]
    """Parameter ARN per region."""

    def __init__(
        self, name: str, args: ActiveRegionSettingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:routing:ActiveRegionSetting", name, None, opts)
        primary = args.regions[0]
        self.parameter_name = f"/securecart/{args.environment}/dynamodb/active-region"
        pattern = "^(" + "|".join(sorted(args.regions)) + ")$"
        self.parameter_arns = {}
        # Named by region, never by role: a swap of the regions changes only the value.
        for region in sorted(args.regions):
            parameter = aws.ssm.Parameter(
                f"active-region-{region}",
                region=region,
                name=self.parameter_name,
                description="Region applications write DynamoDB global tables in (moved by DR drills)",
                type="String",
                tier="Standard",
                allowed_pattern=pattern,
                # insecure_value, not value: the SDK marks `value` secret, and a region name
                # is not (a secret value would be masked wherever the region appears).
                insecure_value=primary,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.parameter_arns[region] = parameter.arn
        self.register_outputs(
            {"parameter_name": self.parameter_name, "parameter_arns": self.parameter_arns}
        )
