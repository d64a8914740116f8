"""Stores that can switch regions, behind one small interface, and the moves built on it.

A drill moves three kinds of "primary": the Aurora global database's writer
(``switchover_global_cluster`` / ``failover_global_cluster``), the ElastiCache global
datastore's primary (``failover_global_replication_group``, then the ``cache.<zone>`` record
applications resolve) and the region applications write DynamoDB in (an active-region setting
they read). Each is a :class:`SwitchableStore`: ``describe`` (primary, status, in-flight target),
``request`` (the one irreversible call), ``ready_for`` (may a move toward a region start now) and
``after_move`` (idempotent follow-up such as the DNS record). Forward steps and undos both use
:func:`move` and :func:`undo`, so the rule "an undo first waits for any in-flight move to settle,
then requests the move back" is written once (AWS cannot cancel a switchover or a datastore
failover that has started: RDS "Performing switchovers and failovers for Aurora Global
Database", ElastiCache "Promoting the secondary cluster to primary").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from .aws import error_code
from .engine import DrillContext
from .errors import OperatorNeededError, VerificationError
from .reads import (
    cache_primaries,
    describe_datastore,
    describe_global_cluster,
    reachable,
    read_active_region,
    region_of_arn,
    synchronized,
    writer_regions,
)


@dataclass(frozen=True, slots=True)
class StoreState:
    """What AWS says about a switchable store right now."""

    primaries: tuple[str, ...]
    """Regions that take writes (exactly one when healthy)."""
    status: str
    """The service's own status word (``available``, ``switching-over``, ``modifying``...)."""
    moving_to: str | None = None
    """Region an in-flight move goes to, when the service says (Aurora's FailoverState)."""
    moving_from: str | None = None
    """Region an in-flight move comes from, when the service says (``FromDbClusterArn``)."""
    in_flight: bool = False
    """A move has started and not finished (even when the service does not name its target)."""
    ready: tuple[str, ...] = ()
    """Regions that could take over now (synchronized secondaries)."""

    @property
    def primary(self) -> str | None:
        """The single primary, or None while there is none or more than one."""
        return self.primaries[0] if len(self.primaries) == 1 else None

    @property
    def settled(self) -> bool:
        """No move in flight, one primary, the service available."""
        return self.status == "available" and not self.in_flight and len(self.primaries) == 1

    def to_json(self) -> dict[str, Any]:
        """JSON-able (journal, invariant checks)."""
        return {
            "primaries": list(self.primaries),
            "status": self.status,
            "moving_to": self.moving_to,
            "moving_from": self.moving_from,
            "in_flight": self.in_flight,
            "ready": list(self.ready),
        }


class SwitchableStore(Protocol):
    """A store whose primary can move between the two regions."""

    name: str
    """``aurora``, ``cache`` or ``dynamodb`` (journal keys, measurements)."""
    call: str
    """The API call a move makes (for the journal and the report)."""
    settles: bool
    """A requested move finishes by itself (a switchover, a failover): an undo waits for it.
    A setting does not: an undo rewrites it at once, even when a crash left it half-written."""

    def describe(self, ctx: DrillContext) -> StoreState:
        """Read the store's state from AWS."""

    def call_for(self, region: str, *, lossy: bool) -> str:
        """The exact call a move toward ``region`` sends (journal, report)."""

    def request(self, ctx: DrillContext, region: str, *, lossy: bool) -> None:
        """Issue the move toward ``region`` (one irreversible call)."""

    def ready_for(self, ctx: DrillContext, state: StoreState, region: str) -> bool:
        """Whether a move toward ``region`` may be requested now."""

    def after_move(self, ctx: DrillContext, region: str) -> None:
        """Idempotent follow-up once ``region`` is the primary (e.g. the DNS record)."""


# -- Aurora ------------------------------------------------------------------------------------


