"""What a stack deploys that drills care about, as plain data.

The sandbox builds a :class:`Topology` from the offline plan (``preflight.recorder.record_stack``)
and seeds the emulator with it; tests build one directly. Reading the recording is defensive:
inputs that the program left to Pulumi (auto-names) fall back to the logical name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .stackfile import (
    DEFAULT_OBJECTIVES,
    Objectives,
    StackSettings,
    enabled_stores,
    parse_objectives,
)

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

T_GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
T_CLUSTER = "aws:rds/cluster:Cluster"
T_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
T_TABLE = "aws:dynamodb/table:Table"
T_REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
T_GLOBAL_REPLICATION_GROUP = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
T_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
T_SECRET = "aws:secretsmanager/secret:Secret"
T_ZONE = "aws:route53/zone:Zone"
T_RECORD = "aws:route53/record:Record"
T_PARAMETER = "aws:ssm/parameter:Parameter"


@dataclass(frozen=True, slots=True)
class InstanceSpec:
    """One Aurora instance."""

    identifier: str
    availability_zone: str
    instance_class: str = "db.r7g.large"


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """One regional Aurora cluster of the global database."""

    region: str
    identifier: str
    instances: tuple[InstanceSpec, ...]
    backup_retention_days: int = 7


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One DynamoDB global table (created in the anchor region, replicated to the other)."""

    logical: str
    name: str
    hash_key: str
    hash_type: str = "S"
    range_key: str | None = None
    range_type: str = "S"
    ttl_attribute: str | None = None
    pitr: bool = True


@dataclass(frozen=True, slots=True)
class CacheGroupSpec:
    """One ElastiCache replication group of the global datastore."""

    region: str
    replication_group_id: str
    node_type: str = "cache.r7g.large"
    num_cache_clusters: int = 2


@dataclass(frozen=True, slots=True)
class AlarmSpec:
    """One CloudWatch alarm (drills treat every stack alarm as a stop condition)."""

    region: str
    name: str
    namespace: str = "AWS/RDS"
    metric: str = "CPUUtilization"
    threshold: float = 80.0
    comparison: str = "GreaterThanOrEqualToThreshold"


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """One SSM parameter the stack owns (the active-region setting, one per region)."""

    region: str
    name: str
    value: str
    type: str = "String"
    allowed_pattern: str | None = None
    description: str = ""
    follows_primary: bool = False
    """The program sets the value to ``primaryRegion`` (``components/active_region.py``), so
    an ``up`` with another region pair rewrites it."""

    def value_for(self, primary: str) -> str:
        """The value after an ``up`` whose primary region is ``primary``."""
        return primary if self.follows_primary else self.value


def active_region_parameters(name: str, regions: tuple[str, str]) -> tuple[ParameterSpec, ...]:
    """What ``components/active_region.py`` declares: the same name in both regions, the
    primary as value, a pattern admitting only the pair (sorted, so a swap keeps it)."""
    pattern = "^(" + "|".join(sorted(regions)) + ")$"
    return tuple(
        ParameterSpec(region, name, regions[0], allowed_pattern=pattern, follows_primary=True)
        for region in sorted(regions)
    )


@dataclass(frozen=True, slots=True)
class PaymentsSpec:
    """The payments database (components/payments.py): a Multi-AZ source in the anchor region
    and a cross-region Multi-AZ read replica in the other, each with its own parameter group."""

    source_region: str
    replica_region: str
    identifiers: dict[str, str]
    """Instance identifier per region."""
    parameter_groups: dict[str, str]
    """DB parameter group per region."""
    instance_class: str = "db.r6g.large"
    engine_version: str = "16.6"
    allocated_storage_gb: int = 100
    backup_retention_days: int = 7


@dataclass(frozen=True, slots=True)
class NeptuneSpec:
    """The fraud graph (components/neptune.py): a global database, a cluster per region, the
    anchor's the primary at creation."""

    global_cluster_id: str
    clusters: dict[str, str]
    """Cluster identifier per region."""
    anchor_region: str
    engine_version: str = "1.3.2.1"


