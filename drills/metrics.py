"""Aurora global database lag, as AWS itself reports it in CloudWatch.

The drill never reads the secondary cluster to learn how far behind it is (the Data API refuses
statements there). It reads the metrics Aurora publishes for each secondary cluster, in that
cluster's region (Aurora User Guide, "Monitoring Amazon Aurora global databases"; "Amazon
CloudWatch metrics for Amazon Aurora"):

- ``AuroraGlobalDBReplicationLag``: milliseconds the secondary trails the primary;
- ``AuroraGlobalDBRPOLag``: milliseconds of committed writes the secondary does not hold yet,
  the data a lossy failover at that moment would lose.

Namespace ``AWS/RDS``, dimension ``DBClusterIdentifier`` (the secondary cluster).
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
    """The maximum of ``metric`` for the secondary cluster over its latest minute of data
    (None when CloudWatch has no datapoint in the last five minutes)."""
    cluster = ctx.target.aurora[secondary_region].identifier
    now = time.time()
    result = ctx.aws.call(
        "cloudwatch",
        secondary_region,
        "get_metric_statistics",
        Namespace="AWS/RDS",
        MetricName=metric,
        Dimensions=[{"Name": "DBClusterIdentifier", "Value": cluster}],
        StartTime=datetime.fromtimestamp(now - WINDOW_SECONDS, tz=UTC),
        EndTime=datetime.fromtimestamp(now + 1, tz=UTC),
        Period=60,
        Statistics=["Maximum"],
        Unit="Milliseconds",
    )
    points = sorted(result.get("Datapoints", []), key=lambda p: p["Timestamp"])
    if not points:
        return None
    return LagSample(metric, cluster, secondary_region, float(points[-1]["Maximum"]), now)