class AuroraGlobal:
    """The Aurora global database: the writer moves by switchover (planned, no data loss) or by
    failover with ``AllowDataLoss`` (the primary region is lost)."""

    name = "aurora"
    call = "switchover_global_cluster"
    settles = True

    def describe(self, ctx: DrillContext) -> StoreState:
        """Writer, status and FailoverState (``ToDbClusterArn`` names the target)."""
        gc = describe_global_cluster(ctx, _order(ctx))
        failover = gc.get("FailoverState") or {}
        # RDS API Reference, FailoverState.Status: pending | failing-over | cancelling |
        # switching-over (a move that has not finished in every one of them)
        active = failover.get("Status") in {"pending", "failing-over", "switching-over"}
        moving = region_of_arn(str(failover.get("ToDbClusterArn", ""))) if active else None
        source = region_of_arn(str(failover.get("FromDbClusterArn", ""))) if active else None
        status = str(gc.get("Status", ""))
        ready = tuple(
            region_of_arn(m["DBClusterArn"])
            for m in gc.get("GlobalClusterMembers", [])
            if not m.get("IsWriter") and synchronized(m)
        )
        return StoreState(
            primaries=tuple(writer_regions(gc)),
            status=status,
            moving_to=moving or None,
            moving_from=source or None,
            in_flight=bool(moving) or status in {"switching-over", "failing-over"},
            ready=ready,
        )

    def call_for(self, region: str, *, lossy: bool) -> str:
        """``failover_global_cluster -> r (AllowDataLoss)`` or ``switchover_global_cluster -> r``."""
        if lossy:
            return f"failover_global_cluster -> {region} (AllowDataLoss)"
        return f"switchover_global_cluster -> {region}"

    def request(self, ctx: DrillContext, region: str, *, lossy: bool) -> None:
        """``failover_global_cluster(AllowDataLoss=True)`` or ``switchover_global_cluster``,
        sent to the target region (the old primary may be gone)."""
        kwargs: dict[str, Any] = {
            "GlobalClusterIdentifier": ctx.target.global_cluster_id,
            "TargetDbClusterIdentifier": ctx.target.aurora[region].arn,
        }
        if lossy:
            ctx.aws.call("rds", region, "failover_global_cluster", AllowDataLoss=True, **kwargs)
        else:
            ctx.aws.call("rds", region, "switchover_global_cluster", **kwargs)

    def ready_for(self, ctx: DrillContext, state: StoreState, region: str) -> bool:
        """A switchover needs a settled cluster, a synchronized target and a reachable writer."""
        return switchover_ready(
            state, region, lambda: state.primary is not None and reachable(ctx, state.primary)
        )

    def after_move(self, ctx: DrillContext, region: str) -> None:
        """Nothing: the global writer endpoint follows the writer by itself (RDS
        "Connecting to Aurora Global Database": the writer endpoint always points at the
        primary cluster's writer)."""


# -- ElastiCache -------------------------------------------------------------------------------


