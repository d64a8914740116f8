"""The emulator's own state: a clock, timings, faults, gates, a lazy scheduler, the data stores.

moto keeps control-plane state (clusters, tables, replication groups) in its backends; the
behaviours moto lacks (status transitions that take time, replication with lag, region loss)
live here. Nothing runs in the background: every request first calls :meth:`EmulatorState.tick`,
which fires the scheduled events that have come due, so what a client observes is exactly what
it would observe if the transitions had happened on time.

Tests never race the emulator: a :class:`ManualClock` makes time move only when the test says
so, and a :class:`Gate` holds a long-running operation (``switchover_global_cluster``,
``failover_global_replication_group``...) in its in-flight state until the test releases it.
"""

from __future__ import annotations

import functools
import heapq
import inspect
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class EmulatorTimings:
    """How long each emulated AWS operation takes, in seconds (tests use milliseconds)."""

    switchover_seconds: float = 2.0
    """``switchover_global_cluster``: from the request until the target cluster is the writer."""
    failover_seconds: float = 1.5
    """``failover_global_cluster`` (with or without AllowDataLoss)."""
    detach_seconds: float = 1.0
    """``remove_from_global_cluster``: until the detached cluster is a standalone writer."""
    rejoin_seconds: float = 2.0
    """After a lossy failover: from the old primary region coming back until it has rejoined."""
    aurora_replication_lag_seconds: float = 0.2
    """Aurora storage-level replication from the writer to each secondary cluster."""
    dynamodb_replication_lag_seconds: float = 0.3
    """DynamoDB global tables: an item written in one region appears in the others after this."""
    replica_create_seconds: float = 1.0
    """``update_table`` ReplicaUpdates Create: replica CREATING -> ACTIVE."""
    cache_failover_seconds: float = 1.0
    """``failover_global_replication_group``: global datastore modifying -> available."""
    restore_cluster_seconds: float = 2.0
    """``restore_db_cluster_to_point_in_time``: cluster creating -> available."""
    restore_table_seconds: float = 1.5
    """``restore_table_to_point_in_time``: table CREATING -> ACTIVE."""
    instance_create_seconds: float = 0.5
    """``create_db_instance`` inside a restored cluster: creating -> available."""
    restorable_lag_seconds: float = 0.0
    """How far LatestRestorableTime trails the clock (AWS: up to 5 minutes)."""
    metric_interval_seconds: float = 1.0
    """How often the global cluster publishes its lag metrics to CloudWatch (AWS: every minute)."""
    route53_propagation_seconds: float = 0.5
    """``ChangeResourceRecordSets``: from ``PENDING`` to ``INSYNC`` (AWS: usually within 60 s)."""
    fis_start_seconds: float = 1.0
    """``StartExperiment``: ``initiating`` until ``running`` (the fault takes effect)."""
    fis_stop_seconds: float = 1.0
    """``StopExperiment``: ``stopping`` until ``stopped`` (the fault is rolled back)."""
    rds_failover_seconds: float = 1.0
    """``reboot_db_instance`` with ``ForceFailover``: ``rebooting`` until the standby answers
    (AWS: typically 60-120 seconds)."""
    rds_reboot_seconds: float = 1.0
    """``reboot_db_instance`` without failover: ``rebooting`` until ``available``."""
    rds_replica_create_seconds: float = 2.0
    """``create_db_instance_read_replica``: ``creating`` until ``available``."""
    rds_promote_seconds: float = 1.5
    """``promote_read_replica``: ``modifying`` until the instance is standalone."""
    rds_replica_lag_seconds: float = 0.5
    """``ReplicaLag`` of a read replica whose source accepts writes."""
    redshift_restore_seconds: float = 2.0
    """``restore_from_cluster_snapshot``: ``creating`` until ``available``."""
    redshift_copy_seconds: float = 1.0
    """An automated snapshot of a cluster with snapshot copy on reaches the copy Region."""

    def scaled(self, factor: float) -> EmulatorTimings:
        """The same timings multiplied by ``factor`` (0.01 turns seconds into 10 ms units)."""
        return replace(self, **{f.name: getattr(self, f.name) * factor for f in fields(self)})

    @property
    def names(self) -> tuple[str, ...]:
        """Every timing's name."""
        return tuple(f.name for f in fields(self))


