"""Pure pieces without the emulator: journal, objectives, targets, the report, the topology
read from a recording, and the sandbox's preview planner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from drills.errors import DrillConfigError, JournalError
from drills.journal import Journal, list_drills
from drills.report import to_markdown, write_reports
from drills.result import build_result
from drills.sandbox import diff_recordings
from drills.settings import DrillSettings
from drills.stackfile import (
    Objectives,
    StackSettings,
    parse_objectives,
    read_stack_config,
    settings_from_config,
)
from drills.target import StackTarget, target_from_outputs
from drills.topology import from_recording
from preflight.model import RecordedResource, Recording

OUTPUTS = {
    "primaryRegion": "us-east-1",
    "secondaryRegion": "us-west-2",
    "environment": "dev",
    "globalClusterId": "gc",
    "auroraClusters": {
        "us-east-1": {"clusterIdentifier": "a-e", "arn": "arn:aws:rds:us-east-1:1:cluster:a-e"},
        "us-west-2": {"clusterIdentifier": "a-w", "arn": "arn:aws:rds:us-west-2:1:cluster:a-w"},
    },
    "auroraSecretArn": "arn:aws:secretsmanager:us-east-1:1:secret:s-abc",
    "tables": {"carts": {"name": "c"}, "order-history": {"name": "o"}},
    "drillObjectives": {"rtoSeconds": 600, "rpoSeconds": 10, "maxReplicationLagSeconds": 5},
}


def test_objectives_from_nested_or_flat_config_with_clear_errors() -> None:
    assert parse_objectives({"rtoSeconds": 60, "rpoSeconds": 0}) == Objectives(60.0, 0.0, 5.0)
    assert parse_objectives(
        '{"rtoSeconds": "30", "rpoSeconds": "1", "maxReplicationLagSeconds": "2"}'
    ) == Objectives(30, 1, 2)
    # worded like the settings loader's errors: the key, the value, what is allowed
    with pytest.raises(
        DrillConfigError,
        match=r"config key 'drills\.rtoSeconds' has value 'soon'; allowed: .*seconds",
    ):
        parse_objectives({"rtoSeconds": "soon"})
    with pytest.raises(DrillConfigError, match=r"config key 'drills\.rpoSeconds' has value -1;"):
        parse_objectives({"rpoSeconds": -1})


def test_flat_drill_keys_go_through_the_programs_settings_loader() -> None:
    # "42" is how the Automation API hands back a number: parsed as the program would.
    raw = {**read_stack_config("dev"), "drillsRtoSeconds": "42", "drillsRpoSeconds": 3}
    settings = settings_from_config("dev", "securecart-data", raw)
    assert settings.objectives == Objectives(42.0, 3.0, 5.0)
    with pytest.raises(DrillConfigError, match="secondaryRegion") as caught:
        settings_from_config("dev", "p", {**raw, "secondaryRegion": raw["primaryRegion"]})
    assert caught.value.key == "secondaryRegion"
    assert caught.value.value == raw["primaryRegion"]


def test_the_real_stack_files_load() -> None:
    from drills.stackfile import load_stack_settings

    dev = load_stack_settings("dev")
    assert dev.primary_region != dev.secondary_region
    assert dev.objectives.rto_seconds > 0
    assert load_stack_settings("prod").is_production


def test_dns_ttl_from_outputs_is_whole_seconds() -> None:
    dns = {
        "dnsZoneId": "Z1",
        "writerDnsName": "writer.z",
        "cacheDnsName": "cache.z",
        "writerEndpoint": "gc.global.rds.amazonaws.com",
    }
    for given in (30, 30.0, "30"):
        target = target_from_outputs({**OUTPUTS, **dns, "dnsTtlSeconds": given})
        assert target.require_dns().ttl_seconds == 30
    for bad in (30.5, "soon", True, -1):
        with pytest.raises(
            DrillConfigError,
            match=rf"stack output 'dnsTtlSeconds' has value {re.escape(repr(bad))}; allowed: an integer TTL",
        ):
            target_from_outputs({**OUTPUTS, **dns, "dnsTtlSeconds": bad})


def test_target_from_outputs_names_what_is_missing() -> None:
    target = target_from_outputs(OUTPUTS)
    assert target.secret_for("us-west-2") == "arn:aws:secretsmanager:us-west-2:1:secret:s-abc"
    assert target.order_table().name == "o" and target.canary_table().name == "c"
    assert target.objectives == Objectives(600, 10, 5)
    assert StackTarget.from_json(json.loads(json.dumps(target.to_json()))) == target
    broken = {k: v for k, v in OUTPUTS.items() if k != "globalClusterId"}
    with pytest.raises(
        DrillConfigError, match=r"stack output 'globalClusterId' has value None; allowed: a value"
    ):
        target_from_outputs(broken)


def test_settings_round_trip_through_the_journal(tmp_path: Path) -> None:
    settings = DrillSettings.fast(tmp_path).with_(ignored_alarms=("a",))
    assert DrillSettings.from_json(json.loads(json.dumps(settings.to_json()))) == settings
    assert DrillSettings().poll_interval <= 5.0
    with pytest.raises(ValueError, match="poll_interval"):
        DrillSettings(poll_interval=0)


def _journal(tmp_path: Path) -> Journal:
    plan = [
        {"name": n, "title": n, "timeout": "verify", "phase": "switch", "has_undo": False}
        for n in ("a", "b")
    ]
    return Journal.create(
        tmp_path,
        "dev-x-1",
        stack="dev",
        scenario="planned-switchover",
        options={},
        settings={},
        plan=plan,
    )


def test_journal_is_rewritten_atomically_and_loads_back(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    journal.step("a")["status"] = "done"
    journal.state["phases"] = {"switch": {"from": "us-east-1"}}
    journal.save()
    assert not list(journal.directory.glob(".*tmp"))
    loaded = Journal.load(tmp_path, "dev-x-1")
    assert (
        loaded.step("a")["status"] == "done"
        and loaded.state["phases"]["switch"]["from"] == "us-east-1"
    )
    assert list_drills(tmp_path) == ["dev-x-1"]
    with pytest.raises(JournalError, match=r"no journal for drill 'nope'.*recent: dev-x-1"):
        Journal.load(tmp_path, "nope")
    with pytest.raises(JournalError, match="not in drill"):
        journal.step("zzz")
    (tmp_path / "dev-x-1" / "journal.json").write_text("{broken")
    with pytest.raises(JournalError, match="not valid JSON"):
        Journal.load(tmp_path, "dev-x-1")


def test_report_markdown_json_and_png(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    # every time below counts from the journal's own start, so the chart's offsets (fault at
    # 0.10 s) are exact however long the machine took between creating the journal and here
    now = float(journal.data["created_at"])
    journal.data["target"] = target_from_outputs(OUTPUTS).to_json()
    for i, name in enumerate(("a", "b")):
        journal.step(name).update(
            status="done", started_at=now + i, ended_at=now + i + 0.5, attempts=1
        )
    journal.state["measurements"] = {
        "switch:aurora": {
            "phase": "switch",
            "store": "aurora",
            "action": "switchover_global_cluster",
            "from": "us-east-1",
            "to": "us-west-2",
            "fault_at": now + 0.1,
            "takeover_at": now + 1.35,
            "rto_seconds": 1.25,
            "rpo_canaries_lost": 0,
            "rpo_seconds": 0.0,
            "canaries_acknowledged": 9,
        },
        "switch:cache": {
            "phase": "switch",
            "store": "cache",
            "action": "failover_global_replication_group",
            "fault_at": now + 0.1,
            "takeover_at": now + 2.0,
            "rto_seconds": 1.9,
            "rpo_note": "cache contents are rebuildable; RPO not measured",
        },
    }
    journal.data["timeline"] = [
        {"at": now + 0.1, "kind": "action", "message": "switchover", "step": "a"},
        {"at": now + 1.3, "kind": "takeover", "message": "writes ok", "step": "a"},
    ]
    journal.data["invariant_checks"] = [{"ok": True, "after": "a"}, {"ok": True, "after": "b"}]
    journal.data["pulumi"] = [
        {
            "kind": "preview",
            "step": "b",
            "duration_seconds": 0.2,
            "change_summary": {"update": 2},
            "policy": [],
        }
    ]
    journal.data["status"] = "succeeded"
    journal.canary_path.write_text(
        json.dumps(
            {
                "id": "c1",
                "store": "aurora",
                "region": "us-east-1",
                "phase": "switch",
                "written_at": now + 0.2,
                "ok": True,
            }
        )
        + "\n"
        + json.dumps(
            {
                "id": "c2",
                "store": "aurora",
                "region": "us-west-2",
                "phase": "switch",
                "written_at": now + 0.5,
                "ok": False,
                "error": "read-only",
            }
        )
        + "\n{torn"
    )
    journal.save()

    result = build_result(journal)
    paths = write_reports(result, tmp_path / "reports")

    # both stores count from the same fault (now + 0.1): the phase is back when the cache,
    # the last of them, accepts writes at now + 2.0, so the headline is 1.9 s, not max(own)
    assert result.phase_rto == {"switch": 1.9}
    assert result.rto_seconds == 1.9 and result.rpo_seconds == 0.0 and result.canaries_lost == 0
    assert result.objectives_met is True and result.measured
    assert len(result.canaries) == 2, "a torn last line of the canary log is skipped"
    md = paths["markdown"].read_text()
    assert "| RTO | 600.0 s | 1.900 s | yes |" in md
    assert "cache contents are rebuildable" in md
    assert "Checked 2 times (after every step); held every time." in md
    assert "| preview | b |" in md and "update=2" in md
    assert "![timeline](timeline.png)" in md
    data = json.loads(paths["json"].read_text())
    assert data["status"] == "succeeded" and data["measurements"][0]["rto_seconds"] == 1.25
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"
    assert "![timeline]" not in to_markdown(result, chart=None)
    # the chart keeps the drill's own scale (about 2 s) and points at the 600 s RTO objective
    # instead of stretching the axis to it
    import matplotlib.pyplot as plt

    from drills.report import timeline_figure

    figure = timeline_figure(result)
    (ax,) = figure.axes
    low, high = ax.get_xlim()
    assert low < 0.0 and 1.5 < high < 3.0
    # the off-scale objectives are explained under the axis, not drawn over the step labels
    notes = ax.get_xlabel().splitlines()[1:]
    assert not any("off scale" in t.get_text() for t in ax.texts)
    assert any(
        "RTO objective 600 s after the fault at 0.10 s" in n and "off scale" in n for n in notes
    )
    assert any("RPO window 10 s" in n for n in notes)
    labels = ax.get_legend_handles_labels()[1]
    assert (
        "RTO objective (off scale: arrow)" in labels
        and "measured RTO (fault -> writes accepted)" in labels
    )
    assert [t.get_text() for t in ax.get_yticklabels()][-2:] == [
        "RTO switch aurora",
        "RTO switch cache",
    ]
    plt.close(figure)

    journal.data["status"] = "rolled-back"
    rolled = build_result(journal)
    assert rolled.measured is False and rolled.objectives_met is None
    assert rolled.rto_seconds is None and rolled.rpo_seconds is None
    text = to_markdown(rolled, chart=None)
    assert "| RTO | 600.0 s | not measured | not evaluated |" in text
    assert "Objectives met: not measured (the drill rolled-back" in text


def _res(urn: str, type_: str, inputs: dict, ignore: tuple[str, ...] = ()) -> RecordedResource:
    return RecordedResource(
        urn=urn,
        type=type_,
        name=urn.rsplit("::", 1)[-1],
        custom=True,
        inputs=inputs,
        parent=None,
        provider=None,
        ignore_changes=ignore,
    )


def _recording(resources: list[RecordedResource], outputs: dict | None = None) -> Recording:
    return Recording(
        project="securecart-data",
        stack="dev",
        resources=resources,
        outputs=outputs or {},
        config={},
    )


def test_the_sandbox_plans_like_the_engine() -> None:
    cluster = "urn:c::aurora-us-east-1"
    old = _recording(
        [
            _res(
                cluster,
                "aws:rds/cluster:Cluster",
                {"region": "us-east-1", "masterUsername": "admin", "tags": {"a": "1"}},
                ("masterUsername",),
            ),
            _res("urn:t::orders", "aws:dynamodb/table:Table", {"name": "orders", "hashKey": "id"}),
            _res("urn:r::writer", "aws:route53/record:Record", {"records": ["e"]}),
            _res("urn:x::gone", "aws:sns/topic:Topic", {}),
        ]
    )
    new = _recording(
        [
            _res(
                cluster,
                "aws:rds/cluster:Cluster",
                {"region": "us-east-1", "tags": {"a": "2"}},
                ("masterUsername",),
            ),
            _res(
                "urn:t::orders",
                "aws:dynamodb/table:Table",
                {"name": "orders", "hashKey": "customerId"},
            ),
            _res("urn:r::writer", "aws:route53/record:Record", {"records": ["w"]}),
            _res("urn:n::new", "aws:sns/topic:Topic", {}),
        ]
    )
    steps = {s.urn: s for s in diff_recordings(old, new)}
    assert steps[cluster].op == "update" and steps[cluster].diffs == (
        "tags",
    )  # masterUsername ignored
    assert steps["urn:t::orders"].op == "replace" and steps["urn:t::orders"].replace_keys == (
        "hashKey",
    )
    assert steps["urn:r::writer"].op == "update"
    assert steps["urn:x::gone"].op == "delete" and steps["urn:n::new"].op == "create"


def test_topology_from_a_recording() -> None:
    settings = StackSettings(
        "securecart-data", "dev", "dev", "us-east-1", "us-west-2", Objectives(600, 10, 5), {}
    )
    recording = _recording(
        [
            _res(
                "urn:g",
                "aws:rds/globalCluster:GlobalCluster",
                {"globalClusterIdentifier": "sc-dev", "engineVersion": "16.6"},
            ),
            _res(
                "urn:c1",
                "aws:rds/cluster:Cluster",
                {
                    "region": "us-east-1",
                    "clusterIdentifier": "sc-dev-us-east-1",
                    "backupRetentionPeriod": 7.0,
                },
            ),
            _res(
                "urn:c2",
                "aws:rds/cluster:Cluster",
                {"region": "us-west-2", "clusterIdentifier": "sc-dev-us-west-2"},
            ),
            _res(
                "urn:i1",
                "aws:rds/clusterInstance:ClusterInstance",
                {"region": "us-east-1", "identifier": "i1", "availabilityZone": "us-east-1a"},
            ),
            _res(
                "urn:t",
                "aws:dynamodb/table:Table",
                {
                    "name": "sc-dev-sessions",
                    "hashKey": "sessionId",
                    "attributes": [{"name": "sessionId", "type": "S"}],
                    "ttl": {"enabled": True, "attributeName": "expiresAt"},
                },
            ),
            _res(
                "urn:r1",
                "aws:elasticache/replicationGroup:ReplicationGroup",
                {"region": "us-east-1", "replicationGroupId": "rg-e"},
            ),
            _res(
                "urn:r2",
                "aws:elasticache/replicationGroup:ReplicationGroup",
                {"region": "us-west-2", "replicationGroupId": "rg-w"},
            ),
            _res(
                "urn:gr",
                "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
                {"globalReplicationGroupIdSuffix": "sc-dev-cache"},
            ),
            _res(
                "urn:a",
                "aws:cloudwatch/metricAlarm:MetricAlarm",
                {"region": "us-west-2", "name": "cpu-w", "metricName": "CPUUtilization"},
            ),
            _res(
                "urn:s",
                "aws:secretsmanager/secret:Secret",
                {"region": "us-east-1", "name": "sc-dev/aurora/master"},
            ),
            *(
                _res(
                    f"urn:p-{region}",
                    "aws:ssm/parameter:Parameter",
                    {
                        "region": region,
                        "name": "/securecart/dev/dynamodb/active-region",
                        "type": "String",
                        "insecureValue": "us-east-1",
                        "allowedPattern": "^(us-east-1|us-west-2)$",
                    },
                )
                for region in ("us-east-1", "us-west-2")
            ),
        ],
        {
            "drillObjectives": {"rtoSeconds": 120, "rpoSeconds": 1},
            "dnsTtlSeconds": 30.0,  # how Pulumi's mocks hand numbers over
            "dynamodbActiveRegionParameter": "/securecart/dev/dynamodb/active-region",
        },
    )
    topology = from_recording(recording, settings)
    assert topology.source == "recording"
    assert topology.global_cluster_id == "sc-dev" and topology.engine_version == "16.6"
    assert topology.cluster("us-east-1").identifier == "sc-dev-us-east-1"
    assert [i.identifier for i in topology.cluster("us-east-1").instances] == ["i1"]
    assert topology.tables[0].ttl_attribute == "expiresAt"
    assert topology.cache_global_suffix == "sc-dev-cache" and len(topology.cache_groups) == 2
    assert topology.alarms[0].name == "cpu-w" and topology.secret_name == "sc-dev/aurora/master"
    assert topology.objectives.rto_seconds == 120
    assert topology.dns_ttl_seconds == 30 and isinstance(topology.dns_ttl_seconds, int)
    assert topology.active_region_parameter == "/securecart/dev/dynamodb/active-region"
    assert [(p.region, p.value, p.allowed_pattern) for p in topology.parameters] == [
        ("us-east-1", "us-east-1", "^(us-east-1|us-west-2)$"),
        ("us-west-2", "us-east-1", "^(us-east-1|us-west-2)$"),
    ]
    # the program writes primaryRegion there: an up with the other pair rewrites both
    assert all(
        p.follows_primary and p.value_for("us-west-2") == "us-west-2" for p in topology.parameters
    )


def test_a_journal_write_is_fsynced_unless_the_suite_says_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A drill's journal must survive the machine's crash (fsync before the rename); only the
    test suite turns that off (tests/conftest.py)."""
    from drills import journal

    synced: list[int] = []
    monkeypatch.setattr(journal.os, "fsync", synced.append)
    monkeypatch.delenv(journal.SYNC_ENV, raising=False)
    journal._write_atomic(tmp_path / "j.json", "{}")
    assert len(synced) == 1 and (tmp_path / "j.json").read_text() == "{}"
    monkeypatch.setenv(journal.SYNC_ENV, "0")
    journal._write_atomic(tmp_path / "j.json", "{}")
    assert len(synced) == 1


