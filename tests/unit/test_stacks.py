"""Every stack builds under Pulumi's mocks with both regions fully populated."""

from __future__ import annotations

import json

import pytest

from components.naming import REGION_AZS
from preflight.model import Recording
from tests.support.stacks import STACKS, only, recorded, unwrap

pytestmark = pytest.mark.parametrize("stack", STACKS)


def regions(rec: Recording) -> tuple[str, str]:
    return rec.outputs["primaryRegion"], rec.outputs["secondaryRegion"]


def test_every_regional_resource_names_its_region(stack: str) -> None:
    rec = recorded(stack)
    pair = set(regions(rec))
    global_types = {
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:route53/zone:Zone",
        "aws:route53/record:Record",
        "aws:route53/healthCheck:HealthCheck",
        "aws:budgets/budget:Budget",
        "random:index/randomPassword:RandomPassword",
    }
    for resource in rec.resources:
        if not resource.custom or resource.type.startswith("pulumi:providers:"):
            continue
        if resource.type in global_types:
            assert resource.region is None, resource.urn
        else:
            assert resource.region in pair, resource.urn
            # named by region, never by role
            assert "primary" not in resource.name and "secondary" not in resource.name


def test_provider_carries_cost_allocation_tags_and_everything_uses_it(stack: str) -> None:
    rec = recorded(stack)
    (provider,) = rec.by_type("pulumi:providers:aws")
    tags = provider.inputs["defaultTags"]
    tags = json.loads(tags) if isinstance(tags, str) else tags
    assert tags["tags"] == {
        "Project": "securecart-data",
        "Environment": stack,
        "Stack": f"securecart-data-{stack}",
        "CostCenter": rec.config["securecart-data:costCenter"],
        "Owner": "data-platform",
        "ManagedBy": "pulumi",
        "DataClassification": "confidential",
    }
    assert provider.inputs["region"] == min(regions(rec))
    for resource in rec.resources:
        if resource.custom and resource.type.startswith("aws:"):
            assert resource.provider is not None and resource.provider.startswith(provider.urn), (
                resource.urn
            )


def test_aurora_global_database_spans_both_regions(stack: str) -> None:
    rec = recorded(stack)
    primary, secondary = regions(rec)
    (global_cluster,) = rec.by_type("aws:rds/globalCluster:GlobalCluster")
    assert global_cluster.inputs["engine"] == "aurora-postgresql"
    assert global_cluster.inputs["storageEncrypted"] is True
    assert global_cluster.inputs["deletionProtection"] is True
    for region in (primary, secondary):
        (cluster,) = only(rec, "aws:rds/cluster:Cluster", region)
        i = cluster.inputs
        assert i["globalClusterIdentifier"] == global_cluster.inputs["globalClusterIdentifier"]
        assert i["storageEncrypted"] is True and i["kmsKeyId"].startswith(f"arn:aws:kms:{region}:")
        assert i["backupRetentionPeriod"] >= 7
        assert i["deletionProtection"] is True and i["skipFinalSnapshot"] is False
        assert i["finalSnapshotIdentifier"].endswith("-final")
        assert i["iamDatabaseAuthenticationEnabled"] is True
        assert i["enabledCloudwatchLogsExports"] == ["postgresql"]
        assert i["availabilityZones"] == list(REGION_AZS[region])
        assert "manageMasterUserPassword" not in i
        assert set(cluster.ignore_changes) >= {
            "replicationSourceIdentifier",
            "globalClusterIdentifier",
            "engineVersion",
            "masterUsername",
        }
        instances = only(rec, "aws:rds/clusterInstance:ClusterInstance", region)
        assert len(instances) >= 2
        assert len({x.inputs["availabilityZone"] for x in instances}) >= 2
        for instance in instances:
            j = instance.inputs
            assert j["performanceInsightsEnabled"] is True
            assert j["performanceInsightsKmsKeyId"] == i["kmsKeyId"]
            assert j["monitoringInterval"] > 0 and j["monitoringRoleArn"].startswith(
                "arn:aws:iam::"
            )
            assert j["publiclyAccessible"] is False and j["autoMinorVersionUpgrade"] is True
        (params,) = only(rec, "aws:rds/clusterParameterGroup:ClusterParameterGroup", region)
        assert {"name": "rds.force_ssl", "value": "1"} in [
            {k: v for k, v in p.items() if k in ("name", "value")}
            for p in params.inputs["parameters"]
        ]
    # Aurora Auto Scaling only on the primary: AWS does not support it on a global database's
    # secondary clusters (Limitations of Amazon Aurora global databases).
    rds_targets = [
        t
        for t in rec.by_type("aws:appautoscaling/target:Target")
        if t.inputs["serviceNamespace"] == "rds"
    ]
    assert [(t.name, t.region) for t in rds_targets] == [("aurora-readers", primary)]
    assert rds_targets[0].inputs["scalableDimension"] == "rds:cluster:ReadReplicaCount"
    (main,) = only(rec, "aws:rds/cluster:Cluster", primary)
    assert rds_targets[0].inputs["resourceId"] == f"cluster:{main.inputs['clusterIdentifier']}"
    policies = [
        p
        for p in rec.by_type("aws:appautoscaling/policy:Policy")
        if p.inputs["serviceNamespace"] == "rds"
    ]
    assert [(p.name, p.region) for p in policies] == [("aurora-readers-cpu", primary)]


