"""``--compliance FRAMEWORK``: every control of FSBP, CIS v3.0.0 or PCI DSS v4.0.1 for one stack.

The evidence is the preview itself: the rules that support a control (``policies/controls.py``)
and their findings on this plan, the plan's resources of the types the control evaluates, and,
for the disaster-recovery testing requirement, the stack's latest drill report. Status:

* ``fail``: a rule supporting the control has a mandatory finding (it blocks the preview);
* ``advisory``: only advisory/remediate findings, or drill evidence missing or stale on a stack
  whose level makes that advisory (dev);
* ``pass``: every supporting rule ran and found nothing;
* ``not-covered``: no rule evaluates it (a gap the coverage table states, a rule disabled in the
  policy config, or a requirement no control of the plan's services evidences);
* ``out-of-scope``: not applicable to this design or set at the account level, with the reason.

Nothing is left out: every id of the framework's shipped list appears once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from policies import RULES_BY_NAME, controls
from policies.catalog import level as configured_level
from preflight.critical_path import is_plan_resource
from preflight.model import RecordedResource
from preflight.pipeline import PreflightResult

FRAMEWORKS: Final = tuple(controls.FRAMEWORK_FILES)
"""``fsbp``, ``cis``, ``pci-dss``."""

STATUSES: Final = ("fail", "advisory", "pass", "not-covered", "out-of-scope")

# CloudFormation types on the control pages -> the pulumi-aws tokens of the plan that are them
# (an Aurora cluster member is an AWS::RDS::DBInstance).
CFN_TYPES: Final[Mapping[str, tuple[str, ...]]] = {
    "AWS::RDS::DBCluster": ("aws:rds/cluster:Cluster",),
    "AWS::RDS::DBInstance": (
        "aws:rds/instance:Instance",
        "aws:rds/clusterInstance:ClusterInstance",
    ),
    "AWS::RDS::DBSubnetGroup": ("aws:rds/subnetGroup:SubnetGroup",),
    "AWS::DynamoDB::Table": ("aws:dynamodb/table:Table", "aws:dynamodb/tableReplica:TableReplica"),
    "AWS::ElastiCache::ReplicationGroup": ("aws:elasticache/replicationGroup:ReplicationGroup",),
    "AWS::ElastiCache::CacheCluster": ("aws:elasticache/replicationGroup:ReplicationGroup",),
    "AWS::KMS::Key": ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"),
    "AWS::SecretsManager::Secret": ("aws:secretsmanager/secret:Secret",),
    "AWS::Lambda::Function": ("aws:lambda/function:Function", "aws:lambda/permission:Permission"),
    "AWS::IAM::Policy": ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy"),
    "AWS::IAM::Role": ("aws:iam/role:Role",),
    "AWS::EC2::SecurityGroup": (
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    ),
    "AWS::EC2::VPC": ("aws:ec2/vpc:Vpc",),
    "AWS::EC2::Subnet": ("aws:ec2/subnet:Subnet",),
    "AWS::EC2::FlowLog": ("aws:ec2/flowLog:FlowLog",),
    "AWS::CloudWatch::Alarm": ("aws:cloudwatch/metricAlarm:MetricAlarm",),
    "AWS::Logs::LogGroup": ("aws:cloudwatch/logGroup:LogGroup",),
    "AWS::Route53::HostedZone": ("aws:route53/zone:Zone",),
    "AWS::Route53::HealthCheck": ("aws:route53/healthCheck:HealthCheck",),
    "AWS::Backup::BackupVault": ("aws:backup/vault:Vault",),
    "AWS::Backup::BackupPlan": ("aws:backup/plan:Plan",),
    "AWS::Backup::RecoveryPoint": ("aws:backup/vault:Vault",),
    "AWS::SNS::Topic": ("aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy"),
}

DRILL_REQUIREMENTS: Final[Mapping[str, tuple[str, ...]]] = {"pci-dss": ("12.10.2",)}
"""Requirements whose evidence is a drill: PCI DSS 12.10.2 asks that the incident response plan,
business recovery and continuity included, be tested at least once every 12 months."""

DEFAULT_MAX_AGE_DAYS: Final = 90
"""``drillsMaxAgeDays`` when the stack does not set it."""


@dataclass(frozen=True, slots=True)
class DrillEvidence:
    """The stack's latest drill report, judged against its objectives and the allowed age."""

    path: str | None
    drill_id: str | None
    ended_at: float | None
    age_days: float | None
    rto_seconds: float | None
    rpo_seconds: float | None
    objective_rto_seconds: float | None
    objective_rpo_seconds: float | None
    objectives_met: bool | None
    max_age_days: int

    @property
    def problem(self) -> str | None:
        """Why this is not evidence (None when it is)."""
        if self.path is None:
            return "no drill report for this stack"
        if self.age_days is not None and self.age_days > self.max_age_days:
            return (
                f"the latest drill report ({self.drill_id}) is {self.age_days:.0f} days old, "
                f"older than drillsMaxAgeDays={self.max_age_days}"
            )
        if self.objectives_met is not True:
            return (
                f"the latest drill ({self.drill_id}) did not meet its objectives: RTO "
                f"{_seconds(self.rto_seconds)} for {_seconds(self.objective_rto_seconds)}, RPO "
                f"{_seconds(self.rpo_seconds)} for {_seconds(self.objective_rpo_seconds)}"
            )
        return None

    def summary(self) -> str:
        """One line: the report, its date and the measured RTO/RPO against the objectives."""
        if self.path is None:
            return "no drill report for this stack"
        when = time.strftime("%Y-%m-%d", time.gmtime(self.ended_at)) if self.ended_at else "?"
        return (
            f"drill {self.drill_id} on {when}: RTO {_seconds(self.rto_seconds)} (objective "
            f"{_seconds(self.objective_rto_seconds)}), RPO {_seconds(self.rpo_seconds)} (objective "
            f"{_seconds(self.objective_rpo_seconds)}), objectives "
            f"{'met' if self.objectives_met else 'not met'} ({self.path})"
        )


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}s"


