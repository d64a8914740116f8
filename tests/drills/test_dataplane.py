"""The real data plane behind the emulated control plane: drills against a PostgreSQL and a
Redis server per region, names through the DNS server, TLS verified against endpoint names.

Expected values come from AWS's documented semantics (a switchover loses nothing and the old
primary follows the new one; a failover with data loss promotes what had arrived and rebuilds
the old primary) and from what the test itself wrote, never from the code under test. Nothing
waits on a timer: replication is awaited by LSN/offset, in-flight changes are held on the link.
"""

from __future__ import annotations

import json
import socket
import ssl

import pg8000.native
import pytest
from drill_harness import PRIMARY, SECONDARY, AtStep, DrillHarness

from drills.probes import resp_set
from emulator.dataplane import RegionPair
from emulator.dataplane.dns import resolve
from emulator.dataplane.regionpair import CLUSTER_ENDPOINT_TTL


def _canaries_on(pair: RegionPair, index: int) -> set[str]:
    """Canary ids stored by region ``index``'s server (read over its local socket)."""
    assert pair.binding is not None
    server = pair.aurora.servers[index]
    with server.admin(pair.binding.database) as conn:
        return {str(row[0]) for row in conn.run("SELECT id FROM drill_canary")}


def _allow_rebuild_lag(harness: DrillHarness) -> None:
    """A real rebuild takes seconds (a base backup), and the lag the old primary reported
    while it waited stays in CloudWatch's window: the check that it replicates back must not
    depend on the machine's speed, so the limit is far above any rebuild here."""
    harness.pulumi_stack.config["securecart-data:drillsMaxReplicationLagSeconds"] = "60"


def test_planned_switchover_moves_the_real_writer_and_cache_primary(
    real_harness: DrillHarness, region_pair: RegionPair
) -> None:
    writer_name = real_harness.seeded.outputs["writerDnsName"]
    before = resolve(writer_name, region_pair.dns.address)
    assert before.address == "127.0.1.1"  # the first region's network

    # the drill removes its canaries at the end: read the servers before that
    stored: dict[int, set[str]] = {}

    def read_servers() -> None:
        region_pair.aurora.wait_replayed()
        stored.update({i: _canaries_on(region_pair, i) for i in (0, 1)})

    result = real_harness.run(
        "planned-switchover", observers=[AtStep("cleanup", read_servers)], reports=True
    )

    assert result.succeeded, result.reason
    assert real_harness.writer_region() == SECONDARY
    # the servers did it: the second region's PostgreSQL server is the writer, the first one
    # streams from it; the second region's Redis server is the primary
    first, second = region_pair.aurora.servers
    assert not second.in_recovery() and first.in_recovery()
    assert region_pair.cache.primary == 1
    assert region_pair.cache.servers[0].replication()["role"] == "slave"
    # no acknowledged canary is missing from the new writer, and the old one has them too
    acknowledged = {c["id"] for c in result.canaries if c["store"] == "aurora" and c["ok"]}
    assert acknowledged and acknowledged <= stored[1]
    assert acknowledged <= stored[0]
    assert result.measurement("switch", "aurora").rpo_canaries_lost == 0
    # the application's name now leads to the second region, through the global writer
    # endpoint (CNAME) to the cluster endpoint (A), each with AWS's TTL
    after = resolve(writer_name, region_pair.dns.address)
    assert after.address == "127.0.2.1"
    assert after.chain[:2] == (writer_name, real_harness.seeded.outputs["writerEndpoint"])
    assert after.ttl <= CLUSTER_ENDPOINT_TTL

    # Issue 18 item 5: report.json names the real servers the probes reached (after the move:
    # the second region's), the resolver, and per measurement its path and clock start
    report = json.loads((real_harness.report_dir / result.drill_id / "report.json").read_text())
    exported = real_harness.seeded.outputs["clientEndpoints"]
    plane = report["data_plane"]
    assert plane["aurora"] == {
        "engine": "postgresql",
        "version": region_pair.aurora.version,
        "address": f"127.0.2.1:{region_pair.aurora.port}",
    }
    assert plane["cache"]["address"] == f"127.0.2.1:{region_pair.cache.port}"
    assert plane["cache"]["engine"] == "redis"
    assert plane["dns"]["server"] == "{}:{}".format(*region_pair.dns.address)
    assert plane["dns"]["ttls"][exported["writer"]["host"]] == CLUSTER_ENDPOINT_TTL
    by_store = {m["store"]: m for m in report["measurements"] if m["phase"] == "switch"}
    aurora, cache = by_store["aurora"], by_store["cache"]
    assert aurora["path"] == f"dns {exported['writer']['host']} -> postgresql tls verify-full"
    cache_name = real_harness.seeded.outputs["cacheDnsName"]
    assert cache["path"] == f"dns {cache_name} -> redis tls verify-full auth"
    journal = real_harness.journal(result.drill_id).data["state"]["measurements"]
    for store, m in (("aurora", aurora), ("cache", cache)):
        # each store's clock starts on its own request, not on the phase's first action
        assert m["rto_from"] == f"request: {m['action']}"
        assert m["fault_at"] == journal[f"switch:{store}"]["requested_at"]
        assert m["rpo_resolution_seconds"] > 0 and m["rpo_canaries_lost"] == 0
    assert cache["fault_at"] > aurora["takeover_at"]  # the cache moved after Aurora was back
    assert report["phase_rto"]["switch"] == round(cache["takeover_at"] - aurora["fault_at"], 3)


