"""Probes that take the application's path to a store: resolve the name applications use, then
connect to the address it led to over the store's own protocol with TLS verified against the
AWS endpoint's name (issue 18 item 3).

The same code runs in the drills' sandbox (names answered by the local region pair's DNS
server) and inside each region's data VPC on AWS (the probe function of
``components/drill_probes.py``, names answered by the VPC resolver). So it imports only the
standard library and the two pure-Python clients packaged with that function: pg8000
(PostgreSQL wire protocol) and redis-py (the Redis protocol ElastiCache for Valkey speaks).

- PostgreSQL: TLS is negotiated with an SSLRequest and the certificate is checked against
  ``tls_name`` (libpq's ``sslmode=verify-full``: the chain to ``cafile``, and the host name),
  then SCRAM authentication. Aurora's certificates name the AWS endpoints, never a private
  CNAME of ours, so ``tls_name`` is the ``clientEndpoints`` host while ``name`` is
  ``writer.<zone>`` (Aurora User Guide, "Using SSL/TLS to encrypt a connection to a DB
  cluster"; docs/components.md, "Connecting with verification on").
- Redis: TLS with hostname verification, then ``AUTH <token>`` (ElastiCache "Authenticating
  with the Valkey and Redis OSS AUTH command"), then ``SET`` or ``PING``. A replica answers a
  write with ``-READONLY``.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pg8000.native
import redis
import redis.connection
from redis.backoff import NoBackoff
from redis.retry import Retry

Resolver = Callable[[str], str]
"""Name -> IPv4 address, as applications resolve it (the resolver honours the records' TTL)."""

CANARY_INSERT = (
    "INSERT INTO drill_canary (id, drill_id, region, phase, written_at) "
    "VALUES (:id, :drill_id, :region, :phase, :written_at)"
)
"""The one write the PostgreSQL probe sends (drills/canary.py's table; never DDL)."""
ROLE_QUERY = "SELECT pg_is_in_recovery()"
"""What a connect-only probe asks: true on a replica (reader), false on the writer."""
CACHE_TTL_SECONDS = 86400
"""Canary keys expire on their own (a drill that dies leaves nothing behind for long)."""


def system_resolver(name: str) -> str:
    """The host's resolver (inside a VPC: the Route 53 Resolver at the VPC's base + 2)."""
    return str(socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)[0][4][0])


@dataclass(frozen=True, slots=True)
class Outcome:
    """One probe: where the name led, whether the store answered as asked, and how long."""

    store: str
    """``aurora`` or ``cache``."""
    name: str
    """The name applications use (``writer.<zone>``, ``cache.<zone>``...)."""
    address: str
    """The address the name resolved to ("" when resolution failed)."""
    ok: bool
    error: str
    seconds: float
    path: str
    """How the probe reached the store, e.g. ``dns writer.<zone> -> postgresql tls
    verify-full``."""
    detail: str = ""
    """What the store answered: ``writer``/``reader`` for PostgreSQL, ``OK``/``PONG`` for Redis."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready (the probe function's answer, the drill's journal)."""
        return asdict(self)

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Outcome:
        """Back from :meth:`to_json` (the drill reading the probe function's answer)."""
        return Outcome(
            store=str(data["store"]),
            name=str(data["name"]),
            address=str(data.get("address") or ""),
            ok=bool(data["ok"]),
            error=str(data.get("error") or ""),
            seconds=float(data.get("seconds") or 0.0),
            path=str(data.get("path") or ""),
            detail=str(data.get("detail") or ""),
        )


def tls_context(cafile: str | None) -> ssl.SSLContext:
    """Verification on (chain and host name): the system's CAs, or ``cafile``'s only."""
    context = ssl.create_default_context(cafile=cafile)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def postgres_probe(
    name: str,
    *,
    tls_name: str,
    port: int,
    user: str,
    password: str,
    database: str,
    resolve: Resolver = system_resolver,
    cafile: str | None = None,
    timeout: float = 5.0,
    canary: Mapping[str, Any] | None = None,
) -> Outcome:
    """Connect through ``name`` with verify-full against ``tls_name``; insert ``canary`` (a row
    of ``drill_canary``: id, drill_id, region, phase, written_at) or ask the server's role."""
    started = time.monotonic()
    path = f"dns {name} -> postgresql tls verify-full {tls_name}"
    address = ""
    try:
        address = resolve(name)
        conn = connect_postgres(
            address,
            port,
            tls_name=tls_name,
            user=user,
            password=password,
            database=database,
            cafile=cafile,
            timeout=timeout,
        )
        try:
            if canary is not None:
                conn.run(CANARY_INSERT, **dict(canary))
                detail = "inserted"
            else:
                rows = conn.run(ROLE_QUERY)
                detail = "reader" if rows and rows[0][0] else "writer"
        finally:
            conn.close()
    except Exception as exc:  # every failure is an outcome: the drill reports it
        return _failed("aurora", name, address, path, started, exc)
    return Outcome("aurora", name, address, True, "", _since(started), path, detail)


