"""Issue 18 items 3-4 (sandbox side) and issue 16 item 7 (probe side): the write probes take the
application's path, and the figures are computed honestly from the canary log.

The path: the AWS name resolved through the configured resolver with its TTLs honoured (never
the OS resolver), TLS verified against that name, the store's own protocol. The TTL tests stop
the resolver's clock and move it by hand, so an answer's expiry is a decision of the test, not
a race. Expected values come from AWS documentation (a 5-second TTL on Aurora's endpoints, the
certificate naming the endpoint) or are computed by hand in the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from drill_harness import PRIMARY, SECONDARY, DrillHarness

from drills.apppath import AppPath, Resolver, install_resolver
from drills.canary import Canary, CanaryLog
from drills.engine import DrillContext
from drills.metrics import STALL_INTERVALS, rpo_resolution, rto_start
from drills.probes import AuroraProbe, CacheProbe, app_path
from drills.result import probe_errors
from emulator.dataplane import RegionPair
from emulator.dataplane.dns import DnsServer, Record

ADDRESS = {PRIMARY: "127.0.1.1", SECONDARY: "127.0.2.1"}
"""The regions' loopback networks (issue 18 item 1)."""
ENDPOINT_TTL = 5
"""Aurora's endpoints are served with a 5-second TTL (Aurora User Guide, "Amazon Aurora
endpoint connections")."""


