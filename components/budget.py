"""Cost controls: a monthly budget for the stack, filtered by its cost-allocation tags."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.settings import BudgetSettings


@dataclass(frozen=True, kw_only=True)
class CostBudgetArgs:
    """Inputs of :class:`CostBudget`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-dev``."""
    stack_tag: str
    """Value of the Stack tag every resource of this stack carries (one tag identifies the
    stack: a budget's tag filter ORs its values, it cannot AND Project with Environment)."""
    settings: BudgetSettings
    """Limit, thresholds and recipients."""


class CostBudget(pulumi.ComponentResource):
    """A monthly COST budget scoped by the Stack tag (activate it as a
    cost-allocation tag in Billing once per account), alerting on actual spend at each
    threshold and on forecast spend at the last one."""

    budget_name: str
    """Name of the budget."""

    def __init__(
        self, name: str, args: CostBudgetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:cost:CostBudget", name, None, opts)
        s = args.settings
        self.budget_name = f"{args.prefix}-data-tier"
        notifications = [
            aws.budgets.BudgetNotificationArgs(
                comparison_operator="GREATER_THAN",
                notification_type="ACTUAL",
                threshold=threshold,
                threshold_type="PERCENTAGE",
                subscriber_email_addresses=list(s.alert_emails),
            )
            for threshold in s.thresholds_percent
        ]
        notifications.append(
            aws.budgets.BudgetNotificationArgs(
                comparison_operator="GREATER_THAN",
                notification_type="FORECASTED",
                threshold=max(s.thresholds_percent),
                threshold_type="PERCENTAGE",
                subscriber_email_addresses=list(s.alert_emails),
            )
        )
        aws.budgets.Budget(
            "budget",
            name=self.budget_name,
            budget_type="COST",
            limit_amount=f"{s.monthly_limit_usd:.2f}",
            limit_unit="USD",
            time_unit="MONTHLY",
            cost_filters=[
                aws.budgets.BudgetCostFilterArgs(
                    name="TagKeyValue", values=[f"user:Stack${args.stack_tag}"]
                ),
            ],
            notifications=notifications,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"budget_name": self.budget_name})
