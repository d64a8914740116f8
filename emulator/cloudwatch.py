"""CloudWatch: the lag metrics Aurora publishes, the node metrics ElastiCache publishes, alarm
evaluation, and as strict as AWS about dimensions.

:func:`publish_aurora_lag` publishes what each secondary cluster of a global database reports;
:func:`publish_cache_metrics` publishes, once a minute of emulator time, what each cache node
an alarm watches reports (``CurrConnections`` while it is alive, ``GlobalDatastoreReplicationLag`` while its
group is a global datastore's secondary), and alarms on those are evaluated period by period as
CloudWatch evaluates them (:func:`stream_state`). Route 53 health checks read the same data
stream (``emulator.route53``).

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
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend, MetricDatum, cloudwatch_backends
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.elasticache.models import elasticache_backends

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


_COMPARE: dict[str, Callable[[float, float], bool]] = {
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


# --- ElastiCache node metrics and period-by-period alarm evaluation -------------------------

PERIOD_SECONDS = 60
"""ElastiCache publishes its metrics "at 60-second intervals" (ElastiCache User Guide, "Monitoring
use with CloudWatch metrics"): one standard-resolution datapoint per node and minute."""
CACHE_NAMESPACE = "AWS/ElastiCache"
CACHE_NODE_METRICS = ("CurrConnections", "GlobalDatastoreReplicationLag")
"""What the emulator publishes per node, with the single dimension ``CacheClusterId``:
``CurrConnections`` from every live node (an engine metric taken from INFO every minute), and
``GlobalDatastoreReplicationLag`` ("the lag between the secondary Region's primary node and the
primary Region's primary node", ElastiCache "Metrics for Valkey and Redis OSS") from the primary
node of a group while it is its global datastore's SECONDARY."""
EXTRA_RANGE_PERIODS = 2
"""CloudWatch "attempts to retrieve a higher number of data points than specified by Evaluation
Periods" (the evaluation range); the CloudWatch User Guide ("How alarm state is evaluated when
data is missing") gives 5 data points for an alarm of 3 evaluation periods at standard
resolution, and no general formula: the emulator takes evaluation periods + 2."""
_BACKFILL_PERIODS = 10
"""A clock that jumps further than this restarts the publication (no invented history)."""
_KEPT_PERIODS = 60

StreamKey = tuple[str, str, str, frozenset[tuple[str, str]]]
"""(region, namespace, metric, dimensions) of one exact metric."""


@dataclass(frozen=True, slots=True)
class AlarmRule:
    """What an alarm evaluates, as PutMetricAlarm takes it (a Route 53 health check copies it
    when it is created: "If you change settings for the CloudWatch alarm after you create a
    health check, you must update the health check")."""

    namespace: str
    metric: str
    dimensions: frozenset[tuple[str, str]]
    statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    comparison: str
    threshold: float
    treat_missing_data: str


def rule_of(alarm: Any) -> AlarmRule:
    """The rule of a moto alarm."""
    periods = int(alarm.evaluation_periods or 1)
    return AlarmRule(
        namespace=str(alarm.namespace),
        metric=str(alarm.metric_name),
        dimensions=frozenset((str(d.name), str(d.value)) for d in alarm.dimensions),
        statistic=str(alarm.statistic or "Average"),
        period=int(alarm.period or PERIOD_SECONDS),
        evaluation_periods=periods,
        datapoints_to_alarm=int(alarm.datapoints_to_alarm or periods),
        comparison=str(alarm.comparison_operator),
        threshold=float(alarm.threshold),
        treat_missing_data=str(alarm.treat_missing_data or "missing"),
    )


def emulates(rule: AlarmRule) -> bool:
    """Whether the emulator knows this metric's whole data stream (it publishes it, so no
    datapoint means none was sent): the ElastiCache node metrics with their one dimension."""
    return (
        rule.namespace == CACHE_NAMESPACE
        and rule.metric in CACHE_NODE_METRICS
        and {name for name, _ in rule.dimensions} == {"CacheClusterId"}
    )


@dataclass(slots=True)
class _CachePublication:
    minute: int | None = None
    """The minute being observed (epoch seconds // 60)."""
    seen: dict[tuple[str, str, str], float] = field(default_factory=dict)
    """(region, metric, node) -> value, for what nodes reported during that minute."""
    streams: dict[StreamKey, dict[int, list[float]]] = field(default_factory=dict)
    """Published values per exact metric and period start."""
    watched_key: tuple[tuple[str, int], ...] = ()
    watched: dict[str, set[str]] = field(default_factory=dict)
    """Region -> nodes an alarm on a node metric names (recomputed when an alarm count moves)."""


_CACHE = _CachePublication()


def _watched() -> dict[str, set[str]]:
    """The nodes some alarm watches, per region. Only they are published: nothing else reads
    the node metrics, and a long test session creates hundreds of replication groups that every
    request would otherwise walk. (An alarm replaced in place with other dimensions is seen
    when the region's alarm count next changes.)"""
    backends = cloudwatch_backends[DEFAULT_ACCOUNT_ID]
    key = tuple((region, len(backend.alarms)) for region, backend in backends.items())
    if key != _CACHE.watched_key:
        watched: dict[str, set[str]] = {}
        for region, backend in backends.items():
            for alarm in list(backend.alarms.values()):
                if alarm.namespace == CACHE_NAMESPACE and alarm.comparison_operator in _COMPARE:
                    rule = rule_of(alarm)
                    if emulates(rule):
                        watched.setdefault(region, set()).update(v for _, v in rule.dimensions)
        _CACHE.watched_key, _CACHE.watched = key, watched
    return _CACHE.watched


def _observe(now: float) -> dict[tuple[str, str, str], float]:
    """What every watched cache node reports right now. A node of a region that is down reports
    nothing (the region's CloudWatch is down with it)."""
    reported: dict[tuple[str, str, str], float] = {}
    for region, nodes in _watched().items():
        if STATE.faults.is_down(region):
            continue
        groups = elasticache_backends[DEFAULT_ACCOUNT_ID][region].replication_groups
        for node in nodes:
            group = groups.get(node.rsplit("-", 1)[0])  # <group id>-<nnn>
            if group is None or node not in (members := list(group.member_clusters or [])):
                continue  # no such node: it reports nothing
            reported[(region, "CurrConnections", node)] = 0.0
            role = getattr(group, "global_replication_group_member_role", "")
            if node == members[0] and group.global_replication_group_id and role == "SECONDARY":
                primary_region = _datastore_primary_region(group.global_replication_group_id)
                since = STATE.faults.down_since(primary_region) if primary_region else None
                lag = 0.0 if since is None else max(0.0, now - since)
                reported[(region, "GlobalDatastoreReplicationLag", node)] = lag
    return reported


def _datastore_primary_region(global_id: str) -> str | None:
    data = STATE.cache
    datastore = getattr(data, "datastores", {}).get(global_id)
    primary = datastore.primary() if datastore is not None else None
    return None if primary is None else str(primary.region)


def _publish_period(minute: int, reported: dict[tuple[str, str, str], float]) -> None:
    start = minute * PERIOD_SECONDS
    stamp = datetime.fromtimestamp(start, tz=UTC).replace(tzinfo=None)
    for (region, metric, node), value in reported.items():
        dims = frozenset({("CacheClusterId", node)})
        stream = _CACHE.streams.setdefault((region, CACHE_NAMESPACE, metric, dims), {})
        stream[start] = [value]
        if len(stream) > _KEPT_PERIODS:
            del stream[min(stream)]
        cloudwatch_backends[DEFAULT_ACCOUNT_ID][region].metric_data.append(
            MetricDatum(
                namespace=CACHE_NAMESPACE,
                name=metric,
                value=value,
                dimensions=[{"Name": "CacheClusterId", "Value": node}],
                timestamp=stamp,
                unit="Seconds" if metric == "GlobalDatastoreReplicationLag" else "Count",
            )
        )


def publish_cache_metrics(now: float) -> None:
    """Tick hook: collect what the nodes report during the current minute and publish a minute
    once it is complete (its datapoint is stamped with the minute's start, as CloudWatch stamps
    a period). A node that reported at any moment of a minute has that minute's datapoint, so a
    failover in the middle of a minute leaves the new primary's last lag sample in it. Minutes a
    clock jump skipped are published with what is true at the end of the jump (tests that
    measure delays advance by less than a minute)."""
    minute = math.floor(now / PERIOD_SECONDS)
    state = _CACHE
    if state.minute is None or minute < state.minute or minute - state.minute > _BACKFILL_PERIODS:
        state.minute, state.seen = minute, _observe(now)
        return
    current = _observe(now)
    if minute == state.minute:
        state.seen.update(current)
        return
    for complete in range(state.minute, minute):
        _publish_period(complete, state.seen if complete == state.minute else current)
    state.minute, state.seen = minute, dict(current)
    evaluate_stream_alarms(now)


def _statistic(values: list[float], statistic: str) -> float:
    if statistic == "SampleCount":
        return float(len(values))
    if statistic == "Sum":
        return float(sum(values))
    if statistic == "Minimum":
        return float(min(values))
    if statistic == "Maximum":
        return float(max(values))
    return float(sum(values) / len(values))


def stream_state(region: str, rule: AlarmRule, now: float, current: str) -> str:
    """The state CloudWatch gives ``rule`` from the emulator's data stream of its metric."""
    stream = _CACHE.streams.get((region, rule.namespace, rule.metric, rule.dimensions), {})
    return evaluate_rule(rule, stream, now, current)


def evaluate_rule(
    rule: AlarmRule, stream: Mapping[int, list[float]], now: float, current: str
) -> str:
    """The state CloudWatch gives ``rule`` at ``now`` from ``stream`` (values per period start,
    epoch seconds), ``current`` being the alarm's state before (CloudWatch User
    Guide, "Using Amazon CloudWatch alarms": "Evaluating an alarm" and "How alarm state is
    evaluated when data is missing"):

    - the evaluation range is the last evaluation periods + 2 complete periods;
    - with at least evaluation-periods real datapoints in it, the most recent that many are
      evaluated and missing data is not considered;
    - with fewer, missing ones are filled as ``TreatMissingData`` says (breaching /
      notBreaching), "as few times as possible", and every real datapoint in the range counts;
      with none at all: missing -> INSUFFICIENT_DATA, ignore -> the current state;
    - ALARM when at least datapoints-to-alarm of the evaluated are breaching, else OK; for
      missing/ignore with too few real datapoints: OK when one of them is not breaching, else
      INSUFFICIENT_DATA (missing) or the current state (ignore), as the guide's tables give it
      when the breaching datapoint is the newest. (The guide's 3-of-3 table answers ALARM for a
      lone breaching datapoint that is the oldest of the five; the emulator does not follow that
      row: none of the stack's alarms evaluated here treats missing data as missing.)
    """
    period = max(1, rule.period)
    end = math.floor(now / period) * period
    size = rule.evaluation_periods + EXTRA_RANGE_PERIODS
    compare = _COMPARE[rule.comparison]
    real: list[bool] = []  # newest first: breaching?
    for back in range(1, size + 1):
        start = end - back * period
        values = [v for s, vs in stream.items() if start <= s < start + period for v in vs]
        if values:
            real.append(compare(_statistic(values, rule.statistic), rule.threshold))
    wanted = rule.evaluation_periods
    if len(real) >= wanted:
        evaluated = real[:wanted]
    elif rule.treat_missing_data in ("breaching", "notBreaching"):
        evaluated = real + [rule.treat_missing_data == "breaching"] * (wanted - len(real))
    elif not real:
        return current if rule.treat_missing_data == "ignore" else "INSUFFICIENT_DATA"
    else:
        if sum(real) >= rule.datapoints_to_alarm:
            return "ALARM"
        if not all(real):
            return "OK"
        return current if rule.treat_missing_data == "ignore" else "INSUFFICIENT_DATA"
    return "ALARM" if sum(evaluated) >= rule.datapoints_to_alarm else "OK"


def evaluate_stream_alarms(now: float) -> None:
    """Set the state of every alarm on a metric the emulator publishes per period, as CloudWatch
    evaluates it each minute; a region that is down evaluates nothing."""
    for region, backend in cloudwatch_backends[DEFAULT_ACCOUNT_ID].items():
        if STATE.faults.is_down(region) or not backend.alarms:
            continue
        for alarm in list(backend.alarms.values()):
            if alarm.namespace != CACHE_NAMESPACE or alarm.comparison_operator not in _COMPARE:
                continue
            rule = rule_of(alarm)
            if not emulates(rule):
                continue
            state = stream_state(region, rule, now, str(alarm.state_value))
            if alarm.state_value != state:
                alarm.update_state(
                    f"Emulated evaluation of {rule.evaluation_periods} periods of {rule.period} s",
                    "{}",
                    state,
                )


def catch_up(now: float) -> None:
    """Publish the cache node metrics up to ``now`` (what a DNS query needs when no API request
    has ticked the emulator since the clock moved). Never waits: when another thread holds the
    emulator's lock it is ticking, which publishes anyway, and it may be waiting on this very DNS
    answer."""
    if not STATE.lock.acquire(blocking=False):
        return
    try:
        publish_cache_metrics(now)
    finally:
        STATE.lock.release()


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
            if alarm.namespace == CACHE_NAMESPACE and emulates(rule_of(alarm)):
                continue  # evaluated period by period (evaluate_stream_alarms)
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
    """Publish the Aurora lag and cache node metrics on every tick; match GetMetricStatistics
    dimensions exactly; alarms follow the metrics (idempotent)."""
    if getattr(CloudWatchBackend.get_metric_statistics, "__name__", "") != "_get_metric_statistics":
        patch(CloudWatchBackend, "get_metric_statistics", _get_metric_statistics)
        STATE.add_tick_hook(publish_aurora_lag)
        STATE.add_tick_hook(_evaluate_tick)
        STATE.add_tick_hook(publish_cache_metrics)