@dataclass(frozen=True, slots=True)
class RedshiftSpec:
    """The analytics warehouse (components/redshift.py): a cluster in the anchor region whose
    automated snapshots are copied to the other, with a restore landing there."""

    region: str
    copy_region: str
    cluster_identifier: str
    grant_name: str
    restore_parameter_group: str
    node_type: str = "ra3.xlplus"
    number_of_nodes: int = 2
    copy_retention_days: int = 7


def payments_spec(prefix: str, regions: tuple[str, str]) -> PaymentsSpec:
    """Named as components/payments.py names it (by region; the source in the anchor)."""
    anchor, other = sorted(regions)
    return PaymentsSpec(
        source_region=anchor,
        replica_region=other,
        identifiers={r: f"{prefix}-payments-{r}" for r in (anchor, other)},
        parameter_groups={r: f"{prefix}-payments-pg16-{r}" for r in (anchor, other)},
    )


def neptune_spec(prefix: str, regions: tuple[str, str]) -> NeptuneSpec:
    """Named as components/neptune.py names it."""
    anchor, other = sorted(regions)
    return NeptuneSpec(
        global_cluster_id=f"{prefix}-fraud",
        clusters={r: f"{prefix}-fraud-{r}" for r in (anchor, other)},
        anchor_region=anchor,
    )


def redshift_spec(prefix: str, regions: tuple[str, str]) -> RedshiftSpec:
    """Named as components/redshift.py names it."""
    anchor, other = sorted(regions)
    base = f"{prefix}-analytics-{anchor}"
    return RedshiftSpec(
        region=anchor,
        copy_region=other,
        cluster_identifier=base,
        grant_name=base,
        restore_parameter_group=f"{prefix}-analytics-{other}",
    )


@dataclass(frozen=True, slots=True)
class Topology:
    """The data tier of one stack: region pair, global database, tables, cache, alarms."""

    project: str
    stack: str
    environment: str
    primary_region: str
    secondary_region: str
    global_cluster_id: str
    clusters: tuple[ClusterSpec, ...]
    tables: tuple[TableSpec, ...]
    cache_global_suffix: str | None
    cache_groups: tuple[CacheGroupSpec, ...]
    alarms: tuple[AlarmSpec, ...]
    secret_name: str
    objectives: Objectives = DEFAULT_OBJECTIVES
    database_name: str = "securecart"
    engine_version: str = "16.4"
    dns_zone_name: str = "data.securecart.internal"
    dns_ttl_seconds: int = 30
    http_endpoint: bool = True
    """``enableHttpEndpoint`` of the regional clusters (the RDS Data API)."""
    active_region_parameter: str = "/securecart/dev/dynamodb/active-region"
    """SSM parameter (one per region) naming the region applications write DynamoDB in."""
    parameters: tuple[ParameterSpec, ...] = ()
    """The SSM parameters the stack owns, as the plan declares them (seeded as declared)."""
    source: str = "default"
    """Where this came from: ``recording`` (the offline plan) or ``default``."""
    notes: tuple[str, ...] = field(default=())
    payments: PaymentsSpec | None = None
    """The payments database (``paymentsEnabled``), or None."""
    neptune: NeptuneSpec | None = None
    """The fraud graph's Neptune global database (``neptuneEnabled``), or None."""
    redshift: RedshiftSpec | None = None
    """The analytics warehouse (``redshiftEnabled``), or None."""

    @property
    def regions(self) -> tuple[str, str]:
        """(primary, secondary)."""
        return self.primary_region, self.secondary_region

    @property
    def anchor_region(self) -> str:
        """Where global tables live (docs/contracts.md: the alphabetically first region)."""
        return sorted(self.regions)[0]

    def cluster(self, region: str) -> ClusterSpec:
        """The regional cluster in ``region``."""
        return next(c for c in self.clusters if c.region == region)


