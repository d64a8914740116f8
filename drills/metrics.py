"""The figures: where a store's RTO starts and ends, the RPO's actual resolution, and Aurora
global database lag as AWS itself reports it in CloudWatch.

The drill never reads the secondary cluster to learn how far behind it is (the Data API refuses
statements there). It reads the metrics Aurora publishes for each secondary cluster, in that
cluster's region (Aurora User Guide, "Amazon CloudWatch metrics for Amazon Aurora", cluster-level
metrics; "Performing switchovers for Amazon Aurora global databases": "Some CloudWatch metrics,
such as replication lag, are only available for secondary Regions"):

- ``AuroraGlobalDBReplicationLag``: milliseconds of lag replicating updates from the primary;
- ``AuroraGlobalDBRPOLag``: milliseconds the secondary is behind the primary for user
  transactions, the data a lossy failover at that moment would lose.

Namespace ``AWS/RDS``, unit Milliseconds. Which dimensions a datapoint carries is not the
drill's to assume (``DBClusterIdentifier`` with ``SourceRegion``, as the stack's alarms read
it, or ``DBClusterIdentifier`` alone), and GetMetricStatistics answers only for the exact
published combination ("If a specific combination of dimensions was not published, you can't
retrieve statistics for it", CloudWatch API Reference). So the drill first lists the metrics
naming the secondary cluster (ListMetrics matches any combination that includes it), then reads
each and keeps the worst.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .canary import Canary, PhaseRun
from .engine import DrillContext

REPLICATION_LAG = "AuroraGlobalDBReplicationLag"
RPO_LAG = "AuroraGlobalDBRPOLag"
WINDOW_SECONDS = 300.0
"""How far back to look for the latest datapoint (the metrics are published every minute)."""


@dataclass(frozen=True, slots=True)
class LagSample:
    """The worst value of one metric over the last period."""

    metric: str
    cluster: str
    region: str
    milliseconds: float
    at: float
    """When the drill sampled it."""

    def to_json(self) -> dict[str, Any]:
        """JSON-able."""
        return {
            "metric": self.metric,
            "cluster": self.cluster,
            "region": self.region,
            "milliseconds": self.milliseconds,
            "at": self.at,
        }


def aurora_lag(
    ctx: DrillContext, secondary_region: str, metric: str = REPLICATION_LAG
) -> LagSample | None:
    """The worst ``metric`` for the secondary cluster over its latest minute of data, across
    every dimension combination CloudWatch holds for that cluster (None when there is no
    datapoint in the last five minutes)."""
    cluster = ctx.target.aurora[secondary_region].identifier
    now = time.time()
    listed = ctx.aws.call(
        "cloudwatch",
        secondary_region,
        "list_metrics",
        Namespace="AWS/RDS",
        MetricName=metric,
        Dimensions=[{"Name": "DBClusterIdentifier", "Value": cluster}],
    )
    combinations = {
        tuple(sorted((d["Name"], d["Value"]) for d in found.get("Dimensions", [])))
        for found in listed.get("Metrics", [])
    }
    latest: tuple[Any, float] | None = None
    for combination in sorted(combinations):
        result = ctx.aws.call(
            "cloudwatch",
            secondary_region,
            "get_metric_statistics",
            Namespace="AWS/RDS",
            MetricName=metric,
            Dimensions=[{"Name": name, "Value": value} for name, value in combination],
            StartTime=datetime.fromtimestamp(now - WINDOW_SECONDS, tz=UTC),
            EndTime=datetime.fromtimestamp(now + 1, tz=UTC),
            Period=60,
            Statistics=["Maximum"],
            Unit="Milliseconds",
        )
        points = sorted(result.get("Datapoints", []), key=lambda p: p["Timestamp"])
        if not points:
            continue
        point = (points[-1]["Timestamp"], float(points[-1]["Maximum"]))
        if (
            latest is None
            or point[0] > latest[0]
            or (point[0] == latest[0] and point[1] > latest[1])
        ):
            latest = point
    if latest is None:
        return None
    return LagSample(metric, cluster, secondary_region, latest[1], now)


# -- the figures a phase reports, computed from the canary log ------------------------------

STALL_INTERVALS = 5.0
"""A probe write that takes longer than this many canary intervals around the fault stalled:
the drill was blind for that long, so its RPO is reported as not measured (issue 18 item 4:
"a stalled probe makes '0 lost' vacuous")."""


def first_write_wait(interval: float) -> float:
    """How long a move waits for its probe's first write before it is requested: up to
    :data:`STALL_INTERVALS` canary intervals, at least a second (a first TLS handshake on a busy
    machine); a probe that takes longer is a stall the resolution reports anyway."""
    return max(STALL_INTERVALS * interval, 1.0)


def loss_fault_time(contacts: list[float], *, answered: bool, asked: float) -> float:
    """Where RTO starts when the primary region is declared lost: the last moment the drill
    knew it answered (its last acknowledged write there), an upper bound on the outage start.
    A region that still answers (a lossy failover of a live primary) has no outage: RTO
    starts when the drill asked, as for a planned move's first action."""
    if answered or not contacts:
        return asked
    return max(contacts)