def test_only_the_primary_cluster_has_credentials_and_they_are_generated(stack: str) -> None:
    rec = recorded(stack)
    primary, secondary = regions(rec)
    (main,) = only(rec, "aws:rds/cluster:Cluster", primary)
    (replica,) = only(rec, "aws:rds/cluster:Cluster", secondary)
    (password,) = [
        r
        for r in rec.by_type("random:index/randomPassword:RandomPassword")
        if r.name == "aurora-master-password"
    ]
    assert main.property_dependencies["masterPassword"] == (password.urn,)
    assert unwrap(main.inputs["masterPassword"]).startswith("mock-")
    assert main.inputs["masterPassword"] != unwrap(main.inputs["masterPassword"]), (
        "must stay a secret"
    )
    for key in ("masterUsername", "masterPassword", "databaseName"):
        assert key not in replica.inputs
    # the secondary waits for the primary's writer
    writer = rec.named(f"aurora-{primary}-1")
    assert writer.urn in replica.dependencies
    (secret,) = [
        s
        for s in rec.by_type("aws:secretsmanager/secret:Secret")
        if s.name == "aurora-master-secret"
    ]
    replica_regions = [r["region"] for r in secret.inputs["replicas"]]
    assert replica_regions == [r for r in (primary, secondary) if r != secret.region]
    assert secret.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{secret.region}:")
    for version in rec.by_type("aws:secretsmanager/secretVersion:SecretVersion"):
        value = version.inputs["secretString"]
        assert value != unwrap(value), f"{version.name} must be a Pulumi secret"
    stored = json.loads(unwrap(rec.named("aurora-master-secret-value").inputs["secretString"]))
    assert stored["password"] == unwrap(main.inputs["masterPassword"])
    assert set(stored["hosts"]) == {primary, secondary}