def test_a_nudged_canary_writer_writes_at_once_then_keeps_its_cadence(tmp_path: Path) -> None:
    """A move that the control plane reports done nudges the probe: the next write goes now,
    not at the end of a (here 60-second) interval; stop() does not wait the interval out."""
    import threading
    import time

    from drills.canary import Canary, CanaryLog, CanaryWriter

    written: list[int] = []
    second = threading.Event()

    def write_one(n: int) -> list[Canary]:
        written.append(n)
        if len(written) == 2:
            second.set()
        return []

    writer = CanaryWriter(CanaryLog(tmp_path / "canaries.jsonl"), write_one, interval=60.0)
    with writer:
        assert writer.first_attempted(within=30.0)
        assert not second.is_set()  # the cadence alone would wait a minute
        writer.nudge()
        assert second.wait(timeout=30.0), "the nudge did not bring the next write forward"
        stopping = time.monotonic()
    # stopped during the next minute's wait, not after it
    assert written == [0, 1] and time.monotonic() - stopping < 30.0


def test_the_sandbox_preparation_remembers_a_first_ctrl_c_and_obeys_a_second() -> None:
    """The first SIGINT is only remembered (the next checkpoint raises it from the sandbox's own
    code, never from inside a library such as asyncio's loop constructor); a second one raises
    at once; the previous handlers come back afterwards."""
    import signal

    from drills.cli import _cancel_on_signals

    before = signal.getsignal(signal.SIGINT)
    cancelled: list[str] = []
    with _cancel_on_signals(cancelled):
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            pytest.fail("the first SIGINT was raised where it landed, not remembered")
        assert cancelled == ["SIGINT"]
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert cancelled == ["SIGINT", "SIGINT"]
    assert signal.getsignal(signal.SIGINT) is before
