"""The monthly estimate: every planned resource priced from the pinned table and the usage figures.

One estimator for both readers: the budget gate (``policies/budget_gate.py``) runs it over the
resources of ``AnalyzeStack``; preflight runs it over the recorded plan. It reads only type
tokens and inputs, so it works on the pack's ``Res`` and on preflight's recorded resources
alike, and an input that is unknown during a preview simply falls back to its default.

Billing rules follow the services' pricing pages (cited per entry in ``prices.json``); where the
page leaves room (which region pays for replication, what a recovery point stores) the line's
``basis`` says what was assumed.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from policies import resource_types as t
from policies.pricing.table import HOURS_PER_MONTH, SECONDS_PER_MONTH, Price, PriceTable
from policies.pricing.usage import Usage

RESERVED_TERMS = ("reserved-1y", "reserved-3y")
GIB_PER_KB = 1.0 / (1024.0 * 1024.0)
DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0
AURORA_IO_KIB = 4.0
"""Aurora counts write I/Os in 4 KiB units, so a replicated write I/O carries at most 4 KiB."""

STORES = {
    "rds": "aurora",
    "appautoscaling": "aurora",
    "dynamodb": "dynamodb",
    "elasticache": "cache",
    "kms": "kms",
    "secretsmanager": "secrets",
    "cloudwatch": "monitoring",
    "sns": "monitoring",
    "route53": "dns",
    "backup": "backup",
    "ec2": "network",
    "iam": "iam",
    "budgets": "budget",
}

FREE: dict[str, str] = {
    "aws:ec2/vpc:Vpc": "no charge for a VPC",
    "aws:ec2/subnet:Subnet": "no charge for subnets",
    "aws:ec2/securityGroup:SecurityGroup": "no charge for security groups",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "no charge for security groups",
    "aws:ec2/routeTable:RouteTable": "no charge for route tables",
    "aws:rds/subnetGroup:SubnetGroup": "no charge for DB subnet groups",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "no charge for parameter groups",
    "aws:rds/parameterGroup:ParameterGroup": "no charge for parameter groups",
    t.RDS_GLOBAL_CLUSTER: "no charge for the global cluster itself: its member clusters are billed",
    "aws:elasticache/subnetGroup:SubnetGroup": "no charge for cache subnet groups",
    "aws:elasticache/parameterGroup:ParameterGroup": "no charge for parameter groups",
    "aws:kms/alias:Alias": "no charge for aliases",
    "aws:secretsmanager/secretVersion:SecretVersion": "versions are included in the secret's price",
    t.SNS_TOPIC: "the first 1,000 e-mail notifications a month are free; alarms rarely send more",
    "aws:sns/topicSubscription:TopicSubscription": "no charge for subscriptions",
    t.ROUTE53_RECORD: "records are included in the hosted zone; queries are priced on the zone",
    t.BACKUP_VAULT: "a vault costs nothing; its recovery points are priced on the plans that make them",
    "aws:backup/selection:Selection": "no charge for a selection",
    t.BUDGET: "the first two budgets of an account are free",
    "aws:iam/role:Role": "IAM is free",
    "aws:iam/policy:Policy": "IAM is free",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM is free",
    "aws:appautoscaling/policy:Policy": "Application Auto Scaling is free",
    t.RANDOM_PASSWORD: "generated locally by Pulumi",
}


class ResourceLike(Protocol):
    """What the estimator reads of a resource (the pack's ``Res`` and preflight's adapter)."""

    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def urn(self) -> str: ...
    @property
    def props(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Line:
    """One priced item of one resource."""

    urn: str
    type: str
    name: str
    region: str
    """Where it is billed (``global`` for Route 53)."""
    store: str
    """aurora, dynamodb, cache, kms, secrets, monitoring, dns, backup, network, iam, budget."""
    item: str
    quantity: float
    unit: str
    unit_usd: float
    monthly_usd: float
    basis: str
    """How the figure was computed, in words a reviewer can check."""
    reserved: Mapping[str, float] | None = None
    """Monthly USD under each reservation term, for steady compute (instances, cache nodes)."""
    reserved_options: Mapping[str, str] | None = None
    """Purchase option per term (``No Upfront`` / ``Partial Upfront``)."""
    free: bool = False
    priced: bool = True
    """False when the table has no price for it (counted as $0 and reported)."""


@dataclass
class Estimate:
    """All lines of one stack, with the totals the report and the gate need."""

    lines: list[Line]
    primary: str | None
    secondary: str | None
    usage: Usage
    tables: list[str] = field(default_factory=list)
    """Logical names of the DynamoDB tables (for the defaults listing)."""

    @property
    def monthly_usd(self) -> float:
        """The on-demand monthly total."""
        return sum(line.monthly_usd for line in self.lines)

    def reserved_monthly_usd(self, term: str) -> float:
        """The monthly total with every instance and cache node on ``term``."""
        return sum(
            line.reserved[term] if line.reserved and term in line.reserved else line.monthly_usd
            for line in self.lines
        )

    def total(self, basis: str = "on-demand") -> float:
        """``on-demand``, ``reserved-1y`` or ``reserved-3y`` total."""
        return self.monthly_usd if basis == "on-demand" else self.reserved_monthly_usd(basis)

    def by(self, attribute: str) -> dict[str, float]:
        """Monthly USD per ``store`` or ``region``, largest first."""
        sums: dict[str, float] = defaultdict(float)
        for line in self.lines:
            sums[str(getattr(line, attribute))] += line.monthly_usd
        return dict(sorted(sums.items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def unpriced(self) -> list[Line]:
        """Lines the table could not price."""
        return [line for line in self.lines if not line.priced]


# --- reading inputs -----------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _arn_region(value: Any) -> str | None:
    parts = (_str(value) or "").split(":")
    return parts[3] or None if len(parts) > 3 and parts[0] == "arn" else None


_PLURAL = {"request": "requests", "request-unit": "request units", "query": "queries"}


def _money(value: float) -> str:
    text = f"{value:,.6f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"${whole}.{decimals.ljust(2, '0')}"


def rate(usd: float, unit: str) -> str:
    """``$0.26/hour``, ``$0.20 per million requests``: a unit price as a reader checks it."""
    if usd and usd < 0.001:
        return f"{_money(usd * 1e6)} per million {_PLURAL.get(unit, unit + 's')}"
    return f"{_money(usd)}/{unit}"


def _qty(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or value.is_integer() else f"{value:,.2f}"


def store_of(type_token: str) -> str:
    """The store (cost family) a type token belongs to."""
    module = (
        type_token.split(":")[1].split("/", maxsplit=1)[0] if type_token.count(":") >= 2 else ""
    )
    if type_token.startswith("random:"):
        return "secrets"
    return STORES.get(module, "other")


# --- the estimator ------------------------------------------------------------------------------


class _Run:
    """State of one estimate: prices, usage, the region pair and the lines so far."""

    def __init__(self, resources: Sequence[ResourceLike], usage: Usage, prices: PriceTable) -> None:
        self.resources = [r for r in resources if r.type.startswith(("aws:", "random:"))]
        self.usage, self.prices = usage, prices
        self.lines: list[Line] = []
        self.by_type: dict[str, list[ResourceLike]] = defaultdict(list)
        for res in self.resources:
            self.by_type[res.type].append(res)
        self.primary, self.secondary = self._pair()
        self.seen_region: set[tuple[str, str]] = set()

    def _pair(self) -> tuple[str | None, str | None]:
        regions = sorted(
            {
                region
                for res in self.resources
                for region in [_str(res.props.get("region"))]
                + [_str(_map(rep).get("regionName")) for rep in _list(res.props.get("replicas"))]
                if region
            }
        )
        primary = next(
            (
                _str(c.props.get("region"))
                for c in self.by_type[t.RDS_CLUSTER]
                if _str(c.props.get("masterUsername")) and _str(c.props.get("region"))
            ),
            None,
        ) or (regions[0] if regions else None)
        others = [r for r in regions if r != primary]
        return primary, others[0] if others else None

    def other(self, region: str) -> str | None:
        if region == self.primary:
            return self.secondary
        return self.primary if region == self.secondary else None

    def charge(
        self,
        res: ResourceLike,
        region: str,
        item: str,
        quantity: float,
        price_id: str,
        basis: str,
        *,
        reserved: bool = False,
        store: str | None = None,
    ) -> None:
        """Add a line priced ``quantity`` times the table's ``price_id`` in ``region``."""
        price = self.prices.find(price_id, region)
        if price is None:
            self.note(
                res,
                region,
                item,
                f"the table has no on-demand price for {price_id} in {region}",
                free=False,
            )
            return
        terms: dict[str, float] = {}
        options: dict[str, str] = {}
        if reserved:
            for term in RESERVED_TERMS:
                found: Price | None = self.prices.find(price_id, region, term)
                if found is not None:
                    terms[term] = quantity * found.effective_usd
                    options[term] = found.option
        self.lines.append(
            Line(
                urn=res.urn,
                type=res.type,
                name=res.name,
                region=region,
                store=store or store_of(res.type),
                item=item,
                quantity=quantity,
                unit=price.unit,
                unit_usd=price.usd,
                monthly_usd=quantity * price.usd,
                basis=f"{basis} at {rate(price.usd, price.unit)}",
                reserved=terms or None,
                reserved_options=options or None,
            )
        )

    def note(self, res: ResourceLike, region: str, item: str, basis: str, *, free: bool) -> None:
        """A $0 line: free (listed as free), or not priced (listed as a gap)."""
        self.lines.append(
            Line(
                urn=res.urn,
                type=res.type,
                name=res.name,
                region=region,
                store=store_of(res.type),
                item=item,
                quantity=0.0,
                unit="",
                unit_usd=0.0,
                monthly_usd=0.0,
                basis=basis if free else f"not priced: {basis}",
                free=free,
                priced=free,
            )
        )

    def free(self, res: ResourceLike, why: str) -> None:
        self.note(res, _str(res.props.get("region")) or "global", "no charge", why, free=True)

    def transfer(
        self, res: ResourceLike, source: str, target: str | None, gib: float, what: str
    ) -> None:
        if target is None or target == source:
            return
        self.charge(
            res,
            source,
            f"replication to {target} (inter-region transfer)",
            gib,
            f"transfer.inter-region/{target}",
            f"{_qty(gib)} GB/month {what}",
        )


