"""What AWS changes on its own after creation, and how the program meets each change.

``pulumi refresh`` (and every ``pulumi up`` with refresh on, as the drills run it) reads these
values back through the provider's Read functions; the next deploy must not try to undo them:
AWS refuses some of the changes back (ElastiCache will not turn auto minor version upgrade on for
a global datastore member), and undoing others would undo a failover (detaching a cluster from
the global database, or pointing a record back at a demoted writer). For every row the program
either sets AWS's own value (``SET``), ignores the input (``IGNORED``, with ``ignore_changes`` in
the component that owns the resource), or never sets the input at all (``UNSET``: the provider
treats an optional, computed input that the program leaves out as no change).

The table is documented in docs/components.md ("Day two: what AWS changes on its own") and
applied to recorded stacks by tests/unit/test_day_two.py, which proves through
``python -m preflight --against`` that the deploy after a refresh is empty.

Provider Read functions (terraform-provider-aws, which pulumi-aws v7 bridges):
``resourceClusterRead`` (internal/service/rds/cluster.go) sets ``replication_source_identifier``
from ``DBCluster.ReplicationSourceIdentifier``, ``engine_version`` from the cluster, and
``global_cluster_identifier`` from ``DescribeGlobalClusters`` filtered on the cluster's ARN (empty
when no global cluster lists it); ``resourceGlobalClusterRead`` sets ``engine_version`` and
``global_cluster_members`` (``is_writer`` per member, an output); ``resourceReplicationGroupRead``
sets ``global_replication_group_id`` from ``GlobalReplicationGroupInfo`` and
``auto_minor_version_upgrade`` from the first member cache cluster; the global replication
group's Read sets ``primary_replication_group_id`` from the member whose ``Role`` is PRIMARY.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
CACHE_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_GLOBAL_GROUP = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
REDSHIFT_CLUSTER = "aws:redshift/cluster:Cluster"

GLOBAL_DATASTORE_PAGE = (
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Redis-Global-Datastores-Getting-Started.html"
    " (and hashicorp/terraform-provider-aws#24919: associating a replication group with a global"
    " datastore turns auto minor version upgrade off)"
)
SWITCHOVER_PAGE = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html"
    " (Using switchover or failover in an Amazon Aurora global database)"
)
GLOBAL_UPGRADE_PAGE = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-upgrade.html"
    " (Upgrading an Amazon Aurora global database; ModifyGlobalCluster EngineVersion)"
)
ROTATION_PAGE = (
    "https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_how.html"
    " (staging labels: finishSecret moves AWSCURRENT; the old version becomes AWSPREVIOUS)"
)


class Handling(StrEnum):
    """How the program meets a value AWS sets itself."""

    SET = "set"
    """The program sets AWS's own value."""
    IGNORED = "ignored"
    """``ignore_changes`` on the input: the provider is never asked to change it back."""
    UNSET = "unset"
    """The program never sets the input; an optional, computed input left out never diffs."""


class Event(StrEnum):
    """What makes AWS change the value."""

    MEMBERSHIP = "membership of a global datastore"
    SWITCHOVER = "managed switchover or failover"
    FAILOVER = "managed failover (old primary unreachable, then rejoining)"
    MINOR_UPGRADE = "minor upgrade of the global database through the global cluster"
    ROTATION = "secret rotation"
    MAINTENANCE = "engine upgrade in the maintenance window"


@dataclass(frozen=True, kw_only=True)
class AfterEvents:
    """AWS's side after every event of the table, as the tests and the docs describe it."""

    primary_region: str
    """Region of the writer after the switchover/failover (the stack's former secondary)."""
    cluster_arns: Mapping[str, str]
    """Aurora regional cluster ARN per region."""
    replication_group_ids: Mapping[str, str]
    """Cache replication group id per region."""
    engine_version: str
    """Aurora version the global database runs after a minor upgrade."""
    rotated_token: str
    """The cache AUTH token after a rotation (the secret's new AWSCURRENT)."""


ReadBack = Callable[[AfterEvents, str | None, Any], Any]
"""(AWS's side, the resource's region, the value before) -> the value the provider reads back."""


@dataclass(frozen=True, kw_only=True)
class DayTwoSetting:
    """One input AWS changes on its own, and how the program meets the change."""

    resource_type: str
    input: str
    """camelCase input name, as ``ignore_changes`` and the recorded inputs name it."""
    event: Event
    aws_value: str
    """What the provider reads back afterwards."""
    handling: Handling
    reason: str
    """Why this handling is right (AWS's value is the right one, or the program's is moot)."""
    page: str
    read_back: ReadBack


def _source(after: AfterEvents, region: str | None, _old: Any) -> str:
    # A secondary names the primary's cluster; the primary has none.
    return "" if region == after.primary_region else after.cluster_arns[after.primary_region]


def _detached_old_primary(after: AfterEvents, region: str | None, old: Any) -> Any:
    # Until the old primary rejoins, DescribeGlobalClusters does not list it.
    return old if region == after.primary_region else ""


