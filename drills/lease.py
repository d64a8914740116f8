"""One drill per stack, from any machine: a lease held in AWS.

The lock in ``.drills/locks/`` only sees drills of one checkout. The lease is an item in a
DynamoDB table the stack creates (output ``drillLease``: table name and region; one regional
table, in one fixed region of the pair, so every drill of the stack writes the same item):

- **acquire** (before the preconditions): ``PutItem`` with ``ConditionExpression
  attribute_not_exists(#stack) OR #holder = :me``: it succeeds only when nobody holds the stack,
  or when this drill already holds it (a ``resume``/``rollback`` of the same drill). DynamoDB
  evaluates the condition and writes atomically, on the single item (DynamoDB Developer Guide,
  "Condition expressions"; API Reference, ``PutItem``: ``ConditionalCheckFailedException``).
  A refusal reads the item back (strongly consistent) and names holder, host and start time.
- **heartbeat**: every third of the lease, ``UpdateItem`` moves ``expires_at`` forward under
  the condition ``#holder = :me``; a failed condition means the lease was broken: the drill
  stops at its next stop check.
- **release**: ``DeleteItem`` under ``#holder = :me`` when the drill ends for good (succeeded,
  rolled back, refused, failed). A drill that paused, crashed or was interrupted keeps the
  item: its ``resume``/``rollback`` takes it again; any other drill refuses.
- **break** (``python -m drills break-lease``, explicit): only the drill id named by the
  operator, only when its lease expired more than a skew margin ago by the breaker's clock, and
  only if the item is still the one read (``#heartbeat_at = :seen``), so a holder that renewed
  meanwhile keeps its lease.

Times are the writers' clocks (epoch seconds): DynamoDB conditions cannot read a server time.
docs/drills.md ("One drill per stack") lists the failure modes (clock skew, a holder that hangs).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from .aws import AwsClients, error_code
from .errors import DrillConfigError, DrillError, DrillLockedError, RegionUnavailableError

LEASE_OUTPUT = "drillLease"
"""Stack output: ``{"tableName": ..., "region": ...}``."""
LEASE_HASH_KEY = "stack"
CONDITION_FAILED = "ConditionalCheckFailedException"


@dataclass(frozen=True, slots=True)
class LeaseRef:
    """Where the stack's lease lives."""

    table: str
    region: str

    def to_json(self) -> dict[str, str]:
        """The output's shape (also kept in the journal)."""
        return {"tableName": self.table, "region": self.region}


def lease_ref(outputs: Mapping[str, Any]) -> LeaseRef | None:
    """The lease table from the stack outputs (None when the stack does not export it)."""
    raw = outputs.get(LEASE_OUTPUT)
    if raw in (None, ""):
        return None
    if not isinstance(raw, Mapping) or not raw.get("tableName") or not raw.get("region"):
        raise DrillConfigError(f"output {LEASE_OUTPUT}", raw, "an object with tableName and region")
    return LeaseRef(str(raw["tableName"]), str(raw["region"]))


def iso(ts: float) -> str:
    """UTC, to the second (what an operator compares)."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """The lease item as read from AWS."""

    stack: str
    drill_id: str
    host: str
    pid: int
    started_at: float
    heartbeat_at: float
    expires_at: float

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> LeaseHolder:
        """From a DynamoDB item (low-level attribute values)."""

        def text(key: str) -> str:
            return str(item.get(key, {}).get("S", ""))

        def number(key: str) -> float:
            return float(item.get(key, {}).get("N", "0"))

        return cls(
            text(LEASE_HASH_KEY),
            text("holder"),
            text("host"),
            int(number("pid")),
            number("started_at"),
            number("heartbeat_at"),
            number("expires_at"),
        )

    def describe(self, now: float) -> str:
        """Who holds the stack, where, since when, and whether the lease expired."""
        if self.expires_at < now:
            state = f"expired {now - self.expires_at:.0f} s ago (at {iso(self.expires_at)})"
        else:
            state = f"expires {iso(self.expires_at)} unless renewed"
        return (
            f"drill {self.drill_id} on host {self.host} (pid {self.pid}) holds stack "
            f"{self.stack} since {iso(self.started_at)}; last heartbeat "
            f"{iso(self.heartbeat_at)}, {state}"
        )


class LeaseHeldError(DrillLockedError):
    """Another drill holds the stack's lease: this drill refuses at once."""

    def __init__(self, holder: LeaseHolder, now: float) -> None:
        self.holder = holder
        hint = (
            "; if that drill's process is gone, finish it with `python -m drills resume|rollback "
            f"{holder.drill_id}` where it ran, or break its lease: `python -m drills break-lease "
            f"--stack {holder.stack} --drill {holder.drill_id}`"
            if holder.expires_at < now
            else ""
        )
        super().__init__(f"another drill holds the stack: {holder.describe(now)}{hint}")


