"""Test support for drills: a seeded stack in the shared emulator, a Pulumi stand-in, helpers
that read the emulator's state back for assertions."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3

from drills.aws import AwsClients
from drills.drill import DrillEnvironment, resume_drill, rollback_drill, start_drill
from drills.engine import DrillContext, DrillObserver, NullObserver, Step
from drills.journal import Journal
from drills.lease import lease_region, seed_lease_table
from drills.reconcile import StackReconciler
from drills.result import DrillResult
from drills.seed import SeededStack, client_at, seed_topology
from drills.settings import DrillSettings, StepTimeouts
from drills.stackfile import REPO_ROOT, Objectives, StackSettings
from drills.standin import StandInBackend, StandInPulumiCommand, StandInStack
from drills.target import target_from_outputs
from drills.topology import AlarmSpec, TableSpec, Topology, default_topology
from emulator import STATE, Emulator, EmulatorTimings
from emulator.dynamodb import dump_items

PRIMARY = "us-east-1"
SECONDARY = "us-west-2"
PROJECT = "securecart-data"

TIMINGS = EmulatorTimings(
    switchover_seconds=0.03,
    failover_seconds=0.02,
    detach_seconds=0.02,
    rejoin_seconds=0.02,
    aurora_replication_lag_seconds=0.004,
    dynamodb_replication_lag_seconds=0.006,
    replica_create_seconds=0.02,
    cache_failover_seconds=0.02,
    restore_cluster_seconds=0.03,
    restore_table_seconds=0.03,
    instance_create_seconds=0.01,
    restorable_lag_seconds=0.0,
    metric_interval_seconds=0.02,
    rds_failover_seconds=0.03,
    rds_reboot_seconds=0.02,
    rds_replica_create_seconds=0.03,
    rds_promote_seconds=0.03,
    rds_replica_lag_seconds=0.01,
    redshift_restore_seconds=0.03,
    redshift_copy_seconds=0.01,
)
"""Milliseconds: every transition still happens, and takes time, but the suite stays fast.
No test depends on these being short or long: the ones about timing hold operations with gates
or run on the emulator's manual clock."""

TIMEOUTS = StepTimeouts(
    preconditions=20.0,
    canaries=20.0,
    aurora_switch=20.0,
    cache_switch=20.0,
    dynamodb_evacuation=20.0,
    verify=20.0,
    rebuild=20.0,
    reconcile=20.0,
    restore=20.0,
    cleanup=20.0,
)
"""Far above what any step takes here, even on a loaded machine: a timeout means a bug (tests
of timeouts set short ones themselves, with the operation held by a gate)."""


def fast_settings(state_dir: Path, **changes: Any) -> DrillSettings:
    """Drill settings for tests: 10 ms polls, generous AWS timeouts (a region that is down is
    refused at once, ``region_down(..., hang=False)``, so no test waits on a read timeout)."""
    settings = DrillSettings(
        poll_interval=0.01,
        stop_check_interval=0.5,
        canary_count=3,
        # a tenth of a second: five of them (the stall that leaves an RPO not measured,
        # drills/metrics.py) stay above what an emulated call takes on a loaded 2-core machine
        canary_interval=0.1,
        replication_grace=0.4,
        aws_connect_timeout=5.0,
        aws_read_timeout=10.0,
        aws_max_attempts=3,
        busy_retries=2,
        timeouts=TIMEOUTS,
        state_dir=state_dir,
    )
    return settings.with_(**changes) if changes else settings


