"""The RDS Data API, as strict as AWS where the drills depend on it and no wider than they need.

What AWS refuses, the emulator refuses:

- a cluster without the HTTP endpoint: ``HttpEndpointNotEnabledException`` (RDS API Reference,
  ``EnableHttpEndpoint``; RDS Data API errors);
- a cluster without an available writer instance, which includes every secondary cluster of a
  global database until it is promoted, reads too: ``DatabaseUnavailableException`` (Aurora
  User Guide, "Limitations for the Amazon RDS Data API");
- a change on a writer that is fenced during a switchover: PostgreSQL's read-only error.

What the drills send is all it understands (issue 9: "insert, select by id and delete"):
``INSERT INTO t (c, ...) VALUES (:p, ...)``, ``SELECT c, ... FROM t WHERE c = :p`` and
``DELETE FROM t WHERE c = :p``, every value a named parameter. Anything else (DDL, joins,
functions, literals) is answered with ``BadRequestException`` naming the statement and what is
accepted, so a drill that starts sending something new fails here before it fails on AWS. The
tables themselves are the database's schema (created by the seed, as migrations would).
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

import pg8000.native
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.rds.exceptions import RDSClientError
from moto.rds.responses import RDSResponse
from moto.rdsdata.responses import RDSDataServiceResponse

from .aurora import aurora_data, find_cluster_by_arn
from .state import STATE, patch

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_COLUMNS = rf"{_IDENT}(?:\s*,\s*{_IDENT})*"
_PARAMS = rf":{_IDENT}(?:\s*,\s*:{_IDENT})*"
_END = r"\s*;?\s*$"
_INSERT = re.compile(
    rf"^\s*INSERT\s+INTO\s+(?P<table>{_IDENT})\s*\((?P<columns>{_COLUMNS})\)\s*"
    rf"VALUES\s*\((?P<values>{_PARAMS})\){_END}",
    re.IGNORECASE,
)
_SELECT = re.compile(
    rf"^\s*SELECT\s+(?P<columns>{_COLUMNS})\s+FROM\s+(?P<table>{_IDENT})\s+"
    rf"WHERE\s+(?P<key>{_IDENT})\s*=\s*:(?P<param>{_IDENT}){_END}",
    re.IGNORECASE,
)
_DELETE = re.compile(
    rf"^\s*DELETE\s+FROM\s+(?P<table>{_IDENT})\s+WHERE\s+(?P<key>{_IDENT})\s*=\s*:(?P<param>{_IDENT}){_END}",
    re.IGNORECASE,
)
ACCEPTED = (
    "INSERT INTO <table> (<columns>) VALUES (<:params>), "
    "SELECT <columns> FROM <table> WHERE <column> = :<param>, "
    "DELETE FROM <table> WHERE <column> = :<param>"
)


class DataApiError(ServiceException):
    """An RDS Data API error, serialized by moto in the service's protocol."""


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement the emulated Data API accepts, rebuilt from validated parts."""

    kind: str
    """``insert``, ``select`` or ``delete``."""
    sql: str
    """The statement as SQLite runs it (identifiers checked, values bound by name)."""

    @property
    def mutating(self) -> bool:
        """Whether it changes data (a writer must be writable for it)."""
        return self.kind != "select"


def _split(text: str) -> list[str]:
    return [part.strip().lstrip(":") for part in text.split(",")]


def parse(sql: str, params: dict[str, Any]) -> Statement:
    """The :class:`Statement` of ``sql``, or ``BadRequestException`` naming what is accepted."""
    insert = _INSERT.match(sql)
    if insert:
        columns, values = _split(insert["columns"]), _split(insert["values"])
        if len(columns) != len(values):
            raise DataApiError(
                "BadRequestException",
                f"INSERT names {len(columns)} columns and {len(values)} values: {sql}",
            )
        _require(params, values, sql)
        binds = ", ".join(f":{v}" for v in values)
        return Statement(
            "insert", f"INSERT INTO {insert['table']} ({', '.join(columns)}) VALUES ({binds})"
        )
    select = _SELECT.match(sql)
    if select:
        _require(params, [select["param"]], sql)
        wanted = ", ".join(_split(select["columns"]))
        return Statement(
            "select",
            f"SELECT {wanted} FROM {select['table']} WHERE {select['key']} = :{select['param']}",
        )
    delete = _DELETE.match(sql)
    if delete:
        _require(params, [delete["param"]], sql)
        return Statement(
            "delete", f"DELETE FROM {delete['table']} WHERE {delete['key']} = :{delete['param']}"
        )
    raise DataApiError(
        "BadRequestException",
        f"the emulated RDS Data API accepts only what the drills send ({ACCEPTED}); got: {sql}",
    )


_SCALARS = ("stringValue", "longValue", "doubleValue", "booleanValue")


def _field(value: Any) -> dict[str, Any]:
    """A column value as the Data API's ``Field`` (a union: exactly one member is set)."""
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _parameter(name: str, field: dict[str, Any]) -> Any:
    """A ``SqlParameter``'s value; a member this emulator does not execute (blob, array) or a
    union with none or several members set is refused, as AWS refuses a malformed union."""
    members = [k for k in field if k in (*_SCALARS, "isNull", "blobValue", "arrayValue")]
    if len(members) != 1 or members[0] in ("blobValue", "arrayValue"):
        raise DataApiError(
            "BadRequestException",
            f"parameter {name}: value {field!r}; allowed: exactly one of "
            f"{', '.join((*_SCALARS, 'isNull'))}",
        )
    return None if members[0] == "isNull" else field[members[0]]


