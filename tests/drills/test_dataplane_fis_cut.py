"""An FIS network disruption cuts the real region's data plane off, and the network comes back.

``aws:network:disrupt-connectivity`` with scope ``all`` denies all traffic entering and leaving
the target subnets (FIS User Guide, actions reference). The emulator's FIS calls
``Faults.cut_data_plane``; on the real region pair the cut region's servers keep running with
their data, but the probes (the in-VPC probe function's code, components/functions/app_probes)
reach neither of them through the names applications use, the other region's servers still
answer, and nothing replicates out of the region. When the experiment ends, what was written
inside the region meanwhile arrives, and the probes get through again. Replication is awaited
by LSN and offset, never on a timer.
"""

from __future__ import annotations

import time

from drill_harness import PRIMARY, SECONDARY, DrillHarness

from components.functions.app_probes import Outcome, postgres_probe, redis_probe
from emulator.dataplane import RegionPair
from emulator.dataplane.postgres import APP_USER

BOUND_SECONDS = 30.0


def _probes(harness: DrillHarness, pair: RegionPair, region: str) -> tuple[Outcome, Outcome]:
    """A connect-only probe of ``region``'s cluster endpoint and a PING of its cache endpoint,
    through the pair's DNS server, TLS verified against the AWS names."""
    assert pair.binding is not None
    outputs = harness.seeded.outputs
    cluster = pair.binding.cluster_endpoints[region][0]
    cache = outputs["cacheReplicationGroups"][region]["primaryEndpoint"]

    def resolve(name: str) -> str:
        return pair.resolver.resolve(name).address

    aurora = postgres_probe(
        cluster,
        tls_name=cluster,
        port=pair.aurora.port,
        user=APP_USER,
        password=pair.aurora.app_password,
        database=pair.binding.database,
        resolve=resolve,
        cafile=str(pair.ca.cert),
        timeout=5.0,
    )
    ping = redis_probe(
        cache,
        tls_name=cache,
        port=pair.cache.port,
        token=pair.binding.token,
        resolve=resolve,
        cafile=str(pair.ca.cert),
        timeout=5.0,
    )
    return aurora, ping


def _until(what: str, check: object) -> None:
    assert callable(check)
    deadline = time.monotonic() + BOUND_SECONDS
    while not check():
        assert time.monotonic() < deadline, f"not {what} within {BOUND_SECONDS:.0f} s"
        time.sleep(0.01)


def test_an_fis_cut_isolates_the_regions_real_servers_until_the_network_is_back(
    real_harness: DrillHarness, region_pair: RegionPair
) -> None:
    assert region_pair.binding is not None
    database = region_pair.binding.database
    primary, secondary = region_pair.aurora.servers
    cache_primary, cache_secondary = region_pair.cache.servers
    assert all(o.ok for o in _probes(real_harness, region_pair, PRIMARY))

    real_harness.emulator.faults.cut_data_plane(PRIMARY)

    # the probes reach neither store of the cut region, through the same names and addresses
    aurora, ping = _probes(real_harness, region_pair, PRIMARY)
    assert not aurora.ok and aurora.address == "127.0.1.1", aurora
    assert not ping.ok and ping.address == "127.0.1.1", ping
    # the other region's answer: its cluster (a reader) and its cache group (a replica)
    aurora, ping = _probes(real_harness, region_pair, SECONDARY)
    assert (aurora.ok, aurora.detail, ping.ok) == (True, "reader", True), (aurora, ping)
    # the servers still run and keep what is written inside the region...
    assert primary.running and cache_primary.running
    with primary.admin(database) as conn:
        conn.run("CREATE TABLE fis_cut (note text)")
        conn.run("INSERT INTO fis_cut VALUES ('written while cut off')")
    written = primary.write_lsn()
    with cache_primary.client() as client:
        client.set("drill:fis-cut", "written while cut off")
    # ...and nothing of it leaves the region: the secondary's replication is down
    _until(
        "replication from the cut region stopped",
        lambda: (
            secondary.scalar("SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'")
            == 0
            and cache_secondary.replication().get("master_link_status") != "up"
        ),
    )
    assert secondary.receive_lsn() < written
    with cache_secondary.client() as client:
        assert client.get("drill:fis-cut") is None

    # the experiment ends: the network is back, and what was written arrives
    real_harness.emulator.faults.restore_data_plane(PRIMARY)
    assert region_pair.aurora.wait_replayed(BOUND_SECONDS) >= written
    region_pair.cache.wait_replicated(BOUND_SECONDS)
    with secondary.admin(database) as conn:
        assert conn.run("SELECT note FROM fis_cut") == [["written while cut off"]]
    with cache_secondary.client() as client:
        assert client.get("drill:fis-cut") == b"written while cut off"
    aurora, ping = _probes(real_harness, region_pair, PRIMARY)
    assert (aurora.ok, aurora.detail, ping.ok) == (True, "writer", True), (aurora, ping)
    assert f"{PRIMARY} data plane cut off" in region_pair.events
    assert f"{PRIMARY} data plane back" in region_pair.events
