"""Create a stack's data tier in the emulator through the AWS APIs, and its stack outputs.

Seeding goes through boto3 and the HTTP server like any client, so the emulator ends up in the
state a real deployment would leave: a global cluster with a writer and a secondary (two
instances each), global tables with a replica, a global datastore, alarms and the replicated
master secret. The returned outputs have the shape docs/contracts.md documents.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import boto3
from botocore.config import Config

from emulator.server import Emulator
from emulator.state import STATE, EmulatorTimings

from .canary import CANARY_SCHEMA
from .topology import Topology

_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"})


@dataclass(frozen=True, slots=True)
class SeededStack:
    """What seeding produced: the topology and the stack outputs (for the primary it had)."""

    topology: Topology
    outputs: dict[str, Any]
    cluster_arns: dict[str, str]
    cluster_endpoints: dict[str, tuple[str, str]]
    secret_arns: dict[str, str]
    table_arns: dict[str, tuple[str, str]]
    cache_endpoints: dict[str, tuple[str, str]]
    cache_global_id: str | None
    zone_id: str = ""
    endpoint_url: str = ""

    def apply_up(self, primary: str) -> None:
        """What ``pulumi up`` with ``primary`` as primaryRegion changes in AWS besides the
        outputs: the parameters whose value follows the primary region are rewritten (through
        SSM, so AllowedPattern applies). A region that does not answer fails the update."""
        for parameter in self.topology.parameters:
            wanted = parameter.value_for(primary)
            if STATE.faults.is_down(parameter.region):
                raise RuntimeError(
                    f"aws:ssm/parameter:Parameter {parameter.name} in {parameter.region}: "
                    "the region does not answer"
                )
            ssm = client_at(self.endpoint_url, "ssm", parameter.region)
            current = ssm.get_parameter(Name=parameter.name)["Parameter"]["Value"]
            if current != wanted:
                ssm.put_parameter(Name=parameter.name, Value=wanted, Overwrite=True)

    def parameter_value(self, region: str, name: str) -> str | None:
        """The SSM parameter's value in ``region`` (None when it does not exist there)."""
        if STATE.faults.is_down(region):
            raise RuntimeError(f"aws:ssm/parameter:Parameter {name} in {region}: no answer")
        ssm = client_at(self.endpoint_url, "ssm", region)
        try:
            return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])
        except ssm.exceptions.ParameterNotFound:
            return None

    def record_value(self, name: str) -> str | None:
        """The value of the simple CNAME ``name`` in the stack's zone (None when absent)."""
        route53 = client_at(self.endpoint_url, "route53", self.topology.primary_region)
        wanted = name.rstrip(".") + "."
        for record in route53.list_resource_record_sets(HostedZoneId=self.zone_id)[
            "ResourceRecordSets"
        ]:
            if (
                record["Name"] == wanted
                and record["Type"] == "CNAME"
                and "SetIdentifier" not in record
            ):
                return str(record["ResourceRecords"][0]["Value"]).rstrip(".")
        return None

    def outputs_for(self, primary: str, secondary: str) -> dict[str, Any]:
        """The stack outputs after ``pulumi up`` with this region pair."""
        outputs: dict[str, Any] = json.loads(json.dumps(self.outputs))
        outputs["primaryRegion"] = primary
        outputs["secondaryRegion"] = secondary
        outputs["auroraSecretArn"] = self.secret_arns[primary]
        return outputs


_CLIENTS: dict[tuple[str, str, str], Any] = {}


def _client(emulator: Emulator, service: str, region: str) -> Any:
    return client_at(emulator.endpoint_url, service, region)


def client_at(endpoint_url: str, service: str, region: str) -> Any:
    """A client of the emulator at ``endpoint_url``, made once per process (tens of ms each)."""
    key = (service, region, endpoint_url)
    if key not in _CLIENTS:
        _CLIENTS[key] = boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=_CONFIG,
        )
    return _CLIENTS[key]


def seed_topology(emulator: Emulator, topology: Topology) -> SeededStack:
    """Deploy ``topology`` into the emulator (instantly) and return its outputs."""
    saved = emulator.timings
    emulator.timings = replace(EmulatorTimings().scaled(0.0), **_lags(saved))
    try:
        return _seed(emulator, topology)
    finally:
        emulator.tick()
        emulator.timings = saved


