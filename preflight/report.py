"""The terminal report: the plan per region and component, counts, policy results, critical path.

Only names, types, regions and (scrubbed) policy text are printed: input values never are, so
a secret has no way into the terminal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from preflight.changes import Op
from preflight.cost import render_cost
from preflight.critical_path import GLOBAL, ancestors, is_plan_resource, region_label
from preflight.jsonout import counts
from preflight.model import RecordedResource
from preflight.pipeline import LEVELS, Finding, PreflightResult
from preflight.redaction import redact

LEVEL_STYLE = {"mandatory": "bold red", "remediate": "magenta", "advisory": "yellow"}
LEVEL_MARK = {"mandatory": "✗", "remediate": "~", "advisory": "!"}
OP_MARK = {
    Op.CREATE: "[green]+[/]",
    Op.UPDATE: "[yellow]~[/]",
    Op.REPLACE: "[magenta]+-[/]",
    Op.DELETE: "[red]-[/]",
    Op.SAME: "[dim]=[/]",
}
OP_VERB = {
    Op.CREATE: "to create",
    Op.UPDATE: "to update",
    Op.REPLACE: "to replace",
    Op.DELETE: "to delete",
    Op.SAME: "unchanged",
}


def format_duration(seconds: float) -> str:
    """``2260`` -> ``"37m 40s"``; ``45`` -> ``"45s"``; ``3720`` -> ``"1h 02m"``."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


Section = Callable[[PreflightResult, Console], None]
"""Prints one part of the report."""


def render(result: PreflightResult, console: Console) -> None:
    """Print the whole report for one run: every part of ``SECTIONS`` in order."""
    for section in SECTIONS:
        section(result, console)


def _plan(result: PreflightResult, console: Console) -> None:
    console.print(plan_tree(result))


def _counts(result: PreflightResult, console: Console) -> None:
    console.print(counts_table(result))


def _critical_path(result: PreflightResult, console: Console) -> None:
    console.print(critical_path_table(result))


def _header(result: PreflightResult, console: Console) -> None:
    rec = result.recording
    outputs = redact(rec.outputs)
    regions = ""
    if isinstance(outputs, Mapping) and outputs.get("primaryRegion"):
        regions = (
            f" · primary [bold]{escape(str(outputs.get('primaryRegion')))}[/],"
            f" secondary [bold]{escape(str(outputs.get('secondaryRegion', '?')))}[/]"
        )
    console.rule(f"[bold]preflight[/] {escape(rec.project)}/{escape(rec.stack)}{regions}")
    config = _short(result.policy_config_file) if result.policy_config_file else "pack defaults"
    console.print(
        f"[dim]policy pack {escape(_short(result.policy_pack))}, config {escape(config)},"
        f" {len(result.policies)} policies[/]"
    )


