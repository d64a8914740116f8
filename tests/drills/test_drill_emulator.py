"""The emulator's extensions to moto, through boto3 and moto's HTTP server only: status
transitions, replication lag, region loss, PITR, global datastores, the Data API, SSM and
faults. Every test runs on the emulator's manual clock: a transition is observed just before
and just after its due time, whatever the machine's speed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from drill_harness import PRIMARY, SECONDARY, DrillHarness

from emulator import STATE
from emulator.state import ManualClock

INSERT = (
    "INSERT INTO drill_canary (id, drill_id, region, phase, written_at) "
    "VALUES (:id, :drill_id, :region, :phase, :written_at)"
)


def _sql(harness: DrillHarness, where: str, sql: str, arn: str | None = None, /, **params) -> dict:
    def value(v):
        return {"doubleValue": v} if isinstance(v, float) else {"stringValue": v}

    return harness.client("rds-data", where).execute_statement(
        resourceArn=arn or harness.seeded.cluster_arns[where],
        secretArn=harness.seeded.secret_arns[where],
        database="securecart",
        sql=sql,
        parameters=[{"name": k, "value": value(v)} for k, v in params.items()],
    )


def _insert(harness: DrillHarness, region: str, canary_id: str, arn: str | None = None) -> dict:
    return _sql(
        harness,
        region,
        INSERT,
        arn,
        id=canary_id,
        drill_id="t",
        region=region,
        phase="test",
        written_at=1.0,
    )


def _ids(harness: DrillHarness, region: str, arn: str | None = None) -> set[str]:
    records = _sql(harness, region, "SELECT id FROM drill_canary WHERE drill_id = :d", arn, d="t")
    return {r[0]["stringValue"] for r in records["records"]}


def _writers(harness: DrillHarness) -> list[str]:
    return [
        m["DBClusterArn"].split(":")[3]
        for m in harness.global_cluster()["GlobalClusterMembers"]
        if m["IsWriter"]
    ]


def _old_member(harness: DrillHarness) -> dict:
    return next(
        m for m in harness.global_cluster()["GlobalClusterMembers"] if PRIMARY in m["DBClusterArn"]
    )


def test_switchover_transitions_and_keeps_every_write(
    harness: DrillHarness, clock: ManualClock
) -> None:
    harness.emulator.timings = replace(
        harness.emulator.timings, switchover_seconds=0.2, aurora_replication_lag_seconds=0.5
    )
    _insert(harness, PRIMARY, "a")
    with pytest.raises(ClientError, match="DatabaseUnavailableException"):
        _insert(harness, SECONDARY, "x")  # a secondary has no writer instance

    gc = harness.client("rds", SECONDARY).switchover_global_cluster(
        GlobalClusterIdentifier=harness.topology.global_cluster_id,
        TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
    )["GlobalCluster"]

    assert gc["Status"] == "switching-over"
    assert gc["FailoverState"]["IsDataLossAllowed"] is False
    assert gc["FailoverState"]["Status"] == "pending"
    assert _writers(harness) == [PRIMARY]
    _insert(harness, PRIMARY, "b")  # the old writer still takes writes while it prepares
    clock.advance(0.11)  # past half-way: the old writer is fenced
    # RDS API Reference, FailoverState.Status: "switching-over" for a switchover's internal
    # operations ("failing-over" is a failover's promotion)
    assert harness.global_cluster()["FailoverState"]["Status"] == "switching-over"
    with pytest.raises(ClientError, match="cannot execute INSERT in a read-only transaction"):
        _insert(harness, PRIMARY, "c")
    clock.advance(0.08)
    assert harness.global_cluster()["Status"] == "switching-over"
    clock.advance(0.02)
    assert harness.global_cluster()["Status"] == "available"
    assert not harness.global_cluster().get("FailoverState")
    assert _writers(harness) == [SECONDARY]
    # every write made before the switchover was applied before promotion, despite the lag
    assert _ids(harness, SECONDARY) == {"a", "b"}
    _insert(harness, SECONDARY, "d")
    # the old writer is a secondary now: the Data API refuses it, even for reads
    with pytest.raises(ClientError, match="DatabaseUnavailableException"):
        _ids(harness, PRIMARY)
    clock.advance(0.48)
    assert harness.stored_ids(PRIMARY, "drill_canary") == {"a", "b"}
    clock.advance(0.03)
    assert harness.stored_ids(PRIMARY, "drill_canary") == {"a", "b", "d"}


def test_a_held_switchover_stays_in_flight_until_released(
    harness: DrillHarness, clock: ManualClock
) -> None:
    gate = harness.emulator.faults.hold("switchover_global_cluster")
    harness.client("rds", SECONDARY).switchover_global_cluster(
        GlobalClusterIdentifier=harness.topology.global_cluster_id,
        TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
    )
    assert gate.started.is_set() and gate.count == 1
    clock.advance(3600)
    assert harness.global_cluster()["Status"] == "switching-over"
    assert _writers(harness) == [PRIMARY]
    with pytest.raises(ClientError, match="InvalidGlobalClusterStateFault"):
        harness.client("rds", SECONDARY).switchover_global_cluster(
            GlobalClusterIdentifier=harness.topology.global_cluster_id,
            TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
        )

    gate.release()

    assert harness.global_cluster()["Status"] == "available"
    assert _writers(harness) == [SECONDARY]


def test_lossy_failover_loses_unreplicated_writes_and_rejoins_after_recovery(
    harness: DrillHarness, clock: ManualClock
) -> None:
    harness.emulator.timings = replace(
        harness.emulator.timings,
        aurora_replication_lag_seconds=0.5,
        failover_seconds=0.1,
        rejoin_seconds=0.2,
    )
    _insert(harness, PRIMARY, "kept")
    clock.advance(0.51)  # replicated
    assert harness.stored_ids(SECONDARY, "drill_canary") == {"kept"}
    _insert(harness, PRIMARY, "lost")
    clock.advance(0.3)  # still within the lag when the region is lost
    faults = harness.emulator.faults
    faults.region_down(PRIMARY, hang=False)

    with pytest.raises(ClientError, match="Use FailoverGlobalCluster with AllowDataLoss"):
        harness.client("rds", SECONDARY).switchover_global_cluster(
            GlobalClusterIdentifier=harness.topology.global_cluster_id,
            TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
        )
    gc = harness.client("rds", SECONDARY).failover_global_cluster(
        GlobalClusterIdentifier=harness.topology.global_cluster_id,
        TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
        AllowDataLoss=True,
    )["GlobalCluster"]
    assert gc["Status"] == "failing-over" and gc["FailoverState"]["IsDataLossAllowed"] is True
    clock.advance(1.0)  # the lost write's due time passes while its region is down
    assert harness.global_cluster()["Status"] == "available"

    assert _writers(harness) == [SECONDARY]
    assert _old_member(harness)["SynchronizationStatus"] == "pending-resync"
    assert _ids(harness, SECONDARY) == {"kept"}
    assert STATE.aurora.lost_changes[harness.topology.global_cluster_id] == 1

    faults.region_up(PRIMARY)
    harness.emulator.tick()  # the emulator sees the region back: the rejoin starts now
    clock.advance(0.19)
    assert _old_member(harness)["SynchronizationStatus"] == "pending-resync"
    clock.advance(0.02)
    assert _old_member(harness)["SynchronizationStatus"] == "connected"
    # rebuilt from the new writer: the lost write is gone there too
    assert harness.stored_ids(PRIMARY, "drill_canary") == {"kept"}


def test_a_held_replication_keeps_changes_within_the_lag(
    harness: DrillHarness, clock: ManualClock
) -> None:
    """``faults.hold("aurora_replication")``: what the writer takes stays off the secondary
    (as the last writes before a region loss are) until the test releases it."""
    gate = harness.emulator.faults.hold("aurora_replication")
    _insert(harness, PRIMARY, "held")
    clock.advance(60)
    assert harness.stored_ids(SECONDARY, "drill_canary") == set()

    gate.release()

    assert harness.stored_ids(SECONDARY, "drill_canary") == {"held"}


def test_removing_a_secondary_makes_it_a_standalone_writer(
    harness: DrillHarness, clock: ManualClock
) -> None:
    harness.emulator.timings = replace(harness.emulator.timings, detach_seconds=0.1)
    rds = harness.client("rds", SECONDARY)

    def status() -> str:
        return str(
            rds.describe_db_clusters(
                DBClusterIdentifier=harness.topology.cluster(SECONDARY).identifier
            )["DBClusters"][0]["Status"]
        )

    gc = rds.remove_from_global_cluster(
        GlobalClusterIdentifier=harness.topology.global_cluster_id,
        DbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
    )["GlobalCluster"]

    assert [m["DBClusterArn"] for m in gc["GlobalClusterMembers"]] == [
        harness.seeded.cluster_arns[PRIMARY]
    ]
    cluster = rds.describe_db_clusters(
        DBClusterIdentifier=harness.topology.cluster(SECONDARY).identifier
    )["DBClusters"][0]
    assert cluster["Status"] == "promoting"
    assert not cluster.get("GlobalClusterIdentifier")
    clock.advance(0.09)
    assert status() == "promoting"
    clock.advance(0.02)
    assert status() == "available"
    _insert(harness, SECONDARY, "standalone")  # a standalone writer takes writes
    assert _ids(harness, SECONDARY) >= {"standalone"}
    with pytest.raises(ClientError, match="is not a member"):
        rds.remove_from_global_cluster(
            GlobalClusterIdentifier=harness.topology.global_cluster_id,
            DbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
        )


def test_the_data_api_accepts_only_what_the_drills_send(harness: DrillHarness) -> None:
    _insert(harness, PRIMARY, "one")
    assert _ids(harness, PRIMARY) == {"one"}
    by_id = _sql(harness, PRIMARY, "SELECT id, phase FROM drill_canary WHERE id = :id", id="one")
    assert by_id["records"] == [[{"stringValue": "one"}, {"stringValue": "test"}]]
    deleted = _sql(harness, PRIMARY, "DELETE FROM drill_canary WHERE id = :id", id="one")
    assert deleted["numberOfRecordsUpdated"] == 1
    for sql in (
        "CREATE TABLE t (id TEXT PRIMARY KEY)",
        "SELECT pg_is_in_recovery()",
        "SELECT id FROM drill_canary",
        "UPDATE drill_canary SET phase = :p WHERE id = :id",
        "DELETE FROM drill_canary",
        "INSERT INTO drill_canary (id) VALUES ('literal')",
        "SELECT id FROM drill_canary WHERE id = :id; DROP TABLE drill_canary",
    ):
        with pytest.raises(ClientError) as refused:
            _sql(harness, PRIMARY, sql, id="one", p="x")
        error = refused.value.response["Error"]
        assert error["Code"] == "BadRequestException", sql
        assert "accepts only what the drills send" in error["Message"] and sql in error["Message"]
    with pytest.raises(ClientError, match=r"BadRequestException.*no value for parameter"):
        _sql(harness, PRIMARY, "SELECT id FROM drill_canary WHERE id = :id")
    with pytest.raises(ClientError, match='relation "missing" does not exist'):
        _sql(harness, PRIMARY, "SELECT id FROM missing WHERE id = :id", id="x")


def test_the_data_api_needs_the_http_endpoint(harness: DrillHarness) -> None:
    rds = harness.client("rds", PRIMARY)
    arn = harness.seeded.cluster_arns[PRIMARY]
    rds.disable_http_endpoint(ResourceArn=arn)
    with pytest.raises(ClientError, match="HttpEndpointNotEnabledException"):
        _ids(harness, PRIMARY)
    rds.enable_http_endpoint(ResourceArn=arn)
    assert _ids(harness, PRIMARY) == set()


def test_cluster_point_in_time_restore_reads_the_past(
    harness: DrillHarness, clock: ManualClock
) -> None:
    harness.emulator.timings = replace(
        harness.emulator.timings, restore_cluster_seconds=0.2, instance_create_seconds=0.1
    )
    _insert(harness, PRIMARY, "kept")
    clock.advance(1.0)
    moment = datetime.fromtimestamp(clock(), tz=UTC)
    clock.advance(1.0)
    _sql(harness, PRIMARY, "DELETE FROM drill_canary WHERE id = :id", id="kept")
    rds = harness.client("rds", PRIMARY)

    def status(identifier: str) -> str:
        return str(
            rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]["Status"]
        )

    restored = rds.restore_db_cluster_to_point_in_time(
        DBClusterIdentifier="restored-x",
        SourceDBClusterIdentifier=harness.topology.cluster(PRIMARY).identifier,
        RestoreToTime=moment,
    )["DBCluster"]

    assert restored["Status"] == "creating"
    assert not restored.get("GlobalClusterIdentifier")
    clock.advance(0.19)
    assert status("restored-x") == "creating"
    clock.advance(0.02)
    assert status("restored-x") == "available"
    rds.create_db_instance(
        DBInstanceIdentifier="restored-x-1",
        DBClusterIdentifier="restored-x",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )
    instance = rds.describe_db_instances(DBInstanceIdentifier="restored-x-1")["DBInstances"][0]
    assert instance["DBInstanceStatus"] == "creating"
    clock.advance(0.11)
    instance = rds.describe_db_instances(DBInstanceIdentifier="restored-x-1")["DBInstances"][0]
    assert instance["DBInstanceStatus"] == "available"
    with pytest.raises(ClientError, match="HttpEndpointNotEnabledException"):
        _ids(harness, PRIMARY, restored["DBClusterArn"])
    rds.enable_http_endpoint(ResourceArn=restored["DBClusterArn"])
    assert _ids(harness, PRIMARY, restored["DBClusterArn"]) == {"kept"}
    with pytest.raises(ClientError, match="after the latest restorable time"):
        rds.restore_db_cluster_to_point_in_time(
            DBClusterIdentifier="restored-y",
            SourceDBClusterIdentifier=harness.topology.cluster(PRIMARY).identifier,
            RestoreToTime=datetime(2100, 1, 1, tzinfo=UTC),
        )


def test_global_table_replicas_and_item_replication(
    harness: DrillHarness, clock: ManualClock
) -> None:
    harness.emulator.timings = replace(
        harness.emulator.timings, dynamodb_replication_lag_seconds=0.1
    )
    table = harness.topology.tables[0].name
    east, west = harness.client("dynamodb", PRIMARY), harness.client("dynamodb", SECONDARY)
    desc = west.describe_table(TableName=table)["Table"]
    assert desc["GlobalTableVersion"] == "2019.11.21"
    assert desc["Replicas"] == [{"RegionName": PRIMARY, "ReplicaStatus": "ACTIVE"}]

    east.put_item(TableName=table, Item={"sessionId": {"S": "e1"}})
    west.put_item(TableName=table, Item={"sessionId": {"S": "w1"}})
    clock.advance(0.09)  # just short of the lag: nothing has crossed yet
    assert "Item" not in west.get_item(
        TableName=table, Key={"sessionId": {"S": "e1"}}, ConsistentRead=True
    )
    clock.advance(0.02)
    assert "Item" in west.get_item(TableName=table, Key={"sessionId": {"S": "e1"}})
    assert "Item" in east.get_item(TableName=table, Key={"sessionId": {"S": "w1"}})
    east.delete_item(TableName=table, Key={"sessionId": {"S": "w1"}})
    clock.advance(0.11)
    assert "Item" not in west.get_item(TableName=table, Key={"sessionId": {"S": "w1"}})


def test_changes_from_a_region_that_went_down_ship_when_it_returns(
    harness: DrillHarness, clock: ManualClock
) -> None:
    harness.emulator.timings = replace(
        harness.emulator.timings, dynamodb_replication_lag_seconds=0.05
    )
    table = harness.topology.tables[0].name
    harness.client("dynamodb", PRIMARY).put_item(TableName=table, Item={"sessionId": {"S": "late"}})
    harness.emulator.faults.region_down(PRIMARY, hang=False)
    clock.advance(10)
    west = harness.client("dynamodb", SECONDARY)
    assert "Item" not in west.get_item(TableName=table, Key={"sessionId": {"S": "late"}})
    harness.emulator.faults.region_up(PRIMARY)
    assert "Item" in west.get_item(TableName=table, Key={"sessionId": {"S": "late"}})


def test_table_point_in_time_restore_and_new_replicas(
    harness: DrillHarness, clock: ManualClock
) -> None:
    harness.emulator.timings = replace(
        harness.emulator.timings, restore_table_seconds=0.2, replica_create_seconds=0.1
    )
    table = harness.topology.tables[0].name
    east = harness.client("dynamodb", PRIMARY)
    east.put_item(TableName=table, Item={"sessionId": {"S": "before"}})
    clock.advance(1.0)
    moment = datetime.fromtimestamp(clock(), tz=UTC)
    clock.advance(1.0)
    east.delete_item(TableName=table, Key={"sessionId": {"S": "before"}})
    east.put_item(TableName=table, Item={"sessionId": {"S": "after"}})

    restored = east.restore_table_to_point_in_time(
        SourceTableName=table, TargetTableName=f"{table}-r", RestoreDateTime=moment
    )
    assert restored["TableDescription"]["TableStatus"] == "CREATING"
    clock.advance(0.19)
    assert east.describe_table(TableName=f"{table}-r")["Table"]["TableStatus"] == "CREATING"
    clock.advance(0.02)
    assert east.describe_table(TableName=f"{table}-r")["Table"]["TableStatus"] == "ACTIVE"
    keys = {i["sessionId"]["S"] for i in east.scan(TableName=f"{table}-r")["Items"]}
    assert keys == {"before"}

    east.update_table(
        TableName=f"{table}-r", ReplicaUpdates=[{"Create": {"RegionName": SECONDARY}}]
    )
    desc = east.describe_table(TableName=f"{table}-r")["Table"]
    assert desc["TableStatus"] == "UPDATING" and desc["Replicas"][0]["ReplicaStatus"] == "CREATING"
    clock.advance(0.11)
    replicas = east.describe_table(TableName=f"{table}-r")["Table"]["Replicas"]
    assert replicas[0]["ReplicaStatus"] == "ACTIVE"
    west_keys = {
        i["sessionId"]["S"]
        for i in harness.client("dynamodb", SECONDARY).scan(TableName=f"{table}-r")["Items"]
    }
    assert west_keys == {"before"}


def test_global_datastore_failover(harness: DrillHarness, clock: ManualClock) -> None:
    harness.emulator.timings = replace(harness.emulator.timings, cache_failover_seconds=0.2)
    ec = harness.client("elasticache", SECONDARY)
    gid = harness.seeded.cache_global_id
    west_group = harness.topology.cache_groups[1].replication_group_id

    result = ec.failover_global_replication_group(
        GlobalReplicationGroupId=gid, PrimaryRegion=SECONDARY, PrimaryReplicationGroupId=west_group
    )

    assert result["GlobalReplicationGroup"]["Status"] == "modifying"
    with pytest.raises(ClientError, match="InvalidGlobalReplicationGroupState"):
        ec.failover_global_replication_group(
            GlobalReplicationGroupId=gid,
            PrimaryRegion=SECONDARY,
            PrimaryReplicationGroupId=west_group,
        )
    clock.advance(0.19)
    assert harness.cache_primary() == PRIMARY
    clock.advance(0.02)
    assert harness.cache_primary() == SECONDARY
    info = ec.describe_replication_groups(ReplicationGroupId=west_group)["ReplicationGroups"][0][
        "GlobalReplicationGroupInfo"
    ]
    assert info == {"GlobalReplicationGroupId": gid, "GlobalReplicationGroupMemberRole": "PRIMARY"}


def test_the_lag_metrics_are_published_for_the_secondary(
    harness: DrillHarness, clock: ManualClock
) -> None:
    """Aurora publishes AuroraGlobalDBReplicationLag and AuroraGlobalDBRPOLag in milliseconds
    under AWS/RDS for the secondary cluster only, in its region, with DBClusterIdentifier and
    the primary as SourceRegion; GetMetricStatistics answers only for that exact combination."""
    harness.emulator.timings = replace(
        harness.emulator.timings, aurora_replication_lag_seconds=0.2, metric_interval_seconds=1.0
    )
    gate = harness.emulator.faults.hold("aurora_replication")
    _insert(harness, PRIMARY, "pending")
    clock.advance(1.5)  # publishes 1.5 s after a change that has not arrived
    cloudwatch = harness.client("cloudwatch", SECONDARY)
    secondary = harness.topology.cluster(SECONDARY).identifier
    cluster = {"Name": "DBClusterIdentifier", "Value": secondary}
    source = {"Name": "SourceRegion", "Value": PRIMARY}

    def maximum(metric: str, dimensions: list[dict]) -> list[dict]:
        return cloudwatch.get_metric_statistics(
            Namespace="AWS/RDS",
            MetricName=metric,
            Dimensions=dimensions,
            StartTime=datetime.fromtimestamp(clock() - 300, tz=UTC),
            EndTime=datetime.fromtimestamp(clock() + 1, tz=UTC),
            Period=60,
            Statistics=["Maximum"],
            Unit="Milliseconds",
        )["Datapoints"]

    for metric in ("AuroraGlobalDBReplicationLag", "AuroraGlobalDBRPOLag"):
        points = maximum(metric, [cluster, source])
        assert points and points[-1]["Maximum"] == pytest.approx(1500.0, abs=1.0), metric
        assert points[-1]["Unit"] == "Milliseconds"
        assert maximum(metric, [source])[-1]["Maximum"] == pytest.approx(1500.0, abs=1.0)
        assert maximum(metric, [cluster]) == []  # a combination Aurora does not publish
    listed = cloudwatch.list_metrics(
        Namespace="AWS/RDS", MetricName="AuroraGlobalDBRPOLag", Dimensions=[cluster]
    )["Metrics"]
    assert {tuple(sorted(d["Name"] for d in m["Dimensions"])) for m in listed} == {
        ("DBClusterIdentifier", "SourceRegion")
    }
    writer = harness.topology.cluster(PRIMARY).identifier
    in_primary = harness.client("cloudwatch", PRIMARY).list_metrics(
        Namespace="AWS/RDS",
        MetricName="AuroraGlobalDBReplicationLag",
        Dimensions=[{"Name": "DBClusterIdentifier", "Value": writer}],
    )["Metrics"]
    assert in_primary == []  # the primary publishes no global lag
    gate.release()


def test_the_active_region_setting_refuses_a_value_outside_its_pattern(
    harness: DrillHarness,
) -> None:
    """Seeded as the program declares it (AllowedPattern ^(us-east-1|us-west-2)$); SSM refuses
    PutParameter with a value that does not match, also on an overwrite that names no
    pattern."""
    name = harness.topology.active_region_parameter
    ssm = harness.client("ssm", SECONDARY)
    parameter = ssm.get_parameter(Name=name)["Parameter"]
    assert parameter["Value"] == PRIMARY and parameter["Type"] == "String"
    described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])[
        "Parameters"
    ][0]
    assert described["AllowedPattern"] == f"^({PRIMARY}|{SECONDARY})$"
    with pytest.raises(ClientError) as refused:
        ssm.put_parameter(Name=name, Value="eu-west-1", Overwrite=True)
    assert refused.value.response["Error"]["Code"] == "ParameterPatternMismatchException"
    ssm.put_parameter(Name=name, Value=SECONDARY, Overwrite=True)
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == SECONDARY


def test_faults_region_down_throttling_and_held_requests(harness: DrillHarness) -> None:
    faults = harness.emulator.faults
    impatient = boto3.client(
        "rds",
        region_name=SECONDARY,
        endpoint_url=harness.emulator.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(read_timeout=0.05, retries={"mode": "standard", "total_max_attempts": 1}),
    )
    faults.region_down(SECONDARY)  # requests hang (held far longer than this client waits)
    with pytest.raises(ReadTimeoutError):
        impatient.describe_global_clusters()
    assert harness.client("rds", PRIMARY).describe_global_clusters()["GlobalClusters"]
    faults.region_up(SECONDARY)
    faults.region_down(SECONDARY, hang=False)  # refused at once
    # a patient client (one attempt, a normal read timeout): the refusal must not have to beat
    # a 50 ms timeout on a busy machine
    patient = boto3.client(
        "rds",
        region_name=SECONDARY,
        endpoint_url=harness.emulator.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(read_timeout=10, retries={"mode": "standard", "total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as refused:
        patient.describe_global_clusters()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    faults.region_up(SECONDARY)
    assert impatient.meta.region_name == SECONDARY

    faults.throttle("rds", 1)
    no_retry = boto3.client(
        "rds",
        region_name=PRIMARY,
        endpoint_url=harness.emulator.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    with pytest.raises(ClientError, match="Throttling"):
        no_retry.describe_global_clusters()
    faults.throttle("dynamodb", 1)
    table = harness.topology.tables[0].name
    assert harness.client("dynamodb", PRIMARY).describe_table(TableName=table)["Table"]  # retried
    assert faults.throttled_count == 2
