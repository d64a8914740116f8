"""The real data plane behind the emulated control plane: drills against PostgreSQL and Redis
servers per region, names through the DNS server, TLS verified against endpoint names."""

from __future__ import annotations

from drill_harness import SECONDARY, DrillHarness

from drills.emulator.dataplane import RegionPair


def test_planned_switchover_moves_the_real_writer_and_cache_primary(
    real_harness: DrillHarness, region_pair: RegionPair
) -> None:
    result = real_harness.run("planned-switchover", reports=True)

    assert result.succeeded, result.reason
    assert real_harness.writer_region() == SECONDARY
    # the servers did it: the PostgreSQL server in the second region is the writer, the first
    # one streams from it; the Redis server in the second region is the primary
    second, first = region_pair.aurora.servers[1], region_pair.aurora.servers[0]
    assert not second.in_recovery()
    assert first.in_recovery()
    assert region_pair.cache.primary == 1
    aurora = result.measurement("switch", "aurora")
    assert aurora.rpo_canaries_lost == 0
    print(region_pair.events)
