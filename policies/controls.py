"""Which framework controls each rule supports, and what the pack says about every FSBP control.

One table keyed by rule name (``RULE_CONTROLS``) instead of a field on every ``Rule``, so the
mapping is reviewed in one place. Each entry names:

* the AWS Foundational Security Best Practices (Security Hub) control ids the rule checks at
  preview time, taken from the per-service control pages (``data/fsbp-controls.json`` records
  every control of the plan's services with its page and its "Related requirements");
* CIS AWS Foundations Benchmark v3.0.0 and PCI DSS v4.0.1 ids: those the control pages link to
  the rule's FSBP controls, plus the ones the rule supports directly (``cis``/``pci``), each
  direct link explained in ``note``;
* or, for a rule that supports no control, why (``note``).

``FSBP_DISPOSITIONS`` says, for every FSBP control of the plan's services that no rule covers,
why: not applicable to this design, account-level (outside any stack), or a gap. The framework
id lists ship as data (``data/*.json``, with source and retrieval date) so a test can check
every id named here exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

DATA = Path(__file__).resolve().parent / "data"

FRAMEWORK_FILES = {
    "fsbp": "fsbp-controls.json",
    "cis": "cis-aws-foundations-v3.0.0.json",
    "pci-dss": "pci-dss-v4.0.1.json",
}
"""``--compliance`` name -> data file of the framework's ids."""


@dataclass(frozen=True, slots=True)
class Framework:
    """One framework's id list, as shipped in ``data/``."""

    key: str
    name: str
    version: str
    source: str
    retrieved: str
    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FsbpControl:
    """One Security Hub control, transcribed from its service's control page."""

    id: str
    title: str
    service: str
    page: str
    resource_types: tuple[str, ...]
    pci: tuple[str, ...]
    cis: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleControls:
    """What one rule supports (see the module docstring)."""

    fsbp: tuple[str, ...] = ()
    cis: tuple[str, ...] = ()
    pci: tuple[str, ...] = ()
    note: str = ""


Kind = Literal["not-applicable", "account-level", "not-covered"]


@dataclass(frozen=True, slots=True)
class Disposition:
    """Why no rule covers an FSBP control."""

    kind: Kind
    reason: str


@cache
def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return loaded


@cache
def fsbp_catalog() -> dict[str, FsbpControl]:
    """Every control of the plan's services, by id, in page order."""
    doc = _load(FRAMEWORK_FILES["fsbp"])
    return {
        c["id"]: FsbpControl(
            id=c["id"],
            title=c["title"],
            service=c["service"],
            page=c["page"],
            resource_types=tuple(c["resourceTypes"]),
            pci=tuple(c["pciDss"]),
            cis=tuple(c["cis"]),
        )
        for c in doc["controls"]
    }


@cache
def framework(key: str) -> Framework:
    """The id list of ``fsbp``, ``cis`` or ``pci-dss``."""
    doc = _load(FRAMEWORK_FILES[key])
    ids = tuple(c["id"] for c in doc["controls"]) if key == "fsbp" else tuple(doc["ids"])
    return Framework(
        key=key,
        name=doc["framework"],
        version=doc["version"],
        source=doc.get("sourceUrl") or "; ".join(doc.get("sources", [])) or doc["source"],
        retrieved=doc["retrieved"],
        ids=ids,
    )


def _m(
    *fsbp: str, cis: Iterable[str] = (), pci: Iterable[str] = (), note: str = ""
) -> RuleControls:
    return RuleControls(fsbp=tuple(fsbp), cis=tuple(cis), pci=tuple(pci), note=note)