def test_topology(suffix: str) -> Topology:
    """A small stack: two global tables, a global datastore, one alarm per region."""
    settings = StackSettings(
        project=PROJECT,
        stack="dev",
        environment="dev",
        primary_region=PRIMARY,
        secondary_region=SECONDARY,
        objectives=Objectives(rto_seconds=60.0, rpo_seconds=1.0, max_replication_lag_seconds=2.0),
        raw={},
    )
    base = default_topology(settings, suffix=f"-{suffix}")
    return replace(
        base,
        clusters=tuple(replace(c, instances=c.instances[:1]) for c in base.clusters),
        tables=(
            TableSpec("sessions", f"sessions-{suffix}", "sessionId", ttl_attribute="expiresAt"),
            TableSpec(
                "order-history", f"order-history-{suffix}", "customerId", range_key="orderId"
            ),
        ),
        alarms=(
            AlarmSpec(PRIMARY, f"aurora-cpu-{suffix}-{PRIMARY}"),
            AlarmSpec(SECONDARY, f"aurora-cpu-{suffix}-{SECONDARY}"),
        ),
    )


class Crash(BaseException):
    """Simulates the drill process dying (not an Exception: nothing in the drill catches it)."""


class CrashAt(NullObserver):
    """Crashes the drill when a step starts (before it acts) or finishes (before it is journaled
    as done)."""

    def __init__(self, step: str, when: str = "finished") -> None:
        self.step = step
        self.when = when

    def step_started(self, step: Step, record: dict[str, Any]) -> None:
        if self.when == "started" and step.name == self.step:
            raise Crash(step.name)

    def step_finished(self, step: Step, record: dict[str, Any]) -> None:
        if self.when == "finished" and step.name == self.step:
            raise Crash(step.name)


INTENT, ANSWERED, WAITING = "intent", "answered", "waiting"


class CrashAtCall(NullObserver):
    """Kills the drill at one point of the irreversible call whose journal key starts with
    ``key``: right after its intent is journaled (the "action" event comes after that save),
    right after AWS answered (before "sent" is journaled), or at the first wait after it."""

    def __init__(self, key: str, point: str) -> None:
        self.key = key
        self.point = point
        self.answered = False
        self.fired = False

    def _crash(self) -> None:
        self.fired = True
        raise Crash(f"{self.key} {self.point}")

    def event(self, event: Any) -> None:
        if (
            self.point == INTENT
            and not self.fired
            and event.kind == "action"
            and str(event.data.get("call", "")).startswith(self.key)
        ):
            self._crash()

    def call_answered(self, key: str) -> None:
        if not key.startswith(self.key):
            return
        self.answered = True
        if self.point == ANSWERED and not self.fired:
            self._crash()

    def waiting(self, what: str) -> None:
        if self.point == WAITING and self.answered and not self.fired:
            self._crash()


class AtEvent(NullObserver):
    """Runs a callback (once) at the first timeline event of a kind (and message part)."""

    def __init__(self, kind: str, action: Any, contains: str = "") -> None:
        self.kind = kind
        self.action = action
        self.contains = contains
        self.fired = False

    def event(self, event: Any) -> None:
        if self.fired or event.kind != self.kind or self.contains not in event.message:
            return
        self.fired = True
        self.action()


class AtStep(NullObserver):
    """Runs a callback when a step starts."""

    def __init__(self, step: str, action: Any) -> None:
        self.step = step
        self.action = action

    def step_started(self, step: Step, record: dict[str, Any]) -> None:
        if step.name == self.step:
            self.action()


