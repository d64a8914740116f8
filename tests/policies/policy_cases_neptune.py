"""Cases of the fraud graph's rules (issue 20, policies/neptune.py): the single-property changes
to the golden stack's Neptune resources that make each rule fire, and nothing else."""

from __future__ import annotations

from policies import neptune as nep
from tests.policies.mutations import Case, Override, _eq
from tests.policies.policy_support import DELETE, EAST, KEY, WEST, Mutation

M = Mutation
CLUSTER, GLOBAL, PARAMS = (
    nep.NEPTUNE_CLUSTER,
    nep.NEPTUNE_GLOBAL_CLUSTER,
    nep.NEPTUNE_PARAMETER_GROUP,
)

NEPTUNE_CASES: dict[str, Case] = {
    "neptune-cmk": Case(
        (
            M(CLUSTER, "kmsKeyArn", DELETE),
            M(CLUSTER, "storageEncrypted", False),
        ),
        ineffective=(
            # A key of the other region, and the AWS-managed key: encrypted, but not with the
            # cluster's own region's CMK.
            M(CLUSTER, "kmsKeyArn", KEY[WEST], where=_eq("region", EAST)),
            M(CLUSTER, "kmsKeyArn", "alias/aws/rds"),
        ),
    ),
    "neptune-backup-retention": Case(
        (
            M(CLUSTER, "backupRetentionPeriod", 3.0),
            M(CLUSTER, "backupRetentionPeriod", DELETE),
        ),
        (
            Override({"minDays": 8}),
            Override({"minDays": 3}, M(CLUSTER, "backupRetentionPeriod", 3.0), fires=False),
        ),
    ),
    "neptune-iam-auth": Case(
        (
            M(CLUSTER, "iamDatabaseAuthenticationEnabled", False),
            M(CLUSTER, "iamDatabaseAuthenticationEnabled", DELETE),
        )
    ),
    "neptune-deletion-protection": Case(
        (
            M(CLUSTER, "deletionProtection", False),
            M(GLOBAL, "deletionProtection", DELETE),
        )
    ),
    "neptune-copy-tags-to-snapshot": Case((M(CLUSTER, "copyTagsToSnapshot", False),)),
    "neptune-audit-logs": Case(
        (
            M(CLUSTER, "enableCloudwatchLogsExports", DELETE),
            M(PARAMS, "parameters", [], expect="neptune_enable_audit_log=1"),
        ),
        ineffective=(
            # Exported, but the parameter group leaves the audit log off: the export stays empty.
            M(PARAMS, "parameters.0.value", "0", expect="neptune_enable_audit_log=1"),
        ),
    ),
    "neptune-global-membership": Case(
        (M(CLUSTER, "globalClusterIdentifier", DELETE, where=_eq("region", WEST)),)
    ),
}
