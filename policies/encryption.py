"""Encryption and access: data at rest under customer-managed keys, data in transit, who may connect.

Covers what AWSGuard (RDS instances only) and Checkov miss for this tier: Aurora clusters and
their global cluster, DynamoDB replicas, the cache global datastore, and master credentials that
must never be literals.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import Severity

from policies import resource_types as t
from policies._keys import cmk_problems, home_region
from policies._rule import Config, Finding, Param, Rule
from policies._values import (
    UNKNOWN,
    Res,
    StackView,
    as_bool,
    dig,
    known_str,
    list_items,
    problem,
    require_not_false,
    require_not_true,
    require_true,
    show,
)

CONCERN = "encryption"


def _cache_secondary(res: Res) -> bool:
    """A replication group that joins a global datastore inherits its security settings."""
    return res.has("globalReplicationGroupId")


# --- Aurora / RDS ------------------------------------------------------------------------------


def _storage_encrypted(res: Res, _cfg: Config) -> Iterator[str]:
    if res.get("engineMode") == "serverless":
        return  # Aurora Serverless v1 storage is always encrypted, whatever the flag says
    yield from require_true(
        res, "storageEncrypted", "set storage_encrypted=True (needs a replacement)"
    )


def _cmk(res: Res, _cfg: Config) -> Iterator[str]:
    yield from cmk_problems(
        res,
        "kmsKeyId",
        res.get("kmsKeyId"),
        home_region(res),
        fix="set kms_key_id to the region's CMK ARN",
        absent="is not set (the AWS-managed aws/rds key)",
    )


def _global_cluster_encrypted(res: Res, _cfg: Config) -> Iterator[str]:
    # With a source cluster, the global cluster takes its encryption from that cluster (checked
    # by rds-storage-encrypted); otherwise storage_encrypted defaults to false.
    if res.get("storageEncrypted") is None and res.has("sourceDbClusterIdentifier"):
        return
    yield from require_true(
        res, "storageEncrypted", "set storage_encrypted=True on the global cluster"
    )


def _pi_encrypted(res: Res, _cfg: Config) -> Iterator[str]:
    if as_bool(res.get("performanceInsightsEnabled")) is True:
        yield from cmk_problems(
            res,
            "performanceInsightsKmsKeyId",
            res.get("performanceInsightsKmsKeyId"),
            home_region(res),
            fix="set performance_insights_kms_key_id to the region's CMK ARN",
            absent="is not set (the AWS-managed aws/rds key)",
        )


def _iam_auth(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_true(
        res, "iamDatabaseAuthenticationEnabled", "set iam_database_authentication_enabled=True"
    )


def _not_public(res: Res, _cfg: Config) -> Iterator[str]:
    yield from require_not_true(res, "publiclyAccessible", "set publicly_accessible=False")


def _ca_certificate(res: Res, cfg: Config) -> Iterator[str]:
    prop = "caCertificateIdentifier" if res.type == t.RDS_CLUSTER else "caCertIdentifier"
    value = known_str(res.get(prop))
    allowed = list(cfg["allowed"])
    if value is not None and value not in allowed:
        yield problem(res, prop, f"is {show(value)}", f"use one of {', '.join(allowed)}")


_SSL_PARAMETERS = {"postgres": ("rds.force_ssl", "1"), "mysql": ("require_secure_transport", "ON")}


def _force_ssl(res: Res, _cfg: Config) -> Iterator[str]:
    if res.type == t.RDS_CLUSTER:
        name = res.get("dbClusterParameterGroupName")
        if name is None or (isinstance(name, str) and name.startswith("default.")):
            yield problem(
                res,
                "dbClusterParameterGroupName",
                f"is {show(name)} (the default group does not force TLS)",
                "attach a cluster parameter group that sets rds.force_ssl=1",
            )
        return
    family = res.get("family")
    if not isinstance(family, str):
        return
    engine = "postgres" if "postgres" in family else "mysql" if "mysql" in family else None
    if engine is None:
        return
    param, wanted = _SSL_PARAMETERS[engine]
    parameters = res.get("parameters")
    if parameters is UNKNOWN:
        return
    for item in list_items(parameters):
        if dig(item, "name") == param:
            value = dig(item, "value")
            if value is UNKNOWN or str(value).upper() in (wanted, "1", "ON", "TRUE"):
                return
            yield problem(res, f"parameters[{param}]", f"is {show(value)}", f"set {param}={wanted}")
            return
    yield problem(
        res, "parameters", f"does not set {param}", f"add {{name: {param}, value: {wanted}}}"
    )


def _master_password(stack: StackView, _cfg: Config) -> Iterator[Finding]:
    generated = {r.urn for r in stack.of_type(t.RANDOM_PASSWORD)}
    # AWS refuses a read replica of an instance whose master password Secrets Manager manages
    # (RDS User Guide, "Password management with Amazon RDS and AWS Secrets Manager",
    # Limitations), so a replicated instance is held to the global members' standard.
    replicas = [r for r in stack.of_type(t.RDS_INSTANCE) if r.has("replicateSourceDb")]
    replicated = {urn for replica in replicas for urn in replica.sources("replicateSourceDb")}
    # ... or by the source's identifier or ARN (``arn:aws:rds:<region>:<account>:db:<id>``).
    replicated_ids = {
        str(value).rsplit(":", 1)[-1]
        for replica in replicas
        if isinstance(value := replica.get("replicateSourceDb"), str)
    }
    for res in stack.of_type(t.RDS_CLUSTER, t.RDS_INSTANCE):
        base = "masterPassword" if res.type == t.RDS_CLUSTER else "password"
        global_member = (res.type == t.RDS_CLUSTER and res.has("globalClusterIdentifier")) or (
            res.type == t.RDS_INSTANCE
            and (res.urn in replicated or known_str(res.get("identifier")) in replicated_ids)
        )
        for prop in (base, f"{base}Wo"):
            if not res.has(prop):
                continue
            if not global_member:
                yield (
                    problem(
                        res,
                        prop,
                        "is passed although AWS can manage this password",
                        "drop it and set manage_master_user_password=True (Secrets Manager)",
                    ),
                    res.urn,
                )
                continue
            sources = res.sources(prop)
            if sources & generated or (res.get(prop) is UNKNOWN and not sources):
                continue  # generated, or only known after the update
            named = sorted(stack.by_urn[u].label for u in sources if u in stack.by_urn)
            origin = f"comes from {', '.join(named)}" if named else "is a literal"
            yield (
                problem(
                    res,
                    prop,
                    f"{origin}, not from a {t.RANDOM_PASSWORD} (global members cannot use managed passwords)",
                    "generate it with random.RandomPassword and store it in a replicated Secrets Manager secret",
                ),
                res.urn,
            )


# --- DynamoDB ----------------------------------------------------------------------------------


def _table_cmk(res: Res, _cfg: Config) -> Iterator[str]:
    sse = res.get("serverSideEncryption")
    if sse is UNKNOWN:
        return
    if sse is None:
        yield problem(
            res,
            "serverSideEncryption",
            "is not set (AWS-owned key)",
            "set server_side_encryption={enabled: True, kms_key_arn: <CMK ARN>}",
        )
        return
    yield from require_true(
        res, "serverSideEncryption.enabled", "set server_side_encryption.enabled=True"
    )
    yield from cmk_problems(
        res,
        "serverSideEncryption.kmsKeyArn",
        res.get("serverSideEncryption.kmsKeyArn"),
        home_region(res),
        fix="set server_side_encryption.kms_key_arn to the table region's CMK",
        absent="is not set (the AWS-managed aws/dynamodb key)",
    )


def _replica_cmk(res: Res, _cfg: Config) -> Iterator[str]:
    if res.type == t.DYNAMODB_TABLE_REPLICA:
        yield from cmk_problems(
            res,
            "kmsKeyArn",
            res.get("kmsKeyArn"),
            home_region(res),
            fix="set kms_key_arn to the replica region's CMK",
            absent="is not set (the AWS-managed aws/dynamodb key)",
        )
        return
    for index, replica in enumerate(list_items(res.get("replicas"))):
        if replica is UNKNOWN:
            continue
        region = dig(replica, "regionName")
        yield from cmk_problems(
            res,
            f"replicas[{index}].kmsKeyArn",
            dig(replica, "kmsKeyArn"),
            known_str(region),
            fix="set kms_key_arn to the CMK (replica key) in that region",
            absent=f"is not set for the replica in {show(region)} (the AWS-managed key)",
        )


# --- ElastiCache -------------------------------------------------------------------------------


def _cache_flag(res: Res, prop: str, fix: str, *, default: bool) -> Iterator[str]:
    if _cache_secondary(res):
        yield from require_not_false(res, prop, fix)
    else:
        yield from require_true(res, prop, fix, default=default)


def _cache_at_rest(res: Res, _cfg: Config) -> Iterator[str]:
    engine = res.get("engine")
    if engine is UNKNOWN and res.get("atRestEncryptionEnabled") is None:
        return  # the default depends on the engine
    default = engine == "valkey"  # redis defaults to false, valkey to true
    yield from _cache_flag(
        res, "atRestEncryptionEnabled", "set at_rest_encryption_enabled=True", default=default
    )


def _cache_cmk(res: Res, cfg: Config) -> Iterator[str]:
    yield from cmk_problems(
        res,
        "kmsKeyId",
        res.get("kmsKeyId"),
        home_region(res),
        fix="set kms_key_id to the region's CMK ARN",
        required=not (_cache_secondary(res) and not cfg["requireOnSecondary"]),
        absent="is not set (the AWS-owned default key)",
    )


def _cache_in_transit(res: Res, _cfg: Config) -> Iterator[str]:
    yield from _cache_flag(
        res, "transitEncryptionEnabled", "set transit_encryption_enabled=True", default=False
    )
    # "preferred" is the migration mode: the group then accepts encrypted *and* plaintext
    # connections (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption-enable.html).
    # Unset, a group created with transit encryption runs in "required" mode.
    mode = res.get("transitEncryptionMode")
    if isinstance(mode, str) and mode.lower() != "required":
        yield problem(
            res,
            "transitEncryptionMode",
            f"is {show(mode)}, which still accepts plaintext clients",
            "set transit_encryption_mode='required' once every client uses TLS",
        )


def _cache_auth(res: Res, _cfg: Config) -> Iterator[str]:
    if _cache_secondary(res):
        return  # AUTH comes from the global datastore's primary
    groups = res.get("userGroupIds")
    if res.has("authToken") or res.has("authTokenWo") or groups is UNKNOWN or list_items(groups):
        return
    yield problem(
        res,
        "authToken",
        "is not set (nor authTokenWo / userGroupIds)",
        "set auth_token from a generated secret, or user_group_ids (RBAC); both need transit encryption",
    )


# --- SNS, Backup ---------------------------------------------------------------------------------


def _sns_encrypted(res: Res, cfg: Config) -> Iterator[str]:
    yield from cmk_problems(
        res,
        "kmsMasterKeyId",
        res.get("kmsMasterKeyId"),
        home_region(res),
        fix="set kms_master_key_id to the region's CMK ARN",
        allow_aws_managed=bool(cfg["allowAwsManagedKey"]),
        absent="is not set (messages unencrypted at rest)",
    )


def _vault_cmk(res: Res, _cfg: Config) -> Iterator[str]:
    yield from cmk_problems(
        res,
        "kmsKeyArn",
        res.get("kmsKeyArn"),
        home_region(res),
        fix="set kms_key_arn to the region's CMK ARN",
        absent="is not set (the AWS-managed aws/backup key)",
    )


def _rule(**kwargs: Any) -> Rule:
    return Rule(concern=CONCERN, **kwargs)


RULES: tuple[Rule, ...] = (
    _rule(
        name="rds-storage-encrypted",
        summary="Aurora/RDS clusters and plain RDS instances encrypt their storage.",
        remediation="Set storage_encrypted=True (an existing database needs a restore from a snapshot).",
        severity=Severity.CRITICAL,
        targets=(t.RDS_CLUSTER, t.RDS_INSTANCE),
        check_resource=_storage_encrypted,
        checkov=("CKV_AWS_96", "CKV_AWS_16"),
        aws_config=("rds-cluster-encrypted-at-rest", "rds-storage-encrypted"),
    ),
    _rule(
        name="rds-cmk",
        summary="Aurora/RDS clusters and plain RDS instances encrypt with a customer-managed KMS key.",
        remediation="Set kms_key_id to the multi-region CMK of the resource's region.",
        severity=Severity.HIGH,
        targets=(t.RDS_CLUSTER, t.RDS_INSTANCE),
        check_resource=_cmk,
        checkov=("CKV_AWS_327",),
    ),
    _rule(
        name="rds-global-cluster-encrypted",
        summary="Aurora global clusters are encrypted (storageEncrypted, or an encrypted source cluster).",
        remediation="Set storage_encrypted=True on the GlobalCluster.",
        severity=Severity.CRITICAL,
        targets=(t.RDS_GLOBAL_CLUSTER,),
        check_resource=_global_cluster_encrypted,
        checkov=("CKV_AWS_140",),
    ),
    _rule(
        name="rds-performance-insights-encrypted",
        summary="Where Performance Insights is on, its data is encrypted with a customer-managed key.",
        remediation="Set performance_insights_kms_key_id to the region's CMK.",
        severity=Severity.MEDIUM,
        targets=(t.RDS_CLUSTER_INSTANCE, t.RDS_INSTANCE, t.RDS_CLUSTER),
        check_resource=_pi_encrypted,
        checkov=("CKV_AWS_354",),
    ),
    _rule(
        name="rds-iam-auth",
        summary="Aurora/RDS clusters and instances accept IAM database authentication.",
        remediation="Set iam_database_authentication_enabled=True.",
        severity=Severity.MEDIUM,
        targets=(t.RDS_CLUSTER, t.RDS_INSTANCE),
        check_resource=_iam_auth,
        checkov=("CKV_AWS_162", "CKV_AWS_161"),
        aws_config=(
            "rds-cluster-iam-authentication-enabled",
            "rds-instance-iam-authentication-enabled",
        ),
    ),
    _rule(
        name="rds-not-publicly-accessible",
        summary="No database instance or cluster is publicly accessible.",
        remediation="Set publicly_accessible=False (or leave it unset) and reach the DB through the VPC.",
        severity=Severity.CRITICAL,
        targets=(t.RDS_CLUSTER_INSTANCE, t.RDS_INSTANCE, t.RDS_CLUSTER),
        check_resource=_not_public,
        checkov=("CKV_AWS_17",),
        aws_config=("rds-instance-public-access-check",),
    ),
    _rule(
        name="rds-master-password-not-literal",
        summary=(
            "No master password is a literal: clusters outside a global database and plain instances let "
            "Secrets Manager manage it; global-database members and sources of read replicas (which AWS "
            "excludes from managed passwords) derive it from a generated random.RandomPassword, proven by "
            "its property dependencies."
        ),
        remediation=(
            "Set manage_master_user_password=True, or for global members pass a random.RandomPassword result."
        ),
        severity=Severity.CRITICAL,
        check_stack=_master_password,
    ),
    _rule(
        name="rds-force-ssl",
        summary=(
            "Clusters use a non-default cluster parameter group, and PostgreSQL/MySQL cluster parameter "
            "groups force TLS (rds.force_ssl=1 / require_secure_transport=ON)."
        ),
        remediation="Attach a cluster parameter group that sets rds.force_ssl=1.",
        severity=Severity.HIGH,
        targets=(t.RDS_CLUSTER, t.RDS_CLUSTER_PARAMETER_GROUP),
        check_resource=_force_ssl,
    ),
    _rule(
        name="rds-ca-certificate",
        summary="Database instances and clusters that pin a server CA use a current one.",
        remediation="Set ca_cert_identifier to rds-ca-rsa2048-g1 (or another allowed CA).",
        severity=Severity.LOW,
        targets=(t.RDS_CLUSTER_INSTANCE, t.RDS_INSTANCE, t.RDS_CLUSTER),
        check_resource=_ca_certificate,
        params={
            "allowed": Param(
                "array",
                ["rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1"],
                "Server CA identifiers that may be pinned.",
                items="string",
            )
        },
        checkov=("CKV_AWS_211",),
    ),
    _rule(
        name="dynamodb-table-cmk",
        summary="DynamoDB tables encrypt with a customer-managed KMS key.",
        remediation="Set server_side_encryption={enabled: True, kms_key_arn: <CMK ARN>}.",
        severity=Severity.HIGH,
        targets=(t.DYNAMODB_TABLE,),
        check_resource=_table_cmk,
        checkov=("CKV_AWS_119",),
        aws_config=("dynamodb-table-encrypted-kms",),
    ),
    _rule(
        name="dynamodb-replica-cmk",
        summary="Every DynamoDB replica (inline replicas[] or TableReplica) names the CMK of its region.",
        remediation="Set kms_key_arn on each replica to the replica key in that region.",
        severity=Severity.HIGH,
        targets=(t.DYNAMODB_TABLE, t.DYNAMODB_TABLE_REPLICA),
        check_resource=_replica_cmk,
        checkov=("CKV_AWS_271",),
    ),
    _rule(
        name="elasticache-at-rest-encryption",
        summary="Cache replication groups encrypt at rest (a global secondary inherits the primary's setting).",
        remediation="Set at_rest_encryption_enabled=True.",
        severity=Severity.HIGH,
        targets=(t.CACHE_REPLICATION_GROUP,),
        check_resource=_cache_at_rest,
        checkov=("CKV_AWS_29",),
        aws_config=("elasticache-repl-grp-encrypted-at-rest",),
    ),
    _rule(
        name="elasticache-cmk",
        summary="Cache replication groups encrypt at rest with a customer-managed KMS key.",
        remediation="Set kms_key_id to the region's CMK ARN.",
        severity=Severity.MEDIUM,
        targets=(t.CACHE_REPLICATION_GROUP,),
        check_resource=_cache_cmk,
        params={
            "requireOnSecondary": Param(
                "boolean", True, "Also require kmsKeyId on global-datastore secondaries."
            )
        },
        checkov=("CKV_AWS_191",),
    ),
    _rule(
        name="elasticache-in-transit-encryption",
        summary="Cache replication groups encrypt in transit (a global secondary inherits it).",
        remediation="Set transit_encryption_enabled=True.",
        severity=Severity.HIGH,
        targets=(t.CACHE_REPLICATION_GROUP,),
        check_resource=_cache_in_transit,
        checkov=("CKV_AWS_30", "CKV_AWS_31"),
        aws_config=("elasticache-repl-grp-encrypted-in-transit",),
    ),
    _rule(
        name="elasticache-auth",
        summary="Cache clients authenticate: an AUTH token or RBAC user groups on the primary group.",
        remediation="Set auth_token (from a generated secret) or user_group_ids.",
        severity=Severity.HIGH,
        targets=(t.CACHE_REPLICATION_GROUP,),
        check_resource=_cache_auth,
        checkov=("CKV_AWS_31",),
        aws_config=("elasticache-repl-grp-redis-auth-enabled",),
    ),
    _rule(
        name="sns-topic-encrypted",
        summary="SNS topics encrypt messages with a KMS key (customer-managed unless allowed).",
        remediation="Set kms_master_key_id to the region's CMK.",
        severity=Severity.MEDIUM,
        targets=(t.SNS_TOPIC,),
        check_resource=_sns_encrypted,
        params={"allowAwsManagedKey": Param("boolean", False, "Accept alias/aws/sns.")},
        checkov=("CKV_AWS_26",),
        aws_config=("sns-encrypted-kms",),
    ),
    _rule(
        name="backup-vault-cmk",
        summary="AWS Backup vaults encrypt recovery points with a customer-managed KMS key.",
        remediation="Set kms_key_arn to the region's CMK.",
        severity=Severity.MEDIUM,
        targets=(t.BACKUP_VAULT,),
        check_resource=_vault_cmk,
        checkov=("CKV_AWS_166",),
        aws_config=("backup-recovery-point-encrypted",),
    ),
)