def _aurora_instance(run: _Run, res: ResourceLike) -> None:
    region = _str(res.props.get("region")) or run.primary or "us-east-1"
    cls = _str(res.props.get("instanceClass")) or "unknown"
    engine = _str(res.props.get("engine")) or "aurora-postgresql"
    run.charge(
        res,
        region,
        f"instance {cls} ({engine})",
        HOURS_PER_MONTH,
        f"aurora.instance/{engine}/{cls}",
        f"{HOURS_PER_MONTH:g} h",
        reserved=True,
    )


def _aurora_cluster(run: _Run, res: ResourceLike) -> None:
    region = _str(res.props.get("region")) or run.primary or "us-east-1"
    u = run.usage
    gb = u.figure("aurora.storageGb")
    writes, reads = u.figure("aurora.writeIoPerSecond"), u.figure("aurora.readIoPerSecond")
    run.charge(
        res, region, "storage", gb, "aurora.storage", f"{_qty(gb)} GB (usage aurora.storageGb)"
    )
    if _str(res.props.get("storageType")) == "aurora-iopt1":
        run.note(
            res,
            region,
            "I/O-Optimized storage",
            "the table prices Aurora Standard only",
            free=False,
        )
    primary = region == run.primary
    ios = (writes + reads if primary else reads) * SECONDS_PER_MONTH
    what = "write + read" if primary else "read"
    run.charge(
        res,
        region,
        "I/O requests",
        ios,
        "aurora.io",
        f"{_qty(ios / 1e6)} million {what} I/Os ({'writes + reads' if primary else 'reads'} per second x {SECONDS_PER_MONTH:,.0f} s)",
    )
    global_member = res.props.get("globalClusterIdentifier") is not None
    if not primary and global_member and run.primary:
        replicated = writes * SECONDS_PER_MONTH
        run.charge(
            res,
            region,
            f"replicated write I/Os from {run.primary}",
            replicated,
            "aurora.replicated-write-io",
            f"{_qty(replicated / 1e6)} million (aurora.writeIoPerSecond x {SECONDS_PER_MONTH:,.0f} s)",
        )
        gib = writes * SECONDS_PER_MONTH * AURORA_IO_KIB * GIB_PER_KB
        run.transfer(res, run.primary, region, gib, "at most 4 KiB per replicated write I/O")
    retention = _num(res.props.get("backupRetentionPeriod")) or 1.0
    change = u.figure("backup.dailyChangePercent") / 100.0
    backup_gb = gb * change * retention
    run.charge(
        res,
        region,
        f"automated backups ({retention:g} days)",
        backup_gb,
        "aurora.backup-storage",
        f"{_qty(backup_gb)} GB of changes kept {retention:g} days beyond the free copy of the volume",
    )
    exports = _list(res.props.get("enabledCloudwatchLogsExports"))
    if exports and (region, "logs") not in run.seen_region:
        run.seen_region.add((region, "logs"))
        logs = u.figure("cloudwatch.logsGbPerMonth")
        run.charge(
            res,
            region,
            "CloudWatch Logs ingestion",
            logs,
            "cloudwatch.logs-ingestion",
            f"{_qty(logs)} GB (usage cloudwatch.logsGbPerMonth: log exports, enhanced monitoring)",
            store="monitoring",
        )