_AT_REST = (
    "PCI DSS 3.5.1 (stored account data rendered unreadable with strong cryptography): a direct "
    "link; the Security Hub pages link no RDS/DynamoDB/ElastiCache encryption control to it."
)
_CMK = (
    "Stricter than the FSBP encryption controls, which any key (AWS-managed included) passes; "
    "no FSBP control asks for a customer-managed key. " + _AT_REST
)
_TRANSIT = (
    "PCI DSS 4.2.1 (strong cryptography in transit) linked directly, as the pages do for "
    "ElastiCache.5 and DynamoDB.7; RDS.38 evaluates stand-alone RDS instances, not Aurora."
)
_DR = (
    "Disaster recovery across the region pair: no FSBP control checks a second region; the "
    "drill report is the evidence an auditor reads (docs/drills.md)."
)
_COST = "Cost guardrail: no security or compliance control asks for it."
_ALARM = "Operational alarm: no FSBP control asks for a specific metric alarm."
_TAGS = (
    "The tagging controls (DynamoDB.5, SecretsManager.5, Lambda.6, SNS.3, Backup.3, Backup.5, "
    "Route53.1, RDS.28, RDS.30, RDS.33, EC2.43, EC2.44, EC2.46, EC2.48, IAM.24, Redshift.11, "
    "Redshift.14, Redshift.17) only require tag keys to be present, which required-tags checks."
)

