"""The cost estimate inside the pack: the pinned price table, the usage figures and the arithmetic.

It ships with the pack so the budget gate (``policies/budget_gate.py``) needs nothing from
outside ``policies/``; preflight imports the same modules, so the report and the gate agree.
"""

from __future__ import annotations

from policies.pricing.estimate import estimate
from policies.pricing.lines import Estimate, Line
from policies.pricing.table import HOURS_PER_MONTH, Price, PriceTable, load_table, pinned_table
from policies.pricing.usage import Usage, UsageError, parse_usage

__all__ = [
    "HOURS_PER_MONTH",
    "Estimate",
    "Line",
    "Price",
    "PriceTable",
    "Usage",
    "UsageError",
    "estimate",
    "load_table",
    "parse_usage",
    "pinned_table",
]
