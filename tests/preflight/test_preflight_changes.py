"""preflight.changes: ignore_changes as the engine applies it, the plan diff, and the force-new
table checked against the provider's schema and the pinned SDK.

Expected values: the engine's ``processIgnoreChanges``/``PropertyPath.Reset`` semantics
(pulumi/pulumi sdk/go/common/resource/properties_path.go: a leaf present in the old inputs is
copied, a leaf absent from them is deleted, ``*`` matches every key or element, a path whose
shape differs between old and new is an error), and the ForceNew flags of the
terraform-provider-aws schemas the pinned pulumi-aws bridges.
"""

from __future__ import annotations

import hashlib
import importlib
import keyword
import sys
from pathlib import Path
from typing import Any

import pytest
from pulumi import _types

from preflight.changes import (
    FORCE_NEW,
    STATEFUL_TYPES,
    IgnoreChangesError,
    Op,
    apply_ignore_changes,
    changed_inputs,
    diff_plans,
    parse_path,
)
from preflight.model import SECRET_SIG, SIG_KEY, RecordedResource
from tests.support.stacks import STACKS, recorded

CLUSTER = "aws:rds/cluster:Cluster"
KEY = "aws:kms/key:Key"
TABLE = "aws:dynamodb/table:Table"
RECORD = "aws:route53/record:Record"
PROVIDER = "pulumi:providers:aws"


def res(
    type_: str,
    logical: str,
    /,
    *,
    ignore: tuple[str, ...] = (),
    deps: dict[str, tuple[str, ...]] | None = None,
    **inputs: Any,
) -> RecordedResource:
    return RecordedResource(
        urn=f"urn:pulumi:test::securecart-data::{type_}::{logical}",
        type=type_,
        name=logical,
        custom=True,
        inputs=inputs,
        parent=None,
        provider=None,
        property_dependencies=deps or {},
        ignore_changes=ignore,
    )


# --- ignore_changes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("engineVersion", ["engineVersion"]),
        ("tags.Owner", ["tags", "Owner"]),
        ("replicas[1].kmsKeyArn", ["replicas", 1, "kmsKeyArn"]),
        ('tags["cost.center"]', ["tags", "cost.center"]),
        ("replicas[*].kmsKeyArn", ["replicas", "*", "kmsKeyArn"]),
    ],
)
def test_property_paths_parse_like_the_engine(path: str, parts: list[str | int]) -> None:
    assert parse_path(path) == parts


def test_an_ignored_leaf_keeps_its_old_value() -> None:
    old = {"engineVersion": "16.4", "tags": {"Owner": "a", "Stack": "dev"}}
    new = {"engineVersion": "16.6", "tags": {"Owner": "b", "Stack": "prod"}}
    assert apply_ignore_changes(old, new, ["engineVersion", "tags.Owner"]) == {
        "engineVersion": "16.4",
        "tags": {"Owner": "a", "Stack": "prod"},
    }


def test_an_ignored_leaf_absent_from_the_old_inputs_is_dropped() -> None:
    new = {"masterUsername": "admin", "port": 5432}
    assert apply_ignore_changes({}, new, ["masterUsername"]) == {"port": 5432}


def test_a_wildcard_resets_every_element() -> None:
    old = {"replicas": [{"regionName": "us-west-2", "kmsKeyArn": "k1"}]}
    new = {"replicas": [{"regionName": "us-west-2", "kmsKeyArn": "k2"}]}
    assert apply_ignore_changes(old, new, ["replicas[*].kmsKeyArn"]) == old
    assert apply_ignore_changes({"tags": {"a": "1"}}, {"tags": {"b": "2"}}, ["tags.*"]) == {
        "tags": {"a": "1"}
    }


def test_secret_wrappers_are_looked_through() -> None:
    old = {"settings": {SIG_KEY: SECRET_SIG, "value": {"password": "old"}}}
    new = {"settings": {SIG_KEY: SECRET_SIG, "value": {"password": "new", "user": "u"}}}
    result = apply_ignore_changes(old, new, ["settings.password"])
    assert result["settings"]["value"] == {"password": "old", "user": "u"}


