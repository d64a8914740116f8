"""Test support for the issue-20 stores' drills: the small test stack plus the payments
database, the Neptune global database and the Redshift warehouse, named as the components name
them (drills/topology.py ``payments_spec``/``neptune_spec``/``redshift_spec``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from drill_harness import PRIMARY, SECONDARY, Crash, DrillHarness, make_harness
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.rds.models import rds_backends

from drills.engine import NullObserver, Step
from drills.result import DrillResult
from drills.topology import Topology, neptune_spec, payments_spec, redshift_spec
from emulator import Emulator
from emulator.rds_instance import read_only

STORES = ("payments", "neptune", "redshift")


def with_stores(topology: Topology, suffix: str, only: tuple[str, ...] = STORES) -> Topology:
    """The test topology with the issue-20 stores ``only`` names."""
    prefix = f"securecart-t{suffix}"
    regions = topology.regions
    return replace(
        topology,
        payments=payments_spec(prefix, regions) if "payments" in only else None,
        neptune=neptune_spec(prefix, regions) if "neptune" in only else None,
        redshift=redshift_spec(prefix, regions) if "redshift" in only else None,
    )


def stores_harness(
    emulator: Emulator, tmp: Path, only: tuple[str, ...] = STORES
) -> Iterator[DrillHarness]:
    """A freshly seeded stack with the issue-20 stores ``only`` names (its cache listeners
    stop afterwards)."""
    made = make_harness(emulator, tmp, extend=lambda t, s: with_stores(t, s, only))
    yield made
    emulator.cache_plane.remove(e[0] for e in made.seeded.cache_endpoints.values())


class AbortAfter(NullObserver):
    """Aborts the drill once, when ``step`` finishes: ``stop`` sets a stack alarm to ALARM (a
    stop condition, rolled back by the drill itself), ``crash`` kills it (rolled back by the
    operator's ``rollback``)."""

    def __init__(self, harness: DrillHarness, step: str, kind: str) -> None:
        self.harness = harness
        self.step = step
        self.kind = kind
        self.fired = False

    def step_finished(self, step: Step, record: dict[str, Any]) -> None:
        if step.name != self.step or self.fired:
            return
        self.fired = True
        if self.kind == "stop":
            self.harness.set_alarm(PRIMARY)
        else:
            raise Crash(step.name)


def abort_after(
    harness: DrillHarness, scenario: str, step: str, kind: str, **run: Any
) -> DrillResult:
    """Run ``scenario`` with an abort after ``step``; roll a crashed drill back."""
    abort = AbortAfter(harness, step, kind)
    settings = harness.settings.with_(stop_check_interval=0.0)
    try:
        result = harness.run(scenario, observers=[abort], settings=settings, **run)
    except Crash:
        result = harness.rollback(harness.only_drill())
    assert abort.fired, f"{step} never finished"
    return result


@dataclass(frozen=True)
class PaymentsSeen:
    """One region's payments instance as the emulator holds it."""

    status: str
    replica_of: str | None
    """Region of its source, or None when standalone."""
    read_only: bool
    zone: str
    address: str


def payments_seen(harness: DrillHarness) -> dict[str, PaymentsSeen]:
    """Both payments instances, read from the emulator (missing regions left out)."""
    seen: dict[str, PaymentsSeen] = {}
    for region, identifier in harness.topology.payments.identifiers.items():  # type: ignore[union-attr]
        database = rds_backends[DEFAULT_ACCOUNT_ID][region].databases.get(identifier)
        if database is None:
            continue
        source = database.source_db_instance_identifier
        seen[region] = PaymentsSeen(
            status=database.status,
            replica_of=(source.split(":")[3] if source.startswith("arn:") else region)
            if source
            else None,
            read_only=read_only(database),
            zone=database.availability_zone,
            address=database.address,
        )
    return seen


def payments_writers(harness: DrillHarness) -> list[str]:
    """Regions whose instance takes writes (available, standalone, not read-only)."""
    return [
        region
        for region, seen in payments_seen(harness).items()
        if seen.status == "available" and seen.replica_of is None and not seen.read_only
    ]


def assert_payments_home(harness: DrillHarness, origin: str = PRIMARY) -> None:
    """Exactly one writer, in ``origin``; the other region an available replica of it; the
    name on the writer; no fence left anywhere."""
    harness.quiesce()
    seen = payments_seen(harness)
    other = SECONDARY if origin == PRIMARY else PRIMARY
    assert payments_writers(harness) == [origin]
    assert seen[other].replica_of == origin and seen[other].status == "available"
    assert not any(s.read_only for s in seen.values())
    assert harness.seeded.record_value(harness.seeded.outputs["payments"]["dnsName"]) == (
        seen[origin].address
    )


def neptune_writer(harness: DrillHarness) -> str:
    """The region of the Neptune global database's one writer (asserts there is one)."""
    assert harness.topology.neptune is not None
    gc = harness.client("neptune", PRIMARY).describe_global_clusters(
        GlobalClusterIdentifier=harness.topology.neptune.global_cluster_id
    )["GlobalClusters"][0]
    writers = [m["DBClusterArn"].split(":")[3] for m in gc["GlobalClusterMembers"] if m["IsWriter"]]
    assert gc["Status"] == "available" and len(writers) == 1, gc
    return writers[0]


def fraud_record(harness: DrillHarness) -> str | None:
    """What ``fraud.<zone>`` points at."""
    return harness.seeded.record_value(harness.seeded.outputs["fraudGraph"]["dnsName"])


def fraud_endpoint(harness: DrillHarness, region: str) -> str:
    """The Neptune cluster endpoint of ``region``."""
    return str(harness.seeded.outputs["fraudGraph"]["clusters"][region]["endpoint"])