def default_topology(settings: StackSettings, suffix: str = "") -> Topology:
    """The data tier docs/contracts.md describes, named by region, for a stack's region pair."""
    env = settings.environment
    tag = f"{env}{suffix}"
    regions = (settings.primary_region, settings.secondary_region)
    clusters = tuple(
        ClusterSpec(
            region=region,
            identifier=f"aurora-{tag}-{region}",
            instances=tuple(
                InstanceSpec(f"aurora-{tag}-{region}-{i}", f"{region}{az}")
                for i, az in enumerate(("a", "b"))
            ),
        )
        for region in regions
    )
    tables = (
        TableSpec("carts", f"carts-{tag}", "cartId"),
        TableSpec("sessions", f"sessions-{tag}", "sessionId", ttl_attribute="expiresAt"),
        TableSpec("orders", f"order-history-{tag}", "customerId", range_key="orderId"),
    )
    cache_groups = tuple(CacheGroupSpec(region, f"cache-{tag}-{region}") for region in regions)
    alarms = tuple(
        AlarmSpec(region, f"{name}-{tag}-{region}", namespace, metric)
        for region in regions
        for name, namespace, metric in (
            ("aurora-cpu", "AWS/RDS", "CPUUtilization"),
            ("aurora-replication-lag", "AWS/RDS", "AuroraGlobalDBReplicationLag"),
            ("dynamodb-replication-latency", "AWS/DynamoDB", "ReplicationLatency"),
        )
    )
    return Topology(
        project=settings.project,
        stack=settings.stack,
        environment=env,
        primary_region=settings.primary_region,
        secondary_region=settings.secondary_region,
        global_cluster_id=f"securecart-{tag}",
        clusters=clusters,
        tables=tables,
        cache_global_suffix=f"securecart-{tag}",
        cache_groups=cache_groups,
        alarms=alarms,
        secret_name=f"securecart/{tag}/aurora-master",
        objectives=settings.objectives,
        active_region_parameter=f"/securecart/{tag}/dynamodb/active-region",
        parameters=active_region_parameters(f"/securecart/{tag}/dynamodb/active-region", regions),
        source="default",
        **optional_stores(settings, f"securecart-{tag}"),
    )


def optional_stores(settings: StackSettings, prefix: str) -> dict[str, Any]:
    """The issue-20 stores the stack's switches turn on, named as the components name them."""
    stores = enabled_stores(settings)
    regions = (settings.primary_region, settings.secondary_region)
    return {
        "payments": payments_spec(prefix, regions) if "payments" in stores else None,
        "neptune": neptune_spec(prefix, regions) if "neptune" in stores else None,
        "redshift": redshift_spec(prefix, regions) if "redshift" in stores else None,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping) and value.get(SECRET_SIG) is not None:
        return _plain(value.get("value"))
    return value


def _text(inputs: Mapping[str, Any], *keys: str, default: str = "") -> str:
    for key in keys:
        value = _plain(inputs.get(key))
        if isinstance(value, str) and value:
            return value
    return default


def _region_of(resource: Any, fallback: str) -> str:
    region = _plain(resource.inputs.get("region"))
    return region if isinstance(region, str) and region else fallback