class ManualClock:
    """A clock that moves only when told to (``advance``): emulator-only tests use it so that a
    transition is observed before and after its due time, whatever the machine's speed."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds``; returns the new time."""
        with self._lock:
            self._now += max(0.0, seconds)
            return self._now


class Gate:
    """Holds every start of one operation in its in-flight state until :meth:`release`.

    ``started`` is set when an operation parks at the gate, so a test can wait for "the drill
    has made the call" without sleeping; ``release`` lets parked (and later) operations complete
    at the next request.
    """

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.started = threading.Event()
        self.released = False
        self.parked: list[Callable[[], None]] = []
        self.count = 0

    def release(self) -> None:
        """Let every parked operation finish (at the next tick)."""
        STATE.faults._notify("release", self.operation)
        with STATE.lock:
            self.released = True
            parked, self.parked = self.parked, []
            for finish in parked:
                STATE.scheduler.at(STATE.now(), f"{self.operation} released", finish)


@dataclass(order=True, slots=True)
class _Scheduled:
    due: float
    seq: int
    label: str = field(compare=False)
    action: Callable[[], None] = field(compare=False)
    requested_at: float = field(compare=False, default=0.0)


@dataclass(frozen=True, slots=True)
class EmulatedDelay:
    """One emulated operation's wait, as a wall-clock interval (for the benchmark)."""

    label: str
    start: float
    end: float


