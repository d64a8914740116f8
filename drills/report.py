"""Drill reports: Markdown for people, JSON for machines, a timeline chart as PNG."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .result import DrillResult, Measurement


def _fmt_seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 10:
        return f"{value:.3f} s"
    return f"{value:.1f} s"


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def _latency(stats: dict[str, float] | None) -> str:
    if not stats:
        return "-"
    return f"{stats['p50'] * 1000:.0f} / {stats['max'] * 1000:.0f} ms"


def _yes(value: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "not evaluated"}[value]


def _table(headers: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines.extend(
        "| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in row) + " |"
        for row in rows
    )
    return lines


def _lost(m: Measurement) -> str:
    if m.rpo_canaries_lost is None:
        return m.notes or "n/a"
    return f"{m.rpo_canaries_lost} / {m.canaries_acknowledged}"


def to_markdown(result: DrillResult, chart: str | None = "timeline.png") -> str:
    """The report as Markdown."""
    from .scenarios import SCENARIOS

    title = SCENARIOS[result.scenario].title if result.scenario in SCENARIOS else result.scenario
    obj = result.objectives
    lines = [
        f"# DR drill: {title} - stack `{result.stack}`",
        "",
        f"**Status: {result.status}**"
        + (f" ({result.reason})" if result.reason and not result.succeeded else ""),
        "",
        *([f"**{result.headline_note}**", ""] if result.headline_note else []),
        f"Drill `{result.drill_id}`, started {_when(result.started_at)}, took {_fmt_seconds(result.duration_seconds)}.",
        "",
        "## Objectives",
        "",
    ]
    measured = result.measured
    rto_met = (
        None
        if not measured or obj is None or result.rto_seconds is None
        else result.rto_seconds <= obj.rto_seconds
    )
    rpo_met = (
        None
        if not measured or obj is None or result.rpo_seconds is None
        else result.rpo_seconds <= obj.rpo_seconds
    )
    lost = result.canaries_lost if result.canaries_lost is not None else "n/a"
    lines += _table(
        ["Objective", "Target", "Measured", "Met"],
        [
            [
                "RTO",
                _fmt_seconds(obj.rto_seconds if obj else None),
                _fmt_seconds(result.rto_seconds) if measured else "not measured",
                _yes(rto_met),
            ],
            [
                "RPO",
                _fmt_seconds(obj.rpo_seconds if obj else None),
                f"{_fmt_seconds(result.rpo_seconds)} ({lost} canaries lost)"
                if measured
                else "not measured",
                _yes(rpo_met),
            ],
        ],
    )
    verdict = (
        _yes(result.objectives_met)
        if measured
        else f"not measured (the drill {result.status}; only a drill that ran to the end measures them)"
    )
    resolution = (
        f"{result.resolution_seconds:g} s" if result.resolution_seconds is not None else "n/a"
    )
    lines += ["", f"Objectives met: {verdict}", ""]
    lines += [
        "RTO runs, per store, from that store's own fault (a planned move: its own request; "
        "a lost region: its last acknowledged write there) until a write through the name "
        "applications use succeeds in the new region, along the path shown per store. The "
        "headline is the time from a phase's first store fault until every store of it "
        "accepts writes again. RPO counts acknowledged canaries (cache: keys) missing "
        "afterwards; in seconds it is an upper bound, from the last surviving write to the "
        "last lost one; AuroraGlobalDBRPOLag sampled before the action is shown beside it. "
        "Its resolution is the log's blind window around the fault (last acknowledged write "
        "before it, first attempt after it); when a probe write stalled there for more than "
        "a few canary intervals, the RPO is not measured. Canary interval: "
        f"{resolution}.",
        "",
        "## Measurements",
        "",
    ]
    lines += _table(
        [
            "Phase",
            "Store",
            "Action",
            "From -> To",
            "RTO",
            "RTO from",
            "Canaries lost / acknowledged",
            "RPO",
            "RPO resolution",
            "RPO lag before",
            "Replication p50 / max",
            "Back p50 / max",
        ],
        [
            [
                m.phase,
                m.store,
                m.action,
                f"{m.from_region} -> {m.to_region}",
                _fmt_seconds(m.rto_seconds),
                m.rto_from or "-",
                _lost(m),
                _fmt_seconds(m.rpo_seconds),
                _fmt_seconds(m.rpo_resolution_seconds),
                "-" if m.rpo_lag_before_ms is None else f"{m.rpo_lag_before_ms:.0f} ms",
                _latency(m.replication_latency),
                _latency(m.replication_back_latency),
            ]
            for m in result.measurements
        ],
    )
    paths = [(m.phase, m.store, m.path) for m in result.measurements if m.path]
    if paths:
        lines += ["", "Probe paths:", ""]
        lines += [f"- {phase} {store_}: `{path}`" for phase, store_, path in paths]
    lines += ["", "## Data plane", ""]
    plane = result.data_plane or {}
    if not plane:
        lines.append(
            "No application path configured (settings dns_server): the probes used the "
            "control plane's view, not the names applications resolve."
        )
    for store_ in ("aurora", "cache"):
        if store_ in plane:
            e = plane[store_]
            lines.append(f"- {store_}: {e['engine']} {e['version']} at {e['address']}")
    if plane.get("dns"):
        d = plane["dns"]
        lines.append(f"- dns: {d['server']}, TTL {d.get('ttl_seconds')} s")
    lines += ["", "## Probe errors", ""]
    if not result.probe_errors:
        lines.append("None.")
    lines += (
        _table(
            ["Phase", "Store", "Failed writes", "From", "To", "Error"],
            [
                [
                    e["phase"],
                    e["store"],
                    str(e["count"]),
                    _when(e["first_at"]),
                    _when(e["last_at"]),
                    str(e["error"])[:200],
                ]
                for e in result.probe_errors
            ],
        )
        if result.probe_errors
        else []
    )
    lines += ["", "## Steps", ""]
    lines += _table(
        ["#", "Step", "Status", "Duration", "Attempts", "Undo", "Notes"],
        [
            [
                str(i),
                f"`{s.name}` {s.title}",
                s.status,
                _fmt_seconds(s.duration_seconds),
                str(s.attempts),
                s.undo_status or "-",
                (s.error or s.undo_error or "")[:200],
            ]
            for i, s in enumerate(result.steps, 1)
        ],
    )
    if result.preconditions:
        lines += ["", "## Preconditions", ""]
        lines += [
            f"- {'ok' if c['ok'] else 'FAILED'} `{c['name']}`: {c['detail']}"
            for c in result.preconditions
        ]
    checks = result.invariant_checks
    failed = [c for c in checks if not c.get("ok")]
    lines += [
        "",
        "## Invariant: exactly one writer",
        "",
        f"Checked {len(checks)} times (after every step); "
        + (
            "held every time."
            if not failed
            else f"**violated {len(failed)} times**: "
            + "; ".join(str(c.get("detail", "")) for c in failed)
        ),
    ]
    if result.pulumi:
        lines += ["", "## Pulumi (Automation API)", ""]
        lines += _table(
            ["Operation", "Step", "Duration", "Changes", "Policy findings", "Error"],
            [
                [
                    p["kind"],
                    p.get("step", ""),
                    _fmt_seconds(p.get("duration_seconds")),
                    ", ".join(f"{k}={v}" for k, v in sorted(p.get("change_summary", {}).items()))
                    or "-",
                    str(len(p.get("policy", []))),
                    (p.get("error") or "")[:160],
                ]
                for p in result.pulumi
            ],
        )
    lines += ["", "## Timeline", ""]
    lines += _table(
        ["t (s)", "Step", "Event"],
        [
            [
                f"{e['at'] - result.started_at:8.3f}",
                str(e.get("step", "")),
                f"{e['kind']}: {e['message']}",
            ]
            for e in result.timeline
            if e["kind"] != "check"
        ],
    )
    if chart:
        lines += ["", f"![timeline]({chart})"]
    return "\n".join(lines) + "\n"


REASON_WIDTH = 400
"""Characters of the reason in the terminal summary: one precondition's refusal with its
remedy fits; several are cut at a word, and report.md has them all."""


def summary_lines(result: DrillResult) -> list[str]:
    """At most ~20 lines: status, per phase and store the RTO and RPO, objectives, resolution."""
    obj = result.objectives
    lines = [f"{result.scenario} on {result.stack}: {result.status}"]
    if result.headline_note:
        lines.append(f"  {result.headline_note}")
    if result.reason and not result.succeeded:
        # whole words, long enough for a refusal's remedy ("pass --allow-data-loss ..."); the
        # report has the reason in full
        reason = textwrap.shorten(result.reason, REASON_WIDTH, placeholder=" ... (report.md)")
        lines.append(f"  reason: {reason}")
    for m in result.measurements[:12]:
        rpo = (
            f"lost {m.rpo_canaries_lost}/{m.canaries_acknowledged}, {_fmt_seconds(m.rpo_seconds)}"
            if m.rpo_canaries_lost is not None
            else (m.notes or "-")
        )
        resolution = (
            f" (resolution {_fmt_seconds(m.rpo_resolution_seconds)})"
            if m.rpo_resolution_seconds is not None
            else ""
        )
        lines.append(
            f"  {m.phase:<9} {m.store:<28} {m.from_region} -> {m.to_region}  "
            f"RTO {_fmt_seconds(m.rto_seconds)}  RPO {rpo}{resolution}"
        )
    if result.measured and obj is not None:
        lines.append(
            f"  headline RTO {_fmt_seconds(result.rto_seconds)} (objective {obj.rto_seconds:g} s), "
            f"RPO {_fmt_seconds(result.rpo_seconds)} (objective {obj.rpo_seconds:g} s): "
            f"met {_yes(result.objectives_met)}"
        )
    else:
        lines.append(f"  objectives not measured (the drill {result.status})")
    if result.resolution_seconds is not None:
        lines.append(f"  resolution (canary interval): {result.resolution_seconds:g} s")
    return lines


def _rto_lanes(result: DrillResult) -> list[Measurement]:
    """Measurements with an RTO, one lane each (phase x store)."""
    return [m for m in result.measurements if m.rto_seconds is not None and m.fault_at is not None]


def timeline_png(result: DrillResult, path: Path) -> Path:
    """The timeline chart (:func:`timeline_figure`) as a PNG."""
    import matplotlib.pyplot as plt

    fig = timeline_figure(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def timeline_figure(result: DrillResult) -> Any:
    """Step bars, canary writes per region (ok/failed), the measured RTO per store, and
    action/takeover/undo markers, on the scale of the drill itself. The objectives are drawn
    where they fall on that scale; one that falls outside it (a 600 s RTO objective against a
    drill of a few seconds) is an arrow at the edge with its value, so the drill keeps its
    scale instead of shrinking to a sliver."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.transforms import blended_transform_factory

    start = result.started_at
    steps = [s for s in result.steps if s.started_at is not None]
    regions = sorted({str(c["region"]) for c in result.canaries if c["region"]})
    rtos = _rto_lanes(result)
    lanes = len(steps) + len(regions) + len(rtos)
    fig, ax = plt.subplots(figsize=(13, max(3.0, 0.38 * lanes + 1.6)))
    last = [
        result.ended_at,
        *(s.ended_at for s in steps if s.ended_at is not None),
        *(float(e["at"]) for e in result.timeline),
        *(float(c["written_at"]) + float(c.get("duration") or 0.0) for c in result.canaries),
        *(m.fault_at + (m.rto_seconds or 0.0) for m in rtos if m.fault_at is not None),
    ]
    span = max(max(last) - start, 0.5)
    xmin, xmax = -0.03 * span, span * 1.03
    ax.set_xlim(xmin, xmax)
    edge = blended_transform_factory(ax.transData, ax.transAxes)
    colors = {"done": "#4c9a2a", "failed": "#c0392b", "running": "#e67e22", "pending": "#bdc3c7"}
    for i, s in enumerate(steps):
        begin = (s.started_at or start) - start
        end = (s.ended_at or result.ended_at) - start
        ax.barh(
            i,
            max(end - begin, 0.001),
            left=begin,
            color=colors.get(s.status, "#7f8c8d"),
            height=0.6,
        )
        label = s.name + (f" (undo {s.undo_status})" if s.undo_status else "")
        if begin > 0.7 * xmax:  # late steps are labelled on their left, inside the scale
            ax.text(begin, i, f"{label} ", va="center", ha="right", fontsize=7)
        else:
            ax.text(begin, i, f" {label}", va="center", fontsize=7)
    for j, region in enumerate(regions):
        y = len(steps) + j
        ok = [c["written_at"] - start for c in result.canaries if c["region"] == region and c["ok"]]
        bad = [
            c["written_at"] - start
            for c in result.canaries
            if c["region"] == region and not c["ok"]
        ]
        ax.scatter(
            ok,
            [y] * len(ok),
            marker="o",
            s=12,
            color="#27ae60",
            label="canary ok" if j == 0 else None,
        )
        ax.scatter(
            bad,
            [y] * len(bad),
            marker="x",
            s=14,
            color="#c0392b",
            label="canary failed" if j == 0 else None,
        )
    for k, m in enumerate(rtos):
        y = len(steps) + len(regions) + k
        assert m.fault_at is not None and m.rto_seconds is not None
        fault = m.fault_at - start
        ax.barh(
            y,
            m.rto_seconds,
            left=fault,
            color="#8e44ad",
            alpha=0.35,
            height=0.5,
            label="measured RTO (fault -> writes accepted)" if k == 0 else None,
        )
        ax.text(
            fault + m.rto_seconds,
            y,
            f" {_fmt_seconds(m.rto_seconds)}",
            va="center",
            fontsize=7,
            clip_on=True,
        )
    styles = {
        "action": ("#2c3e50", "--", "action"),
        "takeover": ("#8e44ad", "-", "writes accepted"),
        "undone": ("#d35400", ":", "undo"),
        "loss": ("#c0392b", "-.", "region lost"),
    }
    seen: set[str] = set()
    for event in result.timeline:
        kind = event["kind"]
        if kind == "action" and str(event.get("step", "")).startswith("undo:"):
            kind = "undone"
        if kind not in styles:
            continue
        color, style, label = styles[kind]
        ax.axvline(
            event["at"] - start,
            color=color,
            linestyle=style,
            linewidth=0.9,
            label=label if label not in seen else None,
        )
        seen.add(label)
    notes = _objectives(ax, edge, result, xmin, xmax)
    ax.set_yticks(range(lanes))
    ax.set_yticklabels(
        [""] * len(steps)
        + [f"canaries {r}" for r in regions]
        + [f"RTO {m.phase} {m.store}" for m in rtos],
        fontsize=7,
    )
    ax.invert_yaxis()
    ax.set_xlabel("\n".join(["seconds since the drill started", *notes]), fontsize=8)
    figures = (
        f"RTO {_fmt_seconds(result.rto_seconds)}, canaries lost {result.canaries_lost}"
        if result.measured
        else "objectives not measured"
    )
    ax.set_title(f"{result.scenario} on {result.stack}: {result.status} - {figures}", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, borderaxespad=0.0)
    fig.tight_layout()
    return fig


