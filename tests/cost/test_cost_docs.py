"""docs/cost.md's figures are what the commands print: each stack's totals, prod's resource count,
its largest store and the I/O-Optimized recommendation, computed the way preflight computes them
(the recorded plan, the stack's usage file, the pinned table)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from policies.pricing.lines import dollars
from preflight.cost import CostReport, prepare
from preflight.jsonout import counts
from tests.support.stacks import STACKS, recorded

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "cost.md").read_text()


def _report(stack: str) -> CostReport:
    config_file = REPO / "stacks" / f"policy-config.{stack}.json"
    plan = prepare(stack, REPO, config_file, json.loads(config_file.read_text()))
    return plan.estimate(recorded(stack))


@pytest.mark.parametrize("stack", STACKS)
def test_the_stack_table_has_the_printed_totals(stack: str) -> None:
    report = _report(stack)
    est = report.estimate
    row = re.search(rf"^\| {stack} \| (.+) \|$", DOC, re.M)
    assert row is not None, f"docs/cost.md has no row for {stack}"
    cells = [c.strip() for c in row.group(1).split("|")]
    assert cells[:3] == [
        dollars(est.monthly_usd),
        dollars(est.reserved_monthly_usd("reserved-1y")),
        dollars(est.reserved_monthly_usd("reserved-3y")),
    ]
    assert cells[3] == f"${report.budget_usd:,.0f}"
    assert cells[4] == f"${report.allowed_usd:,.0f}"
    assert est.complete


def test_prods_resource_count_and_figures_match() -> None:
    total = counts(recorded("prod"))["total"]
    mentions = re.findall(r"prod(?:'s|,) (\d+) resources", DOC)
    assert mentions and {int(n) for n in mentions} == {total}
    est = _report("prod").estimate
    backup = est.by("store")["backup"]
    assert f"Prod's largest store is **backup** (${backup:,.0f})" in DOC
    assert max(est.by("store"), key=est.by("store").__getitem__) == "backup"
    (advice,) = est.recommendations
    assert (
        f"{dollars(advice.alternative_usd)} instead of {dollars(advice.current_usd)} a month,"
        f" saving {dollars(advice.saving_usd)}"
    ) in DOC
