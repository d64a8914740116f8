"""``--markdown FILE``: a compact report for a pull-request comment or a GitHub job summary.

What a reviewer needs in one screen: the verdict, the counts, the diff against the baseline
(what would be created, updated, replaced or deleted, and what blocks), the policy results by
level and the deploy critical path. Long lists fold into ``<details>``. Like the terminal
report it shows names, types and (scrubbed) policy text, never input values.

The report is built from ``SECTIONS``, one function per part, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from preflight.changes import Op
from preflight.cost import cost_document
from preflight.cost_diff import CostDelta, delta_markdown
from preflight.critical_path import GLOBAL
from preflight.jsonout import counts
from preflight.pipeline import LEVELS, PreflightResult
from preflight.report import OP_VERB, format_duration, path_title

Section = Callable[[PreflightResult], list[str]]
"""Returns the lines of one part of the report (empty to leave it out)."""

OP_SIGN = {
    Op.CREATE: "+ create",
    Op.UPDATE: "~ update",
    Op.REPLACE: "+- replace",
    Op.DELETE: "- delete",
    Op.SAME: "= same",
}

FOLD_AFTER = 15
"""Tables longer than this go into a ``<details>`` block."""


def cell(text: str) -> str:
    """``text`` safe inside a Markdown table cell (pipes escaped, line breaks kept)."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>").strip()


def code(text: str) -> str:
    """``text`` as inline code (a text with a backtick gets a double-backtick span)."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def folded(summary: str, lines: list[str], *, fold: bool = True) -> list[str]:
    """``lines`` inside ``<details>`` with ``summary`` (unless ``fold`` is false)."""
    if not fold:
        return lines
    return [f"<details><summary>{summary}</summary>", "", *lines, "", "</details>"]


def _header(result: PreflightResult) -> list[str]:
    rec = result.recording
    verdict = "❌ blocked" if result.blocked else "✅ would go ahead"
    regions = ""
    primary, secondary = rec.outputs.get("primaryRegion"), rec.outputs.get("secondaryRegion")
    if isinstance(primary, str) and isinstance(secondary, str):
        regions = f" · {primary} → {secondary}"
    return [f"## preflight {code(f'{rec.project}/{rec.stack}')}: {verdict}{regions}", ""]


def _summary(result: PreflightResult) -> list[str]:
    data = counts(result.recording)
    by_region = ", ".join(f"{region} {n}" for region, n in sorted(data["byRegion"].items()))
    lines = []
    if result.diff is not None:
        plan = ", ".join(f"{result.diff.count(op)} {OP_VERB[op]}" for op in Op)
        lines.append(f"- **Plan** against {code(Path(result.diff.against).name)}: {plan}")
    lines.append(f"- **Resources**: {data['total']} ({by_region})")
    levels = [f"{sum(f.enforcement_level == lv for f in result.findings)} {lv}" for lv in LEVELS]
    lines.append(
        f"- **Policies**: {', '.join(levels[:-1])} ({len(result.policies)} policies checked)"
    )
    lines.append(
        f"- **{path_title(result)}**: {format_duration(result.critical_path.total_seconds)}"
    )
    cost = cost_document(result)
    if cost is not None:
        budget = cost.get("budgetUsd")
        within = (cost.get("gate") or {}).get("withinBudget")
        verdict = "" if within is None else ", within the gate" if within else ", over the gate"
        if not cost["complete"] and within is not False:
            verdict = ", not confirmed by the gate"
        of_budget = f" (budget ${budget:,.0f}{verdict})" if budget is not None else ""
        at_least = "" if cost["complete"] else "at least "
        lines.append(
            f"- **Monthly cost estimate**: {at_least}${cost['monthlyUsd']:,.0f}{of_budget}"
        )
        if not cost["complete"]:
            gaps = cost["unpriced"]
            shown = "; ".join(
                f"{code(g['name'])} {cell(g['item'])} in {g['region']}: {cell(g['reason'])}"
                for g in gaps[:5]
            )
            more = f"; and {len(gaps) - 5} more" if len(gaps) > 5 else ""
            lines.append(
                f"  - ⚠️ **Incomplete**: {len(gaps)} item(s) not priced count $0, so the"
                f" estimate is a lower bound: {shown}{more}"
            )
        lines.extend(
            f"  - 💡 **{r['title']}** would cost ${r['alternativeUsd']:,.0f} instead of"
            f" ${r['currentUsd']:,.0f} a month (saves ${r['savingUsd']:,.0f})"
            for r in cost["recommendations"]
        )
        against = getattr(getattr(result, "cost", None), "against", None)
        if isinstance(against, CostDelta):
            lines.extend(delta_markdown(against))
    return [*lines, ""]


def _blocking(result: PreflightResult) -> list[str]:
    reasons = [
        f"- mandatory policy {code(f.policy_name)} on {code(_resource_name(result, f.urn))}:"
        f" {cell(f.detail)}"
        for f in result.mandatory
    ]
    if result.diff is not None:
        reasons += [
            f"- {cell(c.reason())}; a reviewer can approve it with"
            f" {code(f'--allow-replace {c.name}')}"
            for c in result.diff.blocking
        ]
    return ["### Blocking", "", *reasons, ""] if reasons else []


def _changes(result: PreflightResult) -> list[str]:
    diff = result.diff
    if diff is None:
        return []
    unused = [
        f"- {code(f'--allow-replace {entry}')} matched no replacement or deletion."
        for entry in diff.unused_approvals
    ]
    if unused:
        unused.append("")
    if diff.unchanged:
        return [
            f"No changes: the plan matches {code(Path(diff.against).name)}"
            f" ({len(diff.changes)} resources unchanged).",
            "",
            *unused,
        ]
    rows = []
    for c in diff.visible:
        inputs = c.replaced_by if c.op is Op.REPLACE else c.changed
        note = "blocks" if c.blocks else "approved" if c.approved else ""
        if c.stateful and c.op in (Op.REPLACE, Op.DELETE):
            note = f"stateful, {note}"
        rows.append(
            [OP_SIGN[c.op], code(c.name), code(c.type), ", ".join(code(i) for i in inputs), note]
        )
    lines = table(["Op", "Resource", "Type", "Inputs", ""], rows)
    fold = len(rows) > FOLD_AFTER
    title = f"### Changes ({len(rows)}; {diff.count(Op.SAME)} unchanged)"
    return [title, "", *folded(f"{len(rows)} changes", lines, fold=fold), "", *unused]


def _resource_name(result: PreflightResult, urn: str) -> str:
    for r in result.recording.resources:
        if r.urn == urn:
            return r.name
    return "(stack)"


def _policies(result: PreflightResult) -> list[str]:
    if not result.findings:
        return [f"### Policies: no violations ({len(result.policies)} policies checked)", ""]
    lines = ["### Policy results", ""]
    for level in LEVELS:
        found = [f for f in result.findings if f.enforcement_level == level]
        if not found:
            continue
        rows = [
            [code(f.policy_name), code(_resource_name(result, f.urn)), f.detail, f.remediation]
            for f in found
        ]
        body = table(["Policy", "Resource", "Message", "Remediation"], rows)
        title = f"{level.capitalize()} ({len(found)})"
        if level == "mandatory":
            lines += [f"#### {title}", "", *body, ""]
        else:
            lines += [*folded(title, body, fold=True), ""]
    return lines


def _critical_path(result: PreflightResult) -> list[str]:
    path = result.critical_path
    rows = [
        [
            str(index),
            code(step.name),
            code(step.type),
            step.region or GLOBAL,
            format_duration(step.start),
            format_duration(step.duration),
        ]
        for index, step in enumerate(path.steps, 1)
    ]
    body = table(["#", "Resource", "Type", "Region", "Starts at", "Takes"], rows)
    title = f"{path_title(result)}: {format_duration(path.total_seconds)}"
    return [*folded(title, body), ""]


SECTIONS: list[Section] = [_header, _summary, _blocking, _changes, _policies, _critical_path]
"""The report's parts, in order: a new part is one function inserted here."""


