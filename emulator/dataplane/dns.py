"""A DNS server on 127.0.0.1 for the region pair: names resolve as applications resolve them.

The answers come from a :class:`Lookup` (the emulator's Route 53 private zone and the AWS-owned
names of its control plane, :mod:`.names`). CNAME chains are followed within those names, as a
recursive resolver would, each record with its own TTL. ``dnslib`` (pinned) does the wire
format and the UDP/TCP serving; :func:`resolve` is the stub resolver probes use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from dnslib import CNAME, QTYPE, RCODE, RR, A, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

MAX_CHAIN = 8
"""CNAME hops followed before answering SERVFAIL (a loop)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One answer: ``CNAME`` to a name or ``A`` to an address, with its TTL in seconds."""

    rtype: str
    value: str
    ttl: int


Lookup = Callable[[str], list[Record]]
"""Name (lower case, no trailing dot) -> its records (empty: the name does not exist)."""


class _Resolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        reply = request.reply()
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        name = qname
        for _ in range(MAX_CHAIN):
            records = self.lookup(name)
            if not records:
                if name == qname:
                    reply.header.rcode = RCODE.NXDOMAIN
                return reply
            cname = next((r for r in records if r.rtype == "CNAME"), None)
            if cname is not None:
                reply.add_answer(
                    RR(name + ".", QTYPE.CNAME, ttl=cname.ttl, rdata=CNAME(cname.value + "."))
                )
                if qtype == "CNAME":
                    return reply
                name = cname.value.rstrip(".").lower()
                continue
            for record in records:
                if record.rtype == "A" and qtype in ("A", "ANY"):
                    reply.add_answer(RR(name + ".", QTYPE.A, ttl=record.ttl, rdata=A(record.value)))
            return reply
        reply.header.rcode = RCODE.SERVFAIL
        return reply


class DnsServer:
    """UDP DNS on ``127.0.0.1`` (an ephemeral port unless given)."""

    def __init__(self, lookup: Lookup, port: int = 0, address: str = "127.0.0.1") -> None:
        quiet = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
        self._server = DNSServer(_Resolver(lookup), address=address, port=port, logger=quiet)
        self.address: tuple[str, int] = self._server.server.server_address[:2]

    def start(self) -> DnsServer:
        self._server.start_thread()
        return self

    def stop(self) -> None:
        self._server.stop()
        self._server.server.server_close()


@dataclass(frozen=True, slots=True)
class Answer:
    """What a stub resolver got: the final address, the chain and the smallest TTL on it."""

    name: str
    address: str
    chain: tuple[str, ...]
    ttl: int


class ResolveError(OSError):
    """The name did not resolve (NXDOMAIN, no address, or no answer)."""


def resolve(name: str, server: tuple[str, int], timeout: float = 2.0) -> Answer:
    """Ask ``server`` for ``name``'s address (one UDP query, as a stub resolver does)."""
    query = DNSRecord.question(name.rstrip(".") + ".", "A")
    try:
        packet = query.send(server[0], server[1], timeout=timeout)
    except OSError as exc:
        raise ResolveError(f"{name}: no answer from DNS {server[0]}:{server[1]}: {exc}") from exc
    reply = DNSRecord.parse(packet)
    if reply.header.rcode != RCODE.NOERROR:
        raise ResolveError(f"{name}: {RCODE[reply.header.rcode]}")
    chain = tuple(str(rr.rname).rstrip(".") for rr in reply.rr)
    addresses = [str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A]
    if not addresses:
        raise ResolveError(f"{name}: no address")
    return Answer(name, addresses[0], chain, min(int(rr.ttl) for rr in reply.rr))


class CachingResolver:
    """A stub resolver that honours TTLs: an answer is reused until its TTL expires, as an
    application's resolver does, so a name's move is seen only once the old answer expires."""

    def __init__(
        self, server: tuple[str, int], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.server = server
        self._clock = clock
        self._cache: dict[str, tuple[float, Answer]] = {}
        self._lock = threading.Lock()

    def resolve(self, name: str) -> Answer:
        key = name.rstrip(".").lower()
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] > now:
                return cached[1]
        answer = resolve(key, self.server)
        with self._lock:
            self._cache[key] = (now + answer.ttl, answer)
        return answer