def test_unplanned_failover_promotes_what_arrived_and_rebuilds_the_old_primary(
    real_harness: DrillHarness, region_pair: RegionPair
) -> None:
    # Replication is held on the link from the canaries on: the canaries written just before
    # the loss are in flight when the region goes, so the secondary never receives them.
    # The cache's replication is held too: its canary keys are acknowledged by the primary and
    # never reach the secondary (issue 18 item 4: cache RPO under a steady write load).
    faults = real_harness.emulator.faults
    held: list = []
    hold = AtStep(
        "canaries",
        lambda: held.extend([faults.hold("aurora_replication"), faults.hold("cache_replication")]),
    )
    lose = AtStep("declare-primary-lost", lambda: faults.region_down(PRIMARY, hang=False))

    def region_back() -> None:
        faults.region_up(PRIMARY)
        for gate in held:
            gate.release()

    back = AtStep("rebuild-old-primary", region_back)
    stored: dict[int, set[str]] = {}

    def read_servers() -> None:
        region_pair.aurora.wait_replayed()
        stored.update({i: _canaries_on(region_pair, i) for i in (0, 1)})

    # RPO is measured only when no probe write around the fault stalled longer than five canary
    # intervals (drills/metrics.py): on a loaded 2-core machine a TLS write to a real server
    # around a failover has taken 0.5 s, so the canaries here come every 0.4 s (a 2 s bound)
    settings = real_harness.settings.with_(
        aws_max_attempts=1, replication_grace=0.2, canary_interval=0.4
    )
    _allow_rebuild_lag(real_harness)

    result = real_harness.run(
        "unplanned-failover",
        observers=[hold, lose, back, AtStep("cleanup", read_servers)],
        settings=settings,
        allow_data_loss=True,  # the primary answers at the start: the lossy failover is consented
    )

    assert result.succeeded, result.reason
    assert real_harness.writer_region() == SECONDARY
    first, second = region_pair.aurora.servers
    assert not second.in_recovery()
    assert first.running and first.in_recovery()  # rebuilt from the new writer, streaming
    assert region_pair.aurora.lost_bytes > 0  # WAL the old primary wrote that never arrived
    journal = real_harness.journal(result.drill_id).data
    lost = set(journal["state"]["measurements"]["failover:aurora"]["canaries_lost"])
    assert len(lost) == real_harness.settings.canary_count
    # the lost canaries are on neither server: not on the promoted writer (never arrived),
    # not on the rebuilt old primary (its data was replaced by the new writer's); the others
    # are on the new writer
    assert any("aurora rebuilt" in e for e in region_pair.events)
    assert not lost & stored[1] and not lost & stored[0]
    survived = {c["id"] for c in result.canaries if c["store"] == "aurora" and c["ok"]} - lost
    assert survived and survived <= stored[1]
    count = real_harness.settings.canary_count
    measured = journal["state"]["measurements"]
    assert measured["failover:aurora"]["rpo_canaries_lost"] == count
    # cache RPO: every key acknowledged in the lost region while replication was held is gone
    cache = measured["failover:cache"]
    assert (cache["canaries_acknowledged"], cache["rpo_canaries_lost"]) == (count, count), (
        cache.get("rpo_note")
    )
    # each store's clock starts on its own last acknowledged write in the lost region
    own = [
        c["written_at"] + c["duration"]
        for c in result.canaries
        if c["store"] == "cache" and c["ok"] and c["region"] == PRIMARY
    ]
    assert cache["rto_from"] == f"last acknowledged write in {PRIMARY} before it was lost"
    assert cache["fault_at"] == max(own)
    assert measured["failover:aurora"]["fault_at"] < cache["fault_at"]  # written first