RULE_CONTROLS: dict[str, RuleControls] = {
    # multi_az
    "rds-multi-az": _m("RDS.15", "RDS.5"),
    "elasticache-automatic-failover": _m("ElastiCache.3"),
    "elasticache-multi-az": _m(
        note="Multi-AZ placement of cache nodes: ElastiCache.3 checks automatic failover only "
        "(elasticache-automatic-failover); no FSBP control checks the nodes' zones."
    ),
    # backups
    "rds-backup-retention": _m("RDS.11"),
    "rds-final-snapshot": _m(
        note="A final snapshot on delete: no FSBP control checks it (RDS.7/RDS.8 cover deletion "
        "protection)."
    ),
    "rds-copy-tags-to-snapshot": _m("RDS.16", "RDS.17", "RDS.47"),
    "dynamodb-table-pitr": _m("DynamoDB.2"),
    "dynamodb-replica-pitr": _m("DynamoDB.2"),
    "elasticache-snapshot-retention": _m("ElastiCache.1"),
    "backup-plan-frequency-retention": _m(
        note="Backup plan frequency and retention: an AWS Config managed rule "
        "(backup-plan-min-frequency-and-min-retention-check) that no Security Hub control uses."
    ),
    "backup-cross-region-copy": _m(note=_DR),
    "backup-dynamodb-copy-region-settings": _m(
        note="AWS Backup's advanced DynamoDB features (an account/region setting) are what lets a "
        "cross-region copy of a DynamoDB backup exist at all; no FSBP control reads them. " + _DR
    ),
    "backup-coverage": _m("DynamoDB.4", "RDS.26"),
    # encryption
    "rds-storage-encrypted": _m("RDS.3", "RDS.27", "RDS.4", pci=("3.5.1",), note=_AT_REST),
    "rds-cmk": _m(pci=("3.5.1",), note=_CMK),
    "rds-global-cluster-encrypted": _m("RDS.27", pci=("3.5.1",), note=_AT_REST),
    "rds-performance-insights-encrypted": _m(
        pci=("3.5.1",),
        note="Performance Insights data holds query text; no FSBP control checks its key. "
        + _AT_REST,
    ),
    "rds-iam-auth": _m("RDS.10", "RDS.12"),
    "rds-not-publicly-accessible": _m("RDS.2"),
    "rds-master-password-not-literal": _m(
        pci=("8.6.2",),
        note="PCI DSS 8.6.2 (passwords of system accounts not hard-coded in scripts or "
        "configuration files) linked directly; no FSBP control reads IaC inputs.",
    ),
    "rds-force-ssl": _m(pci=("4.2.1",), note=_TRANSIT),
    "rds-ca-certificate": _m(
        note="Server certificate authority of the instances: no FSBP control checks it."
    ),
    "dynamodb-table-cmk": _m(pci=("3.5.1",), note=_CMK),
    "dynamodb-replica-cmk": _m(pci=("3.5.1",), note=_CMK),
    "elasticache-at-rest-encryption": _m("ElastiCache.4", pci=("3.5.1",), note=_AT_REST),
    "elasticache-cmk": _m(pci=("3.5.1",), note=_CMK),
    "elasticache-in-transit-encryption": _m("ElastiCache.5"),
    "elasticache-auth": _m("ElastiCache.6"),
    "sns-topic-encrypted": _m("SNS.1"),
    "backup-vault-cmk": _m("Backup.1", pci=("3.5.1",), note=_AT_REST),
    # kms
    "kms-key-rotation": _m("KMS.4"),
    "kms-key-deletion-window": _m("KMS.3"),
    "kms-key-enabled": _m(
        note="A disabled key makes the data it protects unreadable (an outage, not exposure); "
        "KMS.3 covers scheduled deletion only."
    ),
    "kms-key-policy-no-public-principal": _m("KMS.5"),
    "kms-key-policy-lockout-safety": _m(
        note="The key-policy lockout safety check: no FSBP control checks it."
    ),
    # secrets
    "secretsmanager-cmk": _m(
        pci=("8.3.2",),
        note="PCI DSS 8.3.2 (authentication factors unreadable in storage with strong "
        "cryptography) linked directly: the secrets are database and cache credentials.",
    ),
    "secretsmanager-rotation": _m("SecretsManager.1", "SecretsManager.4"),
    # network
    "security-group-data-ingress": _m(
        "EC2.19",
        "Redshift.15",
        note="EC2.19 lists 5432 and 3306 among its high-risk ports (not 6379 or Redshift's 5439, "
        "which this rule adds; Redshift.15 asks the same of the cluster port); the rule also "
        "holds sources to the application CIDRs.",
    ),
    "vpc-flow-logs": _m("EC2.6"),
    "network-app-path": _m(
        note="Reachability of the data from the applications of both regions after a failover "
        "(Aurora User Guide, connecting to a global database's writer endpoint): availability, "
        "which no FSBP control checks. " + _DR
    ),
    # observability
    "cloudwatch-log-group-protected": _m(
        "CloudWatch.16",
        pci=("10.5.1",),
        note="PCI DSS 10.5.1 (audit log history retained at least 12 months) linked directly: "
        "the default minimum retention is 365 days.",
    ),
    "rds-ddl-logging": _m(
        pci=("10.2.1",),
        note="PCI DSS 10.2.1 (audit logs enabled) linked directly; RDS.45 is the Aurora MySQL "
        "counterpart, no control reads PostgreSQL's log_statement.",
    ),
    "alarm-topic-subscribed": _m(
        note="That an alarm's topic reaches someone: CloudWatch.15 checks that an action is "
        "configured (cloudwatch-alarm-actions), not that it is delivered."
    ),
    # cost
    "cost-allowed-instance-classes": _m(note=_COST),
    "cost-allowed-cache-node-types": _m(note=_COST),
    "cost-performance-insights-retention": _m(note=_COST),
    "cost-allowed-regions": _m(
        note="Data residency and cost: no FSBP control limits regions (an SCP does, outside a stack)."
    ),
    "cost-reader-count-cap": _m(note=_COST),
    "cost-budget-present": _m(note=_COST),
    "dynamodb-billing-mode": _m("DynamoDB.1"),
    "rds-storage": _m(note=_COST),
    "cost-budget-estimate": _m(note=_COST),
    # resilience
    "rds-deletion-protection": _m("RDS.7", "RDS.8"),
    "dynamodb-deletion-protection": _m("DynamoDB.6"),
    "dynamodb-streams-when-replicated": _m(note=_DR),
    "rds-performance-insights": _m(note="Performance Insights: no FSBP control asks for it."),
    "rds-enhanced-monitoring": _m("RDS.6"),
    "rds-auto-minor-version-upgrade": _m("RDS.13"),
    "rds-log-exports": _m("RDS.9", "RDS.37", "RDS.34"),
    "explicit-region": _m(
        note="Pins every resource to its region (pulumi-aws v7): a correctness guardrail."
    ),
    "region-pair": _m(note=_DR),
    "aurora-global-cluster-both-regions": _m(note=_DR),
    "dynamodb-replica-in-other-region": _m(note=_DR),
    "cache-global-datastore-secondary": _m(note=_DR),
    # rds_instances (issue 20, payments database)
    "rds-instance-backup-replication": _m(note=_DR),
    "rds-instance-cross-region-replica": _m(note=_DR),
    # neptune (issue 20, fraud graph)
    "neptune-cmk": _m("Neptune.1", "Neptune.6", note=_CMK),
    "neptune-backup-retention": _m("Neptune.5"),
    "neptune-iam-auth": _m("Neptune.7"),
    "neptune-deletion-protection": _m("Neptune.4"),
    "neptune-copy-tags-to-snapshot": _m("Neptune.8"),
    "neptune-audit-logs": _m("Neptune.2"),
    "neptune-global-membership": _m(note=_DR),
    # alarms
    "database-cpu-alarm": _m(note=_ALARM),
    "cache-cpu-alarm": _m(note=_ALARM),
    "aurora-replication-lag-alarm": _m(note=_ALARM),
    "cloudwatch-alarm-actions": _m("CloudWatch.15", "CloudWatch.17"),
    # route53
    "route53-writer-failover": _m(note=_DR),
    "route53-health-check-alarm": _m(note=_ALARM),
    # tagging
    "required-tags": _m(
        "DynamoDB.5",
        "SecretsManager.5",
        "Lambda.6",
        "SNS.3",
        "Backup.3",
        "Backup.5",
        "Route53.1",
        "RDS.28",
        "RDS.30",
        "RDS.33",
        "EC2.43",
        "EC2.44",
        "EC2.46",
        "EC2.48",
        "IAM.24",
        "Redshift.11",
        "Redshift.14",
        "Redshift.17",
        note=_TAGS,
    ),
    "tag-values-allowed": _m(
        note="Tag values (Environment and classification): the tagging controls check keys only."
    ),
    "dynamodb-replica-propagate-tags": _m("DynamoDB.5"),
    # access
    "iam-policy-least-privilege": _m(
        "IAM.1",
        "IAM.21",
        "KMS.1",
        "KMS.2",
        cis=("1.16",),
        pci=("7.2.1", "7.2.2"),
        note="CIS v3.0.0 1.16 (no policy allows full *:* administrative privileges) and PCI DSS "
        "7.2.1/7.2.2 (access assigned on least privilege) linked directly: the IAM.1 page links "
        "only CIS v1.2.0/v1.4.0 and PCI DSS v3.2.1 7.2.1.",
    ),
    "iam-trust-policy-no-public-principal": _m(
        pci=("7.2.1",),
        note="Who may assume a role: no FSBP control reads trust policies (IAM Access Analyzer, "
        "account-level, does); PCI DSS 7.2.1 linked directly.",
    ),
    "lambda-permission-not-public": _m("Lambda.1"),
    "sns-topic-policy-not-public": _m("SNS.4"),
    # hardening
    "lambda-supported-runtime": _m("Lambda.2"),
    "rds-custom-admin-username": _m("RDS.24", "RDS.25"),
    "elasticache-auto-minor-version-upgrade": _m("ElastiCache.2"),
    "subnet-no-public-ip": _m("EC2.15"),
    "default-security-group-closed": _m("EC2.2"),
    "security-group-high-risk-ports": _m(
        "EC2.13",
        "EC2.14",
        "EC2.19",
        "EC2.53",
        "EC2.54",
        note="EC2.19's list less 3306/5432 (security-group-data-ingress holds those to the "
        "application CIDRs).",
    ),
    "route53-public-zone-query-logging": _m("Route53.2"),
    # redshift (policies/redshift.py)
    "redshift-cmk": _m("Redshift.10", pci=("3.5.1",), note=_CMK),
    "redshift-require-ssl": _m("Redshift.2"),
    "redshift-not-publicly-accessible": _m("Redshift.1"),
    "redshift-enhanced-vpc-routing": _m("Redshift.7"),
    "redshift-audit-logging": _m("Redshift.4"),
    "redshift-snapshot-retention": _m("Redshift.3"),
    "redshift-snapshot-copy": _m(
        note="Automated snapshots copied to the other region, where a restore rebuilds the "
        "warehouse (docs/drills.md): no FSBP control checks a second region. " + _DR
    ),
    "redshift-admin-credentials": _m(
        "Redshift.8",
        pci=("8.6.2",),
        note="PCI DSS 8.6.2 (system account passwords not hard-coded) linked directly: the "
        "rule requires manage_master_password, so the admin password is never an input.",
    ),
    "redshift-version-upgrade": _m("Redshift.6"),
    "cost-allowed-redshift-node-types": _m(note=_COST),
}
"""Rule name -> the controls it supports (every rule of the pack has an entry)."""


