"""Every scenario end to end against the emulator: the emulator's state afterwards (writer
region, replica status, canaries), the report and the journal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from drill_harness import PRIMARY, SECONDARY, AtStep, DrillHarness

from emulator import STATE


def _report(result, harness: DrillHarness) -> tuple[str, dict]:
    md = Path(result.reports["markdown"]).read_text()
    js = json.loads(Path(result.reports["json"]).read_text())
    png = Path(result.reports["png"]).read_bytes()
    assert png.startswith(b"\x89PNG"), "timeline chart is a PNG"
    return md, js


def _journal_ok(harness: DrillHarness, result) -> dict:
    journal = harness.journal(result.drill_id).data
    assert journal["status"] == "succeeded"
    assert all(s["status"] == "done" for s in journal["steps"])
    checks = journal["invariant_checks"]
    assert len(checks) == len(journal["steps"]), "invariant checked after every step"
    assert all(c["ok"] for c in checks)
    return journal


def test_planned_switchover_moves_writers_without_losing_a_canary(harness: DrillHarness) -> None:
    result = harness.run("planned-switchover", reports=True)

    assert result.succeeded, result.reason
    assert harness.writer_region() == SECONDARY
    assert harness.cache_primary() == SECONDARY
    gc = harness.global_cluster()
    assert gc["Status"] == "available"
    assert {m.get("SynchronizationStatus") for m in gc["GlobalClusterMembers"]} == {"connected"}
    assert harness.config_regions() == (SECONDARY, PRIMARY)
    assert harness.pulumi_stack.outputs["primaryRegion"] == SECONDARY

    aurora = result.measurement("switch", "aurora")
    assert aurora.rpo_canaries_lost == 0 and aurora.rpo_seconds == 0.0
    assert (
        aurora.canaries_acknowledged
        and aurora.canaries_acknowledged >= harness.settings.canary_count
    )
    # RTO covers the emulated switchover (the new writer only takes writes once promoted), and
    # it is the time from Aurora's own request to the first write the new region acknowledged
    # through the writer's name, recomputed here from the canary log itself
    assert aurora.rto_seconds is not None
    assert aurora.rto_seconds >= harness.emulator.timings.switchover_seconds
    journal = harness.journal(result.drill_id).data
    fault = journal["state"]["measurements"]["switch:aurora"]["requested_at"]
    first = min(
        c["written_at"] + c["duration"]
        for c in result.canaries
        if c["store"] == "aurora" and c["ok"] and c["region"] == SECONDARY and "-during-" in c["id"]
    )
    assert aurora.rto_seconds == pytest.approx(first - fault, abs=0.002)
    assert not [
        c
        for c in result.canaries
        if c["store"] == "aurora"
        and c["ok"]
        and "-during-" in c["id"]
        and c["region"] == PRIMARY
        and c["written_at"] > first
    ], "no write went to the old writer after the new one took writes"
    dynamo = result.measurement("switch", "dynamodb")
    assert dynamo.rpo_canaries_lost == 0
    assert dynamo.replication_back_latency is not None
    assert result.objectives_met is True
    # each move is requested after its own probe wrote once, so the RPO's blind window starts
    # at that write, not at the store's last write in an earlier step (the cache's canaries
    # step came before Aurora's whole switchover)
    for store in ("aurora", "cache"):
        requested = journal["state"]["measurements"][f"switch:{store}"]["requested_at"]
        last = max(
            (
                c
                for c in result.canaries
                if c["store"] == store
                and c["ok"]
                and c["region"] == PRIMARY
                and c["written_at"] + c["duration"] <= requested
            ),
            key=lambda c: c["written_at"] + c["duration"],
            default=None,
        )
        assert last is not None and f"switch-during-{store}-" in last["id"], (store, last)

    # canaries were cleaned up everywhere
    assert harness.aurora_rows(PRIMARY) == set() == harness.aurora_rows(SECONDARY)
    assert harness.canary_items(PRIMARY) == [] == harness.canary_items(SECONDARY)

    journal = _journal_ok(harness, result)
    assert journal["state"]["phases"]["switch"]["up_done"] is True
    kinds = [p["kind"] for p in journal["pulumi"]]
    assert kinds == ["refresh", "config", "preview", "up"]

    md, js = _report(result, harness)
    assert "Planned switchover" in md and "| RTO |" in md and "exactly one writer" in md
    assert js["status"] == "succeeded" and js["rto_seconds"] == result.rto_seconds
    assert {s["name"] for s in js["steps"]} >= {"aurora-switchover", "up", "verify-outputs"}


def test_planned_switchover_with_failback_returns_to_the_origin(harness: DrillHarness) -> None:
    result = harness.run("planned-switchover", failback=True)

    assert result.succeeded, result.reason
    assert harness.writer_region() == PRIMARY
    assert harness.cache_primary() == PRIMARY
    assert harness.config_regions() == (PRIMARY, SECONDARY)
    for phase in ("switch", "failback"):
        m = result.measurement(phase, "aurora")
        assert m.rpo_canaries_lost == 0 and m.rto_seconds is not None
    assert result.measurement("failback", "aurora").from_region == SECONDARY
    ups = harness.command.calls_of("up")
    assert len(ups) == 2
    _journal_ok(harness, result)


def test_unplanned_failover_after_region_loss_counts_lost_canaries_and_rebuilds(
    harness: DrillHarness,
) -> None:
    # Aurora replication is held from the canaries on (a gate, not a race with the lag): the
    # canaries written just before the loss are still within the lag when the region goes.
    faults = harness.emulator.faults
    held: list = []
    hold = AtStep("canaries", lambda: held.append(faults.hold("aurora_replication")))
    lose = AtStep("declare-primary-lost", lambda: faults.region_down(PRIMARY, hang=False))

    def region_back() -> None:
        faults.region_up(PRIMARY)
        held[0].release()

    back = AtStep("rebuild-old-primary", region_back)
    settings = harness.settings.with_(aws_max_attempts=1, replication_grace=0.2)
    harness.pulumi_stack.config["securecart-data:drillsRpoSeconds"] = "0"

    result = harness.run(
        "unplanned-failover",
        observers=[hold, lose, back],
        settings=settings,
        reports=True,
        allow_data_loss=True,  # the primary answers at the preconditions; lost right after
    )

    assert result.succeeded, result.reason
    assert harness.writer_region() == SECONDARY
    gc = harness.global_cluster()
    old = next(m for m in gc["GlobalClusterMembers"] if PRIMARY in m["DBClusterArn"])
    assert old["IsWriter"] is False and old["SynchronizationStatus"] == "connected"

    aurora = result.measurement("failover", "aurora")
    assert aurora.rpo_canaries_lost == harness.settings.canary_count
    assert aurora.rpo_seconds is not None and aurora.rpo_seconds > 0
    assert STATE.aurora.lost_changes[harness.topology.global_cluster_id] >= aurora.rpo_canaries_lost
    # the lost writes are gone from the rebuilt old primary too (it was rebuilt from the new writer)
    journal = harness.journal(result.drill_id).data
    lost = set(journal["state"]["measurements"]["failover:aurora"]["canaries_lost"])
    assert lost and not (lost & harness.aurora_rows(PRIMARY))
    assert result.objectives is not None and result.objectives.rpo_seconds == 0
    assert result.objectives_met is False  # any lost write breaks a zero RPO
    assert harness.config_regions() == (SECONDARY, PRIMARY)
    assert journal["state"]["measurements"]["failover:rebuild"]["rejoined_at"] > 0
    md = Path(result.reports["markdown"]).read_text()
    assert "**no**" in md


def test_unplanned_failover_when_the_primary_is_already_gone(harness: DrillHarness) -> None:
    faults = harness.emulator.faults
    faults.region_down(PRIMARY, hang=False)
    back = AtStep("rebuild-old-primary", lambda: faults.region_up(PRIMARY))
    settings = harness.settings.with_(aws_max_attempts=1, replication_grace=0.05)

    result = harness.run("unplanned-failover", observers=[back], settings=settings)

    assert result.succeeded, result.reason
    checks = {c["name"]: c for c in result.preconditions}
    assert (
        checks["primary-region-reachable"]["ok"]
        and not checks["primary-region-reachable"]["blocking"]
    )
    assert harness.writer_region() == SECONDARY
    # nothing could be written in the lost region: every canary attempt there failed
    assert not [
        c
        for c in result.canaries
        if c["region"] == PRIMARY and c["ok"] and c["phase"] == "failover"
    ]
    # so "0 lost" would say nothing: the RPO is not measured, and the report says why
    aurora = result.measurement("failover", "aurora")
    assert (aurora.canaries_acknowledged, aurora.rpo_canaries_lost) == (0, None)
    assert aurora.notes == f"no write acknowledged in {PRIMARY} before the fault"


def test_cache_failover_and_back(harness: DrillHarness) -> None:
    result = harness.run("cache-failover")

    assert result.succeeded, result.reason
    assert harness.cache_primary() == PRIMARY
    assert harness.writer_region() == PRIMARY
    out, back = result.measurement("cache", "cache"), result.measurement("failback", "cache")
    assert (out.from_region, out.to_region) == (PRIMARY, SECONDARY)
    assert (back.from_region, back.to_region) == (SECONDARY, PRIMARY)
    assert (
        out.rto_seconds and out.rto_seconds >= harness.emulator.timings.cache_failover_seconds * 0.9
    )
    assert out.rpo_canaries_lost is None and "not measured" in out.notes
    previews = harness.command.calls_of("preview")
    assert len(previews) == 1 and not harness.command.calls_of("up")
    _journal_ok(harness, result)


def test_dynamodb_evacuation_measures_replication_both_ways(harness: DrillHarness) -> None:
    result = harness.run("dynamodb-evacuation")

    assert result.succeeded, result.reason
    sessions = harness.topology.tables[0].name
    move = result.measurement("evacuate", "dynamodb")
    assert (move.from_region, move.to_region) == (PRIMARY, SECONDARY)
    assert move.rto_seconds is not None
    out = result.measurement("evacuate", f"dynamodb:{sessions}")
    assert out.rpo_canaries_lost == 0 and out.canaries_acknowledged
    lag = harness.emulator.timings.dynamodb_replication_lag_seconds
    assert out.replication_latency and out.replication_latency["p50"] >= lag * 0.9
    assert out.replication_back_latency and out.replication_back_latency["p50"] >= lag * 0.9
    back = result.measurement("return", f"dynamodb:{sessions}")
    assert back.replication_latency and back.rpo_canaries_lost == 0
    # applications follow the setting: it names the primary again in both regions
    for region in (PRIMARY, SECONDARY):
        value = harness.client("ssm", region).get_parameter(
            Name=harness.topology.active_region_parameter
        )["Parameter"]["Value"]
        assert value == PRIMARY
    journal = _journal_ok(harness, result)
    assert journal["state"]["dynamodb_write_region"] == PRIMARY
    # both tables saw canaries in both regions during the drill, and none are left
    written = {c["target"] for c in result.canaries if c["store"] == "dynamodb" and c["ok"]}
    assert written == {t.name for t in harness.topology.tables}
    assert harness.canary_items(PRIMARY) == [] == harness.canary_items(SECONDARY)
    replicas = harness.client("dynamodb", PRIMARY).describe_table(
        TableName=harness.topology.tables[0].name
    )["Table"]["Replicas"]
    assert replicas == [{"RegionName": SECONDARY, "ReplicaStatus": "ACTIVE"}]


def test_point_in_time_recovery_restores_deleted_canaries_into_new_resources(
    harness: DrillHarness,
) -> None:
    result = harness.run("pitr")

    assert result.succeeded, result.reason
    journal = harness.journal(result.drill_id).data
    phase = journal["state"]["phases"]["pitr"]
    assert phase["deleted"], "the accident deleted some canaries"
    for store in ("aurora", "dynamodb"):
        m = result.measurement("pitr", store)
        assert m.rpo_canaries_lost == 0
        assert m.rto_seconds and m.rto_seconds > 0
        assert m.rto_label == "restore time, from the accidental deletion"
    raw = journal["state"]["measurements"]
    assert raw["pitr:aurora"]["restored_deleted"] + sum(
        v.get("restored_deleted", 0) for k, v in raw.items() if k.startswith("pitr:dynamodb")
    ) == len(phase["deleted"])
    # restored copies were removed afterwards
    cluster_id = raw["pitr:aurora"]["restored"]
    clusters = harness.client("rds", PRIMARY).describe_db_clusters()["DBClusters"]
    assert cluster_id not in {c["DBClusterIdentifier"] for c in clusters}
    tables = harness.client("dynamodb", PRIMARY).list_tables()["TableNames"]
    assert not [t for t in tables if "-pitr-" in t and harness.topology.tables[1].name in t]
    assert harness.writer_region() == PRIMARY
    assert not harness.command.calls_of("up")
    _journal_ok(harness, result)


def _incident_moves_writers(harness: DrillHarness) -> None:
    """An incident moved the writers to the secondary region (managed switchover and datastore
    failover) without anyone reconciling the stack: its config still names the home region."""
    harness.client("rds", SECONDARY).switchover_global_cluster(
        GlobalClusterIdentifier=harness.topology.global_cluster_id,
        TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
    )
    harness.client("elasticache", SECONDARY).failover_global_replication_group(
        GlobalReplicationGroupId=harness.seeded.cache_global_id,
        PrimaryRegion=SECONDARY,
        PrimaryReplicationGroupId=harness.topology.cache_groups[1].replication_group_id,
    )
    harness.settle()
    harness.point_cache_record(SECONDARY)  # the incident runbook moved cache.<zone> too
    assert harness.writer_region() == SECONDARY and harness.cache_primary() == SECONDARY


def test_failback_moves_the_writers_back_to_the_home_region(harness: DrillHarness) -> None:
    _incident_moves_writers(harness)

    result = harness.run("failback")

    assert result.succeeded, result.reason
    assert harness.writer_region() == PRIMARY and harness.cache_primary() == PRIMARY
    assert harness.cache_record() == harness.seeded.cache_endpoints[PRIMARY][0]
    assert harness.config_regions() == (PRIMARY, SECONDARY)
    m = result.measurement("failback", "aurora")
    assert (m.from_region, m.to_region) == (SECONDARY, PRIMARY) and m.rpo_canaries_lost == 0


def test_failback_refuses_when_the_writers_are_already_home(harness: DrillHarness) -> None:
    result = harness.run("failback")

    assert result.status == "refused"
    assert "already in the stack's home region us-east-1" in result.reason
    assert result.objectives_met is None and result.rto_seconds is None
    assert not harness.command.calls_of("preview")
    assert harness.writer_region() == PRIMARY


def _health_route_cache_name(harness: DrillHarness) -> list[dict[str, Any]]:
    """Replace the seeded simple ``cache.<zone>`` with the stack's health-routed form (one
    weighted record per region to its own primary endpoint, docs/components.md) and return the
    record sets as Route 53 lists them."""
    name = harness.seeded.outputs["cacheDnsName"]
    ttl = harness.seeded.outputs["dnsTtlSeconds"]
    route53 = harness.client("route53", PRIMARY)
    simple = {
        "Name": name,
        "Type": "CNAME",
        "TTL": ttl,
        "ResourceRecords": [{"Value": harness.cache_record()}],
    }
    weighted = [
        {
            "Name": name,
            "Type": "CNAME",
            "TTL": ttl,
            "SetIdentifier": f"{region}-001",
            "Weight": 1,
            "ResourceRecords": [{"Value": harness.seeded.cache_endpoints[region][0]}],
        }
        for region in (PRIMARY, SECONDARY)
    ]
    route53.change_resource_record_sets(
        HostedZoneId=harness.seeded.zone_id,
        ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": simple}]},
    )
    route53.change_resource_record_sets(
        HostedZoneId=harness.seeded.zone_id,
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": r} for r in weighted]},
    )
    return _cache_record_sets(harness)


def _cache_record_sets(harness: DrillHarness) -> list[dict[str, Any]]:
    name = harness.seeded.outputs["cacheDnsName"]
    records = harness.client("route53", PRIMARY).list_resource_record_sets(
        HostedZoneId=harness.seeded.zone_id
    )["ResourceRecordSets"]
    return sorted(
        (r for r in records if r["Name"].rstrip(".") == name and r["Type"] == "CNAME"),
        key=lambda r: str(r.get("SetIdentifier")),
    )


def test_a_health_routed_cache_name_is_never_changed_through_route53(
    harness: DrillHarness,
) -> None:
    """Issue 16 item 6: the cache name fails over through Route 53's data plane (health checks),
    so the drill sends no ChangeResourceRecordSets, with its control plane refusing every change
    throughout, and still measures the move."""
    before = _health_route_cache_name(harness)
    assert [r["SetIdentifier"] for r in before] == [f"{PRIMARY}-001", f"{SECONDARY}-001"]
    STATE.faults.control_plane_down("route53")
    try:
        result = harness.run("cache-failover")
    finally:
        STATE.faults.control_plane_up("route53")

    assert result.succeeded, result.reason
    assert harness.cache_primary() == PRIMARY
    assert _cache_record_sets(harness) == before
    calls = harness.journal(result.drill_id).state.get("calls") or {}
    assert not [key for key in calls if key.startswith("dns:")]
    out = result.measurement("cache", "cache")
    assert (out.from_region, out.to_region) == (PRIMARY, SECONDARY)
    assert out.rto_seconds is not None
