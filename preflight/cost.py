"""The cost estimate in every preflight: usage files, the gate's usage copy, the report and JSON.

The arithmetic and the prices live in the policy pack (``policies/pricing``) so the budget gate
the engine runs and the figures preflight prints are one computation. This module reads
``stacks/usage.<stack>.yaml`` (validated like the stack config: a bad key exits 2 naming it),
checks that the stack's policy config carries the same figures for the gate, prices the
recorded plan, and renders the result.

``python -m preflight.cost --sync <stack>`` copies a usage file into the policy config.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table

from policies.budget_gate import BASES, NAME, RULES, monthly_cost_limit
from policies.catalog import level
from policies.pricing.estimate import estimate
from policies.pricing.lines import Estimate, Line, dollars
from policies.pricing.table import HOURS_PER_MONTH, TABLE_PATH, pinned_table
from policies.pricing.usage import UsageError, parse_usage
from preflight.config import REPO_ROOT as REPO
from preflight.config import PreflightConfigError
from preflight.cost_diff import CostDelta, compare, delta_document, delta_table, headline
from preflight.model import RecordedResource, Recording

GATE = RULES[0]
TOP_ITEMS = 10
TERM_LABEL = {"reserved-1y": "1y", "reserved-3y": "3y"}
STEADY = {
    "aws:rds/clusterInstance:ClusterInstance": "Aurora instances",
    "aws:elasticache/replicationGroup:ReplicationGroup": "cache nodes",
    "aws:rds/instance:Instance": "RDS instances",
    "aws:neptune/clusterInstance:ClusterInstance": "Neptune instances",
    "aws:redshift/cluster:Cluster": "Redshift nodes",
}
"""The steady compute the reserved-capacity table lists, by resource type."""


def usage_path(stack: str, root: Path) -> Path:
    """``stacks/usage.<stack>.yaml`` under ``root``."""
    return root / "stacks" / f"usage.{stack}.yaml"


@dataclass(frozen=True)
class StackUsage:
    """A stack's usage file, read and validated."""

    path: Path | None
    """The file, or None when the stack has none (every default applies)."""
    document: dict[str, Any]
    """The file's content as written (what the gate's copy must equal)."""