def from_recording(recording: Any, settings: StackSettings) -> Topology:
    """A Topology from ``preflight.model.Recording`` (the program run under mocks)."""
    notes: list[str] = []
    anchor = sorted((settings.primary_region, settings.secondary_region))[0]
    base = default_topology(settings)

    global_clusters = recording.by_type(T_GLOBAL_CLUSTER)
    global_id = (
        _text(global_clusters[0].inputs, "globalClusterIdentifier", default=global_clusters[0].name)
        if global_clusters
        else base.global_cluster_id
    )
    engine_version = (
        _text(global_clusters[0].inputs, "engineVersion", default=base.engine_version)
        if global_clusters
        else base.engine_version
    )
    database_name = (
        _text(global_clusters[0].inputs, "databaseName", default=base.database_name)
        if global_clusters
        else base.database_name
    )

    instances_by_region: dict[str, list[InstanceSpec]] = {}
    for res in recording.by_type(T_INSTANCE):
        region = _region_of(res, anchor)
        az = _text(res.inputs, "availabilityZone", default=f"{region}a")
        instances_by_region.setdefault(region, []).append(
            InstanceSpec(
                _text(res.inputs, "identifier", default=res.name),
                az,
                _text(res.inputs, "instanceClass", default="db.r7g.large"),
            )
        )
    clusters: list[ClusterSpec] = []
    for res in recording.by_type(T_CLUSTER):
        region = _region_of(res, anchor)
        retention = _plain(res.inputs.get("backupRetentionPeriod"))
        clusters.append(
            ClusterSpec(
                region=region,
                identifier=_text(res.inputs, "clusterIdentifier", default=res.name),
                instances=tuple(instances_by_region.get(region, ()))
                or base.cluster(region).instances,
                backup_retention_days=int(retention) if isinstance(retention, int | float) else 7,
            )
        )
    if {c.region for c in clusters} != {settings.primary_region, settings.secondary_region}:
        notes.append("no Aurora cluster per region in the plan; using the default names")
        clusters = list(base.clusters)

    tables: list[TableSpec] = []
    for res in recording.by_type(T_TABLE):
        inputs = res.inputs
        attributes = {
            str(_plain(a.get("name"))): str(_plain(a.get("type")) or "S")
            for a in (_plain(inputs.get("attributes")) or [])
            if isinstance(a, Mapping)
        }
        hash_key = _text(inputs, "hashKey", default="pk")
        range_key = _text(inputs, "rangeKey") or None
        ttl = _plain(inputs.get("ttl")) or {}
        ttl_attribute = (
            str(_plain(ttl.get("attributeName")))
            if isinstance(ttl, Mapping) and _plain(ttl.get("enabled")) and ttl.get("attributeName")
            else None
        )
        tables.append(
            TableSpec(
                logical=res.name,
                name=_text(inputs, "name", default=res.name),
                hash_key=hash_key,
                hash_type=attributes.get(hash_key, "S"),
                range_key=range_key,
                range_type=attributes.get(range_key or "", "S"),
                ttl_attribute=ttl_attribute,
            )
        )
    if not tables:
        notes.append("no DynamoDB table in the plan; using the default tables")
        tables = list(base.tables)

    cache_groups = [
        CacheGroupSpec(
            region=_region_of(res, anchor),
            replication_group_id=_text(res.inputs, "replicationGroupId", default=res.name),
            node_type=_text(res.inputs, "nodeType", default="cache.r7g.large"),
        )
        for res in recording.by_type(T_REPLICATION_GROUP)
    ]
    global_groups = recording.by_type(T_GLOBAL_REPLICATION_GROUP)
    cache_suffix = (
        _text(
            global_groups[0].inputs, "globalReplicationGroupIdSuffix", default=global_groups[0].name
        )
        if global_groups
        else None
    )
    if cache_suffix is None or len({g.region for g in cache_groups}) != 2:
        cache_groups = []
        cache_suffix = None
        notes.append("no ElastiCache global datastore in the plan")

    alarms = [
        AlarmSpec(
            region=_region_of(res, anchor),
            name=_text(res.inputs, "name", default=res.name),
            namespace=_text(res.inputs, "namespace", default="AWS/RDS"),
            metric=_text(res.inputs, "metricName", default="CPUUtilization"),
        )
        for res in recording.by_type(T_ALARM)
    ]
    secrets = recording.by_type(T_SECRET)
    secret_name = (
        _text(secrets[0].inputs, "name", default=secrets[0].name) if secrets else base.secret_name
    )

    zones = recording.by_type(T_ZONE)
    zone_name = (
        _text(zones[0].inputs, "name", default=base.dns_zone_name) if zones else base.dns_zone_name
    )
    # Pulumi's mocks hand numbers over as floats (dnsTtlSeconds arrives as 30.0): a TTL is an
    # integer number of seconds for Route 53, so it is coerced (and must be whole).
    exported_ttl = (getattr(recording, "outputs", {}) or {}).get("dnsTtlSeconds")
    ttls = [
        int(t)
        for t in (
            exported_ttl,
            *(_plain(r.inputs.get("ttl")) for r in recording.by_type(T_RECORD)),
        )
        if isinstance(t, int | float) and float(t).is_integer()
    ]
    # The Data API is on when every regional cluster asks for it (issue 8: the program sets
    # enableHttpEndpoint from auroraDataApiEnabled); the sandbox follows the plan, never forces it.
    http_endpoint = bool(recording.by_type(T_CLUSTER)) and all(
        bool(_plain(r.inputs.get("enableHttpEndpoint"))) for r in recording.by_type(T_CLUSTER)
    )
    if not http_endpoint:
        notes.append(
            "the plan does not enable the RDS Data API (enableHttpEndpoint) on every cluster"
        )

    parameters = tuple(
        ParameterSpec(
            region=_region_of(res, anchor),
            name=_text(res.inputs, "name", default=res.name),
            value=_text(res.inputs, "insecureValue", "value"),
            type=_text(res.inputs, "type", default="String"),
            allowed_pattern=_text(res.inputs, "allowedPattern") or None,
            description=_text(res.inputs, "description"),
            follows_primary=_text(res.inputs, "insecureValue", "value") == settings.primary_region,
        )
        for res in recording.by_type(T_PARAMETER)
    )
    outputs = getattr(recording, "outputs", {}) or {}
    active_name = str(outputs.get("dynamodbActiveRegionParameter") or "")
    if not active_name or not any(p.name == active_name for p in parameters):
        notes.append(
            "no active-region parameter (output dynamodbActiveRegionParameter) in the plan"
        )
        active_name = active_name or base.active_region_parameter

    objectives = settings.objectives
    outputs_objectives = getattr(recording, "outputs", {}).get("drillObjectives")
    if isinstance(outputs_objectives, Mapping):
        objectives = parse_objectives(dict(outputs_objectives))

    return Topology(
        project=settings.project,
        stack=settings.stack,
        environment=settings.environment,
        primary_region=settings.primary_region,
        secondary_region=settings.secondary_region,
        global_cluster_id=global_id,
        clusters=tuple(clusters),
        tables=tuple(tables),
        cache_global_suffix=cache_suffix,
        cache_groups=tuple(cache_groups),
        alarms=tuple(alarms),
        secret_name=secret_name,
        objectives=objectives,
        database_name=database_name,
        engine_version=engine_version,
        dns_zone_name=zone_name,
        dns_ttl_seconds=ttls[0] if ttls else base.dns_ttl_seconds,
        http_endpoint=http_endpoint,
        active_region_parameter=active_name,
        parameters=parameters,
        source="recording",
        notes=tuple(notes),
        **recorded_stores(recording, settings),
    )