MASTER_USERNAME = "securecart_admin"
MASTER_PASSWORD = "generated"
"""The master secret's value (the region pair's servers accept it: probes log in with it)."""


def _client_endpoints(
    emulator: Emulator,
    writer_endpoint: str,
    cluster_endpoints: dict[str, tuple[str, str]],
    cache_endpoints: dict[str, tuple[str, str]],
    regions: tuple[str, str],
) -> dict[str, Any]:
    """``clientEndpoints`` as components/data_tier.py exports it: AWS's own names, and the
    port each store listens on (the region pair's when it carries the stack)."""
    pair = emulator.data_plane
    pg_port = int(pair.aurora.port) if pair is not None else 5432
    cache_port = int(pair.cache.port) if pair is not None else 6379
    return {
        "writer": {"host": writer_endpoint, "port": pg_port},
        "readers": {r: {"host": cluster_endpoints[r][1], "port": pg_port} for r in regions},
        "cache": {
            r: {"primary": ends[0], "reader": ends[1], "port": cache_port}
            for r, ends in cache_endpoints.items()
        },
    }


def _database_name(global_cluster_id: str) -> str:
    """The bound stack's database on the region pair's servers (one per seeded stack)."""
    return "gc_" + "".join(c if c.isalnum() else "_" for c in global_cluster_id.lower())[:50]


def _lags(timings: EmulatorTimings) -> dict[str, float]:
    return {
        "aurora_replication_lag_seconds": timings.aurora_replication_lag_seconds,
        "dynamodb_replication_lag_seconds": timings.dynamodb_replication_lag_seconds,
    }


