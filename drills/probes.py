"""Write probes through the names applications use: the drill's RTO is "until a write through
that name succeeds in the new region", per store.

- Aurora: ``writer.<zone>`` is a CNAME to the global writer endpoint, which always points at
  the writer of the current primary cluster (RDS "Connecting to Aurora Global Database"); the
  probe writes a canary through the RDS Data API to the cluster the global cluster names as
  writer (the Data API takes a cluster ARN, not a host name).
- Cache: ``cache.<zone>`` is read from Route 53 (the record applications resolve), its target
  is matched to a replication group's primary endpoint, and a ``SET`` is sent there over the
  Redis protocol (TLS, AUTH token from Secrets Manager). A replica answers ``-READONLY``.
- DynamoDB: the active-region setting applications read names the region; the probe puts a
  canary item in that region's replica.

Each probe returns a :class:`~drills.canary.Canary` whose region is where the name led.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from .canary import Canary
from .engine import DrillContext
from .errors import RegionUnavailableError, VerificationError
from .health import describe_global_cluster, writer_regions
from .stores import CacheGlobal, DynamoActiveRegion, cache_record

Connector = Callable[[str, int, float], socket.socket]
"""Opens a connection to a cache endpoint (host, port, timeout)."""


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

    def write(self, ctx: DrillContext, canary_id: str, phase: str) -> Canary:
        """Try one write; failures are returned, not raised."""


class AuroraProbe:
    """A canary row through the global writer endpoint's current target."""

    store = "aurora"

    def write(self, ctx: DrillContext, canary_id: str, phase: str) -> Canary:
        """Insert one canary on the cluster that is the writer now."""
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


class CacheProbe:
    """A ``SET`` through ``cache.<zone>``."""

    store = "cache"

    def __init__(self, connector: Connector) -> None:
        self.connector = connector
        self._token: str | None = None

    def token(self, ctx: DrillContext, region: str) -> str | None:
        """The AUTH token (``cacheAuthSecretArn``, replicated to both regions), read once from
        ``region`` by name (a replica keeps the primary secret's name)."""
        arn = ctx.target.cache_auth_secret_arn
        if not arn:
            return None
        if self._token is None:
            name = arn.split(":secret:", 1)[-1].rsplit("-", 1)[0]
            value = ctx.aws.call("secretsmanager", region, "get_secret_value", SecretId=name)
            self._token = str(value["SecretString"])
        return self._token

    def write(self, ctx: DrillContext, canary_id: str, phase: str) -> Canary:
        """Resolve the record, find the group behind it, SET a canary key there."""
        started = time.time()
        dns = ctx.target.require_dns()
        try:
            record = cache_record(ctx, dns.zone_id, dns.cache_name)
            target = record.simple
            if record.health_routed:
                # Route 53 answers the records of the region that is not the datastore's
                # secondary (docs/components.md); from outside the VPC the drill cannot ask the
                # resolver, so it writes where that answer lands once health has followed: the
                # datastore's primary. The health checks' detection delay is not in this RTO.
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
                resp_set(conn, f"drill:{ctx.drill_id}:{canary_id}", phase, self.token(ctx, region))
        except (OSError, CacheWriteError, ClientError, RegionUnavailableError) as exc:
            return _failed(canary_id, "cache", region, phase, started, exc)
        return Canary(canary_id, "cache", region, phase, started, True, "", target, _took(started))


class DynamoProbe:
    """A canary item in the region the active-region setting names."""

    store = "dynamodb"

    def __init__(self, table: str) -> None:
        self.table = table

    def write(self, ctx: DrillContext, canary_id: str, phase: str) -> Canary:
        """Read the setting (any region that answers), put the item there."""
        started = time.time()
        setting = DynamoActiveRegion()
        region = ""
        for where in ctx.target.regions:
            try:
                region = setting.read(ctx, where) or ""
            except (RegionUnavailableError, ClientError, BotoCoreError):
                continue
            if region:
                break
        if not region:
            return _failed(canary_id, "dynamodb", "", phase, started, "setting unreadable")
        return ctx.dynamo(self.table).write(region, canary_id, phase)


def probe_for(ctx: DrillContext, store: str, connector: Connector) -> WriteProbe:
    """The write probe of a store."""
    if store == "aurora":
        return AuroraProbe()
    if store == "cache":
        return CacheProbe(connector)
    return DynamoProbe(ctx.target.canary_table().name)


def _took(started: float) -> float:
    return time.time() - started


def _failed(
    canary_id: str, store: str, region: str, phase: str, started: float, why: Any
) -> Canary:
    error = f"{type(why).__name__}: {why}" if isinstance(why, BaseException) else str(why)
    return Canary(canary_id, store, region, phase, started, False, error, "", _took(started))
