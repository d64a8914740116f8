"""Write probes through the names applications use: the drill's RTO is "until a write through
that name succeeds in the new region", per store.

With an application path configured (settings ``dns_server``/``ca_file``; drills/apppath.py),
the probes take it, the same code in the sandbox and inside the VPC on AWS:

- Aurora: the global writer endpoint (``clientEndpoints.writer``; ``writer.<zone>`` is a
  private CNAME to it) resolved through the resolver with TTLs honoured, the PostgreSQL wire
  protocol with TLS ``verify-full`` against that name, the master secret's credentials, an
  ``INSERT`` into the canary table. The region is the one whose cluster endpoint the name led to.
- Cache: ``cache.<zone>`` resolved the same way to the primary endpoint Route 53 answers (by
  health), RESP over TLS verified against that endpoint, ``AUTH`` with the token from Secrets
  Manager, ``SET``. A replica answers ``-READONLY``.
- DynamoDB: the active-region setting applications read names the region; the probe puts a
  canary item in that region's replica.

Without one (the emulator's model data plane: no servers to dial), Aurora writes go through the
Data API to the cluster the control plane names as writer and the cache record is read from the
Route 53 API; each probe's :attr:`path` says which way it went, and the report carries it.

Each probe returns a :class:`~drills.canary.Canary` whose region is where the name led.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from components.functions.app_probes import CANARY_INSERT

from .apppath import (
    Answer,
    AppPath,
    PostgresSession,
    Reached,
    RedisSession,
    StoreWriteError,
)
from .canary import Canary
from .engine import DrillContext
from .errors import RegionUnavailableError, VerificationError
from .reads import describe_global_cluster, read_active_region, writer_regions
from .stores import CacheGlobal, cache_record

Connector = Callable[[str, int, float], socket.socket]
"""Opens a connection to a cache endpoint (host, port, timeout)."""

_REGION_IN_NAME = re.compile(r"\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.(?:rds|cache)\.amazonaws\.com$")
"""AWS endpoint names carry their region (``<id>.cluster-<hash>.<region>.rds.amazonaws.com``)."""


def tls_connector(host: str, port: int, timeout: float) -> socket.socket:
    """TLS to the endpoint, as in-transit encryption requires (ElastiCache "In-transit
    encryption": clients must connect with TLS)."""
    raw = socket.create_connection((host, port), timeout=timeout)
    return ssl.create_default_context().wrap_socket(raw, server_hostname=host)


class CacheWriteError(Exception):
    """The cache refused a write (``-READONLY``, ``-NOAUTH``...) or did not answer."""


def _resp(*parts: str) -> bytes:
    out = [f"*{len(parts)}\r\n".encode()]
    for part in parts:
        data = part.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def resp_set(conn: socket.socket, key: str, value: str, token: str | None) -> None:
    """``AUTH`` (when a token is set) and ``SET key value``; raises CacheWriteError."""
    reader = conn.makefile("rb")
    commands = ([("AUTH", token)] if token else []) + [("SET", key, value, "EX", "86400")]
    for command in commands:
        conn.sendall(_resp(*command))
        answer = reader.readline().strip()
        if not answer.startswith(b"+"):
            raise CacheWriteError(answer.decode(errors="replace") or "connection closed")


class WriteProbe(Protocol):
    """One write through the name applications use."""

    store: str
    path: str
    """How the probe reaches the store (report.json's per-measurement ``path``)."""

    def write(self, ctx: DrillContext, canary_id: str, phase: str) -> Canary:
        """Try one write; failures are returned, not raised."""

    def evidence(self) -> dict[str, Any] | None:
        """What the last successful write reached (engine, version, address), if anything."""


def region_of(names: tuple[str, ...], known: dict[str, str]) -> str:
    """The region an answer's chain leads to: the region whose endpoint (``known``: name ->
    region) is on the chain, else the region AWS spells into an endpoint name; "" if none."""
    for name in reversed(names):
        found = known.get(name.rstrip(".").lower())
        if found:
            return found
    for name in reversed(names):
        match = _REGION_IN_NAME.search(name.rstrip(".").lower())
        if match:
            return match.group(1)
    return ""


def client_endpoints(ctx: DrillContext) -> dict[str, Any]:
    """The stack's ``clientEndpoints`` output (empty when it has none)."""
    raw = ctx.target.raw.get("clientEndpoints")
    return dict(raw) if isinstance(raw, dict) else {}


class AuroraProbe:
    """A canary row through the global writer endpoint."""

    store = "aurora"

    def __init__(self, app: AppPath | None) -> None:
        self.app = app
        self.path = "control plane writer -> rds data api by cluster arn (no application path)"
        self._session: PostgresSession | None = None
        self._reached: Reached | None = None

    def evidence(self) -> dict[str, Any] | None:
        return self._reached.evidence() if self._reached else None

    def _open(self, ctx: DrillContext) -> PostgresSession:
        if self._session is not None:
            return self._session
        assert self.app is not None
        writer = dict(client_endpoints(ctx).get("writer") or {})
        host = str(writer.get("host") or ctx.target.require_dns().writer_endpoint)
        port = int(writer.get("port") or 5432)
        user, password = master_credentials(ctx)
        self._session = PostgresSession(
            self.app, host, port, user, password, ctx.target.database, ctx.settings.aws_read_timeout
        )
        self.path = f"dns {host} -> postgresql tls verify-full"
        return self._session

    def write(self, ctx: DrillContext, canary_id: str, phase: str) -> Canary:
        """Insert one canary on the cluster that is the writer now."""
        if self.app is None:
            return self._write_by_arn(ctx, canary_id, phase)
        started = time.time()
        try:
            session = self._open(ctx)
            known = {
                ref.endpoint.lower(): r for r, ref in ctx.target.aurora.items() if ref.endpoint
            }
            region = region_of(session.open().chain, known)
            reached = session.run(
                CANARY_INSERT,  # the probe function's statement: one canary row
                id=canary_id,
                drill_id=ctx.drill_id,
                region=region,
                phase=phase,
                written_at=started,
            )
        except Exception as exc:  # any failure of the path is part of the measurement
            return _failed(canary_id, "aurora", "", phase, started, exc)
        self._reached = reached
        target = ctx.target.aurora[region].identifier if region in ctx.target.aurora else ""
        return Canary(canary_id, "aurora", region, phase, started, True, "", target, _took(started))

    def _write_by_arn(self, ctx: DrillContext, canary_id: str, phase: str) -> Canary:
        started = time.time()
        try:
            writers = writer_regions(describe_global_cluster(ctx))
        except (RegionUnavailableError, ClientError, BotoCoreError) as exc:
            return _failed(canary_id, "aurora", "", phase, started, exc)
        region = writers[0] if len(writers) == 1 else ""
        if not region:
            return _failed(canary_id, "aurora", "", phase, started, "no single writer")
        ref = ctx.target.aurora[region]
        return ctx.aurora.write(region, ref.arn, canary_id, phase, ref.identifier)


def master_credentials(ctx: DrillContext) -> tuple[str, str]:
    """(username, password) of the master secret (``auroraSecretArn``, replicated to both
    regions: read from the first that answers)."""
    problems: list[str] = []
    for region in ctx.target.regions:
        if region in ctx.unreachable:
            continue
        try:
            value = ctx.aws.call(
                "secretsmanager", region, "get_secret_value", SecretId=ctx.target.secret_for(region)
            )
        except (RegionUnavailableError, ClientError, BotoCoreError) as exc:
            problems.append(f"{region}: {exc}")
            continue
        secret = json.loads(str(value["SecretString"]))
        return str(secret["username"]), str(secret["password"])
    raise VerificationError("master secret unreadable: " + "; ".join(problems))


class CacheProbe:
    """A ``SET`` through ``cache.<zone>``."""

    store = "cache"

    def __init__(self, connector: Connector, app: AppPath | None = None) -> None:
        self.connector = connector
        self.app = app
        self.path = "route53 api record -> redis tls auth (no application path)"
        self._token: str | None = None
        self._token_read = False
        self._session: RedisSession | None = None
        self._reached: Reached | None = None
        self._primaries: dict[str, str] = {}
        self._lock = threading.Lock()

    def evidence(self) -> dict[str, Any] | None:
        return self._reached.evidence() if self._reached else None

    def token(self, ctx: DrillContext, region: str) -> str | None:
        """The AUTH token (``cacheAuthSecretArn``, replicated to both regions), read once from
        ``region`` by name (a replica keeps the primary secret's name)."""
        arn = ctx.target.cache_auth_secret_arn
        if not arn:
            return None
        if not self._token_read:
            name = arn.split(":secret:", 1)[-1].rsplit("-", 1)[0]
            value = ctx.aws.call("secretsmanager", region, "get_secret_value", SecretId=name)
            self._token = str(value["SecretString"])
            self._token_read = True
        return self._token

    def _open(self, ctx: DrillContext) -> RedisSession:
        if self._session is not None:
            return self._session
        assert self.app is not None
        dns = ctx.target.require_dns()
        exported = dict(client_endpoints(ctx).get("cache") or {})
        primaries = {
            str(e.get("primary", "")).lower(): r for r, e in exported.items() if e.get("primary")
        } or {ref.primary_endpoint.lower(): r for r, ref in ctx.target.cache.items()}
        port = next(
            (int(e["port"]) for e in exported.values() if e.get("port")),
            next(iter(ctx.target.cache.values())).port,
        )
        here = next((r for r in ctx.target.regions if r not in ctx.unreachable), "")

        def accept(answer: Answer) -> str:
            """The primary endpoint the name led to: what TLS verifies (a private CNAME
            cannot be verified, docs/components.md)."""
            end = answer.chain[-1]
            if end not in primaries:
                raise StoreWriteError(
                    f"{dns.cache_name} leads to {end}, not a replication group's primary "
                    f"endpoint ({', '.join(sorted(primaries))})"
                )
            return end

        self._session = RedisSession(
            self.app,
            dns.cache_name,
            port,
            self.token(ctx, here),
            ctx.settings.aws_read_timeout,
            accept,
        )
        self._primaries = primaries
        self.path = f"dns {dns.cache_name} -> redis tls verify-full auth"
        return self._session

    def command(self, ctx: DrillContext, *parts: str) -> tuple[Any, str]:
        """One command through the name; (answer, region it reached). Raises on failure."""
        with self._lock:
            session = self._open(ctx)
        answer, reached = session.command(*parts)
        self._reached = reached
        return answer, self._primaries.get(reached.verified_as, "")

    def write(self, ctx: DrillContext, canary_id: str, phase: str) -> Canary:
        """``SET`` a canary key through the name."""
        if self.app is None:
            return self._write_by_record(ctx, canary_id, phase)
        started = time.time()
        try:
            _, region = self.command(ctx, "SET", cache_key(ctx, canary_id), phase, "EX", "86400")
        except Exception as exc:  # any failure of the path is part of the measurement
            return _failed(canary_id, "cache", "", phase, started, exc)
        assert self._reached is not None
        target = self._reached.verified_as
        return Canary(canary_id, "cache", region, phase, started, True, "", target, _took(started))

    def present(self, ctx: DrillContext, ids: list[str]) -> tuple[set[str], str]:
        """Which canary keys the primary the name leads to holds now (``EXISTS`` per key),
        and that primary's region."""
        found: set[str] = set()
        _, region = self.command(ctx, "PING")
        for canary_id in ids:
            answer, region = self.command(ctx, "EXISTS", cache_key(ctx, canary_id))
            if int(answer) == 1:
                found.add(canary_id)
        return found, region

    def _write_by_record(self, ctx: DrillContext, canary_id: str, phase: str) -> Canary:
        started = time.time()
        dns = ctx.target.require_dns()
        try:
            record = cache_record(ctx, dns.zone_id, dns.cache_name)
            target = record.simple
            if record.health_routed:
                # Route 53 answers the records of the region that is not the datastore's
                # secondary (docs/components.md); without a resolver to ask, the probe writes
                # where that answer lands once health has followed: the datastore's primary.
                primaries = CacheGlobal().describe(ctx).primaries
                target = (
                    ctx.target.cache[primaries[0]].primary_endpoint
                    if len(primaries) == 1 and primaries[0] in ctx.target.cache
                    else None
                )
        except (RegionUnavailableError, ClientError, BotoCoreError, VerificationError) as exc:
            return _failed(canary_id, "cache", "", phase, started, exc)
        region = next(
            (r for r, ref in ctx.target.cache.items() if ref.primary_endpoint == target), ""
        )
        if not region or target is None:
            return _failed(canary_id, "cache", "", phase, started, f"{dns.cache_name} -> {target}")
        timeout = ctx.settings.aws_read_timeout
        try:
            conn = self.connector(target, ctx.target.cache[region].port, timeout)
            with conn:
                conn.settimeout(timeout)
                resp_set(conn, cache_key(ctx, canary_id), phase, self.token(ctx, region))
        except (OSError, CacheWriteError, ClientError, RegionUnavailableError) as exc:
            return _failed(canary_id, "cache", region, phase, started, exc)
        return Canary(canary_id, "cache", region, phase, started, True, "", target, _took(started))


def cache_key(ctx: DrillContext, canary_id: str) -> str:
    """The key a cache canary is stored under."""
    return f"drill:{ctx.drill_id}:{canary_id}"


class DynamoProbe:
    """A canary item in the region the active-region setting names."""

    store = "dynamodb"

    def __init__(self, table: str, parameter: str = "") -> None:
        self.table = table
        self.path = f"ssm {parameter or 'active-region setting'} -> dynamodb {table}"

    def evidence(self) -> dict[str, Any] | None:
        return None

    def write(self, ctx: DrillContext, canary_id: str, phase: str) -> Canary:
        """Read the setting (any region that answers), put the item there."""
        started = time.time()
        region = ""
        for where in ctx.target.regions:  # the first region that answers with the setting
            try:
                region = read_active_region(ctx, (where,)).values.get(where, "")
            except (ClientError, BotoCoreError):
                continue
            if region:
                break
        if not region:
            return _failed(canary_id, "dynamodb", "", phase, started, "setting unreadable")
        return ctx.dynamo(self.table).write(region, canary_id, phase)


_PROBES: weakref.WeakKeyDictionary[DrillContext, dict[str, WriteProbe]] = (
    weakref.WeakKeyDictionary()
)
_PROBES_LOCK = threading.Lock()


def app_path(ctx: DrillContext) -> AppPath | None:
    """The application path the settings configure (None: the model data plane)."""
    return AppPath.parse(ctx.settings.dns_server, ctx.settings.ca_file)


def probe_for(ctx: DrillContext, store: str, connector: Connector) -> WriteProbe:
    """The write probe of a store, one per drill context: its sessions stay open between
    steps, as an application's connections do."""
    with _PROBES_LOCK:
        probes = _PROBES.setdefault(ctx, {})
        probe = probes.get(store)
        if probe is None:
            probe = _make(ctx, store, connector)
            probes[store] = probe
        return probe


def _make(ctx: DrillContext, store: str, connector: Connector) -> WriteProbe:
    app = app_path(ctx)
    if store == "aurora":
        return AuroraProbe(app)
    if store == "cache":
        return CacheProbe(connector, app)
    return DynamoProbe(ctx.target.canary_table().name, ctx.target.active_region_parameter)


def dns_evidence(ctx: DrillContext) -> dict[str, Any] | None:
    """report.json's ``data_plane.dns``: the resolver and the TTLs of the answers the probes
    used (None without an application path)."""
    app = app_path(ctx)
    if app is None:
        return None
    ttls: dict[str, int] = {}
    with _PROBES_LOCK:
        probes = list(_PROBES.get(ctx, {}).values())
    for probe in probes:
        reached = getattr(probe, "_reached", None)
        if isinstance(reached, Reached):
            ttls[reached.name] = reached.ttl
    return {
        "server": app.describe_dns(),
        "ttl_seconds": min(ttls.values()) if ttls else None,
        "ttls": ttls,
    }


def _took(started: float) -> float:
    return time.time() - started


def _failed(
    canary_id: str, store: str, region: str, phase: str, started: float, why: Any
) -> Canary:
    error = f"{type(why).__name__}: {why}" if isinstance(why, BaseException) else str(why)
    return Canary(canary_id, store, region, phase, started, False, error, "", _took(started))


def record_path(ctx: DrillContext, m: dict[str, Any], probe: WriteProbe) -> None:
    """How the probe reached the store (``m["path"]``) and what it reached (the journal's
    ``data_plane``, report.json's evidence): called between writes, never from the writer
    thread, so the journal is never saved while it changes."""
    m["path"] = probe.path
    evidence = probe.evidence()
    plane: dict[str, Any] = ctx.state.setdefault("data_plane", {})
    if evidence is not None:
        plane[probe.store] = evidence
    dns = dns_evidence(ctx)
    if dns is not None:
        plane["dns"] = dns
