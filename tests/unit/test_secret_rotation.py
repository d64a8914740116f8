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
    """ElastiCache as the AUTH documentation describes it: ROTATE adds a token beside the
    current one, SET keeps only the given token and is allowed only after a ROTATE; a modified
    group is "modifying" until the next describe."""

    def __init__(self, initial: str) -> None:
        self.tokens = {initial}
        self.last_strategy: str | None = None
        self.status = "available"
        self.calls: list[tuple[str, str]] = []

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
        if self.status != "available":
            raise RuntimeError("InvalidReplicationGroupState: the group is modifying")
        if strategy == "SET":
            if self.last_strategy != "ROTATE":
                raise RuntimeError("InvalidParameterCombination: SET is allowed only after ROTATE")
            self.tokens = {token}
        elif strategy == "ROTATE":
            self.tokens.add(token)
        self.last_strategy = strategy
        self.status = "modifying"
        self.calls.append((strategy, token))
        return {}

    def describe_replication_groups(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs == {"ReplicationGroupId": "sc-cache-us-west-2"}
        status, self.status = self.status, "available"
        return {"ReplicationGroups": [{"Status": status}]}


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


def test_cache_rotation_never_leaves_the_current_token_unaccepted(moto_url: str) -> None:
    cache = StrictCache("initial-token-0123456789")
    clients = _factory(moto_url, cache)
    secrets = clients("secretsmanager", None)
    arn = secrets.create_secret(
        Name="rot-e/cache/auth-token",
        SecretString="initial-token-0123456789",
        Tags=[
            {"Key": rotation.KIND_TAG, "Value": rotation.CACHE},
            {"Key": rotation.TARGET_TAG, "Value": "ldgnf-sc-cache"},
        ],
    )["ARN"]
    seen: list[str] = []
    for _round in range(2):
        token = str(uuid.uuid4())
        for step in STEPS:
            rotation.handler(
                {"SecretId": arn, "ClientRequestToken": token, "Step": step}, None, clients
            )
            assert _current(secrets, arn) in cache.tokens, f"after {step}"
        seen.append(_current(secrets, arn))
    first, second = seen
    assert first.isalnum() and len(first) == 64 and first != second
    # round 1: ROTATE(first); round 2: SET(first) drops the initial token, then ROTATE(second)
    assert cache.calls == [("ROTATE", first), ("SET", first), ("ROTATE", second)]
    assert cache.tokens == {first, second}
