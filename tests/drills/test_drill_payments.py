"""The payments database's drills (issue 20): Multi-AZ failover and cross-region promotion with
the replica rebuilt for failback, through the same journal, rollback and invariant as every
drill; the emulator's refusals against what AWS documents. Everything asserted about AWS is
read back from the emulator, never from the drill's own report."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from drill_harness import PRIMARY, SECONDARY, DrillHarness
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.rds.models import rds_backends
from stores_harness import (
    abort_after,
    assert_payments_home,
    payments_seen,
    payments_writers,
    stores_harness,
)

from drills.engine import NullObserver
from emulator import Emulator


class AtWait(NullObserver):
    """Runs a callback (once) when the drill starts waiting for something."""

    def __init__(self, contains: str, action: Any) -> None:
        self.contains = contains
        self.action = action
        self.fired = False

    def waiting(self, what: str) -> None:
        if not self.fired and self.contains in what:
            self.fired = True
            self.action()


@pytest.fixture
def store(emulator: Emulator, tmp_path: Path) -> Iterator[DrillHarness]:
    yield from stores_harness(emulator, tmp_path, only=("payments",))


def _identifiers(store: DrillHarness) -> dict[str, str]:
    assert store.topology.payments is not None
    return store.topology.payments.identifiers


def test_promotion_moves_the_writer_out_and_back_and_rebuilds_the_replica(
    store: DrillHarness,
) -> None:
    before = payments_seen(store)

    result = store.run("payments-promotion")

    assert result.status == "succeeded", store.journal(result.drill_id).data.get("reason")
    assert_payments_home(store)
    # the rebuild deleted each old source with a final snapshot (its diverged data kept), and
    # recreated each region's instance under its own name, address and parameter group
    snapshots = {
        region: [
            s.db_snapshot_identifier
            for s in rds_backends[DEFAULT_ACCOUNT_ID][region].database_snapshots.values()
            if s.db_snapshot_identifier.startswith(f"{identifier}-drill-")
        ]
        for region, identifier in _identifiers(store).items()
    }
    assert all(len(found) == 1 for found in snapshots.values()), snapshots
    assert {r: s.address for r, s in payments_seen(store).items()} == {
        r: s.address for r, s in before.items()
    }
    data = store.journal(result.drill_id).data
    out, back = (
        data["state"]["measurements"][f"{p}:payments"] for p in ("payments", "payments-failback")
    )
    assert (out["from"], out["to"], back["from"], back["to"]) == (
        PRIMARY,
        SECONDARY,
        SECONDARY,
        PRIMARY,
    )
    for m in (out, back):
        # RTO from the fence until a write through the name succeeded: at least the emulated
        # promotion (rds_promote_seconds) is inside it
        assert m["rto_seconds"] >= store.emulator.timings.rds_promote_seconds
        # the promotion waited for ReplicaLag 0 after the fence: nothing acknowledged is lost
        assert m["rpo_seconds"] == 0.0
    # never two writers: every check after every step saw at most one
    assert all(len(c.get("payments_writers", [])) <= 1 for c in data["invariant_checks"])
    assert {m.store for m in result.measurements} >= {"payments"}


def test_multi_az_failover_keeps_the_writer_and_its_name_and_moves_the_zone(
    store: DrillHarness,
) -> None:
    zone = payments_seen(store)[PRIMARY].zone
    # the failover is held in flight until the drill waits for it: whatever the probe wrote
    # before, the takeover can only be a write after the release
    gate = store.emulator.faults.hold("reboot_db_instance")
    released: list[float] = []

    def release() -> None:
        released.append(time.time())
        gate.release()

    opened = AtWait("to answer from its standby", release)

    result = store.run("payments-multi-az-failover", observers=[opened])

    assert result.status == "succeeded", store.journal(result.drill_id).data.get("reason")
    assert payments_seen(store)[PRIMARY].zone != zone  # answered from the standby's AZ
    assert_payments_home(store)
    m = store.journal(result.drill_id).data["state"]["measurements"]["multi-az:payments"]
    assert gate.count == 1 and released
    assert m["takeover_at"] >= released[0]
    assert m["rto_seconds"] >= released[0] - m["requested_at"]
    assert m["rpo_seconds"] is None if "rpo_seconds" in m else "synchronous" in m["rpo_note"]


@pytest.mark.parametrize(("step", "kind"), [("payments-rebuild", "crash")])
def test_an_abort_at_a_step_boundary_leaves_one_writer_in_the_origin(
    store: DrillHarness, step: str, kind: str
) -> None:
    result = abort_after(store, "payments-promotion", step, kind)

    assert result.status == "rolled-back"
    checks = store.journal(result.drill_id).data["invariant_checks"]
    assert checks[-1]["ok"], checks[-1]
    assert_payments_home(store)


def test_an_abort_while_the_promotion_is_in_flight_waits_for_it_then_moves_back(
    store: DrillHarness,
) -> None:
    """AWS cannot cancel a promotion: the rollback waits for it, then rebuilds the way back."""
    gate = store.emulator.faults.hold("promote_read_replica")
    from drill_harness import AtEvent

    release = AtEvent("rollback", gate.release)
    stop = AtEvent("action", lambda: store.set_alarm(PRIMARY), "promote_read_replica")
    settings = store.settings.with_(stop_check_interval=0.0)

    result = store.run("payments-promotion", observers=[stop, release], settings=settings)

    assert result.status == "rolled-back" and gate.count == 1 and release.fired
    assert_payments_home(store)


def test_the_emulator_refuses_what_aws_refuses(store: DrillHarness) -> None:
    ids = _identifiers(store)
    primary = store.client("rds", PRIMARY)
    secondary = store.client("rds", SECONDARY)
    # RebootDBInstance: "You can't enable force failover if the instance isn't configured
    # for Multi-AZ"
    primary.create_db_instance(
        DBInstanceIdentifier=f"{ids[PRIMARY]}-single",
        Engine="postgres",
        DBInstanceClass="db.r6g.large",
        AllocatedStorage=20,
        MasterUsername="a",
        MasterUserPassword="password1",
        MultiAZ=False,
    )
    with pytest.raises(ClientError) as refused:
        primary.reboot_db_instance(
            DBInstanceIdentifier=f"{ids[PRIMARY]}-single", ForceFailover=True
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterCombination"
    # PromoteReadReplica: only a read replica can be promoted
    with pytest.raises(ClientError) as refused:
        primary.promote_read_replica(DBInstanceIdentifier=ids[PRIMARY])
    assert refused.value.response["Error"]["Code"] == "InvalidDBInstanceState"
    # CreateDBInstanceReadReplica: an encrypted cross-Region replica needs a key of its Region
    with pytest.raises(ClientError) as refused:
        secondary.create_db_instance_read_replica(
            DBInstanceIdentifier=f"{ids[SECONDARY]}-2",
            SourceDBInstanceIdentifier=store.seeded.outputs["payments"]["instances"][PRIMARY][
                "arn"
            ],
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterCombination"
    # a promoted replica stops replicating and the old source keeps accepting writes: two
    # writers, which is why the drill fences the source first
    secondary.promote_read_replica(DBInstanceIdentifier=ids[SECONDARY])
    store.settle()
    store.quiesce()
    assert sorted(payments_writers(store)) == [PRIMARY, SECONDARY]


def test_a_payments_database_with_two_writers_is_refused_before_anything_moves(
    store: DrillHarness,
) -> None:
    """Someone promoted the replica by hand: the drill refuses (it never picks a writer)."""
    store.client("rds", SECONDARY).promote_read_replica(
        DBInstanceIdentifier=_identifiers(store)[SECONDARY]
    )
    store.quiesce()

    result = store.run("payments-promotion")

    assert result.status == "refused"
    assert "payments-writer" in str(store.journal(result.drill_id).data.get("reason"))
    assert sorted(payments_writers(store)) == [PRIMARY, SECONDARY]  # nothing was touched