def _na(reason: str) -> Disposition:
    return Disposition("not-applicable", reason)


def _account(reason: str) -> Disposition:
    return Disposition("account-level", reason)


def _gap(reason: str) -> Disposition:
    return Disposition("not-covered", reason)


_NO_INSTANCE_RDS = (
    "The design has Aurora clusters only; Security Hub evaluates this control on stand-alone "
    "RDS DB instances (Aurora cluster members are excluded or have no such setting)."
)
_NO_EC2 = "No EC2 instances in this design (the data tier is managed services only)."
_NO_EBS = "No EBS volumes in this design."
_NO_LAUNCH = "No launch templates or Spot Fleets in this design."
_NO_VPN = "No VPN connections, VPN gateways or Client VPN endpoints in this design."
_NO_TGW = "No transit gateways in this design."
_NO_NACL = "The design adds no network ACLs (each VPC keeps its default ACL)."
_NO_ENDPOINT = (
    "The data VPCs host no compute that calls this service's API (the rotation functions run "
    "outside the VPCs), so an interface endpoint has no client."
)
_CLOUDTRAIL = (
    "CloudTrail metric filter and alarm on the account's trail: account-level, set up with the "
    "landing zone (one trail per organization), not by a data-tier stack."
)
_PASSWORD_POLICY = "Account password policy for IAM users: account-level, not set by a stack."
_ROOT = "Root user credentials: account-level."
_IAM_USERS = "The stack creates no IAM users (roles only); IAM users are account-level."
_SNAPSHOTS = (
    "Manual snapshots are not part of the plan (automated backups and AWS Backup recovery "
    "points are); sharing a snapshot is an account-level action."
)


