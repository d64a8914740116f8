"""The stack's lease (drills/lease.py) against the emulator's DynamoDB: refusal naming the
holder, keeping the lease across a crash so only that drill's resume/rollback takes it back,
the explicit break (expired only, the named drill only, not if renewed meanwhile), a broken
lease stopping the drill that held it, and the identity check (STS) before anything else.

The two-process case (two checkouts, one ``drills serve``) is in test_drill_serve.py."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from drill_harness import PRIMARY, SECONDARY, AtEvent, Crash, CrashAt, DrillHarness

from drills.aws import AwsClients
from drills.drill import IdentityError
from drills.lease import (
    DrillLease,
    LeaseBreakRefusedError,
    LeaseHeldError,
    LeaseRef,
    break_lease,
    read_lease,
)


def _ref(harness: DrillHarness) -> LeaseRef:
    raw = harness.seeded.outputs["drillLease"]
    return LeaseRef(raw["tableName"], raw["region"])


def _put_holder(
    harness: DrillHarness, drill_id: str, host: str, started: float, expires: float
) -> None:
    harness.client("dynamodb", _ref(harness).region).put_item(
        TableName=_ref(harness).table,
        Item={
            "stack": {"S": "dev"},
            "holder": {"S": drill_id},
            "host": {"S": host},
            "pid": {"N": "4242"},
            "started_at": {"N": str(started)},
            "heartbeat_at": {"N": str(started)},
            "expires_at": {"N": str(expires)},
        },
    )


def _item(harness: DrillHarness) -> dict[str, Any] | None:
    ref = _ref(harness)
    item = harness.client("dynamodb", ref.region).get_item(
        TableName=ref.table, Key={"stack": {"S": "dev"}}, ConsistentRead=True
    )
    return item.get("Item")


def test_the_lease_lives_in_the_fixed_region_of_the_pair(harness: DrillHarness) -> None:
    # sorted(("us-east-1", "us-west-2"))[-1]: the region does not follow primaryRegion
    assert _ref(harness).region == SECONDARY


def test_a_held_lease_refuses_at_once_naming_holder_host_and_start(harness: DrillHarness) -> None:
    started = 1_800_000_000.0  # 2027-01-15T08:00:00Z
    _put_holder(harness, "dev-pitr-other", "ops-laptop-7", started, time.time() + 600)

    with pytest.raises(LeaseHeldError) as refused:
        harness.run("planned-switchover")

    message = str(refused.value)
    assert "drill dev-pitr-other on host ops-laptop-7 (pid 4242)" in message
    assert "since 2027-01-15T08:00:00Z" in message
    assert "break-lease" not in message  # not expired: nothing to break
    journal = harness.journal(harness.only_drill())
    assert journal.status == "refused"
    assert all(step["status"] == "pending" for step in journal.data["steps"])
    assert harness.writer_region() == PRIMARY
    assert _item(harness)["holder"]["S"] == "dev-pitr-other"  # untouched


def test_an_expired_lease_still_refuses_and_says_how_to_break_it(harness: DrillHarness) -> None:
    now = time.time()
    _put_holder(harness, "dev-pitr-dead", "gone-host", now - 900, now - 300)

    with pytest.raises(LeaseHeldError) as refused:
        harness.run("planned-switchover")

    assert re.search(r"expired 30\d s ago", str(refused.value)), refused.value
    assert "python -m drills break-lease --stack dev --drill dev-pitr-dead" in str(refused.value)


def test_a_crashed_drill_keeps_the_lease_and_only_its_rollback_takes_it_back(
    harness: DrillHarness,
) -> None:
    with pytest.raises(Crash):
        harness.run("planned-switchover", observers=[CrashAt("aurora-switchover")])
    crashed = harness.only_drill()
    assert _item(harness)["holder"]["S"] == crashed  # kept: the drill is not over

    with pytest.raises(LeaseHeldError):  # another drill (another checkout) refuses
        harness.run(
            "cache-failover", settings=harness.settings.with_(state_dir=harness.state_dir / "other")
        )

    result = harness.rollback(crashed)

    assert result.status == "rolled-back", result.reason
    assert _item(harness) is None  # released with the rollback
    assert harness.writer_region() == PRIMARY


def test_break_refuses_a_live_lease_another_drill_and_a_renewal_in_between(
    harness: DrillHarness,
) -> None:
    ref = _ref(harness)
    clients = AwsClients(harness.settings)
    now = time.time()
    _put_holder(harness, "dev-held", "h", now - 100, now + 30)

    with pytest.raises(LeaseBreakRefusedError, match="not before"):
        break_lease(clients, ref, "dev", "dev-held")  # not expired
    with pytest.raises(LeaseBreakRefusedError, match="expired 10 s ago"):
        break_lease(clients, ref, "dev", "dev-held", clock=lambda: now + 40)  # within the margin
    with pytest.raises(LeaseBreakRefusedError, match="name the holder"):
        break_lease(clients, ref, "dev", "dev-other", clock=lambda: now + 1000)

    # the holder renews between the breaker's read and its delete: the delete's condition
    # (heartbeat_at as read) fails and the live holder keeps its lease
    holder = DrillLease(clients, ref, "dev", "dev-held", 30.0)

    def renew_then_late() -> float:
        assert holder.renew()
        return now + 1000

    with pytest.raises(LeaseBreakRefusedError, match="renewed its lease"):
        break_lease(clients, ref, "dev", "dev-held", clock=renew_then_late)
    assert read_lease(clients, ref, "dev") is not None

    broken = break_lease(clients, ref, "dev", "dev-held", clock=lambda: time.time() + 1000)
    assert broken.drill_id == "dev-held" and read_lease(clients, ref, "dev") is None


def test_a_broken_lease_stops_the_drill_that_held_it(harness: DrillHarness) -> None:
    """Someone breaks the lease while the switchover is in flight: the next heartbeat finds the
    item gone, the next stop check aborts, and the drill rolls back (waiting for the move)."""
    gate = harness.emulator.faults.hold("switchover_global_cluster")
    ref = _ref(harness)

    def break_it() -> None:
        harness.client("dynamodb", ref.region).delete_item(
            TableName=ref.table, Key={"stack": {"S": "dev"}}
        )

    steal = AtEvent("action", break_it, "switchover_global_cluster")
    release = AtEvent("undo", gate.release, "aurora")
    settings = harness.settings.with_(lease_seconds=0.06, stop_check_interval=0.0)

    result = harness.run("planned-switchover", observers=[steal, release], settings=settings)

    assert steal.fired and release.fired
    assert result.status == "rolled-back", result.reason
    assert "lease" in result.reason and "broken or taken" in result.reason
    assert harness.writer_region() == PRIMARY


def test_the_wrong_account_is_refused_before_anything_else(harness: DrillHarness) -> None:
    outputs = harness.pulumi_stack.outputs
    clusters = outputs["auroraClusters"]
    arn = clusters[PRIMARY]["arn"]
    clusters[PRIMARY]["arn"] = arn.replace(arn.split(":")[4], "210987654321")

    with pytest.raises(IdentityError) as refused:
        harness.run("planned-switchover")

    assert "account 123456789012" in str(refused.value)
    assert "account 210987654321" in str(refused.value)
    assert not list(harness.state_dir.glob("*/journal.json"))  # no journal: nothing started
    assert _item(harness) is None  # no lease taken
