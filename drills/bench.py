"""Drills benchmark: every scenario in the sandbox, and how much of its time is the drill's own.

The sandbox is the one ``make drill`` uses: the emulator seeded from the dev stack's offline
plan, with the real data plane behind it (a PostgreSQL and a Redis server per region,
``emulator/dataplane``; ``DRILLS_DATA_PLANE=model`` benchmarks the in-memory models
instead), the Pulumi stand-in answering previews from recordings of the program and the
policy pack's findings (preparing that is excluded from the measurements). Each scenario runs
on a freshly seeded stack; ``failback`` starts from the switched state (writers in the
secondary region: ``Sandbox.switch_first``, not timed):

- ``total_s``: wall time of the drill, from ``start_drill`` to its result;
- ``emulated_delay_s``: time covered by the emulator's deliberate waits (status transitions,
  restores, replication lag, the injected region outage), overlaps counted once;
- ``data_plane_s``: time the real servers spent on the control plane's operations (a
  switchover: the secondary catches up and is promoted, the old writer follows it; a lost
  region's servers stopped and restarted; a rebuild from a base backup; a cache failover),
  not covered by an emulated wait; 0 with the model data plane;
- ``overhead_s``: ``total_s`` minus the time covered by either, the orchestration overhead (AWS
  calls, polling, journal writes, the write probes through the servers, the Automation API,
  checks), target < 1 s per scenario;
- ``zero_delay_s``: the same drill with every emulated delay set to zero (the servers still
  take their time), a cross-check of the overhead that does not depend on how the waits
  overlap with the drill's own work; ``zero_delay_overhead_s`` is it minus that run's
  ``data_plane_s``.

Each scenario runs ``repeat`` times (default 3); the row shows medians (the run with the median
overhead for RTO and RPO).

Polling interval in the sandbox: 10 ms (``drills.sandbox.sandbox_settings``).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_OVERHEAD_S = 1.0
SCENARIOS: tuple[tuple[str, bool], ...] = (
    ("planned-switchover", False),
    ("unplanned-failover", False),
    ("cache-failover", False),
    ("dynamodb-evacuation", False),
    ("pitr", False),
    ("failback", False),
)
OUTAGE_S = 1.0
"""How long the primary region stays down in the unplanned-failover drill."""


def _drill(
    box: Any, scenario: str, failback: bool, state_dir: Path, outage: float
) -> dict[str, Any]:
    from drills.sandbox import LosePrimaryRegion, sandbox_settings, starts_away

    box.reseed()
    if starts_away(scenario):
        box.switch_first()  # the state failback starts from: not part of the drill
    observers: list[Any] = []
    if scenario == "unplanned-failover":
        observers.append(LosePrimaryRegion(box.emulator, box.topology.primary_region, outage))
    # the emulated outage starts after the preconditions, which find the primary answering:
    # the loss is accepted up front, as `run --allow-data-loss` would
    env = box.environment(
        sandbox_settings(state_dir),
        observers=observers,
        allow_data_loss=scenario == "unplanned-failover",
    )
    spans = ServerSpans(box.emulator.data_plane)
    started = time.time()
    try:
        result = box.run(scenario, env, failback=failback)
    finally:
        spans.stop()
    ended = time.time()
    emulated = box.emulator.delays_between(started, ended)
    waits = [(max(d.start, started), min(d.end, ended)) for d in emulated]
    servers = [(max(a, started), min(b, ended)) for a, b in spans.spans]
    emulated_s = covered(waits)
    data_plane_s = covered(waits + servers) - emulated_s
    return {
        "status": result.status,
        "total_s": ended - started,
        "emulated_delay_s": emulated_s,
        "data_plane_s": data_plane_s,
        "overhead_s": (ended - started) - emulated_s - data_plane_s,
        "server_s": covered(servers),
        "rto_s": result.rto_seconds,
        "rpo_s": result.rpo_seconds,
        "canaries_lost": result.canaries_lost,
    }


def covered(spans: list[tuple[float, float]]) -> float:
    """Seconds covered by at least one of ``spans`` (overlaps counted once)."""
    total, cursor = 0.0, float("-inf")
    for begin, end in sorted(spans):
        first = max(begin, cursor)
        if end > first:
            total += end - first
            cursor = end
    return total


class ServerSpans:
    """When the real servers were busy with a control-plane operation: every one of them runs
    through the region pair's ``_guard`` (a switchover, a failover, a rebuild, a lost or
    returning region, a cache failover), which this wraps for the drill's duration."""

    def __init__(self, pair: Any) -> None:
        self.spans: list[tuple[float, float]] = []
        self.pair = pair
        if pair is None or not hasattr(pair, "_guard"):
            self.pair = None
            return
        original = pair._guard

        def timed(what: str, action: Any) -> None:
            begun = time.time()
            try:
                original(what, action)
            finally:
                self.spans.append((begun, time.time()))

        pair._guard = timed

    def stop(self) -> None:
        """Put the pair's own ``_guard`` back."""
        if self.pair is not None:
            del self.pair._guard


def run(recording: bool = True, policies: bool = True, repeat: int = 3) -> list[dict[str, Any]]:
    """Run every scenario in the sandbox ``repeat`` times; one row per scenario (medians)."""
    from drills.sandbox import SANDBOX_TIMINGS, Sandbox
    from emulator import EmulatorTimings

    rows: list[dict[str, Any]] = []
    state_dir = Path(tempfile.mkdtemp(prefix="drills-bench-"))
    with Sandbox("dev", use_recording=recording, policies=policies) as box:
        _drill(box, "cache-failover", False, state_dir, OUTAGE_S)  # warm-up: imports, clients
        for scenario, failback in SCENARIOS:
            measured: list[dict[str, Any]] = []
            zero: list[tuple[float, float]] = []
            for _ in range(max(1, repeat)):
                box.emulator.timings = SANDBOX_TIMINGS
                measured.append(_drill(box, scenario, failback, state_dir, OUTAGE_S))
                box.emulator.timings = EmulatorTimings().scaled(0.0)
                zero_run = _drill(box, scenario, failback, state_dir, 0.0)
                zero.append((zero_run["total_s"], zero_run["total_s"] - zero_run["server_s"]))
            box.emulator.timings = SANDBOX_TIMINGS
            middle = sorted(measured, key=lambda m: m["overhead_s"])[len(measured) // 2]
            rows.append(
                {
                    "scenario": scenario + (" + failback" if failback else ""),
                    "status": ",".join(sorted({m["status"] for m in measured})),
                    "total_s": round(statistics.median(m["total_s"] for m in measured), 3),
                    "emulated_delay_s": round(
                        statistics.median(m["emulated_delay_s"] for m in measured), 3
                    ),
                    "data_plane_s": round(
                        statistics.median(m["data_plane_s"] for m in measured), 3
                    ),
                    "overhead_s": round(middle["overhead_s"], 3),
                    "zero_delay_s": round(statistics.median(z[0] for z in zero), 3),
                    "zero_delay_overhead_s": round(statistics.median(z[1] for z in zero), 3),
                    "target_s": TARGET_OVERHEAD_S,
                    "met": middle["overhead_s"] < TARGET_OVERHEAD_S,
                    "rto_s": middle["rto_s"],
                    "rpo_s": middle["rpo_s"],
                    "canaries_lost": middle["canaries_lost"],
                    "runs": len(measured),
                    "data_plane": box.emulator.data_plane_kind,
                }
            )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