SETTINGS: tuple[DayTwoSetting, ...] = (
    DayTwoSetting(
        resource_type=CACHE_GROUP,
        input="autoMinorVersionUpgrade",
        event=Event.MEMBERSHIP,
        aws_value="false on every member; AWS refuses to turn it on",
        handling=Handling.SET,
        reason="a global datastore's engine is upgraded for all members at once through the"
        " global datastore (ModifyGlobalReplicationGroup EngineVersion), never per member, so"
        " false is the truth; true would be sent on every deploy and refused",
        page=GLOBAL_DATASTORE_PAGE,
        read_back=lambda _after, _region, _old: False,
    ),
    DayTwoSetting(
        resource_type=CACHE_GLOBAL_GROUP,
        input="primaryReplicationGroupId",
        event=Event.SWITCHOVER,
        aws_value="the replication group that AWS made PRIMARY",
        handling=Handling.IGNORED,
        reason="force-new: acting on it would delete the datastore; the drills move the role",
        page="https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/"
        "API_FailoverGlobalReplicationGroup.html",
        read_back=lambda after, _region, _old: after.replication_group_ids[after.primary_region],
    ),
    DayTwoSetting(
        resource_type=CACHE_GROUP,
        input="authToken",
        event=Event.ROTATION,
        aws_value="the token the rotation function set (ROTATE, then the next SET)",
        handling=Handling.IGNORED,
        reason="the rotation function owns the token after creation; writing the first token"
        " back would lock out every client holding the rotated one",
        page="https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html"
        " (Modifying the AUTH token on an existing cluster)",
        read_back=lambda after, _region, _old: after.rotated_token,
    ),
    DayTwoSetting(
        resource_type=RDS_CLUSTER,
        input="replicationSourceIdentifier",
        event=Event.SWITCHOVER,
        aws_value="the new primary's cluster ARN on the secondary, empty on the new primary",
        handling=Handling.IGNORED,
        reason="AWS sets it; removing it promotes the replica to a standalone cluster"
        " (hashicorp/terraform-provider-aws#40921)",
        page=SWITCHOVER_PAGE,
        read_back=_source,
    ),
    DayTwoSetting(
        resource_type=RDS_CLUSTER,
        input="globalClusterIdentifier",
        event=Event.FAILOVER,
        aws_value="empty on the old primary until it rejoins as a secondary",
        handling=Handling.IGNORED,
        reason="the provider would detach the cluster on the next update"
        " (cloudposse/terraform-aws-rds-cluster#281)",
        page=SWITCHOVER_PAGE,
        read_back=_detached_old_primary,
    ),
    DayTwoSetting(
        resource_type=RDS_CLUSTER,
        input="engineVersion",
        event=Event.MINOR_UPGRADE,
        aws_value="the version the global database runs",
        handling=Handling.IGNORED,
        reason="members follow the global cluster; a member-level change would be a downgrade",
        page=GLOBAL_UPGRADE_PAGE,
        read_back=lambda after, _region, _old: after.engine_version,
    ),
    DayTwoSetting(
        resource_type=RDS_CLUSTER_INSTANCE,
        input="engineVersion",
        event=Event.MINOR_UPGRADE,
        aws_value="the version the global database runs",
        handling=Handling.IGNORED,
        reason="instances follow their cluster",
        page=GLOBAL_UPGRADE_PAGE,
        read_back=lambda after, _region, _old: after.engine_version,
    ),
    DayTwoSetting(
        resource_type=RDS_GLOBAL_CLUSTER,
        input="engineVersion",
        event=Event.MINOR_UPGRADE,
        aws_value="the upgraded version",
        handling=Handling.IGNORED,
        reason="only an upgrading deploy (auroraAllowMajorVersionUpgrade) changes it; otherwise"
        " an upgraded minor would read as a downgrade",
        page=GLOBAL_UPGRADE_PAGE,
        read_back=lambda after, _region, _old: after.engine_version,
    ),
    DayTwoSetting(
        resource_type=SECRET_VERSION,
        input="versionStages",
        event=Event.ROTATION,
        aws_value="AWSPREVIOUS after one rotation, no label after two",
        handling=Handling.UNSET,
        reason="setting it would move AWSCURRENT back to the first password, which the"
        " database no longer accepts",
        page=ROTATION_PAGE,
        read_back=lambda _after, _region, _old: ["AWSPREVIOUS"],
    ),
    DayTwoSetting(
        resource_type=REDSHIFT_CLUSTER,
        input="clusterVersion",
        event=Event.MAINTENANCE,
        aws_value="the engine release AWS applied in the maintenance window",
        handling=Handling.UNSET,
        reason="allow_version_upgrade lets AWS move the engine (Security Hub Redshift.6); a"
        " cluster_version in the program would read as a downgrade after every upgrade",
        page="https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-clusters.html"
        "#rs-cluster-maintenance (Cluster maintenance)",
        read_back=lambda _after, _region, old: old,
    ),
)
"""Every input AWS changes on its own that the program would otherwise set or diff."""


def settings_for(resource_type: str) -> list[DayTwoSetting]:
    """The rows of one resource type."""
    return [s for s in SETTINGS if s.resource_type == resource_type]