class CacheGlobal:
    """The ElastiCache global datastore, plus the ``cache.<zone>`` record applications resolve
    (ElastiCache has no global endpoint: the drill moves the record right after the failover,
    before any Pulumi operation, so the reconcile's preview finds it already right)."""

    name = "cache"
    call = "failover_global_replication_group"
    settles = True

    def describe(self, ctx: DrillContext) -> StoreState:
        """Primary member, status; the target of a failover is not shown while ``modifying``."""
        datastore = describe_datastore(ctx, _order(ctx))
        if datastore is None:
            raise VerificationError(f"global datastore {ctx.target.cache_global_id} not found")
        status = str(datastore.get("Status", ""))
        members = datastore.get("Members", [])
        return StoreState(
            primaries=tuple(cache_primaries(datastore)),
            status=status,
            in_flight=status != "available",
            ready=tuple(
                m["ReplicationGroupRegion"]
                for m in members
                if m.get("Role") != "PRIMARY" and m.get("Status") == "associated"
            ),
        )

    def call_for(self, region: str, *, lossy: bool) -> str:
        """Always ``failover_global_replication_group``: a global datastore has one kind of
        failover (ElastiCache API Reference, FailoverGlobalReplicationGroup), never lossy by
        request."""
        return f"failover_global_replication_group -> {region}"

    def request(self, ctx: DrillContext, region: str, *, lossy: bool) -> None:
        """``failover_global_replication_group`` to ``region`` (sent there)."""
        ctx.aws.call(
            "elasticache",
            region,
            "failover_global_replication_group",
            GlobalReplicationGroupId=ctx.target.cache_global_id,
            PrimaryRegion=region,
            PrimaryReplicationGroupId=ctx.target.cache[region].replication_group_id,
        )

    def ready_for(self, ctx: DrillContext, state: StoreState, region: str) -> bool:
        """A settled datastore whose member in ``region`` is associated."""
        return state.settled and region in state.ready

    def after_move(self, ctx: DrillContext, region: str) -> None:
        """A stack whose ``cache.<zone>`` is health-routed (one weighted record per node, each to
        its own region's primary endpoint, healthy while that region is not the datastore's
        secondary: docs/components.md) needs nothing: the name follows the failover through
        Route 53's data plane, and a ChangeResourceRecordSets (a us-east-1 control plane, gone
        in the outage a failover is for) would be refused anyway next to the weighted records.
        A stack with the older simple CNAME gets it UPSERTed to the new primary's primary
        endpoint, same type and TTL (UPSERT is idempotent)."""
        dns = ctx.target.require_dns()
        endpoint = ctx.target.cache[region].primary_endpoint
        record = cache_record(ctx, dns.zone_id, dns.cache_name)
        if record.health_routed:
            ctx.event(
                "dns",
                f"{dns.cache_name} follows the primary by health ({len(record.weighted)} "
                "weighted records); no Route 53 change sent",
                store="cache",
            )
            return
        key = f"dns:{dns.cache_name}->{region}"
        if record.simple == endpoint:
            ctx.resolve_call(key, "AWS shows it done")
            return
        with ctx.irreversible(key, f"route53 UPSERT {dns.cache_name} CNAME {endpoint}"):
            ctx.aws.call(
                "route53",
                ctx.target.primary_region,
                "change_resource_record_sets",
                HostedZoneId=dns.zone_id,
                ChangeBatch={
                    "Comment": f"drill {ctx.drill_id}: cache primary in {region}",
                    "Changes": [
                        {
                            "Action": "UPSERT",
                            "ResourceRecordSet": {
                                "Name": dns.cache_name,
                                "Type": "CNAME",
                                "TTL": dns.ttl_seconds,
                                "ResourceRecords": [{"Value": endpoint}],
                            },
                        }
                    ],
                },
            )
        ctx.event("dns", f"{dns.cache_name} -> {endpoint} ({region})", store="cache")


@dataclass(frozen=True, slots=True)
class CacheRecord:
    """What ``cache.<zone>`` is in the zone: a simple CNAME, or health-routed weighted records."""

    simple: str | None
    """The simple CNAME's value (None when there is none)."""
    weighted: tuple[str, ...]
    """The values of the weighted (set-identified) CNAME records, one per cache node."""

    @property
    def health_routed(self) -> bool:
        """Answers chosen by Route 53 health checks, not by a record the drill changes."""
        return bool(self.weighted) and self.simple is None


def cache_record(ctx: DrillContext, zone_id: str, name: str) -> CacheRecord:
    """Every CNAME record of ``name`` in the zone (the records of one name and type come in one
    page: a weighted set has one per cache node, far under ListResourceRecordSets' 300)."""
    wanted = name.rstrip(".") + "."
    result = ctx.aws.call(
        "route53",
        ctx.target.primary_region,
        "list_resource_record_sets",
        HostedZoneId=zone_id,
        StartRecordName=wanted,
        StartRecordType="CNAME",
        MaxItems="300",
    )
    simple: str | None = None
    weighted: list[str] = []
    for record in result.get("ResourceRecordSets", []):
        if record.get("Name", "").rstrip(".") + "." != wanted or record.get("Type") != "CNAME":
            continue
        values = [str(r["Value"]).rstrip(".") for r in record.get("ResourceRecords", [])]
        if "SetIdentifier" in record:
            weighted.extend(values)
        elif values:
            simple = values[0]
    return CacheRecord(simple, tuple(weighted))


# -- DynamoDB: the active-region setting applications read -----------------------------------


