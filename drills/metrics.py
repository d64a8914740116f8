"""Aurora global database lag, as AWS itself reports it in CloudWatch.

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