def _require(params: dict[str, Any], names: list[str], sql: str) -> None:
    missing = [n for n in names if n not in params]
    if missing:
        raise DataApiError(
            "BadRequestException", f"no value for parameter(s) {', '.join(missing)} in: {sql}"
        )


def _execute_statement(self: Any) -> str:
    body = json.loads(self.body or "{}")
    arn = body.get("resourceArn", "")
    sql = body.get("sql", "")
    params = {
        p["name"]: _parameter(p["name"], p.get("value", {})) for p in body.get("parameters", [])
    }
    try:
        cluster = find_cluster_by_arn(arn)
    except RDSClientError as exc:
        raise DataApiError("BadRequestException", f"Resource {arn} not found") from exc
    if cluster.region != self.region:
        raise DataApiError("BadRequestException", f"Resource {arn} is not in {self.region}")
    data = aurora_data()
    if not cluster.http_endpoint_enabled:
        raise DataApiError(
            "HttpEndpointNotEnabledException",
            f"HttpEndpoint is not enabled for cluster {cluster.db_cluster_identifier}.",
        )
    if data.global_of(cluster) is not None and not cluster.is_writer:
        raise DataApiError(
            "DatabaseUnavailableException",
            f"The writer instance in the DB cluster {cluster.db_cluster_identifier} isn't "
            "available: it is a secondary cluster of a global database.",
        )
    status = data.cluster_status.get(cluster.db_cluster_arn, "available")
    members = cluster.members
    if (
        status != "available"
        or not members
        or all(getattr(m, "status", "available") != "available" for m in members)
    ):
        raise DataApiError("DatabaseUnavailableException", "The writer instance isn't available.")
    statement = parse(sql, params)
    plane = STATE.data_plane
    if plane is not None and plane.carries_cluster(cluster.db_cluster_arn):
        return _execute_on_server(plane, data, cluster, statement, params)
    try:
        if statement.mutating:
            if not data.writable(cluster):
                raise DataApiError(
                    "DatabaseErrorException",
                    f"ERROR: cannot execute {statement.kind.upper()} in a read-only transaction",
                )
            changed = data.execute_write(cluster, statement.sql, params)
            return json.dumps({"records": [], "numberOfRecordsUpdated": changed})
        columns, rows = data.store(cluster).query(statement.sql, params)
    except sqlite3.Error as exc:
        message = str(exc)
        missing = re.match(r"no such table: (\S+)", message)
        if missing:
            message = f'relation "{missing.group(1)}" does not exist'
        raise DataApiError("DatabaseErrorException", f"ERROR: {message}") from exc
    return json.dumps(
        {
            "records": [[_field(v) for v in row] for row in rows],
            "columnMetadata": [{"name": c} for c in columns],
            "numberOfRecordsUpdated": 0,
        }
    )


def _execute_on_server(
    plane: Any, data: Any, cluster: Any, statement: Statement, params: dict[str, Any]
) -> str:
    """Run the statement on the region's real PostgreSQL server (the stack is bound to the
    region pair): what it answers is the answer. A change is also kept in the emulator's log
    of the cluster, which point-in-time restores replay."""
    if statement.mutating and not data.writable(cluster):
        raise DataApiError(
            "DatabaseErrorException",
            f"ERROR: cannot execute {statement.kind.upper()} in a read-only transaction",
        )
    try:
        columns, rows, changed = plane.execute(cluster.region, statement.sql, params)
    except pg8000.native.DatabaseError as exc:
        detail = exc.args[0] if exc.args else {}
        message = detail.get("M", str(exc)) if isinstance(detail, dict) else str(exc)
        raise DataApiError("DatabaseErrorException", f"ERROR: {message}") from exc
    except (pg8000.native.InterfaceError, OSError) as exc:
        raise DataApiError(
            "DatabaseUnavailableException", f"The writer instance isn't available: {exc}"
        ) from exc
    if statement.mutating:
        data.execute_write(cluster, statement.sql, params)
        return json.dumps({"records": [], "numberOfRecordsUpdated": changed})
    return json.dumps(
        {
            "records": [[_field(v) for v in row] for row in rows],
            "columnMetadata": [{"name": c} for c in columns],
            "numberOfRecordsUpdated": 0,
        }
    )


def _enable_http_endpoint(self: Any) -> ActionResult:
    arn = self.params["ResourceArn"]
    cluster = find_cluster_by_arn(arn)
    cluster._enable_http_endpoint = True  # moto allows it only on Serverless v1
    return ActionResult({"ResourceArn": arn, "HttpEndpointEnabled": True})


def _disable_http_endpoint(self: Any) -> ActionResult:
    arn = self.params["ResourceArn"]
    cluster = find_cluster_by_arn(arn)
    cluster._enable_http_endpoint = False
    return ActionResult({"ResourceArn": arn, "HttpEndpointEnabled": False})


def install() -> None:
    """Install the Data API and the HTTP endpoint switches on moto's responses."""
    patch(RDSResponse, "enable_http_endpoint", _enable_http_endpoint)
    patch(RDSResponse, "disable_http_endpoint", _disable_http_endpoint)
    patch(RDSDataServiceResponse, "execute_statement", _execute_statement)