class DynamoActiveRegion:
    """The region applications write DynamoDB in: an SSM parameter, one copy per region, that
    the applications read (global tables are active-active; what an evacuation moves is where
    the applications write)."""

    name = "dynamodb"
    call = "ssm put_parameter"
    settles = False

    def describe(self, ctx: DrillContext) -> StoreState:
        """The parameter in every reachable region; two values disagreeing is not settled."""
        values = read_active_region(ctx).values.values()  # every region not known down
        distinct = tuple(dict.fromkeys(values))
        return StoreState(
            primaries=distinct,
            status="available" if len(distinct) == 1 else "inconsistent",
            ready=tuple(r for r in ctx.target.regions if r not in distinct),
        )

    def read(self, ctx: DrillContext, region: str) -> str | None:
        """The parameter's value in ``region`` (None when it does not exist there or the
        region does not answer)."""
        return read_active_region(ctx, (region,)).values.get(region)

    def call_for(self, region: str, *, lossy: bool) -> str:
        """Two ``ssm put_parameter`` calls."""
        return f"ssm put_parameter {region} (both regions)"

    def request(self, ctx: DrillContext, region: str, *, lossy: bool) -> None:
        """Overwrite the parameter in both regions, the target region first (an overwrite
        keeps the parameter's type and AllowedPattern: SSM refuses a value outside it)."""
        name = ctx.target.active_region_parameter
        for where in (region, ctx.target.other(region)):
            if where in ctx.unreachable:
                continue
            ctx.aws.call("ssm", where, "put_parameter", Name=name, Value=region, Overwrite=True)
            ctx.event("setting", f"{name} = {region} in {where}", store="dynamodb")

    def ready_for(self, ctx: DrillContext, state: StoreState, region: str) -> bool:
        """Always: moving a setting needs nothing to settle first."""
        return True

    def after_move(self, ctx: DrillContext, region: str) -> None:
        """Nothing."""


STORES: dict[str, Callable[[], SwitchableStore]] = {
    "aurora": AuroraGlobal,
    "cache": CacheGlobal,
    "dynamodb": DynamoActiveRegion,
}


def store(name: str) -> SwitchableStore:
    """A store by name."""
    return STORES[name]()


def _order(ctx: DrillContext) -> tuple[str, ...]:
    """Regions to read from: reachable ones first (the secondary usually survives)."""
    down = ctx.unreachable
    regions = [ctx.target.secondary_region, ctx.target.primary_region]
    return tuple(sorted(regions, key=lambda r: r in down))


# -- moves -----------------------------------------------------------------------------------


def settle(ctx: DrillContext, s: SwitchableStore, what: str = "") -> StoreState:
    """Wait (within the step's deadline) until no move is in flight and one region is primary."""

    def probe() -> StoreState | None:
        state = s.describe(ctx)
        return state if state.settled else None

    return ctx.wait_until(what or f"{s.name} to settle", probe, tolerate_unreachable=True)


SEND = "send"
RESEND = "resend"
ALREADY = "already"
IN_FLIGHT = "in-flight"
PAUSE = "pause"
FOREIGN = "foreign"


def decide_move(
    state: StoreState,
    record: dict[str, Any] | None,
    region: str,
    *,
    origin: str | None,
    resend: bool = False,
) -> str:
    """What a move of a store toward ``region`` does, from what AWS shows and the journal.

    ``record`` is the journal's entry for this move (None before its intent was journaled),
    ``origin`` the region the move leaves. AWS decides, the journal only says whose a move is:

    - ``already``: the primary is in ``region`` and nothing is in flight;
    - ``in-flight``: a move toward ``region`` is under way and it is the drill's own (its
      intent is journaled and, where AWS names the source, it leaves ``origin``);
    - ``foreign``: a move the drill did not journal is under way (another actor): stop;
    - ``send``: nothing under way, and the call was never sent (no record, or intended only);
    - ``pause``: the call is journaled as sent, yet AWS shows it neither done nor in flight
      (e.g. a lossy failover whose writer was moved back by hand): a person must look;
    - ``resend``: the same, when the operator asked to send it again (``--resend``).
    """
    if state.primary == region and not state.in_flight:
        return ALREADY
    if state.in_flight:
        ours = record is not None
        if state.moving_to is not None and state.moving_to != region:
            ours = False
        if state.moving_from is not None and origin is not None and state.moving_from != origin:
            ours = False
        return IN_FLIGHT if ours else FOREIGN
    if record is None or record.get("sent_at") is None:
        return SEND
    return RESEND if resend else PAUSE