def test_a_path_the_engine_cannot_apply_fails_like_the_engine() -> None:
    # One more replica than before: index 1 exists on one side only, so it cannot be reset.
    old = {"replicas": [{"kmsKeyArn": "k1"}]}
    new = {"replicas": [{"kmsKeyArn": "k1"}, {"kmsKeyArn": "k2"}]}
    with pytest.raises(IgnoreChangesError, match=r"one or more elements of the path are missing"):
        apply_ignore_changes(old, new, ["replicas[1]"])
    plan = diff_plans([res(TABLE, "t", **old)], [res(TABLE, "t", ignore=("replicas[1]",), **new)])
    (change,) = plan.changes
    assert change.blocks and "replicas[1]" in change.reason()


def test_the_current_registration_ignore_changes_applies() -> None:
    prior = res(CLUSTER, "c", engineVersion="16.4", backupRetentionPeriod=7)
    current = res(
        CLUSTER, "c", ignore=("engineVersion",), engineVersion="16.6", backupRetentionPeriod=14
    )
    assert changed_inputs(prior, current) == ["backupRetentionPeriod"]


# --- the plan diff ----------------------------------------------------------------------------


def test_every_kind_of_change() -> None:
    before = [
        res(PROVIDER, "aws", region="us-east-1"),
        res(KEY, "key", multiRegion=True, description="a"),
        res(RECORD, "writer", name="writer.db", type="CNAME", ttl=60),
        res(TABLE, "carts", name="carts", hashKey="id"),
        res("aws:sns/topic:Topic", "alarms", name="alarms"),
    ]
    after = [
        res(PROVIDER, "aws", region="us-east-1"),
        res(KEY, "key", multiRegion=True, description="b"),
        res(RECORD, "writer", name="writer.db", type="CNAME", ttl=60),
        res(TABLE, "carts", name="carts", hashKey="cartId"),
        res("aws:sns/topicSubscription:TopicSubscription", "email", protocol="email"),
    ]
    plan = diff_plans(before, after, against="base.json")
    ops = {c.name: c.op for c in plan.changes}
    assert ops == {
        "aws": Op.SAME,
        "key": Op.UPDATE,
        "writer": Op.SAME,
        "carts": Op.REPLACE,
        "email": Op.CREATE,
        "alarms": Op.DELETE,
    }
    changes = {c.name: c for c in plan.changes}
    assert changes["key"].changed == ("description",)
    assert changes["carts"].replaced_by == ("hashKey",)
    # the counts are of cloud resources: the provider ("aws", same) is listed but not counted
    assert plan.counts == {"create": 1, "update": 1, "replace": 1, "delete": 1, "same": 1}
    # the stateful table's replacement blocks; the topic's deletion does not (not stateful)
    assert [c.name for c in plan.blocking] == ["carts"]
    assert "input hashKey forces a new resource" in changes["carts"].reason()
    assert not plan.unchanged


def test_an_unchanged_plan_says_so() -> None:
    plan = [res(KEY, "key", multiRegion=True), res(CLUSTER, "c", engine="aurora-postgresql")]
    diff = diff_plans(plan, list(plan))
    assert diff.unchanged and not diff.blocking and diff.count(Op.SAME) == 2


def test_a_deleted_stateful_resource_blocks() -> None:
    diff = diff_plans([res(CLUSTER, "aurora-us-east-1", engine="aurora-postgresql")], [])
    (change,) = diff.blocking
    assert change.op is Op.DELETE and "aurora-us-east-1" in change.reason()


def test_a_region_change_replaces_a_regional_resource_but_not_the_provider() -> None:
    before = [res(PROVIDER, "aws", region="us-east-1"), res(KEY, "key", region="us-east-1")]
    after = [res(PROVIDER, "aws", region="us-west-2"), res(KEY, "key", region="us-west-2")]
    ops = {c.name: (c.op, c.replaced_by) for c in diff_plans(before, after).changes}
    assert ops == {"aws": (Op.UPDATE, ()), "key": (Op.REPLACE, ("region",))}


def test_a_record_changing_type_is_updated_in_place() -> None:
    # aws_route53_record: name and zone_id are ForceNew; type and set_identifier are not.
    before = [res(RECORD, "r", name="a.db", zoneId="Z1", type="CNAME", setIdentifier="x")]
    after = [res(RECORD, "r", name="a.db", zoneId="Z1", type="A", setIdentifier="y")]
    assert diff_plans(before, after).changes[0].op is Op.UPDATE
    renamed = [res(RECORD, "r", name="b.db", zoneId="Z1", type="CNAME", setIdentifier="x")]
    assert diff_plans(before, renamed).changes[0].replaced_by == ("name",)