def _aurora_scaling(run: _Run, res: ResourceLike) -> None:
    if res.props.get("scalableDimension") != "rds:cluster:ReadReplicaCount":
        run.free(res, "Application Auto Scaling is free")
        return
    region = _str(res.props.get("region")) or run.primary or "us-east-1"
    extra = run.usage.figure("aurora.extraReaders")
    most = _num(res.props.get("maxCapacity"))
    if not extra:
        run.free(
            res,
            f"reader auto scaling: up to {_qty(most or 0)} readers when load demands; usage aurora.extraReaders assumes 0 on average",
        )
        return
    cls = next(
        (
            _str(i.props.get("instanceClass"))
            for i in run.by_type[t.RDS_CLUSTER_INSTANCE]
            if _str(i.props.get("region")) == region and _str(i.props.get("instanceClass"))
        ),
        "unknown",
    )
    engine = "aurora-postgresql"
    run.charge(
        res,
        region,
        f"auto-scaled readers {cls}",
        extra * HOURS_PER_MONTH,
        f"aurora.instance/{engine}/{cls}",
        f"{extra:g} readers (aurora.extraReaders) x {HOURS_PER_MONTH:g} h, on demand",
    )


def _table_key(res: ResourceLike, usage: Usage) -> str:
    logical = res.name.removeprefix("table-")
    physical = _str(res.props.get("name")) or ""
    for key in usage.tables:
        if key in (logical, physical) or physical.endswith(f"-{key}"):
            return key
    return logical


