"""Canary records: small writes whose survival proves (or disproves) the recovery point.

Aurora canaries go through the RDS Data API (``rds-data execute_statement``) into a
``drill_canary`` table, with three statements only: an insert, a select by id (the drill's id,
or one canary's) and a delete. The table is part of the database's schema, created once
(:data:`CANARY_SCHEMA`, docs/drills.md "The canary table"); the drill never sends DDL, and a
precondition refuses when the table is missing. DynamoDB canaries are items with a ``drill#<id>#<n>`` key (and the
table's TTL attribute, so a drill that dies before cleanup leaves nothing behind for long).
Every attempt, successful or not, is appended to the drill's ``canaries.jsonl`` as it happens,
so RPO is counted from what was acknowledged even across a crash.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .aws import AwsClients, error_code
from .errors import RegionUnavailableError

CANARY_TABLE = "drill_canary"
CANARY_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {CANARY_TABLE} ("
    "id TEXT PRIMARY KEY, drill_id TEXT NOT NULL, region TEXT NOT NULL, "
    "phase TEXT NOT NULL, written_at DOUBLE PRECISION NOT NULL)"
)


@dataclass(frozen=True, slots=True)
class Canary:
    """One canary write attempt."""

    id: str
    store: str
    """``aurora`` or ``dynamodb``."""
    region: str
    phase: str
    """Which measurement it belongs to (e.g. ``switch``, ``failback``, ``pitr``)."""
    written_at: float
    ok: bool
    error: str = ""
    target: str = ""
    """Table name (DynamoDB) or cluster identifier (Aurora)."""
    duration: float = 0.0
    """Seconds the write took (acknowledged at ``written_at + duration``)."""

    @property
    def acked_at(self) -> float:
        """When the write was acknowledged (or failed)."""
        return self.written_at + self.duration


class CanaryLog:
    """Append-only JSON lines of canary attempts, safe to read after a crash."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.records: list[Canary] = []
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    try:
                        self.records.append(Canary(**json.loads(line)))
                    except (TypeError, json.JSONDecodeError):
                        continue  # a torn last line after a crash

    def add(self, canary: Canary) -> Canary:
        """Record one attempt (flushed immediately)."""
        with self._lock:
            self.records.append(canary)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(asdict(canary)) + "\n")
        return canary

    def acknowledged(self, phase: str, store: str) -> list[Canary]:
        """Successful writes of one phase and store."""
        with self._lock:
            return [c for c in self.records if c.ok and c.phase == phase and c.store == store]

    def attempts(self, phase: str | None = None) -> list[Canary]:
        """Every attempt (of one phase)."""
        with self._lock:
            return [c for c in self.records if phase is None or c.phase == phase]


class PhaseRun:
    """One phase as a step sees it: where it moves (its ``from`` and ``to``, fixed when the
    drill was created), its persisted record, its stores' measurements and its canaries.

    A step opens it once and hands it forward (to the store's move, the probes, the figures),
    so the phase is looked up in one place rather than by name wherever it is used."""

    def __init__(self, state: dict[str, Any], log: CanaryLog, name: str) -> None:
        phases: dict[str, dict[str, Any]] = state.setdefault("phases", {})
        self.name = name
        self.record: dict[str, Any] = phases.setdefault(name, {})
        """Persisted: the journal saves it with the drill's state."""
        self.src = str(self.record.get("from", ""))
        self.dst = str(self.record.get("to", ""))
        self._measurements: dict[str, dict[str, Any]] = state.setdefault("measurements", {})
        self._log = log

    @property
    def region_lost(self) -> bool:
        """The phase declared its source region lost (RTO runs from the last contact)."""
        return self.record.get("fault") == "primary region lost"

    def measurement(self, store: str) -> dict[str, Any]:
        """The persisted measurement of one store (``aurora``, ``dynamodb:<table>``...)."""
        key = f"{self.name}:{store}"
        return self._measurements.setdefault(key, {"phase": self.name, "store": store})

    def attempts(self, store: str | None = None, table: str | None = None) -> list[Canary]:
        """This phase's canary attempts (of one store, of one table)."""
        return [
            c
            for c in self._log.attempts(self.name)
            if (store is None or c.store == store) and (table is None or c.target == table)
        ]

    def acknowledged(
        self, store: str, *, region: str | None = None, table: str | None = None
    ) -> list[Canary]:
        """The acknowledged ones (written in ``region``)."""
        return [
            c
            for c in self.attempts(store, table)
            if c.ok and (region is None or c.region == region)
        ]


def _describe_error(exc: BaseException) -> str:
    code = error_code(exc)
    return f"{code}: {exc}" if code else f"{type(exc).__name__}: {exc}"