def test_a_replacement_makes_dependent_inputs_unknown() -> None:
    """The engine cannot know a replaced key's new ARN during the preview; the cluster's
    kmsKeyId is then unknown, and ForceNew, so the cluster is replaced as well."""
    key_urn = res(KEY, "aurora-key").urn
    before = [
        res(KEY, "aurora-key", multiRegion=True),
        res(CLUSTER, "aurora", kmsKeyId="arn:key", deps={"kmsKeyId": (key_urn,)}),
        res(
            "aws:kms/alias:Alias",
            "alias",
            targetKeyId="arn:key",
            deps={"targetKeyId": (key_urn,)},
        ),
    ]
    after = [
        res(KEY, "aurora-key", multiRegion=False),
        *before[1:],
    ]
    changes = {c.name: c for c in diff_plans(before, after).changes}
    assert changes["aurora-key"].replaced_by == ("multiRegion",)
    assert changes["aurora"].op is Op.REPLACE and changes["aurora"].replaced_by == ("kmsKeyId",)
    assert "kmsKeyId comes from aurora-key, which is replaced" in changes["aurora"].reason()
    assert changes["alias"].op is Op.UPDATE and changes["alias"].changed == ("targetKeyId",)
    # an input under ignore_changes keeps its old value: no cascade through it
    ignoring = [
        after[0],
        res(
            CLUSTER,
            "aurora",
            ignore=("kmsKeyId",),
            deps={"kmsKeyId": (key_urn,)},
            kmsKeyId="arn:key",
        ),
    ]
    assert diff_plans(before[:2], ignoring).changes[1].op is Op.SAME


def test_a_reviewer_approves_by_name_or_urn() -> None:
    before = [res(TABLE, "carts", hashKey="id"), res(TABLE, "sessions", hashKey="id")]
    after = [res(TABLE, "carts", hashKey="cartId"), res(TABLE, "sessions", hashKey="sid")]
    diff = diff_plans(before, after, allow=["carts", before[1].urn, "orders"])
    assert all(c.approved for c in diff.changes)
    assert not diff.blocking
    assert diff.unused_approvals == ("orders",)


def test_removing_a_restore_source_is_an_update() -> None:
    # ForceNewIfChange(restore_source_name): replaces unless the new value is cleared.
    before = [res(TABLE, "t", name="t", hashKey="id", restoreSourceName="old-table")]
    cleared = [res(TABLE, "t", name="t", hashKey="id")]
    other = [res(TABLE, "t", name="t", hashKey="id", restoreSourceName="other-table")]
    assert diff_plans(before, cleared).changes[0].op is Op.UPDATE
    assert diff_plans(before, other).changes[0].replaced_by == ("restoreSourceName",)


def test_only_the_s3_source_of_an_import_forces_a_new_table() -> None:
    before = [
        res(TABLE, "t", importTable={"inputFormat": "CSV", "s3BucketSource": {"bucket": "a"}})
    ]
    compression = [
        res(
            TABLE,
            "t",
            importTable={
                "inputFormat": "CSV",
                "inputCompressionType": "GZIP",
                "s3BucketSource": {"bucket": "a"},
            },
        )
    ]
    bucket = [
        res(TABLE, "t", importTable={"inputFormat": "CSV", "s3BucketSource": {"bucket": "b"}})
    ]
    assert diff_plans(before, compression).changes[0].op is Op.UPDATE
    assert diff_plans(before, bucket).changes[0].replaced_by == ("importTable.s3BucketSource",)


# --- the force-new table against the schema and the SDK ------------------------------------


def _input_names(token: str) -> set[str]:
    """The type's inputs, as the pinned SDK's Args class names them (camelCase)."""
    package, module, name = token.split(":")
    base = importlib.import_module("pulumi_aws" if package == "pulumi" else f"pulumi_{package}")
    module = module.split("/")[0]
    module += "_" if keyword.iskeyword(module) else ""  # the SDK's module for "lambda"
    owner = base if module in ("index", "providers") else getattr(base, module)
    if package == "pulumi":
        args = owner.ProviderArgs
    else:
        # From the resource's own module: where a nested block type has the name, the SDK
        # calls the resource's class <Name>InitArgs (ec2.VpcPeeringConnectionAccepterArgs is
        # VpcPeeringConnection's accepter block).
        resource_module = sys.modules[getattr(owner, name).__module__]
        args = getattr(resource_module, f"{name}InitArgs", None) or getattr(
            resource_module, f"{name}Args"
        )
    return set(_types.input_type_py_to_pulumi_names(args).values())