class Scheduler:
    """Events that fire lazily, at the first request on or after their due time."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._heap: list[_Scheduled] = []
        self._seq = itertools.count()
        self._clock = clock
        self.delays: list[EmulatedDelay] = []

    def at(self, due: float, label: str, action: Callable[[], None]) -> None:
        """Run ``action`` at the first tick on or after ``due`` (epoch seconds)."""
        now = self._clock()
        heapq.heappush(self._heap, _Scheduled(due, next(self._seq), label, action, now))
        if due > now:
            self.delays.append(EmulatedDelay(label, now, due))

    def after(self, seconds: float, label: str, action: Callable[[], None]) -> None:
        """Run ``action`` ``seconds`` from now."""
        self.at(self._clock() + max(0.0, seconds), label, action)

    def run_due(self, now: float) -> int:
        """Fire every event due at ``now``; events scheduled by events fire in the same pass."""
        fired = 0
        while self._heap and self._heap[0].due <= now:
            event = heapq.heappop(self._heap)
            event.action()
            fired += 1
        return fired

    def record(self, label: str, start: float, end: float) -> None:
        """Remember an emulated wait that was not a scheduled event (replication lag)."""
        if end > start:
            self.delays.append(EmulatedDelay(label, start, end))

    def pending(self) -> list[str]:
        """Labels of events not yet fired (for diagnostics)."""
        return [event.label for event in sorted(self._heap)]

    def clear(self) -> None:
        """Forget every pending event and recorded delay."""
        self._heap.clear()
        self.delays.clear()


@dataclass(slots=True)
class ThrottleRule:
    """Answer the next ``remaining`` matching requests with a throttling error."""

    service: str
    region: str | None
    remaining: int
    operation: str | None = None


class Faults:
    """Fault injection: regions that stop answering, throttling, operations that never finish."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.down_regions: dict[str, float] = {}
        """Region -> epoch time it stopped answering."""
        self.refusing: set[str] = set()
        """Down regions whose requests are refused at once instead of hanging."""
        self._recovered: dict[str, threading.Event] = {}
        self.throttles: list[ThrottleRule] = []
        self.gates: dict[str, Gate] = {}
        """Emulated operations (e.g. ``switchover_global_cluster``) held in flight."""
        self.hold_seconds = 5.0
        """How long a request to a down region is held before the server gives up on it."""
        self.throttled_count = 0
        self.held_count = 0
        self.outages: list[EmulatedDelay] = []
        """Every region outage that ended (an emulated wait for whoever waited on it)."""
        self.control_planes_down: set[str] = set()
        """Services whose control plane refuses every change (Route 53's lives in us-east-1)."""
        self.data_plane_cut: set[str] = set()
        """Regions whose data subnets are cut off the network (an FIS network disruption,
        :mod:`.fis`): their databases and caches do not answer; their AWS APIs still do."""
        self.listeners: list[Callable[[str, str], None]] = []
        """Called with (event, subject) on ``region-down``/``region-up``/``hold``/``release``:
        the real data plane follows the emulated network (:mod:`.dataplane`)."""

    def _notify(self, event: str, subject: str) -> None:
        for listener in list(self.listeners):
            listener(event, subject)

    def control_plane_down(self, service: str) -> None:
        """``service``'s control plane refuses every change until :meth:`control_plane_up`."""
        with self._lock:
            self.control_planes_down.add(service)

    def control_plane_up(self, service: str) -> None:
        """``service``'s control plane accepts changes again."""
        with self._lock:
            self.control_planes_down.discard(service)

    def control_plane_is_down(self, service: str) -> bool:
        """Whether ``service``'s control plane refuses changes."""
        return service in self.control_planes_down

    def region_down(self, region: str, *, hang: bool = True) -> None:
        """The region stops answering; replication from it stops. Its requests hang until the
        client's read timeout (``hang``, what a lost region usually looks like) or are refused
        at once with 503 Service Unavailable (``hang=False``: the same loss seen through an
        endpoint that still answers, which tests use so that no healthy request has to race a
        short read timeout)."""
        with self._lock:
            if region not in self.down_regions:
                self.down_regions[region] = self._clock()
                self._recovered[region] = threading.Event()
            if hang:
                self.refusing.discard(region)
            else:
                self.refusing.add(region)
        self._notify("region-down", region)

    def region_up(self, region: str) -> None:
        """The region answers again; held requests are released with an error."""
        with self._lock:
            since = self.down_regions.pop(region, None)
            event = self._recovered.pop(region, None)
            self.refusing.discard(region)
            if since is not None:
                self.outages.append(EmulatedDelay(f"{region} outage", since, self._clock()))
        if event is not None:
            event.set()
        if since is not None:
            self._notify("region-up", region)

    def cut_data_plane(self, region: str) -> None:
        """``region``'s data plane stops answering applications (its control plane answers)."""
        with self._lock:
            self.data_plane_cut.add(region)
        self._notify("data-plane-down", region)

    def restore_data_plane(self, region: str) -> None:
        """``region``'s data plane answers again."""
        with self._lock:
            was = region in self.data_plane_cut
            self.data_plane_cut.discard(region)
        if was:
            self._notify("data-plane-up", region)

    def data_unreachable(self, region: str | None) -> bool:
        """Whether applications cannot reach ``region``'s databases and caches (the region is
        down, or its data subnets are cut off)."""
        return region is not None and (region in self.down_regions or region in self.data_plane_cut)

    def is_down(self, region: str | None) -> bool:
        """Whether ``region`` currently does not answer."""
        return region is not None and region in self.down_regions

    def down_since(self, region: str) -> float | None:
        """When ``region`` stopped answering, or None if it answers."""
        return self.down_regions.get(region)

    def wait_for_recovery(self, region: str, timeout: float) -> None:
        """Block (a request thread) until ``region`` recovers or ``timeout`` passes."""
        event = self._recovered.get(region)
        if event is not None:
            event.wait(timeout)

    def throttle(
        self, service: str, count: int, region: str | None = None, operation: str | None = None
    ) -> None:
        """Throttle the next ``count`` requests to ``service`` (optionally one region/operation)."""
        with self._lock:
            self.throttles.append(ThrottleRule(service, region, count, operation))

    def take_throttle(self, service: str, region: str | None, operation: str | None) -> bool:
        """Whether this request should be throttled (consumes one from the matching rule)."""
        with self._lock:
            for rule in self.throttles:
                if rule.remaining <= 0 or rule.service != service:
                    continue
                if rule.region is not None and rule.region != region:
                    continue
                if rule.operation is not None and rule.operation != operation:
                    continue
                rule.remaining -= 1
                self.throttled_count += 1
                return True
        return False

    def hold(self, operation: str) -> Gate:
        """Every ``operation`` started from now on stays in flight until the gate is released."""
        with self._lock:
            gate = self.gates.get(operation)
            if gate is None or gate.released:
                gate = self.gates[operation] = Gate(operation)
        self._notify("hold", operation)
        return gate

    def park(self, operation: str, finish: Callable[[], None]) -> bool:
        """Called by an operation as it starts: True when a gate holds it (``finish`` runs at
        release), False when it should schedule its own completion."""
        with self._lock:
            gate = self.gates.get(operation)
            if gate is None or gate.released:
                return False
            gate.parked.append(finish)
            gate.count += 1
        gate.started.set()
        return True

    def is_stuck(self, operation: str) -> bool:
        """Whether a gate holds ``operation``."""
        gate = self.gates.get(operation)
        return gate is not None and not gate.released

    def clear(self) -> None:
        """Remove every fault (down regions recover)."""
        for region in list(self.down_regions):
            self.region_up(region)
        for region in list(self.data_plane_cut):
            self.restore_data_plane(region)
        held = [op for op, gate in self.gates.items() if not gate.released]
        with self._lock:
            self.throttles.clear()
            self.gates.clear()
            self.control_planes_down.clear()
        for operation in held:
            self._notify("release", operation)
        with self._lock:
            self.throttled_count = 0
            self.held_count = 0


