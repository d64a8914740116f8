"""The cost difference against a ``--against`` baseline: what a pull request adds to the bill.

Both sides are estimates of the same kind (the baseline's ``cost`` object was written by an
earlier ``--json`` run), so they are compared line by line: a line is one priced item of one
resource, identified by the resource's URN and the item. A line only in the plan is new
spending, a line only in the baseline is spending removed, and a line in both whose monthly
figure moved by at least a cent changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from policies.pricing.lines import Estimate, dollars

CENT = 0.005
"""Differences below half a cent are rounding, not change."""
SHOWN = 10
"""Changed lines the terminal and Markdown reports list (the JSON lists all)."""


@dataclass(frozen=True, slots=True)
class LineChange:
    """One priced item whose monthly figure differs from the baseline's."""

    urn: str
    name: str
    item: str
    store: str
    region: str
    baseline_usd: float | None
    """None: the item is new."""
    monthly_usd: float | None
    """None: the item is gone."""

    @property
    def delta_usd(self) -> float:
        """Monthly change in USD (positive: more spending)."""
        return (self.monthly_usd or 0.0) - (self.baseline_usd or 0.0)

    @property
    def kind(self) -> str:
        """added, removed or changed."""
        if self.baseline_usd is None:
            return "added"
        return "removed" if self.monthly_usd is None else "changed"


@dataclass(frozen=True, slots=True)
class CostDelta:
    """The plan's estimate against the baseline's."""

    against: str
    """The baseline file."""
    baseline_usd: float | None
    """The baseline's monthly total; None when the baseline carries no estimate."""
    monthly_usd: float
    by_store: dict[str, float]
    """Monthly change per store (only stores that changed), largest change first."""
    lines: list[LineChange]
    """Every changed line, largest change first."""

    @property
    def delta_usd(self) -> float | None:
        """Change of the monthly total (None without a baseline estimate)."""
        return None if self.baseline_usd is None else self.monthly_usd - self.baseline_usd


def _key(urn: Any, item: Any) -> tuple[str, str]:
    return str(urn), str(item)