def test_global_tables_replicate_with_cmk_pitr_and_streams(stack: str) -> None:
    rec = recorded(stack)
    pair = set(regions(rec))
    tables = rec.by_type("aws:dynamodb/table:Table")
    assert {t.inputs["name"] for t in tables} == {
        f"securecart-{stack}-{n}"
        for n in ("carts", "sessions", "order-history", "drill-lease")  # + the drills' lease
    }
    for table in tables:
        i = table.inputs
        assert i["billingMode"] == "PAY_PER_REQUEST"
        assert i["streamEnabled"] is True and i["streamViewType"] == "NEW_AND_OLD_IMAGES"
        assert i["pointInTimeRecovery"]["enabled"] is True
        assert i["serverSideEncryption"] == {
            "enabled": True,
            "kmsKeyArn": i["serverSideEncryption"]["kmsKeyArn"],
        }
        assert i["serverSideEncryption"]["kmsKeyArn"].startswith(f"arn:aws:kms:{table.region}:")
        assert i["deletionProtectionEnabled"] is True
        (replica,) = i["replicas"]
        assert {replica["regionName"], table.region} == pair
        assert replica["kmsKeyArn"].startswith(f"arn:aws:kms:{replica['regionName']}:")
        assert (
            replica["pointInTimeRecovery"] is True and replica["deletionProtectionEnabled"] is True
        )
    sessions = next(t for t in tables if t.inputs["name"].endswith("-sessions"))
    assert sessions.inputs["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    history = next(t for t in tables if t.inputs["name"].endswith("-order-history"))
    assert [g["name"] for g in history.inputs["globalSecondaryIndexes"]] == [
        "by-customer",
        "by-status",
    ]


def test_cache_global_datastore_is_multi_az_encrypted_with_auth(stack: str) -> None:
    rec = recorded(stack)
    primary, secondary = regions(rec)
    (main,) = only(rec, "aws:elasticache/replicationGroup:ReplicationGroup", primary)
    (replica,) = only(rec, "aws:elasticache/replicationGroup:ReplicationGroup", secondary)
    (global_group,) = rec.by_type("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup")
    m = main.inputs
    assert m["automaticFailoverEnabled"] is True and m["multiAzEnabled"] is True
    assert m["atRestEncryptionEnabled"] is True and m["kmsKeyId"].startswith(
        f"arn:aws:kms:{primary}:"
    )
    assert m["transitEncryptionEnabled"] is True and unwrap(m["authToken"]).startswith("mock-")
    assert m["numCacheClusters"] >= 2 and len(set(m["preferredCacheClusterAzs"])) >= 2
    assert m["nodeType"].split(".")[1] in {"m5", "m6g", "m7g", "r5", "r6g", "r7g"}
    assert global_group.inputs["primaryReplicationGroupId"] == m["replicationGroupId"]
    assert (global_group.inputs["engine"], global_group.inputs["engineVersion"]) == (
        m["engine"],
        m["engineVersion"],
    )
    r = replica.inputs
    assert r["globalReplicationGroupId"] == f"ldgnf-securecart-{stack}-cache"
    for inherited in (
        "engine",
        "engineVersion",
        "nodeType",
        "atRestEncryptionEnabled",
        "transitEncryptionEnabled",
        "authToken",
        "automaticFailoverEnabled",
    ):
        assert inherited not in r
    assert r["kmsKeyId"].startswith(f"arn:aws:kms:{secondary}:")
    assert r["snapshotRetentionLimit"] >= 1


def test_alarms_cover_every_store_with_the_seeds_thresholds(stack: str) -> None:
    rec = recorded(stack)
    alarms = rec.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    topics = {t.region: t for t in rec.by_type("aws:sns/topic:Topic")}
    assert set(topics) == set(regions(rec))
    for topic in topics.values():
        assert topic.inputs["kmsMasterKeyId"].startswith(f"arn:aws:kms:{topic.region}:")
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [
            f"arn:aws:sns:{alarm.region}:123456789012:securecart-{stack}-data-alarms"
        ]
    by_metric: dict[str, list[dict]] = {}
    for alarm in alarms:
        by_metric.setdefault(alarm.inputs["metricName"], []).append(alarm.inputs)
    for region in regions(rec):
        cluster = f"securecart-{stack}-{region}"
        cpu = [
            a
            for a in by_metric["CPUUtilization"]
            if a["dimensions"] == {"DBClusterIdentifier": cluster}
        ]
        assert (
            len(cpu) == 1
            and cpu[0]["threshold"] == 80
            and cpu[0]["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        )
        lag = [
            a
            for a in by_metric["AuroraGlobalDBReplicationLag"]
            if a["dimensions"]["DBClusterIdentifier"] == cluster
        ]
        assert len(lag) == 1 and lag[0]["threshold"] == 1000
    assert len(by_metric["FreeableMemory"]) == len(
        rec.by_type("aws:rds/clusterInstance:ClusterInstance")
    )
    assert len(by_metric["ReplicationLatency"]) == 3 * 2
    assert len(by_metric["WriteThrottleEvents"]) == len(by_metric["ReadThrottleEvents"]) == 3 * 2
    groups = rec.by_type("aws:elasticache/replicationGroup:ReplicationGroup")
    nodes = sum(int(g.inputs["numCacheClusters"]) for g in groups)
    assert all(a["threshold"] == 80 for a in by_metric["EngineCPUUtilization"])
    assert (
        len(by_metric["EngineCPUUtilization"])
        == len(by_metric["DatabaseMemoryUsagePercentage"])
        == len(by_metric["CurrConnections"])  # node health behind the cache health checks
        == nodes
    )
    assert len(rec.by_type("aws:cloudwatch/dashboard:Dashboard")) == 1


def test_backups_are_copied_to_the_other_region(stack: str) -> None:
    rec = recorded(stack)
    pair = regions(rec)
    vaults = {v.region: v for v in rec.by_type("aws:backup/vault:Vault")}
    assert set(vaults) == set(pair)
    for vault in vaults.values():
        assert vault.inputs["kmsKeyArn"].startswith(f"arn:aws:kms:{vault.region}:")
    for plan in rec.by_type("aws:backup/plan:Plan"):
        (rule,) = plan.inputs["rules"]
        (copy,) = rule["copyActions"]
        target = next(r for r in pair if r != plan.region)
        assert (
            copy["destinationVaultArn"]
            == f"arn:aws:backup:{target}:123456789012:backup-vault:securecart-{stack}-data-{target}"
        )
        assert copy["lifecycle"]["deleteAfter"] >= 7
    # each region backs up its own Aurora cluster; the global tables are backed up once, in
    # their home (anchor) region, and the plan's copy action puts them in the other region
    anchor = min(pair)
    for selection in rec.by_type("aws:backup/selection:Selection"):
        resources = selection.inputs["resources"]
        assert any(f":rds:{selection.region}:" in arn for arn in resources)
        # the three data tables and the drills' lease table (components/drill_access.py)
        tables = sum(":dynamodb:" in arn for arn in resources)
        assert tables == (4 if selection.region == anchor else 0)
        assert all(f":dynamodb:{anchor}:" in arn for arn in resources if ":dynamodb:" in arn)


def test_budget_and_exports(stack: str) -> None:
    rec = recorded(stack)
    (budget,) = rec.by_type("aws:budgets/budget:Budget")
    assert budget.inputs["costFilters"] == [
        {"name": "TagKeyValue", "values": [f"user:Stack$securecart-data-{stack}"]}
    ]
    assert [n["notificationType"] for n in budget.inputs["notifications"]][-1] == "FORECASTED"
    outputs = rec.outputs
    for key in (
        "globalClusterId",
        "auroraClusters",
        "auroraSecretArn",
        "tables",
        "cacheGlobalReplicationGroupId",
        "cacheReplicationGroups",
        "writerEndpoint",
        "dnsZoneId",
        "dnsTtlSeconds",
        "writerDnsName",
        "readerDnsName",
        "readerDnsNames",
        "cacheDnsName",
        "cacheReaderDnsName",
        "healthCheckIds",
        "cacheHealthCheckIds",
        "cacheWriterHealthCheckIds",
        "clientEndpoints",
        "alarmTopicArns",
        "alarmNames",
        "drillObjectives",
    ):
        assert outputs[key], key
    assert set(outputs["auroraClusters"]) == set(regions(rec))
    assert outputs["drillObjectives"]["rtoSeconds"] > 0
    names = {a.inputs["name"] for a in rec.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    # Every alarm but the cache role alarms, which are in ALARM in the secondary region by design
    # (components/monitoring.py): the drills check that nothing listed is in ALARM.
    roles = {n for n in names if "-cache-role-" in n}
    assert len(roles) == sum(len(ids) for ids in outputs["cacheWriterHealthCheckIds"].values())
    assert len(roles) == len(rec.by_type("aws:elasticache/replicationGroup:ReplicationGroup")) * (
        1 + {"dev": 1, "staging": 1, "prod": 2}[stack]
    )
    assert {n for region in outputs["alarmNames"].values() for n in region} == names - roles
