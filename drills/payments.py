"""The payments database's drills (issue 20): a Multi-AZ failover, and the promotion of the
cross-region read replica with the rebuild of a replica for failback.

The payments database (components/payments.py) is an RDS for PostgreSQL Multi-AZ instance in
the anchor region with a cross-region Multi-AZ read replica; ``payments.<zone>`` is a simple
CNAME to the writer's own endpoint.

- **Multi-AZ failover**: ``reboot_db_instance(ForceFailover=True)`` on the writer (RDS User
  Guide, "Failover process for Amazon RDS"; RebootDBInstance refuses ForceFailover on a
  Single-AZ instance). The endpoint moves to the standby by itself, so the name needs nothing.
  RTO: from the request until a write through ``payments.<zone>`` succeeds again. RPO: the
  standby is synchronous ("Multi-AZ DB instance deployments"): 0 by AWS's design, which a
  control-plane drill cannot count (the report says so).
- **Cross-region promotion**: ``promote_read_replica`` is one-way and the old source keeps
  running and accepting writes (RDS User Guide, "Promoting a read replica to be a standalone DB
  instance": "stop any transactions from being written to the read replica source DB instance,
  and then wait for all updates to be made to the read replica"). So the drill first *fences*
  the old source (``default_transaction_read_only = 1`` in its own parameter group, a dynamic
  setting applied at once), waits until the replica's ``ReplicaLag`` is 0, promotes, moves
  ``payments.<zone>`` (nothing in AWS moves it: docs/components.md), and then **rebuilds** the
  replica relationship the other way: the old source is deleted (a final snapshot kept) and a
  new cross-region read replica of the new writer is created under its name, as AWS requires
  (a promoted instance cannot become a replica again). ``payments-failback`` does the same
  back home. RTO: from the fence until a write through the name succeeds in the new region;
  RPO: the ``ReplicaLag`` the promotion started at (0 once the fenced source's last writes are
  replayed).

Every step and every undo drives AWS toward one state with :func:`converge` (one writer, the
name on it, the other region a replica of it), reading AWS before each call, so a re-run after a
crash never repeats a call that happened. "Never two writers": the invariant
(drills/writers.py) counts instances that are available, standalone and not read-only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .aws import error_code
from .canary import Canary, CanaryWriter
from .engine import DrillContext, Step
from .errors import PreconditionFailedError, RegionUnavailableError, VerificationError
from .zone import cname, point

READ_ONLY = "default_transaction_read_only"
"""The fence: every new transaction on the old source is read-only (PostgreSQL "Client
Connection Defaults"; an RDS dynamic parameter, applied immediately)."""
STABLE = "available"
GONE = ("DBInstanceNotFound", "DBInstanceNotFoundFault")
KEPT_SETTINGS = (
    ("DBInstanceClass", "DBInstanceClass"),
    ("MultiAZ", "MultiAZ"),
    ("StorageType", "StorageType"),
    ("KmsKeyId", "KmsKeyId"),
    ("PubliclyAccessible", "PubliclyAccessible"),
    ("IAMDatabaseAuthenticationEnabled", "EnableIAMDatabaseAuthentication"),
    ("MonitoringInterval", "MonitoringInterval"),
    ("MonitoringRoleArn", "MonitoringRoleArn"),
    ("PerformanceInsightsEnabled", "EnablePerformanceInsights"),
    ("PerformanceInsightsKMSKeyId", "PerformanceInsightsKMSKeyId"),
    ("PerformanceInsightsRetentionPeriod", "PerformanceInsightsRetentionPeriod"),
    ("EnabledCloudwatchLogsExports", "EnableCloudwatchLogsExports"),
    ("CopyTagsToSnapshot", "CopyTagsToSnapshot"),
    ("MaxAllocatedStorage", "MaxAllocatedStorage"),
    ("AutoMinorVersionUpgrade", "AutoMinorVersionUpgrade"),
    ("DeletionProtection", "DeletionProtection"),
)
"""(DescribeDBInstances field, CreateDBInstanceReadReplica parameter): what a rebuilt replica
keeps of the instance it replaces, so it is the payments database the stack declares
(components/payments.py ``_common``)."""


@dataclass(frozen=True, slots=True)
class PaymentsRef:
    """The stack's ``payments`` output."""

    source_region: str
    identifiers: dict[str, str]
    arns: dict[str, str]
    addresses: dict[str, str]
    dns_name: str


def payments_ref(ctx: DrillContext) -> PaymentsRef:
    """The ``payments`` output, or a VerificationError naming it."""
    raw = ctx.target.raw.get("payments")
    if not isinstance(raw, dict) or not raw.get("instances"):
        raise VerificationError("the stack exports no payments output (paymentsEnabled is off)")
    instances = dict(raw["instances"])
    return PaymentsRef(
        str(raw.get("sourceRegion", "")),
        {r: str(i["identifier"]) for r, i in instances.items()},
        {r: str(i.get("arn", "")) for r, i in instances.items()},
        {r: str(i.get("address", "")) for r, i in instances.items()},
        str(raw.get("dnsName") or ""),
    )


@dataclass(frozen=True, slots=True)
class Instance:
    """What AWS shows of the payments instance in one region."""

    region: str
    exists: bool
    status: str = ""
    replica_of: str | None = None
    """Region of the source when it is a read replica."""
    read_only: bool = False
    multi_az: bool = False
    zone: str = ""
    address: str = ""
    arn: str = ""
    parameter_group: str = ""
    raw: dict[str, Any] | None = None

    @property
    def writer(self) -> bool:
        """Accepts writes: available, standalone, not fenced."""
        return (
            self.exists and self.status == STABLE and self.replica_of is None and not self.read_only
        )


def describe(ctx: DrillContext, region: str) -> Instance:
    """The payments instance in ``region`` (its parameter group read for the fence)."""
    ref = payments_ref(ctx)
    try:
        found = ctx.aws.call(
            "rds", region, "describe_db_instances", DBInstanceIdentifier=ref.identifiers[region]
        )["DBInstances"][0]
    except ClientError as exc:
        if error_code(exc) in GONE:
            return Instance(region, False)
        raise
    source = str(found.get("ReadReplicaSourceDBInstanceIdentifier") or "")
    groups = found.get("DBParameterGroups") or [{}]
    group = str(groups[0].get("DBParameterGroupName", ""))
    status = str(found.get("DBInstanceStatus", ""))
    # only a standalone, available instance can take writes: only its fence matters (a
    # replica's group is read where the rebuild resets it, :func:`unfence`)
    candidate = not source and status == STABLE
    return Instance(
        region=region,
        exists=True,
        status=status,
        replica_of=(source.split(":")[3] if source.startswith("arn:") else region)
        if source
        else None,
        read_only=fenced(ctx, region, group) if candidate else False,
        multi_az=bool(found.get("MultiAZ")),
        zone=str(found.get("AvailabilityZone", "")),
        address=str((found.get("Endpoint") or {}).get("Address", "")),
        arn=str(found.get("DBInstanceArn", "")),
        parameter_group=group,
        raw=found,
    )


def fenced(ctx: DrillContext, region: str, group: str) -> bool:
    """Whether ``group`` sets ``default_transaction_read_only`` on."""
    if not group or group.startswith("default."):
        return False
    parameters = ctx.aws.call(
        "rds", region, "describe_db_parameters", DBParameterGroupName=group
    ).get("Parameters", [])
    value = next(
        (p.get("ParameterValue") for p in parameters if p["ParameterName"] == READ_ONLY), ""
    )
    return str(value).lower() in {"1", "on", "true"}


def both(ctx: DrillContext) -> dict[str, Instance]:
    """Both regions' instances."""
    return {region: describe(ctx, region) for region in ctx.target.regions}


def writers(ctx: DrillContext) -> list[str]:
    """Regions whose instance accepts writes (the invariant wants at most one)."""
    return [r for r, i in both(ctx).items() if i.writer]


# -- the calls, each journaled ----------------------------------------------------------------


def _key(ctx: DrillContext, action: str, region: str) -> str:
    return f"{ctx.step_name}#{ctx.attempt}:payments:{action}:{region}"


def fence(ctx: DrillContext, region: str, inst: Instance | None = None) -> None:
    """Make the instance in ``region`` read-only (its own parameter group); ``inst``: what
    AWS showed of it just before (saves a read)."""
    inst = inst or describe(ctx, region)
    if not inst.exists or fenced(ctx, region, inst.parameter_group):
        return
    with ctx.irreversible(
        _key(ctx, "fence", region),
        f"rds modify_db_parameter_group {inst.parameter_group} {READ_ONLY}=1 (immediate)",
        store="payments",
    ):
        ctx.aws.call(
            "rds",
            region,
            "modify_db_parameter_group",
            DBParameterGroupName=inst.parameter_group,
            Parameters=[
                {"ParameterName": READ_ONLY, "ParameterValue": "1", "ApplyMethod": "immediate"}
            ],
        )
    ctx.event("fence", f"payments {region} is read-only", store="payments")


def unfence(ctx: DrillContext, region: str, inst: Instance | None = None) -> None:
    """Reset the fence to the engine default (what the stack declares: it sets no such
    parameter, so the next refresh finds no drift)."""
    inst = inst or describe(ctx, region)
    if not inst.exists or not fenced(ctx, region, inst.parameter_group):
        return
    with ctx.irreversible(
        _key(ctx, "unfence", region),
        f"rds reset_db_parameter_group {inst.parameter_group} {READ_ONLY}",
        store="payments",
    ):
        ctx.aws.call(
            "rds",
            region,
            "reset_db_parameter_group",
            DBParameterGroupName=inst.parameter_group,
            Parameters=[{"ParameterName": READ_ONLY, "ApplyMethod": "immediate"}],
        )
    ctx.event("fence", f"payments {region} accepts writes again", store="payments")


def _settled(ctx: DrillContext, what: str) -> dict[str, Instance]:
    """Wait until neither instance is in a transition (rebooting, modifying, creating,
    deleting): AWS cannot cancel them."""

    def quiet() -> dict[str, Instance] | None:
        found = both(ctx)
        return found if all(i.status == STABLE for i in found.values() if i.exists) else None

    return ctx.wait_until(what, quiet, tolerate_unreachable=True)


def replica_lag(ctx: DrillContext, region: str, since: float) -> float | None:
    """The smallest ``ReplicaLag`` (seconds) of the replica in ``region`` over the periods that
    began at or after ``since`` (None before such a period has data)."""
    ref = payments_ref(ctx)
    points = ctx.aws.call(
        "cloudwatch",
        region,
        "get_metric_statistics",
        Namespace="AWS/RDS",
        MetricName="ReplicaLag",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": ref.identifiers[region]}],
        StartTime=datetime.fromtimestamp(since, tz=UTC),
        EndTime=datetime.now(tz=UTC) + timedelta(seconds=60),
        Period=60,
        Statistics=["Minimum"],
    ).get("Datapoints", [])
    # CloudWatch rounds StartTime down to the minute: a period that began before the fence
    # may hold a datapoint from before it (a 0 from an idle source would then pass for
    # caught up); only periods that began at or after it count (whole seconds: timestamps
    # come back without the fraction). ReplicaLag is published once a minute: a period's
    # minimum is its one datapoint.
    after = [p for p in points if p["Timestamp"].timestamp() >= int(since)]
    values = [float(p["Minimum"]) for p in after]
    return min(values) if values else None


def promote(
    ctx: DrillContext,
    region: str,
    measure: dict[str, Any] | None = None,
    inst: Instance | None = None,
) -> None:
    """Promote the replica in ``region`` once the fenced source's writes are replayed
    (``ReplicaLag`` 0 after the fence); waits until it is standalone."""
    inst = inst or describe(ctx, region)
    if inst.exists and inst.replica_of is None:
        ctx.resolve_call(_key(ctx, "promote", region), "AWS shows it done")
        return
    since = float((measure or {}).get("fenced_at") or time.time())

    def caught_up() -> float | None:
        lag = replica_lag(ctx, region, since)
        return lag if lag is not None and lag <= 0.0 else None

    lag = ctx.wait_until(f"the payments replica in {region} to replay every write", caught_up)
    if measure is not None:
        measure.setdefault("rpo_seconds", lag)
        measure.setdefault(
            "rpo_note",
            "ReplicaLag of the replica after the old source was fenced, before the promotion",
        )
    retention = int((ctx.state.get("payments") or {}).get("retention_days") or 7)
    with ctx.irreversible(
        _key(ctx, "promote", region),
        f"rds promote_read_replica {payments_ref(ctx).identifiers[region]}",
        store="payments",
    ):
        ctx.aws.call(
            "rds",
            region,
            "promote_read_replica",
            DBInstanceIdentifier=payments_ref(ctx).identifiers[region],
            BackupRetentionPeriod=retention,
        )
    ctx.wait_until(
        f"the payments instance in {region} to be standalone",
        lambda: (
            True if (i := describe(ctx, region)).replica_of is None and i.status == STABLE else None
        ),
        tolerate_unreachable=True,
    )


def _delete(ctx: DrillContext, region: str, inst: Instance | None = None) -> None:
    """Delete the (fenced, standalone) instance in ``region``, keeping a final snapshot; its
    deletion protection is turned off first (journaled)."""
    inst = inst or describe(ctx, region)
    if not inst.exists:
        return
    identifier = payments_ref(ctx).identifiers[region]
    if inst.raw and inst.raw.get("DeletionProtection"):
        with ctx.irreversible(
            _key(ctx, "unprotect", region),
            f"rds modify_db_instance {identifier} DeletionProtection=false",
            store="payments",
        ):
            ctx.aws.call(
                "rds",
                region,
                "modify_db_instance",
                DBInstanceIdentifier=identifier,
                DeletionProtection=False,
                ApplyImmediately=True,
            )
    snapshot = f"{identifier}-drill-{ctx.drill_id.rsplit('-', 1)[-1]}"[:255]
    with ctx.irreversible(
        _key(ctx, "delete", region),
        f"rds delete_db_instance {identifier} (final snapshot {snapshot})",
        store="payments",
    ):
        try:
            ctx.aws.call(
                "rds",
                region,
                "delete_db_instance",
                DBInstanceIdentifier=identifier,
                FinalDBSnapshotIdentifier=snapshot,
                SkipFinalSnapshot=False,
            )
        except ClientError as exc:
            if error_code(exc) not in GONE:
                raise
    ctx.wait_until(
        f"the payments instance in {region} to be deleted",
        lambda: True if not describe(ctx, region).exists else None,
        tolerate_unreachable=True,
    )


def _create_replica(ctx: DrillContext, region: str, source: str, source_arn: str = "") -> None:
    """A cross-region read replica of ``source``'s instance in ``region``, with the settings
    the instance it replaces had (recorded when the drill started)."""
    ref = payments_ref(ctx)
    kept = dict(((ctx.state.get("payments") or {}).get("settings") or {}).get(region) or {})
    identifier = ref.identifiers[region]
    with ctx.irreversible(
        _key(ctx, "create-replica", region),
        f"rds create_db_instance_read_replica {identifier} of {ref.identifiers[source]}",
        store="payments",
    ):
        ctx.aws.call(
            "rds",
            region,
            "create_db_instance_read_replica",
            DBInstanceIdentifier=identifier,
            SourceDBInstanceIdentifier=source_arn or describe(ctx, source).arn,
            SourceRegion=source,
            **kept,
        )
    ctx.wait_until(
        f"the payments replica in {region} to be available",
        lambda: True if describe(ctx, region).status == STABLE else None,
        tolerate_unreachable=True,
    )


def converge(
    ctx: DrillContext, want: str, *, upto: str = "rebuild", measure: dict[str, Any] | None = None
) -> None:
    """Drive AWS toward: ``want``'s instance the one writer, ``payments.<zone>`` on it, and
    (``upto="rebuild"``) the other region's instance a read replica of it. Reads AWS before
    every call; waits for any transition in flight first (none can be cancelled).

    ``upto="name"`` stops once the writer is in ``want`` and the name points at it (the
    promotion step); the replica is rebuilt by the next step."""
    other = ctx.target.other(want)
    found = _settled(ctx, "any payments operation in flight to finish")
    if not found[want].exists:
        # a rebuild was under way: the writer is still the other region's
        _create_replica(ctx, want, other, found[other].arn)
        found = both(ctx)
    if found[want].replica_of is not None:
        fence(ctx, other, found[other])
        if measure is not None:
            measure.setdefault("fenced_at", time.time())
        promote(ctx, want, measure, found[want])
    unfence(ctx, want, found[want])
    ref = payments_ref(ctx)
    if ref.dns_name:
        point(
            ctx,
            ref.dns_name,
            found[want].address,
            store="payments",
            why=f"payments writer in {want}",
        )
    if upto != "rebuild":
        return
    rest = found[other]
    if rest.exists and rest.replica_of != want:
        fence(ctx, other, rest)
        _delete(ctx, other, rest)
        rest = Instance(other, False)
    if not rest.exists:
        _create_replica(ctx, other, want, found[want].arn)
        rest = describe(ctx, other)
    unfence(ctx, other, rest)  # a later promotion of it must not start read-only


# -- the write probe --------------------------------------------------------------------------


class PaymentsProbe:
    """A write through ``payments.<zone>``, read the way the control plane shows it (the model
    data plane: no PostgreSQL server to dial): the name's CNAME from the Route 53 API, then the
    instance at that address; the write succeeds when that instance is the writer."""

    store = "payments"
    path = "route53 api payments.<zone> -> rds instance writer state (no application path)"

    def write(self, ctx: DrillContext, canary_id: str, phase: str) -> Canary:
        """One attempt; failures are returned, not raised."""
        started = time.time()
        try:
            ref = payments_ref(ctx)
            target = cname(ctx, ref.dns_name) if ref.dns_name else None
            region = next((r for r, a in ref.addresses.items() if a == target), "")
            if not region or region in ctx.unreachable:
                raise VerificationError(f"{ref.dns_name} -> {target}: no payments instance")
            inst = describe(ctx, region)
            if not inst.writer:
                raise VerificationError(
                    f"{inst.address} is {inst.status}"
                    + (", a read replica" if inst.replica_of else "")
                    + (", read-only" if inst.read_only else "")
                )
        except (VerificationError, RegionUnavailableError, ClientError, BotoCoreError) as exc:
            took = time.time() - started
            return Canary(canary_id, "payments", "", phase, started, False, str(exc), "", took)
        return Canary(
            canary_id,
            "payments",
            region,
            phase,
            started,
            True,
            "",
            inst.address,
            time.time() - started,
        )


def _leg(ctx: DrillContext, dst: str, measure: dict[str, Any]) -> float | None:
    """The promotion and the name (its RTO filter is the step's start: the fence made every
    write fail)."""
    converge(ctx, dst, upto="name", measure=measure)
    return None


def _first_write(ctx: DrillContext, phase: str, region: str, since: float) -> float | None:
    found = [
        c.acked_at
        for c in ctx.log.acknowledged(phase, "payments")
        if c.region == region and c.written_at >= since
    ]
    return min(found) if found else None


def _probed(
    ctx: DrillContext, phase: str, region: str, since: float, act: Callable[[], float | None]
) -> float:
    """Run ``act`` with the probe writing every canary interval; returns when the first write
    sent at or after ``since`` (or after the moment ``act`` returns, when it returns one: a
    write the old writer acknowledged before going down is no takeover) succeeded in
    ``region``."""
    probe = PaymentsProbe()
    attempt = ctx.attempt

    def write_one(n: int) -> list[Canary]:
        return [probe.write(ctx, f"{phase}-payments-a{attempt}-{n:04d}", phase)]

    with CanaryWriter(ctx.log, write_one, ctx.settings.canary_interval) as writer:
        down = act()
        writer.nudge()  # the move is done: write now, not up to an interval later
        after = max(since, down or since)
        return ctx.wait_until(
            f"a write through the payments name to succeed in {region}",
            lambda: _first_write(ctx, phase, region, after),
        )


# -- steps ------------------------------------------------------------------------------------


def _origin(ctx: DrillContext) -> str:
    return str((ctx.state.get("payments") or {})["origin"])


def _check(ctx: DrillContext) -> None:
    """The payments database as the drill needs it: one writer (the source), the other region
    its available read replica, the name on the writer. Records the origin and what a rebuilt
    replica must keep of each instance."""
    record = ctx.state.setdefault("payments", {})
    found = both(ctx)
    writer = [r for r, i in found.items() if i.writer]
    problems: list[str] = []
    if len(writer) != 1:
        problems.append(f"payments-writer: writers {writer or 'none'} (exactly one needed)")
    else:
        other = ctx.target.other(writer[0])
        if found[other].replica_of != writer[0] or found[other].status != STABLE:
            problems.append(
                f"payments-replica: {other} is not an available read replica of {writer[0]}"
            )
        ref = payments_ref(ctx)
        if ref.dns_name and cname(ctx, ref.dns_name) != found[writer[0]].address:
            problems.append(
                f"payments-name: {ref.dns_name} does not point at the writer in {writer[0]}"
            )
    if problems:
        raise PreconditionFailedError(problems)
    record.setdefault("origin", writer[0])
    record.setdefault("retention_days", (found[writer[0]].raw or {}).get("BackupRetentionPeriod"))
    settings: dict[str, dict[str, Any]] = record.setdefault("settings", {})
    for region, inst in found.items():
        raw = inst.raw or {}
        kept = {param: raw[field] for field, param in KEPT_SETTINGS if raw.get(field) is not None}
        if raw.get("DBSubnetGroup", {}).get("DBSubnetGroupName"):
            kept["DBSubnetGroupName"] = raw["DBSubnetGroup"]["DBSubnetGroupName"]
        groups = [g["VpcSecurityGroupId"] for g in raw.get("VpcSecurityGroups", [])]
        if groups:
            kept["VpcSecurityGroupIds"] = groups
        kept["DBParameterGroupName"] = inst.parameter_group
        settings.setdefault(region, kept)
    ctx.event(
        "payments", f"payments writer in {writer[0]}, replica in {ctx.target.other(writer[0])}"
    )


def _undo(ctx: DrillContext) -> None:
    """Back to one writer in the origin, the name on it, a replica of it in the other region."""
    if "payments" not in ctx.state or "origin" not in ctx.state["payments"]:
        return
    converge(ctx, _origin(ctx))


def _phase(ctx: DrillContext, name: str, src: str, dst: str) -> dict[str, Any]:
    ph = ctx.phase(name)
    ph.setdefault("from", src)
    ph.setdefault("to", dst)
    return ph


def _fence_step(ctx: DrillContext) -> None:
    src = _origin(ctx)
    dst = ctx.target.other(src)
    _phase(ctx, "payments", src, dst)
    m = ctx.measurement("payments", "payments")
    m.update({"action": f"fence {src}, promote_read_replica {dst}", "from": src, "to": dst})
    m.setdefault("fenced_at", time.time())
    m.setdefault("requested_at", m["fenced_at"])
    fence(ctx, src)


def _moved(phase: str, *, out: bool) -> Callable[[DrillContext], None]:
    """Promote the replica (and move the name) toward the phase's target; RTO from the fence
    (writes stop there) until a write through the name succeeds in the target."""

    def run(ctx: DrillContext) -> None:
        origin = _origin(ctx)
        src, dst = (origin, ctx.target.other(origin)) if out else (ctx.target.other(origin), origin)
        _phase(ctx, phase, src, dst)
        m = ctx.measurement(phase, "payments")
        m.update({"action": f"fence {src}, promote_read_replica {dst}", "from": src, "to": dst})
        m.setdefault("fenced_at", time.time())
        m.setdefault("requested_at", m["fenced_at"])
        since = float(m["fenced_at"])
        takeover = _probed(ctx, phase, dst, since, lambda: _leg(ctx, dst, m))
        m["fault_at"] = since
        m["takeover_at"] = takeover
        m["rto_seconds"] = round(takeover - since, 3)
        m["rto_from"] = "the fence of the old source (writes stop)"
        m["rto_label"] = "from the fence until a write through payments.<zone> succeeds"
        ctx.event(
            "takeover",
            f"payments takes writes in {dst} {m['rto_seconds']:.3f}s after the fence",
            store="payments",
            phase=phase,
        )

    return run


def _rebuild(phase: str, *, out: bool) -> Callable[[DrillContext], None]:
    def run(ctx: DrillContext) -> None:
        origin = _origin(ctx)
        dst = ctx.target.other(origin) if out else origin
        started = time.time()
        converge(ctx, dst)
        m = ctx.measurement(phase, "payments")
        m["rebuild_seconds"] = round(time.time() - started, 3)
        ctx.event("rebuilt", f"payments replica of {dst} rebuilt in {ctx.target.other(dst)}")

    return run


def _failover(ctx: DrillContext) -> None:
    """``reboot_db_instance(ForceFailover=True)`` on the writer; RTO until a write through the
    name succeeds (the endpoint follows the standby by itself)."""
    origin = _origin(ctx)
    _phase(ctx, "multi-az", origin, origin)
    ref = payments_ref(ctx)
    m = ctx.measurement("multi-az", "payments")
    before = describe(ctx, origin)
    m.setdefault("zone_before", before.zone)
    m.update({"action": "reboot_db_instance ForceFailover=True", "from": origin, "to": origin})
    m.setdefault(
        "rpo_note", "not measured: the standby is synchronous (RDS Multi-AZ), RPO 0 by design"
    )
    key = f"multi-az:payments:reboot:{origin}"

    def act() -> float | None:
        """Send the reboot unless AWS shows it done; returns when AWS answered it (from then
        on the instance is rebooting: a write acknowledged before is the old primary's)."""
        record = (ctx.state.get("calls") or {}).get(key)
        if record is None or record.get("sent_at") is None:
            if describe(ctx, origin).zone != m["zone_before"]:
                ctx.resolve_call(key, "AWS shows it done")
            else:
                m.setdefault("requested_at", time.time())
                with ctx.irreversible(
                    key,
                    f"rds reboot_db_instance {ref.identifiers[origin]} ForceFailover=True",
                    store="payments",
                ):
                    ctx.aws.call(
                        "rds",
                        origin,
                        "reboot_db_instance",
                        DBInstanceIdentifier=ref.identifiers[origin],
                        ForceFailover=True,
                    )
        ctx.wait_until(
            f"the payments instance in {origin} to answer from its standby",
            lambda: (
                True
                if (i := describe(ctx, origin)).status == STABLE and i.zone != m["zone_before"]
                else None
            ),
            tolerate_unreachable=True,
        )
        sent = ((ctx.state.get("calls") or {}).get(key) or {}).get("sent_at")
        return float(sent) if sent is not None else None

    m.setdefault("requested_at", time.time())
    since = float(m["requested_at"])
    takeover = _probed(ctx, "multi-az", origin, since, act)
    after = describe(ctx, origin)
    m["zone_after"] = after.zone
    m["fault_at"] = since
    m["takeover_at"] = takeover
    m["rto_seconds"] = round(takeover - since, 3)
    m["rto_from"] = "the reboot request"
    m["rto_label"] = "from the ForceFailover reboot until a write through payments.<zone> succeeds"
    ctx.event(
        "takeover",
        f"payments answers from {after.zone} (was {m['zone_before']}) {m['rto_seconds']:.3f}s "
        "after the request",
        store="payments",
    )


def failover_steps() -> list[Step]:
    """The Multi-AZ failover drill's steps (between the preconditions and the cleanup)."""
    return [
        Step(
            "payments-check", "payments: one writer, its replica, the name", _check, "preconditions"
        ),
        Step(
            "payments-multi-az-failover",
            "reboot_db_instance ForceFailover=True; RTO through payments.<zone>",
            _failover,
            "aurora_switch",
            undo=_undo,
            phase="multi-az",
        ),
    ]


def promotion_steps() -> list[Step]:
    """The promotion drill's steps: out (fence, promote and name, rebuild), then back."""
    return [
        Step(
            "payments-check", "payments: one writer, its replica, the name", _check, "preconditions"
        ),
        Step(
            "payments-fence",
            "make the payments source read-only (default_transaction_read_only)",
            _fence_step,
            "aurora_switch",
            undo=_undo,
            phase="payments",
        ),
        Step(
            "payments-promote",
            "promote_read_replica in the other region; payments.<zone> to it; RTO",
            _moved("payments", out=True),
            "aurora_switch",
            undo=_undo,
            phase="payments",
        ),
        Step(
            "payments-rebuild",
            "delete the old source (final snapshot); a new cross-region replica of the writer",
            _rebuild("payments", out=True),
            "rebuild",
            undo=_undo,
            phase="payments",
        ),
        Step(
            "payments-failback",
            "fence, promote_read_replica back home; payments.<zone> to it; RTO",
            _moved("payments-failback", out=False),
            "aurora_switch",
            undo=_undo,
            phase="payments-failback",
        ),
        Step(
            "payments-failback-rebuild",
            "the replica rebuilt in the other region again",
            _rebuild("payments-failback", out=False),
            "rebuild",
            undo=_undo,
            phase="payments-failback",
        ),
    ]
