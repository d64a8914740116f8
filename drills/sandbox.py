"""A local sandbox for drills: the emulator seeded from a stack's planned resources, and a
Pulumi stand-in whose previews come from the offline plan of the real program.

``python -m drills sandbox --stack dev --scenario planned-switchover --failback`` (``make
drill``) records the program for the stack's region pair and for the swapped pair (through
``preflight``: the program under Pulumi's mocks, the policy pack over gRPC), seeds moto's
server with the global cluster, the regional clusters, the tables with their replicas, the
cache replication groups, the alarms and the replicated secret, then runs the drill exactly as
against AWS: boto3 reaches the emulator through ``AWS_ENDPOINT_URL``, Pulumi through the
Automation API with the stand-in command.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import boto3
import yaml

from emulator import Emulator, EmulatorTimings
from preflight.changes import diff_plans
from preflight.config import YAML_LOADER

from .drill import DrillEnvironment, start_drill
from .engine import NullObserver, Step
from .lease import LEASE_OUTPUT, LeaseRef, lease_region, seed_lease_table
from .result import DrillResult
from .seed import SeededStack, seed_topology
from .settings import DrillSettings, StepTimeouts
from .stackfile import REPO_ROOT, StackSettings, load_stack_settings, project_name
from .standin import (
    Plan,
    PlannedStep,
    PolicyFinding,
    StandInBackend,
    StandInPulumiCommand,
    StandInStack,
)
from .topology import Topology, default_topology, from_recording

log = logging.getLogger("drills.sandbox")

SANDBOX_TIMINGS = EmulatorTimings(
    switchover_seconds=1.2,
    failover_seconds=0.9,
    detach_seconds=0.5,
    rejoin_seconds=0.8,
    aurora_replication_lag_seconds=0.05,
    dynamodb_replication_lag_seconds=0.08,
    replica_create_seconds=0.3,
    cache_failover_seconds=0.6,
    restore_cluster_seconds=1.0,
    restore_table_seconds=0.8,
    instance_create_seconds=0.3,
    restorable_lag_seconds=0.0,
)
"""Seconds, not minutes: long enough to watch, short enough to wait for."""


def diff_recordings(old: Any, new: Any) -> list[PlannedStep]:
    """The steps the engine would take to go from the ``old`` to the ``new`` recording
    (``preflight.changes.diff_plans``, the same diff as ``python -m preflight --against``)."""
    return [
        PlannedStep(change.op.value, change.urn, change.type, change.changed, change.replaced_by)
        for change in diff_plans(old.resources, new.resources).changes
    ]


@dataclass(slots=True)
class RecordingPlanner:
    """Plans from offline recordings of the program: deployed region pair vs configured pair."""

    project: str
    recordings: dict[tuple[str, str], Any] = field(default_factory=dict)
    findings: dict[tuple[str, str], list[PolicyFinding]] = field(default_factory=dict)
    cache: dict[tuple[tuple[str, str], tuple[str, str], str], Plan] = field(default_factory=dict)

    def regions(self, config: Mapping[str, Any]) -> tuple[str, str]:
        """(primary, secondary) of a stand-in stack config."""
        return (
            str(config.get(f"{self.project}:primaryRegion")),
            str(config.get(f"{self.project}:secondaryRegion")),
        )

    def __call__(self, stack: StandInStack) -> Plan:
        deployed, wanted = self.regions(stack.deployed_config), self.regions(stack.config)
        drift = json.dumps(stack.refreshed, sort_keys=True, default=str)
        key = (deployed, wanted, drift)
        if key not in self.cache:
            old, new = self.recordings.get(deployed), self.recordings.get(wanted)
            if old is not None and stack.refreshed:
                old = refreshed_recording(old, stack.refreshed)
            steps = diff_recordings(old, new) if old is not None and new is not None else []
            self.cache[key] = Plan(steps=steps, policy=list(self.findings.get(wanted, [])))
        return self.cache[key]


def refreshed_recording(recording: Any, drift: Mapping[str, Mapping[str, Any]]) -> Any:
    """``recording`` with the inputs a refresh read back (``drift``) written over its own."""
    resources = [
        dataclasses.replace(r, inputs={**r.inputs, **drift[r.urn]}) if r.urn in drift else r
        for r in recording.resources
    ]
    return dataclasses.replace(recording, resources=resources)


def stack_file_config(stack: str, root: Path) -> dict[str, Any]:
    """Every key of ``stacks/Pulumi.<stack>.yaml`` (namespaced), secure values skipped."""
    path = root / "stacks" / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return {}
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
    config = data.get("config") or {}
    return {str(k): v for k, v in config.items() if not (isinstance(v, Mapping) and "secure" in v)}


class Sandbox:
    """Emulator + seeded stack + Pulumi stand-in, for one stack."""

    def __init__(
        self,
        stack: str,
        *,
        timings: EmulatorTimings | None = None,
        root: Path = REPO_ROOT,
        use_recording: bool = True,
        policies: bool = True,
        topology: Topology | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.stack = stack
        self.root = root
        self.timings = timings or SANDBOX_TIMINGS
        self.use_recording = use_recording
        self.policies = policies
        self._topology = topology
        self._say = progress or (lambda message: log.info("%s", message))
        self.project = project_name(root)
        self.emulator = Emulator(self.timings)
        self.settings: StackSettings | None = None
        self.topology: Topology | None = None
        self.seeded: SeededStack | None = None
        self.backend: StandInBackend | None = None
        self.planner = RecordingPlanner(self.project)
        self.notes: list[str] = []
        self.lease: LeaseRef | None = None

    # -- setup -------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Plan the stack offline, start the emulator, seed it, prepare the stand-in."""
        self.settings = load_stack_settings(self.stack, self.root)
        self.topology = self._topology or self._plan_topology(self.settings)
        self.emulator.start()
        self._seed()
        # Everything loaded so far (moto, botocore models, the recordings) lives as long as the
        # process: keep it out of the garbage collector's full scans (300+ ms pauses otherwise).
        gc.collect()
        gc.freeze()
        return self

    def _plan_topology(self, settings: StackSettings) -> Topology:
        if not self.use_recording:
            self.notes.append("planned resources: defaults (recording disabled)")
            return default_topology(settings)
        try:
            from preflight.pipeline import run_preflight
            from preflight.recorder import record_stack
        except ImportError as exc:
            self.notes.append(f"planned resources: defaults (preflight unavailable: {exc})")
            return default_topology(settings)
        pairs = [
            (settings.primary_region, settings.secondary_region),
            (settings.secondary_region, settings.primary_region),
        ]
        for primary, secondary in pairs:
            overrides = {"primaryRegion": primary, "secondaryRegion": secondary}
            self._say(
                f"recording the program for primary {primary}"
                + (" with the policy pack" if self.policies else "")
            )
            if self.policies:
                result = run_preflight(self.stack, overrides=overrides, root=self.root)
                recording = result.recording
                self.planner.findings[(primary, secondary)] = [
                    PolicyFinding(
                        f.policy_name, f.detail, f.enforcement_level, f.urn, f.policy_pack_name
                    )
                    for f in result.findings
                ]
            else:
                recording = record_stack(self.stack, overrides, self.root)
            self.planner.recordings[(primary, secondary)] = recording
        recorded = self.planner.recordings[pairs[0]]
        topology = without_lease_table(from_recording(recorded, settings), recorded)
        self.notes.append(
            f"planned resources: the offline recording of the program ({len(self.planner.recordings[pairs[0]].resources)} resources)"
        )
        self.notes.extend(topology.notes)
        return topology

    def _seed(self) -> None:
        assert self.topology is not None and self.settings is not None
        self._say("seeding the emulator")
        self.seeded = seed_topology(self.emulator, self.topology)
        seeded = self.seeded
        self.lease = seed_lease_table(
            seeded.outputs,
            lambda region: boto3.client(
                "dynamodb",
                region_name=region,
                endpoint_url=self.emulator.endpoint_url,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            ),
            *self._lease_location(),
        )
        config = stack_file_config(self.stack, self.root) or {
            f"{self.project}:primaryRegion": self.topology.primary_region,
            f"{self.project}:secondaryRegion": self.topology.secondary_region,
        }
        project = self.project

        def outputs_after_up(stack: StandInStack) -> dict[str, Any]:
            primary = str(stack.config[f"{project}:primaryRegion"])
            seeded.apply_up(primary)
            return seeded.outputs_for(primary, str(stack.config[f"{project}:secondaryRegion"]))

        planner = self.planner

        def read_back(stack: StandInStack) -> dict[str, dict[str, Any]]:
            deployed = planner.recordings.get(planner.regions(stack.deployed_config))
            return refresh_drift(deployed, seeded) if deployed is not None else {}

        self.backend = StandInBackend(self.project, self.planner, outputs_after_up, read_back)
        standin = self.backend.add_stack(self.stack, config, seeded.outputs)
        recording = self.planner.recordings.get(
            (self.topology.primary_region, self.topology.secondary_region)
        )
        standin.resource_count = len(recording.resources) if recording is not None else 0

    def _lease_location(self) -> tuple[str, str]:
        """(table, region) of the lease: as the recorded program exports it, else the
        component's naming for the stack's environment."""
        assert self.topology is not None
        recording = self.planner.recordings.get(self.topology.regions)
        exported = (getattr(recording, "outputs", {}) or {}).get(LEASE_OUTPUT)
        if isinstance(exported, Mapping) and exported.get("tableName") and exported.get("region"):
            return str(exported["tableName"]), str(exported["region"])
        return (
            f"securecart-{self.topology.environment}-drill-lease",
            lease_region(self.topology.regions),
        )

    def reseed(self) -> None:
        """Forget every resource and seed the stack again (between benchmark runs)."""
        forget_everything(self.emulator)
        self._seed()
        gc.collect()
        gc.freeze()

    def stop(self) -> None:
        """Stop the emulator."""
        self.emulator.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- drills ------------------------------------------------------------------------------

    def environment(self, settings: DrillSettings, **kwargs: Any) -> DrillEnvironment:
        """A DrillEnvironment whose Pulumi is the stand-in."""
        assert self.backend is not None
        if self.emulator.data_plane is not None:  # probes take the application's path there
            settings = settings.with_(**self.emulator.data_plane.client_settings())
        return DrillEnvironment(
            settings=settings,
            work_dir=self.root,
            pulumi_command=StandInPulumiCommand(self.backend),
            cache_connector=self.emulator.cache_plane.connect,
            sandbox=True,
            **{
                "expectation": self._swap_changes,
                "probe_invoker": self.probe_invoker(),
                **kwargs,
            },
        )

    def probe_invoker(self) -> Callable[[str, dict[str, Any]], dict[str, Any]] | None:
        """What the stack's in-VPC probe function does on AWS, done here against the real
        region pair: the same handler code (components/functions/drill_probe.py), with the
        pair's DNS server for the VPC resolver, its CA for the RDS and ElastiCache CAs, and its
        credentials for the secrets. None with the emulator's in-memory stores."""
        pair = self.emulator.data_plane
        if pair is None or getattr(pair, "binding", None) is None:
            return None
        return region_pair_invoker(pair)

    def _swap_changes(self, deployed: tuple[str, str], wanted: tuple[str, str]) -> set[Any]:
        """What a region swap changes: the recordings of both pairs, diffed (what the drill
        would otherwise record again through preflight)."""
        from .reconcile import normalized_op

        old, new = self.planner.recordings.get(deployed), self.planner.recordings.get(wanted)
        if old is None or new is None:
            return set()
        return {(normalized_op(s.op), s.urn) for s in diff_recordings(old, new) if s.op != "same"}

    def run(self, scenario: str, env: DrillEnvironment, *, failback: bool = False) -> DrillResult:
        """Run a drill against the sandbox (boto3 pointed at the emulator for its duration).

        A scenario that starts by moving the writers home (``failback``) starts from the
        switched state, as it does on AWS after an incident: the sandbox first moves them to
        the secondary region (:meth:`switch_first`), else the drill would refuse, rightly,
        with ``already-home``."""
        if starts_away(scenario) and self.writer_region() == self.home_region:
            self.switch_first()
        with self.emulator.configured():
            return start_drill(
                self.stack, scenario, env, failback=failback, confirm_production=True
            )

    @property
    def home_region(self) -> str:
        """The stack's configured primary region (where ``failback`` brings the writers)."""
        assert self.topology is not None
        return self.topology.primary_region

    def writer_region(self) -> str | None:
        """Where the emulated global cluster has its writer now."""
        assert self.topology is not None and self.seeded is not None
        with self.emulator.configured():
            described = boto3.client(
                "rds", region_name=self.topology.secondary_region
            ).describe_global_clusters(GlobalClusterIdentifier=self.topology.global_cluster_id)
        for member in described["GlobalClusters"][0].get("GlobalClusterMembers", []):
            if member.get("IsWriter"):
                return next(
                    (
                        r
                        for r, arn in self.seeded.cluster_arns.items()
                        if arn == member["DBClusterArn"]
                    ),
                    None,
                )
        return None

    def switch_first(self) -> None:
        """The switched state a failback starts from: an incident's runbook moved the Aurora
        writer and the cache primary to the secondary region (a switchover and a datastore
        failover, at once: the emulator's delays are set to zero for them) and nobody has
        reconciled the stack, whose file still names the home region as primary.

        With the real data plane the servers follow (the secondary PostgreSQL server is
        promoted and the old writer follows it; the cache replicates the other way). A
        simple ``cache.`` CNAME is pointed at the new primary group, as that runbook would;
        a health-routed one (weighted records) follows the datastore on its own."""
        from emulator import EmulatorTimings

        assert self.topology is not None and self.seeded is not None
        home, away = self.topology.primary_region, self.topology.secondary_region
        seeded = self.seeded
        self._say(
            f"failback starts from the switched state: moving the writers to {away} first "
            f"(the stack file still names {home})"
        )
        saved = self.emulator.timings
        self.emulator.timings = EmulatorTimings().scaled(0.0)
        try:
            with self.emulator.configured():
                boto3.client("rds", region_name=away).switchover_global_cluster(
                    GlobalClusterIdentifier=self.topology.global_cluster_id,
                    TargetDbClusterIdentifier=seeded.cluster_arns[away],
                )
                if seeded.cache_global_id:
                    group = next(g for g in self.topology.cache_groups if g.region == away)
                    boto3.client("elasticache", region_name=away).failover_global_replication_group(
                        GlobalReplicationGroupId=seeded.cache_global_id,
                        PrimaryRegion=away,
                        PrimaryReplicationGroupId=group.replication_group_id,
                    )
            self.emulator.tick()
        finally:
            self.emulator.timings = saved
        name = seeded.outputs.get("cacheDnsName")
        if name and away in seeded.cache_endpoints and seeded.record_value(str(name)):
            with self.emulator.configured():
                boto3.client("route53", region_name=home).change_resource_record_sets(
                    HostedZoneId=seeded.zone_id,
                    ChangeBatch={
                        "Changes": [
                            {
                                "Action": "UPSERT",
                                "ResourceRecordSet": {
                                    "Name": str(name),
                                    "Type": "CNAME",
                                    "TTL": int(seeded.outputs["dnsTtlSeconds"]),
                                    "ResourceRecords": [{"Value": seeded.cache_endpoints[away][0]}],
                                },
                            }
                        ]
                    },
                )
        moved = self.writer_region()
        if moved != away:
            raise RuntimeError(
                f"the sandbox could not move the writers to {away} before the failback "
                f"(the global cluster's writer is in {moved or 'no region'})"
            )


