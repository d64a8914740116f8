"""The deployed stack as the drill sees it: parsed from the Pulumi stack outputs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import DrillConfigError
from .lease import LeaseRef, lease_ref
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
    port: int = 6379


@dataclass(frozen=True, slots=True)
class DnsRef:
    """The private zone's names applications use (docs/contracts.md, "Stack outputs")."""

    zone_id: str
    writer_name: str
    cache_name: str
    ttl_seconds: int
    writer_endpoint: str = ""
    """The Aurora global writer endpoint ``writer.<zone>`` points at."""


DNS_OUTPUTS = ("dnsZoneId", "writerDnsName", "cacheDnsName", "dnsTtlSeconds", "writerEndpoint")
"""Outputs of the failover design (issue 8) the drill needs to move and probe the names."""


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
    dns: DnsRef | None = None
    dns_missing: tuple[str, ...] = ()
    """Outputs of :data:`DNS_OUTPUTS` the stack does not export (named in errors)."""
    cache_auth_secret_arn: str = ""
    """The cache AUTH token's secret (``cacheAuthSecretArn``)."""
    active_region_parameter: str = ""
    """SSM parameter (one copy per region) naming the region applications write DynamoDB in."""
    lease: LeaseRef | None = None
    """The stack's drill lease table (output ``drillLease``; drills/lease.py)."""
    raw: dict[str, Any] = field(default_factory=dict)

    def require_dns(self) -> DnsRef:
        """The DNS names, or a DrillConfigError naming the first missing output."""
        if self.dns is None:
            missing = self.dns_missing[0] if self.dns_missing else "dnsZoneId"
            raise DrillConfigError(
                f"output {missing}",
                None,
                "the failover DNS outputs of docs/contracts.md (" + ", ".join(DNS_OUTPUTS) + ")",
            )
        return self.dns

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
        values["dns"] = DnsRef(**values["dns"]) if values.get("dns") else None
        values["dns_missing"] = tuple(values.get("dns_missing", ()))
        values["lease"] = LeaseRef(**values["lease"]) if values.get("lease") else None
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
        region: CacheRef(
            str(g.get("replicationGroupId", "")),
            str(g.get("primaryEndpoint", "")),
            int(g.get("port") or 6379),
        )
        for region, g in dict(outputs.get("cacheReplicationGroups") or {}).items()
    }
    objectives_raw = outputs.get("drillObjectives")
    environment = str(outputs.get("environment", ""))
    missing = tuple(k for k in DNS_OUTPUTS if outputs.get(k) in (None, ""))
    dns = (
        None
        if missing
        else DnsRef(
            zone_id=str(outputs["dnsZoneId"]),
            writer_name=str(outputs["writerDnsName"]),
            cache_name=str(outputs["cacheDnsName"]),
            ttl_seconds=_ttl(outputs["dnsTtlSeconds"]),
            writer_endpoint=str(outputs["writerEndpoint"]),
        )
    )
    return StackTarget(
        primary_region=primary,
        secondary_region=secondary,
        environment=environment,
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
        dns=dns,
        dns_missing=missing,
        cache_auth_secret_arn=str(outputs.get("cacheAuthSecretArn") or ""),
        active_region_parameter=str(
            outputs.get("dynamodbActiveRegionParameter")
            or f"/securecart/{environment or 'dev'}/dynamodb/active-region"
        ),
        lease=lease_ref(outputs),
        raw=dict(outputs),
    )


def arn_accounts(target: StackTarget) -> dict[str, str]:
    """ARN -> account id, for every ARN the stack outputs name (clusters, secret, tables)."""
    arns = [
        *(c.arn for c in target.aurora.values()),
        target.secret_arn,
        *(t.arn for t in target.tables.values()),
        target.cache_auth_secret_arn,
    ]
    found: dict[str, str] = {}
    for arn in arns:
        parts = arn.split(":")
        if len(parts) > 5 and parts[0] == "arn" and parts[4]:
            found[arn] = parts[4]
    return found


def _ttl(value: Any) -> int:
    """Route 53 TTLs are whole seconds; outputs read through Pulumi's mocks (and some CLI
    versions) carry numbers as floats, so 30.0 is 30 and 30.5 is refused."""
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise DrillConfigError("output dnsTtlSeconds", value, "an integer TTL in seconds") from exc
    if isinstance(value, bool) or not number.is_integer():
        raise DrillConfigError("output dnsTtlSeconds", value, "an integer TTL in seconds")
    ttl = int(number)
    if ttl < 0:
        raise DrillConfigError("output dnsTtlSeconds", value, "an integer TTL >= 0")
    return ttl
