"""Typed, validated settings for one stack: the only shape of config the components see.

``__main__.py`` collects the raw project config (parsed YAML values, keys without the
``securecart-data:`` prefix) and calls :func:`load_settings`. Every rule here fails with a
:class:`ConfigError` that names the key, the value and what is allowed, before any resource
is registered, so bad config never half-deploys anything.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from components.windows import WindowError, daily_overlaps_weekly, parse_daily, parse_weekly

Environment = Literal["dev", "staging", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("dev", "staging", "prod")

# Commercial regions with three AZs where Aurora PostgreSQL global databases, DynamoDB global
# tables and ElastiCache global datastores are all available (us-west-1 has only two AZs for
# new accounts). Order fixes each region's default CIDR: append new regions, never reorder.
# components/naming.py lists their AZs.
REGIONS: tuple[str, ...] = (
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "sa-east-1",
)

# Aurora global databases need memory-optimised classes (no burstable db.t*, no serverless here).
AURORA_GLOBAL_CLASS = re.compile(
    r"^db\.(r5|r6g|r6i|r7g|r7i|r8g|x2g)\.(large|xlarge|[248]xlarge|12xlarge|16xlarge|24xlarge)$"
)
# Aurora PostgreSQL majors that support global databases and managed switchover.
AURORA_ENGINE_VERSION = re.compile(r"^(1[3-7])\.\d{1,2}$")
DATA_API_MINIMUM: Mapping[int, tuple[int, int]] = {
    13: (13, 11),
    14: (14, 8),
    15: (15, 3),
    16: (16, 1),
    17: (17, 4),
}
"""First version per major where the RDS Data API serves provisioned Aurora PostgreSQL clusters
(AWS "Supported Regions and Aurora DB engines for RDS Data API"; every region in REGIONS has it).
It is not supported on T classes, which AURORA_GLOBAL_CLASS already excludes (AWS "Limitations
for the Amazon RDS Data API")."""
# ElastiCache global datastores need large-or-bigger m5/m6g/m7g/r5/r6g/r7g nodes.
CACHE_GLOBAL_NODE = re.compile(
    r"^cache\.(m5|m6g|m7g|r5|r6g|r7g)\.(large|xlarge|[248]xlarge|12xlarge|16xlarge|24xlarge)$"
)
CACHE_ENGINE_VERSIONS: Mapping[str, tuple[str, ...]] = {
    "valkey": ("7.2", "8.0", "8.1"),
    "redis": ("6.2", "7.0", "7.1"),
}
PI_RETENTION_DAYS = (7, *range(31, 732, 31))
"""Performance Insights accepts 7 (free tier), or a multiple of 31 up to 731 days."""
MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)
"""Enhanced monitoring granularities in seconds (0 would turn it off, which we never allow)."""
TABLE_NAME = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
ATTRIBUTE_TYPES = ("S", "N", "B")
PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
DNS_ZONE = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
VPC_ID = re.compile(r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
# AWS Budgets: "A budget can have up to ten notifications" and "a notification can have one SNS
# subscriber and up to 10 email subscribers" (Budgets API Notification / NotificationWithSubscribers;
# https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-limits.html). The budget
# adds one FORECASTED notification to the ACTUAL one per threshold.
MAX_BUDGET_NOTIFICATIONS = 10
MAX_BUDGET_EMAILS = 10
CRON = re.compile(r"^cron\(.+\)$")
TAG_VALUE = re.compile(r"^[\w .:/=+@-]{1,256}$")


class ConfigError(ValueError):
    """Bad stack config: names the key, the offending value and what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"config key {key!r} has value {value!r}; allowed: {allowed}")


# --------------------------------------------------------------------------------------------
# Settings types (frozen: components read them, never change them)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ExistingNetwork:
    """A bring-your-own VPC in one region."""

    vpc_id: str
    """ID of the existing VPC."""
    subnet_ids: tuple[str, ...]
    """Three private subnets in three different AZs."""


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    """Per-region network layout; keyed by region so a role swap changes nothing."""

    vpc_cidrs: Mapping[str, str]
    """VPC CIDR per region (used only where no existing VPC is given)."""
    app_cidrs: tuple[str, ...]
    """CIDRs of the application tier: the only sources admitted to the data stores."""
    existing: Mapping[str, ExistingNetwork] = field(default_factory=dict)
    """Existing VPC and subnets per region; regions absent here get a new VPC."""
    app_vpc_ids: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Application VPCs per region, associated with the private zone so applications resolve
    its names (keyed by region, any known region, so a role swap changes nothing)."""


@dataclass(frozen=True, kw_only=True)
class AuroraSettings:
    """Aurora PostgreSQL global database sizing and safety knobs."""

    engine_version: str = "16.6"
    instance_class: str = "db.r6g.large"
    instances_per_region: int = 2
    """Writer + readers in the primary, read replicas in the secondary (same count: a swap adds
    or removes nothing)."""
    database_name: str = "securecart"
    master_username: str = "securecart_admin"
    backup_retention_days: int = 7
    preferred_backup_window: str = "03:00-04:00"
    preferred_maintenance_window: str = "sun:05:00-sun:06:00"
    performance_insights_retention_days: int = 7
    monitoring_interval_seconds: int = 60
    autoscaling_min_readers: int = 1
    autoscaling_max_readers: int = 3
    autoscaling_target_cpu: float = 60.0
    deletion_protection: bool = True
    data_api_enabled: bool = True
    """RDS Data API (enable_http_endpoint) on both clusters: drills write canaries through it.
    AWS allows it on both members of a global database and answers only where a writer is."""
    allow_major_version_upgrade: bool = False
    """Let this deploy move the global cluster to engine_version (major or minor) through
    ModifyGlobalCluster; otherwise the deployed version is kept (AWS upgrades minors itself)."""


@dataclass(frozen=True, kw_only=True)
class AttributeSettings:
    """A DynamoDB key attribute."""

    name: str
    type: str


@dataclass(frozen=True, kw_only=True)
class IndexSettings:
    """A global secondary index."""

    name: str
    hash_key: str
    range_key: str | None = None
    projection_type: str = "ALL"
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TableSettings:
    """One DynamoDB global table."""

    name: str
    """Logical name (``carts``); the physical name is ``securecart-<env>-<name>``."""
    hash_key: str
    range_key: str | None = None
    attributes: tuple[AttributeSettings, ...] = ()
    ttl_attribute: str | None = None
    global_secondary_indexes: tuple[IndexSettings, ...] = ()
    billing_mode: str = "PAY_PER_REQUEST"
    read_capacity: int | None = None
    write_capacity: int | None = None


@dataclass(frozen=True, kw_only=True)
class DynamoSettings:
    """The global tables of the stack."""

    tables: tuple[TableSettings, ...]


@dataclass(frozen=True, kw_only=True)
class CacheSettings:
    """ElastiCache global datastore for the product cache."""

    engine: str = "valkey"
    engine_version: str = "7.2"
    node_type: str = "cache.r7g.large"
    replicas_per_region: int = 1
    """Read replicas beside the primary node in each region (>= 1 for Multi-AZ failover)."""
    snapshot_retention_days: int = 7
    snapshot_window: str = "02:00-03:00"
    """Daily snapshot window, hh24:mi-hh24:mi UTC (>= 60 minutes, clear of the maintenance one)."""
    maintenance_window: str = "sun:06:00-sun:07:00"
    """Weekly maintenance window, ddd:hh24:mi-ddd:hh24:mi UTC (>= 60 minutes)."""


@dataclass(frozen=True, kw_only=True)
class MonitoringSettings:
    """Alarm thresholds (the seed asks for an alert at 80% CPU)."""

    cpu_threshold_percent: float = 80.0
    replication_lag_threshold_ms: float = 1000.0
    freeable_memory_threshold_bytes: float = 512 * 1024 * 1024
    dynamo_replication_latency_ms: float = 2000.0
    cache_memory_threshold_percent: float = 80.0
    alarm_emails: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class BackupSettings:
    """AWS Backup plan: schedule, retention and the cross-region copy."""

    schedule: str = "cron(0 5 * * ? *)"
    retention_days: int = 35
    copy_retention_days: int = 35


@dataclass(frozen=True, kw_only=True)
class BudgetSettings:
    """Monthly cost budget for the stack."""

    monthly_limit_usd: float
    thresholds_percent: tuple[float, ...] = (80.0, 100.0)
    alert_emails: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DrillSettings:
    """Recovery objectives the drills measure against."""

    rto_seconds: int = 300
    rpo_seconds: int = 5
    max_replication_lag_seconds: float = 5.0


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything one stack needs, validated."""

    environment: Environment
    primary_region: str
    secondary_region: str
    cost_center: str
    owner: str
    network: NetworkSettings
    aurora: AuroraSettings
    dynamodb: DynamoSettings
    cache: CacheSettings
    dns_zone_name: str
    monitoring: MonitoringSettings
    backup: BackupSettings
    budget: BudgetSettings
    drills: DrillSettings

    @property
    def regions(self) -> tuple[str, str]:
        """(primary, secondary)."""
        return (self.primary_region, self.secondary_region)

    @property
    def anchor_region(self) -> str:
        """The region that never changes under a role swap: the lexically smaller one.

        Resources that live in exactly one region but belong to both (the provider, the
        DynamoDB global table resource) are anchored here so a failover's swap of
        primaryRegion/secondaryRegion leaves them untouched.
        """
        return min(self.regions)

    @property
    def base_tags(self) -> dict[str, str]:
        """Cost-allocation tags applied to every taggable resource via the provider."""
        return {
            "Project": "securecart-data",
            "Environment": self.environment,
            "Stack": f"securecart-data-{self.environment}",
            "CostCenter": self.cost_center,
            "Owner": self.owner,
            "ManagedBy": "pulumi",
            "DataClassification": "confidential",
        }


# --------------------------------------------------------------------------------------------
# Parsing helpers: each names the full dotted key in its error
# --------------------------------------------------------------------------------------------


def _section(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(key, value, "an object (YAML mapping)")
    return value


def _known(section: Mapping[str, Any], prefix: str, allowed: Sequence[str]) -> None:
    for name in section:
        if name not in allowed:
            keys = sorted(flat_key(f"{prefix}.{a}") for a in allowed)
            raise ConfigError(f"{prefix}.{name}", section[name], f"one of the keys {keys}")


def _str(section: Mapping[str, Any], key: str, full: str, default: str | None = None) -> str:
    value = section.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(full, value, "a non-empty string")
    return value


def _opt_str(section: Mapping[str, Any], key: str, full: str) -> str | None:
    value = section.get(key)
    if value is None:
        return None
    return _str(section, key, full)


def _int(section: Mapping[str, Any], key: str, full: str, default: int, low: int, high: int) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(full, value, f"an integer from {low} to {high}")
    return value


def _num(
    section: Mapping[str, Any], key: str, full: str, default: float, low: float, high: float
) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(full, value, f"a number from {low} to {high}")
    return float(value)


def _bool(section: Mapping[str, Any], key: str, full: str, default: bool) -> bool:
    value = section.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(full, value, "true or false")
    return value


def _choice(
    section: Mapping[str, Any], key: str, full: str, default: Any, options: Sequence[Any]
) -> Any:
    value = section.get(key, default)
    if value not in options:
        raise ConfigError(full, value, f"one of {list(options)}")
    return value


def _pattern(
    section: Mapping[str, Any], key: str, full: str, default: str, regex: re.Pattern[str], what: str
) -> str:
    value = section.get(key, default)
    if not isinstance(value, str) or not regex.match(value):
        raise ConfigError(full, value, what)
    return value


def _str_list(
    section: Mapping[str, Any], key: str, full: str, regex: re.Pattern[str], what: str
) -> tuple[str, ...]:
    value = section.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(full, value, f"a list of {what}")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not regex.match(item):
            raise ConfigError(f"{full}[{index}]", item, what)
    return tuple(value)


def _cidr(value: Any, full: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True) if isinstance(value, str) else None
    except ValueError:
        network = None
    if network is None or network.version != 4:
        raise ConfigError(full, value, "an IPv4 network in CIDR notation, e.g. 10.20.0.0/16")
    return str(network)


def _window(
    section: Mapping[str, Any], key: str, full: str, default: str, minimum: int, *, weekly: bool
) -> str:
    """A backup/snapshot (daily) or maintenance (weekly) window that AWS would accept."""
    value = section.get(key, default)
    try:
        (parse_weekly if weekly else parse_daily)(value, minimum)
    except WindowError as exc:
        raise ConfigError(full, value, str(exc)) from None
    return str(value)


def _no_overlap(daily: str, weekly: str, full: str, other: str) -> None:
    """RDS and ElastiCache refuse a daily window that overlaps the weekly maintenance window."""
    if daily_overlaps_weekly(parse_daily(daily, 0), parse_weekly(weekly, 0)):
        raise ConfigError(full, daily, f"a window that does not overlap {other} ({weekly})")


def default_vpc_cidr(region: str) -> str:
    """A distinct /16 per region, derived from the region (never from its role)."""
    return f"10.{16 + REGIONS.index(region)}.0.0/16"


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


def _regions(raw: Mapping[str, Any]) -> tuple[str, str]:
    primary = _choice(raw, "primaryRegion", "primaryRegion", None, REGIONS)
    secondary = _choice(raw, "secondaryRegion", "secondaryRegion", None, REGIONS)
    if primary == secondary:
        raise ConfigError(
            "secondaryRegion", secondary, f"a region other than primaryRegion ({primary})"
        )
    return primary, secondary


def _network(raw: Mapping[str, Any], regions: tuple[str, str]) -> NetworkSettings:
    section = _section(raw, "network")
    _known(section, "network", ("vpcCidrs", "appCidrs", "existingVpcs", "appVpcIds"))
    cidr_map = section.get("vpcCidrs", {}) or {}
    if not isinstance(cidr_map, Mapping):
        raise ConfigError("network.vpcCidrs", cidr_map, "an object of region -> CIDR")
    cidrs: dict[str, str] = {}
    for region in regions:
        value = cidr_map.get(region, default_vpc_cidr(region))
        cidr = _cidr(value, f"network.vpcCidrs.{region}")
        if not 16 <= ipaddress.ip_network(cidr).prefixlen <= 20:
            raise ConfigError(f"network.vpcCidrs.{region}", value, "a prefix from /16 to /20")
        cidrs[region] = cidr
    for region in cidr_map:
        if region not in regions:
            raise ConfigError(
                f"network.vpcCidrs.{region}",
                cidr_map[region],
                f"a key among the stack's regions {list(regions)}",
            )
    first, second = (ipaddress.ip_network(cidrs[r]) for r in regions)
    if first.overlaps(second):
        raise ConfigError(
            f"network.vpcCidrs.{regions[1]}",
            cidrs[regions[1]],
            f"a CIDR that does not overlap {cidrs[regions[0]]} (keeps the regions peerable)",
        )
    app = section.get("appCidrs")
    if not isinstance(app, list) or not app:
        raise ConfigError(
            "network.appCidrs", app, "a non-empty list of the application tier's CIDRs"
        )
    app_cidrs: list[str] = []
    for index, item in enumerate(app):
        cidr = _cidr(item, f"network.appCidrs[{index}]")
        if ipaddress.ip_network(cidr).prefixlen < 8:
            raise ConfigError(
                f"network.appCidrs[{index}]",
                item,
                "a network no wider than /8 (0.0.0.0/0 would open the data tier)",
            )
        app_cidrs.append(cidr)
    existing_raw = section.get("existingVpcs", {}) or {}
    if not isinstance(existing_raw, Mapping):
        raise ConfigError(
            "network.existingVpcs", existing_raw, "an object of region -> {vpcId, subnetIds}"
        )
    existing: dict[str, ExistingNetwork] = {}
    for region, spec in existing_raw.items():
        key = f"network.existingVpcs.{region}"
        if region not in regions:
            raise ConfigError(key, spec, f"a key among the stack's regions {list(regions)}")
        if not isinstance(spec, Mapping):
            raise ConfigError(key, spec, "an object {vpcId, subnetIds}")
        vpc_id = _pattern(
            spec,
            "vpcId",
            f"{key}.vpcId",
            "",
            re.compile(r"^vpc-[0-9a-f]{8,17}$"),
            "a VPC id like vpc-0123456789abcdef0",
        )
        subnets = spec.get("subnetIds")
        if not isinstance(subnets, list) or len(subnets) != 3 or len(set(subnets)) != 3:
            raise ConfigError(
                f"{key}.subnetIds", subnets, "exactly three distinct private subnet ids, one per AZ"
            )
        for index, subnet in enumerate(subnets):
            if not isinstance(subnet, str) or not re.match(r"^subnet-[0-9a-f]{8,17}$", subnet):
                raise ConfigError(
                    f"{key}.subnetIds[{index}]", subnet, "a subnet id like subnet-0123456789abcdef0"
                )
        existing[region] = ExistingNetwork(vpc_id=vpc_id, subnet_ids=tuple(subnets))
    return NetworkSettings(
        vpc_cidrs=cidrs,
        app_cidrs=tuple(app_cidrs),
        existing=existing,
        app_vpc_ids=_app_vpc_ids(section, existing),
    )


def _app_vpc_ids(
    section: Mapping[str, Any], existing: Mapping[str, ExistingNetwork]
) -> dict[str, tuple[str, ...]]:
    """Application VPCs per region; Route 53 refuses to associate one VPC with a zone twice."""
    raw = section.get("appVpcIds", {}) or {}
    if not isinstance(raw, Mapping):
        raise ConfigError("network.appVpcIds", raw, "an object of region -> list of VPC ids")
    own = {e.vpc_id: f"networkExistingVpcs.{r}.vpcId" for r, e in existing.items()}
    seen: dict[str, str] = {}
    result: dict[str, tuple[str, ...]] = {}
    for region, ids in raw.items():
        key = f"network.appVpcIds.{region}"
        if region not in REGIONS:
            raise ConfigError(key, ids, f"a key that is a known region: {', '.join(REGIONS)}")
        if not isinstance(ids, list):
            raise ConfigError(key, ids, "a list of VPC ids")
        for index, vpc_id in enumerate(ids):
            item = f"{key}[{index}]"
            if not isinstance(vpc_id, str) or not VPC_ID.match(vpc_id):
                raise ConfigError(
                    item,
                    vpc_id,
                    "a VPC id: vpc- and 8 or 17 hex digits, e.g. vpc-0a1b2c3d4e5f60718",
                )
            if vpc_id in seen or vpc_id in own:
                where = seen.get(vpc_id) or own[vpc_id]
                raise ConfigError(
                    item, vpc_id, f"a VPC not listed already (it is {flat_key(where)})"
                )
            seen[vpc_id] = item
        result[region] = tuple(ids)
    return result


def _aurora(raw: Mapping[str, Any], environment: str) -> AuroraSettings:
    s = _section(raw, "aurora")
    d = AuroraSettings()
    _known(
        s,
        "aurora",
        (
            "engineVersion",
            "instanceClass",
            "instancesPerRegion",
            "databaseName",
            "masterUsername",
            "backupRetentionDays",
            "preferredBackupWindow",
            "preferredMaintenanceWindow",
            "performanceInsightsRetentionDays",
            "monitoringIntervalSeconds",
            "autoscalingMinReaders",
            "autoscalingMaxReaders",
            "autoscalingTargetCpuPercent",
            "deletionProtection",
            "dataApiEnabled",
            "allowMajorVersionUpgrade",
        ),
    )
    settings = AuroraSettings(
        engine_version=_pattern(
            s,
            "engineVersion",
            "aurora.engineVersion",
            d.engine_version,
            AURORA_ENGINE_VERSION,
            "an Aurora PostgreSQL version 13.x to 17.x (major.minor) that supports global databases",
        ),
        instance_class=_pattern(
            s,
            "instanceClass",
            "aurora.instanceClass",
            d.instance_class,
            AURORA_GLOBAL_CLASS,
            "a memory-optimised class that can join a global database (db.r5/r6g/r6i/r7g/r7i/r8g/x2g, large or bigger)",
        ),
        instances_per_region=_int(
            s, "instancesPerRegion", "aurora.instancesPerRegion", d.instances_per_region, 2, 15
        ),
        database_name=_pattern(
            s,
            "databaseName",
            "aurora.databaseName",
            d.database_name,
            IDENTIFIER,
            "a lowercase identifier (letters, digits, _), 1-63 characters",
        ),
        master_username=_pattern(
            s,
            "masterUsername",
            "aurora.masterUsername",
            d.master_username,
            IDENTIFIER,
            "a lowercase identifier (letters, digits, _), 1-63 characters",
        ),
        backup_retention_days=_int(
            s, "backupRetentionDays", "aurora.backupRetentionDays", d.backup_retention_days, 7, 35
        ),
        # RDS: each window at least 30 minutes, and they must not conflict (checked below).
        preferred_backup_window=_window(
            s,
            "preferredBackupWindow",
            "aurora.preferredBackupWindow",
            d.preferred_backup_window,
            30,
            weekly=False,
        ),
        preferred_maintenance_window=_window(
            s,
            "preferredMaintenanceWindow",
            "aurora.preferredMaintenanceWindow",
            d.preferred_maintenance_window,
            30,
            weekly=True,
        ),
        performance_insights_retention_days=_choice(
            s,
            "performanceInsightsRetentionDays",
            "aurora.performanceInsightsRetentionDays",
            d.performance_insights_retention_days,
            PI_RETENTION_DAYS,
        ),
        monitoring_interval_seconds=_choice(
            s,
            "monitoringIntervalSeconds",
            "aurora.monitoringIntervalSeconds",
            d.monitoring_interval_seconds,
            MONITORING_INTERVALS,
        ),
        autoscaling_min_readers=_int(
            s,
            "autoscalingMinReaders",
            "aurora.autoscalingMinReaders",
            d.autoscaling_min_readers,
            1,
            15,
        ),
        autoscaling_max_readers=_int(
            s,
            "autoscalingMaxReaders",
            "aurora.autoscalingMaxReaders",
            d.autoscaling_max_readers,
            1,
            15,
        ),
        autoscaling_target_cpu=_num(
            s,
            "autoscalingTargetCpuPercent",
            "aurora.autoscalingTargetCpuPercent",
            d.autoscaling_target_cpu,
            10,
            90,
        ),
        deletion_protection=_bool(
            s, "deletionProtection", "aurora.deletionProtection", d.deletion_protection
        ),
        data_api_enabled=_bool(s, "dataApiEnabled", "aurora.dataApiEnabled", d.data_api_enabled),
        allow_major_version_upgrade=_bool(
            s,
            "allowMajorVersionUpgrade",
            "aurora.allowMajorVersionUpgrade",
            d.allow_major_version_upgrade,
        ),
    )
    _no_overlap(
        settings.preferred_backup_window,
        settings.preferred_maintenance_window,
        "aurora.preferredBackupWindow",
        "auroraPreferredMaintenanceWindow",
    )
    major, minor = (int(part) for part in settings.engine_version.split("."))
    floor = DATA_API_MINIMUM[major]
    if settings.data_api_enabled and (major, minor) < floor:
        raise ConfigError(
            "aurora.engineVersion",
            settings.engine_version,
            f"{floor[0]}.{floor[1]} or later while auroraDataApiEnabled is true (the RDS Data API "
            "needs Aurora PostgreSQL 13.11, 14.8, 15.3, 16.1 or 17.4 and later)",
        )
    if settings.autoscaling_max_readers < settings.autoscaling_min_readers:
        raise ConfigError(
            "aurora.autoscalingMaxReaders",
            settings.autoscaling_max_readers,
            f">= auroraAutoscalingMinReaders ({settings.autoscaling_min_readers})",
        )
    if environment == "prod" and not settings.deletion_protection:
        raise ConfigError("aurora.deletionProtection", False, "true in prod")
    return settings


def _table(spec: Any, index: int) -> TableSettings:
    key = f"dynamodb.tables[{index}]"
    if not isinstance(spec, Mapping):
        raise ConfigError(key, spec, "an object {name, hashKey, attributes, ...}")
    _known(
        spec,
        key,
        (
            "name",
            "hashKey",
            "rangeKey",
            "attributes",
            "ttlAttribute",
            "globalSecondaryIndexes",
            "billingMode",
            "readCapacity",
            "writeCapacity",
        ),
    )
    name = _pattern(
        spec,
        "name",
        f"{key}.name",
        "",
        TABLE_NAME,
        "a lowercase name of 2-41 letters, digits or dashes",
    )
    key = f"dynamodb.tables[{name}]"
    attrs_raw = spec.get("attributes")
    if not isinstance(attrs_raw, Mapping) or not attrs_raw:
        raise ConfigError(
            f"{key}.attributes",
            attrs_raw,
            "an object of attribute name -> S | N | B for every key attribute",
        )
    attributes: list[AttributeSettings] = []
    for attr, kind in attrs_raw.items():
        if kind not in ATTRIBUTE_TYPES:
            raise ConfigError(f"{key}.attributes.{attr}", kind, f"one of {list(ATTRIBUTE_TYPES)}")
        attributes.append(AttributeSettings(name=str(attr), type=kind))
    defined = {a.name for a in attributes}
    hash_key = spec.get("hashKey")
    if not isinstance(hash_key, str) or not hash_key:
        raise ConfigError(f"{key}.hashKey", hash_key, "the name of the partition key attribute")
    if hash_key not in defined:
        raise ConfigError(
            f"{key}.hashKey",
            hash_key,
            f"an attribute defined in {key}.attributes {sorted(defined)}",
        )
    range_key = _opt_str(spec, "rangeKey", f"{key}.rangeKey")
    if range_key is not None and range_key not in defined:
        raise ConfigError(
            f"{key}.rangeKey",
            range_key,
            f"an attribute defined in {key}.attributes {sorted(defined)}",
        )
    indexes: list[IndexSettings] = []
    gsis = spec.get("globalSecondaryIndexes", []) or []
    if not isinstance(gsis, list):
        raise ConfigError(f"{key}.globalSecondaryIndexes", gsis, "a list of indexes")
    for gi, gsi in enumerate(gsis):
        gkey = f"{key}.globalSecondaryIndexes[{gi}]"
        if not isinstance(gsi, Mapping):
            raise ConfigError(gkey, gsi, "an object {name, hashKey, rangeKey?, projectionType?}")
        _known(gsi, gkey, ("name", "hashKey", "rangeKey", "projectionType", "nonKeyAttributes"))
        gname = _pattern(
            gsi,
            "name",
            f"{gkey}.name",
            "",
            re.compile(r"^[A-Za-z0-9_.-]{3,255}$"),
            "an index name of 3-255 characters",
        )
        ghash = _str(gsi, "hashKey", f"{gkey}.hashKey")
        if ghash not in defined:
            raise ConfigError(
                f"{gkey}.hashKey",
                ghash,
                f"an attribute defined in {key}.attributes {sorted(defined)}",
            )
        grange = _opt_str(gsi, "rangeKey", f"{gkey}.rangeKey")
        if grange is not None and grange not in defined:
            raise ConfigError(
                f"{gkey}.rangeKey",
                grange,
                f"an attribute defined in {key}.attributes {sorted(defined)}",
            )
        projection = _choice(gsi, "projectionType", f"{gkey}.projectionType", "ALL", PROJECTIONS)
        non_key = gsi.get("nonKeyAttributes", []) or []
        if projection == "INCLUDE" and not non_key:
            raise ConfigError(
                f"{gkey}.nonKeyAttributes",
                non_key,
                "a non-empty list when projectionType is INCLUDE",
            )
        if projection != "INCLUDE" and non_key:
            raise ConfigError(
                f"{gkey}.nonKeyAttributes", non_key, "empty unless projectionType is INCLUDE"
            )
        indexes.append(
            IndexSettings(
                name=gname,
                hash_key=ghash,
                range_key=grange,
                projection_type=projection,
                non_key_attributes=tuple(non_key),
            )
        )
    if len({i.name for i in indexes}) != len(indexes):
        raise ConfigError(
            f"{key}.globalSecondaryIndexes", [i.name for i in indexes], "unique index names"
        )
    used = {hash_key, range_key} | {i.hash_key for i in indexes} | {i.range_key for i in indexes}
    unused = defined - used
    if unused:
        # DynamoDB rejects attribute definitions that no key or index uses.
        raise ConfigError(
            f"{key}.attributes", sorted(unused), "only attributes used by the table key or an index"
        )
    billing = _choice(
        spec,
        "billingMode",
        f"{key}.billingMode",
        "PAY_PER_REQUEST",
        ("PAY_PER_REQUEST", "PROVISIONED"),
    )
    read = spec.get("readCapacity")
    write = spec.get("writeCapacity")
    if billing == "PROVISIONED":
        read = _int(spec, "readCapacity", f"{key}.readCapacity", 0, 1, 40000)
        write = _int(spec, "writeCapacity", f"{key}.writeCapacity", 0, 1, 40000)
    elif read is not None or write is not None:
        raise ConfigError(
            f"{key}.readCapacity",
            read if read is not None else write,
            "unset with billingMode PAY_PER_REQUEST",
        )
    ttl = _opt_str(spec, "ttlAttribute", f"{key}.ttlAttribute")
    if ttl is not None and ttl in (hash_key, range_key):
        raise ConfigError(
            f"{key}.ttlAttribute", ttl, "an attribute that is not part of the table key"
        )
    return TableSettings(
        name=name,
        hash_key=hash_key,
        range_key=range_key,
        attributes=tuple(attributes),
        ttl_attribute=ttl,
        global_secondary_indexes=tuple(indexes),
        billing_mode=billing,
        read_capacity=read,
        write_capacity=write,
    )


def _dynamodb(raw: Mapping[str, Any]) -> DynamoSettings:
    s = _section(raw, "dynamodb")
    _known(s, "dynamodb", ("tables",))
    tables_raw = s.get("tables")
    if not isinstance(tables_raw, list) or not tables_raw:
        raise ConfigError("dynamodb.tables", tables_raw, "a non-empty list of tables")
    tables = tuple(_table(spec, index) for index, spec in enumerate(tables_raw))
    names = [t.name for t in tables]
    if len(set(names)) != len(names):
        raise ConfigError("dynamodb.tables", names, "unique table names")
    return DynamoSettings(tables=tables)


def _cache(raw: Mapping[str, Any]) -> CacheSettings:
    s = _section(raw, "cache")
    d = CacheSettings()
    _known(
        s,
        "cache",
        (
            "engine",
            "engineVersion",
            "nodeType",
            "replicasPerRegion",
            "snapshotRetentionDays",
            "snapshotWindow",
            "maintenanceWindow",
        ),
    )
    engine = _choice(s, "engine", "cache.engine", d.engine, tuple(CACHE_ENGINE_VERSIONS))
    # ElastiCache: snapshot and maintenance windows of at least 60 minutes that do not overlap.
    snapshot_window = _window(
        s, "snapshotWindow", "cache.snapshotWindow", d.snapshot_window, 60, weekly=False
    )
    maintenance_window = _window(
        s, "maintenanceWindow", "cache.maintenanceWindow", d.maintenance_window, 60, weekly=True
    )
    _no_overlap(
        snapshot_window, maintenance_window, "cache.snapshotWindow", "cacheMaintenanceWindow"
    )
    return CacheSettings(
        snapshot_window=snapshot_window,
        maintenance_window=maintenance_window,
        engine=engine,
        engine_version=_choice(
            s,
            "engineVersion",
            "cache.engineVersion",
            CACHE_ENGINE_VERSIONS[engine][0] if engine != d.engine else d.engine_version,
            CACHE_ENGINE_VERSIONS[engine],
        ),
        node_type=_pattern(
            s,
            "nodeType",
            "cache.nodeType",
            d.node_type,
            CACHE_GLOBAL_NODE,
            "a node type a global datastore accepts (cache.m5/m6g/m7g/r5/r6g/r7g, large or bigger)",
        ),
        replicas_per_region=_int(
            s, "replicasPerRegion", "cache.replicasPerRegion", d.replicas_per_region, 1, 5
        ),
        snapshot_retention_days=_int(
            s,
            "snapshotRetentionDays",
            "cache.snapshotRetentionDays",
            d.snapshot_retention_days,
            1,
            35,
        ),
    )


def _monitoring(raw: Mapping[str, Any]) -> MonitoringSettings:
    s = _section(raw, "monitoring")
    d = MonitoringSettings()
    _known(
        s,
        "monitoring",
        (
            "cpuThresholdPercent",
            "replicationLagThresholdMs",
            "freeableMemoryThresholdBytes",
            "dynamoReplicationLatencyMs",
            "cacheMemoryThresholdPercent",
            "alarmEmails",
        ),
    )
    return MonitoringSettings(
        cpu_threshold_percent=_num(
            s,
            "cpuThresholdPercent",
            "monitoring.cpuThresholdPercent",
            d.cpu_threshold_percent,
            10,
            80,
        ),
        replication_lag_threshold_ms=_num(
            s,
            "replicationLagThresholdMs",
            "monitoring.replicationLagThresholdMs",
            d.replication_lag_threshold_ms,
            100,
            60000,
        ),
        freeable_memory_threshold_bytes=_num(
            s,
            "freeableMemoryThresholdBytes",
            "monitoring.freeableMemoryThresholdBytes",
            d.freeable_memory_threshold_bytes,
            64 * 1024 * 1024,
            64 * 1024**3,
        ),
        dynamo_replication_latency_ms=_num(
            s,
            "dynamoReplicationLatencyMs",
            "monitoring.dynamoReplicationLatencyMs",
            d.dynamo_replication_latency_ms,
            100,
            600000,
        ),
        cache_memory_threshold_percent=_num(
            s,
            "cacheMemoryThresholdPercent",
            "monitoring.cacheMemoryThresholdPercent",
            d.cache_memory_threshold_percent,
            10,
            95,
        ),
        alarm_emails=_unique_emails(
            _str_list(s, "alarmEmails", "monitoring.alarmEmails", EMAIL, "an e-mail address"),
            "monitoring.alarmEmails",
        ),
    )


def _unique_emails(emails: tuple[str, ...], full: str) -> tuple[str, ...]:
    """E-mail addresses compare case-insensitively; a repeat would subscribe the same inbox twice."""
    folded = [e.lower() for e in emails]
    for index, email in enumerate(emails):
        if folded[index] in folded[:index]:
            raise ConfigError(f"{full}[{index}]", email, "an address not listed already")
    return emails


def _backup(raw: Mapping[str, Any], aurora: AuroraSettings) -> BackupSettings:
    s = _section(raw, "backup")
    d = BackupSettings()
    _known(s, "backup", ("schedule", "retentionDays", "copyRetentionDays"))
    return BackupSettings(
        schedule=_pattern(
            s,
            "schedule",
            "backup.schedule",
            d.schedule,
            CRON,
            "an AWS cron expression like cron(0 5 * * ? *)",
        ),
        retention_days=_int(
            s,
            "retentionDays",
            "backup.retentionDays",
            d.retention_days,
            max(7, aurora.backup_retention_days),
            3650,
        ),
        copy_retention_days=_int(
            s, "copyRetentionDays", "backup.copyRetentionDays", d.copy_retention_days, 7, 3650
        ),
    )


def _budget(raw: Mapping[str, Any]) -> BudgetSettings:
    s = _section(raw, "budget")
    _known(s, "budget", ("monthlyLimitUsd", "thresholdsPercent", "alertEmails"))
    limit = _num(s, "monthlyLimitUsd", "budget.monthlyLimitUsd", -1, 1, 1_000_000)
    thresholds = s.get("thresholdsPercent", [80, 100])
    if not isinstance(thresholds, list) or not thresholds:
        raise ConfigError("budget.thresholdsPercent", thresholds, "a non-empty list of percentages")
    if len(thresholds) > MAX_BUDGET_NOTIFICATIONS - 1:
        raise ConfigError(
            "budget.thresholdsPercent",
            thresholds,
            f"at most {MAX_BUDGET_NOTIFICATIONS - 1} thresholds (AWS allows "
            f"{MAX_BUDGET_NOTIFICATIONS} notifications per budget; one more is the forecast alert)",
        )
    for index, value in enumerate(thresholds):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 1000:
            raise ConfigError(
                f"budget.thresholdsPercent[{index}]", value, "a percentage from 1 to 1000"
            )
        if value in thresholds[:index]:
            raise ConfigError(
                f"budget.thresholdsPercent[{index}]",
                value,
                "a threshold not listed already (AWS refuses duplicate notifications)",
            )
    emails = _str_list(s, "alertEmails", "budget.alertEmails", EMAIL, "an e-mail address")
    if not emails:
        raise ConfigError(
            "budget.alertEmails", emails, "at least one e-mail address for budget alerts"
        )
    if len(emails) > MAX_BUDGET_EMAILS:
        raise ConfigError(
            "budget.alertEmails",
            list(emails),
            f"at most {MAX_BUDGET_EMAILS} e-mail addresses (AWS: 10 e-mail subscribers per notification)",
        )
    _unique_emails(emails, "budget.alertEmails")
    return BudgetSettings(
        monthly_limit_usd=limit,
        thresholds_percent=tuple(float(t) for t in thresholds),
        alert_emails=emails,
    )


def _drills(raw: Mapping[str, Any]) -> DrillSettings:
    s = _section(raw, "drills")
    d = DrillSettings()
    _known(s, "drills", ("rtoSeconds", "rpoSeconds", "maxReplicationLagSeconds"))
    return DrillSettings(
        rto_seconds=_int(s, "rtoSeconds", "drills.rtoSeconds", d.rto_seconds, 1, 86400),
        rpo_seconds=_int(s, "rpoSeconds", "drills.rpoSeconds", d.rpo_seconds, 0, 86400),
        max_replication_lag_seconds=_num(
            s,
            "maxReplicationLagSeconds",
            "drills.maxReplicationLagSeconds",
            d.max_replication_lag_seconds,
            0.1,
            3600,
        ),
    )


SECTIONS = ("network", "aurora", "dynamodb", "cache", "monitoring", "backup", "budget", "drills")
"""Prefixes of the flat config keys: ``auroraInstanceClass`` is field ``instanceClass`` of ``aurora``."""
TOP_LEVEL_KEYS = (
    "environment",
    "primaryRegion",
    "secondaryRegion",
    "costCenter",
    "owner",
    "dnsZoneName",
)


def flat_key(dotted: str) -> str:
    """``aurora.instanceClass`` -> ``auroraInstanceClass``: the key as written in stack config."""
    head, dot, rest = dotted.partition(".")
    if not dot or head not in SECTIONS:
        return dotted
    return head + rest[:1].upper() + rest[1:]


def _nest(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Group flat keys into sections; unknown keys fail here, naming the key."""
    nested: dict[str, Any] = {}
    for key, value in raw.items():
        if key in TOP_LEVEL_KEYS:
            nested[key] = value
            continue
        section = next(
            (p for p in SECTIONS if key.startswith(p) and key[len(p) : len(p) + 1].isupper()), None
        )
        if section is None:
            raise ConfigError(
                key,
                value,
                f"a known key: {', '.join(TOP_LEVEL_KEYS)} or one starting with {', '.join(SECTIONS)} (see Pulumi.yaml)",
            )
        field_name = key[len(section)].lower() + key[len(section) + 1 :]
        nested.setdefault(section, {})[field_name] = value
    return nested


def load_settings(raw: Mapping[str, Any]) -> Settings:
    """Validate raw project config (flat keys, no namespace) into :class:`Settings`.

    Raises :class:`ConfigError` naming the key as written in the stack file.
    """
    try:
        return _load(_nest(raw))
    except ConfigError as exc:
        key = flat_key(exc.key)
        if key == exc.key:
            raise
        raise ConfigError(key, exc.value, exc.allowed) from None


def _load(raw: Mapping[str, Any]) -> Settings:
    environment = _choice(raw, "environment", "environment", None, ENVIRONMENTS)
    regions = _regions(raw)
    aurora = _aurora(raw, environment)
    return Settings(
        environment=environment,
        primary_region=regions[0],
        secondary_region=regions[1],
        cost_center=_pattern(
            raw,
            "costCenter",
            "costCenter",
            "",
            TAG_VALUE,
            "a tag value of 1-256 letters, digits, spaces or _.:/=+-@",
        ),
        owner=_pattern(
            raw,
            "owner",
            "owner",
            "",
            TAG_VALUE,
            "a tag value of 1-256 letters, digits, spaces or _.:/=+-@",
        ),
        network=_network(raw, regions),
        aurora=aurora,
        dynamodb=_dynamodb(raw),
        cache=_cache(raw),
        dns_zone_name=_pattern(
            raw,
            "dnsZoneName",
            "dnsZoneName",
            "data.securecart.internal",
            DNS_ZONE,
            "a lowercase DNS zone name like data.securecart.internal",
        ),
        monitoring=_monitoring(raw),
        backup=_backup(raw, aurora),
        budget=_budget(raw),
        drills=_drills(raw),
    )


STRING_KEYS = frozenset(
    {
        "environment",
        "primaryRegion",
        "secondaryRegion",
        "costCenter",
        "owner",
        "dnsZoneName",
        "auroraEngineVersion",
        "auroraInstanceClass",
        "auroraDatabaseName",
        "auroraMasterUsername",
        "auroraPreferredBackupWindow",
        "auroraPreferredMaintenanceWindow",
        "cacheEngine",
        "cacheEngineVersion",
        "cacheNodeType",
        "cacheSnapshotWindow",
        "cacheMaintenanceWindow",
        "backupSchedule",
    }
)
"""Keys whose values are strings as written ("16.6" must stay a string, not become 16.6)."""
STRUCTURED_KEYS = frozenset(
    {"networkVpcCidrs", "networkExistingVpcs", "networkAppVpcIds", "dynamodbTables"}
)
"""Object-valued keys Pulumi's project schema cannot type; validated here instead."""
CONFIG_KEYS = (
    STRING_KEYS
    | STRUCTURED_KEYS
    | frozenset(
        {
            "networkAppCidrs",
            "auroraInstancesPerRegion",
            "auroraBackupRetentionDays",
            "auroraPerformanceInsightsRetentionDays",
            "auroraMonitoringIntervalSeconds",
            "auroraAutoscalingMinReaders",
            "auroraAutoscalingMaxReaders",
            "auroraAutoscalingTargetCpuPercent",
            "auroraDeletionProtection",
            "auroraDataApiEnabled",
            "auroraAllowMajorVersionUpgrade",
            "cacheReplicasPerRegion",
            "cacheSnapshotRetentionDays",
            "monitoringCpuThresholdPercent",
            "monitoringReplicationLagThresholdMs",
            "monitoringFreeableMemoryThresholdBytes",
            "monitoringDynamoReplicationLatencyMs",
            "monitoringCacheMemoryThresholdPercent",
            "monitoringAlarmEmails",
            "backupRetentionDays",
            "backupCopyRetentionDays",
            "budgetMonthlyLimitUsd",
            "budgetThresholdsPercent",
            "budgetAlertEmails",
            "drillsRtoSeconds",
            "drillsRpoSeconds",
            "drillsMaxReplicationLagSeconds",
        }
    )
)
"""Every project config key the program reads (Pulumi.yaml declares all but STRUCTURED_KEYS)."""


def parse_config_value(key: str, text: str) -> Any:
    """Turn the engine's string form of a config value back into its YAML/JSON value."""
    if key in STRING_KEYS:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
