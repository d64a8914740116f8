"""The frozen settings types: the only shape of config the components ever see."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Environment = Literal["dev", "staging", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("dev", "staging", "prod")


@dataclass(frozen=True, kw_only=True)
class ExistingNetwork:
    """A bring-your-own VPC in one region."""

    vpc_id: str
    """ID of the existing VPC."""
    subnet_ids: tuple[str, ...]
    """Three private subnets in three different AZs."""


@dataclass(frozen=True, kw_only=True)
class AppPeering:
    """An application VPC peered with the data tier's VPC of every region of the pair."""

    vpc_id: str
    """The application VPC (listed in networkAppVpcIds)."""
    region: str
    """Its region (where it is listed in networkAppVpcIds)."""
    cidr: str
    """Its CIDR: the data route tables send it over the peering; inside networkAppCidrs."""
    route_table_ids: tuple[str, ...]
    """Its route tables that get a route to each data VPC over the peering."""


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
    app_peering: tuple[AppPeering, ...] = ()
    """Application VPCs to peer with both data VPCs, ordered by VPC id (a swap changes nothing)."""


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
class PaymentsSettings:
    """RDS for PostgreSQL Multi-AZ DB instance for orders and payments (issue 20)."""

    enabled: bool = False
    engine_version: str = "16.6"
    instance_class: str = "db.r6g.large"
    allocated_storage_gb: int = 100
    max_allocated_storage_gb: int = 500
    """Storage auto scaling ceiling (gp3); must exceed allocated_storage_gb."""
    backup_retention_days: int = 7
    performance_insights_retention_days: int = 7
    monitoring_interval_seconds: int = 60
    deletion_protection: bool = True


@dataclass(frozen=True, kw_only=True)
class NeptuneSettings:
    """Neptune global database for the fraud graph (issue 20)."""

    enabled: bool = False
    engine_version: str = "1.3.2.1"
    instance_class: str = "db.r6g.large"
    instances_per_region: int = 2
    backup_retention_days: int = 7
    deletion_protection: bool = True


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
class RedshiftSettings:
    """The customer-trend analytics warehouse: a provisioned Redshift cluster in the anchor region
    whose snapshots are copied to the other region (docs/components.md, "Analytics: Redshift")."""

    enabled: bool = False
    """Whether the stack has the warehouse at all (off unless the stack file turns it on)."""
    node_type: str = "ra3.large"
    number_of_nodes: int = 1
    """1 runs a single-node cluster; 2 or more a multi-node one."""
    database_name: str = "analytics"
    master_username: str = "securecart_admin"
    """Admin user; its password is generated and kept by Secrets Manager (manage_master_password)."""
    snapshot_retention_days: int = 7
    """Automated snapshot retention in the cluster's region (1-35)."""
    copy_retention_days: int = 7
    """Days the automated snapshots copied to the other region are kept there (1-35)."""
    maintenance_window: str = "sun:07:00-sun:07:30"
    """Weekly maintenance window, ddd:hh24:mi-ddd:hh24:mi UTC (>= 30 minutes)."""


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
    manage_region_settings: bool = False
    """Whether this stack owns AWS Backup's Region settings in both its regions (one setting per
    account and region, which several stacks of one account share): opt-in of Aurora and
    DynamoDB, and advanced DynamoDB backup, which cross-region copies of DynamoDB backups need."""


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
    max_age_days: int = 90
    """How old the latest drill report may be before the compliance report counts DR testing
    as lapsed (preflight --compliance, PCI DSS 12.10.2)."""
    role_enabled: bool = False
    """Create the least-privilege drill role (components/drill_access.py)."""
    fault_injection: bool = False
    """Create the AWS FIS experiment templates that impair a region's data subnets for the
    unplanned-failover drill (components/fault_injection.py)."""
    probes: bool = False
    """Create the probe function in each data VPC (components/drill_probes.py)."""


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
    payments: PaymentsSettings = field(default_factory=PaymentsSettings)
    neptune: NeptuneSettings = field(default_factory=NeptuneSettings)
    redshift: RedshiftSettings = field(default_factory=RedshiftSettings)
    """The analytics warehouse (off by default)."""

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