FSBP_DISPOSITIONS: dict[str, Disposition] = {
    "RDS.1": _account(_SNAPSHOTS),
    "Neptune.3": _account(_SNAPSHOTS),
    "Neptune.9": _gap(
        "The fraud graph's instances (components/neptune.py) are not pinned to Availability "
        "Zones and no rule checks how a Neptune cluster's instances spread (issue 20 follow-up)."
    ),
    "RDS.14": _na("Backtracking exists only for Aurora MySQL; the design runs Aurora PostgreSQL."),
    "RDS.18": _na(_NO_INSTANCE_RDS),
    "RDS.19": _gap(
        "No RDS event subscription: the stack alarms on metrics (database-cpu-alarm, "
        "aurora-replication-lag-alarm) and Route 53 health; cluster events are not subscribed."
    ),
    "RDS.20": _na("The control passes when no event subscription exists; the design has none."),
    "RDS.21": _na("The control passes when no event subscription exists; the design has none."),
    "RDS.22": _na(
        "DB security groups are EC2-Classic; the control passes when no subscription exists."
    ),
    "RDS.23": _na(_NO_INSTANCE_RDS),
    "RDS.29": _account(_SNAPSHOTS),
    "RDS.31": _na("DB security groups are EC2-Classic; the design uses VPC security groups."),
    "RDS.32": _account(_SNAPSHOTS),
    "RDS.35": _na(
        "Applies to Multi-AZ DB clusters (non-Aurora); Aurora takes minor upgrades per instance "
        "(RDS.13, rds-auto-minor-version-upgrade)."
    ),
    "RDS.36": _na(_NO_INSTANCE_RDS),
    "RDS.38": _na(_NO_INSTANCE_RDS),
    "RDS.39": _na(_NO_INSTANCE_RDS),
    "RDS.40": _na("No RDS for SQL Server."),
    "RDS.41": _na("No RDS for SQL Server."),
    "RDS.42": _na("No RDS for MariaDB."),
    "RDS.43": _na("No RDS Proxy in this design."),
    "RDS.44": _na("No RDS for MariaDB."),
    "RDS.45": _na("Aurora MySQL only; the design runs Aurora PostgreSQL (rds-ddl-logging)."),
    "RDS.46": _na(_NO_INSTANCE_RDS),
    "RDS.48": _na("RDS for MySQL Multi-AZ clusters only."),
    "DynamoDB.3": _na("No DynamoDB Accelerator (DAX) cluster in this design."),
    "DynamoDB.7": _na("No DynamoDB Accelerator (DAX) cluster in this design."),
    "ElastiCache.7": _na(
        "Evaluates stand-alone cache clusters; the design uses replication groups, each with "
        "its own subnet group (never 'default')."
    ),
    "SecretsManager.2": _account(
        "Whether scheduled rotations succeed is runtime state (RotationOccurringAsScheduled), "
        "visible after deploy only; the drills exercise rotation against the emulator."
    ),
    "SecretsManager.3": _account(
        "Whether a secret was accessed in the last 90 days is runtime state, not in a plan."
    ),
    "Lambda.3": _na(
        "The rotation functions call only AWS APIs (Secrets Manager, the RDS Data API, "
        "ElastiCache) and reach no address inside the VPCs, so they run outside them; the "
        "drills' probe function (drillsProbes), which connects to the stores, runs inside."
    ),
    "Lambda.5": _na(
        "Applies to VPC-connected functions only: the drills' probe function (drillsProbes, off "
        "by default) runs in the data VPC's three private subnets, one per Availability Zone."
    ),
    "Lambda.7": _gap(
        "The rotation functions do not enable X-Ray active tracing (tracingConfig); their logs "
        "go to CloudWatch Logs. Enabling it is a components/ change."
    ),
    "IAM.2": _na(_IAM_USERS),
    "IAM.3": _na(_IAM_USERS),
    "IAM.4": _account(_ROOT),
    "IAM.5": _na(_IAM_USERS),
    "IAM.6": _account(_ROOT),
    "IAM.7": _account(_PASSWORD_POLICY),
    "IAM.8": _na(_IAM_USERS),
    "IAM.9": _account(_ROOT),
    "IAM.10": _account(_PASSWORD_POLICY),
    "IAM.11": _account(_PASSWORD_POLICY),
    "IAM.12": _account(_PASSWORD_POLICY),
    "IAM.13": _account(_PASSWORD_POLICY),
    "IAM.14": _account(_PASSWORD_POLICY),
    "IAM.15": _account(_PASSWORD_POLICY),
    "IAM.16": _account(_PASSWORD_POLICY),
    "IAM.17": _account(_PASSWORD_POLICY),
    "IAM.18": _account("An AWS Support role is an account-level role, not a data-tier one."),
    "IAM.19": _na(_IAM_USERS),
    "IAM.22": _na(_IAM_USERS),
    "IAM.23": _account("IAM Access Analyzer analyzers are account-level."),
    "IAM.25": _na(_IAM_USERS),
    "IAM.26": _na("No IAM server certificates in this design."),
    "IAM.27": _na(
        "The stack attaches only the AWS Backup and RDS monitoring service-role policies "
        "(iam-policy-least-privilege reads the rest), never AWSCloudShellFullAccess."
    ),
    "IAM.28": _account("IAM Access Analyzer is enabled per account and region, not per stack."),
    "EC2.1": _account("EBS snapshot public restore is an account setting; no EBS in the design."),
    "EC2.3": _na(_NO_EBS),
    "EC2.4": _na(_NO_EC2),
    "EC2.7": _account("EBS encryption by default is an account-level setting."),
    "EC2.8": _na(_NO_EC2),
    "EC2.9": _na(_NO_EC2),
    "EC2.10": _na(_NO_ENDPOINT),
    "EC2.12": _na("No Elastic IPs in this design."),
    "EC2.16": _na(_NO_NACL),
    "EC2.17": _na(_NO_EC2),
    "EC2.18": _gap(
        "The pack forbids /0 on the data ports and the high-risk ports "
        "(security-group-data-ingress, security-group-high-risk-ports), not on every port but "
        "80/443; the data security groups admit no /0 at all today."
    ),
    "EC2.20": _na(_NO_VPN),
    "EC2.21": _na(_NO_NACL),
    "EC2.22": _na(
        "Removed from FSBP in September 2023 (the page says so); every security group of the "
        "plan is referenced by a cluster or replication group."
    ),
    "EC2.23": _na(_NO_TGW),
    "EC2.24": _na(_NO_EC2),
    "EC2.25": _na(_NO_LAUNCH),
    "EC2.28": _na(_NO_EBS),
    "EC2.33": _na(_NO_TGW),
    "EC2.34": _na(_NO_TGW),
    "EC2.35": _na("The plan creates no network interfaces itself (the services do)."),
    "EC2.36": _na(_NO_VPN),
    "EC2.37": _na("No Elastic IPs in this design."),
    "EC2.38": _na(_NO_EC2),
    "EC2.39": _na("The data VPCs have no internet gateway."),
    "EC2.40": _na("The data VPCs have no NAT gateway."),
    "EC2.41": _na(_NO_NACL),
    "EC2.42": _na("The plan's route tables are the VPCs' main route tables (not created)."),
    "EC2.45": _na(_NO_EBS),
    "EC2.47": _na("No VPC endpoint services in this design."),
    "EC2.49": _na("No VPC peering connections in this design."),
    "EC2.50": _na(_NO_VPN),
    "EC2.51": _na(_NO_VPN),
    "EC2.52": _na(_NO_TGW),
    "EC2.55": _na(_NO_ENDPOINT),
    "EC2.56": _na(_NO_ENDPOINT),
    "EC2.57": _na(_NO_ENDPOINT),
    "EC2.58": _na(_NO_ENDPOINT),
    "EC2.60": _na(_NO_ENDPOINT),
    "EC2.170": _na(_NO_LAUNCH),
    "EC2.171": _na(_NO_VPN),
    "EC2.172": _account("VPC Block Public Access is an account-and-region setting."),
    "EC2.173": _na(_NO_LAUNCH),
    "EC2.174": _na("The plan creates no DHCP option sets."),
    "EC2.175": _na(_NO_LAUNCH),
    "EC2.176": _na("The plan creates no prefix lists."),
    "EC2.177": _na("No traffic mirroring in this design."),
    "EC2.178": _na("No traffic mirroring in this design."),
    "EC2.179": _na("No traffic mirroring in this design."),
    "EC2.180": _na("The plan creates no network interfaces itself (the services do)."),
    "EC2.181": _na(_NO_LAUNCH),
    "EC2.182": _account("EBS snapshot block public access is an account-and-region setting."),
    "EC2.183": _na(_NO_VPN),
    **{f"CloudWatch.{n}": _account(_CLOUDTRAIL) for n in range(1, 15)},
    "Backup.2": _na(
        "Recovery points are created by AWS Backup at run time, not in the plan; the backup "
        "plan's recoveryPointTags are not set (Backup.5 covers the plan's own tags)."
    ),
    "Backup.4": _na("No AWS Backup report plans in this design."),
    "SSM.1": _na(_NO_EC2),
    "SSM.2": _na(_NO_EC2),
    "SSM.3": _na(_NO_EC2),
    "SSM.4": _na("No SSM documents in this design (the stack writes SSM parameters only)."),
    "SSM.5": _na("No SSM documents in this design."),
    "SSM.6": _account("SSM Automation logging is an account-level setting."),
    "SSM.7": _account("SSM document public sharing block is an account-level setting."),
    "Redshift.12": _na("No Redshift event subscriptions in this design."),
    "Redshift.13": _account(
        "Manual cluster snapshots are not part of the plan (automated snapshots and their "
        "cross-region copies are, and they carry the cluster's tags); a manual snapshot is an "
        "operator's action."
    ),
    "Redshift.16": _gap(
        "The cluster subnet group holds the data VPC's three private subnets, one per AZ "
        "(components/network.py), but subnet ids are outputs at preview time, so no rule can "
        "read their zones; a brought VPC's subnets are the operator's to spread (networkExistingVpcs)."
    ),
    "Redshift.18": _gap(
        "The analytics cluster runs in one AZ: it is off the checkout path, and a zone or "
        "region loss is recovered by restoring the latest snapshot (docs/drills.md). Multi-AZ "
        "(RA3, 2+ nodes) doubles the compute cost; no stack key sets it yet."
    ),
}
"""FSBP control -> why no rule covers it (every uncovered control of the catalog has one)."""