def patch(owner: Any, name: str, value: object) -> None:
    """Install ``value`` as ``owner.name`` (how the moto extensions attach behaviours)."""
    setattr(owner, name, value)
    action_names.cache_clear()  # a Response class may have gained an action


@functools.cache
def action_names(response_class: type) -> list[str]:
    """moto's ``method_names_from_class``, once per class: moto lists a Response class's
    functions with ``inspect.getmembers`` on every request to find the action's method (3% of
    a drill's CPU). Classes change only through :func:`patch`, which forgets the lists."""
    return [name for name, _ in inspect.getmembers(response_class, predicate=inspect.isfunction)]


class EmulatorState:
    """Process-wide state shared by the moto extensions and the fault middleware."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clock: Callable[[], float] = time.time
        """Real time by default; tests install a :class:`ManualClock`."""
        self.timings = EmulatorTimings()
        self.faults = Faults(self.now)
        self.scheduler = Scheduler(self.now)
        self.aurora: Any = None
        """``emulator.aurora.AuroraData`` once installed."""
        self.dynamodb: Any = None
        """``emulator.dynamodb.DynamoData`` once installed."""
        self.cache: Any = None
        """``emulator.elasticache.CacheData`` once installed."""
        self.route53: Any = None
        """``emulator.route53.Route53Data`` once installed."""
        self.data_plane: Any = None
        """``emulator.dataplane.RegionPair`` carrying a seeded stack, if any."""
        self.request_count = 0
        self._tick_hooks: list[Callable[[float], None]] = []

    def now(self) -> float:
        """The emulator's current time (epoch seconds)."""
        return self.clock()

    def add_tick_hook(self, hook: Callable[[float], None]) -> None:
        """Run ``hook(now)`` on every tick (replication pumps)."""
        self._tick_hooks.append(hook)

    def tick(self, now: float | None = None) -> None:
        """Bring the emulated world up to ``now``: fire due events, pump replication."""
        with self.lock:
            moment = self.now() if now is None else now
            self.scheduler.run_due(moment)
            for hook in self._tick_hooks:
                hook(moment)
            # replication may have scheduled work that is already due
            self.scheduler.run_due(moment)

    def reset(self) -> None:
        """Forget data-plane state, scheduled events and faults (moto backends are separate)."""
        with self.lock:
            self.scheduler.clear()
            self.faults.clear()
            for part in (self.aurora, self.dynamodb, self.cache, self.route53):
                if part is not None:
                    part.reset()
            self.request_count = 0


STATE = EmulatorState()
"""The single emulator state of this process (moto's backends are process-wide too)."""