@pytest.mark.parametrize("stack", STACKS)
def test_every_type_the_program_creates_has_an_entry(stack: str) -> None:
    custom = {r.type for r in recorded(stack).resources if r.custom}
    assert custom - set(FORCE_NEW) == set()
    assert set(FORCE_NEW) >= STATEFUL_TYPES


@pytest.mark.parametrize("token", sorted(FORCE_NEW))
def test_every_force_new_input_is_an_input_of_the_pinned_sdk(token: str) -> None:
    inputs = _input_names(token)
    top_level = {path.split(".")[0] for path in FORCE_NEW[token]}
    assert top_level <= inputs, sorted(top_level - inputs)


@pytest.mark.parametrize(
    ("token", "force_new", "updatable"),
    [
        # internal/service/rds/cluster.go
        (
            CLUSTER,
            {"kmsKeyId", "dbSubnetGroupName", "masterUsername", "clusterIdentifierPrefix"},
            {"engineVersion", "backupRetentionPeriod", "storageType", "masterPassword"},
        ),
        # internal/service/rds/cluster_instance.go
        (
            "aws:rds/clusterInstance:ClusterInstance",
            {"identifier", "identifierPrefix", "customIamInstanceProfile", "availabilityZone"},
            {"instanceClass", "promotionTier"},
        ),
        # internal/service/elasticache/replication_group.go
        (
            "aws:elasticache/replicationGroup:ReplicationGroup",
            {"atRestEncryptionEnabled", "dataTieringEnabled", "networkType", "kmsKeyId"},
            {"nodeType", "numCacheClusters", "authToken", "transitEncryptionEnabled"},
        ),
        # internal/service/dynamodb/table.go
        (TABLE, {"name", "hashKey", "rangeKey", "localSecondaryIndexes"}, {"replicas", "ttl"}),
        # internal/service/route53/record.go
        (RECORD, {"name", "zoneId"}, {"type", "setIdentifier", "records", "ttl"}),
        # internal/service/kms/key.go
        (KEY, {"multiRegion", "customerMasterKeySpec", "keyUsage"}, {"description", "policy"}),
    ],
)
def test_force_new_flags_match_the_provider_schema(
    token: str, force_new: set[str], updatable: set[str]
) -> None:
    assert force_new <= FORCE_NEW[token]
    assert not updatable & FORCE_NEW[token]


# --- assets (a Lambda function's code) ---------------------------------------------------------


def test_an_asset_is_compared_by_its_contents_not_its_path(tmp_path: Path) -> None:
    """The engine compares assets by their SHA-256, wherever the file lives: a baseline recorded
    in another checkout (the base branch's worktree) must not show the code as changed."""
    from pulumi.asset import AssetArchive, FileAsset

    from preflight.recorder import _wire_asset

    code = "def handler(event, context):\n    return event\n"
    (tmp_path / "base").mkdir()
    (tmp_path / "head").mkdir()
    for side in ("base", "head"):
        (tmp_path / side / "rotation.py").write_text(code)
    base = _wire_asset(
        AssetArchive({"rotation.py": FileAsset(str(tmp_path / "base" / "rotation.py"))})
    )
    head = _wire_asset(
        AssetArchive({"rotation.py": FileAsset(str(tmp_path / "head" / "rotation.py"))})
    )
    assert base != head  # the paths differ...
    assert base["assets"]["rotation.py"]["hash"] == hashlib.sha256(code.encode()).hexdigest()
    fn = "aws:lambda/function:Function"
    same = diff_plans([res(fn, "rotate", code=base)], [res(fn, "rotate", code=head)])
    assert same.unchanged  # ...the contents do not
    (tmp_path / "head" / "rotation.py").write_text(code.replace("event\n", "None\n"))
    edited = _wire_asset(
        AssetArchive({"rotation.py": FileAsset(str(tmp_path / "head" / "rotation.py"))})
    )
    (change,) = diff_plans([res(fn, "rotate", code=base)], [res(fn, "rotate", code=edited)]).changes
    assert (change.op, change.changed) == (Op.UPDATE, ("code",))


def test_the_asset_signatures_are_pulumi_s() -> None:
    from pulumi.runtime import rpc

    from preflight.changes import _ASSET_SIGNATURES

    assert {rpc._special_asset_sig, rpc._special_archive_sig} == _ASSET_SIGNATURES
