"""The monthly estimate: every planned resource priced from the pinned table and the usage figures.

One estimator for both readers: the budget gate (``policies/budget_gate.py``) runs it over the
resources of ``AnalyzeStack``; preflight runs it over the recorded plan. It reads only type
tokens and inputs, so it works on the pack's ``Res`` and on preflight's recorded resources
alike, and an input that is unknown during a preview simply falls back to its default.

Billing rules follow the services' pricing pages (cited per entry in ``prices.json``); where the
page leaves room (which region pays for replication, what a recovery point stores) the line's
``basis`` says what was assumed. AWS Backup keeps Aurora recovery points incrementally, while
every DynamoDB backup is a full copy of the table (AWS Backup developer guide, "Backup plans";
DynamoDB API reference, CreateBackup).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from policies import resource_types as t
from policies._values import arn_region, as_number, known_str, list_items
from policies.pricing.lines import (
    AURORA_IO_KIB,
    DAYS_PER_MONTH,
    GIB_PER_KB,
    Estimate,
    Line,
    Pricer,
    Recommendation,
    ResourceLike,
    dollars,
    mapping,
    qty,
)
from policies.pricing.table import HOURS_PER_MONTH, SECONDS_PER_MONTH, PriceTable
from policies.pricing.usage import Usage

FREE: dict[str, str] = {
    "aws:ec2/vpc:Vpc": "no charge for a VPC",
    "aws:ec2/subnet:Subnet": "no charge for subnets",
    "aws:ec2/securityGroup:SecurityGroup": "no charge for security groups",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "no charge for security groups",
    "aws:ec2/routeTable:RouteTable": "no charge for route tables",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "no charge for security group rules",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "no charge for security group rules",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "no charge for security group rules",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "no charge for route tables",
    "aws:ec2/route:Route": "no charge for routes",
    # "There is no charge to create a VPC peering connection"; traffic over it is data transfer
    # (inter-region: the inter-region rate), which the usage figures do not split out.
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": (
        "no charge for the connection; traffic over it is billed as data transfer"
    ),
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": (
        "accepting a peering connection is free"
    ),
    "aws:rds/subnetGroup:SubnetGroup": "no charge for DB subnet groups",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "no charge for parameter groups",
    "aws:rds/parameterGroup:ParameterGroup": "no charge for parameter groups",
    "aws:neptune/clusterParameterGroup:ClusterParameterGroup": "no charge for parameter groups",
    "aws:neptune/subnetGroup:SubnetGroup": "no charge for DB subnet groups",
    "aws:neptune/globalCluster:GlobalCluster": (
        "no charge for the global database itself (its clusters are billed)"
    ),
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
    "aws:backup/regionSettings:RegionSettings": "no charge for AWS Backup's Region settings",
    t.BUDGET: "the first two budgets of an account are free",
    "aws:iam/role:Role": "IAM is free",
    "aws:iam/policy:Policy": "IAM is free",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM is free",
    "aws:appautoscaling/policy:Policy": "Application Auto Scaling is free",
    t.RANDOM_PASSWORD: "generated locally by Pulumi",
    "aws:iam/rolePolicy:RolePolicy": "IAM is free",
    "aws:lambda/permission:Permission": "no charge for a function's resource policy",
    t.SECRET_ROTATION: "rotation is included in the secret's price",
    t.LAMBDA_FUNCTION: (
        "a secret rotation a month is four short invocations, and the drills' probe function "
        "runs only during a drill (a few hundred invocations): under $0.01 at Lambda's list "
        "price ($0.20 per million requests, $0.0000166667 per GB-second)"
    ),
    t.LOG_GROUP: (
        "its ingestion and storage are on the region's CloudWatch Logs line "
        "(usage cloudwatch.logsGbPerMonth counts flow logs and rotation logs too)"
    ),
    t.FLOW_LOG: (
        "flow-log delivery is CloudWatch Logs ingestion, on the region's CloudWatch Logs line "
        "(usage cloudwatch.logsGbPerMonth)"
    ),
    "aws:ssm/parameter:Parameter": "Standard-tier parameters are free (standard throughput)",
    # AWS FIS pricing: billed per action-minute of an experiment that runs, nothing for a
    # template; a drill's experiment is a one-off, not a monthly charge
    "aws:fis/experimentTemplate:ExperimentTemplate": (
        "no charge for a template; a drill's experiment is billed per action-minute it runs"
    ),
    "aws:redshift/subnetGroup:SubnetGroup": "no charge for cluster subnet groups",
    "aws:redshift/parameterGroup:ParameterGroup": "no charge for parameter groups",
    t.REDSHIFT_SNAPSHOT_COPY_GRANT: "no charge for a snapshot copy grant (a KMS grant)",
    t.REDSHIFT_LOGGING: (
        "audit log delivery is CloudWatch Logs ingestion, on the region's CloudWatch Logs line "
        "(usage cloudwatch.logsGbPerMonth)"
    ),
}


IOPT = "aurora-iopt1"
"""The storageType of Aurora I/O-Optimized clusters: instances +30%, storage $0.225/GB-month,
no I/O charges (Aurora pricing page; User Guide, "Storage configurations for Aurora")."""


IOPT_RESERVED_FACTOR = 1.3
"""Reservations of the Standard class that cover one Aurora I/O-Optimized instance-hour."""


def _io_optimized(run: Pricer, region: str, cluster_id: str | None) -> bool:
    """Whether the instance's cluster (by identifier, else the region's) is I/O-Optimized."""
    clusters = [c for c in run.by_type[t.RDS_CLUSTER] if known_str(c.props.get("region")) == region]
    named = [c for c in clusters if known_str(c.props.get("clusterIdentifier")) == cluster_id]
    return any(known_str(c.props.get("storageType")) == IOPT for c in named or clusters)


def _aurora_instance(run: Pricer, res: ResourceLike) -> None:
    region = run.region_of(res)
    cls = known_str(res.props.get("instanceClass")) or "unknown"
    engine = known_str(res.props.get("engine")) or "aurora-postgresql"
    iopt = _io_optimized(run, region, known_str(res.props.get("clusterIdentifier")))
    run.charge(
        res,
        region,
        f"instance {cls} ({engine}{', I/O-Optimized' if iopt else ''})",
        HOURS_PER_MONTH,
        f"aurora.instance{'-iopt' if iopt else ''}/{engine}/{cls}",
        f"{HOURS_PER_MONTH:g} h",
        reserved=not iopt,
        # Aurora User Guide, "Reserved DB instances for Amazon Aurora": reserved instances cover
        # I/O-Optimized instances too, which use 30% more normalized units, so each is covered by
        # 1.3 reservations of its Standard class ("purchase 30% additional reserved DB instances").
        reserved_as=(f"aurora.instance/{engine}/{cls}", IOPT_RESERVED_FACTOR) if iopt else None,
    )


def _aurora_cluster(run: Pricer, res: ResourceLike) -> None:
    region = run.region_of(res)
    u = run.usage
    gb = u.figure("aurora.storageGb")
    writes, reads = u.figure("aurora.writeIoPerSecond"), u.figure("aurora.readIoPerSecond")
    iopt = known_str(res.props.get("storageType")) == IOPT
    run.charge(
        res,
        region,
        "storage (I/O-Optimized)" if iopt else "storage",
        gb,
        "aurora.storage-iopt" if iopt else "aurora.storage",
        f"{qty(gb)} GB (usage aurora.storageGb)",
    )
    primary = region == run.primary
    ios = (writes + reads if primary else reads) * SECONDS_PER_MONTH
    what = "write + read" if primary else "read"
    if iopt:
        run.note(res, region, "I/O requests", "included in Aurora I/O-Optimized", free=True)
    else:
        run.charge(
            res,
            region,
            "I/O requests",
            ios,
            "aurora.io",
            f"{qty(ios / 1e6)} million I/Os ({what} I/Os per second x {SECONDS_PER_MONTH:,.0f} s)",
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
            f"{qty(replicated / 1e6)} million (aurora.writeIoPerSecond x {SECONDS_PER_MONTH:,.0f} s)",
        )
        gib = writes * SECONDS_PER_MONTH * AURORA_IO_KIB * GIB_PER_KB
        run.transfer(res, run.primary, region, gib, "at most 4 KiB per replicated write I/O")
    retention = as_number(res.props.get("backupRetentionPeriod")) or 1.0
    change = u.figure("backup.dailyChangePercent") / 100.0
    backup_gb = gb * change * retention
    run.charge(
        res,
        region,
        f"automated backups ({retention:g} days)",
        backup_gb,
        "aurora.backup-storage",
        f"{qty(backup_gb)} GB of changes kept {retention:g} days beyond the free copy of the volume",
    )
    exports = list_items(res.props.get("enabledCloudwatchLogsExports"))
    if exports and run.first_in(region, "logs"):
        _logs(run, res, region)


def _neptune_cluster(run: Pricer, res: ResourceLike) -> None:
    """A Neptune cluster (the fraud graph): storage per region (each keeps a full copy), I/O
    (writes and reads in the primary, reads in the secondary), replicated write I/Os and their
    transfer in a global database's secondary. The billing model is Aurora's ("Storage consumed
    ... is billed in per GB-month increments and I/Os consumed are billed in per million request
    increments", Neptune User Guide, "Performance and Scaling"); the rates are the table's
    ``neptune.*`` entries, whose notes say where they come from. Instances are priced by their
    own type (``neptune.instance/<class>``); backup storage beyond the free copy of the volume is
    not (docs/cost.md)."""
    region = run.region_of(res)
    u = run.usage
    gb = u.figure("neptune.storageGb")
    writes, reads = u.figure("neptune.writeIoPerSecond"), u.figure("neptune.readIoPerSecond")
    run.charge(res, region, "storage", gb, "neptune.storage", f"{qty(gb)} GB (neptune.storageGb)")
    primary = region == run.primary
    ios = (writes + reads if primary else reads) * SECONDS_PER_MONTH
    run.charge(
        res,
        region,
        "I/O requests",
        ios,
        "neptune.io",
        f"{qty(ios / 1e6)} million I/Os ({'write + read' if primary else 'read'} I/Os per second"
        f" x {SECONDS_PER_MONTH:,.0f} s)",
    )
    if not primary and res.props.get("globalClusterIdentifier") is not None and run.primary:
        replicated = writes * SECONDS_PER_MONTH
        run.charge(
            res,
            region,
            f"replicated write I/Os from {run.primary}",
            replicated,
            "neptune.replicated-write-io",
            f"{qty(replicated / 1e6)} million (neptune.writeIoPerSecond x {SECONDS_PER_MONTH:,.0f} s)",
        )
        gib = writes * SECONDS_PER_MONTH * AURORA_IO_KIB * GIB_PER_KB
        run.transfer(res, run.primary, region, gib, "at most 4 KiB per replicated write I/O")


def _neptune_instance(run: Pricer, res: ResourceLike) -> None:
    cls = known_str(res.props.get("instanceClass")) or "unknown"
    run.charge(
        res,
        run.region_of(res),
        f"instance {cls}",
        HOURS_PER_MONTH,
        f"neptune.instance/{cls}",
        f"{HOURS_PER_MONTH:g} h",
        reserved=True,
    )


def _logs(run: Pricer, res: ResourceLike, region: str) -> None:
    """A region's CloudWatch Logs: ingestion, and storage of what the retention keeps.

    Storage is billed per GB-month kept (CloudWatch pricing, "Store (Archival)"): at a steady
    ingestion of G GB a month, a retention of D days keeps G x D / 30.42 GB. The longest
    retention of the region's log groups sets D; a group without one never expires, so a year's
    worth is priced and the basis says so (its storage keeps growing)."""
    logs = run.usage.figure("cloudwatch.logsGbPerMonth")
    run.charge(
        res,
        region,
        "CloudWatch Logs ingestion",
        logs,
        "cloudwatch.logs-ingestion",
        f"{qty(logs)} GB (usage cloudwatch.logsGbPerMonth: log exports, enhanced monitoring, "
        "VPC flow logs)",
        store="monitoring",
    )
    groups = [g for g in run.by_type[t.LOG_GROUP] if known_str(g.props.get("region")) == region]
    days = [as_number(g.props.get("retentionInDays")) or 0.0 for g in groups]
    forever = not days or 0.0 in days
    kept = 365.0 if forever else max(days)
    gb = logs * kept / DAYS_PER_MONTH
    why = (
        "a log group here never expires (no retentionInDays): a year's worth priced, and growing"
        if forever
        else f"kept {kept:g} days, the longest retentionInDays of the region's log groups"
    )
    run.charge(
        res,
        region,
        "CloudWatch Logs storage",
        gb,
        "cloudwatch.logs-storage",
        f"{qty(logs)} GB/month x {kept:g} days / {DAYS_PER_MONTH:.2f} = {qty(gb)} GB ({why};"
        " the groups RDS creates for Aurora's log exports have no retention unless one is set)",
        store="monitoring",
    )


def _aurora_scaling(run: Pricer, res: ResourceLike) -> None:
    if res.props.get("scalableDimension") != "rds:cluster:ReadReplicaCount":
        run.free(res, "Application Auto Scaling is free")
        return
    region = run.region_of(res)
    extra = run.usage.figure("aurora.extraReaders")
    most = as_number(res.props.get("maxCapacity"))
    if not extra:
        run.free(
            res,
            f"reader auto scaling: up to {qty(most or 0)} readers when load demands; usage aurora.extraReaders assumes 0 on average",
        )
        return
    sibling = next(
        (
            i.props
            for i in run.by_type[t.RDS_CLUSTER_INSTANCE]
            if known_str(i.props.get("region")) == region
            and known_str(i.props.get("instanceClass"))
        ),
        {},
    )
    cls = known_str(sibling.get("instanceClass")) or "unknown"
    engine = known_str(sibling.get("engine")) or "aurora-postgresql"
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
    physical = known_str(res.props.get("name")) or ""
    for key in usage.tables:
        if key in (logical, physical) or physical.endswith(f"-{key}"):
            return key
    return logical


def _dynamodb_table(run: Pricer, res: ResourceLike) -> None:
    region = run.region_of(res)
    key = _table_key(res, run.usage)
    f = run.usage.table(key)
    replicas = [mapping(r) for r in list_items(res.props.get("replicas"))]
    regions = [region] + [
        r for r in (known_str(x.get("regionName")) for x in replicas) if r and r != region
    ]
    writer = run.primary if run.primary in regions else region
    # A write costs 1 WRU per KB of the item on the table, and on each index 1 WRU per KB of the
    # item as the index projects it (DynamoDB Developer Guide, "Provisioned throughput
    # considerations for Global Secondary Indexes"). A KEYS_ONLY index projects only the table's
    # and the index's keys (plus 100 bytes of overhead): under 1 KB, so 1 WRU. ALL, and INCLUDE
    # (whose attributes' sizes the usage does not know), are priced at the whole item.
    item_wru = math.ceil(f["itemSizeKb"])
    projections = [
        known_str(mapping(g).get("projectionType")) or "ALL"
        for g in list_items(res.props.get("globalSecondaryIndexes"))
    ]
    gsis = len(projections)
    keys_only = projections.count("KEYS_ONLY")
    wru = item_wru * (1 + gsis - keys_only) + keys_only
    rru = math.ceil(f["itemSizeKb"] / 4.0)
    if known_str(res.props.get("billingMode")) == "PROVISIONED":
        wcu, rcu = _capacity(res)
        run.charge(
            res,
            writer,
            "provisioned write capacity",
            wcu * HOURS_PER_MONTH,
            "dynamodb.wcu",
            f"{wcu:g} WCU (table and indexes) x {HOURS_PER_MONTH:g} h; auto scaling may add more",
        )
        run.charge(
            res,
            writer,
            "provisioned read capacity",
            rcu * HOURS_PER_MONTH,
            "dynamodb.rcu",
            f"{rcu:g} RCU (table and indexes) x {HOURS_PER_MONTH:g} h; auto scaling may add more",
        )
        for target in regions:
            if target != writer:
                run.charge(
                    res,
                    target,
                    "provisioned replicated write capacity",
                    wcu * HOURS_PER_MONTH,
                    "dynamodb.replicated-wcu",
                    f"{wcu:g} replicated WCU x {HOURS_PER_MONTH:g} h (every replica matches the table's writes)",
                )
                gib = f["writesPerSecond"] * f["itemSizeKb"] * SECONDS_PER_MONTH * GIB_PER_KB
                run.transfer(res, writer, target, gib, f"({qty(f['itemSizeKb'])} KB items)")
    else:
        writes = f["writesPerSecond"] * SECONDS_PER_MONTH * wru
        reads = f["readsPerSecond"] * SECONDS_PER_MONTH * rru
        idx = f" and {gsis} index(es)" if gsis else ""
        if keys_only:
            idx += f", {keys_only} of them KEYS_ONLY at 1 WRU"
        run.charge(
            res,
            writer,
            "write request units",
            writes,
            "dynamodb.write",
            f"{qty(f['writesPerSecond'])} writes/s x {wru} WRU (item{idx}) x {SECONDS_PER_MONTH:,.0f} s",
        )
        run.charge(
            res,
            writer,
            "read request units",
            reads,
            "dynamodb.read",
            f"{qty(f['readsPerSecond'])} strongly consistent reads/s x {rru} RRU x {SECONDS_PER_MONTH:,.0f} s",
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
                run.transfer(res, writer, target, gib, f"({qty(f['itemSizeKb'])} KB items)")
    pitr = {region: bool(mapping(res.props.get("pointInTimeRecovery")).get("enabled"))}
    for rep in replicas:
        if known_str(rep.get("regionName")):
            pitr[str(rep["regionName"])] = rep.get("pointInTimeRecovery") is True
    for target in regions:
        run.charge(
            res,
            target,
            "storage",
            f["storageGb"],
            "dynamodb.storage",
            f"{qty(f['storageGb'])} GB (usage dynamodb {key}.storageGb)",
        )
        if pitr.get(target):
            run.charge(
                res,
                target,
                "point-in-time recovery",
                f["storageGb"],
                "dynamodb.pitr",
                f"{qty(f['storageGb'])} GB of table data",
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
                f"{qty(f['streamReadsPerSecond'])} reads/s by consumers",
            )
        else:
            run.note(
                res,
                writer,
                "stream",
                "global tables read their streams for free; usage has no other consumers",
                free=True,
            )


def _capacity(table: ResourceLike) -> tuple[float, float]:
    """Provisioned (WCU, RCU) of a table and its indexes (each index has its own capacity)."""
    wcu = as_number(table.props.get("writeCapacity")) or 0.0
    rcu = as_number(table.props.get("readCapacity")) or 0.0
    for gsi in list_items(table.props.get("globalSecondaryIndexes")):
        wcu += as_number(mapping(gsi).get("writeCapacity")) or 0.0
        rcu += as_number(mapping(gsi).get("readCapacity")) or 0.0
    return wcu, rcu


def _table_replica(run: Pricer, res: ResourceLike) -> None:
    """A ``TableReplica`` resource: a global table's replica declared apart from the table.

    It stores the table again, takes every write as a replicated write (on demand: request
    units; provisioned: replicated capacity matching the table's), keeps its own PITR, and the
    writes cross from the table's region."""
    region = run.region_of(res)
    arn = known_str(res.props.get("globalTableArn")) or ""
    name = arn.rsplit("/", 1)[-1] if ":table/" in arn else None
    home = next(
        (
            tb
            for tb in run.by_type[t.DYNAMODB_TABLE]
            if name and known_str(tb.props.get("name")) == name
        ),
        None,
    )
    if home is None:
        run.note(res, region, "replica", "its global table is not in the plan", free=False)
        return
    key = _table_key(home, run.usage)
    f = run.usage.table(key)
    source = run.region_of(home)
    if known_str(home.props.get("billingMode")) == "PROVISIONED":
        wcu, _rcu = _capacity(home)
        run.charge(
            res,
            region,
            f"provisioned replicated write capacity from {source}",
            wcu * HOURS_PER_MONTH,
            "dynamodb.replicated-wcu",
            f"{wcu:g} replicated WCU x {HOURS_PER_MONTH:g} h (the table's write capacity)",
        )
    else:
        writes = f["writesPerSecond"] * SECONDS_PER_MONTH * math.ceil(f["itemSizeKb"])
        run.charge(
            res,
            region,
            f"replicated write request units from {source}",
            writes,
            "dynamodb.replicated-write",
            f"every write of {key} replicated to {region}",
        )
    gib = f["writesPerSecond"] * f["itemSizeKb"] * SECONDS_PER_MONTH * GIB_PER_KB
    run.transfer(res, source, region, gib, f"({qty(f['itemSizeKb'])} KB items)")
    run.charge(
        res,
        region,
        "storage",
        f["storageGb"],
        "dynamodb.storage",
        f"{qty(f['storageGb'])} GB (usage dynamodb {key}.storageGb)",
    )
    if res.props.get("pointInTimeRecovery") is True:
        run.charge(
            res,
            region,
            "point-in-time recovery",
            f["storageGb"],
            "dynamodb.pitr",
            f"{qty(f['storageGb'])} GB of table data",
        )


def _rds_instance(run: Pricer, res: ResourceLike) -> None:
    """A plain RDS instance: instance hours and storage, both twice when Multi-AZ (the standby
    is billed like the primary: RDS User Guide, "Multi-AZ DB instances")."""
    region = run.region_of(res)
    cls = known_str(res.props.get("instanceClass")) or "unknown"
    engine = known_str(res.props.get("engine")) or "postgres"
    copies = 2.0 if res.props.get("multiAz") is True else 1.0
    az = "Multi-AZ: primary and standby" if copies == 2 else "Single-AZ"
    run.charge(
        res,
        region,
        f"instance {cls} ({engine})",
        copies * HOURS_PER_MONTH,
        f"rds.instance/{engine}/{cls}",
        f"{copies:g} x {HOURS_PER_MONTH:g} h ({az})",
        reserved=True,
    )
    gb = as_number(res.props.get("allocatedStorage")) or 0.0
    kind = known_str(res.props.get("storageType")) or "gp2"
    run.charge(
        res,
        region,
        f"storage ({kind})",
        copies * gb,
        f"rds.storage/{kind}",
        f"{copies:g} x {qty(gb)} GB allocated ({az})",
    )
    wal = run.usage.figure("payments.walGbPerMonth")
    if res.props.get("replicateSourceDb") is not None:
        # A cross-region read replica: the source region pays for the WAL it ships (RDS User
        # Guide, "Working with DB instance read replicas": cross-Region replication incurs data
        # transfer charges). A read replica of RDS for PostgreSQL keeps no automated backups.
        source = arn_region(res.props.get("replicateSourceDb")) or run.other(region)
        if source is not None:
            run.transfer(
                res,
                source,
                region,
                wal,
                "(payments.walGbPerMonth: WAL shipped to the read replica)",
            )
    elif (as_number(res.props.get("backupRetentionPeriod")) or 0) > 0:
        _rds_backup_storage(run, res, region, "automated backups")
    retention = as_number(res.props.get("performanceInsightsRetentionPeriod"))
    if res.props.get("performanceInsightsEnabled") is True and (retention or 7) > 7:
        # The 7-day tier is free ("Performance Insights pricing"); longer retention is billed
        # per vCPU-month, which the table does not hold yet: say so rather than price it at $0.
        run.note(
            res,
            region,
            "Performance Insights retention",
            f"{retention:g} days is beyond the free 7-day tier, which the table does not price",
            free=False,
        )


def _rds_backup_storage(run: Pricer, res: ResourceLike, region: str, what: str) -> None:
    """Backup storage beyond the free allowance: backups up to 100% of the region's provisioned
    RDS storage cost nothing (AWS Database Blog, "Demystifying Amazon RDS backup storage costs";
    RDS pricing page). The allowance is the allocated storage of the region's DB instances."""
    held = run.usage.figure("payments.backupGb")
    allowance = math.fsum(
        as_number(i.props.get("allocatedStorage")) or 0.0
        for i in run.by_type[t.RDS_INSTANCE]
        if run.region_of(i) == region
    )
    billed = max(0.0, held - allowance)
    run.charge(
        res,
        region,
        f"backup storage ({what})",
        billed,
        "rds.backup-storage",
        f"{qty(held)} GB held (payments.backupGb) - {qty(allowance)} GB free (100% of the "
        f"region's allocated RDS storage)",
    )


def _rds_backups_replication(run: Pricer, res: ResourceLike) -> None:
    """Automated backups replicated to another region: the snapshots and transaction logs cross
    the regions (charged as DB snapshot copy data transfer) and are stored in the destination
    at its backup storage rate (RDS User Guide, "Replicating automated backups to another AWS
    Region": "DB snapshot copy charges apply to the data transfer. After the DB snapshot is
    copied, standard charges apply to storage in the destination Region")."""
    region = run.region_of(res)
    source = arn_region(res.props.get("sourceDbInstanceArn")) or run.other(region)
    wal = run.usage.figure("payments.walGbPerMonth")
    if source is not None:
        # Every change crosses twice: in the transaction logs, and in the next daily
        # snapshot's changed blocks (snapshots after the first are incremental).
        run.transfer(
            res,
            source,
            region,
            2 * wal,
            "(2 x payments.walGbPerMonth: transaction logs, then the changed blocks of the snapshots)",
        )
    _rds_backup_storage(run, res, region, f"replicated from {source or 'the source'}")


def _cache_group(run: Pricer, res: ResourceLike) -> None:
    region = run.region_of(res)
    groups = run.by_type[t.CACHE_GLOBAL_REPLICATION_GROUP] + run.by_type[t.CACHE_REPLICATION_GROUP]
    node = known_str(res.props.get("nodeType")) or next(
        (
            n
            for g in groups
            for n in [known_str(g.props.get("cacheNodeType")) or known_str(g.props.get("nodeType"))]
            if n
        ),
        "unknown",
    )
    engine = known_str(res.props.get("engine")) or next(
        (e for g in groups for e in [known_str(g.props.get("engine"))] if e), "valkey"
    )
    count = as_number(res.props.get("numCacheClusters"))
    if count is None:
        shards = as_number(res.props.get("numNodeGroups")) or 1.0
        count = shards * ((as_number(res.props.get("replicasPerNodeGroup")) or 0.0) + 1.0)
    run.charge(
        res,
        region,
        f"{count:g} x {node} ({engine})",
        count * HOURS_PER_MONTH,
        f"cache.node/{engine}/{node}",
        f"{count:g} nodes (primary + replicas) x {HOURS_PER_MONTH:g} h",
        reserved=True,
    )
    retention = as_number(res.props.get("snapshotRetentionLimit")) or 0.0
    if retention > 1:
        gb = (retention - 1) * run.usage.figure("cache.dataGb")
        run.charge(
            res,
            region,
            f"snapshots ({retention:g} days)",
            gb,
            "cache.backup-storage",
            f"{retention - 1:g} snapshots beyond the free one x {qty(run.usage.figure('cache.dataGb'))} GB (cache.dataGb)",
        )


def _cache_global(run: Pricer, res: ResourceLike) -> None:
    region = run.region_of(res)
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
        f"({qty(u.figure('cache.writesPerSecond'))} writes/s of {qty(u.figure('cache.itemSizeKb'))} KB)",
    )
    if run.other(region) is None:
        run.free(res, "no charge for the global datastore itself")


ROTATIONS_BILLED = 2
"""KMS pricing: with automatic rotation, each new key material adds $1 a month for the first and
the second rotation; later rotations are free (https://aws.amazon.com/kms/pricing/, since the
April 2024 change). A rotating key therefore settles at 3 key-months a month."""


def _rotation(run: Pricer, res: ResourceLike) -> float | None:
    """The key's rotation period in days, or None when it does not rotate.

    A multi-Region replica key shares its primary's key material and rotation (KMS Developer
    Guide, "Rotating multi-Region keys"): it is matched to its primary by description."""
    key = res
    if res.type == t.KMS_REPLICA_KEY:
        description = known_str(res.props.get("description"))
        key = next(
            (
                k
                for k in run.by_type[t.KMS_KEY]
                if description and known_str(k.props.get("description")) == description
            ),
            res,
        )
    if key.props.get("enableKeyRotation") is not True:
        return None
    return as_number(key.props.get("rotationPeriodInDays")) or 365.0


def _kms(run: Pricer, res: ResourceLike) -> None:
    region = run.region_of(res)
    kind = "replica key" if res.type == t.KMS_REPLICA_KEY else "key"
    period = _rotation(run, res)
    if period is None:
        run.charge(res, region, kind, 1.0, "kms.key", "1 key-month (no rotation)")
    else:
        run.charge(
            res,
            region,
            f"{kind} with rotation every {period:g} days",
            1.0 + ROTATIONS_BILLED,
            "kms.key",
            f"the key and its first {ROTATIONS_BILLED} rotated key materials, 1 key-month each"
            f" from day {2 * period:g} on ($1 until the first rotation, $2 until the second;"
            " later rotations add nothing)",
        )
    if run.first_in(region, "kms"):
        n = run.usage.figure("kms.requestsPerMonth")
        run.charge(
            res,
            region,
            f"requests (all keys in {region})",
            n,
            "kms.request",
            f"{qty(n)} requests (kms.requestsPerMonth)",
        )


def _secret(run: Pricer, res: ResourceLike) -> None:
    region = run.region_of(res)
    run.charge(res, region, "secret", 1.0, "secretsmanager.secret", "1 secret-month")
    for rep in list_items(res.props.get("replicas")):
        target = known_str(mapping(rep).get("region"))
        if target:
            run.charge(
                res,
                target,
                "replica secret",
                1.0,
                "secretsmanager.secret",
                "a replica is billed as a secret",
            )
    if run.first_in(region, "secrets"):
        n = run.usage.figure("secretsManager.apiCallsPerMonth")
        run.charge(
            res,
            region,
            "API calls",
            n,
            "secretsmanager.api",
            f"{qty(n)} calls (secretsManager.apiCallsPerMonth)",
        )


def _interface_endpoint(run: Pricer, res: ResourceLike) -> None:
    """An interface endpoint is billed per hour in each Availability Zone it has a network
    interface in: one per subnet (AWS PrivateLink pricing). A gateway endpoint is free."""
    region = run.region_of(res)
    if known_str(res.props.get("vpcEndpointType")) != "Interface":
        run.free(res, "gateway endpoints (S3, DynamoDB) have no charge")
        return
    # unknown until the subnets exist: the data tier's network always has three
    zones = float(len(list_items(res.props.get("subnetIds"))) or 3)
    run.charge(
        res,
        region,
        f"interface endpoint ({known_str(res.props.get('serviceName')) or 'service'})",
        zones * HOURS_PER_MONTH,
        "vpc.interface-endpoint",
        f"{zones:g} Availability Zone(s) x {HOURS_PER_MONTH:g} h",
    )


def _alarm(run: Pricer, res: ResourceLike) -> None:
    region = run.region_of(res)
    queries = [q for q in list_items(res.props.get("metricQueries")) if mapping(q).get("metric")]
    metrics = float(len(queries) or 1)
    period = as_number(res.props.get("period")) or 60.0
    high = period < 60 or any(
        (as_number(mapping(mapping(q).get("metric")).get("period")) or 60) < 60 for q in queries
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
    match = re.match(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+)", known_str(rule.get("schedule")) or "")
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


def _protected(run: Pricer, region: str) -> tuple[float, list[tuple[str, float]]]:
    """Aurora GB and DynamoDB (table, GB) a region's backup selection protects."""
    arns = [
        a
        for sel in run.by_type["aws:backup/selection:Selection"]
        if known_str(sel.props.get("region")) == region
        for a in list_items(sel.props.get("resources"))
    ]
    known = [a for a in arns if known_str(a)]
    clusters = [c for c in run.by_type[t.RDS_CLUSTER] if known_str(c.props.get("region")) == region]
    # Without known ARNs (a real preview before the tables exist), a region's selection is
    # taken to hold the tables whose home region it is: components/backup.py backs a global
    # table up once, where its home replica is, and copies it to the other region.
    tables = [
        tb for tb in run.by_type[t.DYNAMODB_TABLE] if region == known_str(tb.props.get("region"))
    ]
    if known:
        tables = [
            tb
            for tb in run.by_type[t.DYNAMODB_TABLE]
            if region == known_str(tb.props.get("region"))
            or region
            in [
                known_str(mapping(r).get("regionName"))
                for r in list_items(tb.props.get("replicas"))
            ]
        ]
        ids = {a.rsplit(":", 1)[-1] for a in known if ":rds:" in a}
        names = {a.rsplit("/", 1)[-1] for a in known if ":dynamodb:" in a}
        clusters = [c for c in clusters if known_str(c.props.get("clusterIdentifier")) in ids]
        tables = [tb for tb in tables if known_str(tb.props.get("name")) in names]
    aurora = run.usage.figure("aurora.storageGb") * len(clusters)
    return aurora, [
        (_table_key(tb, run.usage), run.usage.table(_table_key(tb, run.usage))["storageGb"])
        for tb in tables
    ]


def _backup_plan(run: Pricer, res: ResourceLike) -> None:
    region = run.region_of(res)
    aurora_gb, tables = _protected(run, region)
    table_gb = sum(gb for _name, gb in tables)
    change = run.usage.figure("backup.dailyChangePercent") / 100.0
    for rule in (mapping(r) for r in list_items(res.props.get("rules"))):
        per_day = _backup_points_per_day(rule)
        keep = as_number(mapping(rule.get("lifecycle")).get("deleteAfter")) or 35.0
        vaults: list[tuple[str, float, str]] = [(region, keep, "recovery points")]
        for copy in (mapping(c) for c in list_items(rule.get("copyActions"))):
            target = arn_region(copy.get("destinationVaultArn")) or run.other(region)
            if target:
                vaults.append(
                    (
                        target,
                        as_number(mapping(copy.get("lifecycle")).get("deleteAfter")) or keep,
                        f"copies from {region}",
                    )
                )
        for target, days, what in vaults:
            points = days * per_day
            if aurora_gb and target == region:
                gb = aurora_gb * (1.0 + change * max(points - 1.0, 0.0))
                run.charge(
                    res,
                    target,
                    f"Aurora {what} ({days:g} days)",
                    gb,
                    "backup.aurora-storage",
                    f"first point full, then {change:.0%} of {qty(aurora_gb)} GB per point, {points:g} points",
                )
            elif aurora_gb:
                # "Aurora DB cluster snapshot copies are always full copies" (Aurora User Guide,
                # "Copying a DB cluster snapshot", incremental snapshot copying): every copy in
                # the other region stores, and carries across, the whole volume.
                run.charge(
                    res,
                    target,
                    f"Aurora {what} ({days:g} days)",
                    aurora_gb * points,
                    "backup.aurora-storage",
                    f"{points:g} full copies of {qty(aurora_gb)} GB (cross-region Aurora snapshot"
                    " copies are never incremental)",
                )
            if table_gb:
                run.charge(
                    res,
                    target,
                    f"DynamoDB {what} ({days:g} days)",
                    table_gb * points,
                    "backup.dynamodb-storage",
                    f"{points:g} full backups of {qty(table_gb)} GB ({len(tables)} tables)",
                )
            if target != region:
                monthly = DAYS_PER_MONTH * per_day
                gib = (aurora_gb + table_gb) * monthly
                run.transfer(
                    res,
                    region,
                    target,
                    gib,
                    f"({monthly:.1f} copies a month, each a full copy: Aurora volume and DynamoDB tables)",
                )


def _redshift_cluster(run: Pricer, res: ResourceLike) -> None:
    """Node-hours and managed storage (RA3 bills storage apart from compute); automated
    snapshots in the cluster's region are free up to the 35 days AWS keeps them (Redshift
    pricing page, "Backup storage"), so they take a $0 line rather than none."""
    region = run.region_of(res)
    node = known_str(res.props.get("nodeType")) or "unknown"
    nodes = as_number(res.props.get("numberOfNodes")) or 1.0
    run.charge(
        res,
        region,
        f"{nodes:g} x {node}",
        nodes * HOURS_PER_MONTH,
        f"redshift.node/{node}",
        f"{nodes:g} nodes x {HOURS_PER_MONTH:g} h",
        reserved=True,
    )
    gb = run.usage.figure("redshift.storageGb")
    run.charge(
        res,
        region,
        "managed storage",
        gb,
        "redshift.managed-storage",
        f"{qty(gb)} GB (redshift.storageGb)",
    )
    run.note(
        res,
        region,
        "automated snapshots",
        "free: automated snapshots of a provisioned cluster, kept up to 35 days",
        free=True,
    )


def _redshift_copy(run: Pricer, res: ResourceLike) -> None:
    """Cross-region snapshot copy: each day's snapshots carry the data that changed that day
    across the regions (snapshots are incremental; the first copy's full transfer is a one-off),
    and the destination keeps a full copy plus the retained days' changes as backup storage."""
    region = run.region_of(res)
    target = known_str(res.props.get("destinationRegion")) or run.other(region)
    u = run.usage
    gb = u.figure("redshift.storageGb")
    change = u.figure("redshift.dailyChangePercent") / 100.0
    days = as_number(res.props.get("retentionPeriod")) or 7.0
    run.transfer(
        res,
        region,
        target,
        gb * change * DAYS_PER_MONTH,
        f"(daily snapshot increments: {qty(gb)} GB x {change * 100:g}% x {DAYS_PER_MONTH:g} days)",
    )
    if target is not None:
        stored = gb * (1.0 + change * days)
        run.charge(
            res,
            target,
            f"snapshot copies from {region} ({days:g} days)",
            stored,
            "redshift.backup-storage",
            f"a full copy of {qty(gb)} GB plus {days:g} days of {change * 100:g}% daily change",
        )


HANDLERS = {
    t.RDS_CLUSTER_INSTANCE: _aurora_instance,
    t.RDS_CLUSTER: _aurora_cluster,
    t.AUTOSCALING_TARGET: _aurora_scaling,
    t.DYNAMODB_TABLE: _dynamodb_table,
    t.DYNAMODB_TABLE_REPLICA: _table_replica,
    t.RDS_INSTANCE: _rds_instance,
    t.RDS_INSTANCE_BACKUPS_REPLICATION: _rds_backups_replication,
    "aws:neptune/cluster:Cluster": _neptune_cluster,
    "aws:neptune/clusterInstance:ClusterInstance": _neptune_instance,
    t.CACHE_REPLICATION_GROUP: _cache_group,
    t.CACHE_GLOBAL_REPLICATION_GROUP: _cache_global,
    t.KMS_KEY: _kms,
    t.KMS_REPLICA_KEY: _kms,
    "aws:secretsmanager/secret:Secret": _secret,
    t.METRIC_ALARM: _alarm,
    t.BACKUP_PLAN: _backup_plan,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _interface_endpoint,
    t.REDSHIFT_CLUSTER: _redshift_cluster,
    t.REDSHIFT_SNAPSHOT_COPY: _redshift_copy,
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
    # In URN order, not registration order (which varies between runs): a charge shared by a
    # region's resources (KMS requests, Secrets Manager calls, log ingestion) then always lands
    # on the same resource, so two estimates of one plan compare line for line.
    run = Pricer(sorted(resources, key=lambda r: r.urn), usage, prices)
    for res in run.resources:
        handler = HANDLERS.get(res.type)
        if handler is not None:
            handler(run, res)
        elif res.type in FIXED:
            item, price_id, basis = FIXED[res.type]
            region = (
                "global"
                if price_id.startswith("route53")
                else (known_str(res.props.get("region")) or "us-east-1")
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
                    f"{qty(n)} queries (route53.queriesPerMonth)",
                )
        elif res.type in FREE:
            run.free(res, FREE[res.type])
        else:
            region = known_str(res.props.get("region")) or "global"
            run.note(
                res, region, "not estimated", "the estimator has no rule for this type", free=False
            )
    tables = [_table_key(r, usage) for r in run.by_type[t.DYNAMODB_TABLE]]
    advice = [a for a in (_io_optimized_advice(run.lines, prices),) if a is not None]
    return Estimate(run.lines, run.primary, run.secondary, usage, tables, advice)


def _io_optimized_advice(lines: list[Line], prices: PriceTable) -> Recommendation | None:
    """Aurora I/O-Optimized, when it would cost less than Aurora Standard for this plan.

    I/O-Optimized drops the I/O charge for a higher instance rate (+30%) and storage rate
    ($0.225 instead of $0.10 per GB-month); replicated write I/Os, backups and transfer stay as
    they are, so the comparison takes the Standard clusters' instance hours (auto-scaled readers
    included), storage and I/O lines, and prices the same quantities the other way."""
    standard = [
        line
        for line in lines
        if line.price_id.startswith("aurora.instance/")
        or line.price_id in ("aurora.storage", "aurora.io")
    ]
    io = sum(line.monthly_usd for line in standard if line.price_id == "aurora.io")
    if not io:
        return None
    alternative = 0.0
    for line in standard:
        if line.price_id == "aurora.io":
            continue
        other = line.price_id.replace("aurora.instance/", "aurora.instance-iopt/").replace(
            "aurora.storage", "aurora.storage-iopt"
        )
        price = prices.find(other, line.region)
        if price is None:
            return None
        alternative += line.quantity * price.usd
    current = sum(line.monthly_usd for line in standard)
    if alternative >= current:
        return None
    return Recommendation(
        title="Aurora I/O-Optimized",
        current_usd=current,
        alternative_usd=alternative,
        detail=(
            f"I/O is {100 * io / current:.0f}% of the Aurora Standard instances, storage and I/O"
            f" ({dollars(io)} of {dollars(current)}); I/O-Optimized would cost"
            f" {dollars(alternative)} for the same instance hours and storage, saving"
            f" {dollars(current - alternative)} a month. No stack key sets it yet: the clusters"
            " in components/aurora.py would take storage_type='aurora-iopt1', and rds-storage's"
            " allowedClusterStorageTypes would have to allow aurora-iopt1"
        ),
    )