@dataclass(frozen=True, slots=True)
class ControlResult:
    """One control or requirement of the report."""

    id: str
    title: str
    status: str
    rules: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """``{"id", "title", "status", "rules", "resources", "reason"}``."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "rules": list(self.rules),
            "resources": list(self.resources),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    """Every control of one framework for one stack."""

    framework: str
    name: str
    version: str
    source: str
    stack: str
    controls: tuple[ControlResult, ...]
    drill: DrillEvidence | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``compliance`` section of ``--json``."""
        return {
            "framework": self.framework,
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "stack": self.stack,
            "counts": dict(self.counts),
            "drill": None if self.drill is None else self.drill.summary(),
            "controls": [c.to_json() for c in self.controls],
        }


class ComplianceError(ValueError):
    """A bad ``--compliance`` value or drill report directory (the message names it)."""


def check_framework(value: str) -> str:
    """``value`` when it names a framework, else ComplianceError with what is allowed."""
    if value not in FRAMEWORKS:
        raise ComplianceError(
            f"--compliance {value!r}: unknown framework; allowed: {', '.join(FRAMEWORKS)}"
        )
    return value


# --- drill evidence -------------------------------------------------------------------------------


def _config_number(config: Mapping[str, Any], key: str) -> float | None:
    for name in (f"securecart-data:{key}", key):
        value = config.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return None
    return None


def latest_drill(
    directory: Path, stack: str, config: Mapping[str, Any], *, now: float | None = None
) -> DrillEvidence:
    """The newest ``report.json`` of ``stack`` under ``directory`` (``<dir>/<drill id>/``)."""
    max_age = _config_number(config, "drillsMaxAgeDays")
    max_age_days = int(max_age) if max_age is not None else DEFAULT_MAX_AGE_DAYS
    best: tuple[float, Path, dict[str, Any]] | None = None
    candidates = sorted(directory.glob("*/report.json")) if directory.is_dir() else []
    for path in candidates:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or data.get("stack") != stack:
            continue
        ended = data.get("ended_at")
        if not isinstance(ended, int | float):
            continue
        if best is None or ended > best[0]:
            best = (float(ended), path, data)
    if best is None:
        return DrillEvidence(None, None, None, None, None, None, None, None, None, max_age_days)
    ended, path, data = best
    objectives = data.get("objectives") if isinstance(data.get("objectives"), dict) else {}
    assert isinstance(objectives, dict)
    current = time.time() if now is None else now
    return DrillEvidence(
        path=str(path),
        drill_id=str(data.get("drill_id", path.parent.name)),
        ended_at=ended,
        age_days=max(0.0, (current - ended) / 86400.0),
        rto_seconds=data.get("rto_seconds"),
        rpo_seconds=data.get("rpo_seconds"),
        objective_rto_seconds=objectives.get("rtoSeconds"),
        objective_rpo_seconds=objectives.get("rpoSeconds"),
        objectives_met=data.get("objectives_met") if data.get("measured", True) else None,
        max_age_days=max_age_days,
    )