def mapping(rule: str) -> RuleControls:
    """The entry of ``rule`` (KeyError for a rule the table does not know)."""
    return RULE_CONTROLS[rule]


def fsbp_ids(rule: str) -> tuple[str, ...]:
    """FSBP controls the rule supports."""
    return mapping(rule).fsbp


def cis_ids(rule: str) -> tuple[str, ...]:
    """CIS v3.0.0 ids: direct ones plus those the rule's FSBP controls link."""
    catalog = fsbp_catalog()
    entry = mapping(rule)
    linked = [cid for control in entry.fsbp for cid in catalog[control].cis]
    return tuple(dict.fromkeys([*entry.cis, *linked]))


def pci_ids(rule: str) -> tuple[str, ...]:
    """PCI DSS v4.0.1 ids: direct ones plus those the rule's FSBP controls link."""
    catalog = fsbp_catalog()
    entry = mapping(rule)
    linked = [pid for control in entry.fsbp for pid in catalog[control].pci]
    return tuple(dict.fromkeys([*entry.pci, *linked]))


def ids_for(framework_key: str, rule: str) -> tuple[str, ...]:
    """The ids of one framework the rule supports."""
    if framework_key == "fsbp":
        return fsbp_ids(rule)
    if framework_key == "cis":
        return cis_ids(rule)
    return pci_ids(rule)