class LeaseLostError(DrillError):
    """This drill's lease was broken (or taken) while it ran: it must stop."""


class DrillLease:
    """This drill's hold on the stack (acquire, heartbeat, release)."""

    def __init__(
        self,
        clients: AwsClients,
        ref: LeaseRef,
        stack: str,
        drill_id: str,
        seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clients = clients
        self.ref = ref
        self.stack = stack
        self.drill_id = drill_id
        self.seconds = seconds
        self.clock = clock
        self.lost: str | None = None
        """Why the lease is no longer ours (set by the heartbeat)."""
        self.heartbeats = 0
        self.failed_heartbeats = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> None:
        """Take the lease or raise :class:`LeaseHeldError` naming the holder."""
        now = self.clock()
        item = {
            LEASE_HASH_KEY: {"S": self.stack},
            "holder": {"S": self.drill_id},
            "host": {"S": socket.gethostname()},
            "pid": {"N": str(os.getpid())},
            "started_at": {"N": repr(now)},
            "heartbeat_at": {"N": repr(now)},
            "expires_at": {"N": repr(now + self.seconds)},
        }
        try:
            self.clients.call(
                "dynamodb",
                self.ref.region,
                "put_item",
                TableName=self.ref.table,
                Item=item,
                ConditionExpression="attribute_not_exists(#stack) OR #holder = :me",
                ExpressionAttributeNames={"#stack": LEASE_HASH_KEY, "#holder": "holder"},
                ExpressionAttributeValues={":me": {"S": self.drill_id}},
            )
        except ClientError as exc:
            if error_code(exc) != CONDITION_FAILED:
                raise
            holder = read_lease(self.clients, self.ref, self.stack)
            if holder is None:  # released between our write and our read: try once more
                self.acquire()
                return
            raise LeaseHeldError(holder, self.clock()) from exc
        self.lost = None

    def renew(self) -> bool:
        """One heartbeat; False (and :attr:`lost` set) when the lease is no longer ours."""
        now = self.clock()
        try:
            self.clients.call(
                "dynamodb",
                self.ref.region,
                "update_item",
                TableName=self.ref.table,
                Key={LEASE_HASH_KEY: {"S": self.stack}},
                UpdateExpression="SET #hb = :now, #exp = :exp",
                ConditionExpression="#holder = :me",
                ExpressionAttributeNames={
                    "#hb": "heartbeat_at",
                    "#exp": "expires_at",
                    "#holder": "holder",
                },
                ExpressionAttributeValues={
                    ":now": {"N": repr(now)},
                    ":exp": {"N": repr(now + self.seconds)},
                    ":me": {"S": self.drill_id},
                },
            )
        except ClientError as exc:
            if error_code(exc) != CONDITION_FAILED:
                self.failed_heartbeats += 1
                return True
            self.lost = (
                f"the lease of drill {self.drill_id} on stack {self.stack} was broken or taken "
                "while it ran (heartbeat refused)"
            )
            return False
        except RegionUnavailableError:
            # The lease's region does not answer: keep the drill going; the lease expires if
            # this lasts (a new drill still needs an explicit break).
            self.failed_heartbeats += 1
            return True
        self.heartbeats += 1
        return True

    def start_heartbeat(self) -> None:
        """Renew every third of the lease, in a daemon thread, until :meth:`stop`."""
        self._stop.clear()
        interval = max(self.seconds / 3.0, 0.01)

        def beat() -> None:
            while not self._stop.wait(interval):
                if not self.renew():
                    return

        self._thread = threading.Thread(target=beat, name=f"lease-{self.drill_id}", daemon=True)
        self._thread.start()

    def check(self) -> None:
        """Raise :class:`LeaseLostError` when the heartbeat found the lease broken."""
        if self.lost is not None:
            raise LeaseLostError(self.lost)

    def stop(self) -> None:
        """Stop the heartbeat and keep the item (a paused or interrupted drill)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.clients_timeout())
            self._thread = None

    def clients_timeout(self) -> float:
        """How long a heartbeat in flight may take to finish."""
        s = self.clients._settings
        return (s.aws_connect_timeout + s.aws_read_timeout) * s.aws_max_attempts

    def release(self) -> bool:
        """Stop the heartbeat and delete the item if it is still ours (True when deleted)."""
        self.stop()
        try:
            self.clients.call(
                "dynamodb",
                self.ref.region,
                "delete_item",
                TableName=self.ref.table,
                Key={LEASE_HASH_KEY: {"S": self.stack}},
                ConditionExpression="#holder = :me",
                ExpressionAttributeNames={"#holder": "holder"},
                ExpressionAttributeValues={":me": {"S": self.drill_id}},
            )
        except ClientError as exc:
            if error_code(exc) != CONDITION_FAILED:
                raise
            return False
        return True


def read_lease(clients: AwsClients, ref: LeaseRef, stack: str) -> LeaseHolder | None:
    """The lease item of ``stack`` (strongly consistent read), or None."""
    answer = clients.call(
        "dynamodb",
        ref.region,
        "get_item",
        TableName=ref.table,
        Key={LEASE_HASH_KEY: {"S": stack}},
        ConsistentRead=True,
    )
    item = answer.get("Item")
    return LeaseHolder.from_item(item) if item else None


BREAK_MARGIN_SECONDS = 60.0
"""How long past its expiry (by the breaker's clock) a lease must be before it can be broken:
room for clock skew between the holder's machine and the breaker's."""


class LeaseBreakRefusedError(DrillError):
    """The lease cannot be broken (not the named drill, not expired, or renewed meanwhile)."""


def break_lease(
    clients: AwsClients,
    ref: LeaseRef,
    stack: str,
    drill_id: str,
    *,
    margin: float = BREAK_MARGIN_SECONDS,
    clock: Callable[[], float] = time.time,
) -> LeaseHolder:
    """Delete the expired lease of ``drill_id`` (returns what was broken)."""
    holder = read_lease(clients, ref, stack)
    now = clock()
    if holder is None:
        raise LeaseBreakRefusedError(f"no drill holds stack {stack}: nothing to break")
    if holder.drill_id != drill_id:
        raise LeaseBreakRefusedError(
            f"{holder.describe(now)}; not {drill_id}: name the holder to break its lease"
        )
    if holder.expires_at + margin > now:
        raise LeaseBreakRefusedError(
            f"{holder.describe(now)}; a lease can be broken {margin:g} s after it expired "
            f"(clock skew margin), not before {iso(holder.expires_at + margin)}"
        )
    try:
        clients.call(
            "dynamodb",
            ref.region,
            "delete_item",
            TableName=ref.table,
            Key={LEASE_HASH_KEY: {"S": stack}},
            ConditionExpression="#holder = :h AND #hb = :seen",
            ExpressionAttributeNames={"#holder": "holder", "#hb": "heartbeat_at"},
            ExpressionAttributeValues={
                ":h": {"S": drill_id},
                ":seen": {"N": repr(holder.heartbeat_at)},
            },
        )
    except ClientError as exc:
        if error_code(exc) != CONDITION_FAILED:
            raise
        raise LeaseBreakRefusedError(
            f"drill {drill_id} renewed its lease while it was being broken: it is alive"
        ) from exc
    return holder


def create_lease_table(client: Any, name: str) -> None:
    """Create the lease table as the stack's component declares it (key ``stack``, on-demand),
    for the sandbox and ``drills serve`` (idempotent)."""
    try:
        client.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": LEASE_HASH_KEY, "AttributeType": "S"}],
            KeySchema=[{"AttributeName": LEASE_HASH_KEY, "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as exc:
        if error_code(exc) != "ResourceInUseException":
            raise


def lease_region(regions: tuple[str, str]) -> str:
    """The fixed region of the lease table: the alphabetically last of the pair (global tables
    anchor on the first, docs/contracts.md), whichever is primary, so a swap never moves it."""
    return sorted(regions)[-1]


def seed_lease_table(
    outputs: dict[str, Any], client_for: Callable[[str], Any], table: str, region: str
) -> LeaseRef:
    """Create the lease table in the emulator and export it as the stack would (``outputs`` is
    changed in place): for the sandbox, ``drills serve`` and the tests."""
    create_lease_table(client_for(region), table)
    ref = LeaseRef(table, region)
    outputs[LEASE_OUTPUT] = ref.to_json()
    return ref