def test_names_resolve_to_the_region_and_tls_verifies_them(
    real_harness: DrillHarness, region_pair: RegionPair
) -> None:
    outputs = real_harness.seeded.outputs
    clusters = outputs["auroraClusters"]
    dns = region_pair.dns.address
    assert resolve(clusters[PRIMARY]["endpoint"], dns).address == "127.0.1.1"
    assert resolve(clusters[SECONDARY]["endpoint"], dns).address == "127.0.2.1"
    cache = outputs["cacheReplicationGroups"]
    assert resolve(cache[SECONDARY]["primaryEndpoint"], dns).address == "127.0.2.1"
    with pytest.raises(OSError, match="NXDOMAIN"):
        resolve("nothing." + real_harness.topology.dns_zone_name, dns)

    # verify-full through the name applications use: the certificate names the endpoint
    conn = region_pair.connect_aurora(outputs["writerEndpoint"])
    assert conn.run("SELECT current_setting('transaction_read_only')") == [["off"]]
    conn.close()
    # the same server reached under a name its certificate does not carry is refused
    raw = socket.create_connection(("127.0.1.1", region_pair.aurora.port), timeout=5)
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        pg8000.native.Connection(
            "securecart_app",
            host="writer.example.com",
            password=region_pair.aurora.app_password,
            sock=raw,
            ssl_context=ssl.create_default_context(cafile=str(region_pair.ca.cert)),
        )


def test_cache_needs_auth_over_tls_and_the_secondary_replicates(
    real_harness: DrillHarness, region_pair: RegionPair
) -> None:
    outputs = real_harness.seeded.outputs
    primary = outputs["cacheReplicationGroups"][PRIMARY]["primaryEndpoint"]
    secondary = outputs["cacheReplicationGroups"][SECONDARY]["primaryEndpoint"]
    token = f"auth-{real_harness.topology.global_cluster_id}"  # the seeded secret's value
    connect = real_harness.emulator.cache_plane.connect

    with connect(primary, 6379, 5.0) as conn, pytest.raises(Exception, match="NOAUTH"):
        resp_set(conn, "k", "v", None)
    with connect(primary, 6379, 5.0) as conn, pytest.raises(Exception, match="WRONGPASS"):
        resp_set(conn, "k", "v", "not-the-token")
    with connect(primary, 6379, 5.0) as conn:
        resp_set(conn, "drill:k", "acknowledged", token)
    offset = region_pair.cache.wait_replicated()
    assert offset > 0
    with region_pair.cache.servers[1].client() as replica:
        assert replica.get("drill:k") == b"acknowledged"
    with connect(secondary, 6379, 5.0) as conn, pytest.raises(Exception, match="READONLY"):
        resp_set(conn, "drill:k2", "refused", token)
    # plain TCP (no TLS) is not served at all: the server only has a TLS port
    with socket.create_connection(("127.0.1.1", region_pair.cache.port), timeout=5) as plain:
        plain.sendall(b"*1\r\n$4\r\nPING\r\n")
        try:
            answer = plain.recv(64)
        except ConnectionResetError:  # the TLS listener drops a plain-text client
            answer = b""
        assert not answer.startswith(b"+PONG")


