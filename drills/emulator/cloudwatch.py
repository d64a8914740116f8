"""CloudWatch: the lag metrics Aurora publishes, and as strict as AWS about dimensions.

:func:`publish_aurora_lag` publishes what each secondary cluster of a global database reports.

``GetMetricStatistics`` returns data only for the exact combination of dimensions a metric was
published with: "CloudWatch treats each unique combination of dimensions as a separate metric.
If a specific combination of dimensions was not published, you can't retrieve statistics for
it. You must specify the same dimensions that were used when the metrics were created"
(CloudWatch API Reference, ``GetMetricStatistics``, ``Dimensions``). moto matches any metric
whose dimensions include the requested ones, so a drill asking for a set Aurora never
publishes would get data here and none on AWS. ``ListMetrics`` keeps moto's (and AWS's)
subset filter: it is how a client learns the published combinations.
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend, MetricDatum, cloudwatch_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from .aurora import AuroraData, global_backend
from .state import STATE, patch

LAG_METRICS = ("AuroraGlobalDBReplicationLag", "AuroraGlobalDBRPOLag")

_CURRENT_LAG: set[tuple[str, str]] = set()
"""(secondary cluster identifier, source region) pairs Aurora publishes the lag for now: a
cluster that became the primary stops publishing, and its alarm then sees missing data."""

_original: Any = CloudWatchBackend.get_metric_statistics


def publish_aurora_lag(now: float) -> None:
    """Publish ``AuroraGlobalDBReplicationLag`` and ``AuroraGlobalDBRPOLag`` for every
    secondary cluster, in the secondary's region, as Aurora does:

    - cluster-level metrics in ``AWS/RDS``, unit Milliseconds, "how far the secondary
      cluster is behind the primary cluster" (Aurora User Guide, "Amazon CloudWatch
      metrics for Amazon Aurora", cluster-level metrics);
    - "only available for secondary Regions" (Aurora User Guide, "Performing switchovers
      for Amazon Aurora global databases"): the primary publishes none, so a switchover
      moves where they are read;
    - dimensions ``DBClusterIdentifier`` with ``SourceRegion`` (the primary's region), and
      ``SourceRegion`` alone (Aurora User Guide, "Amazon CloudWatch dimensions for
      Aurora"; the AWS Aurora global database lab reads the lag from the SourceRegion
      group in the secondary Region). Nothing is published under ``DBClusterIdentifier``
      alone, and GetMetricStatistics matches dimension sets exactly (below),
      so a reader must ask for what is published (``drills.metrics`` lists it first).

    The lag is the age of the oldest change the secondary has not applied, never less than
    the configured lag; a secondary whose writer's region does not answer falls further
    behind every second. Tick hook, every ``metric_interval_seconds``; a cluster whose lag
    has not changed is published again only once a minute (AWS: every minute), which
    keeps the emulator's CloudWatch small over a long test session."""
    data = STATE.aurora
    if not isinstance(data, AuroraData):
        return
    if 0.0 <= now - data.published_at < STATE.timings.metric_interval_seconds:
        return  # (a test that installs or removes a manual clock may move time back)
    data.published_at = now
    _CURRENT_LAG.clear()
    lag = STATE.timings.aurora_replication_lag_seconds
    stamp = datetime.fromtimestamp(now, tz=UTC).replace(tzinfo=None)  # moto compares naive UTC
    for gid, gc in global_backend().global_clusters.items():
        writer = next((m for m in gc.members if m.is_writer), None)
        if writer is None:
            continue
        down_since = STATE.faults.down_since(writer.region)
        entries = data.streams.get(gid, [])
        for member in gc.members:
            if member.is_writer or STATE.faults.is_down(member.region):
                continue
            if member.db_cluster_arn in data.pending_rejoin:
                # pending-resync: not replicating, so no lag to report until it has rejoined
                # (rebuilt from the new writer); a "lag" since the failover published in that
                # window would hold the drill's one-minute maximum above any limit
                continue
            applied = data.store(member).applied_seq
            start = bisect.bisect_right(entries, applied, key=lambda e: e.seq)
            behind = max(lag, now - entries[start].ts) if start < len(entries) else lag
            if down_since is not None:
                behind = max(behind, now - down_since)
            _CURRENT_LAG.add((member.db_cluster_identifier, writer.region))
            key = (member.db_cluster_arn, writer.region)
            last = data.published.get(key)
            if last is not None and last[1] == behind and 0.0 <= now - last[0] < 60.0:
                continue
            data.published[key] = (now, behind)
            source = {"Name": "SourceRegion", "Value": writer.region}
            cluster = {"Name": "DBClusterIdentifier", "Value": member.db_cluster_identifier}
            backend = cloudwatch_backends[DEFAULT_ACCOUNT_ID][member.region]
            for name in LAG_METRICS:
                for dims in ([cluster, source], [source]):
                    backend.metric_data.append(
                        MetricDatum(
                            namespace="AWS/RDS",
                            name=name,
                            value=behind * 1000.0,
                            dimensions=dims,
                            timestamp=stamp,
                            unit="Milliseconds",
                        )
                    )


def _exact(datum: Any, wanted: list[dict[str, str]]) -> bool:
    published = {(d.name, d.value) for d in datum.dimensions}
    return published == {(w["Name"], w.get("Value")) for w in wanted}


def _get_metric_statistics(
    self: CloudWatchBackend,
    namespace: str,
    metric_name: str,
    start_time: Any,
    end_time: Any,
    period: int,
    stats: list[str],
    dimensions: list[dict[str, str]],
    unit: str | None = None,
) -> Any:
    """moto's statistics (subset match), keeping only the datapoints of the exact combination:
    each period's statistics are computed from its datapoints when they are serialized."""
    wanted = list(dimensions or [])
    periods = _original(
        self, namespace, metric_name, start_time, end_time, period, stats, dimensions, unit
    )
    kept = []
    for statistics in periods:
        statistics.metric_data = [m for m in statistics.metric_data if _exact(m, wanted)]
        if statistics.metric_data:
            kept.append(statistics)
    return kept


_COMPARE = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}

_MISSING = {"breaching": "ALARM", "notBreaching": "OK", "missing": "INSUFFICIENT_DATA"}

_MINUTE = 60.0


def _current(datum: Any, now: float) -> bool:
    """Whether a datapoint still speaks for its metric: a lag metric while Aurora publishes
    it for that pair (the member is a secondary of that source), anything else for a minute
    (AWS's standard resolution)."""
    dims = {d.name: d.value for d in datum.dimensions}
    if datum.name in LAG_METRICS and "DBClusterIdentifier" in dims:
        return (dims["DBClusterIdentifier"], dims.get("SourceRegion")) in _CURRENT_LAG
    stamp = float(datum.timestamp.replace(tzinfo=UTC).timestamp())
    return now - stamp <= _MINUTE


_INDEX: dict[
    str, tuple[int, dict[tuple[str, str, frozenset[tuple[str | None, str | None]]], Any]]
] = {}
"""Per region: how many datapoints were indexed, and the latest datapoint per exact metric
(moto appends to ``metric_data``; indexing only the new ones keeps a long session fast)."""


def _latest_by_metric(
    region: str, backend: CloudWatchBackend
) -> dict[tuple[str, str, frozenset[tuple[str | None, str | None]]], Any]:
    seen, latest = _INDEX.get(region, (0, {}))
    data = backend.metric_data
    if len(data) < seen:  # the backend was reset
        seen, latest = 0, {}
    for datum in data[seen:]:
        key = (datum.namespace, datum.name, frozenset((d.name, d.value) for d in datum.dimensions))
        old = latest.get(key)
        if old is None or datum.timestamp >= old.timestamp:
            latest[key] = datum
    _INDEX[region] = (len(data), latest)
    return latest


def evaluate_alarms(now: float) -> None:
    """Alarm state follows the emulated metrics: every metric alarm whose exact metric has
    data is set from its latest datapoint against its threshold; without a current datapoint,
    as its ``TreatMissingData`` says (CloudWatch User Guide, "Using Amazon CloudWatch alarms":
    evaluation; "Configuring how CloudWatch alarms treat missing data"). An alarm on a metric
    the emulator never saw keeps the state it was given (``SetAlarmState``): the emulator does
    not pretend to know it. Evaluated with the lag metrics, every ``metric_interval_seconds``;
    a region that is down evaluates nothing (its CloudWatch is down too)."""
    for region, backend in cloudwatch_backends[DEFAULT_ACCOUNT_ID].items():
        if STATE.faults.is_down(region) or not backend.alarms:
            continue
        index = _latest_by_metric(region, backend)
        for alarm in list(backend.alarms.values()):
            if not alarm.metric_name or alarm.comparison_operator not in _COMPARE:
                continue
            wanted = frozenset((d.name, d.value) for d in alarm.dimensions)
            latest = index.get((alarm.namespace, alarm.metric_name, wanted))
            if latest is None:
                continue
            if _current(latest, now):
                value = float(latest.value)
                breaching = _COMPARE[alarm.comparison_operator](value, float(alarm.threshold))
                state = "ALARM" if breaching else "OK"
                reason = f"latest datapoint {value:g} vs threshold {alarm.threshold:g}"
            else:
                missing = alarm.treat_missing_data or "missing"
                if missing == "ignore":
                    continue
                state = _MISSING.get(missing, "INSUFFICIENT_DATA")
                reason = f"no current datapoint (TreatMissingData {missing})"
            if alarm.state_value != state:
                alarm.update_state(f"Emulated evaluation: {reason}", "{}", state)


def _evaluate_tick(now: float) -> None:
    data = STATE.aurora
    if isinstance(data, AuroraData) and data.published_at != now:
        return  # evaluate right after a publication round (same throttle)
    evaluate_alarms(now)


def install() -> None:
    """Publish the Aurora lag metrics on every tick; match GetMetricStatistics dimensions
    exactly; alarms follow the metrics (idempotent)."""
    if getattr(CloudWatchBackend.get_metric_statistics, "__name__", "") != "_get_metric_statistics":
        patch(CloudWatchBackend, "get_metric_statistics", _get_metric_statistics)
        STATE.add_tick_hook(publish_aurora_lag)
        STATE.add_tick_hook(_evaluate_tick)