def _drill_is_blocking(stack: str, config: Mapping[str, Any]) -> bool:
    """Missing or stale drill evidence fails prod and staging; on dev it is advisory."""
    environment = config.get("securecart-data:environment") or config.get("environment") or stack
    return str(environment) != "dev"


# --- evaluation -----------------------------------------------------------------------------------


class _Evidence:
    """What the run says about each rule, indexed once (linear in findings and resources)."""

    def __init__(self, result: PreflightResult) -> None:
        self.result = result
        self.order = [p.name for p in result.policies]
        self.names = set(self.order)
        self.levels = {name: configured_level(result.policy_config, name) for name in self.names}
        self.findings: dict[str, list[tuple[str, str]]] = {}
        for f in result.findings:
            self.findings.setdefault(f.policy_name, []).append((f.enforcement_level, f.urn))
        self.by_type: dict[str, list[RecordedResource]] = {}
        self.by_urn: dict[str, RecordedResource] = {}
        for r in result.recording.resources:
            self.by_urn[r.urn] = r
            if is_plan_resource(r):
                self.by_type.setdefault(r.type, []).append(r)

    def resources_of(self, types: Iterable[str]) -> list[str]:
        names: list[str] = []
        for token in dict.fromkeys(types):
            names += [r.name for r in self.by_type.get(token, ())]
        return names

    def rule_resources(self, rule: str) -> list[str]:
        definition = RULES_BY_NAME.get(rule)
        if definition is None or definition.kind != "resource":
            return []
        if definition.applies is not None:
            return []  # predicate rules span every resource; the control's types are named
        return self.resources_of(definition.targets)

    def judge(self, rules: Sequence[str]) -> tuple[str, list[str], list[str], str]:
        """(status, active rules, violating resource names, reason) for ``rules`` together."""
        present = [r for r in rules if r in self.names]
        active = [r for r in present if self.levels.get(r) != "disabled"]
        if not active:
            missing = [r for r in rules if r not in self.names]
            why = (
                f"rule(s) {', '.join(present)} disabled in the policy config"
                if present
                else f"rule(s) {', '.join(missing)} not in the policy pack"
            )
            return "not-covered", [], [], why
        hits = [(rule, lvl, urn) for rule in active for lvl, urn in self.findings.get(rule, ())]
        violating = list(
            dict.fromkeys(
                self.by_urn[urn].name if urn in self.by_urn else "(stack)" for _, _, urn in hits
            )
        )
        if any(lvl == "mandatory" for _, lvl, _ in hits):
            failing = sorted({rule for rule, lvl, _ in hits if lvl == "mandatory"})
            return "fail", active, violating, f"mandatory finding(s) of {', '.join(failing)}"
        if hits:
            rules_hit = sorted({rule for rule, _, _ in hits})
            return "advisory", active, violating, f"advisory finding(s) of {', '.join(rules_hit)}"
        return "pass", active, [], f"{len(active)} rule(s) found nothing"


def _fsbp(evidence: _Evidence) -> list[ControlResult]:
    items = controls.coverage(evidence.order)
    out: list[ControlResult] = []
    for item in items:
        c = item.control
        types = [tok for cfn in c.resource_types for tok in CFN_TYPES.get(cfn, ())]
        if not item.rules:
            d = item.disposition
            kind = d.kind if d else "not-covered"
            status = "not-covered" if kind == "not-covered" else "out-of-scope"
            label = {
                "not-applicable": "not applicable to this design",
                "account-level": "account-level",
            }
            reason = f"{label.get(kind, 'no rule')}: {d.reason}" if d else "no rule covers it"
            out.append(ControlResult(c.id, c.title, status, (), (), reason))
            continue
        status, active, violating, why = evidence.judge(item.rules)
        plan = list(
            dict.fromkeys(
                evidence.resources_of(types)
                + [n for r in active for n in evidence.rule_resources(r)]
            )
        )
        if status == "pass" and not plan:
            status, why = "out-of-scope", f"no {', '.join(c.resource_types)} in this stack's plan"
        resources = violating if status in ("fail", "advisory") else plan
        out.append(ControlResult(c.id, c.title, status, tuple(active), tuple(resources), why))
    return out


