"""Secrets Manager rotation function for the data tier's two credentials.

AWS offers no managed rotation for either: RDS-managed master passwords are not available for
clusters in an Aurora global database (Aurora User Guide, "Password management with Amazon
Aurora and AWS Secrets Manager", Limitations), and ElastiCache's Secrets Manager integration
rotates RBAC user passwords, not AUTH tokens. So this function runs Secrets Manager's four-step
protocol (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html)
and changes the credential through the control plane, in the region of the current writer:

* ``aurora-global-cluster``: ``ModifyDBCluster(MasterUserPassword=..., ApplyImmediately)`` on the
  global cluster's writer member; readers in the other region share the storage and the users.
* ``cache-global-datastore``: ``ModifyReplicationGroup(AuthToken=..., AuthTokenUpdateStrategy=
  ROTATE)`` on the datastore's PRIMARY member, and nothing else: ROTATE adds the new token while
  the current one stays valid, and the next ROTATE drops the older of the two, so the token the
  secret calls current (and, until the next rotation, the one before it) is always accepted
  (ElastiCache, "Modifying the AUTH token on an existing cluster"). A token change is applied
  asynchronously: ``testSecret`` and ``finishSecret`` wait until the group is ``available`` with
  no ``PendingModifiedValues.AuthTokenStatus``, so ``AWSCURRENT`` never names a token the cache
  does not accept yet. A retried ``setSecret`` does not ROTATE twice (a second ROTATE of the same
  token would drop the current one): the version carries the ``TOKEN_APPLIED`` label once its
  ROTATE was accepted.

The secret and the credential never disagree for the cache. For Aurora the single-user strategy
leaves one window, documented in docs/components.md ("Rotating the credentials"): from the moment
the writer applies the new password until ``finishSecret`` (seconds; bounded by
``SETTLE_SECONDS``), ``AWSCURRENT`` still holds the old password, which new connections can no
longer use; open connections are unaffected. AWS's alternating-users strategy would avoid it, but
it needs the function to log in to the database (inside the VPC, whose private subnets have no
route to the Secrets Manager API) and a second user with the master user's rights; the master
user is what is rotated here. The new value is only ``AWSPENDING`` until the database (or cache)
has accepted it and settled, and a failed step leaves ``AWSCURRENT`` untouched for Secrets
Manager to retry. What to rotate comes from the secret's tags (``RotationKind``,
``RotationTarget``), so one function needs no environment.

Runs on the Lambda Python runtime (boto3 is provided); it imports nothing from the project.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

KIND_TAG = "RotationKind"
TARGET_TAG = "RotationTarget"
AURORA = "aurora-global-cluster"
CACHE = "cache-global-datastore"
RDS_INSTANCE = "rds-instance-pair"
"""The payments database: target ``<id>@<region> <id>@<region>`` (source and cross-region
replica); the writer is whichever of them is not a read replica."""
# RDS master passwords may not contain '/', '@', '"' or spaces; AUTH tokens allow only
# printable characters from a small set, so the cache gets letters and digits.
_EXCLUDED = {AURORA: "/@\"' \\`", CACHE: "", RDS_INSTANCE: "/@\"' \\`"}
_LENGTH = {AURORA: 32, CACHE: 64, RDS_INSTANCE: 32}
SETTLE_SECONDS = 240.0
POLL_SECONDS = 10.0
TOKEN_APPLIED = "SC_TOKEN_APPLIED"
"""Staging label on the version whose AUTH token ROTATE the cache accepted (one per secret)."""

Client = Any
ClientFactory = Callable[[str, str | None], Client]
"""(service, region or None for the function's own region) -> boto3 client."""


class RotationError(RuntimeError):
    """A step cannot proceed; Secrets Manager records the failure and retries the rotation."""


def _boto3_client(service: str, region: str | None) -> Client:
    import boto3  # the Lambda runtime provides it; the Pulumi program only reads this file's name

    return boto3.client(service, region_name=region) if region else boto3.client(service)


def handler(
    event: dict[str, Any], _context: Any = None, clients: ClientFactory = _boto3_client
) -> None:
    """Lambda entry point: ``{"SecretId", "ClientRequestToken", "Step"}`` from Secrets Manager."""
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    secrets = clients("secretsmanager", None)
    metadata = secrets.describe_secret(SecretId=arn)
    tags = {t["Key"]: t["Value"] for t in metadata.get("Tags", [])}
    kind, target = tags.get(KIND_TAG), tags.get(TARGET_TAG)
    if kind not in (AURORA, CACHE, RDS_INSTANCE) or not target:
        raise RotationError(f"secret {arn} has no {KIND_TAG}/{TARGET_TAG} tags this function knows")
    stages = metadata.get("VersionIdsToStages", {})
    if "AWSCURRENT" in stages.get(token, []):
        return  # this version is already current: a retried finishSecret
    if step != "createSecret" and "AWSPENDING" not in stages.get(token, []):
        raise RotationError(f"version {token} of {arn} is not AWSPENDING")
    steps = {
        "createSecret": _create,
        "setSecret": _set,
        "testSecret": _test,
        "finishSecret": _finish,
    }
    if step not in steps:
        raise RotationError(f"unknown rotation step {step!r}")
    steps[step](secrets, clients, arn, token, kind, target, stages)


def _value(secrets: Client, arn: str, stage: str, token: str | None = None) -> str:
    kwargs: dict[str, Any] = {"SecretId": arn}
    if token is not None:
        kwargs["VersionId"] = token
    kwargs["VersionStage"] = stage
    text: str = secrets.get_secret_value(**kwargs)["SecretString"]
    return text


def _credential(kind: str, secret_string: str) -> str:
    """The password inside the secret: a JSON document for Aurora, the token itself for the cache."""
    if kind in (AURORA, RDS_INSTANCE):
        password: str = json.loads(secret_string)["password"]
        return password
    return secret_string


def _create(
    secrets: Client,
    _clients: ClientFactory,
    arn: str,
    token: str,
    kind: str,
    _target: str,
    _stages: dict[str, list[str]],
) -> None:
    """Store a new credential as AWSPENDING (once per token: a retry keeps the first one)."""
    current = _value(secrets, arn, "AWSCURRENT")
    try:
        _value(secrets, arn, "AWSPENDING", token)
        return
    except secrets.exceptions.ResourceNotFoundException:
        pass
    new = secrets.get_random_password(
        PasswordLength=_LENGTH[kind],
        ExcludeCharacters=_EXCLUDED[kind],
        ExcludePunctuation=kind == CACHE,
        RequireEachIncludedType=True,
    )["RandomPassword"]
    if kind in (AURORA, RDS_INSTANCE):
        document = json.loads(current)
        document["password"] = new
        value = json.dumps(document, sort_keys=True)
    else:
        value = new
    secrets.put_secret_value(
        SecretId=arn, ClientRequestToken=token, SecretString=value, VersionStages=["AWSPENDING"]
    )


def _region_of(arn: str) -> str:
    return arn.split(":")[3]


def _identifier(cluster_arn: str) -> str:
    """``arn:aws:rds:<region>:<account>:cluster:<id>`` -> ``<id>`` (what ModifyDBCluster takes)."""
    return cluster_arn.rsplit(":", 1)[-1]


def _aurora_writer(clients: ClientFactory, global_id: str) -> tuple[str, str]:
    """(region, cluster ARN) of the global cluster's current writer."""
    described = clients("rds", None).describe_global_clusters(GlobalClusterIdentifier=global_id)
    found = [
        g for g in described["GlobalClusters"] if g.get("GlobalClusterIdentifier") == global_id
    ]
    if not found:
        raise RotationError(f"global cluster {global_id} not found")
    members = found[0].get("GlobalClusterMembers", [])
    writers = [m["DBClusterArn"] for m in members if m.get("IsWriter")]
    if len(writers) != 1:
        raise RotationError(f"global cluster {global_id} has {len(writers)} writers, not one")
    return _region_of(writers[0]), writers[0]


def _rds_writer(clients: ClientFactory, target: str) -> tuple[str, str]:
    """(region, identifier) of the one instance of ``target`` that is not a read replica.

    After a promotion both may be standalone: then there is no single writer and the rotation
    waits for the operator (the drill rebuilds the replica), rather than guess."""
    writers = []
    for member in target.split():
        identifier, _, region = member.partition("@")
        rds = clients("rds", region)
        try:
            found = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
        except rds.exceptions.DBInstanceNotFoundFault:
            continue
        if found and not found[0].get("ReadReplicaSourceDBInstanceIdentifier"):
            writers.append((region, identifier))
    if len(writers) != 1:
        raise RotationError(f"{target} has {len(writers)} writers, not one")
    return writers[0]


def _cache_primary(clients: ClientFactory, global_id: str) -> tuple[str, str]:
    """(region, replication group id) of the global datastore's PRIMARY member."""
    described = clients("elasticache", None).describe_global_replication_groups(
        GlobalReplicationGroupId=global_id, ShowMemberInfo=True
    )
    found = [
        g
        for g in described["GlobalReplicationGroups"]
        if g.get("GlobalReplicationGroupId", global_id) == global_id
    ]
    if not found:
        raise RotationError(f"global datastore {global_id} not found")
    members = found[0].get("Members", [])
    primaries = [m for m in members if m.get("Role") == "PRIMARY"]
    if len(primaries) != 1:
        raise RotationError(f"global datastore {global_id} has {len(primaries)} primaries")
    return primaries[0]["ReplicationGroupRegion"], primaries[0]["ReplicationGroupId"]


def _set(
    secrets: Client,
    clients: ClientFactory,
    arn: str,
    token: str,
    kind: str,
    target: str,
    stages: dict[str, list[str]],
) -> None:
    """Give the database (or cache) the pending credential; the current one keeps working for
    the cache (ROTATE), and for Aurora until this call returns."""
    pending = _credential(kind, _value(secrets, arn, "AWSPENDING", token))
    if kind == AURORA:
        region, cluster = _aurora_writer(clients, target)
        clients("rds", region).modify_db_cluster(
            DBClusterIdentifier=_identifier(cluster),
            MasterUserPassword=pending,
            ApplyImmediately=True,
        )
        return
    if kind == RDS_INSTANCE:
        region, identifier = _rds_writer(clients, target)
        clients("rds", region).modify_db_instance(
            DBInstanceIdentifier=identifier, MasterUserPassword=pending, ApplyImmediately=True
        )
        return
    if TOKEN_APPLIED in stages.get(token, []):
        return  # a retried setSecret: a second ROTATE would drop the current token
    region, group = _cache_primary(clients, target)
    # A change still being applied refuses another one (InvalidReplicationGroupState).
    _settle(clients, kind, target)
    clients("elasticache", region).modify_replication_group(
        ReplicationGroupId=group,
        AuthToken=pending,
        AuthTokenUpdateStrategy="ROTATE",
        ApplyImmediately=True,
    )
    holder = next((v for v, labels in stages.items() if TOKEN_APPLIED in labels), None)
    secrets.update_secret_version_stage(
        SecretId=arn,
        VersionStage=TOKEN_APPLIED,
        MoveToVersionId=token,
        **({"RemoveFromVersionId": holder} if holder else {}),
    )


def _settled(clients: ClientFactory, kind: str, target: str) -> bool:
    if kind == AURORA:
        region, cluster = _aurora_writer(clients, target)
        found = clients("rds", region).describe_db_clusters(
            DBClusterIdentifier=_identifier(cluster)
        )
        info = found["DBClusters"][0]
        pending = info.get("PendingModifiedValues", {})
        return bool(info.get("Status") == "available" and "MasterUserPassword" not in pending)
    if kind == RDS_INSTANCE:
        region, identifier = _rds_writer(clients, target)
        found = clients("rds", region).describe_db_instances(DBInstanceIdentifier=identifier)
        info = found["DBInstances"][0]
        pending = info.get("PendingModifiedValues", {})
        return bool(
            info.get("DBInstanceStatus") == "available" and "MasterUserPassword" not in pending
        )
    region, group = _cache_primary(clients, target)
    found = clients("elasticache", region).describe_replication_groups(ReplicationGroupId=group)
    info = found["ReplicationGroups"][0]
    pending = info.get("PendingModifiedValues", {})
    return bool(info.get("Status") == "available" and "AuthTokenStatus" not in pending)


def _settle(clients: ClientFactory, kind: str, target: str) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while not _settled(clients, kind, target):
        if time.monotonic() > deadline:
            raise RotationError(f"{target} did not settle within {SETTLE_SECONDS:g} s")
        time.sleep(POLL_SECONDS)


def _test(
    _secrets: Client,
    clients: ClientFactory,
    _arn: str,
    _token: str,
    kind: str,
    target: str,
    _stages: dict[str, list[str]],
) -> None:
    """The change has been applied (no pending password change, the cache available again).
    Logging in would need the function inside the VPC; the control plane's state is the test."""
    _settle(clients, kind, target)


def _finish(
    secrets: Client,
    clients: ClientFactory,
    arn: str,
    token: str,
    kind: str,
    target: str,
    stages: dict[str, list[str]],
) -> None:
    """Make the pending version current (the old one becomes AWSPREVIOUS), once the change is
    applied: never name a credential the database (or cache) does not accept yet."""
    _settle(clients, kind, target)
    current = next((v for v, labels in stages.items() if "AWSCURRENT" in labels), None)
    secrets.update_secret_version_stage(
        SecretId=arn,
        VersionStage="AWSCURRENT",
        MoveToVersionId=token,
        **({"RemoveFromVersionId": current} if current else {}),
    )