def read_usage(stack: str, root: Path) -> StackUsage:
    """Read and validate the usage file; :class:`PreflightConfigError` names the bad key."""
    path = usage_path(stack, root)
    if not path.is_file():
        return StackUsage(None, {})
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        parse_usage(document)
    except yaml.YAMLError as exc:
        raise PreflightConfigError(f"{_rel(path, root)}: invalid YAML: {exc}") from exc
    except UsageError as exc:
        raise PreflightConfigError(f"{_rel(path, root)}: {exc}") from exc
    return StackUsage(path, document)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _first_difference(a: Any, b: Any, path: str = "") -> tuple[str, Any, Any] | None:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b), key=str):
            found = _first_difference(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
            if found:
                return found
        return None
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return None if float(a) == float(b) else (path, a, b)
    return None if a == b else (path, a, b)


@dataclass
class GateSettings:
    """The budget gate as the policy config sets it up."""

    level: str
    headroom_percent: float
    compare_with: str
    note: str = ""
    usage_copy: dict[str, Any] | None = None
    """The gate's usage when the stack has no usage file (the estimate then uses it too)."""


def gate_settings(
    usage: StackUsage, stack: str, root: Path, config_file: Path | None, config: Mapping[str, Any]
) -> GateSettings:
    """Validate the gate's entry in the policy config and that its usage copy matches the file.

    Raises :class:`PreflightConfigError` for a value the pack's schema refuses (the CLI would
    refuse it too) and for a copy that drifted from ``stacks/usage.<stack>.yaml``.
    """
    where = _rel(config_file, root) if config_file else "policy config"
    entry = config.get(NAME)
    settings = GateSettings(level(config, NAME), 10.0, "on-demand")
    if not isinstance(entry, Mapping):
        if usage.path is not None and config_file is not None:
            settings.note = f"{where} has no {NAME}.usage: the gate judges the pack's default usage"
        return settings
    defaults = GATE.defaults()
    # The bounds are the rule's own config schema (what the CLI enforces), not a second copy.
    bounds = GATE.params["headroomPercent"].schema()
    low, high = bounds["minimum"], bounds["maximum"]
    headroom = entry.get("headroomPercent", defaults["headroomPercent"])
    if (
        isinstance(headroom, bool)
        or not isinstance(headroom, int | float)
        or not low <= headroom <= high
    ):
        raise PreflightConfigError(
            f"{where}: config key '{NAME}.headroomPercent' has value {headroom!r}; allowed: a number from {low:g} to {high:g}"
        )
    compare = entry.get("compareWith", defaults["compareWith"])
    if compare not in BASES:
        raise PreflightConfigError(
            f"{where}: config key '{NAME}.compareWith' has value {compare!r}; allowed: {', '.join(BASES)}"
        )
    settings.headroom_percent, settings.compare_with = float(headroom), str(compare)
    if "usage" not in entry:
        if usage.path is not None:
            settings.note = f"{where} has no {NAME}.usage: the gate judges the pack's default usage"
        return settings
    try:
        parse_usage(entry["usage"])
    except UsageError as exc:
        raise PreflightConfigError(f"{where}: {NAME}.usage: {exc}") from exc
    if usage.path is None:
        settings.note = (
            f"no stacks/usage.{stack}.yaml: the estimate uses the gate's copy in {where}"
        )
        settings.usage_copy = dict(entry["usage"] or {})
        return settings
    diff = _first_difference(entry["usage"] or {}, usage.document)
    if diff is not None:
        key, copy, own = diff
        source = _rel(usage.path, root)
        raise PreflightConfigError(
            f"{where}: {NAME}.usage differs from {source} at '{key}' (policy config {copy!r}, "
            f"usage file {own!r}); copy it again: python -m preflight.cost --sync {stack}"
        )
    return settings


@dataclass(frozen=True, slots=True)
class _Planned:
    """A recorded resource as the estimator reads it."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]


@dataclass
class CostReport:
    """The estimate of one preflight run and what the report shows beside it."""

    estimate: Estimate
    usage: StackUsage
    gate: GateSettings
    budget_usd: float | None
    seconds: float
    defaults: list[Any] = field(default_factory=list)
    against: CostDelta | None = None
    """The difference from the ``--against`` baseline's estimate, when there is a baseline."""

    def compare_with(self, baseline_cost: Mapping[str, Any] | None, against: str) -> None:
        """Compare this estimate line by line with a baseline's ``cost`` object."""
        self.against = compare(self.estimate, baseline_cost, against)

    @property
    def allowed_usd(self) -> float | None:
        """What the gate lets the estimate reach."""
        if self.budget_usd is None:
            return None
        return self.budget_usd * (1.0 - self.gate.headroom_percent / 100.0)

    @property
    def within_budget(self) -> bool | None:
        """The gate's verdict: True within, False over; None without a budget, and None when
        the priced part fits but lines are not priced (the gate then cannot confirm it)."""
        allowed = self.allowed_usd
        if allowed is None:
            return None
        if self.estimate.total(self.gate.compare_with) > allowed:
            return False
        return True if self.estimate.complete else None


@dataclass
class CostPlan:
    """Usage and gate settings checked before anything runs; priced once the plan is recorded."""

    usage: StackUsage
    gate: GateSettings

    def estimate(self, recording: Recording) -> CostReport:
        """Price the recorded plan (timed: the report shows what the estimate added)."""
        started = time.perf_counter()
        usage = parse_usage(self.usage.document)
        planned = [
            _Planned(r.type, r.name, r.urn, r.inputs) for r in recording.resources if r.custom
        ]
        est = estimate(planned, usage, pinned_table())
        budget = _budget(recording.resources)
        defaults = usage.defaults_used(est.tables)
        return CostReport(
            est, self.usage, self.gate, budget, time.perf_counter() - started, defaults
        )


def prepare(
    stack: str, root: Path, config_file: Path | None, config: Mapping[str, Any]
) -> CostPlan:
    """Read the usage file and check the gate's config (exit 2 on either, before anything runs)."""
    usage = read_usage(stack, root)
    gate = gate_settings(usage, stack, root, config_file, config)
    if gate.usage_copy is not None:
        usage = StackUsage(None, gate.usage_copy)
    return CostPlan(usage, gate)


def _budget(resources: Sequence[RecordedResource]) -> float | None:
    """The budget the gate judges: the lowest monthly COST budget of the plan."""
    limits = [
        limit
        for r in resources
        if r.type == "aws:budgets/budget:Budget"
        and (limit := monthly_cost_limit(r.inputs)) is not None
    ]
    return min(limits, default=None)


# --- report -------------------------------------------------------------------------------------


def _estimated(lines: Sequence[Line], term: str) -> str:
    """`` (estimated)`` after a reserved figure that includes a rate derived by a ratio rather
    than published (the table entry's basis ``derived``; docs/cost.md, Prices)."""
    return " (estimated)" if any(term in line.reserved_estimated for line in lines) else ""


def _term_totals(report: CostReport) -> dict[str, float]:
    return {TERM_LABEL[t]: report.estimate.reserved_monthly_usd(t) for t in TERM_LABEL}


def cost_section(report: CostReport) -> Group:
    """The report's cost section: totals, top items, stores, reserved capacity, budget, notes."""
    est = report.estimate
    total = est.monthly_usd
    reserved = _term_totals(report)
    parts: list[Any] = []
    budget = f" · budget {dollars(report.budget_usd)}" if report.budget_usd is not None else ""
    est_1y, est_3y = (_estimated(est.lines, t) for t in TERM_LABEL)
    parts.append(
        f"[bold]Monthly cost estimate: {dollars(total)}[/] on demand · reserved 1y {dollars(reserved['1y'])}{est_1y}"
        f" · 3y {dollars(reserved['3y'])}{est_3y}{budget} [dim]({HOURS_PER_MONTH:g} h months, prices"
        f" {escape(_rel(TABLE_PATH, REPO))})[/]"
    )
    if not est.complete:
        parts.append(f"[bold yellow]{escape(incomplete_headline(est))}[/]")
    if report.against is not None:
        parts.append(escape(headline(report.against)))
        if report.against.lines:
            parts.append(delta_table(report.against))
    parts.append(_top_table(est))
    parts.append(_store_table(est))
    parts.append(_reserved_table(est))
    parts.extend(_budget_lines(report))
    parts.extend(
        f"[bold green]Recommendation: {escape(r.title)}[/] {dollars(r.alternative_usd)} instead of"
        f" {dollars(r.current_usd)} a month (saves {dollars(r.saving_usd)}): {escape(r.detail)}."
        for r in est.recommendations
    )
    parts.extend(_notes(report))
    return Group(*parts)


def incomplete_headline(est: Estimate) -> str:
    """One line saying the totals are a lower bound, and why (the report, Markdown and gate)."""
    gaps = est.unpriced
    return (
        f"INCOMPLETE: {len(gaps)} item(s) not priced count $0, so every total above is at least"
        " the cost, not the cost (listed below, and as cost.unpriced in --json)."
    )


def _top_table(est: Estimate) -> Table:
    table = Table(title=f"Top {TOP_ITEMS} cost items", title_justify="left")
    for column, justify in (
        ("Resource", "left"),
        ("Item", "left"),
        ("Region", "left"),
        ("Monthly", "right"),
        ("Basis", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for line in sorted(est.lines, key=lambda item: -item.monthly_usd)[:TOP_ITEMS]:
        table.add_row(
            escape(line.name),
            escape(line.item),
            line.region,
            dollars(line.monthly_usd),
            escape(line.basis),
        )
    return table


def _store_table(est: Estimate) -> Table:
    regions = sorted({line.region for line in est.lines}, key=lambda r: (r == "global", r))
    cells: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for line in est.lines:
        cells[line.store][line.region] += line.monthly_usd
    table = Table(
        title="Cost per store and region (monthly, on demand)",
        title_justify="left",
        show_footer=True,
    )
    table.add_column("Store", footer="Total")
    for region in regions:
        column = sum(cells[s][region] for s in cells)
        table.add_column(region, justify="right", footer=dollars(column))
    table.add_column("Total", justify="right", footer=dollars(est.monthly_usd))
    for store, usd in est.by("store").items():
        row = [dollars(cells[store][r]) if cells[store].get(r) else "" for r in regions]
        table.add_row(store, *row, dollars(usd))
    return table


def _steady(est: Estimate) -> dict[tuple[str, str], list[Line]]:
    """Steady compute by kind and region: lines with reserved terms, or without the table's
    reserved rate (counted at on demand in the reserved totals)."""
    groups: dict[tuple[str, str], list[Line]] = defaultdict(list)
    for line in est.lines:
        if line.reserved or line.reserved_missing:
            groups[(STEADY.get(line.type, "instances"), line.region)].append(line)
    return groups


def _on_demand_mark(lines: Sequence[Line], term: str) -> str:
    """`` on demand: no reserved rate`` where a term's figure counts some of ``lines`` at on
    demand because the table has no reserved rate for them (docs/cost.md, Reserved capacity)."""
    return " on demand: no reserved rate" if any(term in x.reserved_missing for x in lines) else ""


def _reserved_table(est: Estimate) -> Table:
    table = Table(title="Reserved capacity for the steady compute (monthly)", title_justify="left")
    for column in ("Compute", "Region", "On demand", "1y", "3y", "Saves (1y / 3y)"):
        table.add_column(column, justify="left" if column in ("Compute", "Region") else "right")
    for (kind, region), lines in sorted(_steady(est).items()):
        od = sum(line.monthly_usd for line in lines)
        terms = {
            t: sum((line.reserved or {}).get(t, line.monthly_usd) for line in lines)
            for t in TERM_LABEL
        }
        options = {t: (lines[0].reserved_options or {}).get(t, "") for t in TERM_LABEL}
        role = " (secondary: steady too)" if region == est.secondary else ""
        table.add_row(
            f"{kind}{role}",
            region,
            dollars(od),
            *(
                f"{dollars(terms[t])} [dim]"
                + f"{options[t]}{_estimated(lines, t)}{_on_demand_mark(lines, t)}".strip()
                + "[/]"
                for t in TERM_LABEL
            ),
            f"{dollars(od - terms['reserved-1y'])} / {dollars(od - terms['reserved-3y'])}",
        )
    return table


def _budget_lines(report: CostReport) -> list[str]:
    est, gate = report.estimate, report.gate
    if report.budget_usd is None:
        return [
            "[yellow]No monthly budget in the plan: the budget gate has nothing to compare with.[/]"
        ]
    allowed = report.allowed_usd or 0.0
    total = est.total(gate.compare_with)
    share = 100.0 * est.monthly_usd / report.budget_usd if report.budget_usd else 0.0
    verdict = {
        True: "[green]within[/]",
        False: "[bold red]over[/]",
        None: "[bold yellow]unconfirmed[/] (the estimate is incomplete)",
    }[report.within_budget]
    return [
        f"Budget (budgetMonthlyLimitUsd): {dollars(report.budget_usd)}; on-demand estimate uses {share:.0f}%."
        f" Gate {NAME} ({gate.level}, {gate.headroom_percent:g}% headroom, {gate.compare_with}):"
        f" allows {dollars(allowed)}; {dollars(total)} is {verdict}."
    ]


def _notes(report: CostReport) -> list[str]:
    est = report.estimate
    notes = []
    if est.secondary:
        notes.append(
            f"[dim]The secondary region's ({est.secondary}) instances and nodes run all month as"
            " replicas and failover targets: steady load, worth reserving like the primary's."
            " Aurora sells no 3-year No Upfront term: its 3y column is Partial Upfront, the upfront"
            " spread over 36 months.[/]"
        )
    free = Counter(line.type for line in est.lines if line.free and line.item == "no charge")
    if free:
        listed = ", ".join(f"{n} x {escape(t.split(':')[-1])}" for t, n in sorted(free.items()))
        notes.append(f"[dim]Free (listed at $0 in --json): {listed}.[/]")
    source = _rel(report.usage.path, REPO) if report.usage.path else "no usage file"
    if report.defaults:
        shown = ", ".join(f"{d.key}={d.value:g} {d.unit}" for d in report.defaults)
        notes.append(f"[dim]Usage: {escape(source)}; defaults used: {escape(shown)}.[/]")
    else:
        notes.append(f"[dim]Usage: {escape(source)} (no defaults needed).[/]")
    if report.gate.note:
        notes.append(f"[yellow]{escape(report.gate.note)}[/]")
    for line in est.unpriced:
        notes.append(
            f"[yellow]Not priced ($0 in the totals): {escape(line.name)} {escape(line.item)}"
            f" in {line.region}: {escape(line.reason)}[/]"
        )
    missing = list(_on_demand_ids(est))
    if missing:
        shown = ", ".join(f"{escape(pid)} in {region}" for pid, region in missing)
        notes.append(
            f"[yellow]The reserved totals count {shown} at on demand: the price table has no"
            " published reserved rate for them (docs/cost.md, Reserved capacity).[/]"
        )
    used = _derived_on_demand(est)
    if used:
        shown = ", ".join(f"{escape(pid)} in {region}" for pid, region in used)
        notes.append(
            f"[dim]On-demand rates this estimate uses that are derived or assumed, not published"
            f" for that region (prices.json notes say from what): {shown}.[/]"
        )
    derived = [p for p in pinned_table().prices if p.basis == "derived"]
    reserved = sum(1 for p in derived if p.term != "on-demand")
    notes.append(
        f"[dim]Estimated in {1000 * report.seconds:.1f} ms; {reserved} reserved rates and"
        f" {len(derived) - reserved} on-demand rates in the table are derived or assumed from"
        " published ones (each entry's note says how) until `python -m preflight.prices"
        " --refresh` (docs/cost.md).[/]"
    )
    return notes


def render_cost(result: Any, console: Console) -> None:
    """Print the cost section of a preflight result (nothing when it has no estimate)."""
    report = getattr(result, "cost", None)
    if isinstance(report, CostReport):
        console.print(cost_section(report))


# --- JSON ---------------------------------------------------------------------------------------


def _line_document(line: Line) -> dict[str, Any]:
    return {
        "urn": line.urn,
        "type": line.type,
        "name": line.name,
        "region": line.region,
        "store": line.store,
        "item": line.item,
        "quantity": line.quantity,
        "unit": line.unit,
        "unitUsd": line.unit_usd,
        "monthlyUsd": line.monthly_usd,
        "basis": line.basis,
        "free": line.free,
        "priced": line.priced,
        "reservedMonthlyUsd": {TERM_LABEL[t]: v for t, v in line.reserved.items()}
        if line.reserved
        else None,
        "reservedEstimated": [TERM_LABEL[t] for t in line.reserved_estimated],
        "reservedOnDemand": [TERM_LABEL[t] for t in line.reserved_missing],
    }


def _derived_on_demand(est: Estimate) -> list[tuple[str, str]]:
    """(price id, region) of the on-demand rates the estimate used whose table basis is
    ``derived`` (assumed or computed from a published figure), sorted: what stays derived is
    named on every run, not only in the table's notes (issue 21)."""
    table = pinned_table()
    used = {(x.price_id, x.region) for x in est.lines if x.price_id and x.priced}
    return sorted(
        key for key in used if (found := table.find(*key)) is not None and found.basis == "derived"
    )


def _on_demand_ids(est: Estimate) -> dict[tuple[str, str], list[str]]:
    """(price id, region) -> the reserved terms that count it at on demand, sorted."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for term in TERM_LABEL:
        for key in sorted({(x.price_id, x.region) for x in est.reserved_on_demand(term)}):
            found[key].append(term)
    return dict(sorted(found.items()))


def cost_document(result: Any) -> dict[str, Any] | None:
    """``cost`` of ``--json``: stable names other tools read (docs/cost.md lists them)."""
    report = getattr(result, "cost", None)
    if not isinstance(report, CostReport):
        return None
    est = report.estimate
    return {
        "monthlyUsd": est.monthly_usd,
        "reservedMonthlyUsd": _term_totals(report),
        "reservedEstimated": [TERM_LABEL[t] for t in TERM_LABEL if est.reserved_estimated(t)],
        "reservedOnDemand": [
            {"priceId": pid, "region": region, "terms": [TERM_LABEL[t] for t in terms]}
            for (pid, region), terms in _on_demand_ids(est).items()
        ],
        "derivedOnDemand": [
            {"priceId": pid, "region": region} for pid, region in _derived_on_demand(est)
        ],
        "budgetUsd": report.budget_usd,
        "currency": "USD",
        "hoursPerMonth": HOURS_PER_MONTH,
        "gate": {
            "policy": NAME,
            "enforcementLevel": report.gate.level,
            "headroomPercent": report.gate.headroom_percent,
            "compareWith": report.gate.compare_with,
            "allowedUsd": report.allowed_usd,
            "withinBudget": report.within_budget,
        },
        "complete": est.complete,
        "unpriced": [
            {
                "urn": line.urn,
                "type": line.type,
                "region": line.region,
                "reason": line.reason,
                "name": line.name,
                "item": line.item,
            }
            for line in est.unpriced
        ],
        "recommendations": [
            {
                "title": r.title,
                "currentUsd": r.current_usd,
                "alternativeUsd": r.alternative_usd,
                "savingUsd": r.saving_usd,
                "detail": r.detail,
            }
            for r in est.recommendations
        ],
        "byStore": est.by("store"),
        "byRegion": est.by("region"),
        "lines": [_line_document(line) for line in est.lines],
        "usage": {
            "file": _rel(report.usage.path, REPO) if report.usage.path else None,
            "defaults": [{"key": d.key, "value": d.value, "unit": d.unit} for d in report.defaults],
        },
        "prices": {
            "file": _rel(TABLE_PATH, REPO),
            "taken": sorted({p.taken for p in pinned_table().prices}),
        },
        "estimateMs": 1000.0 * report.seconds,
        "against": delta_document(report.against) if report.against is not None else None,
    }


# --- python -m preflight.cost --sync ------------------------------------------------------------


def policy_config_text(config: Mapping[str, Any]) -> str:
    """A policy config in the stack files' layout: one rule per line, the gate's usage indented."""
    rows = []
    for key, value in config.items():
        text = json.dumps(value, indent=2) if key == NAME else json.dumps(value)
        rows.append(f"  {json.dumps(key)}: " + text.replace("\n", "\n  "))
    return "{\n" + ",\n".join(rows) + "\n}\n"


def sync(stack: str, root: Path = REPO) -> Path:
    """Copy ``stacks/usage.<stack>.yaml`` into the gate's entry of the stack's policy config."""
    usage = read_usage(stack, root)
    path = root / "stacks" / f"policy-config.{stack}.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    entry = config.get(NAME)
    entry = (
        dict(entry)
        if isinstance(entry, Mapping)
        else ({"enforcementLevel": entry} if entry else {})
    )
    entry["usage"] = usage.document
    config[NAME] = entry
    path.write_text(policy_config_text(config), encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m preflight.cost --sync STACK``: keep the budget gate's usage copy equal to the
    usage files. argparse, not typer: this module is on every preview's path (the cost
    estimate), and importing typer for a command the preview never runs cost 0.1 s."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m preflight.cost", description=__doc__)
    parser.add_argument(
        "--sync",
        dest="sync_stacks",
        metavar="STACK",
        action="append",
        required=True,
        help="Copy stacks/usage.<STACK>.yaml into stacks/policy-config.<STACK>.json (repeatable).",
    )
    parser.add_argument(
        "--root", metavar="DIR", type=Path, default=REPO, help="default: this repository"
    )
    args = parser.parse_args(argv)
    for stack in args.sync_stacks:
        try:
            written = sync(stack, args.root)
        except (PreflightConfigError, OSError, json.JSONDecodeError) as exc:
            print(f"config error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {_rel(written, args.root)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