class _PairCredentials:
    """The region pair's application credentials, in the secrets' shapes."""

    def __init__(self, pair: Any) -> None:
        self.pair = pair

    def aurora(self) -> dict[str, Any]:
        from emulator.dataplane.postgres import APP_USER

        return {
            "username": APP_USER,
            "password": self.pair.aurora.app_password,
            "dbname": self.pair.binding.database,
        }

    def cache_token(self) -> str | None:
        return str(self.pair.binding.token)


def region_pair_invoker(pair: Any) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """``(region, event) -> answer`` of the probe function, run in-process against ``pair``
    (one machine: both regions' probes run from the host, through the pair's DNS server)."""
    from components.functions.drill_probe import run_probes

    def invoke(region: str, event: dict[str, Any]) -> dict[str, Any]:
        # the pair's servers listen on one free port per store (both regions alike), not on
        # AWS's 5432 and 6379
        ports = {"aurora": pair.aurora.port, "cache": pair.cache.port}
        local = {
            **event,
            "probes": [
                {**p, "port": ports.get(p.get("store"), p.get("port"))} for p in event["probes"]
            ],
        }
        outcomes = run_probes(
            local,
            _PairCredentials(pair),
            resolve=lambda name: str(pair.resolver.resolve(name).address),
            cafile=str(pair.ca.cert),
            cache_cafile=str(pair.ca.cert),
        )
        return {"region": region, "results": [o.to_json() for o in outcomes]}

    return invoke