def _seed(emulator: Emulator, topo: Topology) -> SeededStack:
    primary, secondary = topo.primary_region, topo.secondary_region
    secret_arns: dict[str, str] = {}
    for region in (primary, secondary):
        sm = _client(emulator, "secretsmanager", region)
        created = sm.create_secret(
            Name=topo.secret_name,
            SecretString=json.dumps({"username": MASTER_USERNAME, "password": MASTER_PASSWORD}),
        )
        secret_arns[region] = created["ARN"]

    cluster_arns: dict[str, str] = {}
    cluster_endpoints: dict[str, tuple[str, str]] = {}
    rds_primary = _client(emulator, "rds", primary)
    rds_primary.create_global_cluster(
        GlobalClusterIdentifier=topo.global_cluster_id,
        Engine="aurora-postgresql",
        EngineVersion=topo.engine_version,
        DatabaseName=topo.database_name,
        StorageEncrypted=True,
        DeletionProtection=True,
    )
    for region in (primary, secondary):
        spec = topo.cluster(region)
        rds = _client(emulator, "rds", region)
        kwargs: dict[str, Any] = {
            "DBClusterIdentifier": spec.identifier,
            "Engine": "aurora-postgresql",
            "EngineVersion": topo.engine_version,
            "GlobalClusterIdentifier": topo.global_cluster_id,
            "BackupRetentionPeriod": spec.backup_retention_days,
            "StorageEncrypted": True,
            "DeletionProtection": True,
            "EnableIAMDatabaseAuthentication": True,
        }
        if region == primary:
            kwargs.update(MasterUsername="securecart_admin", MasterUserPassword="generated-secret")
        cluster = rds.create_db_cluster(**kwargs)["DBCluster"]
        cluster_arns[region] = cluster["DBClusterArn"]
        cluster_endpoints[region] = (cluster["Endpoint"], cluster["ReaderEndpoint"])
        for instance in spec.instances:
            rds.create_db_instance(
                DBInstanceIdentifier=instance.identifier,
                DBClusterIdentifier=spec.identifier,
                Engine="aurora-postgresql",
                DBInstanceClass=instance.instance_class,
                AvailabilityZone=instance.availability_zone,
            )
        if topo.http_endpoint:  # as the plan says: the sandbox never turns it on by itself
            rds.enable_http_endpoint(ResourceArn=cluster["DBClusterArn"])

    anchor = topo.anchor_region
    other = secondary if anchor == primary else primary
    ddb = _client(emulator, "dynamodb", anchor)
    table_arns: dict[str, tuple[str, str]] = {}
    for table in topo.tables:
        attributes = [{"AttributeName": table.hash_key, "AttributeType": table.hash_type}]
        schema = [{"AttributeName": table.hash_key, "KeyType": "HASH"}]
        if table.range_key:
            attributes.append({"AttributeName": table.range_key, "AttributeType": table.range_type})
            schema.append({"AttributeName": table.range_key, "KeyType": "RANGE"})
        created = ddb.create_table(
            TableName=table.name,
            AttributeDefinitions=attributes,
            KeySchema=schema,
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            SSESpecification={"Enabled": True, "SSEType": "KMS"},
            DeletionProtectionEnabled=True,
        )["TableDescription"]
        table_arns[table.logical] = (created["TableArn"], created.get("LatestStreamArn", ""))
        if table.pitr:
            ddb.update_continuous_backups(
                TableName=table.name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        if table.ttl_attribute:
            ddb.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
        ddb.update_table(TableName=table.name, ReplicaUpdates=[{"Create": {"RegionName": other}}])

    cache_endpoints: dict[str, tuple[str, str]] = {}
    cache_global_id: str | None = None
    cache_token = f"auth-{topo.global_cluster_id}"
    cache_secret_arn = ""
    if topo.cache_groups:
        for region in (primary, secondary):
            created = _client(emulator, "secretsmanager", region).create_secret(
                Name=f"{topo.secret_name}-cache-auth", SecretString=cache_token
            )
            if region == primary:
                cache_secret_arn = created["ARN"]
    if topo.cache_global_suffix and topo.cache_groups:
        ordered = sorted(topo.cache_groups, key=lambda g: g.region != primary)
        for group in ordered:
            ec = _client(emulator, "elasticache", group.region)
            kwargs = {
                "ReplicationGroupId": group.replication_group_id,
                "ReplicationGroupDescription": f"product cache {group.region}",
            }
            if cache_global_id is None:
                kwargs.update(
                    Engine="valkey",
                    CacheNodeType=group.node_type,
                    NumCacheClusters=group.num_cache_clusters,
                    AutomaticFailoverEnabled=True,
                    MultiAZEnabled=True,
                    TransitEncryptionEnabled=True,
                    AtRestEncryptionEnabled=True,
                )
            else:
                kwargs["GlobalReplicationGroupId"] = cache_global_id
            created = ec.create_replication_group(**kwargs)["ReplicationGroup"]
            node_group = (created.get("NodeGroups") or [{}])[0]
            cache_endpoints[group.region] = (
                node_group.get("PrimaryEndpoint", {}).get("Address", ""),
                node_group.get("ReaderEndpoint", {}).get("Address", ""),
            )
            emulator.cache_plane.add(
                group.region,
                group.replication_group_id,
                cache_endpoints[group.region][0],
                cache_token,
            )
            if cache_global_id is None:
                cache_global_id = ec.create_global_replication_group(
                    GlobalReplicationGroupIdSuffix=topo.cache_global_suffix,
                    PrimaryReplicationGroupId=group.replication_group_id,
                )["GlobalReplicationGroup"]["GlobalReplicationGroupId"]

    alarm_names: dict[str, list[str]] = {primary: [], secondary: []}
    for alarm in topo.alarms:
        cw = _client(emulator, "cloudwatch", alarm.region)
        cw.put_metric_alarm(
            AlarmName=alarm.name,
            Namespace=alarm.namespace,
            MetricName=alarm.metric,
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=alarm.threshold,
            ComparisonOperator=alarm.comparison,
        )
        alarm_names.setdefault(alarm.region, []).append(alarm.name)

    zone = topo.dns_zone_name
    names = {
        "writer": f"writer.{zone}",
        "cache": f"cache.{zone}",
        "reader": f"reader.{zone}",
    }
    writer_endpoint = f"{topo.global_cluster_id}.global-emulated.global.rds.amazonaws.com"
    extra_outputs, extra_records = seed_optional_stores(emulator, topo, zone)
    records_extra = [(name, value) for name, value in extra_records.items()]
    route53 = _client(emulator, "route53", primary)
    zone_id = route53.create_hosted_zone(
        Name=zone,
        CallerReference=f"seed-{topo.global_cluster_id}",
        HostedZoneConfig={"Comment": f"{topo.stack} data tier names", "PrivateZone": True},
    )["HostedZone"]["Id"].split("/")[-1]
    records = [
        (names["writer"], writer_endpoint),
        (names["reader"], cluster_endpoints[primary][1]),
        *((f"reader-{r}.{zone}", cluster_endpoints[r][1]) for r in (primary, secondary)),
    ]
    if cache_endpoints.get(primary):
        records.append((names["cache"], cache_endpoints[primary][0]))
    records.extend(records_extra)
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "CNAME",
                        "TTL": topo.dns_ttl_seconds,
                        "ResourceRecords": [{"Value": value}],
                    },
                }
                for name, value in records
            ]
        },
    )
    active_parameter = topo.active_region_parameter
    for parameter in topo.parameters:
        # as the plan declares it, AllowedPattern included: SSM (and the emulator) then refuse
        # a value outside the region pair, as they would for the drill's own move
        kwargs = {"AllowedPattern": parameter.allowed_pattern} if parameter.allowed_pattern else {}
        _client(emulator, "ssm", parameter.region).put_parameter(
            Name=parameter.name,
            Value=parameter.value,
            Type=parameter.type,
            Description=parameter.description or "declared by the stack",
            **kwargs,
        )
    # The canary table is part of the database's schema (docs/drills.md, "The canary table"):
    # created once on the writer as a migration would, never by the drill (the Data API takes
    # no DDL); it replicates to the secondary like any change.
    if emulator.data_plane is not None:
        from emulator.dataplane.regionpair import Binding

        emulator.data_plane.bind(
            Binding(
                global_cluster_id=topo.global_cluster_id,
                regions=(primary, secondary),
                database=_database_name(topo.global_cluster_id),
                cluster_arns=cluster_arns,
                cluster_endpoints=cluster_endpoints,
                writer_endpoint=writer_endpoint,
                cache_global_id=cache_global_id,
                cache_endpoints=cache_endpoints,
                zone_id=zone_id,
                token=cache_token,
                master=(MASTER_USERNAME, MASTER_PASSWORD),
            )
        )
    assert STATE.aurora is not None
    STATE.aurora.create_schema(cluster_arns[primary], CANARY_SCHEMA)

    outputs: dict[str, Any] = {
        "primaryRegion": primary,
        "secondaryRegion": secondary,
        "environment": topo.environment,
        "globalClusterId": topo.global_cluster_id,
        "auroraClusters": {
            region: {
                "clusterIdentifier": topo.cluster(region).identifier,
                "arn": cluster_arns[region],
                "endpoint": cluster_endpoints[region][0],
                "readerEndpoint": cluster_endpoints[region][1],
            }
            for region in (primary, secondary)
        },
        "auroraSecretArn": secret_arns[primary],
        # the region pair keeps one database per seeded stack: the stack's is that one
        "auroraDatabaseName": (
            _database_name(topo.global_cluster_id)
            if emulator.data_plane is not None
            else topo.database_name
        ),
        "tables": {
            t.logical: {
                "name": t.name,
                "arn": table_arns[t.logical][0],
                "streamArn": table_arns[t.logical][1],
            }
            for t in topo.tables
        },
        "cacheGlobalReplicationGroupId": cache_global_id,
        "cacheReplicationGroups": {
            g.region: {
                "replicationGroupId": g.replication_group_id,
                "primaryEndpoint": cache_endpoints.get(g.region, ("", ""))[0],
                "readerEndpoint": cache_endpoints.get(g.region, ("", ""))[1],
            }
            for g in topo.cache_groups
        },
        "cacheAuthSecretArn": cache_secret_arn,
        "dnsZoneId": zone_id,
        "dnsTtlSeconds": topo.dns_ttl_seconds,
        "writerEndpoint": writer_endpoint,
        "writerDnsName": names["writer"],
        "readerDnsName": names["reader"],
        "readerDnsNames": {r: f"reader-{r}.{zone}" for r in (primary, secondary)},
        "cacheDnsName": names["cache"] if cache_global_id else None,
        "dynamodbActiveRegionParameter": active_parameter,
        "healthCheckIds": {},
        "alarmTopicArns": {},
        "alarmNames": alarm_names,
        "drillObjectives": topo.objectives.to_json(),
        # the AWS names a verifying client dials (components/data_tier.py); the ports are
        # where the region pair's servers listen when it carries the stack, AWS's otherwise
        "clientEndpoints": _client_endpoints(
            emulator, writer_endpoint, cluster_endpoints, cache_endpoints, (primary, secondary)
        ),
        **extra_outputs,
    }
    return SeededStack(
        topology=topo,
        outputs=outputs,
        cluster_arns=cluster_arns,
        cluster_endpoints=cluster_endpoints,
        secret_arns=secret_arns,
        table_arns=table_arns,
        cache_endpoints=cache_endpoints,
        cache_global_id=cache_global_id,
        zone_id=zone_id,
        endpoint_url=emulator.endpoint_url,
    )