def _dynamodb_table(run: _Run, res: ResourceLike) -> None:
    region = _str(res.props.get("region")) or run.primary or "us-east-1"
    key = _table_key(res, run.usage)
    f = run.usage.table(key)
    replicas = [_map(r) for r in _list(res.props.get("replicas"))]
    regions = [region] + [
        r for r in (_str(x.get("regionName")) for x in replicas) if r and r != region
    ]
    writer = run.primary if run.primary in regions else region
    gsis = len(_list(res.props.get("globalSecondaryIndexes")))
    wru = math.ceil(f["itemSizeKb"]) * (1 + gsis)
    rru = math.ceil(f["itemSizeKb"] / 4.0)
    if _str(res.props.get("billingMode")) == "PROVISIONED":
        run.note(
            res,
            region,
            "provisioned capacity",
            "the table prices on-demand capacity only",
            free=False,
        )
    else:
        writes = f["writesPerSecond"] * SECONDS_PER_MONTH * wru
        reads = f["readsPerSecond"] * SECONDS_PER_MONTH * rru
        idx = f" and {gsis} index(es)" if gsis else ""
        run.charge(
            res,
            writer,
            "write request units",
            writes,
            "dynamodb.write",
            f"{_qty(f['writesPerSecond'])} writes/s x {wru} WRU (item{idx}) x {SECONDS_PER_MONTH:,.0f} s",
        )
        run.charge(
            res,
            writer,
            "read request units",
            reads,
            "dynamodb.read",
            f"{_qty(f['readsPerSecond'])} strongly consistent reads/s x {rru} RRU x {SECONDS_PER_MONTH:,.0f} s",
        )
        for target in regions:
            if target != writer:
                run.charge(
                    res,
                    target,
                    f"replicated write request units from {writer}",
                    writes,
                    "dynamodb.replicated-write",
                    f"every write replicated to {target}",
                )
                gib = f["writesPerSecond"] * f["itemSizeKb"] * SECONDS_PER_MONTH * GIB_PER_KB
                run.transfer(res, writer, target, gib, f"({_qty(f['itemSizeKb'])} KB items)")
    pitr = {region: bool(_map(res.props.get("pointInTimeRecovery")).get("enabled"))}
    for rep in replicas:
        if _str(rep.get("regionName")):
            pitr[str(rep["regionName"])] = rep.get("pointInTimeRecovery") is True
    for target in regions:
        run.charge(
            res,
            target,
            "storage",
            f["storageGb"],
            "dynamodb.storage",
            f"{_qty(f['storageGb'])} GB (usage dynamodb {key}.storageGb)",
        )
        if pitr.get(target):
            run.charge(
                res,
                target,
                "point-in-time recovery",
                f["storageGb"],
                "dynamodb.pitr",
                f"{_qty(f['storageGb'])} GB of table data",
            )
    if res.props.get("streamEnabled") is True:
        stream = f["streamReadsPerSecond"] * SECONDS_PER_MONTH
        if stream:
            run.charge(
                res,
                writer,
                "stream read requests",
                stream,
                "dynamodb.stream-read",
                f"{_qty(f['streamReadsPerSecond'])} reads/s by consumers",
            )
        else:
            run.note(
                res,
                writer,
                "stream",
                "global tables read their streams for free; usage has no other consumers",
                free=True,
            )