def starts_away(scenario: str) -> bool:
    """Whether a scenario's first phase brings the writers home (it starts where they are
    not): ``failback``."""
    from .scenarios import scenario as definition

    try:
        phases = definition(scenario).phases
    except ValueError:
        return False
    return bool(phases) and phases[0].direction == "home"


def without_lease_table(topology: Topology, recording: Any) -> Topology:
    """The topology without the drill lease table: it is a regional table of the drills, not
    one of the stack's global tables (seeded apart, by :func:`seed_lease_table`)."""
    exported = (getattr(recording, "outputs", {}) or {}).get(LEASE_OUTPUT)
    name = exported.get("tableName") if isinstance(exported, Mapping) else None
    if not name:
        return topology
    return dataclasses.replace(topology, tables=tuple(t for t in topology.tables if t.name != name))


def refresh_drift(recording: Any, seeded: SeededStack) -> dict[str, dict[str, Any]]:
    """What ``pulumi refresh`` would read back from the emulator that differs from the
    deployed state: the value of each active-region parameter, and the target of the simple
    ``cache.`` record (the drill UPSERTs it right after a cache failover, issue 8), mapped
    from the emulator's endpoint to the recorded one of the same region. The reconcile's
    preview then finds that record already right, as a real one would after its refresh."""
    from .topology import T_PARAMETER, T_RECORD

    drift: dict[str, dict[str, Any]] = {}
    for res in recording.by_type(T_PARAMETER):
        region, name = res.inputs.get("region"), res.inputs.get("name")
        actual = seeded.parameter_value(str(region), str(name))
        if actual is not None and actual != res.inputs.get("insecureValue"):
            drift[res.urn] = {"insecureValue": actual}
    groups = (getattr(recording, "outputs", {}) or {}).get("cacheReplicationGroups") or {}
    cache_name = seeded.outputs.get("cacheDnsName")
    target = seeded.record_value(str(cache_name)) if cache_name else None
    region = next((r for r, e in seeded.cache_endpoints.items() if e[0] == target), None)
    recorded = (groups.get(region) or {}).get("primaryEndpoint") if region else None
    for res in recording.by_type(T_RECORD):
        inputs = res.inputs
        if inputs.get("name") != cache_name or inputs.get("setIdentifier") or not recorded:
            continue
        if list(inputs.get("records") or []) != [recorded]:
            drift[res.urn] = {"records": [recorded]}
    return drift


