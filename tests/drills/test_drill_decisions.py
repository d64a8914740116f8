"""The drills' decision functions, one table each, every expected value worked out by hand from
the rule in the docstring it tests (issue 17 item 10): what a move and a resume do against every
state AWS can show, what an undo waits for, the loss window, where RTO starts and ends, which
alarms the drill sets off itself, and which errors mean that a region is lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from drills.aws import AwsClients
from drills.canary import Canary, CanaryLog, PhaseRun
from drills.errors import RegionUnavailableError
from drills.metrics import first_write, loss_fault_time, store_fault
from drills.settings import DrillSettings
from drills.stop_conditions import alarm_matches
from drills.stores import (
    ALREADY,
    DONE,
    FOREIGN,
    IN_FLIGHT,
    MOVE,
    PAUSE,
    RESEND,
    SEND,
    WAIT,
    WAIT_READY,
    StoreState,
    decide_move,
    owns_refusal,
    switchover_ready,
    undo_next,
)
from drills.verify import loss_window

E, W, X = "us-east-1", "us-west-2", "eu-west-1"

SETTLED_E = StoreState((E,), "available", ready=(W,))
SETTLED_W = StoreState((W,), "available", ready=(E,))
AURORA_E_TO_W = StoreState((E,), "switching-over", moving_to=W, moving_from=E, in_flight=True)
AURORA_W_TO_E = StoreState((W,), "switching-over", moving_to=E, moving_from=W, in_flight=True)
AURORA_X_TO_W = StoreState((X,), "failing-over", moving_to=W, moving_from=X, in_flight=True)
CACHE_MODIFYING = StoreState((E,), "modifying", in_flight=True)
FLIPPED_NOT_DONE = StoreState((W,), "modifying", in_flight=True)
SETTING_SPLIT = StoreState((W, E), "inconsistent", ready=())

NOT_SENT = {"call": "c", "sent_at": None, "from": E}
SENT = {"call": "c", "sent_at": 100.0, "from": E}


@pytest.mark.parametrize(
    ("state", "record", "resend", "expected"),
    [
        # done: whatever the journal says, nothing is sent
        (SETTLED_W, None, False, ALREADY),
        (SETTLED_W, NOT_SENT, False, ALREADY),
        (SETTLED_W, SENT, False, ALREADY),
        # nothing moved and nothing in flight
        (SETTLED_E, None, False, SEND),  # first attempt
        (SETTLED_E, NOT_SENT, False, SEND),  # crash between intent and call: never sent
        (SETTLED_E, SENT, False, PAUSE),  # sent, but neither done nor in flight: a person
        (SETTLED_E, SENT, True, RESEND),  # ... who asked for it again
        (SETTLED_E, NOT_SENT, True, SEND),
        # in flight, AWS naming source and target (Aurora's FailoverState)
        (AURORA_E_TO_W, SENT, False, IN_FLIGHT),  # ours, journaled as sent
        (AURORA_E_TO_W, NOT_SENT, False, IN_FLIGHT),  # crash between call and "sent"
        (AURORA_E_TO_W, None, False, FOREIGN),  # nothing journaled: someone else's move
        (AURORA_W_TO_E, SENT, False, FOREIGN),  # the other way
        (AURORA_X_TO_W, SENT, False, FOREIGN),  # right target, another source
        # in flight, AWS naming neither (a global datastore "modifying")
        (CACHE_MODIFYING, SENT, False, IN_FLIGHT),
        (CACHE_MODIFYING, None, False, FOREIGN),
        (FLIPPED_NOT_DONE, SENT, False, IN_FLIGHT),  # primary already flipped, still modifying
        # a setting half-written by a crash (two values, nothing in flight)
        (SETTING_SPLIT, NOT_SENT, False, SEND),
        (SETTING_SPLIT, SENT, False, PAUSE),
    ],
)
def test_move_and_resume_against_every_aws_state(
    state: StoreState, record: dict[str, Any] | None, resend: bool, expected: str
) -> None:
    origin = record["from"] if record else state.primary
    assert decide_move(state, record, W, origin=origin, resend=resend) == expected


@pytest.mark.parametrize(
    ("state", "origin", "expected"),
    [
        (AURORA_E_TO_W, E, True),  # FailoverState shows the journaled intent
        (AURORA_W_TO_E, E, False),  # another move: the other way
        (AURORA_X_TO_W, E, False),  # same target, not from where the drill moved it
        (CACHE_MODIFYING, E, False),  # the datastore does not name its move: never proven
        (StoreState((E,), "modifying", moving_to=W, in_flight=True), E, False),  # no source
        (SETTLED_W, E, False),  # done, with nothing to show whose move it was
        (SETTLED_E, E, False),
    ],
)
def test_a_refused_call_is_the_drills_only_when_aws_shows_its_intent(
    state: StoreState, origin: str, expected: bool
) -> None:
    assert owns_refusal(state, W, origin) is expected


def _never() -> bool:
    raise AssertionError("readiness must not be asked here")


@pytest.mark.parametrize(
    ("state", "settles", "ready", "expected"),
    [
        (AURORA_W_TO_E, True, _never, WAIT),  # in flight: cannot be cancelled, wait
        (CACHE_MODIFYING, True, _never, WAIT),  # even when it is headed home already
        (SETTLED_E, True, _never, DONE),  # home and settled
        (SETTLED_W, True, lambda: True, MOVE),
        (SETTLED_W, True, lambda: False, WAIT_READY),  # e.g. home region not answering
        (SETTLED_E, False, _never, DONE),  # a setting already home
        (SETTING_SPLIT, False, _never, MOVE),  # half-written setting: rewrite at once
        (StoreState((W,), "available", in_flight=True), False, _never, MOVE),
    ],
)
def test_undo_waits_for_in_flight_moves_and_for_readiness(
    state: StoreState, settles: bool, ready: Any, expected: str
) -> None:
    assert undo_next(state, E, settles=settles, ready=ready) == expected


@pytest.mark.parametrize(
    ("state", "answers", "expected"),
    [
        (SETTLED_W, lambda: True, True),
        (SETTLED_W, lambda: False, False),  # the writer a switchover needs is not answering
        (StoreState((W,), "available", ready=()), _never, False),  # home not synchronized
        (AURORA_E_TO_W, _never, False),  # in flight
        (StoreState((W, E), "available", ready=(E,)), _never, False),  # two writers
    ],
)
def test_a_switchover_back_needs_a_settled_cluster_a_synced_target_and_the_writer(
    state: StoreState, answers: Any, expected: bool
) -> None:
    assert switchover_ready(state, E, answers) is expected


def _c(cid: str, region: str, written: float, duration: float, ok: bool = True) -> Canary:
    return Canary(cid, "aurora", region, "p", written, ok, duration=duration)


def test_the_loss_window_runs_from_the_last_survivor_to_the_last_lost_ack() -> None:
    a1 = _c("a1", E, 10.0, 0.1)  # acked 10.1, survived
    b = _c("b", E, 10.4, 0.15)  # acked 10.55: after the first lost write started, survived
    a2 = _c("a2", E, 10.5, 0.1)  # acked 10.6, lost
    a3 = _c("a3", E, 11.0, 0.2)  # acked 11.2, lost
    acked = [a1, b, a2, a3]
    # survivors acknowledged by 10.5 (first lost write): a1 at 10.1 -> 11.2 - 10.1
    assert loss_window(acked, [a2, a3]) == pytest.approx(1.1)
    # no survivor before it: from the first lost write itself, 10.0 -> 10.6
    assert loss_window([a1, a2], [a1, a2]) == pytest.approx(0.6)
    assert loss_window(acked, []) == 0.0


def test_rto_of_a_region_loss_starts_at_the_last_contact_with_it() -> None:
    contacts = [5.0, 7.5, 6.0]
    assert loss_fault_time(contacts, answered=False, asked=9.0) == 7.5
    # never reached it: from the moment the drill asked
    assert loss_fault_time([], answered=False, asked=9.0) == 9.0
    # it still answers: no outage, the failover is the drill's first action
    assert loss_fault_time(contacts, answered=True, asked=9.0) == 9.0


def test_rto_ends_at_the_first_acknowledged_write_in_the_new_region_after_the_request() -> None:
    log = [
        _c("old", E, 1.0, 0.05),  # the old primary
        _c("early", W, 1.2, 0.01),  # before the request (since = 1.5)
        _c("slow", W, 1.9, 0.7),  # sent first, acknowledged at 2.6
        _c("fast", W, 2.0, 0.3),  # sent later, acknowledged first at 2.3
        _c("edge", X, 1.5, 0.0),
    ]
    assert first_write(log, W, 1.5) == pytest.approx(2.3)
    assert first_write(log, X, 1.5) == 1.5  # written exactly at the request counts
    assert first_write(log, E, 1.5) is None


def _log(tmp_path: Path, *canaries: Canary) -> CanaryLog:
    log = CanaryLog(tmp_path / "canaries.jsonl")
    for canary in canaries:
        log.add(canary)
    return log


def test_a_phase_run_reads_only_its_own_phases_canaries(tmp_path: Path) -> None:
    log = _log(
        tmp_path,
        Canary("s1", "aurora", E, "switch", 1.0, True),
        Canary("s2", "aurora", W, "switch", 2.0, True),  # the takeover write, after the move
        Canary("f1", "aurora", W, "failback", 3.0, True),
        Canary("f2", "aurora", W, "failback", 3.1, False, error="timeout"),
        Canary("f3", "aurora", E, "failback", 4.0, True),
        Canary("f4", "cache", W, "failback", 3.2, True),
        Canary("t1", "dynamodb", W, "failback", 3.3, True, target="orders"),
        Canary("t2", "dynamodb", W, "failback", 3.4, True, target="carts"),
    )
    state: dict[str, Any] = {"phases": {"failback": {"from": W, "to": E}}}
    run = PhaseRun(state, log, "failback")

    assert (run.src, run.dst) == (W, E)
    assert [c.id for c in run.attempts()] == ["f1", "f2", "f3", "f4", "t1", "t2"]
    assert [c.id for c in run.attempts("aurora")] == ["f1", "f2", "f3"]
    assert [c.id for c in run.acknowledged("aurora")] == ["f1", "f3"]  # f2 failed
    assert [c.id for c in run.acknowledged("aurora", region=W)] == ["f1"]
    assert [c.id for c in run.attempts("dynamodb", "carts")] == ["t2"]
    assert [c.id for c in run.acknowledged("dynamodb", region=W, table="orders")] == ["t1"]
    # its measurements are persisted in the drill's state, one per store
    run.measurement("aurora")["rto_seconds"] = 1.5
    assert state["measurements"]["failback:aurora"] == {
        "phase": "failback",
        "store": "aurora",
        "rto_seconds": 1.5,
    }
    assert run.measurement("aurora") is state["measurements"]["failback:aurora"]


def test_a_lost_regions_rto_starts_at_each_stores_own_last_write_there(tmp_path: Path) -> None:
    log = _log(
        tmp_path,
        Canary("a1", "aurora", E, "failover", 10.0, True, duration=0.2),  # acked 10.2
        Canary("a2", "aurora", E, "failover", 10.5, False, duration=0.1),  # failed: no contact
        Canary("c1", "cache", E, "failover", 10.6, True, duration=0.1),  # acked 10.7
        Canary("c2", "cache", E, "switch", 11.0, True),  # another phase's
        Canary("c3", "cache", W, "failover", 10.8, True),  # not the lost region
    )
    record = {"from": E, "to": W, "fault": "primary region lost", "fault_at": 10.9}
    run = PhaseRun({"phases": {"failover": record}}, log, "failover")
    aurora = {"store": "aurora", "action": "failover", "requested_at": 12.0}
    cache = {"store": "cache", "action": "failover", "requested_at": 13.0}

    assert store_fault(run, aurora) == (10.2, f"last acknowledged write in {E} before it was lost")
    assert store_fault(run, cache) == (
        pytest.approx(10.7),
        f"last acknowledged write in {E} before it was lost",
    )
    # a planned move: from the store's own request
    planned = PhaseRun({"phases": {"switch": {"from": E, "to": W, "fault_at": 9.0}}}, log, "switch")
    assert store_fault(planned, cache) == (13.0, "request: failover")


@pytest.mark.parametrize(
    ("name", "key", "region", "expected"),
    [
        ("securecart-dev-aurora-replication-lag-us-east-1", "aurora-replication-lag", E, True),
        ("securecart-dev-aurora-replication-lag-us-west-2", "aurora-replication-lag", E, False),
        ("securecart-dev-cache-health-001-us-east-1", "cache-health", E, True),
        ("securecart-dev-aurora-health-us-east-1", "aurora-health", E, True),
        ("securecart-dev-aurora-cpu-us-east-1", "aurora-health", E, False),
        (
            "securecart-dev-ddb-orders-replication-latency-us-east-1",
            "aurora-replication-lag",
            E,
            False,
        ),
    ],
)
def test_which_stack_alarm_a_phase_declares(
    name: str, key: str, region: str, expected: bool
) -> None:
    assert alarm_matches(name, key, region) is expected


class _Client:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def describe_db_clusters(self, **_: Any) -> dict[str, Any]:
        raise self.exc


class _Session:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def client(self, service: str, region_name: str, config: Any) -> _Client:
        return _Client(self.exc)


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "DescribeDBClusters",
    )


URL = "https://rds.us-east-1.amazonaws.com/"


@pytest.mark.parametrize(
    ("exc", "lost"),
    [
        (ConnectTimeoutError(endpoint_url=URL), True),
        (ReadTimeoutError(endpoint_url=URL), True),
        (EndpointConnectionError(endpoint_url=URL), True),
        (ConnectionClosedError(endpoint_url=URL), True),
        (_client_error("InternalFailure", 500), True),  # 5xx after retries: endpoint failing
        (_client_error("ServiceUnavailable", 503), True),
        # an answer: a secondary's Data API refusing with 504 (RDS Data API Reference, Errors)
        (_client_error("DatabaseUnavailableException", 504), False),
        (_client_error("Throttling", 400), False),
        (_client_error("DBClusterNotFoundFault", 404), False),
    ],
)
def test_connection_timeouts_and_5xx_become_region_loss(exc: BaseException, lost: bool) -> None:
    clients = AwsClients(DrillSettings(aws_max_attempts=1), _Session(exc))
    if lost:
        with pytest.raises(RegionUnavailableError, match=E):
            clients.call("rds", E, "describe_db_clusters")
    else:
        with pytest.raises(ClientError):
            clients.call("rds", E, "describe_db_clusters")