class AuroraCanaries:
    """Canary reads and writes through the RDS Data API."""

    def __init__(
        self, aws: AwsClients, drill_id: str, database: str, secret_for: Callable[[str], str]
    ) -> None:
        self.aws = aws
        self.drill_id = drill_id
        self.database = database
        self.secret_for = secret_for

    def execute(
        self,
        region: str,
        arn: str,
        sql: str,
        params: dict[str, Any] | None = None,
        *,
        retries: bool = True,
    ) -> dict[str, Any]:
        """One Data API statement against the cluster ``arn`` in ``region``."""
        parameters = [{"name": k, "value": data_api_field(v)} for k, v in (params or {}).items()]
        return self.aws.call(
            "rds-data",
            region,
            "execute_statement",
            retries=retries,
            resourceArn=arn,
            secretArn=self.secret_for(region),
            database=self.database,
            sql=sql,
            parameters=parameters,
        )

    def write(self, region: str, arn: str, canary_id: str, phase: str, target: str = "") -> Canary:
        """Insert one canary; failures are returned, not raised."""
        now = time.time()
        try:
            self.execute(
                region,
                arn,
                f"INSERT INTO {CANARY_TABLE} (id, drill_id, region, phase, written_at) "
                "VALUES (:id, :drill_id, :region, :phase, :written_at)",
                {
                    "id": canary_id,
                    "drill_id": self.drill_id,
                    "region": region,
                    "phase": phase,
                    "written_at": now,
                },
                retries=False,
            )
        except (ClientError, BotoCoreError, RegionUnavailableError) as exc:
            took = time.time() - now
            return Canary(
                canary_id, "aurora", region, phase, now, False, _describe_error(exc), target, took
            )
        return Canary(canary_id, "aurora", region, phase, now, True, "", target, time.time() - now)

    def present(self, region: str, arn: str) -> set[str]:
        """Ids of this drill's canaries readable in the cluster ``arn`` (none while the canary
        table itself has not replicated there yet)."""
        try:
            result = self.execute(
                region,
                arn,
                f"SELECT id FROM {CANARY_TABLE} WHERE drill_id = :drill_id",
                {"drill_id": self.drill_id},
            )
        except ClientError as exc:
            if error_code(exc) == "DatabaseErrorException" and "does not exist" in str(exc):
                return set()
            raise
        return {str(data_api_value(row[0])) for row in result.get("records", [])}

    def delete(self, region: str, arn: str, ids: Iterable[str] | None = None) -> int:
        """Delete some (or all) of this drill's canaries on the writer."""
        if ids is None:
            result = self.execute(
                region,
                arn,
                f"DELETE FROM {CANARY_TABLE} WHERE drill_id = :drill_id",
                {"drill_id": self.drill_id},
            )
            return int(result.get("numberOfRecordsUpdated", 0))
        count = 0
        for canary_id in ids:
            result = self.execute(
                region, arn, f"DELETE FROM {CANARY_TABLE} WHERE id = :id", {"id": canary_id}
            )
            count += int(result.get("numberOfRecordsUpdated", 0))
        return count

    def table_exists(self, region: str, arn: str) -> bool:
        """Whether the canary table exists on the writer ``arn`` (a select by id that finds
        nothing; PostgreSQL's "relation does not exist" otherwise)."""
        try:
            self.execute(
                region,
                arn,
                f"SELECT id FROM {CANARY_TABLE} WHERE id = :id",
                {"id": "schema-probe"},
                retries=False,
            )
        except ClientError as exc:
            if error_code(exc) == "DatabaseErrorException" and "does not exist" in str(exc):
                return False
            raise
        return True

    def answers_as_writer(self, region: str, arn: str) -> bool:
        """Whether the cluster ``arn`` has a writer the Data API reaches: a select by id
        succeeds on a writer and is refused with ``DatabaseUnavailableException`` on a
        secondary of a global database (Aurora User Guide, "Limitations for the Amazon RDS
        Data API"), so the data plane names the writers without reading anything else."""
        try:
            self.execute(
                region,
                arn,
                f"SELECT id FROM {CANARY_TABLE} WHERE id = :id",
                {"id": "writer-probe"},
                retries=False,
            )
        except ClientError as exc:
            code = error_code(exc)
            if code == "DatabaseUnavailableException":
                return False
            if code == "DatabaseErrorException" and "does not exist" in str(exc):
                return True  # a writer answered (the missing table is a precondition's job)
            raise
        return True