def _cache_group(run: _Run, res: ResourceLike) -> None:
    region = _str(res.props.get("region")) or run.primary or "us-east-1"
    groups = run.by_type[t.CACHE_GLOBAL_REPLICATION_GROUP] + run.by_type[t.CACHE_REPLICATION_GROUP]
    node = _str(res.props.get("nodeType")) or next(
        (
            n
            for g in groups
            for n in [_str(g.props.get("cacheNodeType")) or _str(g.props.get("nodeType"))]
            if n
        ),
        "unknown",
    )
    engine = _str(res.props.get("engine")) or next(
        (e for g in groups for e in [_str(g.props.get("engine"))] if e), "valkey"
    )
    count = _num(res.props.get("numCacheClusters"))
    if count is None:
        shards = _num(res.props.get("numNodeGroups")) or 1.0
        count = shards * ((_num(res.props.get("replicasPerNodeGroup")) or 0.0) + 1.0)
    run.charge(
        res,
        region,
        f"{count:g} x {node} ({engine})",
        count * HOURS_PER_MONTH,
        f"cache.node/{engine}/{node}",
        f"{count:g} nodes (primary + replicas) x {HOURS_PER_MONTH:g} h",
        reserved=True,
    )
    retention = _num(res.props.get("snapshotRetentionLimit")) or 0.0
    if retention > 1:
        gb = (retention - 1) * run.usage.figure("cache.dataGb")
        run.charge(
            res,
            region,
            f"snapshots ({retention:g} days)",
            gb,
            "cache.backup-storage",
            f"{retention - 1:g} snapshots beyond the free one x {_qty(run.usage.figure('cache.dataGb'))} GB (cache.dataGb)",
        )


def _cache_global(run: _Run, res: ResourceLike) -> None:
    region = _str(res.props.get("region")) or run.primary or "us-east-1"
    u = run.usage
    gib = (
        u.figure("cache.writesPerSecond")
        * u.figure("cache.itemSizeKb")
        * SECONDS_PER_MONTH
        * GIB_PER_KB
    )
    run.transfer(
        res,
        region,
        run.other(region),
        gib,
        f"({_qty(u.figure('cache.writesPerSecond'))} writes/s of {_qty(u.figure('cache.itemSizeKb'))} KB)",
    )
    if run.other(region) is None:
        run.free(res, "no charge for the global datastore itself")


