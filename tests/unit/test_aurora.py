"""Aurora inputs that depend on settings: the Data API, the windows, and the engine-upgrade path
(a new major never attaches a new-family parameter group to clusters still on the old major)."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime import mocks as pulumi_mocks

from preflight import recorder
from preflight.model import Recording
from preflight.recorder import record_stack
from tests.support.stacks import STACKS, only, recorded

CLUSTER = "aws:rds/cluster:Cluster"
PARAMS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
GLOBAL = "aws:rds/globalCluster:GlobalCluster"


@pytest.mark.parametrize("stack", STACKS)
def test_data_api_is_on_in_both_regions(stack: str) -> None:
    rec = recorded(stack)
    clusters = rec.by_type(CLUSTER)
    assert len(clusters) == 2
    assert all(c.inputs["enableHttpEndpoint"] is True for c in clusters)


def test_data_api_can_be_turned_off() -> None:
    rec = recorded("dev", "auroraDataApiEnabled=false")
    assert [c.inputs["enableHttpEndpoint"] for c in rec.by_type(CLUSTER)] == [False, False]


def test_windows_reach_the_clusters_instances_and_cache() -> None:
    rec = recorded(
        "dev",
        "auroraPreferredBackupWindow=22:30-23:15",
        "auroraPreferredMaintenanceWindow=sat:23:30-sun:00:30",
        "cacheSnapshotWindow=01:00-02:30",
        "cacheMaintenanceWindow=wed:04:00-wed:05:00",
    )
    for cluster in rec.by_type(CLUSTER):
        assert cluster.inputs["preferredBackupWindow"] == "22:30-23:15"
        assert cluster.inputs["preferredMaintenanceWindow"] == "sat:23:30-sun:00:30"
    for instance in rec.by_type("aws:rds/clusterInstance:ClusterInstance"):
        assert instance.inputs["preferredMaintenanceWindow"] == "sat:23:30-sun:00:30"
    for group in rec.by_type("aws:elasticache/replicationGroup:ReplicationGroup"):
        assert group.inputs["snapshotWindow"] == "01:00-02:30"
        assert group.inputs["maintenanceWindow"] == "wed:04:00-wed:05:00"


class DeployedVersion(recorder.CloudMocks):
    """The cloud as a deployed stack reports it: the global cluster runs ``version``."""

    version = "16.6"

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        if args.typ == GLOBAL:
            state["engineVersionActual"] = self.version
        return resource_id, state


def _deployed(monkeypatch: pytest.MonkeyPatch, version: str, *overrides: str) -> Recording:
    monkeypatch.setattr(DeployedVersion, "version", version)
    monkeypatch.setattr(recorder, "CloudMocks", DeployedVersion)
    return record_stack("dev", ["auroraEngineVersion=17.4", *overrides])


def test_a_new_major_alone_keeps_the_deployed_family(monkeypatch: pytest.MonkeyPatch) -> None:
    """auroraEngineVersion 16.6 -> 17.4 without the upgrade flag: the global cluster ignores the
    version (its state stays 16.6) and every cluster keeps an aurora-postgresql16 group."""
    rec = _deployed(monkeypatch, "16.6")
    (global_cluster,) = rec.by_type(GLOBAL)
    assert "engineVersion" in global_cluster.ignore_changes
    for region in ("us-east-1", "us-west-2"):
        (params,) = only(rec, PARAMS, region)
        assert params.inputs["family"] == "aurora-postgresql16"
        assert params.inputs["name"] == f"securecart-dev-aurora-pg16-{region}"
        (cluster,) = only(rec, CLUSTER, region)
        assert cluster.inputs["dbClusterParameterGroupName"] == params.inputs["name"]


def test_the_upgrade_deploy_moves_the_global_cluster_then_the_groups(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With auroraAllowMajorVersionUpgrade the global cluster takes the new version (the provider
    runs ModifyGlobalCluster with AllowMajorVersionUpgrade), and the new-family groups come from
    the version it then reports; the clusters are updated after both."""
    rec = _deployed(monkeypatch, "17.4", "auroraAllowMajorVersionUpgrade=true")
    (global_cluster,) = rec.by_type(GLOBAL)
    assert global_cluster.inputs["engineVersion"] == "17.4"
    assert "engineVersion" not in global_cluster.ignore_changes
    for region in ("us-east-1", "us-west-2"):
        (params,) = only(rec, PARAMS, region)
        assert params.inputs["family"] == "aurora-postgresql17"
        assert params.inputs["name"] == f"securecart-dev-aurora-pg17-{region}"
        assert params.property_dependencies["family"] == (global_cluster.urn,)
        (cluster,) = only(rec, CLUSTER, region)
        assert cluster.inputs["dbClusterParameterGroupName"] == params.inputs["name"]
        assert params.urn in cluster.dependencies and global_cluster.urn in cluster.dependencies
        # Members never carry the version: AWS upgrades them with the global cluster.
        assert "engineVersion" in cluster.ignore_changes


def test_the_deployed_family_is_the_default_path() -> None:
    rec = recorded("dev")
    (global_cluster,) = rec.by_type(GLOBAL)
    assert global_cluster.ignore_changes == ("engineVersion",)
    assert {p.inputs["family"] for p in rec.by_type(PARAMS)} == {"aurora-postgresql16"}


@pytest.mark.parametrize("stack", STACKS)
def test_iam_database_authentication_on_both_members_and_their_resource_ids_exported(
    stack: str,
) -> None:
    """Issue 16 item 7, the cluster side: a token-authenticated user logs in wherever the writer
    is after a flip, so both members accept IAM authentication, and the stack exports each
    cluster's DbClusterResourceId, the resource of the rds-db:connect permission ("Creating and
    using an IAM policy for IAM database access": arn:aws:rds-db:<region>:<account>:dbuser:
    <DbClusterResourceId>/<user>). Aurora PostgreSQL 11 to 17 support it in every version and
    region ("Supported Regions and Aurora DB engines for IAM database authentication")."""
    rec = recorded(stack)
    (global_cluster,) = rec.by_type("aws:rds/globalCluster:GlobalCluster")
    assert 11 <= int(str(global_cluster.inputs["engineVersion"]).split(".")[0]) <= 17
    for region in (rec.outputs["primaryRegion"], rec.outputs["secondaryRegion"]):
        (cluster,) = only(rec, "aws:rds/cluster:Cluster", region)
        assert cluster.inputs["iamDatabaseAuthenticationEnabled"] is True
        exported = rec.outputs["auroraClusters"][region]
        assert exported["resourceId"] == cluster.outputs["clusterResourceId"]
        assert str(exported["resourceId"]).startswith("cluster-")
