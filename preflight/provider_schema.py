"""What the provider's schema says about the types this program creates: which inputs force a
replacement when they change. Data only; ``preflight.changes`` applies it.
"""

from __future__ import annotations

from collections.abc import Mapping

# ForceNew inputs per type, in Pulumi's (camelCase) names. Read from the terraform-provider-aws
# schemas the pinned pulumi-aws bridges (internal/service/<svc>/<resource>.go, `ForceNew: true`
# or a RequiresReplace plan modifier); pulumi-aws renames a few (alarm_name -> name, topic_arn
# -> topic). Conditional replacements are listed where the condition holds for this program:
# storageType forces new only outside Aurora, transitEncryptionEnabled only below Redis 7.0.5,
# engine(Version) downgrades of a replication group (none of which this program plans), so
# they are left out. A change of one of these inputs to an *absent* value is still a
# replacement, except for the inputs in REPLACE_UNLESS_CLEARED. The table has an entry for every
# type the stacks create; tests/preflight/test_preflight_changes.py checks that, and that
# every name is an input of the pinned SDK.
FORCE_NEW: Mapping[str, frozenset[str]] = {
    "pulumi:providers:aws": frozenset(),
    "aws:appautoscaling/policy:Policy": frozenset(
        {"name", "resourceId", "scalableDimension", "serviceNamespace"}
    ),
    "aws:appautoscaling/target:Target": frozenset(
        {"resourceId", "scalableDimension", "serviceNamespace"}
    ),
    "aws:backup/plan:Plan": frozenset({"name"}),
    # aws_backup_region_settings: both maps are updated in place (UpdateRegionSettings).
    "aws:backup/regionSettings:RegionSettings": frozenset(),
    # aws_backup_selection has no Update: every argument forces a new selection.
    "aws:backup/selection:Selection": frozenset(
        {
            "conditions",
            "iamRoleArn",
            "name",
            "notResources",
            "planId",
            "resources",
            "selectionTags",
        }
    ),
    "aws:backup/vault:Vault": frozenset({"name", "kmsKeyArn"}),
    "aws:budgets/budget:Budget": frozenset({"accountId", "name", "namePrefix"}),
    "aws:cloudwatch/dashboard:Dashboard": frozenset({"dashboardName"}),
    "aws:cloudwatch/logGroup:LogGroup": frozenset({"name", "namePrefix", "logGroupClass"}),
    "aws:cloudwatch/metricAlarm:MetricAlarm": frozenset({"name"}),
    "aws:dynamodb/table:Table": frozenset(
        {
            "name",
            "hashKey",
            "rangeKey",
            "localSecondaryIndexes",
            "importTable.s3BucketSource",
            "restoreDateTime",
            "restoreToLatestTime",
            "restoreSourceName",
            "restoreSourceTableArn",
        }
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": frozenset({"vpcId"}),
    # EC2 cannot modify a flow log (there is CreateFlowLogs and DeleteFlowLogs only): the
    # provider updates its tags in place and replaces it for anything else. Checked against
    # internal/service/ec2/vpc_flow_log.go (every argument but tags `ForceNew: true`, Update
    # "Tags only"); tagFieldSpecifications is newer than that read and goes to CreateFlowLogs too.
    "aws:ec2/flowLog:FlowLog": frozenset(
        {
            "deliverCrossAccountRole",
            "destinationOptions",
            "eniId",
            "iamRoleArn",
            "logDestination",
            "logDestinationType",
            "logFormat",
            "maxAggregationInterval",
            "regionalNatGatewayId",
            "subnetId",
            "tagFieldSpecifications",
            "trafficType",
            "transitGatewayAttachmentId",
            "transitGatewayId",
            "vpcId",
        }
    ),
    # internal/service/ec2/vpc_route.go: route_table_id and the destinations are ForceNew, the
    # target is updated in place (ReplaceRoute).
    "aws:ec2/route:Route": frozenset(
        {
            "routeTableId",
            "destinationCidrBlock",
            "destinationIpv6CidrBlock",
            "destinationPrefixListId",
        }
    ),
    # vpc_route_table.go: vpc_id ForceNew; vpc_route_table_association.go: subnet_id and
    # gateway_id ForceNew, route_table_id updated in place (ReplaceRouteTableAssociation).
    "aws:ec2/routeTable:RouteTable": frozenset({"vpcId"}),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": frozenset({"subnetId", "gatewayId"}),
    # vpc_peering_connection.go: peer_owner_id, peer_region, peer_vpc_id and vpc_id ForceNew;
    # vpc_peering_connection_accepter.go: vpc_peering_connection_id ForceNew.
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": frozenset(
        {"peerOwnerId", "peerRegion", "peerVpcId", "vpcId"}
    ),
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": frozenset(
        {"vpcPeeringConnectionId"}
    ),
    "aws:ec2/securityGroup:SecurityGroup": frozenset(
        {"name", "namePrefix", "description", "vpcId"}
    ),
    "aws:ec2/subnet:Subnet": frozenset(
        {
            "cidrBlock",
            "availabilityZone",
            "availabilityZoneId",
            "vpcId",
            "outpostArn",
            "ipv6Native",
            "ipv4IpamPoolId",
            "ipv4NetmaskLength",
        }
    ),
    "aws:ec2/vpc:Vpc": frozenset({"cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"}),
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": frozenset(
        {"globalReplicationGroupIdSuffix", "primaryReplicationGroupId"}
    ),
    "aws:elasticache/replicationGroup:ReplicationGroup": frozenset(
        {
            "replicationGroupId",
            "atRestEncryptionEnabled",
            "dataTieringEnabled",
            "kmsKeyId",
            "networkType",
            "subnetGroupName",
            "securityGroupNames",
            "globalReplicationGroupId",
            "port",
            "snapshotArns",
            "snapshotName",
        }
    ),
    "aws:elasticache/subnetGroup:SubnetGroup": frozenset({"name"}),
    "aws:iam/role:Role": frozenset({"name", "namePrefix", "path"}),
    "aws:iam/rolePolicy:RolePolicy": frozenset({"name", "namePrefix", "role"}),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": frozenset({"policyArn", "role"}),
    "aws:kms/alias:Alias": frozenset({"name", "namePrefix"}),
    "aws:kms/key:Key": frozenset(
        {"multiRegion", "customerMasterKeySpec", "keyUsage", "customKeyStoreId", "xksKeyId"}
    ),
    "aws:kms/replicaKey:ReplicaKey": frozenset({"primaryKeyArn"}),
    # function_name is `name` in pulumi-aws
    "aws:lambda/function:Function": frozenset({"name", "packageType"}),
    # Lambda has AddPermission and RemovePermission, no update: every argument forces new
    # (internal/service/lambda/permission.go has no UpdateWithoutTimeout; all `ForceNew: true`).
    "aws:lambda/permission:Permission": frozenset(
        {
            "action",
            "eventSourceToken",
            "function",
            "functionUrlAuthType",
            "invokedViaFunctionUrl",
            "principal",
            "principalOrgId",
            "qualifier",
            "sourceAccount",
            "sourceArn",
            "statementId",
            "statementIdPrefix",
        }
    ),
    "aws:rds/cluster:Cluster": frozenset(
        {
            "clusterIdentifier",
            "clusterIdentifierPrefix",
            "clusterScalabilityType",
            "engine",
            "engineMode",
            "availabilityZones",
            "databaseName",
            "dbSystemId",
            "masterUsername",
            "kmsKeyId",
            "storageEncrypted",
            "dbSubnetGroupName",
            "snapshotIdentifier",
            "sourceRegion",
            "restoreToPointInTime",
            "s3Import",
        }
    ),
    "aws:rds/clusterInstance:ClusterInstance": frozenset(
        {
            "identifier",
            "identifierPrefix",
            "clusterIdentifier",
            "engine",
            "availabilityZone",
            "dbSubnetGroupName",
            "customIamInstanceProfile",
        }
    ),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": frozenset(
        {"name", "namePrefix", "family", "description"}
    ),
    # terraform-provider-aws internal/service/rds: instance.go, parameter_group.go and
    # instance_automated_backups_replication.go (which has no update: every argument is ForceNew).
    "aws:rds/instance:Instance": frozenset(
        {
            "identifier",
            "identifierPrefix",
            "availabilityZone",
            "characterSetName",
            "dbName",
            "kmsKeyId",
            "storageEncrypted",
            "username",
            "snapshotIdentifier",
            "timezone",
            "restoreToPointInTime",
            "s3Import",
        }
    ),
    "aws:rds/parameterGroup:ParameterGroup": frozenset(
        {"name", "namePrefix", "family", "description"}
    ),
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": frozenset(
        {"sourceDbInstanceArn", "kmsKeyId", "preSignedUrl", "retentionPeriod"}
    ),
    "aws:rds/globalCluster:GlobalCluster": frozenset(
        {
            "globalClusterIdentifier",
            "engine",
            "databaseName",
            "sourceDbClusterIdentifier",
            "storageEncrypted",
        }
    ),
    "aws:rds/subnetGroup:SubnetGroup": frozenset({"name", "namePrefix"}),
    # internal/service/neptune (read at 0542614 for cluster.go and cluster_instance.go, 043e0ed
    # for global_cluster.go): a cluster's storage_type is ForceNew there (kept: a false
    # replacement blocks, a missed one would not); a subnet group's description is updated in
    # place (ModifyDBSubnetGroup); a cluster parameter group's name, family and description are
    # ForceNew like RDS's.
    "aws:neptune/cluster:Cluster": frozenset(
        {
            "availabilityZones",
            "clusterIdentifier",
            "clusterIdentifierPrefix",
            "engine",
            "kmsKeyArn",
            "neptuneSubnetGroupName",
            "port",
            "snapshotIdentifier",
            "storageEncrypted",
            "storageType",
        }
    ),
    "aws:neptune/clusterInstance:ClusterInstance": frozenset(
        {
            "availabilityZone",
            "clusterIdentifier",
            "engine",
            "identifier",
            "identifierPrefix",
            "neptuneSubnetGroupName",
            "port",
            "publiclyAccessible",
        }
    ),
    "aws:neptune/clusterParameterGroup:ClusterParameterGroup": frozenset(
        {"name", "namePrefix", "family", "description"}
    ),
    "aws:neptune/globalCluster:GlobalCluster": frozenset(
        {"engine", "globalClusterIdentifier", "sourceDbClusterIdentifier", "storageEncrypted"}
    ),
    "aws:neptune/subnetGroup:SubnetGroup": frozenset({"name", "namePrefix"}),
    # internal/service/redshift: cluster.go (ForceNew), logging.go and snapshot_copy.go
    # (RequiresReplace plan modifiers); a grant has no Update; a parameter group's name, family
    # and description and a subnet group's name are ForceNew.
    "aws:redshift/cluster:Cluster": frozenset(
        {
            "clusterIdentifier",
            "clusterSubnetGroupName",
            "masterUsername",
            "snapshotArn",
            "snapshotClusterIdentifier",
            "snapshotIdentifier",
        }
    ),
    "aws:redshift/logging:Logging": frozenset({"clusterIdentifier"}),
    "aws:redshift/parameterGroup:ParameterGroup": frozenset({"name", "family", "description"}),
    "aws:redshift/snapshotCopy:SnapshotCopy": frozenset(
        {
            "clusterIdentifier",
            "destinationRegion",
            "manualSnapshotRetentionPeriod",
            "snapshotCopyGrantName",
        }
    ),
    "aws:redshift/snapshotCopyGrant:SnapshotCopyGrant": frozenset(
        {"snapshotCopyGrantName", "kmsKeyId"}
    ),
    "aws:redshift/subnetGroup:SubnetGroup": frozenset({"name"}),
    "aws:route53/healthCheck:HealthCheck": frozenset(
        {"type", "referenceName", "measureLatency", "requestInterval", "routingControlArn"}
    ),
    # type and setIdentifier are updated in place (a delete-and-create inside one change batch).
    "aws:route53/record:Record": frozenset({"name", "zoneId"}),
    "aws:route53/zone:Zone": frozenset({"name", "delegationSetId"}),
    "aws:secretsmanager/secret:Secret": frozenset({"name", "namePrefix"}),
    "aws:secretsmanager/secretRotation:SecretRotation": frozenset({"secretId"}),
    "aws:secretsmanager/secretVersion:SecretVersion": frozenset(
        {"secretId", "secretString", "secretBinary"}
    ),
    "aws:sns/topic:Topic": frozenset({"name", "namePrefix", "fifoTopic"}),
    # tier forces new only from Advanced down to Standard (a CustomizeDiff): not listed.
    "aws:ssm/parameter:Parameter": frozenset({"name", "dataType"}),
    "aws:sns/topicSubscription:TopicSubscription": frozenset(
        {"topic", "protocol", "endpoint", "endpointAutoConfirms", "confirmationTimeoutInMinutes"}
    ),
    # terraform-provider-random: every argument of random_password has RequiresReplace.
    "random:index/randomPassword:RandomPassword": frozenset(
        {
            "length",
            "keepers",
            "lower",
            "upper",
            "number",
            "numeric",
            "special",
            "minLower",
            "minUpper",
            "minNumeric",
            "minSpecial",
            "overrideSpecial",
        }
    ),
}

ROUTE53_RECORD_SWAPPED = frozenset({"type", "setIdentifier"})
"""Record inputs whose change is a DELETE + CREATE of the record set (one batch), not an UPSERT."""

REPLACE_UNLESS_CLEARED: Mapping[str, frozenset[str]] = {
    # DiffSuppressFunc: removing snapshot_identifier does not re-create the cluster.
    "aws:rds/cluster:Cluster": frozenset({"snapshotIdentifier"}),
    # aws_neptune_cluster's snapshot_identifier: DiffSuppressFunc `new == ""`.
    "aws:neptune/cluster:Cluster": frozenset({"snapshotIdentifier"}),
    # ForceNewIfChange(...): a change forces new "unless new is cleared" (provider issue 25214).
    "aws:dynamodb/table:Table": frozenset({"restoreSourceName", "restoreSourceTableArn"}),
}
"""Force-new inputs whose removal is an update, not a replacement."""

REGIONLESS_PREFIXES = ("pulumi:providers:",)
"""Types whose ``region`` input is configuration, not placement: changing it is an update."""
