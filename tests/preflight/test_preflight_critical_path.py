"""The deploy critical path on hand-built recordings."""

from __future__ import annotations

import pytest
from preflight_fakes import Builder, global_database

from preflight.critical_path import (
    DEFAULT_CREATE_SECONDS,
    TYPICAL_CREATE_SECONDS,
    DependencyCycleError,
    creation_seconds,
    critical_path,
    plan_dependencies,
)
from preflight.model import RecordedResource

T = TYPICAL_CREATE_SECONDS


def test_empty_recording_has_an_empty_path() -> None:
    path = critical_path([])
    assert path.total_seconds == 0
    assert path.steps == ()


def test_global_database_chain_is_the_path(builder: Builder) -> None:
    db = global_database(builder)
    table = builder.add("aws:dynamodb/table:Table", "carts", replicas=[{"regionName": "us-west-2"}])
    path = critical_path(builder.recording())

    assert path.urns == [db["global"], db["primary"], db["writer"], db["secondary"], db["replica"]]
    expected = (
        T["aws:rds/globalCluster:GlobalCluster"]
        + 2 * T["aws:rds/cluster:Cluster"]
        + 2 * T["aws:rds/clusterInstance:ClusterInstance"]
    )
    assert path.total_seconds == expected == 37 * 60
    assert [s.start for s in path.steps] == [0, 60, 540, 1140, 1620]
    assert [s.region for s in path.steps][-2:] == ["us-west-2", "us-west-2"]
    # off the path: the table starts at once, the reader overlaps the writer
    assert path.schedule[table].start == 0
    assert path.schedule[db["reader"]].start == path.schedule[db["writer"]].start


def test_longer_branch_wins_over_earlier_one(builder: Builder) -> None:
    key = builder.add("aws:kms/key:Key", "k")
    alias = builder.add("aws:kms/alias:Alias", "k-alias", deps=(key,))
    cache = builder.add("aws:elasticache/replicationGroup:ReplicationGroup", "cache", deps=(key,))
    path = critical_path(builder.recording())
    assert path.urns == [key, cache]
    assert (
        path.total_seconds
        == T["aws:kms/key:Key"] + T["aws:elasticache/replicationGroup:ReplicationGroup"]
    )
    assert path.schedule[alias].finish == T["aws:kms/key:Key"] + T["aws:kms/alias:Alias"]


def test_depending_on_a_component_waits_for_all_its_children(builder: Builder) -> None:
    keys = builder.add("securecart:keys:Keys", "keys", region=None)
    k1 = builder.add("aws:kms/key:Key", "k1", parent=keys)
    alias = builder.add("aws:kms/alias:Alias", "k1-alias", parent=keys, deps=(k1,))
    vpc = builder.add("aws:ec2/vpc:Vpc", "vpc-us-east-1")  # 15 s, longer than the keys' 12 s
    net = builder.add("securecart:network:Network", "net", region=None)
    sg = builder.add("aws:ec2/securityGroup:SecurityGroup", "sg", parent=net, deps=(vpc,))
    table = builder.add("aws:dynamodb/table:Table", "t", deps=(keys, net))

    path = critical_path(builder.recording())
    assert path.schedule[keys].finish == T["aws:kms/key:Key"] + T["aws:kms/alias:Alias"]
    assert path.schedule[net].finish == path.schedule[sg].finish == 20.0
    assert path.schedule[table].start == 20.0
    assert path.urns == [vpc, sg, table]
    assert plan_dependencies(builder.recording())[table] == {sg, k1, alias}


def test_a_components_dependency_holds_up_its_children(builder: Builder) -> None:
    db = builder.add("aws:rds/cluster:Cluster", "db")
    monitoring = builder.add("securecart:monitoring:Monitoring", "mon", region=None, deps=(db,))
    alarm = builder.add("aws:cloudwatch/metricAlarm:MetricAlarm", "cpu", parent=monitoring)

    path = critical_path(builder.recording())
    assert path.schedule[alarm].start == T["aws:rds/cluster:Cluster"]
    assert path.urns == [db, alarm]
    assert plan_dependencies(builder.recording())[alarm] == {db}


def test_components_and_providers_take_no_time(builder: Builder) -> None:
    component = builder.add("securecart:index:DataTier", "data", region=None)
    recording = builder.recording()
    provider = recording.resources[0]
    assert creation_seconds(provider) == 0
    assert creation_seconds(recording.get(component)) == 0
    assert critical_path(recording).total_seconds == 0


def test_durations_come_from_the_documented_table() -> None:
    def res(type_: str, **inputs: object) -> RecordedResource:
        return RecordedResource("urn:x", type_, "x", True, dict(inputs), None, None)

    assert creation_seconds(res("aws:rds/clusterInstance:ClusterInstance")) == 600
    assert creation_seconds(res("aws:rds/cluster:Cluster")) == 480
    assert creation_seconds(res("aws:rds/globalCluster:GlobalCluster")) == 60
    assert creation_seconds(res("aws:elasticache/replicationGroup:ReplicationGroup")) == 900
    assert (
        creation_seconds(res("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"))
        == 300
    )
    assert creation_seconds(res("aws:dynamodb/table:Table", replicas=[{"regionName": "x"}])) == 300
    assert creation_seconds(res("aws:dynamodb/table:Table")) < 60
    assert creation_seconds(res("aws:kms/alias:Alias")) == 2
    assert creation_seconds(res("aws:made/up:Thing")) == DEFAULT_CREATE_SECONDS == 5


def test_property_dependencies_and_providers_count(builder: Builder) -> None:
    key = builder.add("aws:kms/key:Key", "k")
    table = builder.add("aws:dynamodb/table:Table", "t")
    recording = builder.recording()
    index = next(i for i, r in enumerate(recording.resources) if r.urn == table)
    old = recording.resources[index]
    recording.resources[index] = RecordedResource(
        old.urn,
        old.type,
        old.name,
        old.custom,
        old.inputs,
        old.parent,
        old.provider,
        property_dependencies={"serverSideEncryption": (key,)},
    )
    path = critical_path(recording)
    assert path.schedule[table].start == T["aws:kms/key:Key"]
    # the provider is a dependency too (explicit provider reference "<urn>::<id>")
    assert plan_dependencies(recording)[table] == {key}


def test_duration_overrides(builder: Builder) -> None:
    a = builder.add("aws:kms/key:Key", "a")
    b = builder.add("aws:kms/alias:Alias", "b", deps=(a,))
    path = critical_path(builder.recording(), durations={"aws:kms/alias:Alias": 100.0})
    assert path.urns == [a, b]
    assert path.total_seconds == T["aws:kms/key:Key"] + 100


def test_cycles_are_reported(builder: Builder) -> None:
    a = builder.add("aws:kms/key:Key", "a")
    b = builder.add("aws:kms/alias:Alias", "b", deps=(a,))
    recording = builder.recording()
    index = next(i for i, r in enumerate(recording.resources) if r.urn == a)
    old = recording.resources[index]
    recording.resources[index] = RecordedResource(
        old.urn, old.type, old.name, old.custom, old.inputs, old.parent, old.provider, (b,)
    )
    with pytest.raises(DependencyCycleError, match="::a"):
        critical_path(recording)
