"""The rotation function (components/functions/secret_rotation.py), driven step by step as
Secrets Manager drives it, against moto's server on 127.0.0.1 (Secrets Manager, RDS) and a
strict ElastiCache stand-in for what moto lacks (global datastores, AUTH token updates).

What must hold: after every step, the credential the secret calls current is one the database
(or cache) accepts, so regenerating or rotating never leaves the two disagreeing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.backends import get_backend
from moto.server import ThreadedMotoServer

from components.functions import secret_rotation as rotation

ACCOUNT = "123456789012"
HOME, OTHER = "us-east-1", "us-west-2"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rotation, "POLL_SECONDS", 0.0)
    monkeypatch.setattr(rotation, "SETTLE_SECONDS", 5.0)


class StrictCache:
    """ElastiCache as the AUTH documentation describes it ("Modifying the AUTH token on an
    existing cluster"): ROTATE adds a token beside the current one and the next ROTATE drops the
    older of the two; SET keeps only the given token and is allowed only after a ROTATE. A
    change is applied asynchronously: the group stays "modifying" with
    ``PendingModifiedValues.AuthTokenStatus`` for ``apply_after`` describes, and the cache
    accepts the new token only then."""

    def __init__(self, initial: str, apply_after: int = 2) -> None:
        self.tokens = [initial]
        self.last_strategy: str | None = None
        self.apply_after = apply_after
        self.pending: tuple[str, str] | None = None
        self.countdown = 0
        self.calls: list[tuple[str, str]] = []
        self.describes = 0

    def describe_global_replication_groups(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs == {"GlobalReplicationGroupId": "ldgnf-sc-cache", "ShowMemberInfo": True}
        members = [
            {
                "ReplicationGroupId": "sc-cache-us-west-2",
                "ReplicationGroupRegion": OTHER,
                "Role": "PRIMARY",
            },
            {
                "ReplicationGroupId": "sc-cache-us-east-1",
                "ReplicationGroupRegion": HOME,
                "Role": "SECONDARY",
            },
        ]
        return {
            "GlobalReplicationGroups": [
                {"GlobalReplicationGroupId": "ldgnf-sc-cache", "Members": members}
            ]
        }

    def modify_replication_group(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs["ReplicationGroupId"] == "sc-cache-us-west-2", "only the PRIMARY is modified"
        assert kwargs["ApplyImmediately"] is True
        strategy, token = kwargs["AuthTokenUpdateStrategy"], kwargs["AuthToken"]
        if self.pending is not None:
            raise RuntimeError("InvalidReplicationGroupState: the group is modifying")
        if strategy == "SET" and self.last_strategy != "ROTATE":
            raise RuntimeError("InvalidParameterCombination: SET is allowed only after ROTATE")
        self.last_strategy = strategy
        self.pending, self.countdown = (strategy, token), self.apply_after
        self.calls.append((strategy, token))
        return {}

    def describe_replication_groups(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs == {"ReplicationGroupId": "sc-cache-us-west-2"}
        self.describes += 1
        if self.pending is not None and self.countdown == 0:
            strategy, token = self.pending
            self.tokens = [token] if strategy == "SET" else [*self.tokens[-1:], token]
            self.pending = None
        if self.pending is None:
            return {"ReplicationGroups": [{"Status": "available", "PendingModifiedValues": {}}]}
        self.countdown -= 1
        status = "SETTING" if self.pending[0] == "SET" else "ROTATING"
        return {
            "ReplicationGroups": [
                {"Status": "modifying", "PendingModifiedValues": {"AuthTokenStatus": status}}
            ]
        }


def _factory(url: str, cache: StrictCache | None = None) -> rotation.ClientFactory:
    def clients(service: str, region: str | None) -> Any:
        if service == "elasticache":
            assert cache is not None
            return cache
        return boto3.client(
            service,
            region_name=region or HOME,
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return clients


def _stages(secrets: Any, arn: str) -> dict[str, list[str]]:
    return dict(secrets.describe_secret(SecretId=arn)["VersionIdsToStages"])


def _current(secrets: Any, arn: str, stage: str = "AWSCURRENT") -> str:
    value: str = secrets.get_secret_value(SecretId=arn, VersionStage=stage)["SecretString"]
    return value


def _aurora(url: str, name: str) -> tuple[Any, str, str]:
    """A global cluster whose writer is in OTHER, and the master secret in HOME."""
    global_id = f"{name}-aurora"
    boto3_kwargs = {"endpoint_url": url, "aws_access_key_id": "t", "aws_secret_access_key": "t"}
    east, west = (boto3.client("rds", region_name=r, **boto3_kwargs) for r in (HOME, OTHER))
    east.create_global_cluster(
        GlobalClusterIdentifier=global_id, Engine="aurora-postgresql", EngineVersion="16.6"
    )
    west.create_db_cluster(
        DBClusterIdentifier=f"{name}-{OTHER}",
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        MasterUsername="securecart_admin",
        MasterUserPassword="initial-password-0123",
        GlobalClusterIdentifier=global_id,
    )
    east.create_db_cluster(
        DBClusterIdentifier=f"{name}-{HOME}",
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        GlobalClusterIdentifier=global_id,
    )
    # moto keeps no password for a global-database member; AWS keeps the one it was created with
    _cluster(f"{name}-{OTHER}").master_user_password = "initial-password-0123"
    secrets = _factory(url)("secretsmanager", None)
    document = {"username": "securecart_admin", "password": "initial-password-0123", "port": 5432}
    arn = secrets.create_secret(
        Name=f"{name}/aurora/master",
        SecretString=json.dumps(document),
        Tags=[
            {"Key": rotation.KIND_TAG, "Value": rotation.AURORA},
            {"Key": rotation.TARGET_TAG, "Value": global_id},
        ],
    )["ARN"]
    return secrets, arn, f"{name}-{OTHER}"


def _cluster(identifier: str, region: str = OTHER) -> Any:
    return get_backend("rds")[ACCOUNT][region].clusters[identifier]


def _db_password(identifier: str, region: str = OTHER) -> str:
    """The master password the emulated database holds now."""
    password: str = _cluster(identifier, region)._master_user_password
    return password


def test_aurora_rotation_changes_the_writer_and_the_secret_together(moto_url: str) -> None:
    secrets, arn, writer = _aurora(moto_url, "rot-a")
    token = str(uuid.uuid4())
    clients = _factory(moto_url)
    for step in STEPS:
        rotation.handler(
            {"SecretId": arn, "ClientRequestToken": token, "Step": step}, None, clients
        )
        current = json.loads(_current(secrets, arn))["password"]
        if step in ("createSecret",):
            # the new value waits as AWSPENDING; database and secret still agree on the old one
            assert current == _db_password(writer) == "initial-password-0123"
            pending = json.loads(_current(secrets, arn, "AWSPENDING"))["password"]
            assert pending != current and len(pending) == 32
            assert not set(pending) & set("/@\"' \\`")
    rotated = json.loads(_current(secrets, arn))
    assert rotated["password"] == _db_password(writer) != "initial-password-0123"
    assert {k: v for k, v in rotated.items() if k != "password"} == {
        "username": "securecart_admin",
        "port": 5432,
    }
    previous = json.loads(_current(secrets, arn, "AWSPREVIOUS"))["password"]
    assert previous == "initial-password-0123"
    assert "AWSCURRENT" in _stages(secrets, arn)[token]


def test_a_retried_create_keeps_its_first_value(moto_url: str) -> None:
    secrets, arn, _writer = _aurora(moto_url, "rot-b")
    token = str(uuid.uuid4())
    clients = _factory(moto_url)
    event = {"SecretId": arn, "ClientRequestToken": token, "Step": "createSecret"}
    rotation.handler(event, None, clients)
    first = _current(secrets, arn, "AWSPENDING")
    rotation.handler(event, None, clients)
    assert _current(secrets, arn, "AWSPENDING") == first


def test_a_rotation_that_cannot_find_one_writer_changes_nothing(moto_url: str) -> None:
    secrets, arn, writer = _aurora(moto_url, "rot-c")
    # in the middle of a failover, no member of the global cluster is the writer
    _cluster(writer).is_writer = False
    token = str(uuid.uuid4())
    clients = _factory(moto_url)
    rotation.handler(
        {"SecretId": arn, "ClientRequestToken": token, "Step": "createSecret"}, None, clients
    )
    with pytest.raises(rotation.RotationError, match="0 writers"):
        rotation.handler(
            {"SecretId": arn, "ClientRequestToken": token, "Step": "setSecret"}, None, clients
        )
    assert json.loads(_current(secrets, arn))["password"] == _db_password(writer)


def test_steps_refuse_a_version_that_is_not_pending(moto_url: str) -> None:
    _secrets, arn, _writer = _aurora(moto_url, "rot-d")
    with pytest.raises(rotation.RotationError, match="is not AWSPENDING"):
        rotation.handler(
            {"SecretId": arn, "ClientRequestToken": str(uuid.uuid4()), "Step": "setSecret"},
            None,
            _factory(moto_url),
        )


def test_a_secret_without_rotation_tags_is_refused(moto_url: str) -> None:
    secrets = _factory(moto_url)("secretsmanager", None)
    arn = secrets.create_secret(Name="untagged", SecretString="x" * 20)["ARN"]
    with pytest.raises(rotation.RotationError, match="RotationKind/RotationTarget"):
        rotation.handler(
            {"SecretId": arn, "ClientRequestToken": str(uuid.uuid4()), "Step": "createSecret"},
            None,
            _factory(moto_url),
        )


def _cache_secret(clients: rotation.ClientFactory, name: str) -> tuple[Any, str]:
    secrets = clients("secretsmanager", None)
    arn = secrets.create_secret(
        Name=f"{name}/cache/auth-token",
        SecretString="initial-token-0123456789",
        Tags=[
            {"Key": rotation.KIND_TAG, "Value": rotation.CACHE},
            {"Key": rotation.TARGET_TAG, "Value": "ldgnf-sc-cache"},
        ],
    )["ARN"]
    return secrets, arn


def _step(clients: rotation.ClientFactory, arn: str, token: str, step: str) -> None:
    rotation.handler({"SecretId": arn, "ClientRequestToken": token, "Step": step}, None, clients)


def test_cache_rotation_never_leaves_the_current_token_unaccepted(moto_url: str) -> None:
    cache = StrictCache("initial-token-0123456789", apply_after=3)
    clients = _factory(moto_url, cache)
    secrets, arn = _cache_secret(clients, "rot-e")
    seen: list[str] = []
    for _round in range(2):
        token = str(uuid.uuid4())
        before = _current(secrets, arn)
        for step in STEPS:
            _step(clients, arn, token, step)
            # clients reading AWSCURRENT, and those still holding the token before it, get in
            assert _current(secrets, arn) in cache.tokens, f"after {step}"
            assert before in cache.tokens, f"after {step}"
            if step == "setSecret":
                # accepted, not applied yet: AWSCURRENT must not move before the cache has it
                assert cache.pending is not None and _current(secrets, arn) == before
            if step == "testSecret":
                assert cache.pending is None, "testSecret returned before the token applied"
        seen.append(_current(secrets, arn))
    first, second = seen
    assert first.isalnum() and len(first) == 64 and first != second
    # ROTATE alone: round 2's ROTATE drops the initial token and keeps the first rotated one
    assert cache.calls == [("ROTATE", first), ("ROTATE", second)]
    assert cache.tokens == [first, second]
    assert _current(secrets, arn, "AWSPREVIOUS") == first


def test_a_retried_cache_set_does_not_rotate_twice(moto_url: str) -> None:
    """A second ROTATE of the same token would leave only the new token: clients on the current
    one would be locked out before finishSecret tells them about the new one."""
    cache = StrictCache("initial-token-0123456789", apply_after=1)
    clients = _factory(moto_url, cache)
    secrets, arn = _cache_secret(clients, "rot-f")
    token = str(uuid.uuid4())
    _step(clients, arn, token, "createSecret")
    _step(clients, arn, token, "setSecret")
    _step(clients, arn, token, "setSecret")  # Secrets Manager retries the step
    assert [c[0] for c in cache.calls] == ["ROTATE"]
    assert rotation.TOKEN_APPLIED in _stages(secrets, arn)[token]
    for step in ("testSecret", "finishSecret"):
        _step(clients, arn, token, step)
    assert cache.tokens == ["initial-token-0123456789", _current(secrets, arn)]


def test_finish_waits_for_the_token_and_refuses_when_it_never_applies(
    moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rotation, "SETTLE_SECONDS", 0.2)
    cache = StrictCache("initial-token-0123456789", apply_after=10**9)
    clients = _factory(moto_url, cache)
    secrets, arn = _cache_secret(clients, "rot-g")
    token = str(uuid.uuid4())
    _step(clients, arn, token, "createSecret")
    _step(clients, arn, token, "setSecret")
    for step in ("testSecret", "finishSecret"):
        with pytest.raises(rotation.RotationError, match="did not settle"):
            _step(clients, arn, token, step)
    # AWSCURRENT stays on the token the cache accepts; Secrets Manager retries later
    assert _current(secrets, arn) == "initial-token-0123456789"
    assert cache.describes > 2


def test_the_cache_calls_match_the_elasticache_api(moto_url: str) -> None:
    """The same decisions against botocore's own ElastiCache model (Stubber validates every
    request and response shape): ROTATE on the PRIMARY, then describes until the group is
    available with no AuthTokenStatus pending."""
    from botocore.stub import Stubber

    cache = boto3.client(
        "elasticache", region_name=OTHER, aws_access_key_id="t", aws_secret_access_key="t"
    )
    stub = Stubber(cache)
    members = [
        {
            "ReplicationGroupId": "sc-cache-us-west-2",
            "ReplicationGroupRegion": OTHER,
            "Role": "PRIMARY",
        },
        {
            "ReplicationGroupId": "sc-cache-us-east-1",
            "ReplicationGroupRegion": HOME,
            "Role": "SECONDARY",
        },
    ]
    described = {
        "GlobalReplicationGroups": [
            {"GlobalReplicationGroupId": "ldgnf-sc-cache", "Members": members}
        ]
    }
    lookup = {"GlobalReplicationGroupId": "ldgnf-sc-cache", "ShowMemberInfo": True}
    group = {"ReplicationGroupId": "sc-cache-us-west-2"}

    def status(state: str, pending: dict[str, str]) -> dict[str, Any]:
        return {
            "ReplicationGroups": [
                {
                    "ReplicationGroupId": "sc-cache-us-west-2",
                    "Status": state,
                    "PendingModifiedValues": pending,
                }
            ]
        }

    secrets_clients = _factory(moto_url)
    secrets, arn = _cache_secret(secrets_clients, "rot-h")
    token = str(uuid.uuid4())
    _step(secrets_clients, arn, token, "createSecret")
    pending = _current(secrets, arn, "AWSPENDING")
    # setSecret: settle first, then ROTATE
    stub.add_response("describe_global_replication_groups", described, lookup)
    stub.add_response("describe_global_replication_groups", described, lookup)
    stub.add_response("describe_replication_groups", status("available", {}), group)
    stub.add_response(
        "modify_replication_group",
        {},
        {
            **group,
            "AuthToken": pending,
            "AuthTokenUpdateStrategy": "ROTATE",
            "ApplyImmediately": True,
        },
    )
    # testSecret: right after the call the group can still read "available" with the token
    # change pending; then modifying; then modifying with nothing pending; then available.
    for state, values in (
        ("available", {"AuthTokenStatus": "ROTATING"}),
        ("modifying", {"AuthTokenStatus": "ROTATING"}),
        ("modifying", {}),
        ("available", {}),
    ):
        stub.add_response("describe_global_replication_groups", described, lookup)
        stub.add_response("describe_replication_groups", status(state, values), group)

    def clients(service: str, region: str | None) -> Any:
        return cache if service == "elasticache" else secrets_clients(service, region)

    with stub:
        _step(clients, arn, token, "setSecret")
        _step(clients, arn, token, "testSecret")
        stub.assert_no_pending_responses()


def _payments(url: str, name: str) -> tuple[Any, str, str, str]:
    """A source instance in HOME, its read replica in OTHER, the master secret in HOME."""
    kwargs = {"endpoint_url": url, "aws_access_key_id": "t", "aws_secret_access_key": "t"}
    east, west = (boto3.client("rds", region_name=r, **kwargs) for r in (HOME, OTHER))
    source = f"{name}-payments-{HOME}"
    replica = f"{name}-payments-{OTHER}"
    arn = east.create_db_instance(
        DBInstanceIdentifier=source,
        Engine="postgres",
        DBInstanceClass="db.r6g.large",
        AllocatedStorage=100,
        MasterUsername="payments_admin",
        MasterUserPassword="initial-password-0123",
    )["DBInstance"]["DBInstanceArn"]
    west.create_db_instance_read_replica(
        DBInstanceIdentifier=replica, SourceDBInstanceIdentifier=arn
    )
    secrets = _factory(url)("secretsmanager", None)
    document = {"username": "payments_admin", "password": "initial-password-0123", "port": 5432}
    secret_arn = secrets.create_secret(
        Name=f"{name}/payments/master",
        SecretString=json.dumps(document),
        Tags=[
            {"Key": rotation.KIND_TAG, "Value": rotation.RDS_INSTANCE},
            {"Key": rotation.TARGET_TAG, "Value": f"{source}@{HOME} {replica}@{OTHER}"},
        ],
    )["ARN"]
    return secrets, secret_arn, source, replica


def _instance_password(identifier: str, region: str) -> str:
    password: str = get_backend("rds")[ACCOUNT][region].databases[identifier]._master_user_password
    return password


def test_payments_rotation_changes_the_source_not_the_replica(moto_url: str) -> None:
    secrets, arn, source, _replica = _payments(moto_url, "rot-p")
    token = str(uuid.uuid4())
    for step in STEPS:
        rotation.handler(
            {"SecretId": arn, "ClientRequestToken": token, "Step": step},
            None,
            _factory(moto_url),
        )
    rotated = json.loads(_current(secrets, arn))["password"]
    assert rotated == _instance_password(source, HOME) != "initial-password-0123"
    assert json.loads(_current(secrets, arn, "AWSPREVIOUS"))["password"] == "initial-password-0123"


def test_payments_rotation_refuses_when_both_instances_write(moto_url: str) -> None:
    secrets, arn, source, replica = _payments(moto_url, "rot-q")
    boto3.client(
        "rds",
        region_name=OTHER,
        endpoint_url=moto_url,
        aws_access_key_id="t",
        aws_secret_access_key="t",
    ).promote_read_replica(DBInstanceIdentifier=replica)
    # AWS clears ReadReplicaSourceDBInstanceIdentifier on promotion; moto keeps it.
    get_backend("rds")[ACCOUNT][OTHER].databases[replica].source_db_instance_identifier = None
    token = str(uuid.uuid4())
    clients = _factory(moto_url)
    rotation.handler(
        {"SecretId": arn, "ClientRequestToken": token, "Step": "createSecret"}, None, clients
    )
    with pytest.raises(rotation.RotationError, match="2 writers"):
        rotation.handler(
            {"SecretId": arn, "ClientRequestToken": token, "Step": "setSecret"}, None, clients
        )
    assert _instance_password(source, HOME) == "initial-password-0123"
    assert json.loads(_current(secrets, arn))["password"] == "initial-password-0123"