def _kms(run: _Run, res: ResourceLike) -> None:
    region = _str(res.props.get("region")) or run.primary or "us-east-1"
    kind = "replica key" if res.type == t.KMS_REPLICA_KEY else "key"
    run.charge(res, region, kind, 1.0, "kms.key", "1 key-month")
    if (region, "kms") not in run.seen_region:
        run.seen_region.add((region, "kms"))
        n = run.usage.figure("kms.requestsPerMonth")
        run.charge(
            res,
            region,
            f"requests (all keys in {region})",
            n,
            "kms.request",
            f"{_qty(n)} requests (kms.requestsPerMonth)",
        )


def _secret(run: _Run, res: ResourceLike) -> None:
    region = _str(res.props.get("region")) or run.primary or "us-east-1"
    run.charge(res, region, "secret", 1.0, "secretsmanager.secret", "1 secret-month")
    for rep in _list(res.props.get("replicas")):
        target = _str(_map(rep).get("region"))
        if target:
            run.charge(
                res,
                target,
                "replica secret",
                1.0,
                "secretsmanager.secret",
                "a replica is billed as a secret",
            )
    if (region, "secrets") not in run.seen_region:
        run.seen_region.add((region, "secrets"))
        n = run.usage.figure("secretsManager.apiCallsPerMonth")
        run.charge(
            res,
            region,
            "API calls",
            n,
            "secretsmanager.api",
            f"{_qty(n)} calls (secretsManager.apiCallsPerMonth)",
        )


def _alarm(run: _Run, res: ResourceLike) -> None:
    region = _str(res.props.get("region")) or run.primary or "us-east-1"
    queries = [q for q in _list(res.props.get("metricQueries")) if _map(q).get("metric")]
    metrics = float(len(queries) or 1)
    period = _num(res.props.get("period")) or 60.0
    high = period < 60 or any(
        (_num(_map(_map(q).get("metric")).get("period")) or 60) < 60 for q in queries
    )
    run.charge(
        res,
        region,
        "alarm" + (" (high resolution)" if high else ""),
        metrics,
        "cloudwatch.alarm-high-resolution" if high else "cloudwatch.alarm",
        f"{metrics:g} alarm metric(s), period {period:g} s",
    )


def _backup_points_per_day(rule: Mapping[str, Any]) -> float:
    match = re.match(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+)", _str(rule.get("schedule")) or "")
    if not match:
        return 1.0
    hours, dow = match.group(2), match.group(5)
    per_day = (
        24.0 / float(hours.split("/")[1])
        if "/" in hours
        else (24.0 if hours == "*" else float(len(hours.split(","))))
    )
    if dow not in ("*", "?"):
        per_day *= len(dow.split(",")) / 7.0
    return per_day


def _protected(run: _Run, region: str) -> tuple[float, list[tuple[str, float]]]:
    """Aurora GB and DynamoDB (table, GB) a region's backup selection protects."""
    arns = [
        a
        for sel in run.by_type["aws:backup/selection:Selection"]
        if _str(sel.props.get("region")) == region
        for a in _list(sel.props.get("resources"))
    ]
    known = [a for a in arns if _str(a)]
    clusters = [c for c in run.by_type[t.RDS_CLUSTER] if _str(c.props.get("region")) == region]
    tables = [
        tb
        for tb in run.by_type[t.DYNAMODB_TABLE]
        if region == _str(tb.props.get("region"))
        or region in [_str(_map(r).get("regionName")) for r in _list(tb.props.get("replicas"))]
    ]
    if known:
        ids = {a.rsplit(":", 1)[-1] for a in known if ":rds:" in a}
        names = {a.rsplit("/", 1)[-1] for a in known if ":dynamodb:" in a}
        clusters = [c for c in clusters if _str(c.props.get("clusterIdentifier")) in ids]
        tables = [tb for tb in tables if _str(tb.props.get("name")) in names]
    aurora = run.usage.figure("aurora.storageGb") * len(clusters)
    return aurora, [
        (_table_key(tb, run.usage), run.usage.table(_table_key(tb, run.usage))["storageGb"])
        for tb in tables
    ]


