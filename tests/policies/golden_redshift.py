"""The golden stack's analytics warehouse: a Redshift cluster every rule of policies/redshift.py
accepts, with its parameter group, subnet group, security group, audit logging and the
snapshot copy to the other region through a grant there (as components/redshift.py builds it)."""

from __future__ import annotations

from policies import resource_types as t
from preflight.model import RecordedResource
from tests.policies.policy_support import EAST, KEY, WEST, make

APP_CIDR = "10.100.0.0/16"
CLUSTER_ID = "sc-analytics-us-east-1"

REDSHIFT_SPECS: list[tuple[str, str]] = [
    (t.SECURITY_GROUP, "redshift-sg-us-east-1"),
    (t.REDSHIFT_PARAMETER_GROUP, "redshift-params-us-east-1"),
    (t.REDSHIFT_SUBNET_GROUP, "redshift-subnets-us-east-1"),
    (t.REDSHIFT_CLUSTER, "redshift-us-east-1"),
    (t.REDSHIFT_LOGGING, "redshift-logging-us-east-1"),
    (t.REDSHIFT_SNAPSHOT_COPY_GRANT, "redshift-copy-grant-us-west-2"),
    (t.REDSHIFT_SNAPSHOT_COPY, "redshift-snapshot-copy-us-east-1"),
]
"""(type, name) of every resource below, registered with the golden stack's names."""


def redshift_resources() -> list[RecordedResource]:
    """The compliant warehouse in us-east-1 with its snapshots copied to us-west-2."""
    return [
        make(
            t.SECURITY_GROUP,
            "redshift-sg-us-east-1",
            {
                "region": EAST,
                "vpcId": f"vpc-{EAST}-id",
                "description": "Redshift access from the application tier only",
                "ingress": [
                    {
                        "protocol": "tcp",
                        "fromPort": 5439.0,
                        "toPort": 5439.0,
                        "cidrBlocks": [APP_CIDR],
                    }
                ],
                "egress": [],
            },
            deps={"vpcId": [f"vpc-{EAST}"]},
        ),
        make(
            t.REDSHIFT_PARAMETER_GROUP,
            "redshift-params-us-east-1",
            {
                "region": EAST,
                "name": CLUSTER_ID,
                "family": "redshift-1.0",
                "parameters": [
                    {"name": "require_ssl", "value": "true"},
                    {"name": "enable_user_activity_logging", "value": "true"},
                ],
            },
        ),
        make(
            t.REDSHIFT_SUBNET_GROUP,
            "redshift-subnets-us-east-1",
            {"region": EAST, "name": CLUSTER_ID, "subnetIds": [f"subnet-{EAST}a-id"]},
        ),
        make(
            t.REDSHIFT_CLUSTER,
            "redshift-us-east-1",
            {
                "region": EAST,
                "clusterIdentifier": CLUSTER_ID,
                "nodeType": "ra3.large",
                "clusterType": "single-node",
                "numberOfNodes": 1.0,
                "databaseName": "analytics",
                "masterUsername": "sc_admin",
                "manageMasterPassword": True,
                "masterPasswordSecretKmsKeyId": KEY[EAST],
                "encrypted": "true",
                "kmsKeyId": KEY[EAST],
                "publiclyAccessible": False,
                "enhancedVpcRouting": True,
                "clusterSubnetGroupName": CLUSTER_ID,
                "clusterParameterGroupName": CLUSTER_ID,
                "vpcSecurityGroupIds": ["sg-redshift-east"],
                "port": 5439.0,
                "automatedSnapshotRetentionPeriod": 7.0,
                "allowVersionUpgrade": True,
                "skipFinalSnapshot": False,
                "finalSnapshotIdentifier": f"{CLUSTER_ID}-final",
            },
            deps={
                "kmsKeyId": ["key-us-east-1"],
                "clusterSubnetGroupName": ["redshift-subnets-us-east-1"],
                "clusterParameterGroupName": ["redshift-params-us-east-1"],
                "vpcSecurityGroupIds": ["redshift-sg-us-east-1"],
            },
        ),
        make(
            t.REDSHIFT_LOGGING,
            "redshift-logging-us-east-1",
            {
                "region": EAST,
                "clusterIdentifier": CLUSTER_ID,
                "logDestinationType": "cloudwatch",
                "logExports": ["connectionlog", "useractivitylog", "userlog"],
            },
            deps={"clusterIdentifier": ["redshift-us-east-1"]},
        ),
        make(
            t.REDSHIFT_SNAPSHOT_COPY_GRANT,
            "redshift-copy-grant-us-west-2",
            {"region": WEST, "snapshotCopyGrantName": CLUSTER_ID, "kmsKeyId": KEY[WEST]},
            deps={"kmsKeyId": ["key-us-west-2"]},
        ),
        make(
            t.REDSHIFT_SNAPSHOT_COPY,
            "redshift-snapshot-copy-us-east-1",
            {
                "region": EAST,
                "clusterIdentifier": CLUSTER_ID,
                "destinationRegion": WEST,
                "retentionPeriod": 7.0,
                "snapshotCopyGrantName": CLUSTER_ID,
            },
            deps={
                "clusterIdentifier": ["redshift-us-east-1"],
                "snapshotCopyGrantName": ["redshift-copy-grant-us-west-2"],
            },
        ),
    ]