def owns_refusal(state: StoreState, region: str, origin: str | None) -> bool:
    """A refused call ("already under way") is the drill's own only when AWS names the move
    in flight and it is the journaled intent: same source and same target (Aurora's
    FailoverState ``FromDbClusterArn``/``ToDbClusterArn``). A service that does not name the
    move (a global datastore ``modifying``) never proves it: the drill stops."""
    return (
        state.in_flight
        and state.moving_to == region
        and state.moving_from is not None
        and state.moving_from == origin
    )


def move(ctx: DrillContext, s: SwitchableStore, region: str, *, lossy: bool, key: str) -> str:
    """Request the move of ``s`` toward ``region`` unless AWS shows it there or on its way
    (:func:`decide_move`). Returns ``already``, ``in-flight`` or ``requested``; raises
    OperatorNeededError where a person must decide (nothing is sent then)."""
    state = s.describe(ctx)
    calls: dict[str, Any] = ctx.state.setdefault("calls", {})
    record = calls.get(key)
    origin = state.primary if record is None else record.get("from", state.primary)
    description = s.call_for(region, lossy=lossy)
    decision = decide_move(
        state, record, region, origin=origin, resend=bool(getattr(ctx, "resend", False))
    )
    if decision == ALREADY:
        ctx.resolve_call(key, "AWS shows it done")
        return "already"
    if decision == IN_FLIGHT:
        ctx.resolve_call(key, "AWS shows it under way")
        return "in-flight"
    if decision == FOREIGN:
        ctx.event("foreign", f"{s.name}: a move the drill did not make is under way", store=s.name)
        raise OperatorNeededError(
            f"{s.name}: a move the drill did not journal is under way ({state.status}, to "
            f"{state.moving_to or 'a region AWS does not name'}): another actor is moving it",
            "who started it (CloudTrail); let it finish, then resume or roll back",
        )
    if decision == PAUSE:
        assert record is not None
        ctx.event("journal", f"{key}: sent, but AWS shows it neither done nor under way")
        raise OperatorNeededError(
            f"{record.get('call', description)} was sent at {record.get('sent_at')}, but AWS "
            f"shows the {s.name} primary in {state.primary} with no move in flight",
            f"whether someone moved it back by hand or AWS refused it (CloudTrail, the "
            f"{s.name} events); sending it again needs `python -m drills resume "
            f"{ctx.drill_id} --resend`, or roll back",
        )
    if decision == RESEND:
        ctx.event("journal", f"{key}: sent before; sending it again as the operator asked")
    elif record is not None:
        ctx.event("journal", f"{key}: intended but never sent; sending it now", store=s.name)
    try:
        with ctx.irreversible(key, description, store=s.name, origin=origin, to=region):
            s.request(ctx, region, lossy=lossy)
    except ClientError as exc:
        # A call retried by botocore after AWS had accepted its first attempt finds the move
        # already under way (InvalidGlobalClusterStateFault); it is ours only when AWS shows
        # the journaled intent (same from and to), otherwise someone else is moving the store.
        after = s.describe(ctx)
        if not after.in_flight and after.primary != region:
            raise  # refused and nothing moved (throttled, invalid state): the call failed
        if not owns_refusal(after, region, origin):
            calls[key]["refused"] = error_code(exc)
            ctx.checkpoint()
            ctx.event("refused", f"{description}: {error_code(exc)}", store=s.name)
            raise OperatorNeededError(
                f"{description} was refused ({error_code(exc)}: {exc}) while AWS shows a move "
                f"that is not this drill's journaled one ({origin} -> {region})",
                "what else is moving the store (CloudTrail); resume or roll back once it is "
                "settled",
            ) from exc
        calls[key]["sent_at"] = time.time()
        calls[key]["resolved"] = f"refused ({error_code(exc)}); AWS shows the journaled move"
        ctx.checkpoint()
        ctx.event("retry", f"{description}: already under way ({error_code(exc)})", store=s.name)
    return "requested"


