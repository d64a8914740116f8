"""The deployed stack as the drill sees it: parsed from the Pulumi stack outputs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import DrillConfigError
from .stackfile import Objectives, parse_objectives


@dataclass(frozen=True, slots=True)
class AuroraRef:
    """One regional Aurora cluster."""

    identifier: str
    arn: str
    endpoint: str = ""
    reader_endpoint: str = ""


@dataclass(frozen=True, slots=True)
class TableRef:
    """One DynamoDB global table."""

    logical: str
    name: str
    arn: str = ""


@dataclass(frozen=True, slots=True)
class CacheRef:
    """One ElastiCache replication group."""

    replication_group_id: str
    primary_endpoint: str = ""


@dataclass(frozen=True, slots=True)
class StackTarget:
    """Everything a drill needs to find in AWS, from the stack outputs (docs/contracts.md, "Stack outputs")."""

    primary_region: str
    secondary_region: str
    environment: str
    global_cluster_id: str
    aurora: dict[str, AuroraRef]
    secret_arn: str
    database: str
    tables: dict[str, TableRef]
    cache_global_id: str | None
    cache: dict[str, CacheRef]
    alarms: dict[str, list[str]]
    objectives: Objectives | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def regions(self) -> tuple[str, str]:
        """(primary, secondary)."""
        return self.primary_region, self.secondary_region

    def other(self, region: str) -> str:
        """The other region of the pair."""
        return self.secondary_region if region == self.primary_region else self.primary_region

    def secret_for(self, region: str) -> str:
        """The master secret's ARN in ``region`` (it is replicated to both)."""
        parts = self.secret_arn.split(":")
        if len(parts) > 3:
            parts[3] = region
        return ":".join(parts)

    def canary_table(self, prefer: tuple[str, ...] = ("sessions", "carts")) -> TableRef:
        """The table drills write DynamoDB canaries to."""
        for wanted in prefer:
            for table in self.tables.values():
                if wanted in table.logical or wanted in table.name:
                    return table
        return next(iter(self.tables.values()))

    def order_table(self) -> TableRef:
        """The order table (point-in-time recovery drill)."""
        return self.canary_table(("order", "carts", "sessions"))

    def to_json(self) -> dict[str, Any]:
        """JSON-able (kept in the journal so resume works without reading outputs again)."""
        data = asdict(self)
        data["objectives"] = self.objectives.to_json() if self.objectives else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StackTarget:
        """Inverse of :meth:`to_json`."""
        values = dict(data)
        values["aurora"] = {k: AuroraRef(**v) for k, v in values["aurora"].items()}
        values["tables"] = {k: TableRef(**v) for k, v in values["tables"].items()}
        values["cache"] = {k: CacheRef(**v) for k, v in values["cache"].items()}
        objectives = values.get("objectives")
        values["objectives"] = parse_objectives(objectives) if objectives else None
        return cls(**values)


def _require(outputs: Mapping[str, Any], key: str) -> Any:
    if key not in outputs or outputs[key] in (None, ""):
        raise DrillConfigError(
            f"output {key}", outputs.get(key), "a value (is the stack deployed?)"
        )
    return outputs[key]


def target_from_outputs(outputs: Mapping[str, Any], database: str | None = None) -> StackTarget:
    """Parse stack outputs; a missing output is reported by name."""
    primary = str(_require(outputs, "primaryRegion"))
    secondary = str(_require(outputs, "secondaryRegion"))
    clusters = _require(outputs, "auroraClusters")
    aurora = {
        region: AuroraRef(
            identifier=str(c.get("clusterIdentifier", "")),
            arn=str(c.get("arn", "")),
            endpoint=str(c.get("endpoint", "")),
            reader_endpoint=str(c.get("readerEndpoint", "")),
        )
        for region, c in dict(clusters).items()
    }
    for region in (primary, secondary):
        if region not in aurora or not aurora[region].arn:
            raise DrillConfigError(f"output auroraClusters.{region}", None, "a cluster with an arn")
    tables = {
        logical: TableRef(logical, str(t.get("name", logical)), str(t.get("arn", "")))
        for logical, t in dict(outputs.get("tables") or {}).items()
    }
    cache = {
        region: CacheRef(str(g.get("replicationGroupId", "")), str(g.get("primaryEndpoint", "")))
        for region, g in dict(outputs.get("cacheReplicationGroups") or {}).items()
    }
    objectives_raw = outputs.get("drillObjectives")
    return StackTarget(
        primary_region=primary,
        secondary_region=secondary,
        environment=str(outputs.get("environment", "")),
        global_cluster_id=str(_require(outputs, "globalClusterId")),
        aurora=aurora,
        secret_arn=str(_require(outputs, "auroraSecretArn")),
        database=database or str(outputs.get("auroraDatabaseName") or "postgres"),
        tables=tables,
        cache_global_id=(
            str(outputs["cacheGlobalReplicationGroupId"])
            if outputs.get("cacheGlobalReplicationGroupId")
            else None
        ),
        cache=cache,
        alarms={
            r: [str(n) for n in names] for r, names in dict(outputs.get("alarmNames") or {}).items()
        },
        objectives=parse_objectives(dict(objectives_raw))
        if isinstance(objectives_raw, Mapping)
        else None,
        raw=dict(outputs),
    )
