"""Budget gate: the stack's estimated monthly cost stays inside its own budget, with headroom.

``cost-budget-present`` checks that a budget exists and alerts someone; this rule checks that
the plan fits in it. It prices the whole stack with the estimator that ships in the pack
(``policies/pricing``: the pinned price table and the arithmetic preflight uses too) and the
usage figures the rule's config carries, because the engine hands a pack nothing but its policy
config: ``stacks/policy-config.<stack>.json`` holds a copy of ``stacks/usage.<stack>.yaml``
(``python -m preflight.cost --sync``; preflight and a test refuse a copy that drifted).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Severity

from policies import resource_types as t
from policies._rule import Config, Finding, Param, Rule
from policies._values import UNKNOWN, Res, StackView, as_number, problem, show
from policies.pricing.estimate import estimate
from policies.pricing.lines import Estimate, dollars
from policies.pricing.table import pinned_table
from policies.pricing.usage import UsageError, default_document, json_schema, parse_usage

NAME = "cost-budget-estimate"
BASES = ("on-demand", "reserved-1y", "reserved-3y")


@dataclass(frozen=True, slots=True)
class SchemaParam(Param):
    """A parameter whose JSON schema carries more than a type (bounds, an enum, properties)."""

    extra: tuple[tuple[str, Any], ...] = ()

    def schema(self) -> dict[str, Any]:
        """The base schema plus ``extra`` (``minimum``, ``maximum``, ``enum``, ``properties``...)."""
        schema = Param.schema(self)
        schema.update(dict(self.extra))
        return schema


def monthly_cost_limit(budget: Any) -> float | None:
    """The limit in USD of a monthly COST budget (``budget.get`` reads its inputs), else None.

    The one definition of "the budget" that the gate and preflight's report both use."""
    if budget.get("budgetType") not in ("COST", None, UNKNOWN):
        return None
    if budget.get("timeUnit") not in ("MONTHLY", None, UNKNOWN):
        return None
    return as_number(budget.get("limitAmount"))


def monthly_budgets(stack: StackView) -> list[tuple[Res, float]]:
    """Known monthly COST budgets of the stack and their limits in USD."""
    found = []
    for budget in stack.of_type(t.BUDGET):
        amount = monthly_cost_limit(budget)
        if amount is not None:
            found.append((budget, amount))
    return found


def _summary(est: Estimate, basis: str) -> str:
    stores = ", ".join(f"{store} {dollars(usd)}" for store, usd in est.by("store").items() if usd)
    top = sorted(est.lines, key=lambda line: -line.monthly_usd)[:3]
    items = ", ".join(f"{line.name} {line.item} {dollars(line.monthly_usd)}" for line in top)
    reserved = ", ".join(
        f"{term.removeprefix('reserved-')} {dollars(est.reserved_monthly_usd(term))}"
        f"{' (estimated)' if est.reserved_estimated(term) else ''}"
        f"{' (some compute at on demand: no reserved rate)' if est.reserved_on_demand(term) else ''}"
        for term in BASES[1:]
        if term != basis
    )
    return f"by store: {stores}; largest: {items}; with reserved capacity: {reserved}"


def unpriced_summary(est: Estimate, most: int = 3) -> str:
    """``2 item(s) not priced: table-x write request units in eu-west-1 (the table has no ...)``."""
    gaps = est.unpriced
    shown = "; ".join(
        f"{line.name} {line.item} in {line.region} ({line.reason})" for line in gaps[:most]
    )
    more = f"; and {len(gaps) - most} more" if len(gaps) > most else ""
    return f"{len(gaps)} item(s) not priced: {shown}{more}"


def _gate(stack: StackView, cfg: Config) -> Iterator[Finding]:
    budgets = monthly_budgets(stack)
    if not budgets:
        return  # no known budget: cost-budget-present reports a missing one
    try:
        usage = parse_usage(cfg["usage"])
    except UsageError as exc:
        yield (
            f"Policy config `{NAME}.usage`: {exc}. Fix: copy stacks/usage.<stack>.yaml again "
            "(python -m preflight.cost --sync <stack>).",
            None,
        )
        return
    basis = str(cfg["compareWith"])
    est = estimate(stack.resources, usage, pinned_table())
    total = est.total(basis)
    headroom = float(cfg["headroomPercent"])
    budget, limit = min(budgets, key=lambda pair: pair[1])
    allowed = limit * (1.0 - headroom / 100.0)
    if total > allowed:
        # An incomplete estimate that is already over is over: the gaps only add to it.
        at_least = (
            f"at least {dollars(total)} ({unpriced_summary(est)})"
            if not est.complete
            else dollars(total)
        )
        yield (
            problem(
                budget,
                "limitAmount",
                f"is {show(limit)} USD, but the estimated monthly cost ({basis}) is {at_least}, "
                f"above the {dollars(allowed)} the budget allows with {show(headroom)}% headroom "
                f"({_summary(est, basis)})",
                "lower capacity in the stack file, reserve the steady compute, or raise "
                "budgetMonthlyLimitUsd to a justified figure",
            ),
            budget.urn,
        )
    elif not est.complete:
        # The priced part fits, but a $0 gap is not a price: passing it would pass an unknown.
        yield (
            problem(
                budget,
                "limitAmount",
                f"is {show(limit)} USD and the priced part of the estimate ({basis}) is "
                f"{dollars(total)}, within the {dollars(allowed)} allowed, but the estimate is "
                f"incomplete, so the gate cannot confirm the stack fits: {unpriced_summary(est)}",
                "use the regions, instance classes and node types policies/pricing/prices.json "
                "prices, or add the missing prices (python -m preflight.prices --refresh)",
            ),
            budget.urn,
        )


RULES: tuple[Rule, ...] = (
    Rule(
        name=NAME,
        concern="cost",
        summary=(
            "The stack's estimated monthly cost (pinned prices, usage from the rule's config) stays "
            "under its budget less a headroom percentage."
        ),
        remediation=(
            "Lower capacity, reserve the steady compute, or raise budgetMonthlyLimitUsd; keep the "
            "usage copy in sync with stacks/usage.<stack>.yaml."
        ),
        severity=Severity.HIGH,
        check_stack=_gate,
        params={
            "headroomPercent": SchemaParam(
                "number",
                10,
                "Share of the budget kept free: the estimate must stay at or under "
                "limitAmount x (1 - headroomPercent/100).",
                extra=(("minimum", 0), ("maximum", 90)),
            ),
            "compareWith": SchemaParam(
                "string",
                "on-demand",
                "Which total the budget must cover: on-demand, reserved-1y or reserved-3y.",
                extra=(("enum", list(BASES)),),
            ),
            "usage": SchemaParam(
                "object",
                default_document(),
                "Usage figures: a copy of stacks/usage.<stack>.yaml (python -m preflight.cost --sync).",
                extra=tuple((k, v) for k, v in json_schema().items() if k != "description"),
            ),
        },
    ),
)
