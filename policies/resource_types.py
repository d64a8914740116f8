"""Type tokens the rules compare ``args.resource_type`` against, and which AWS types are global.

Tokens are spelled once here so a typo cannot silently turn a rule into a no-op; the rule tests
assert that every token a rule targets is a real pulumi-aws v7 resource.
"""

from __future__ import annotations

from typing import Final

AWS_PROVIDER: Final = "pulumi:providers:aws"
RANDOM_PASSWORD: Final = "random:index/randomPassword:RandomPassword"

RDS_CLUSTER: Final = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE: Final = "aws:rds/clusterInstance:ClusterInstance"
RDS_CLUSTER_PARAMETER_GROUP: Final = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
RDS_GLOBAL_CLUSTER: Final = "aws:rds/globalCluster:GlobalCluster"
RDS_INSTANCE: Final = "aws:rds/instance:Instance"
RDS_INSTANCE_BACKUPS_REPLICATION: Final = (
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
)
RDS_PARAMETER_GROUP: Final = "aws:rds/parameterGroup:ParameterGroup"

DYNAMODB_TABLE: Final = "aws:dynamodb/table:Table"
DYNAMODB_TABLE_REPLICA: Final = "aws:dynamodb/tableReplica:TableReplica"

CACHE_REPLICATION_GROUP: Final = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_GLOBAL_REPLICATION_GROUP: Final = (
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
)

KMS_KEY: Final = "aws:kms/key:Key"
KMS_REPLICA_KEY: Final = "aws:kms/replicaKey:ReplicaKey"
KMS_KEY_POLICY: Final = "aws:kms/keyPolicy:KeyPolicy"

SECRET: Final = "aws:secretsmanager/secret:Secret"
SECRET_ROTATION: Final = "aws:secretsmanager/secretRotation:SecretRotation"

VPC: Final = "aws:ec2/vpc:Vpc"
FLOW_LOG: Final = "aws:ec2/flowLog:FlowLog"
SECURITY_GROUP: Final = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP: Final = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_RULE: Final = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_INGRESS_RULE: Final = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ROUTE: Final = "aws:ec2/route:Route"
VPC_PEERING: Final = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
VPC_PEERING_ACCEPTER: Final = "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
LOG_GROUP: Final = "aws:cloudwatch/logGroup:LogGroup"
LAMBDA_FUNCTION: Final = "aws:lambda/function:Function"

SNS_TOPIC: Final = "aws:sns/topic:Topic"
SNS_SUBSCRIPTION: Final = "aws:sns/topicSubscription:TopicSubscription"
METRIC_ALARM: Final = "aws:cloudwatch/metricAlarm:MetricAlarm"

BACKUP_VAULT: Final = "aws:backup/vault:Vault"
BACKUP_PLAN: Final = "aws:backup/plan:Plan"
BACKUP_SELECTION: Final = "aws:backup/selection:Selection"
BACKUP_REGION_SETTINGS: Final = "aws:backup/regionSettings:RegionSettings"

ROUTE53_RECORD: Final = "aws:route53/record:Record"
ROUTE53_HEALTH_CHECK: Final = "aws:route53/healthCheck:HealthCheck"
ROUTE53_ZONE: Final = "aws:route53/zone:Zone"

REDSHIFT_CLUSTER: Final = "aws:redshift/cluster:Cluster"
REDSHIFT_LOGGING: Final = "aws:redshift/logging:Logging"
REDSHIFT_SNAPSHOT_COPY: Final = "aws:redshift/snapshotCopy:SnapshotCopy"
REDSHIFT_SNAPSHOT_COPY_GRANT: Final = "aws:redshift/snapshotCopyGrant:SnapshotCopyGrant"
REDSHIFT_PARAMETER_GROUP: Final = "aws:redshift/parameterGroup:ParameterGroup"
REDSHIFT_SUBNET_GROUP: Final = "aws:redshift/subnetGroup:SubnetGroup"