WAIT = "wait"
DONE = "done"
MOVE = "move"
WAIT_READY = "wait-ready"


def switchover_ready(state: StoreState, region: str, writer_answers: Callable[[], bool]) -> bool:
    """May a switchover toward ``region`` start: nothing in flight, one primary, ``region`` a
    synchronized secondary, and the current writer answering (a switchover needs the old
    primary: Aurora User Guide, "Performing switchovers")."""
    if not state.settled or region not in state.ready:
        return False
    return state.primary is not None and writer_answers()


def undo_next(state: StoreState, origin: str, *, settles: bool, ready: Callable[[], bool]) -> str:
    """The next thing an undo does, from what AWS shows now:

    - ``wait``: a move that settles by itself is in flight (AWS cannot cancel it);
    - ``done``: the primary is in ``origin`` and settled;
    - ``move``: request the move back (a setting needs nothing to settle first);
    - ``wait-ready``: the move back may not start yet (``ready`` says when it may).
    """
    if settles and state.in_flight:
        return WAIT
    if state.primary == origin and state.settled:
        return DONE
    if not settles:
        return MOVE
    return MOVE if ready() else WAIT_READY


def undo(ctx: DrillContext, s: SwitchableStore, origin: str) -> None:
    """Put the primary of ``s`` back in ``origin``: wait for any in-flight move to finish (it
    cannot be cancelled), then, if the primary is elsewhere, wait until a move back may start
    (:func:`undo_next`), request it and wait for it to finish; finally redo the follow-up (the
    DNS record)."""
    first = s.describe(ctx)
    if first.in_flight:
        ctx.event("undo", f"{s.name}: a move is in flight ({first.status}); waiting for it to end")

    if first.settled or not s.settles:
        state = first
    else:
        state = settle(ctx, s, f"any in-flight {s.name} move to finish")

    def decided(current: StoreState) -> str:
        return undo_next(
            current, origin, settles=s.settles, ready=lambda: s.ready_for(ctx, current, origin)
        )

    if not (state.primary == origin and state.settled):
        ctx.event("undo", f"{s.name}: primary in {state.primary}; moving it back to {origin}")

        def actionable() -> tuple[StoreState, str] | None:
            current = s.describe(ctx)
            action = decided(current)
            return (current, action) if action in {DONE, MOVE} else None

        _, action = ctx.wait_until(
            f"{origin} to be ready to take the {s.name} primary back",
            actionable,
            tolerate_unreachable=True,
        )
        if action == MOVE:
            move(ctx, s, origin, lossy=False, key=f"undo:{s.name}:{ctx.attempt_key()}")
        state = settle(ctx, s, f"the {s.name} primary back in {origin}")
        if state.primary != origin:
            raise VerificationError(f"{s.name}: primary in {state.primary} after the undo")
    s.after_move(ctx, origin)


# -- Neptune (issue 20): the fraud graph's global database -------------------------------------


@dataclass(frozen=True, slots=True)
class NeptuneRef:
    """The stack's ``fraudGraph`` output: the global database, its clusters, its name."""

    global_cluster_id: str
    arns: dict[str, str]
    endpoints: dict[str, str]
    dns_name: str


def neptune_ref(ctx: DrillContext) -> NeptuneRef:
    """The ``fraudGraph`` output, or a VerificationError naming it."""
    raw = ctx.target.raw.get("fraudGraph")
    if not isinstance(raw, dict) or not raw.get("globalClusterId"):
        raise VerificationError("the stack exports no fraudGraph (neptuneEnabled is off)")
    clusters = dict(raw.get("clusters") or {})
    return NeptuneRef(
        str(raw["globalClusterId"]),
        {r: str(c.get("arn", "")) for r, c in clusters.items()},
        {r: str(c.get("endpoint", "")) for r, c in clusters.items()},
        str(raw.get("dnsName") or ""),
    )