class DynamoCanaries:
    """Canary items in one DynamoDB global table."""

    def __init__(self, aws: AwsClients, drill_id: str, table: str) -> None:
        self.aws = aws
        self.drill_id = drill_id
        self.table = table
        self._schema: tuple[str, str | None, str | None] | None = None

    def schema(self, region: str) -> tuple[str, str | None, str | None]:
        """(hash key, range key, TTL attribute) of the table."""
        if self._schema is None:
            desc = self.aws.call("dynamodb", region, "describe_table", TableName=self.table)[
                "Table"
            ]
            hash_key = next(k["AttributeName"] for k in desc["KeySchema"] if k["KeyType"] == "HASH")
            range_key = next(
                (k["AttributeName"] for k in desc["KeySchema"] if k["KeyType"] == "RANGE"), None
            )
            ttl = self.aws.call("dynamodb", region, "describe_time_to_live", TableName=self.table)
            spec = ttl.get("TimeToLiveDescription", {})
            ttl_attr = (
                spec.get("AttributeName") if spec.get("TimeToLiveStatus") == "ENABLED" else None
            )
            self._schema = (hash_key, range_key, ttl_attr)
        return self._schema

    def key(self, region: str, canary_id: str) -> dict[str, Any]:
        """The item key of a canary."""
        hash_key, range_key, _ = self.schema(region)
        key: dict[str, Any] = {hash_key: {"S": f"drill#{self.drill_id}#{canary_id}"}}
        if range_key:
            key[range_key] = {"S": "canary"}
        return key

    def write(self, region: str, canary_id: str, phase: str, table: str | None = None) -> Canary:
        """Put one canary item; failures are returned, not raised."""
        name = table or self.table
        now = time.time()
        try:
            item = dict(self.key(region, canary_id))
            item["drillId"] = {"S": self.drill_id}
            item["canaryRegion"] = {"S": region}
            item["phase"] = {"S": phase}
            item["writtenAt"] = {"N": f"{now:.6f}"}
            ttl_attr = self.schema(region)[2]
            if ttl_attr:
                item[ttl_attr] = {"N": str(int(now) + 86400)}
            self.aws.call("dynamodb", region, "put_item", retries=False, TableName=name, Item=item)
        except (ClientError, BotoCoreError, RegionUnavailableError) as exc:
            took = time.time() - now
            return Canary(
                canary_id, "dynamodb", region, phase, now, False, _describe_error(exc), name, took
            )
        return Canary(canary_id, "dynamodb", region, phase, now, True, "", name, time.time() - now)

    def present(self, region: str, ids: Iterable[str], table: str | None = None) -> set[str]:
        """Which of ``ids`` are readable in ``region`` (strongly consistent reads)."""
        name = table or self.table
        wanted = list(ids)
        found: set[str] = set()
        by_key = {json.dumps(self.key(region, i), sort_keys=True): i for i in wanted}
        for start in range(0, len(wanted), 100):
            keys = [self.key(region, i) for i in wanted[start : start + 100]]
            request: dict[str, Any] = {name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                result = self.aws.call("dynamodb", region, "batch_get_item", RequestItems=request)
                hash_key, range_key, _ = self.schema(region)
                for item in result.get("Responses", {}).get(name, []):
                    key = {hash_key: item[hash_key]}
                    if range_key:
                        key[range_key] = item[range_key]
                    canary = by_key.get(json.dumps(key, sort_keys=True))
                    if canary is not None:
                        found.add(canary)
                request = result.get("UnprocessedKeys") or {}
        return found

    def delete(self, region: str, ids: Iterable[str], table: str | None = None) -> None:
        """Delete canary items (batched)."""
        name = table or self.table
        wanted = list(ids)
        for start in range(0, len(wanted), 25):
            request: dict[str, Any] = {
                name: [
                    {"DeleteRequest": {"Key": self.key(region, i)}}
                    for i in wanted[start : start + 25]
                ]
            }
            while request:
                result = self.aws.call("dynamodb", region, "batch_write_item", RequestItems=request)
                request = result.get("UnprocessedItems") or {}


class CanaryWriter:
    """Writes canaries in the background while an action runs (the RTO probe)."""

    def __init__(
        self,
        log: CanaryLog,
        write_one: Callable[[int], list[Canary]],
        interval: float,
        first_index: int = 0,
    ) -> None:
        self._log = log
        self._write_one = write_one
        self._interval = interval
        self._stop = threading.Event()
        self._index = first_index
        self._thread = threading.Thread(target=self._run, name="canary-writer", daemon=True)
        self._attempted = threading.Event()
        self._wake = threading.Event()
        self.errors: list[str] = []

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for canary in self._write_one(self._index):
                    self._log.add(canary)
            except Exception as exc:  # keep writing; the failure is part of the measurement
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self._attempted.set()
            self._index += 1
            self._wake.wait(self._interval)
            self._wake.clear()

    def nudge(self) -> None:
        """Write the next canary now instead of at the end of the interval (once; the cadence
        then resumes): called when the control plane says a move is done, as an application
        that retries at once would, so the takeover is not measured up to an interval late."""
        self._wake.set()

    def first_attempted(self, within: float) -> bool:
        """Wait, at most ``within`` seconds, until the first write has ended (acknowledged or
        not). A move requested after it has a write of its own just before the request in the
        log, so the RPO's blind window starts there, not at the store's previous write in an
        earlier step (issue 18 item 4: "the last acknowledged canary before the fault")."""
        return self._attempted.wait(within)

    def __enter__(self) -> CanaryWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop writing and wait for the current write."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()


def data_api_field(value: Any) -> dict[str, Any]:
    """A Python value as an RDS Data API ``Field`` (the union of typed value members)."""
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def data_api_value(field_value: dict[str, Any]) -> Any:
    """The Python value of an RDS Data API ``Field`` (None for ``isNull`` or an unread type)."""
    if field_value.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "doubleValue", "booleanValue"):
        if key in field_value:
            return field_value[key]
    return None