def _short(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _levels_by_urn(findings: list[Finding]) -> dict[str, list[str]]:
    levels: dict[str, list[str]] = defaultdict(list)
    for f in findings:
        if f.urn and f.enforcement_level not in levels[f.urn]:
            levels[f.urn].append(f.enforcement_level)
    return levels


def plan_tree(result: PreflightResult) -> Tree:
    """Planned resources per region, nested in the components that own them."""
    rec = result.recording
    by_urn = {r.urn: r for r in rec.resources}
    flagged = _levels_by_urn(result.findings)
    planned = [r for r in rec.resources if is_plan_resource(r)]
    per_region: dict[str, list[RecordedResource]] = defaultdict(list)
    for r in planned:
        per_region[region_label(r)].append(r)

    ops = {c.urn: c.op for c in result.diff.changes} if result.diff is not None else {}
    root = Tree(f"[bold]Plan[/]: {_plan_summary(result, len(planned))}")
    for region in sorted(per_region, key=lambda name: (name == GLOBAL, name)):
        members = per_region[region]
        branch = root.add(f"[bold cyan]{escape(region)}[/] [dim]({len(members)})[/]")
        nodes: dict[str, Tree] = {}
        for r in members:
            parent_node = branch
            for urn in ancestors(r, by_urn):
                owner = by_urn[urn]
                if owner.type == "pulumi:pulumi:Stack":
                    continue
                if urn not in nodes:
                    nodes[urn] = parent_node.add(
                        f"[bold]{escape(owner.name)}[/] [dim]{escape(owner.type)}[/]"
                    )
                parent_node = nodes[urn]
            marks = "".join(
                f" [{LEVEL_STYLE[level]}]{LEVEL_MARK[level]} {level}[/]"
                for level in LEVELS
                if level in flagged.get(r.urn, [])
            )
            mark = OP_MARK[ops.get(r.urn, Op.CREATE)]
            parent_node.add(f"{mark} {escape(r.name)} [dim]{escape(r.type)}[/]{marks}")
    return root


def _plan_summary(result: PreflightResult, planned: int) -> str:
    if result.diff is None:
        return f"{planned} resources to create"
    counts = result.diff.counts
    return ", ".join(f"{counts[op.value]} {OP_VERB[op]}" for op in Op)


def _diff(result: PreflightResult, console: Console) -> None:
    diff = result.diff
    if diff is None:
        return
    against = escape(_short(Path(diff.against)))
    for entry in diff.unused_approvals:
        console.print(
            f"[yellow]--allow-replace {escape(entry)}:[/] no replacement or deletion of a"
            " stateful resource by that URN or name in this plan"
        )
    if diff.unchanged:
        console.print(
            f"[green]No changes:[/] the plan matches {against}"
            f" ({len(diff.changes)} resources unchanged)"
        )
        return
    table = Table(
        title=f"Changes against {against}: {_plan_summary(result, 0)}",
        title_justify="left",
    )
    table.add_column("Op")
    table.add_column("Resource")
    table.add_column("Type", style="dim")
    table.add_column("Inputs")
    table.add_column("")
    for change in diff.visible:
        inputs = change.replaced_by if change.op is Op.REPLACE else change.changed
        note = ""
        if change.error is not None:
            note = f"[bold red]✗ {escape(change.error)}[/]"
        elif change.blocks:
            note = "[bold red]✗ stateful: blocks[/]"
        elif change.approved:
            note = "[yellow]approved (--allow-replace)[/]"
        table.add_row(
            f"{OP_MARK[change.op]} {change.op.value}",
            escape(change.name),
            escape(change.type),
            escape(", ".join(inputs)),
            note,
        )
    console.print(table)


def counts_table(result: PreflightResult) -> Table:
    """Planned resources by type (rows) and region (columns)."""
    data = counts(result.recording)
    regions = sorted(data["byRegion"], key=lambda name: (name == GLOBAL, name))
    table = Table(title="Resources by type and region", show_footer=True, title_justify="left")
    table.add_column("Type", footer="Total")
    for region in regions:
        table.add_column(region, justify="right", footer=str(data["byRegion"][region]))
    table.add_column("Total", justify="right", footer=str(data["total"]))
    for type_, per_region in data["byType"].items():
        cells = [str(per_region.get(region, "")) for region in regions]
        table.add_row(escape(type_), *cells, str(sum(per_region.values())))
    return table


def _policy_results(result: PreflightResult, console: Console) -> None:
    by_urn = {r.urn: r for r in result.recording.resources}
    if not result.findings:
        console.print(
            f"[green]Policies: no violations[/] ({len(result.policies)} policies checked)"
        )
        return
    for level in LEVELS:
        findings = [f for f in result.findings if f.enforcement_level == level]
        if not findings:
            continue
        style = LEVEL_STYLE[level]
        table = Table(
            title=f"[{style}]{level.capitalize()} violations ({len(findings)})[/]",
            title_justify="left",
            show_lines=True,
        )
        table.add_column("Policy", style=style, no_wrap=True)
        table.add_column("Resource")
        table.add_column("Message")
        table.add_column("Remediation")
        for f in findings:
            target = by_urn.get(f.urn)
            resource = (
                f"{escape(target.name)}\n[dim]{escape(target.type)}[/]"
                if target
                else "[dim](stack)[/]"
            )
            table.add_row(escape(f.policy_name), resource, escape(f.detail), escape(f.remediation))
        console.print(table)


def critical_path_table(result: PreflightResult) -> Table:
    """The deploy critical path with estimated start times and the estimated deploy time."""
    path = result.critical_path
    table = Table(
        title=(
            f"Deploy critical path: estimated [bold]{format_duration(path.total_seconds)}[/]"
            " [dim](typical creation times, preflight.critical_path)[/]"
        ),
        title_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("Resource")
    table.add_column("Type", style="dim")
    table.add_column("Region")
    table.add_column("Starts at", justify="right")
    table.add_column("Takes", justify="right")
    for index, step in enumerate(path.steps, 1):
        table.add_row(
            str(index),
            escape(step.name),
            escape(step.type),
            escape(step.region or GLOBAL),
            format_duration(step.start),
            format_duration(step.duration),
        )
    return table


def _advisories(result: PreflightResult, console: Console) -> None:
    """Account settings the plan depends on but does not manage (never fatal)."""
    for line in result.advisories:
        console.print(f"[bold yellow]Advisory:[/] {escape(line)}", soft_wrap=True)


def _verdict(result: PreflightResult, console: Console) -> None:
    t = result.timings
    console.print(
        f"[dim]recorded in {t.record_seconds:.2f}s with {t.analyze_calls} Analyze calls"
        f" alongside (then waited {1000 * t.analyze_wait_seconds:.0f} ms for replies),"
        f" AnalyzeStack {1000 * t.analyze_stack_seconds:.0f} ms, total {t.total_seconds:.2f}s[/]"
    )
    advisory = sum(1 for f in result.findings if f.enforcement_level == "advisory")
    if not result.blocked:
        console.print(f"[bold green]Preflight passed[/] ({advisory} advisory finding(s))")
        return
    mandatory = result.mandatory
    if mandatory:
        names = sorted({f.policy_name for f in mandatory})
        console.print(
            f"[bold red]Preview blocked:[/] {len(mandatory)} mandatory violation(s) of"
            f" {', '.join(escape(n) for n in names)}"
        )
    for change in result.diff.blocking if result.diff is not None else []:
        console.print(
            f"[bold red]Preview blocked:[/] {escape(change.reason())}"
            f" (a reviewer can approve it: --allow-replace {escape(change.name)})",
            soft_wrap=True,
        )


SECTIONS: list[Section] = [
    _header,
    _plan,
    _counts,
    _diff,
    _policy_results,
    _critical_path,
    render_cost,
    _advisories,
    _verdict,
]
"""The report's parts, in order: a new part is one function inserted here."""