T_DB_INSTANCE = "aws:rds/instance:Instance"
T_DB_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
T_NEPTUNE_GLOBAL = "aws:neptune/globalCluster:GlobalCluster"
T_NEPTUNE_CLUSTER = "aws:neptune/cluster:Cluster"
T_REDSHIFT_CLUSTER = "aws:redshift/cluster:Cluster"
T_REDSHIFT_PARAMETER_GROUP = "aws:redshift/parameterGroup:ParameterGroup"
T_REDSHIFT_GRANT = "aws:redshift/snapshotCopyGrant:SnapshotCopyGrant"


def recorded_stores(recording: Any, settings: StackSettings) -> dict[str, Any]:
    """The issue-20 stores the plan declares (none when it declares none), with the names and
    sizes the plan gives them; what the plan leaves to Pulumi falls back to the components'
    own naming."""
    prefix = f"securecart-{settings.environment}"
    regions = (settings.primary_region, settings.secondary_region)
    anchor = sorted(regions)[0]
    found: dict[str, Any] = {"payments": None, "neptune": None, "redshift": None}
    instances = recording.by_type(T_DB_INSTANCE)
    if instances:
        base = payments_spec(prefix, regions)
        identifiers = {
            _region_of(r, anchor): _text(r.inputs, "identifier", default=r.name) for r in instances
        }
        groups = {
            _region_of(r, anchor): _text(r.inputs, "name", default=r.name)
            for r in recording.by_type(T_DB_PARAMETER_GROUP)
            if "payments" in r.name
        }
        source = next((r for r in instances if not _plain(r.inputs.get("replicateSourceDb"))), None)
        retention = _plain(source.inputs.get("backupRetentionPeriod")) if source else None
        storage = _plain(source.inputs.get("allocatedStorage")) if source else None
        found["payments"] = PaymentsSpec(
            source_region=_region_of(source, anchor) if source else base.source_region,
            replica_region=next(
                (r for r in regions if source is None or r != _region_of(source, anchor)),
                base.replica_region,
            ),
            identifiers={**base.identifiers, **identifiers},
            parameter_groups={**base.parameter_groups, **groups},
            instance_class=_text(instances[0].inputs, "instanceClass", default=base.instance_class),
            engine_version=_text(
                source.inputs if source else {}, "engineVersion", default=base.engine_version
            ),
            allocated_storage_gb=int(storage) if isinstance(storage, int | float) else 100,
            backup_retention_days=int(retention) if isinstance(retention, int | float) else 7,
        )
    globals_ = recording.by_type(T_NEPTUNE_GLOBAL)
    clusters = recording.by_type(T_NEPTUNE_CLUSTER)
    if globals_ and clusters:
        base_n = neptune_spec(prefix, regions)
        found["neptune"] = NeptuneSpec(
            global_cluster_id=_text(
                globals_[0].inputs, "globalClusterIdentifier", default=base_n.global_cluster_id
            ),
            clusters={
                **base_n.clusters,
                **{
                    _region_of(r, anchor): _text(r.inputs, "clusterIdentifier", default=r.name)
                    for r in clusters
                },
            },
            anchor_region=_region_of(globals_[0], anchor),
            engine_version=_text(
                globals_[0].inputs, "engineVersion", default=base_n.engine_version
            ),
        )
    warehouses = recording.by_type(T_REDSHIFT_CLUSTER)
    if warehouses:
        base_r = redshift_spec(prefix, regions)
        home = _region_of(warehouses[0], anchor)
        away = next(r for r in regions if r != home) if len(set(regions)) == 2 else home
        grants = recording.by_type(T_REDSHIFT_GRANT)
        landing = [
            r
            for r in recording.by_type(T_REDSHIFT_PARAMETER_GROUP)
            if _region_of(r, anchor) == away
        ]
        nodes = _plain(warehouses[0].inputs.get("numberOfNodes"))
        found["redshift"] = RedshiftSpec(
            region=home,
            copy_region=away,
            cluster_identifier=_text(
                warehouses[0].inputs, "clusterIdentifier", default=base_r.cluster_identifier
            ),
            grant_name=_text(grants[0].inputs, "snapshotCopyGrantName", default=base_r.grant_name)
            if grants
            else base_r.grant_name,
            restore_parameter_group=_text(
                landing[0].inputs, "name", default=base_r.restore_parameter_group
            )
            if landing
            else base_r.restore_parameter_group,
            node_type=_text(warehouses[0].inputs, "nodeType", default=base_r.node_type),
            number_of_nodes=int(nodes) if isinstance(nodes, int | float) else 1,
        )
    return found