SEEDED_SERVICES: Final = (
    "rds",
    "dynamodb",
    "elasticache",
    "cloudwatch",
    "secretsmanager",
    "route53",
    "ssm",
)


def forget_everything(emulator: Emulator) -> None:
    """Empty moto's backends of every service a seed creates, and the emulator's own state.

    moto keeps its backends per process, so a second sandbox of the same stack in one process
    (benchmark runs, tests) would find the first one's resources under the same names."""
    from moto.backends import get_backend

    for service in SEEDED_SERVICES:
        backends: Any = get_backend(service)
        for account in backends.values():
            account.reset()
    emulator.reset()


class LosePrimaryRegion(NullObserver):
    """Sandbox fault for ``unplanned-failover``: the primary region stops answering right after
    the last canary writes were acknowledged (writes still within the replication lag are
    lost, as in a real regional failure), and answers again ``outage`` seconds later so the old
    region can rejoin."""

    def __init__(self, emulator: Emulator, region: str, outage: float) -> None:
        self.emulator = emulator
        self.region = region
        self.outage = outage

    def step_finished(self, step: Step, record: dict[str, Any]) -> None:
        """Take the region down as soon as the canaries step has written."""
        if step.name != "canaries":
            return
        faults = self.emulator.faults
        faults.region_down(self.region)
        timer = threading.Timer(self.outage, faults.region_up, args=(self.region,))
        timer.daemon = True
        timer.start()


def sandbox_settings(state_dir: Path) -> DrillSettings:
    """Drill settings scaled for the sandbox: poll every 10 ms, a canary every 50 ms, step
    timeouts a twentieth of a real drill's (15 s for the preconditions, 90 s for a switchover:
    far above what the sandbox takes, even on a busy machine)."""
    return DrillSettings.fast(state_dir, scale=0.01).with_(
        poll_interval=0.01,
        canary_count=3,
        # Not 20 ms: a write through the real servers' path (TLS, SCRAM on a reconnect, the
        # region's edge) takes up to ~0.3 s on a loaded 2-core machine, and a probe slower
        # than STALL_INTERVALS (5) intervals around the fault leaves the RPO "not measured"
        # (drills/metrics.py). At 20 ms that limit is 0.1 s: an unplanned failover at load 8
        # had a 0.18 s cache probe around the fault (RPO not measured); at 50 ms (limit
        # 0.25 s) the same drill measured both RPOs, with fewer canaries loading the machine.
        canary_interval=0.05,
        replication_grace=3.0,
        stop_check_interval=1.0,
        aws_read_timeout=2.0,  # a lost region's requests are held until it answers again
        timeouts=StepTimeouts().scaled(0.05),
    )