# -- the optional stores of issue 20 (only when the topology has them) -------------------------

PAYMENTS_USERNAME = "payments_admin"
"""components/payments.py MASTER_USERNAME."""
NEPTUNE_PORT = 8182
REDSHIFT_PORT = 5439


def seed_optional_stores(
    emulator: Emulator, topo: Topology, zone: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """Create the payments database, the fraud graph and the analytics warehouse the topology
    has, as the components build them; returns their stack outputs (``payments``,
    ``fraudGraph``, ``redshift``, shaped as components/data_tier.py exports them) and the
    private-zone names that point at their writers (``payments.<zone>``, ``fraud.<zone>``)."""
    outputs: dict[str, Any] = {}
    records: dict[str, str] = {}
    if topo.payments is not None:
        outputs["payments"], address = _seed_payments(emulator, topo, zone)
        records[str(outputs["payments"]["dnsName"])] = address
    if topo.neptune is not None:
        outputs["fraudGraph"], endpoint = _seed_neptune(emulator, topo, zone)
        records[str(outputs["fraudGraph"]["dnsName"])] = endpoint
    if topo.redshift is not None:
        outputs["redshift"] = _seed_redshift(emulator, topo)
    return outputs, records


def _seed_payments(emulator: Emulator, topo: Topology, zone: str) -> tuple[dict[str, Any], str]:
    spec = topo.payments
    assert spec is not None
    major = spec.engine_version.split(".", maxsplit=1)[0]
    instances: dict[str, dict[str, Any]] = {}
    for region in (spec.source_region, spec.replica_region):
        _client(emulator, "rds", region).create_db_parameter_group(
            DBParameterGroupName=spec.parameter_groups[region],
            DBParameterGroupFamily=f"postgres{major}",
            Description="payments PostgreSQL: TLS only, DDL log",
        )
    common: dict[str, Any] = {
        "DBInstanceClass": spec.instance_class,
        "MultiAZ": True,
        "StorageType": "gp3",
        "DeletionProtection": True,
        "PubliclyAccessible": False,
    }
    source = _client(emulator, "rds", spec.source_region).create_db_instance(
        DBInstanceIdentifier=spec.identifiers[spec.source_region],
        Engine="postgres",
        EngineVersion=spec.engine_version,
        AllocatedStorage=spec.allocated_storage_gb,
        MaxAllocatedStorage=spec.allocated_storage_gb * 5,
        MasterUsername=PAYMENTS_USERNAME,
        MasterUserPassword="generated-secret",
        DBName="payments",
        BackupRetentionPeriod=spec.backup_retention_days,
        StorageEncrypted=True,
        KmsKeyId=f"alias/{topo.global_cluster_id}-aurora",
        DBParameterGroupName=spec.parameter_groups[spec.source_region],
        AvailabilityZone=f"{spec.source_region}a",
        EnableIAMDatabaseAuthentication=True,
        **common,
    )["DBInstance"]
    replica = _client(emulator, "rds", spec.replica_region).create_db_instance_read_replica(
        DBInstanceIdentifier=spec.identifiers[spec.replica_region],
        SourceDBInstanceIdentifier=source["DBInstanceArn"],
        KmsKeyId=f"alias/{topo.global_cluster_id}-aurora",
        DBParameterGroupName=spec.parameter_groups[spec.replica_region],
        **common,
    )["DBInstance"]
    for region, found in ((spec.source_region, source), (spec.replica_region, replica)):
        instances[region] = {
            "identifier": found["DBInstanceIdentifier"],
            "arn": found["DBInstanceArn"],
            "address": found["Endpoint"]["Address"],
            "port": int(found["Endpoint"]["Port"]),
        }
    return (
        {
            "sourceRegion": spec.source_region,
            "instances": instances,
            "secretArn": "",
            "dnsName": f"payments.{zone}",
        },
        instances[spec.source_region]["address"],
    )


def _seed_neptune(emulator: Emulator, topo: Topology, zone: str) -> tuple[dict[str, Any], str]:
    spec = topo.neptune
    assert spec is not None
    other = next(r for r in topo.regions if r != spec.anchor_region)
    _client(emulator, "neptune", spec.anchor_region).create_global_cluster(
        GlobalClusterIdentifier=spec.global_cluster_id,
        Engine="neptune",
        EngineVersion=spec.engine_version,
        StorageEncrypted=True,
        DeletionProtection=True,
    )
    clusters: dict[str, dict[str, Any]] = {}
    for region in (spec.anchor_region, other):  # the anchor's first: the other one joins it
        created = _client(emulator, "neptune", region).create_db_cluster(
            DBClusterIdentifier=spec.clusters[region],
            Engine="neptune",
            EngineVersion=spec.engine_version,
            GlobalClusterIdentifier=spec.global_cluster_id,
            StorageEncrypted=True,
            DeletionProtection=True,
            # (IAM database authentication is left out: moto takes a non-Aurora cluster for a
            # Multi-AZ DB cluster and refuses it; the drills never read it)
        )["DBCluster"]
        clusters[region] = {
            "identifier": created["DBClusterIdentifier"],
            "arn": created["DBClusterArn"],
            "endpoint": created["Endpoint"],
            "readerEndpoint": created.get("ReaderEndpoint", ""),
            "port": NEPTUNE_PORT,
        }
    return (
        {
            "globalClusterId": spec.global_cluster_id,
            "clusters": clusters,
            "dnsName": f"fraud.{zone}",
        },
        clusters[spec.anchor_region]["endpoint"],
    )


def _seed_redshift(emulator: Emulator, topo: Topology) -> dict[str, Any]:
    spec = topo.redshift
    assert spec is not None
    dest = _client(emulator, "redshift", spec.copy_region)
    dest.create_snapshot_copy_grant(
        SnapshotCopyGrantName=spec.grant_name, KmsKeyId=f"alias/{topo.global_cluster_id}-redshift"
    )
    dest.create_cluster_parameter_group(
        ParameterGroupName=spec.restore_parameter_group,
        ParameterGroupFamily="redshift-1.0",
        Description="analytics: TLS, activity log",
    )
    home = _client(emulator, "redshift", spec.region)
    cluster = home.create_cluster(
        ClusterIdentifier=spec.cluster_identifier,
        NodeType=spec.node_type,
        ClusterType="single-node" if spec.number_of_nodes == 1 else "multi-node",
        **({"NumberOfNodes": spec.number_of_nodes} if spec.number_of_nodes > 1 else {}),
        MasterUsername="analytics_admin",
        MasterUserPassword="Generated-secret1",
        DBName="analytics",
        Encrypted=True,
        KmsKeyId=f"alias/{topo.global_cluster_id}-redshift",
        PubliclyAccessible=False,
        EnhancedVpcRouting=True,
        Port=REDSHIFT_PORT,
        AutomatedSnapshotRetentionPeriod=7,
    )["Cluster"]
    home.enable_snapshot_copy(
        ClusterIdentifier=spec.cluster_identifier,
        DestinationRegion=spec.copy_region,
        RetentionPeriod=spec.copy_retention_days,
        SnapshotCopyGrantName=spec.grant_name,
    )
    endpoint = cluster.get("Endpoint") or {}
    return {
        "region": spec.region,
        "copyRegion": spec.copy_region,
        "clusterIdentifier": spec.cluster_identifier,
        "arn": f"arn:aws:redshift:{spec.region}:{emulator.account_id}:cluster:"
        f"{spec.cluster_identifier}",
        "endpoint": f"{endpoint.get('Address', '')}:{endpoint.get('Port', REDSHIFT_PORT)}",
        "port": REDSHIFT_PORT,
        "adminSecretArn": "",
        "snapshotCopyGrantName": spec.grant_name,
        "restore": {
            "subnetGroupName": "",
            "securityGroupId": "",
            "parameterGroupName": spec.restore_parameter_group,
        },
    }
