"""The drill's side of the application's path to a store: a name resolved through the
network's resolver with its TTLs honoured, and sessions kept open between writes as an
application's pool keeps them. The wire protocols (TLS ``verify-full``, the PostgreSQL and
Redis handshakes, which server answered) are the probe function's own code,
:mod:`components.functions.app_probes`: the same code runs in the sandbox and inside the VPC on
AWS (issue 18 item 3). This module imports no drill engine, boto3 or emulator either. What
differs between places is configuration (:class:`AppPath`): which resolver
(the region pair's DNS server on 127.0.0.1; on AWS the VPC resolver, 169.254.169.253:53, the
"Amazon DNS server" of the Amazon VPC User Guide, "DNS attributes for your VPC") and which CA
bundle verifies the servers (the region pair's local CA; on AWS RDS's global bundle, "Using
SSL/TLS to encrypt a connection to a DB cluster", and the public roots for ElastiCache).

- Aurora: ``pg8000`` over the PostgreSQL wire protocol to the global writer endpoint (the name
  ``clientEndpoints.writer`` exports; ``writer.<zone>`` is a private CNAME to it, which
  ``sslmode=verify-full`` cannot verify, docs/components.md "Connecting with verification
  on"), TLS with the hostname checked against that name, as the master user.
- Cache: ``cache.<zone>`` resolved to the replication group's primary endpoint it leads to
  (Route 53 answers by health), then the Redis protocol over TLS verified against that
  endpoint's name,
  ``AUTH`` with the token (ElastiCache User Guide, "Authenticating with the Valkey and Redis
  OSS AUTH command").

Sessions are kept open between writes, as an application's pool keeps them, and dropped on the
first error: the next write resolves the name again, through the resolver's cache, so a moved
name is followed only once its TTL has run out, exactly when an application follows it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pg8000.native
import redis
from dnslib import QTYPE, RCODE, DNSRecord

from components.functions import app_probes

VPC_RESOLVER = "169.254.169.253:53"
"""The Amazon-provided DNS server as seen from inside a VPC (the probe function's resolver)."""


class ResolveError(OSError):
    """The name did not resolve (NXDOMAIN, no address, or the resolver did not answer)."""


class StoreWriteError(Exception):
    """The store refused the write (``-READONLY``, a read-only transaction...) or closed."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A resolver's answer: the address, the CNAME chain that led to it, its smallest TTL."""

    name: str
    address: str
    chain: tuple[str, ...]
    ttl: int
    resolved_at: float
    """When the resolver asked (its own clock): the answer is reused until ``+ ttl``."""


def query(name: str, server: tuple[str, int], timeout: float = 2.0, at: float = 0.0) -> Answer:
    """One UDP query for ``name``'s address (what a stub resolver sends)."""
    request = DNSRecord.question(name.rstrip(".") + ".", "A")
    try:
        packet = request.send(server[0], server[1], timeout=timeout)
    except OSError as exc:
        raise ResolveError(f"{name}: no answer from DNS {server[0]}:{server[1]}: {exc}") from exc
    reply = DNSRecord.parse(packet)
    if reply.header.rcode != RCODE.NOERROR:
        raise ResolveError(f"{name}: {RCODE[reply.header.rcode]} from {server[0]}:{server[1]}")
    chain = tuple(str(rr.rname).rstrip(".").lower() for rr in reply.rr)
    addresses = [str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A]
    if not addresses:
        raise ResolveError(f"{name}: no address from {server[0]}:{server[1]}")
    return Answer(name, addresses[0], chain, min(int(rr.ttl) for rr in reply.rr), at)


class Resolver:
    """A stub resolver that honours TTLs: an answer is reused until its smallest TTL runs out,
    as an application's resolver (or the VPC resolver's cache) reuses it, so RTO includes the
    time an application keeps dialing the old address after a name moved."""

    def __init__(
        self, server: tuple[str, int], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.server = server
        self.clock = clock
        self._cache: dict[str, Answer] = {}
        self._lock = threading.Lock()

    def resolve(self, name: str, timeout: float = 2.0) -> Answer:
        """``name``'s answer: the cached one while its TTL lasts, else a fresh query."""
        key = name.rstrip(".").lower()
        now = self.clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and now < cached.resolved_at + cached.ttl:
                return cached
        answer = query(key, self.server, timeout, at=now)
        with self._lock:
            self._cache[key] = answer
        return answer


_RESOLVERS: dict[tuple[str, int], Resolver] = {}
_RESOLVERS_LOCK = threading.Lock()


def shared_resolver(server: tuple[str, int]) -> Resolver:
    """The process's resolver for ``server`` (one cache per process, as a host's resolver
    cache is shared by its connections)."""
    with _RESOLVERS_LOCK:
        if server not in _RESOLVERS:
            _RESOLVERS[server] = Resolver(server)
        return _RESOLVERS[server]


def install_resolver(resolver: Resolver) -> Resolver | None:
    """Make ``resolver`` the process's resolver for its server (tests give it their clock);
    returns the one it replaces."""
    with _RESOLVERS_LOCK:
        old = _RESOLVERS.get(resolver.server)
        _RESOLVERS[resolver.server] = resolver
        return old


@dataclass(frozen=True, slots=True)
class AppPath:
    """Where the application's path starts: the resolver and the CA bundle that verifies."""

    dns_server: tuple[str, int]
    ca_file: str | None = None
    """PEM bundle the servers' certificates chain to (None: the system's trust store)."""

    @classmethod
    def parse(cls, dns_server: str, ca_file: str = "") -> AppPath | None:
        """From the drill settings ``dns_server`` ("host:port"; "" = no application path)
        and ``ca_file``; a malformed value is refused naming the key."""
        if not dns_server:
            return None
        host, sep, port = dns_server.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(
                f"setting 'dns_server' has value {dns_server!r}; allowed: host:port "
                f"(e.g. {VPC_RESOLVER}, the VPC resolver), or empty for no application path"
            )
        return cls((host, int(port)), ca_file or None)

    @property
    def resolver(self) -> Resolver:
        """The process's TTL-honouring resolver for :attr:`dns_server`."""
        return shared_resolver(self.dns_server)

    def describe_dns(self) -> str:
        """``host:port`` of the resolver."""
        return f"{self.dns_server[0]}:{self.dns_server[1]}"


@dataclass(frozen=True, slots=True)
class Reached:
    """What a write went through: the name dialed, the chain, the server and its software."""

    name: str
    verified_as: str
    address: str
    chain: tuple[str, ...]
    ttl: int
    engine: str
    version: str

    def evidence(self) -> dict[str, str]:
        """report.json's ``data_plane`` entry of the store."""
        return {"engine": self.engine, "version": self.version, "address": self.address}


@dataclass(slots=True)
class PostgresSession:
    """One session through ``host`` (resolved by the path's resolver, TLS ``verify-full``
    against ``host``), kept between writes and dropped on any error."""

    path: AppPath
    host: str
    port: int
    user: str
    password: str
    database: str
    timeout: float
    _conn: pg8000.native.Connection | None = None
    _reached: Reached | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _connect(self) -> tuple[pg8000.native.Connection, Reached]:
        answer = self.path.resolver.resolve(self.host, self.timeout)
        conn = app_probes.connect_postgres(
            answer.address,
            self.port,
            tls_name=self.host,
            user=self.user,
            password=self.password,
            database=self.database,
            cafile=self.path.ca_file,
            timeout=self.timeout,
        )
        try:
            engine, version = app_probes.postgres_software(conn)
        except BaseException:
            conn.close()
            raise
        reached = Reached(
            self.host,
            self.host,
            f"{answer.address}:{self.port}",
            answer.chain,
            answer.ttl,
            engine,
            version,
        )
        return conn, reached

    def open(self) -> Reached:
        """The session's server (connecting through the name first when needed)."""
        with self._lock:
            try:
                if self._conn is None:
                    self._conn, self._reached = self._connect()
            except BaseException:
                self.close()
                raise
            assert self._reached is not None
            return self._reached

    def run(self, sql: str, **params: Any) -> Reached:
        """One statement; raises (and drops the session) on any failure."""
        self.open()
        with self._lock:
            try:
                assert self._conn is not None
                self._conn.run(sql, **params)
            except BaseException:
                self.close()
                raise
            assert self._reached is not None
            return self._reached

    def close(self) -> None:
        """Drop the session (the next statement resolves the name again)."""
        conn, self._conn, self._reached = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a session dropped because it broke
                conn.close()


@dataclass(slots=True)
class RedisSession:
    """One connection through a name (resolved by the path's resolver) to the endpoint it
    leads to, TLS verified against that endpoint's name, ``AUTH`` once; kept between commands
    and dropped on any error."""

    path: AppPath
    name: str
    port: int
    token: str | None
    timeout: float
    accept: Callable[[Answer], str] = lambda answer: answer.chain[-1]
    """The AWS name to verify against, chosen from the answer (refuses by raising)."""
    _client: redis.Redis | None = None
    _reached: Reached | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _connect(self) -> tuple[redis.Redis, Reached]:
        answer = self.path.resolver.resolve(self.name, self.timeout)
        verified = self.accept(answer)
        client = app_probes.connect_redis(
            answer.address,
            self.port,
            tls_name=verified,
            token=self.token,
            cafile=self.path.ca_file,
            timeout=self.timeout,
        )
        try:
            engine, version = app_probes.redis_software(client)  # connects and AUTHs
        except BaseException:
            client.connection_pool.disconnect()
            raise
        reached = Reached(
            self.name,
            verified,
            f"{answer.address}:{self.port}",
            answer.chain,
            answer.ttl,
            engine,
            version,
        )
        return client, reached

    def command(self, *parts: str) -> tuple[Any, Reached]:
        """One command (connecting first when needed), its answer as redis-py parses it
        (``SET``: True, ``EXISTS``: a count); raises (and drops) on any failure, e.g.
        ``redis.ReadOnlyError`` from a replica."""
        with self._lock:
            try:
                if self._client is None:
                    self._client, self._reached = self._connect()
                answer = self._client.execute_command(*parts)  # type: ignore[no-untyped-call]
            except BaseException:
                self.close()
                raise
            assert self._reached is not None
            return answer, self._reached

    def close(self) -> None:
        """Drop the connection (the next command resolves the name again)."""
        client, self._client, self._reached = self._client, None, None
        if client is not None:
            with contextlib.suppress(Exception):  # a connection dropped because it broke
                client.connection_pool.disconnect()
