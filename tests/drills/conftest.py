"""Fixtures: one emulator (moto's threaded server on 127.0.0.1) per test session (per xdist
worker), answering this process in-process, faults and timings reset before every test, a
freshly seeded stack per test."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest
from drill_harness import TIMINGS, DrillHarness, make_harness

from drills.apppath import Resolver, install_resolver
from drills.settings import StepTimeouts
from emulator import Emulator, fis
from emulator.dataplane import RegionPair
from emulator.state import STATE, ManualClock


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The emulator, started once per session (per xdist worker)."""
    server = Emulator(TIMINGS, data_plane="model").start()  # real_harness attaches the pair
    # this process's boto3 calls skip the socket (emulator/transport.py); the CLI and
    # serve tests' subprocesses, and requests a hanging region holds, still take HTTP
    server.serve_in_process()
    # warm moto's backends and botocore's models once, then keep them out of full GC scans
    make_harness(server, tmp_path_factory.mktemp("warmup"))
    gc.collect()
    gc.freeze()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _clean_emulator(request: pytest.FixtureRequest) -> Iterator[None]:
    """For tests that use the emulator: boto3 pointed at it through AWS_ENDPOINT_URL (only for
    the test's duration), faults cleared and timings reset before and after."""
    if "emulator" not in request.fixturenames and "harness" not in request.fixturenames:
        yield
        return
    server: Emulator = request.getfixturevalue("emulator")
    server.faults.clear()
    server.timings = TIMINGS
    with server.configured():
        yield
    server.faults.clear()
    server.timings = TIMINGS
    # what the test left in flight (a FIS experiment runs for emulated minutes) is its own
    fis.forget()
    STATE.scheduler.clear()
    # what this test created stays alive in moto anyway: keep it out of full GC scans
    gc.freeze()


@pytest.fixture
def harness(emulator: Emulator, tmp_path: Path) -> Iterator[DrillHarness]:
    """A freshly seeded stack and its Pulumi stand-in (its cache listeners stop afterwards)."""
    made = make_harness(emulator, tmp_path)
    yield made
    emulator.cache_plane.remove(e[0] for e in made.seeded.cache_endpoints.values())


@pytest.fixture
def clock(emulator: Emulator) -> Iterator[ManualClock]:
    """The emulator's time stands still until the test advances it (no race with delays)."""
    manual = ManualClock()
    emulator.state.clock = manual
    try:
        yield manual
    finally:
        emulator.state.clock = time.time


@pytest.fixture(scope="session")
def region_pair() -> Iterator[RegionPair]:
    """The real region pair (PostgreSQL and Redis servers per region, CA, DNS), started once
    per session by the first test that needs it (seconds: initdb, a base backup). Its files
    live in their own temporary directory: the ``postgres`` user the servers run as (under
    root) cannot enter pytest's private one."""
    pair = RegionPair().start()
    try:
        yield pair
    finally:
        pair.stop()


@pytest.fixture
def real_harness(
    emulator: Emulator, region_pair: RegionPair, tmp_path: Path
) -> Iterator[DrillHarness]:
    """A freshly seeded stack carried by the real region pair (detached afterwards, so the
    other tests' stacks keep the emulator's own models)."""
    emulator.attach(region_pair)
    region_pair.errors.clear()
    # The probes' resolver (drills/apppath.py) runs ten times faster than the wall clock here:
    # AWS's 5-second endpoint TTL lasts half a second, so drills do not wait TTLs out. That TTLs
    # are honoured at all is proven with a stopped clock (tests/drills/test_drill_apppath.py).
    started = time.monotonic()
    install_resolver(
        Resolver(region_pair.dns.address, clock=lambda: started + 10 * (time.monotonic() - started))
    )
    try:
        made = make_harness(emulator, tmp_path)
        # real servers take seconds per move (a base backup, Redis's once-a-second replication
        # cron), and the machine may be loaded: steps get minutes, which no passing drill
        # approaches; the tests still never wait on a timer (replication by LSN/offset)
        made.settings = made.settings.with_(
            timeouts=StepTimeouts(**{f.name: 180.0 for f in fields(StepTimeouts)}),
            # a control-plane call that moves the servers returns when they have moved: on a
            # loaded machine a datastore failover with a rejoin takes several seconds
            aws_read_timeout=30.0,
            **region_pair.client_settings(),  # the probes take the application's path
        )
        yield made
    finally:
        emulator.faults.clear()
        emulator.detach()
    assert not region_pair.errors, f"the servers failed to follow: {region_pair.errors}"
    emulator.cache_plane.remove(e[0] for e in made.seeded.cache_endpoints.values())
