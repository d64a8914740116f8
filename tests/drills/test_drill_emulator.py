"""The emulator's extensions to moto, through boto3 and moto's HTTP server only: status
transitions, replication lag, region loss, PITR, global datastores and faults."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from drill_harness import PRIMARY, SECONDARY, DrillHarness

from drills.emulator import STATE


def _wait(predicate, timeout: float = 2.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.005)
    raise AssertionError("condition not met in time")


def _sql(harness: DrillHarness, region: str, sql: str, **params: str) -> dict:
    return harness.client("rds-data", region).execute_statement(
        resourceArn=harness.seeded.cluster_arns[region],
        secretArn=harness.seeded.secret_arns[region],
        database="securecart",
        sql=sql,
        parameters=[{"name": k, "value": {"stringValue": v}} for k, v in params.items()],
    )


def _ids(harness: DrillHarness, region: str) -> set[str]:
    try:
        records = _sql(harness, region, "SELECT id FROM t")["records"]
    except ClientError:
        return set()
    return {r[0]["stringValue"] for r in records}


def _writers(harness: DrillHarness) -> list[str]:
    return [
        m["DBClusterArn"].split(":")[3]
        for m in harness.global_cluster()["GlobalClusterMembers"]
        if m["IsWriter"]
    ]


def test_switchover_transitions_and_keeps_every_write(harness: DrillHarness) -> None:
    harness.emulator.timings = replace(
        harness.emulator.timings, switchover_seconds=0.15, aurora_replication_lag_seconds=0.3
    )
    _sql(harness, PRIMARY, "CREATE TABLE t (id TEXT PRIMARY KEY)")
    _sql(harness, PRIMARY, "INSERT INTO t (id) VALUES (:id)", id="a")
    with pytest.raises(ClientError, match="DatabaseUnavailableException"):
        _sql(harness, SECONDARY, "INSERT INTO t (id) VALUES (:id)", id="x")

    gc = harness.client("rds", SECONDARY).switchover_global_cluster(
        GlobalClusterIdentifier=harness.topology.global_cluster_id,
        TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
    )["GlobalCluster"]

    assert gc["Status"] == "switching-over"
    assert gc["FailoverState"]["IsDataLossAllowed"] is False
    assert _writers(harness) == [PRIMARY]
    _wait(lambda: harness.global_cluster()["Status"] == "available")
    assert _writers(harness) == [SECONDARY]
    # the write made before the switchover was applied before promotion, despite the lag
    assert _ids(harness, SECONDARY) == {"a"}
    _sql(harness, SECONDARY, "INSERT INTO t (id) VALUES (:id)", id="b")
    # the old writer is a secondary now: the Data API refuses it, even for reads
    with pytest.raises(ClientError, match="DatabaseUnavailableException"):
        _sql(harness, PRIMARY, "SELECT pg_is_in_recovery()")
    _wait(lambda: harness.stored_ids(PRIMARY, "t") == {"a", "b"})


def test_lossy_failover_loses_unreplicated_writes_and_rejoins_after_recovery(
    harness: DrillHarness,
) -> None:
    harness.emulator.timings = replace(
        harness.emulator.timings, aurora_replication_lag_seconds=5.0, rejoin_seconds=0.02
    )
    _sql(harness, PRIMARY, "CREATE TABLE t (id TEXT PRIMARY KEY)")
    _sql(harness, PRIMARY, "INSERT INTO t (id) VALUES (:id)", id="lost")
    faults = harness.emulator.faults
    faults.region_down(PRIMARY)

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
    assert gc["Status"] == "failing-over"
    _wait(lambda: harness.global_cluster()["Status"] == "available")

    assert _writers(harness) == [SECONDARY]
    old = next(
        m for m in harness.global_cluster()["GlobalClusterMembers"] if PRIMARY in m["DBClusterArn"]
    )
    assert old["SynchronizationStatus"] == "pending-resync"
    # the table itself never reached the secondary: it is created again on the new writer
    _sql(harness, SECONDARY, "CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY)")
    assert _ids(harness, SECONDARY) == set()
    assert STATE.aurora.lost_changes[harness.topology.global_cluster_id] == 2

    faults.region_up(PRIMARY)
    harness.emulator.tick()
    _wait(
        lambda: (
            next(
                m
                for m in harness.global_cluster()["GlobalClusterMembers"]
                if PRIMARY in m["DBClusterArn"]
            )["SynchronizationStatus"]
            == "connected"
        )
    )
    assert "lost" not in _ids(harness, PRIMARY)


def test_removing_a_secondary_makes_it_a_standalone_writer(harness: DrillHarness) -> None:
    rds = harness.client("rds", SECONDARY)
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
    assert "GlobalClusterIdentifier" not in cluster or not cluster["GlobalClusterIdentifier"]
    _wait(
        lambda: (
            rds.describe_db_clusters(
                DBClusterIdentifier=harness.topology.cluster(SECONDARY).identifier
            )["DBClusters"][0]["Status"]
            == "available"
        )
    )
    assert (
        _sql(harness, SECONDARY, "SELECT pg_is_in_recovery()")["records"][0][0]["booleanValue"]
        is False
    )
    with pytest.raises(ClientError, match="is not a member"):
        rds.remove_from_global_cluster(
            GlobalClusterIdentifier=harness.topology.global_cluster_id,
            DbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
        )


def test_cluster_point_in_time_restore_reads_the_past(harness: DrillHarness) -> None:
    _sql(harness, PRIMARY, "CREATE TABLE t (id TEXT PRIMARY KEY)")
    _sql(harness, PRIMARY, "INSERT INTO t (id) VALUES (:id)", id="kept")
    time.sleep(0.01)
    moment = datetime.now(tz=UTC)
    time.sleep(0.01)
    _sql(harness, PRIMARY, "DELETE FROM t WHERE id = :id", id="kept")
    rds = harness.client("rds", PRIMARY)

    restored = rds.restore_db_cluster_to_point_in_time(
        DBClusterIdentifier="restored-x",
        SourceDBClusterIdentifier=harness.topology.cluster(PRIMARY).identifier,
        RestoreToTime=moment,
    )["DBCluster"]

    assert restored["Status"] == "creating"
    assert not restored.get("GlobalClusterIdentifier")
    _wait(
        lambda: (
            rds.describe_db_clusters(DBClusterIdentifier="restored-x")["DBClusters"][0]["Status"]
            == "available"
        )
    )
    rds.create_db_instance(
        DBInstanceIdentifier="restored-x-1",
        DBClusterIdentifier="restored-x",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )
    _wait(
        lambda: (
            rds.describe_db_instances(DBInstanceIdentifier="restored-x-1")["DBInstances"][0][
                "DBInstanceStatus"
            ]
            == "available"
        )
    )
    data_api = harness.client("rds-data", PRIMARY)
    with pytest.raises(ClientError, match="HttpEndpointNotEnabledException"):
        data_api.execute_statement(
            resourceArn=restored["DBClusterArn"],
            secretArn=harness.seeded.secret_arns[PRIMARY],
            sql="SELECT id FROM t",
        )
    rds.enable_http_endpoint(ResourceArn=restored["DBClusterArn"])
    records = data_api.execute_statement(
        resourceArn=restored["DBClusterArn"],
        secretArn=harness.seeded.secret_arns[PRIMARY],
        sql="SELECT id FROM t",
    )["records"]
    assert records == [[{"stringValue": "kept"}]]
    with pytest.raises(ClientError, match="after the latest restorable time"):
        rds.restore_db_cluster_to_point_in_time(
            DBClusterIdentifier="restored-y",
            SourceDBClusterIdentifier=harness.topology.cluster(PRIMARY).identifier,
            RestoreToTime=datetime(2100, 1, 1, tzinfo=UTC),
        )


def test_global_table_replicas_and_item_replication(harness: DrillHarness, clock) -> None:
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


def test_changes_from_a_region_that_went_down_ship_when_it_returns(harness: DrillHarness) -> None:
    harness.emulator.timings = replace(
        harness.emulator.timings, dynamodb_replication_lag_seconds=0.05
    )
    table = harness.topology.tables[0].name
    harness.client("dynamodb", PRIMARY).put_item(TableName=table, Item={"sessionId": {"S": "late"}})
    harness.emulator.faults.region_down(PRIMARY)
    time.sleep(0.1)
    west = harness.client("dynamodb", SECONDARY)
    assert "Item" not in west.get_item(TableName=table, Key={"sessionId": {"S": "late"}})
    harness.emulator.faults.region_up(PRIMARY)
    _wait(lambda: "Item" in west.get_item(TableName=table, Key={"sessionId": {"S": "late"}}))


def test_table_point_in_time_restore_and_new_replicas(harness: DrillHarness) -> None:
    table = harness.topology.tables[0].name
    east = harness.client("dynamodb", PRIMARY)
    east.put_item(TableName=table, Item={"sessionId": {"S": "before"}})
    time.sleep(0.01)
    moment = datetime.now(tz=UTC)
    time.sleep(0.01)
    east.delete_item(TableName=table, Key={"sessionId": {"S": "before"}})
    east.put_item(TableName=table, Item={"sessionId": {"S": "after"}})

    restored = east.restore_table_to_point_in_time(
        SourceTableName=table, TargetTableName=f"{table}-r", RestoreDateTime=moment
    )
    assert restored["TableDescription"]["TableStatus"] == "CREATING"
    _wait(lambda: east.describe_table(TableName=f"{table}-r")["Table"]["TableStatus"] == "ACTIVE")
    keys = {i["sessionId"]["S"] for i in east.scan(TableName=f"{table}-r")["Items"]}
    assert keys == {"before"}

    east.update_table(
        TableName=f"{table}-r", ReplicaUpdates=[{"Create": {"RegionName": SECONDARY}}]
    )
    desc = east.describe_table(TableName=f"{table}-r")["Table"]
    assert desc["TableStatus"] == "UPDATING" and desc["Replicas"][0]["ReplicaStatus"] == "CREATING"
    _wait(
        lambda: (
            east.describe_table(TableName=f"{table}-r")["Table"]["Replicas"][0]["ReplicaStatus"]
            == "ACTIVE"
        )
    )
    west_keys = {
        i["sessionId"]["S"]
        for i in harness.client("dynamodb", SECONDARY).scan(TableName=f"{table}-r")["Items"]
    }
    assert west_keys == {"before"}


def test_global_datastore_failover(harness: DrillHarness) -> None:
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
    _wait(lambda: harness.cache_primary() == SECONDARY)
    info = ec.describe_replication_groups(ReplicationGroupId=west_group)["ReplicationGroups"][0][
        "GlobalReplicationGroupInfo"
    ]
    assert info == {"GlobalReplicationGroupId": gid, "GlobalReplicationGroupMemberRole": "PRIMARY"}


def test_faults_region_down_throttling_and_stuck_operations(harness: DrillHarness) -> None:
    faults = harness.emulator.faults
    fast = Config(
        read_timeout=0.05,
        connect_timeout=0.2,
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    import boto3

    down = boto3.client(
        "rds",
        region_name=SECONDARY,
        endpoint_url=harness.emulator.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=fast,
    )
    down.describe_global_clusters()
    faults.region_down(SECONDARY)
    with pytest.raises(ReadTimeoutError):
        down.describe_global_clusters()
    assert harness.client("rds", PRIMARY).describe_global_clusters()["GlobalClusters"]
    faults.region_up(SECONDARY)

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

    faults.never_complete("switchover_global_cluster")
    harness.client("rds", SECONDARY).switchover_global_cluster(
        GlobalClusterIdentifier=harness.topology.global_cluster_id,
        TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
    )
    time.sleep(harness.emulator.timings.switchover_seconds * 2)
    assert harness.global_cluster()["Status"] == "switching-over"
    assert _writers(harness) == [PRIMARY]