class NeptuneGlobal:
    """The Neptune global database: its writer moves by switchover (``SwitchoverGlobalCluster``,
    no data loss) or failover (``FailoverGlobalCluster`` with ``AllowDataLoss``), both in
    Neptune since engine 1.2.1.0 (Neptune API Reference, FailoverGlobalCluster: "If you don't
    specify AllowDataLoss, the global database cluster operation defaults to a switchover";
    Neptune User Guide, "Disaster recovery with a Neptune global database": a switchover's RPO
    is 0, a failover's the replication lag). Neptune has no global writer endpoint, so
    ``fraud.<zone>`` is moved by :meth:`after_move` (drills/zone.py)."""

    name = "neptune"
    call = "switchover_global_cluster"
    settles = True

    def describe(self, ctx: DrillContext) -> StoreState:
        """Writer, status and FailoverState, read through the Neptune API (the same
        GlobalCluster shape as Aurora's, without SynchronizationStatus)."""
        ref = neptune_ref(ctx)
        last: Exception | None = None
        for region in _order(ctx):
            try:
                result = ctx.aws.call(
                    "neptune",
                    region,
                    "describe_global_clusters",
                    GlobalClusterIdentifier=ref.global_cluster_id,
                )
            except Exception as exc:  # a region that does not answer: try the other
                last = exc
                continue
            found = result.get("GlobalClusters") or []
            if not found:
                raise VerificationError(f"Neptune global cluster {ref.global_cluster_id} not found")
            gc = found[0]
            failover = gc.get("FailoverState") or {}
            active = failover.get("Status") in {"pending", "failing-over", "switching-over"}
            moving = region_of_arn(str(failover.get("ToDbClusterArn", ""))) if active else None
            source = region_of_arn(str(failover.get("FromDbClusterArn", ""))) if active else None
            status = str(gc.get("Status", ""))
            return StoreState(
                primaries=tuple(writer_regions(gc)),
                status=status,
                moving_to=moving or None,
                moving_from=source or None,
                in_flight=bool(moving) or status in {"switching-over", "failing-over"},
                ready=tuple(
                    region_of_arn(m["DBClusterArn"])
                    for m in gc.get("GlobalClusterMembers", [])
                    if not m.get("IsWriter") and synchronized(m)
                ),
            )
        raise VerificationError(f"no region answers for the Neptune global cluster: {last}")

    def call_for(self, region: str, *, lossy: bool) -> str:
        """``neptune failover_global_cluster -> r (AllowDataLoss)`` or a switchover."""
        if lossy:
            return f"neptune failover_global_cluster -> {region} (AllowDataLoss)"
        return f"neptune switchover_global_cluster -> {region}"

    def request(self, ctx: DrillContext, region: str, *, lossy: bool) -> None:
        """Sent to the target region (the old primary may be gone)."""
        ref = neptune_ref(ctx)
        kwargs: dict[str, Any] = {
            "GlobalClusterIdentifier": ref.global_cluster_id,
            "TargetDbClusterIdentifier": ref.arns[region],
        }
        if lossy:
            ctx.aws.call("neptune", region, "failover_global_cluster", AllowDataLoss=True, **kwargs)
        else:
            ctx.aws.call("neptune", region, "switchover_global_cluster", **kwargs)

    def ready_for(self, ctx: DrillContext, state: StoreState, region: str) -> bool:
        """As Aurora's: settled, ``region`` a secondary, the current writer's region answering."""
        return switchover_ready(
            state,
            region,
            lambda: state.primary is not None and state.primary not in ctx.unreachable,
        )

    def after_move(self, ctx: DrillContext, region: str) -> None:
        """``fraud.<zone>`` to the new primary cluster's endpoint (when the stack has it)."""
        from .zone import point

        ref = neptune_ref(ctx)
        if ref.dns_name:
            point(
                ctx, ref.dns_name, ref.endpoints[region], store="neptune", why=f"writer in {region}"
            )


STORES["neptune"] = NeptuneGlobal