def compare(estimate: Estimate, baseline: Mapping[str, Any] | None, against: str) -> CostDelta:
    """The plan's ``estimate`` line by line against the baseline's ``cost`` object."""
    if baseline is None:
        return CostDelta(against, None, estimate.monthly_usd, {}, [])
    before: dict[tuple[str, str], Mapping[str, Any]] = {}
    for line in baseline.get("lines") or []:
        if isinstance(line, Mapping):
            key = _key(line.get("urn"), line.get("item"))
            merged = dict(before.get(key, {}))
            merged.update(line)
            merged["monthlyUsd"] = float(before.get(key, {}).get("monthlyUsd", 0.0)) + float(
                line.get("monthlyUsd") or 0.0
            )
            before[key] = merged
    after: dict[tuple[str, str], dict[str, Any]] = {}
    for current in estimate.lines:
        key = _key(current.urn, current.item)
        entry = after.setdefault(
            key,
            {
                "name": current.name,
                "store": current.store,
                "region": current.region,
                "monthlyUsd": 0.0,
            },
        )
        entry["monthlyUsd"] += current.monthly_usd
    changes: list[LineChange] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        old_usd = float(old["monthlyUsd"]) if old is not None else None
        new_usd = float(new["monthlyUsd"]) if new is not None else None
        if old_usd is not None and new_usd is not None and abs(new_usd - old_usd) < CENT:
            continue
        if (old_usd or 0.0) < CENT and (new_usd or 0.0) < CENT:
            continue  # a free item added or removed changes nothing on the bill
        source = new if new is not None else old
        assert source is not None
        changes.append(
            LineChange(
                urn=key[0],
                name=str(source.get("name") or key[0].rsplit("::", 1)[-1]),
                item=key[1],
                store=str(source.get("store") or ""),
                region=str(source.get("region") or ""),
                baseline_usd=old_usd,
                monthly_usd=new_usd,
            )
        )
    changes.sort(key=lambda c: (-abs(c.delta_usd), c.urn, c.item))
    stores: dict[str, float] = defaultdict(float)
    for change in changes:
        stores[change.store] += change.delta_usd
    by_store = {
        store: delta
        for store, delta in sorted(stores.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
        if abs(delta) >= CENT
    }
    return CostDelta(
        against, float(baseline["monthlyUsd"]), estimate.monthly_usd, by_store, changes
    )


def signed(value: float) -> str:
    """``+$1,234.50`` / ``-$3.00``."""
    return f"{'-' if value < 0 else '+'}${abs(value):,.2f}"


def _usd(value: float | None) -> str:
    return "-" if value is None else dollars(value)


def headline(delta: CostDelta) -> str:
    """One line: baseline total -> plan total (change)."""
    if delta.baseline_usd is None or delta.delta_usd is None:
        return (
            f"Against {delta.against}: the baseline has no cost estimate (written before"
            " preflight priced plans); no cost difference"
        )
    percent = (
        f", {100.0 * delta.delta_usd / delta.baseline_usd:+.1f}%" if delta.baseline_usd else ""
    )
    if not delta.lines:
        return f"Against {delta.against}: no cost change ({_usd(delta.monthly_usd)} a month)"
    return (
        f"Against {delta.against}: {_usd(delta.baseline_usd)} -> {_usd(delta.monthly_usd)}"
        f" a month ({signed(delta.delta_usd)}{percent}; {len(delta.lines)} item(s) changed)"
    )


def delta_table(delta: CostDelta) -> Table:
    """The largest line changes, for the terminal report."""
    table = Table(title="Cost change against the baseline (largest first)", title_justify="left")
    for column in ("Resource", "Item", "Region", "Baseline", "Plan", "Change"):
        table.add_column(
            column, justify="right" if column in {"Baseline", "Plan", "Change"} else "left"
        )
    for change in delta.lines[:SHOWN]:
        table.add_row(
            change.name,
            change.item,
            change.region,
            _usd(change.baseline_usd),
            _usd(change.monthly_usd),
            signed(change.delta_usd),
        )
    if len(delta.lines) > SHOWN:
        table.caption = f"{len(delta.lines) - SHOWN} more in --json (cost.against.lines)"
    return table


def delta_document(delta: CostDelta) -> dict[str, Any]:
    """``cost.against`` of ``--json``."""
    return {
        "file": delta.against,
        "baselineMonthlyUsd": delta.baseline_usd,
        "monthlyUsd": delta.monthly_usd,
        "deltaUsd": delta.delta_usd,
        "byStore": delta.by_store,
        "lines": [
            {
                "urn": c.urn,
                "name": c.name,
                "item": c.item,
                "store": c.store,
                "region": c.region,
                "change": c.kind,
                "baselineUsd": c.baseline_usd,
                "monthlyUsd": c.monthly_usd,
                "deltaUsd": c.delta_usd,
            }
            for c in delta.lines
        ],
    }


def delta_markdown(delta: CostDelta) -> list[str]:
    """The cost change for the pull-request report: the headline and the largest changes."""
    lines = [f"- **Cost change**: {headline(delta).split(': ', 1)[1]}"]
    if not delta.lines:
        return lines
    lines += [
        "",
        "| Resource | Item | Region | Baseline | Plan | Change |",
        "|---|---|---|---|---|---|",
    ]
    for change in delta.lines[:SHOWN]:
        lines.append(
            f"| `{change.name}` | {change.item} | {change.region} | {_usd(change.baseline_usd)}"
            f" | {_usd(change.monthly_usd)} | {signed(change.delta_usd)} |"
        )
    if len(delta.lines) > SHOWN:
        lines.append(f"\n{len(delta.lines) - SHOWN} more changed item(s) in the JSON report.")
    return lines