class StoppedClock:
    """A clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the resolver ---------------------------------------------------------------------------


def test_the_resolver_reuses_an_answer_until_its_smallest_ttl_runs_out() -> None:
    records = {
        "writer.example": [Record("CNAME", "one.example", 5)],
        "one.example": [Record("A", "127.0.1.1", 60)],
        "two.example": [Record("A", "127.0.2.1", 60)],
    }
    server = DnsServer(lambda name: records.get(name, [])).start()
    try:
        clock = StoppedClock()
        resolver = Resolver(server.address, clock=clock)
        first = resolver.resolve("writer.example")
        assert (first.address, first.chain, first.ttl) == (
            "127.0.1.1",
            ("writer.example", "one.example"),
            5,  # the chain's smallest TTL: min(5, 60)
        )
        records["writer.example"] = [Record("CNAME", "two.example", 5)]  # the name moves
        clock.now += 4.999
        assert resolver.resolve("writer.example").address == "127.0.1.1"  # still cached
        clock.now += 0.001  # exactly 5 s after the answer: it has expired
        assert resolver.resolve("writer.example").address == "127.0.2.1"
    finally:
        server.stop()


def test_a_malformed_resolver_setting_is_refused_naming_the_key() -> None:
    assert AppPath.parse("") is None  # no application path: the model data plane
    assert AppPath.parse("127.0.0.1:53", "/ca.pem") == AppPath(("127.0.0.1", 53), "/ca.pem")
    with pytest.raises(ValueError, match=r"setting 'dns_server' has value 'resolver'; allowed: "):
        AppPath.parse("resolver")
    with pytest.raises(ValueError, match=r"has value '127.0.0.1:99999'"):
        AppPath.parse("127.0.0.1:99999")


# -- the probes on the real region pair ----------------------------------------------------


@pytest.fixture
def stopped(region_pair: RegionPair) -> Iterator[StoppedClock]:
    """The probes' resolver for the region pair's DNS server, on a stopped clock."""
    clock = StoppedClock()
    install_resolver(Resolver(region_pair.dns.address, clock=clock))
    yield clock


def _context(harness: DrillHarness, outputs: dict[str, Any] | None = None) -> DrillContext:
    name = f"probe-{len(list(harness.state_dir.glob('probe-*')))}"
    return harness.context(name, outputs=outputs)


def _rows(pair: RegionPair, index: int) -> set[str]:
    assert pair.binding is not None
    with pair.aurora.servers[index].admin(pair.binding.database) as conn:
        return {str(r[0]) for r in conn.run("SELECT id FROM drill_canary")}


def test_the_aurora_probe_verifies_the_exported_name_and_follows_it_only_after_its_ttl(
    real_harness: DrillHarness, region_pair: RegionPair, stopped: StoppedClock
) -> None:
    ctx = _context(real_harness)
    assert app_path(ctx) is not None
    probe = AuroraProbe(app_path(ctx))
    outputs = real_harness.seeded.outputs
    writer = outputs["clientEndpoints"]["writer"]

    # Issue 16 item 7: TLS with hostname verification cannot go through the private CNAME: a
    # client that dials writer.<zone> is refused (the certificate names RDS's own endpoints)
    private = {
        **outputs,
        "clientEndpoints": {"writer": {**writer, "host": outputs["writerDnsName"]}},
    }
    by_cname = _context(real_harness, private)
    refused = AuroraProbe(app_path(by_cname)).write(by_cname, "private-1", "switch")
    assert not refused.ok
    assert refused.error.startswith("SSLCertVerificationError")
    assert "Hostname mismatch" in refused.error

    first = probe.write(ctx, "p-1", "switch")

    assert first.ok, first.error
    assert first.region == PRIMARY
    assert probe.path == f"dns {writer['host']} -> postgresql tls verify-full"
    assert probe.evidence() == {
        "engine": "postgresql",  # not Aurora: SELECT aurora_version() does not exist here
        "version": region_pair.aurora.version,
        "address": f"{ADDRESS[PRIMARY]}:{region_pair.aurora.port}",
    }
    assert "p-1" in _rows(region_pair, 0)

    # the writer moves; the probe's resolver still holds the old answer for its TTL
    real_harness.client("rds", PRIMARY).switchover_global_cluster(
        GlobalClusterIdentifier=real_harness.topology.global_cluster_id,
        TargetDbClusterIdentifier=real_harness.seeded.cluster_arns[SECONDARY],
    )
    real_harness.settle(limit=120.0)
    assert region_pair.aurora.writer == 1
    during = [probe.write(ctx, f"p-{n}", "switch") for n in (2, 3)]
    assert not any(c.ok for c in during)
    # the first write finds its session gone (the old writer restarted as a replica), the
    # second one dials the cached address again: a replica refuses the INSERT
    assert "read-only transaction" in during[1].error

    stopped.now += ENDPOINT_TTL  # the answer expires: the name is resolved again
    after = probe.write(ctx, "p-4", "switch")
    assert after.ok, after.error
    assert after.region == SECONDARY
    assert probe.evidence()["address"] == f"{ADDRESS[SECONDARY]}:{region_pair.aurora.port}"  # type: ignore[index]


def test_the_cache_probe_follows_cache_zone_only_after_its_ttl_and_measures_lost_keys(
    real_harness: DrillHarness, region_pair: RegionPair, stopped: StoppedClock
) -> None:
    ctx = _context(real_harness)
    probe = CacheProbe(real_harness.emulator.cache_plane.connect, app_path(ctx))
    endpoints = real_harness.seeded.outputs["clientEndpoints"]["cache"]
    ttl = real_harness.seeded.outputs["dnsTtlSeconds"]

    assert probe.write(ctx, "k-1", "cache").region == PRIMARY
    assert (
        probe.path
        == f"dns {real_harness.seeded.outputs['cacheDnsName']} -> redis tls verify-full auth"
    )
    assert probe.evidence() == {
        "engine": "redis",
        "version": region_pair.cache.version,
        "address": f"{ADDRESS[PRIMARY]}:{region_pair.cache.port}",
    }
    assert (
        probe._reached is not None and probe._reached.verified_as == endpoints[PRIMARY]["primary"]
    )

    region_pair.cache.wait_replicated()
    faults = real_harness.emulator.faults
    held = faults.hold("cache_replication")  # k-2 stays in flight on the link
    assert probe.write(ctx, "k-2", "cache").ok
    faults.region_down(PRIMARY, hang=False)
    real_harness.client("elasticache", SECONDARY).failover_global_replication_group(
        GlobalReplicationGroupId=real_harness.seeded.cache_global_id,
        PrimaryRegion=SECONDARY,
        PrimaryReplicationGroupId=next(
            g.replication_group_id
            for g in real_harness.topology.cache_groups
            if g.region == SECONDARY
        ),
    )
    real_harness.settle()
    real_harness.point_cache_record(SECONDARY)
    real_harness.settle()

    # the cached answer still leads to the lost region
    assert not probe.write(ctx, "k-3", "cache").ok
    stopped.now += ttl
    moved = probe.write(ctx, "k-4", "cache")
    assert moved.ok and moved.region == SECONDARY, moved.error
    present, region = probe.present(ctx, ["k-1", "k-2", "k-4"])
    assert region == SECONDARY
    assert present == {"k-1", "k-4"}  # k-2 was acknowledged by the old primary, never arrived
    faults.region_up(PRIMARY)
    held.release()


# -- the figures, from logs written by hand -----------------------------------------------


def _c(cid: str, store: str, region: str, at: float, took: float, ok: bool = True) -> Canary:
    return Canary(cid, store, region, "p", at, ok, "" if ok else "refused", "", took)


def test_each_store_counts_rto_from_its_own_fault() -> None:
    # a planned move: the store's own request, whatever the phase did before
    assert rto_start(
        region_lost=False,
        src=PRIMARY,
        action="failover_global_replication_group",
        requested_at=42.0,
        declared_at=10.0,
        acknowledged=[_c("a", "cache", PRIMARY, 41.0, 0.1)],
    ) == (42.0, "request: failover_global_replication_group")
    # a lost region: the store's own last acknowledged write there (not another store's, not
    # one in the other region, not one after the loss was declared)
    own = [
        _c("a1", "aurora", PRIMARY, 1.0, 0.01),
        _c("a2", "aurora", PRIMARY, 2.0, 0.02),
        _c("a3", "aurora", SECONDARY, 2.5, 0.01),
        _c("a4", "aurora", PRIMARY, 9.0, 0.01),
    ]
    assert rto_start(
        region_lost=True, src=PRIMARY, action="x", requested_at=5.0, declared_at=3.0,
        acknowledged=own,
    ) == (2.02, f"last acknowledged write in {PRIMARY} before it was lost")  # fmt: skip
    assert rto_start(
        region_lost=True, src=PRIMARY, action="x", requested_at=5.0, declared_at=3.0,
        acknowledged=[],
    ) == (3.0, f"{PRIMARY} declared lost")  # fmt: skip


def test_rpo_resolution_is_the_blind_window_around_the_fault() -> None:
    interval = 0.01
    log = [
        _c("b1", "aurora", PRIMARY, 1.00, 0.01),  # acked 1.01
        _c("b2", "aurora", PRIMARY, 1.02, 0.01),  # acked 1.03: the last before the fault
        _c("f1", "aurora", "", 1.04, 0.02, ok=False),  # ends 1.06: the first after
        _c("t1", "aurora", SECONDARY, 1.08, 0.01),
    ]
    got = rpo_resolution(log, PRIMARY, fault=1.035, interval=interval)
    assert got.measured and got.why == ""
    assert got.seconds == pytest.approx(1.06 - 1.03)
    assert got.stall_seconds == pytest.approx(0.02)
    # nothing after the fault: the window ends at the fault itself
    assert rpo_resolution(log[:2], PRIMARY, fault=1.05, interval=interval).seconds == (
        pytest.approx(1.05 - 1.03)
    )


def test_a_probe_that_stalled_around_the_fault_leaves_the_rpo_not_measured() -> None:
    interval = 0.01
    limit = STALL_INTERVALS * interval  # 0.05 s
    before = [_c("b1", "cache", PRIMARY, 1.00, 0.01), _c("b2", "cache", PRIMARY, 1.02, 0.01)]
    just_under = [*before, _c("f1", "cache", "", 1.04, limit - 0.001, ok=False)]
    over = [*before, _c("f1", "cache", "", 1.04, limit + 0.001, ok=False)]

    assert rpo_resolution(just_under, PRIMARY, fault=1.035, interval=interval).measured
    stalled = rpo_resolution(over, PRIMARY, fault=1.035, interval=interval)
    assert not stalled.measured
    assert stalled.seconds == pytest.approx(1.04 + limit + 0.001 - 1.03)
    assert "a probe write took 0.051 s around the fault" in stalled.why
    # nothing acknowledged before the fault: "0 lost" would say nothing
    empty = rpo_resolution(over[2:], PRIMARY, fault=1.035, interval=interval)
    assert (
        not empty.measured and empty.why == f"no write acknowledged in {PRIMARY} before the fault"
    )


def test_probe_errors_are_grouped_by_phase_store_and_message(tmp_path: Path) -> None:
    log = CanaryLog(tmp_path / "canaries.jsonl")
    for canary in [
        _c("1", "aurora", PRIMARY, 1.0, 0.01),
        Canary("2", "aurora", "", "p", 2.0, False, "read-only transaction", "", 0.01),
        Canary("3", "aurora", "", "p", 3.0, False, "read-only transaction", "", 0.01),
        Canary("4", "cache", "", "p", 2.5, False, "READONLY", "", 0.01),
        Canary("5", "aurora", "", "p", 4.0, False, "connection refused", "", 0.01),
    ]:
        log.add(canary)

    assert probe_errors(log) == [
        {"phase": "p", "store": "aurora", "error": "read-only transaction", "count": 2,
         "first_at": 2.0, "last_at": 3.0},
        {"phase": "p", "store": "cache", "error": "READONLY", "count": 1,
         "first_at": 2.5, "last_at": 2.5},
        {"phase": "p", "store": "aurora", "error": "connection refused", "count": 1,
         "first_at": 4.0, "last_at": 4.0},
    ]  # fmt: skip