@dataclass
class DrillHarness:
    """One seeded stack, its stand-in Pulumi backend, and readers of the emulator's state."""

    emulator: Emulator
    seeded: SeededStack
    backend: StandInBackend
    command: StandInPulumiCommand
    state_dir: Path
    settings: DrillSettings
    report_dir: Path
    stack: str = "dev"
    observers: list[DrillObserver] = field(default_factory=list)
    session: Any = None
    """A boto3 Session for the drill (None: the shared one); tests count calls through it."""
    expectation: Any = None
    """What the drill expects a region swap to change (None: what the stand-in's planner
    plans, i.e. the scripted plan is the program's; tests of unexpected changes set one)."""

    def planned_changes(self, deployed: Any, wanted: Any) -> set[tuple[str, str]]:
        from drills.reconcile import normalized_op

        plan = self.backend.planner(self.pulumi_stack)
        return {(normalized_op(s.op), s.urn) for s in plan.steps if s.op != "same"}

    @property
    def topology(self) -> Topology:
        return self.seeded.topology

    @property
    def pulumi_stack(self) -> StandInStack:
        return self.backend.stack(self.stack)

    def env(
        self, observers: Sequence[DrillObserver] = (), settings: DrillSettings | None = None
    ) -> DrillEnvironment:
        return DrillEnvironment(
            settings=settings or self.settings,
            work_dir=REPO_ROOT,
            pulumi_command=self.command,
            observers=[*self.observers, *observers],
            report_dir=self.report_dir,
            cache_connector=self.emulator.cache_plane.connect,
            session=self.session,
            expectation=self.expectation or self.planned_changes,
        )

    def context(
        self,
        journal_name: str,
        *,
        outputs: dict[str, Any] | None = None,
        session: Any | None = None,
    ) -> DrillContext:
        """A drill context on a fresh journal of its own, for calling a step, a probe or the
        invariant directly (``session``: a boto3 Session of the test's, e.g. one that counts)."""
        journal = Journal.create(
            self.state_dir,
            journal_name,
            stack="dev",
            scenario="x",
            options={},
            settings={},
            plan=[],
        )
        return DrillContext(
            journal,
            target_from_outputs(outputs or self.seeded.outputs),
            self.settings,
            AwsClients(self.settings, session),
            StackReconciler("dev", REPO_ROOT, PROJECT, self.command),
            [],
        )

    def run(
        self,
        scenario: str,
        *,
        failback: bool = False,
        observers: Sequence[DrillObserver] = (),
        settings: DrillSettings | None = None,
        reports: bool = False,
        signals: bool = False,
        allow_data_loss: bool = False,
    ) -> DrillResult:
        """Start a drill; ``signals``: with the CLI's SIGINT/SIGTERM handlers installed."""
        env = self.env(observers, settings)
        env.allow_data_loss = allow_data_loss
        if not reports:
            env.report_dir = None
        with _handlers(signals):
            return start_drill(self.stack, scenario, env, failback=failback)

    def resume(
        self,
        drill_id: str,
        observers: Sequence[DrillObserver] = (),
        reports: bool = False,
        signals: bool = False,
        resend: bool = False,
    ) -> DrillResult:
        env = self.env(observers)
        env.report_dir = self.report_dir if reports else None
        env.resend = resend
        with _handlers(signals):
            return resume_drill(drill_id, env)

    def rollback(
        self, drill_id: str, observers: Sequence[DrillObserver] = (), reports: bool = False
    ) -> DrillResult:
        env = self.env(observers)
        env.report_dir = self.report_dir if reports else None
        return rollback_drill(drill_id, env)

    def journal(self, drill_id: str) -> Journal:
        return Journal.load(self.state_dir, drill_id)

    def only_drill(self) -> str:
        ids = [p.parent.name for p in self.state_dir.glob("*/journal.json")]
        assert len(ids) == 1, ids
        return ids[0]

    # -- reading the emulator back ---------------------------------------------------------

    def client(self, service: str, region: str) -> Any:
        """A client of the emulator, cached per process (creating one costs tens of ms)."""
        return client_at(self.emulator.endpoint_url, service, region)

    def global_cluster(self) -> dict[str, Any]:
        result = self.client("rds", SECONDARY).describe_global_clusters(
            GlobalClusterIdentifier=self.topology.global_cluster_id
        )
        cluster: dict[str, Any] = result["GlobalClusters"][0]
        return cluster

    def writer_region(self) -> str:
        writers = [
            m["DBClusterArn"].split(":")[3]
            for m in self.global_cluster()["GlobalClusterMembers"]
            if m["IsWriter"]
        ]
        assert len(writers) == 1, writers
        return writers[0]

    def cache_primary(self) -> str:
        datastore = self.client("elasticache", SECONDARY).describe_global_replication_groups(
            GlobalReplicationGroupId=self.seeded.cache_global_id, ShowMemberInfo=True
        )["GlobalReplicationGroups"][0]
        primaries = [
            m["ReplicationGroupRegion"] for m in datastore["Members"] if m["Role"] == "PRIMARY"
        ]
        assert len(primaries) == 1, primaries
        return primaries[0]

    def settle(self, limit: float = 5.0) -> None:
        """Advance until no emulated operation is pending (polls the emulator's own queue, not
        the wall clock: it returns as soon as the last transition has fired)."""
        import time

        deadline = time.monotonic() + limit
        while STATE.scheduler.pending() and time.monotonic() < deadline:
            self.emulator.tick()
            time.sleep(0.002)
        assert not STATE.scheduler.pending(), STATE.scheduler.pending()

    def quiesce(self, limit: float = 10.0) -> None:
        """Wait until nothing of this stack is still on its way: no emulated operation pending
        and no DynamoDB or Aurora change waiting to replicate. It waits for an outcome, not
        for a duration, so it does not race the emulator (``limit`` only bounds a bug)."""
        import time

        tables = {t.name for t in self.topology.tables}
        gid = self.topology.global_cluster_id

        def busy() -> bool:
            self.emulator.tick()
            with STATE.lock:
                if STATE.scheduler.pending():
                    return True
                if any(c.table in tables for c in STATE.dynamodb.queue):
                    return True
                return gid in STATE.aurora.active

        deadline = time.monotonic() + limit
        while busy():
            assert time.monotonic() < deadline, "the emulator did not quiesce"
            time.sleep(0.002)

    def active_region(self) -> dict[str, str]:
        """The active-region setting (SSM) in each region."""
        name = self.topology.active_region_parameter
        return {
            region: self.client("ssm", region).get_parameter(Name=name)["Parameter"]["Value"]
            for region in (PRIMARY, SECONDARY)
        }

    def point_cache_record(self, region: str) -> None:
        """UPSERT ``cache.<zone>`` to ``region``'s primary endpoint (as an operator would)."""
        self.client("route53", PRIMARY).change_resource_record_sets(
            HostedZoneId=self.seeded.zone_id,
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": self.seeded.outputs["cacheDnsName"],
                            "Type": "CNAME",
                            "TTL": self.seeded.outputs["dnsTtlSeconds"],
                            "ResourceRecords": [{"Value": self.seeded.cache_endpoints[region][0]}],
                        },
                    }
                ]
            },
        )

    def cache_record(self) -> str:
        """The value of ``cache.<zone>`` as Route 53 answers it."""
        name = self.seeded.outputs["cacheDnsName"]
        records = self.client("route53", PRIMARY).list_resource_record_sets(
            HostedZoneId=self.seeded.zone_id
        )["ResourceRecordSets"]
        values = [
            r["ResourceRecords"][0]["Value"]
            for r in records
            if r["Name"].rstrip(".") == name and r["Type"] == "CNAME"
        ]
        assert len(values) == 1, records
        return str(values[0]).rstrip(".")

    def stored_ids(self, region: str, table: str) -> set[str]:
        """Ids in ``table`` of the regional cluster's database, read from the emulator's own
        store (what replication delivered, whatever the Data API allows). A database without
        the table holds no ids; any other error propagates."""
        import sqlite3

        self.emulator.tick()
        store = STATE.aurora.stores.get(self.seeded.cluster_arns[region])
        if store is None:
            return set()
        try:
            _, rows = store.query(f"SELECT id FROM {table}", {})
        except sqlite3.OperationalError as exc:
            if f"no such table: {table}" not in str(exc):
                raise
            return set()
        return {str(r[0]) for r in rows}

    def aurora_rows(self, region: str) -> set[str]:
        """Canary ids in the regional cluster's database (the emulator's own store)."""
        return self.stored_ids(region, "drill_canary")

    def table_items(self, region: str, logical: str = "sessions") -> list[dict[str, Any]]:
        self.emulator.tick()
        name = next(t.name for t in self.topology.tables if t.logical == logical)
        return dump_items(region, name)

    def canary_items(self, region: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for table in self.topology.tables:
            items.extend(i for i in dump_items(region, table.name) if "drillId" in i)
        return items

    def set_alarm(self, region: str, state: str = "ALARM") -> str:
        name = next(a.name for a in self.topology.alarms if a.region == region)
        self.client("cloudwatch", region).set_alarm_state(
            AlarmName=name, StateValue=state, StateReason="test"
        )
        return name

    def set_alarm_named(self, region: str, name: str, state: str = "ALARM") -> None:
        self.client("cloudwatch", region).set_alarm_state(
            AlarmName=name, StateValue=state, StateReason="test"
        )

    def config_regions(self) -> tuple[str, str]:
        cfg = self.pulumi_stack.config
        return str(cfg[f"{PROJECT}:primaryRegion"]), str(cfg[f"{PROJECT}:secondaryRegion"])


@contextmanager
def _handlers(install: bool) -> Iterator[None]:
    """The CLI's signal handlers around a drill (``python -m drills run`` installs them)."""
    if not install:
        yield
        return
    from drills.cli import stop_on_signals

    with stop_on_signals():
        yield


def make_harness(
    emulator: Emulator,
    tmp: Path,
    planner: Any = None,
    extend: Callable[[Topology, str], Topology] | None = None,
) -> DrillHarness:
    """Seed a fresh stack (unique names) and a stand-in backend for it; ``extend`` adds to the
    small test topology (the issue-20 stores' tests add theirs)."""
    suffix = uuid.uuid4().hex[:8]
    topology = test_topology(suffix)
    seeded = seed_topology(emulator, extend(topology, suffix) if extend else topology)
    # the stack's drill lease table (drills/lease.py), as the program creates it
    seed_lease_table(
        seeded.outputs,
        lambda region: client_at(emulator.endpoint_url, "dynamodb", region),
        f"drill-lease-{suffix}",
        lease_region((PRIMARY, SECONDARY)),
    )

    def outputs_after_up(stack: StandInStack) -> dict[str, Any]:
        primary = str(stack.config[f"{PROJECT}:primaryRegion"])
        seeded.apply_up(primary)  # the active-region setting follows primaryRegion
        return seeded.outputs_for(primary, str(stack.config[f"{PROJECT}:secondaryRegion"]))

    backend = StandInBackend(PROJECT, outputs_after_up=outputs_after_up)
    if planner is not None:
        backend.planner = planner
    backend.add_stack(
        "dev",
        {
            "environment": "dev",
            "primaryRegion": PRIMARY,
            "secondaryRegion": SECONDARY,
            "drillsRtoSeconds": "60",
            "drillsRpoSeconds": "1",
            "drillsMaxReplicationLagSeconds": "2",
        },
        seeded.outputs,
    )
    state_dir = tmp / "state"
    return DrillHarness(
        emulator=emulator,
        seeded=seeded,
        backend=backend,
        command=StandInPulumiCommand(backend),
        state_dir=state_dir,
        settings=fast_settings(state_dir),
        report_dir=tmp / "reports",
    )


class CallCounter:
    """Counts the API calls the drill makes (once per call, retries not counted), through a
    boto3 Session of its own given to the drill: ``counter["rds.SwitchoverGlobalCluster"]``."""

    def __init__(self) -> None:
        self.session = boto3.session.Session()
        self.counts: dict[str, int] = {}
        self.session.events.register("before-call", self._count)

    def _count(self, event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".", 2)
        key = f"{service}.{operation}"
        self.counts[key] = self.counts.get(key, 0) + 1

    def __getitem__(self, key: str) -> int:
        return self.counts.get(key, 0)