def test_failover_and_failback_when_the_region_returns_before_the_cache_moves(
    real_harness: DrillHarness, region_pair: RegionPair
) -> None:
    # As in the sandbox, where the lost region returns on a timer: here it is back exactly
    # when the cache failover starts (a step boundary, not a race). Its Redis server must
    # rejoin as a replica of the new primary, and the failback must move both stores home.
    faults = real_harness.emulator.faults
    lose = AtStep("declare-primary-lost", lambda: faults.region_down(PRIMARY, hang=False))
    back = AtStep("cache-failover", lambda: faults.region_up(PRIMARY))
    settings = real_harness.settings.with_(aws_max_attempts=1, replication_grace=0.2)
    _allow_rebuild_lag(real_harness)

    result = real_harness.run(
        "unplanned-failover",
        failback=True,
        observers=[lose, back],
        settings=settings,
        allow_data_loss=True,  # the primary answers at the start: the lossy failover is consented
    )

    assert result.succeeded, result.reason
    assert real_harness.writer_region() == PRIMARY
    assert real_harness.cache_primary() == PRIMARY
    first, second = region_pair.aurora.servers
    assert not first.in_recovery() and second.in_recovery()
    assert region_pair.cache.primary == 0
    assert region_pair.cache.servers[1].replication()["role"] == "slave"
    assert result.measurement("failback", "aurora").rpo_canaries_lost == 0


def test_cache_rpo_of_an_unplanned_failover_is_what_was_in_flight(
    real_harness: DrillHarness, region_pair: RegionPair
) -> None:
    """Issue 18 item 4: keys the primary acknowledged before the failover and missing after it.
    Replication is held on the link (a gate, not a race): what was written meanwhile is
    exactly what an unplanned failover loses."""
    outputs = real_harness.seeded.outputs
    endpoint = outputs["cacheReplicationGroups"][PRIMARY]["primaryEndpoint"]
    token = f"auth-{real_harness.topology.global_cluster_id}"
    connect = real_harness.emulator.cache_plane.connect
    faults = real_harness.emulator.faults

    def write(keys: list[str]) -> None:
        for key in keys:  # each SET is acknowledged by the primary (+OK) before the next
            with connect(endpoint, 6379, 5.0) as conn:
                resp_set(conn, key, "acknowledged", token)

    arrived = [f"before-{i}" for i in range(20)]
    in_flight = [f"held-{i}" for i in range(7)]
    write(arrived)
    region_pair.cache.wait_replicated()  # by replication offset
    faults.hold("cache_replication")
    write(in_flight)
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

    assert region_pair.cache.primary == 1
    with region_pair.cache.servers[1].client() as new_primary:
        present = {k.decode() for k in new_primary.keys("*")}
    missing = [k for k in arrived + in_flight if k not in present]
    assert missing == in_flight  # cache RPO: 7 acknowledged keys, exactly those in flight


def test_the_cache_failover_scenario_counts_the_keys_both_ways(
    real_harness: DrillHarness, region_pair: RegionPair
) -> None:
    """docs/drills.md promises `cache-failover` the cache's RPO: the keys the old primary
    acknowledged in each phase, read back through ``cache.<zone>`` on the new one. A planned
    failover replicates first (ElastiCache User Guide, global datastores: "promote secondary
    to primary" synchronizes), so none may be missing, and the path is the application's."""
    result = real_harness.run("cache-failover")

    assert result.succeeded, result.reason
    assert real_harness.cache_primary() == PRIMARY and region_pair.cache.primary == 0
    zone_name = real_harness.seeded.outputs["cacheDnsName"]
    for phase in ("cache", "failback"):
        m = result.measurement(phase, "cache")
        assert m.canaries_acknowledged and m.canaries_acknowledged >= 3, (phase, m)
        assert m.rpo_canaries_lost == 0 and m.rpo_seconds == 0.0, (phase, m)
        assert m.rpo_resolution_seconds is not None, (phase, m)
        assert m.path == f"dns {zone_name} -> redis tls verify-full auth", (phase, m)


def test_point_in_time_recovery_on_the_region_pair_brings_back_every_canary(
    real_harness: DrillHarness,
) -> None:
    """The restored copy holds every canary acknowledged before the restore point, the deleted
    ones included (RDS User Guide, "Restoring a DB cluster to a specified time"). Its canaries
    were once written through the application's path straight into PostgreSQL, which the
    emulated restore (a replay of what the Data API changed) never saw: 3 of 3 'lost'."""
    result = real_harness.run("pitr")

    assert result.succeeded, result.reason
    aurora = result.measurement("pitr", "aurora")
    assert aurora.canaries_acknowledged == real_harness.settings.canary_count, aurora
    assert aurora.rpo_canaries_lost == 0 and aurora.rpo_seconds == 0.0, aurora
    assert aurora.path == "rds data api by cluster arn", aurora