def redis_probe(
    name: str,
    *,
    tls_name: str,
    port: int,
    token: str | None,
    resolve: Resolver = system_resolver,
    cafile: str | None = None,
    timeout: float = 5.0,
    key: str | None = None,
    value: str = "",
) -> Outcome:
    """Connect through ``name`` with TLS verified against ``tls_name``, ``AUTH``, then ``SET
    key value`` (a write: refused by a replica) or ``PING``."""
    started = time.monotonic()
    path = f"dns {name} -> redis tls {tls_name}" + (" auth" if token else "")
    address = ""
    try:
        address = resolve(name)
        client = connect_redis(
            address, port, tls_name=tls_name, token=token, cafile=cafile, timeout=timeout
        )
        try:
            if key is not None:
                client.set(key, value, ex=CACHE_TTL_SECONDS)
                detail = "OK"
            else:
                client.ping()
                detail = "PONG"
        finally:
            client.connection_pool.disconnect()
    except Exception as exc:  # every failure is an outcome: the drill reports it
        return _failed("cache", name, address, path, started, exc)
    return Outcome("cache", name, address, True, "", _since(started), path, detail)


# -- the wire protocols (the drills' sessions, drills/apppath.py, open theirs with these) --


def connect_postgres(
    address: str,
    port: int,
    *,
    tls_name: str,
    user: str,
    password: str,
    database: str,
    cafile: str | None,
    timeout: float,
) -> pg8000.native.Connection:
    """A session to the server at ``address`` (what the name resolved to): TLS negotiated
    with an SSLRequest and verified against ``tls_name`` (``verify-full``), then SCRAM."""
    sock = socket.create_connection((address, port), timeout=timeout)
    try:
        # pg8000 sends the SSLRequest on this socket and wraps it with server_hostname=host
        return pg8000.native.Connection(
            user,
            host=tls_name,
            port=port,
            database=database,
            password=password,
            sock=sock,
            ssl_context=tls_context(cafile),
            timeout=timeout,
        )
    except BaseException:
        sock.close()
        raise


def postgres_software(conn: pg8000.native.Connection) -> tuple[str, str]:
    """(engine, version) of the server behind ``conn``: Aurora PostgreSQL names itself
    (Aurora User Guide, ``aurora_version()``); plain PostgreSQL has no such function."""
    version = str(conn.parameter_statuses.get("server_version", "")) or "unknown"
    try:
        (row,) = conn.run("SELECT aurora_version()")
    except pg8000.native.DatabaseError:
        return "postgresql", version
    return "aurora-postgresql", f"{version} (aurora {row[0]})"


def connect_redis(
    address: str,
    port: int,
    *,
    tls_name: str,
    token: str | None,
    cafile: str | None,
    timeout: float,
) -> redis.Redis:
    """A client of the server at ``address``: TLS verified against ``tls_name``, ``AUTH``
    with ``token``, one connection kept between commands, nothing else sent on connecting
    (redis-py would name itself with two ``CLIENT SETINFO``). No retries: redis-py retries a
    failed command three times with backoff by default, which would hide the failure a probe
    exists to see and stretch its duration."""
    pool = redis.ConnectionPool(
        connection_class=_DialedSSLConnection,
        address=address,
        host=tls_name,
        port=port,
        password=token,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        ssl_cert_reqs="required",
        ssl_check_hostname=True,
        ssl_ca_certs=cafile,
        retry=Retry(NoBackoff(), 0),
        driver_info=None,  # no CLIENT SETINFO round trips on every (re)connect
    )
    return redis.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))


def redis_software(client: redis.Redis) -> tuple[str, str]:
    """(engine, version) from ``INFO server``: Valkey reports ``valkey_version``."""
    info: dict[str, Any] = client.info("server")
    if "valkey_version" in info:
        return "valkey", str(info["valkey_version"])
    return "redis", str(info.get("redis_version", "unknown"))


class _DialedSSLConnection(redis.connection.SSLConnection):
    """An SSL connection that dials the address the name resolved to and verifies the
    certificate against the endpoint's own name (redis-py dials ``host`` and verifies
    ``host``; the two differ when the name applications use is a CNAME of ours)."""

    def __init__(self, *, address: str, **kwargs: Any) -> None:
        self.address = address
        super().__init__(**kwargs)

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(
            (self.address, self.port), timeout=self.socket_connect_timeout
        )
        sock.settimeout(self.socket_timeout)
        try:
            # redis-py 8.1's own wrapping: server_hostname=self.host, the endpoint's name
            return self._wrap_socket_with_ssl(sock)  # type: ignore[no-untyped-call,no-any-return]
        except BaseException:
            sock.close()
            raise


def _since(started: float) -> float:
    return round(time.monotonic() - started, 6)


def _failed(
    store: str, name: str, address: str, path: str, started: float, exc: Exception
) -> Outcome:
    return Outcome(
        store, name, address, False, f"{type(exc).__name__}: {exc}", _since(started), path
    )
