"""Small hand-built stacks for the cost tests: resources as the estimator reads them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policies.pricing.estimate import estimate
from policies.pricing.lines import Estimate
from policies.pricing.table import pinned_table
from policies.pricing.usage import parse_usage

EAST, WEST = "us-east-1", "us-west-2"


@dataclass(frozen=True)
class Planned:
    type: str
    name: str
    props: Mapping[str, Any] = field(default_factory=dict)

    @property
    def urn(self) -> str:
        return f"urn:pulumi:test::securecart-data::{self.type}::{self.name}"


def cluster(region: str, *, primary: bool, retention: float = 7.0) -> Planned:
    props: dict[str, Any] = {
        "region": region,
        "engine": "aurora-postgresql",
        "clusterIdentifier": f"sc-{region}",
        "globalClusterIdentifier": "sc-global",
        "backupRetentionPeriod": retention,
    }
    if primary:
        props["masterUsername"] = "admin"
    return Planned("aws:rds/cluster:Cluster", f"aurora-{region}", props)


def instance(region: str, index: int, cls: str = "db.r6g.large") -> Planned:
    return Planned(
        "aws:rds/clusterInstance:ClusterInstance",
        f"aurora-{region}-{index}",
        {"region": region, "instanceClass": cls, "engine": "aurora-postgresql"},
    )


def run(resources: list[Planned], usage: Mapping[str, Any] | None = None) -> Estimate:
    return estimate(resources, parse_usage(usage or {}), pinned_table())


def lines(est: Estimate, name: str, item: str | None = None) -> list[Any]:
    return [
        line
        for line in est.lines
        if line.name == name and (item is None or line.item.startswith(item))
    ]


def usd(est: Estimate, name: str, item: str | None = None) -> float:
    return sum(line.monthly_usd for line in lines(est, name, item))