def _objectives(ax: Any, edge: Any, result: DrillResult, xmin: float, xmax: float) -> list[str]:
    """The RTO objective after each phase's fault and the RPO window before it: drawn where
    they fall inside the drill's scale, a short arrow at the edge where not. The RPO window is a
    strip along the top edge rather than a wash over the whole chart. Returns one note per
    off-scale objective (with its value), which the caller prints under the axis, where it
    cannot cover a step's label."""
    obj = result.objectives
    if obj is None:
        return []
    start = result.started_at
    faults = sorted({m.fault_at - start for m in result.measurements if m.fault_at is not None})
    red, dark = "#e74c3c", "#c0392b"
    notes: list[str] = []

    def edge_arrow(x: float, towards: int, color: str) -> None:
        ax.annotate(
            "",
            xy=(x, 0.992),
            xycoords=edge,
            xytext=(-18 * towards, 0),
            textcoords="offset points",
            arrowprops={"arrowstyle": "-|>", "color": color},
        )

    for n, fault in enumerate(faults):
        first = n == 0
        deadline = fault + obj.rto_seconds
        if deadline <= xmax:
            ax.axvline(deadline, color=red, linewidth=1.4, label="RTO objective" if first else None)
        else:
            edge_arrow(xmax, 1, red)
            notes.append(
                f"RTO objective {obj.rto_seconds:g} s after the fault at {fault:.2f} s:"
                f" at {deadline:.0f} s, off scale (arrow, right)"
            )
            if first:
                ax.plot([], [], color=red, linewidth=1.4, label="RTO objective (off scale: arrow)")
        begin = fault - obj.rpo_seconds
        ax.axvspan(
            max(begin, xmin),
            fault,
            ymin=0.985,
            ymax=1.0,
            color=red,
            alpha=0.5,
            label="RPO objective (window before each fault)" if first else None,
        )
        if begin < xmin:
            edge_arrow(xmin, -1, dark)
            notes.append(
                f"RPO window {obj.rpo_seconds:g} s before the fault at {fault:.2f} s:"
                " starts off scale (arrow, left)"
            )
    return notes


def write_reports(result: DrillResult, directory: Path) -> dict[str, Path]:
    """Write ``report.md``, ``report.json`` and ``timeline.png`` into ``directory/<drill id>``."""
    target = directory / result.drill_id
    target.mkdir(parents=True, exist_ok=True)
    png = timeline_png(result, target / "timeline.png")
    md = target / "report.md"
    md.write_text(to_markdown(result, png.name), encoding="utf-8")
    js = target / "report.json"
    js.write_text(json.dumps(_jsonable(result.to_json()), indent=2), encoding="utf-8")
    return {"markdown": md, "json": js, "png": png}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