def compliance_section(report: Any) -> list[str]:
    """``### Compliance: <framework>``: counts by status, then every control in a table (folded
    when long); controls no rule covers are listed like the others."""
    counts = ", ".join(f"{n} {status}" for status, n in report.counts.items() if n)
    lines = [
        f"### Compliance: {report.name} {report.version}",
        "",
        f"{len(report.controls)} controls for stack {code(report.stack)}: {counts}.",
        "",
    ]
    if report.drill is not None:
        lines += [f"DR-testing evidence: {report.drill.summary()}", ""]
    rows = [
        [
            code(c.id),
            c.status,
            ", ".join(code(r) for r in c.rules) or "-",
            ", ".join(code(r) for r in c.resources[:8])
            + (f" (+{len(c.resources) - 8})" if len(c.resources) > 8 else "")
            or "-",
            c.reason,
        ]
        for c in report.controls
    ]
    body = table(["Control", "Status", "Rules", "Resources", "Reason"], rows)
    return [*lines, *folded(f"All {len(rows)} controls", body), ""]


def render_markdown(result: PreflightResult, compliance: Any = None) -> str:
    """The whole report as Markdown (secret plaintexts scrubbed), with the compliance section
    when a ``preflight.compliance.ComplianceReport`` is given."""
    lines: list[str] = []
    for section in SECTIONS:
        lines += section(result)
    if compliance is not None:
        lines += compliance_section(compliance)
    return result.scrub("\n".join(lines).rstrip() + "\n")


COMMENT_LIMIT = 65_536
"""The most characters GitHub accepts in a pull-request comment's body."""


def full_report_path(path: Path) -> Path:
    """Where the uncut report goes when ``path``'s would not fit a comment (``x.md`` -> ``x.full.md``)."""
    return path.with_name(f"{path.stem}.full{path.suffix or '.md'}")


def fit(text: str, limit: int, full_name: str) -> str:
    """``text`` cut at a line so that it fits ``limit`` characters, open ``<details>`` closed,
    with a last line naming the full report."""
    if len(text) <= limit:
        return text
    note = (
        f"\n> ✂️ Cut to fit a GitHub comment ({limit:,} characters): the full report"
        f" ({len(text):,} characters) is {code(full_name)}, next to this file in the run's"
        " artifacts.\n"
    )
    closing = "\n</details>\n"
    room = limit - len(note) - 1
    cut = text[: max(room, 0)]
    while True:
        cut = cut[: cut.rfind("\n") + 1] if "\n" in cut else ""
        opened = max(cut.count("<details>") - cut.count("</details>"), 0)
        if len(cut) + opened * len(closing) <= room or not cut:
            break
        cut = cut[:-1]
    return cut + closing * opened + note


def write_markdown(
    result: PreflightResult, path: Path, compliance: Any = None, limit: int = COMMENT_LIMIT
) -> None:
    """Write the report to ``path`` (parents created), cut to ``limit`` characters so it can be
    posted as a comment; a cut report's full text goes to :func:`full_report_path` beside it
    (the pull-request workflow uploads both as the run's artifact)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render_markdown(result, compliance)
    full = full_report_path(path)
    if len(text) > limit:
        full.write_text(text, encoding="utf-8")
        text = fit(text, limit, full.name)
    elif full.exists():
        full.unlink()  # from an earlier run: it no longer describes this report
    path.write_text(text, encoding="utf-8")