def _requirements(
    key: str, evidence: _Evidence, drill: DrillEvidence | None, blocking: bool
) -> list[ControlResult]:
    fw = controls.framework(key)
    rules_by = controls.rules_by_control(key, evidence.order)
    linked: dict[str, list[str]] = {}
    for c in controls.fsbp_catalog().values():
        for rid in c.pci if key == "pci-dss" else c.cis:
            linked.setdefault(rid, []).append(c.id)
    fsbp = {r.id: r for r in _fsbp(evidence)}
    drill_ids = set(DRILL_REQUIREMENTS.get(key, ()))
    out: list[ControlResult] = []
    for rid in fw.ids:
        controls_here = linked.get(rid, [])
        open_controls = [cid for cid in controls_here if fsbp[cid].status == "not-covered"]
        note = (
            f"; linked control(s) no rule covers: {', '.join(open_controls)}"
            if open_controls
            else ""
        )
        if rid in drill_ids and drill is not None:
            problem = drill.problem
            if problem is None:
                status, reason = "pass", f"evidence: {drill.summary()}"
            else:
                status = "fail" if blocking else "advisory"
                reason = f"{problem} (drill evidence; {'fails' if blocking else 'advisory on'} this stack)"
            resources = (drill.path,) if drill.path else ()
            out.append(ControlResult(rid, "", status, (), resources, reason))
            continue
        rules = rules_by.get(rid, [])
        if rules:
            status, active, violating, why = evidence.judge(rules)
            plan: list[str] = []
            for cid in controls_here:
                plan += list(fsbp[cid].resources) if fsbp[cid].status == "pass" else []
            for rule in active:
                plan += evidence.rule_resources(rule)
            shown = violating if status in ("fail", "advisory") else list(dict.fromkeys(plan))
            out.append(ControlResult(rid, "", status, tuple(active), tuple(shown), why + note))
        elif controls_here:
            if open_controls:
                reason = "no rule; linked FSBP control(s) not covered: " + "; ".join(
                    f"{cid} ({fsbp[cid].reason})" for cid in open_controls
                )
                out.append(ControlResult(rid, "", "not-covered", (), (), reason))
            else:
                reason = "; ".join(f"{cid}: {fsbp[cid].reason}" for cid in controls_here)
                out.append(ControlResult(rid, "", "out-of-scope", (), (), reason))
        else:
            out.append(
                ControlResult(
                    rid,
                    "",
                    "not-covered",
                    (),
                    (),
                    "no rule and no FSBP control of the plan's services evidences it: "
                    "assess it outside the preview (process, people or account-level)",
                )
            )
    return out


def build_report(
    result: PreflightResult,
    framework_key: str,
    *,
    drill_reports: Path | None = None,
    now: float | None = None,
) -> ComplianceReport:
    """The compliance report of ``framework_key`` for the run ``result``."""
    check_framework(framework_key)
    evidence = _Evidence(result)
    rec = result.recording
    drill: DrillEvidence | None = None
    if framework_key in DRILL_REQUIREMENTS:
        directory = drill_reports if drill_reports is not None else Path(".drills")
        drill = latest_drill(directory, rec.stack, rec.config, now=now)
    if framework_key == "fsbp":
        items = _fsbp(evidence)
    else:
        items = _requirements(
            framework_key, evidence, drill, _drill_is_blocking(rec.stack, rec.config)
        )
    counts = dict.fromkeys(STATUSES, 0)
    for item in items:
        counts[item.status] += 1
    fw = controls.framework(framework_key)
    return ComplianceReport(
        framework=framework_key,
        name=fw.name,
        version=fw.version,
        source=fw.source,
        stack=rec.stack,
        controls=tuple(items),
        drill=drill,
        counts=counts,
    )