def _backup_plan(run: _Run, res: ResourceLike) -> None:
    region = _str(res.props.get("region")) or run.primary or "us-east-1"
    aurora_gb, tables = _protected(run, region)
    table_gb = sum(gb for _name, gb in tables)
    change = run.usage.figure("backup.dailyChangePercent") / 100.0
    for rule in (_map(r) for r in _list(res.props.get("rules"))):
        per_day = _backup_points_per_day(rule)
        keep = _num(_map(rule.get("lifecycle")).get("deleteAfter")) or 35.0
        vaults: list[tuple[str, float, str]] = [(region, keep, "recovery points")]
        for copy in (_map(c) for c in _list(rule.get("copyActions"))):
            target = _arn_region(copy.get("destinationVaultArn")) or run.other(region)
            if target:
                vaults.append(
                    (
                        target,
                        _num(_map(copy.get("lifecycle")).get("deleteAfter")) or keep,
                        f"copies from {region}",
                    )
                )
        for target, days, what in vaults:
            points = days * per_day
            if aurora_gb:
                gb = aurora_gb * (1.0 + change * max(points - 1.0, 0.0))
                run.charge(
                    res,
                    target,
                    f"Aurora {what} ({days:g} days)",
                    gb,
                    "backup.aurora-storage",
                    f"first point full, then {change:.0%} of {_qty(aurora_gb)} GB per point, {points:g} points",
                )
            if table_gb:
                run.charge(
                    res,
                    target,
                    f"DynamoDB {what} ({days:g} days)",
                    table_gb * points,
                    "backup.dynamodb-storage",
                    f"{points:g} full backups of {_qty(table_gb)} GB ({len(tables)} tables)",
                )
            if target != region:
                monthly = DAYS_PER_MONTH * per_day
                gib = (aurora_gb * change + table_gb) * monthly
                run.transfer(
                    res,
                    region,
                    target,
                    gib,
                    f"({monthly:.1f} copies: Aurora increments, full DynamoDB backups)",
                )


HANDLERS = {
    t.RDS_CLUSTER_INSTANCE: _aurora_instance,
    t.RDS_CLUSTER: _aurora_cluster,
    t.AUTOSCALING_TARGET: _aurora_scaling,
    t.DYNAMODB_TABLE: _dynamodb_table,
    t.CACHE_REPLICATION_GROUP: _cache_group,
    t.CACHE_GLOBAL_REPLICATION_GROUP: _cache_global,
    t.KMS_KEY: _kms,
    t.KMS_REPLICA_KEY: _kms,
    "aws:secretsmanager/secret:Secret": _secret,
    t.METRIC_ALARM: _alarm,
    t.BACKUP_PLAN: _backup_plan,
}
FIXED = {
    "aws:cloudwatch/dashboard:Dashboard": (
        "dashboard",
        "cloudwatch.dashboard",
        "1 dashboard-month",
    ),
    "aws:route53/zone:Zone": ("hosted zone", "route53.zone", "1 zone-month"),
    t.ROUTE53_HEALTH_CHECK: ("health check", "route53.health-check", "1 health check-month"),
}


def estimate(resources: Iterable[ResourceLike], usage: Usage, prices: PriceTable) -> Estimate:
    """Price every resource: one or more lines each (free ones included), unpriced ones marked."""
    run = _Run(list(resources), usage, prices)
    for res in run.resources:
        handler = HANDLERS.get(res.type)
        if handler is not None:
            handler(run, res)
        elif res.type in FIXED:
            item, price_id, basis = FIXED[res.type]
            region = (
                "global"
                if price_id.startswith("route53")
                else (_str(res.props.get("region")) or "us-east-1")
            )
            run.charge(res, region, item, 1.0, price_id, basis)
            if res.type == "aws:route53/zone:Zone":
                n = usage.figure("route53.queriesPerMonth")
                run.charge(
                    res,
                    region,
                    "queries",
                    n,
                    "route53.query",
                    f"{_qty(n)} queries (route53.queriesPerMonth)",
                )
        elif res.type in FREE:
            run.free(res, FREE[res.type])
        else:
            region = _str(res.props.get("region")) or "global"
            run.note(
                res, region, "not estimated", "the estimator has no rule for this type", free=False
            )
    tables = [_table_key(r, usage) for r in run.by_type[t.DYNAMODB_TABLE]]
    return Estimate(run.lines, run.primary, run.secondary, usage, tables)