BUDGET: Final = "aws:budgets/budget:Budget"
AUTOSCALING_TARGET: Final = "aws:appautoscaling/target:Target"

STATEFUL_DATA_STORES: Final = frozenset(
    {RDS_CLUSTER, DYNAMODB_TABLE, DYNAMODB_TABLE_REPLICA, CACHE_REPLICATION_GROUP, BACKUP_VAULT}
)
"""The types whose regions define the stack's region pair."""

# pulumi-aws v7 modules whose resources have no per-resource ``region`` input (global APIs).
_GLOBAL_MODULES: Final = frozenset(
    {
        "account",
        "bcmdata",
        "billing",
        "budgets",
        "cloudfront",
        "costexplorer",
        "costoptimizationhub",
        "cur",
        "globalaccelerator",
        "iam",
        "networkmanager",
        "notifications",
        "organizations",
        "pricingplanmanager",
        "rolesanywhere",
        "route53domains",
        "route53recoverycontrol",
        "route53recoveryreadiness",
        "shield",
        "uxc",
        "waf",
    }
)
# Route 53 is mixed: hosted zones, records and health checks are global, resolver rules are not.
_GLOBAL_ROUTE53: Final = frozenset(
    {
        "cidrCollection",
        "cidrLocation",
        "delegationSet",
        "healthCheck",
        "hostedZoneDnsSec",
        "keySigningKey",
        "queryLog",
        "record",
        "recordsExclusive",
        "trafficPolicy",
        "trafficPolicyInstance",
        "vpcAssociationAuthorization",
        "zone",
        "zoneAssociation",
    }
)


def module_of(type_token: str) -> tuple[str, str] | None:
    """(module, resource) of an ``aws:<module>/<resource>:<Class>`` token, else None."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "aws" or "/" not in parts[1]:
        return None
    module, resource = parts[1].split("/", 1)
    return module, resource


def is_regional(type_token: str) -> bool:
    """True for AWS resources that take pulumi-aws v7's per-resource ``region`` input."""
    parsed = module_of(type_token)
    if parsed is None:
        return False
    module, resource = parsed
    if module in _GLOBAL_MODULES:
        return False
    return not (module == "route53" and resource in _GLOBAL_ROUTE53)


# Data-tier types that accept ``tags`` (the required-tags rule also checks any type that sets
# ``tags`` explicitly, so this list only needs the types that could omit them).
TAGGABLE: Final = frozenset(
    {
        RDS_CLUSTER,
        RDS_CLUSTER_INSTANCE,
        RDS_CLUSTER_PARAMETER_GROUP,
        RDS_GLOBAL_CLUSTER,
        RDS_INSTANCE,
        "aws:rds/subnetGroup:SubnetGroup",
        RDS_PARAMETER_GROUP,
        DYNAMODB_TABLE,
        DYNAMODB_TABLE_REPLICA,
        CACHE_REPLICATION_GROUP,
        "aws:elasticache/subnetGroup:SubnetGroup",
        "aws:elasticache/parameterGroup:ParameterGroup",
        "aws:elasticache/user:User",
        "aws:elasticache/userGroup:UserGroup",
        KMS_KEY,
        KMS_REPLICA_KEY,
        SNS_TOPIC,
        METRIC_ALARM,
        BACKUP_VAULT,
        BACKUP_PLAN,
        ROUTE53_HEALTH_CHECK,
        "aws:route53/zone:Zone",
        BUDGET,
        AUTOSCALING_TARGET,
        SECRET,
        VPC,
        FLOW_LOG,
        "aws:ec2/subnet:Subnet",
        SECURITY_GROUP,
        "aws:ec2/routeTable:RouteTable",
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        LOG_GROUP,
        LAMBDA_FUNCTION,
        REDSHIFT_CLUSTER,
        REDSHIFT_PARAMETER_GROUP,
        REDSHIFT_SUBNET_GROUP,
        REDSHIFT_SNAPSHOT_COPY_GRANT,
    }
)