def rules_by_control(framework_key: str, rules: Iterable[str]) -> dict[str, list[str]]:
    """Control id -> the rules (of ``rules``) that support it."""
    found: dict[str, list[str]] = {}
    for rule in rules:
        for cid in ids_for(framework_key, rule):
            found.setdefault(cid, []).append(rule)
    return found


@dataclass(frozen=True, slots=True)
class Coverage:
    """One FSBP control of the plan's services: the rules that cover it, or why none does."""

    control: FsbpControl
    rules: tuple[str, ...] = ()
    disposition: Disposition | None = None

    @property
    def status(self) -> str:
        """``covered``, or the disposition's kind."""
        return "covered" if self.rules else (self.disposition.kind if self.disposition else "?")


def coverage(rules: Iterable[str]) -> list[Coverage]:
    """Every FSBP control of the catalog with the rules covering it or its disposition."""
    by_control = rules_by_control("fsbp", rules)
    return [
        Coverage(
            control=control,
            rules=tuple(by_control.get(cid, ())),
            disposition=None if cid in by_control else FSBP_DISPOSITIONS.get(cid),
        )
        for cid, control in fsbp_catalog().items()
    ]


def coverage_counts(rules: Iterable[str]) -> Mapping[str, int]:
    """How many FSBP controls are covered, not applicable, account-level, not covered."""
    counts: dict[str, int] = {}
    for item in coverage(rules):
        counts[item.status] = counts.get(item.status, 0) + 1
    return counts


__all__ = [
    "FRAMEWORK_FILES",
    "FSBP_DISPOSITIONS",
    "RULE_CONTROLS",
    "Coverage",
    "Disposition",
    "Framework",
    "FsbpControl",
    "RuleControls",
    "cis_ids",
    "coverage",
    "coverage_counts",
    "framework",
    "fsbp_catalog",
    "fsbp_ids",
    "ids_for",
    "mapping",
    "pci_ids",
    "rules_by_control",
]