def first_write(acknowledged: list[Canary], region: str, since: float) -> float | None:
    """Where RTO ends: the acknowledgement of the first write through the applications' name
    that succeeded in ``region`` and was sent at or after ``since`` (the request: a write
    acknowledged there before the move is the old primary's, not a takeover)."""
    found = [c.acked_at for c in acknowledged if c.region == region and c.written_at >= since]
    return min(found) if found else None


def rto_start(
    *,
    region_lost: bool,
    src: str,
    action: str,
    requested_at: float,
    declared_at: float,
    acknowledged: list[Canary],
) -> tuple[float, str]:
    """Where one store's RTO starts, and what it started on (``rto_from``).

    A planned move (or a lossy one of a primary that still answered) starts on the store's own
    request: the store accepted writes until then, whatever other stores of the phase did
    before. A lost region starts on the store's own last acknowledged write there (an upper
    bound on when that store's outage began), or when the region was declared lost if the
    store had none."""
    if region_lost:
        contacts = [c.acked_at for c in acknowledged if c.region == src and c.ok]
        contacts = [t for t in contacts if t <= declared_at]
        if contacts:
            return max(contacts), f"last acknowledged write in {src} before it was lost"
        return declared_at, f"{src} declared lost"
    return requested_at, f"request: {action}"


@dataclass(frozen=True, slots=True)
class Resolution:
    """How finely the log saw the fault: the blind window around it and the longest probe
    write in it."""

    seconds: float | None
    """From the last acknowledged write in the source region at or before the fault to the
    first attempt that ended after it (to the fault itself when none did)."""
    stall_seconds: float
    """The longest single write attempt in that window."""
    measured: bool
    why: str = ""
    """Why the RPO is not measured (empty when it is)."""


def rpo_resolution(attempts: list[Canary], src: str, fault: float, interval: float) -> Resolution:
    """The RPO's actual resolution from the log of one store's attempts in one phase (issue 18
    item 4: "the last acknowledged canary before the fault and the first after"); not
    measured when nothing was acknowledged before the fault or a write in the window stalled
    longer than :data:`STALL_INTERVALS` canary intervals."""
    before = [c for c in attempts if c.ok and c.region == src and c.acked_at <= fault]
    if not before:
        return Resolution(None, 0.0, False, f"no write acknowledged in {src} before the fault")
    last = max(before, key=lambda c: c.acked_at)
    after = [c for c in attempts if c.acked_at > fault]
    end = min(c.acked_at for c in after) if after else fault
    window = [c for c in attempts if c.acked_at >= last.written_at and c.written_at <= end]
    stall = max(c.duration for c in window)
    seconds = round(end - last.acked_at, 3)
    limit = STALL_INTERVALS * interval
    if stall > limit:
        return Resolution(
            seconds,
            round(stall, 3),
            False,
            f"not measured: a probe write took {stall:.3f} s around the fault (more than "
            f"{STALL_INTERVALS:g} canary intervals of {interval:g} s)",
        )
    return Resolution(seconds, round(stall, 3), True)


def store_fault(run: PhaseRun, m: dict[str, Any]) -> tuple[float, str]:
    """:func:`rto_start` for one store's measurement ``m`` of ``run`` (its request time
    ``m["requested_at"]``, the phase's declared loss, the store's acknowledged writes)."""
    declared = float(run.record.get("fault_at", m.get("requested_at", time.time())))
    return rto_start(
        region_lost=run.region_lost,
        src=run.src,
        action=str(m.get("action", "")),
        requested_at=float(m.get("requested_at", declared)),
        declared_at=declared,
        acknowledged=run.acknowledged(str(m["store"])),
    )
