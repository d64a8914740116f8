"""A drill's result: steps, timings, measurements (RTO, RPO), objectives, outputs.

Built from the journal and the canary log, so a resumed or rolled-back drill reports the same
way as one that ran straight through.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .canary import CanaryLog
from .journal import DRILL_SUCCEEDED, Journal
from .stackfile import Objectives, parse_objectives


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step as it ran."""

    name: str
    title: str
    phase: str
    status: str
    started_at: float | None
    ended_at: float | None
    duration_seconds: float | None
    attempts: int
    error: str | None
    undo_status: str | None
    undo_error: str | None


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one phase measured for one store."""

    phase: str
    store: str
    action: str
    from_region: str
    to_region: str
    rto_seconds: float | None
    rto_label: str
    rpo_canaries_lost: int | None
    rpo_seconds: float | None
    canaries_acknowledged: int | None
    replication_latency: dict[str, float] | None
    replication_back_latency: dict[str, float] | None
    notes: str = ""
    fault_at: float | None = None
    takeover_at: float | None = None
    rpo_lag_before_ms: float | None = None
    """AuroraGlobalDBRPOLag (CloudWatch) sampled just before the action."""
    rpo_resolution_seconds: float | None = None
    """From the last acknowledged write before the fault to the first attempt after it (the
    log's blind window): the RPO is known to within this."""
    path: str = ""
    """How the probe reached the store (e.g. ``dns <writer endpoint> -> postgresql tls
    verify-full``)."""
    rto_from: str = ""
    """What the RTO clock started on (the store's own request, or its last acknowledged write
    in a region that was lost)."""
    probe_stall_seconds: float | None = None
    """The longest probe write around the fault."""


@dataclass(frozen=True, slots=True)
class DrillResult:
    """The outcome of a drill (also what ``run``/``resume``/``rollback`` return)."""

    drill_id: str
    stack: str
    scenario: str
    status: str
    reason: str
    started_at: float
    ended_at: float
    steps: list[StepResult]
    measurements: list[Measurement]
    objectives: Objectives | None
    rto_seconds: float | None
    rpo_seconds: float | None
    canaries_lost: int | None
    objectives_met: bool | None
    outputs: dict[str, Any]
    preconditions: list[dict[str, Any]]
    invariant_checks: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    pulumi: list[dict[str, Any]]
    canaries: list[dict[str, Any]]
    reports: dict[str, str] = field(default_factory=dict)
    resolution_seconds: float | None = None
    """The canary interval: RTO and RPO are known to within this."""
    phase_rto: dict[str, float] = field(default_factory=dict)
    """Per phase: from its first store's fault until every store accepts writes again."""
    measured: bool = False
    """Whether the objectives were measured (only a drill that ran to the end measures them)."""
    headline_note: str = ""
    """What the figures mean when they are not an outage's (a lossy failover of a primary
    that still answered)."""
    data_plane: dict[str, Any] | None = None
    """What the probes reached: ``{"aurora": {"engine", "version", "address"}, "cache":
    {...}, "dns": {"server", "ttl_seconds"}}`` (None: no application path was configured)."""
    probe_errors: list[dict[str, Any]] = field(default_factory=list)
    """Failed probe writes, grouped per phase, store and error (count, first and last)."""

    @property
    def succeeded(self) -> bool:
        """Whether every step completed."""
        return self.status == DRILL_SUCCEEDED

    @property
    def duration_seconds(self) -> float:
        """Wall time of the drill."""
        return round(self.ended_at - self.started_at, 3)

    def step(self, name: str) -> StepResult:
        """A step by name."""
        return next(s for s in self.steps if s.name == name)

    def measurement(self, phase: str, store: str) -> Measurement:
        """A measurement by phase and store (``dynamodb`` matches ``dynamodb:<table>``)."""
        for m in self.measurements:
            if m.phase == phase and (m.store == store or m.store.split(":")[0] == store):
                return m
        raise KeyError(f"{phase}:{store}")

    def to_json(self) -> dict[str, Any]:
        """JSON-able form (the report's ``report.json``)."""
        data = asdict(self)
        data["objectives"] = self.objectives.to_json() if self.objectives else None
        data["duration_seconds"] = self.duration_seconds
        data["succeeded"] = self.succeeded
        return data


def _measurements(journal: Journal) -> list[Measurement]:
    found: list[Measurement] = []
    for raw in journal.state.get("measurements", {}).values():
        if raw["store"] == "rebuild":
            continue
        lost = raw.get("rpo_canaries_lost")
        found.append(
            Measurement(
                phase=raw["phase"],
                store=raw["store"],
                action=str(raw.get("action", "")),
                from_region=str(raw.get("from", "")),
                to_region=str(raw.get("to", "")),
                rto_seconds=raw.get("rto_seconds"),
                rto_label=str(raw.get("rto_label", "until writes succeed in the new primary")),
                rpo_canaries_lost=int(lost) if lost is not None else None,
                rpo_seconds=raw.get("rpo_seconds"),
                canaries_acknowledged=raw.get("canaries_acknowledged"),
                replication_latency=raw.get("replication_latency"),
                replication_back_latency=raw.get("replication_back_latency"),
                notes=str(raw.get("rpo_note", "")),
                fault_at=raw.get("fault_at"),
                takeover_at=raw.get("takeover_at"),
                rpo_lag_before_ms=(raw.get("rpo_lag_before") or {}).get("milliseconds"),
                rpo_resolution_seconds=raw.get("rpo_resolution_seconds"),
                path=str(raw.get("path", "")),
                rto_from=str(raw.get("rto_from") or raw.get("rto_label") or ""),
                probe_stall_seconds=raw.get("probe_stall_seconds"),
            )
        )
    return found


def build_result(journal: Journal, log: CanaryLog | None = None) -> DrillResult:
    """Assemble the result of a drill from its journal."""
    data = journal.data
    canaries = log if log is not None else CanaryLog(journal.canary_path)
    steps = [
        StepResult(
            name=s["name"],
            title=s["title"],
            phase=s.get("phase", ""),
            status=s["status"],
            started_at=s.get("started_at"),
            ended_at=s.get("ended_at"),
            duration_seconds=(
                round(s["ended_at"] - s["started_at"], 3)
                if s.get("ended_at") and s.get("started_at")
                else None
            ),
            attempts=int(s.get("attempts", 0)),
            error=s.get("error"),
            undo_status=s.get("undo_status"),
            undo_error=s.get("undo_error"),
        )
        for s in data["steps"]
    ]
    measurements = _measurements(journal)
    raw_objectives = (data.get("target") or {}).get("objectives")
    objectives = parse_objectives(raw_objectives) if raw_objectives else None
    phase_rto: dict[str, float] = {}
    spans: dict[str, tuple[float, float]] = {}
    for m in measurements:
        if m.takeover_at is not None and m.fault_at is not None:
            # each store counts from its own fault; the phase is out from its first store's
            # fault until the last of its stores accepts writes again
            first, last = spans.get(m.phase, (m.fault_at, m.takeover_at))
            spans[m.phase] = (min(first, m.fault_at), max(last, m.takeover_at))
    for name, (first, last) in spans.items():
        phase_rto[name] = round(last - first, 3)
    rpos = [m.rpo_seconds for m in measurements if m.rpo_seconds is not None]
    lost = [m.rpo_canaries_lost for m in measurements if m.rpo_canaries_lost is not None]
    measured = journal.status == DRILL_SUCCEEDED
    rto = max(phase_rto.values()) if phase_rto and measured else None
    rpo = max(rpos) if rpos and measured else None
    met: bool | None = None
    if measured and objectives is not None and (rto is not None or rpo is not None):
        met = (rto is None or rto <= objectives.rto_seconds) and (
            rpo is None or rpo <= objectives.rpo_seconds
        )
    return DrillResult(
        drill_id=journal.drill_id,
        stack=str(data["stack"]),
        scenario=str(data["scenario"]),
        status=journal.status,
        reason=str(data.get("reason", "")),
        started_at=float(data["created_at"]),
        ended_at=float(data["updated_at"]),
        steps=steps,
        measurements=measurements,
        objectives=objectives,
        rto_seconds=rto,
        rpo_seconds=rpo,
        canaries_lost=sum(lost) if lost and measured else None,
        objectives_met=met,
        outputs=dict(journal.state.get("outputs") or {}),
        preconditions=list(journal.state.get("preconditions", [])),
        invariant_checks=list(data.get("invariant_checks", [])),
        timeline=list(data.get("timeline", [])),
        pulumi=list(data.get("pulumi", [])),
        canaries=[asdict(c) for c in canaries.attempts()],
        resolution_seconds=(data.get("settings") or {}).get("canary_interval"),
        phase_rto=phase_rto,
        measured=measured,
        headline_note=_headline_note(journal),
        data_plane=journal.state.get("data_plane") or None,
        probe_errors=probe_errors(canaries),
    )


def probe_errors(log: CanaryLog) -> list[dict[str, Any]]:
    """Every failed write of the log, grouped by phase, store and error message (a probe that
    failed 40 times in a row with one message is one row with its count and time span)."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for c in log.attempts():
        if c.ok:
            continue
        key = (c.phase, c.store, c.error)
        row = groups.setdefault(
            key,
            {"phase": c.phase, "store": c.store, "error": c.error, "count": 0,
             "first_at": c.written_at, "last_at": c.written_at},
        )  # fmt: skip
        row["count"] += 1
        row["first_at"] = min(row["first_at"], c.written_at)
        row["last_at"] = max(row["last_at"], c.written_at)
    return sorted(groups.values(), key=lambda r: (r["first_at"], r["store"]))


def _headline_note(journal: Journal) -> str:
    answered = [
        name
        for name, ph in (journal.state.get("phases") or {}).items()
        if ph.get("primary_answered")
    ]
    if not answered:
        return ""
    return (
        f"The primary region still answered (phase {', '.join(answered)}): this was a lossy "
        "managed failover (AllowDataLoss) of a healthy primary while it took writes. It "
        "measures what AWS does, not an outage."
    )
