"""A minimal cache data plane: one RESP (Redis protocol) listener per replication group.

The drill measures the cache's RTO with a real write (``SET``) through ``cache.<zone>``, so the
emulator answers the Redis protocol on 127.0.0.1: ``AUTH``, ``PING``, ``SET``, ``GET`` and
``DEL``. A group accepts writes only while it is the global datastore's PRIMARY member and the
datastore is ``available``; otherwise ``SET`` answers ``-READONLY`` as a Valkey/Redis replica
does ("You can't write against a read only replica"), and during a failover (``modifying``)
every member refuses writes. With an AUTH token configured, commands before ``AUTH`` answer
``-NOAUTH`` (ElastiCache "Authenticating with the Valkey and Redis OSS AUTH command").

Endpoints keep the hostnames ElastiCache (moto) reports; :meth:`CacheDataPlane.connect`
stands in for DNS resolution of those hostnames to the local listeners, the one thing a
sandbox cannot do for names under ``cache.amazonaws.com``.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .state import STATE

POLL_SECONDS = 0.05
"""How often an idle listener checks for shutdown (socketserver's default is half a second)."""


@dataclass(slots=True)
class _Group:
    region: str
    replication_group_id: str
    host: str
    token: str | None
    server: socketserver.ThreadingTCPServer | None = None
    data: dict[bytes, bytes] = field(default_factory=dict)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])


def _role(group: _Group) -> tuple[str, str]:
    """(role of the group, status of its global datastore) from the emulated ElastiCache."""
    cache = STATE.cache
    if cache is None:
        return "PRIMARY", "available"
    for datastore in cache.datastores.values():
        for member in datastore.members:
            if (member.region, member.replication_group_id) == (
                group.region,
                group.replication_group_id,
            ):
                return str(member.role), str(datastore.status)
    return "PRIMARY", "available"


def _read_command(stream: Any) -> list[bytes] | None:
    line: bytes = stream.readline()
    if not line:
        return None
    if not line.startswith(b"*"):
        return list(line.strip().split())
    parts: list[bytes] = []
    for _ in range(int(line[1:].strip())):
        size = int(stream.readline()[1:].strip())
        parts.append(stream.read(size + 2)[:size])
    return parts


class CacheDataPlane:
    """RESP listeners for the seeded replication groups."""

    def __init__(self) -> None:
        self.groups: dict[str, _Group] = {}
        self._lock = threading.Lock()

    def add(self, region: str, group_id: str, host: str, token: str | None) -> None:
        """Start a listener for one replication group's primary endpoint ``host``."""
        group = _Group(region, group_id, host, token)
        plane = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                plane.serve(group, self.rfile, self.wfile)

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        group.server = server
        threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name=f"resp-{group_id}",
            daemon=True,
        ).start()
        with self._lock:
            old = self.groups.get(host)
            self.groups[host] = group
        if old is not None and old.server is not None:
            old.server.shutdown()
            old.server.server_close()

    def serve(self, group: _Group, rfile: Any, wfile: Any) -> None:
        """Answer commands on one connection until the client closes it."""
        authed = group.token is None
        while True:
            command = _read_command(rfile)
            if command is None:
                return
            verb = command[0].upper() if command else b""
            with STATE.lock:
                STATE.tick()
                role, status = _role(group)
            if verb == b"AUTH":
                given = command[-1].decode() if len(command) > 1 else ""
                authed = group.token is None or given == group.token
                wfile.write(b"+OK\r\n" if authed else b"-WRONGPASS invalid password\r\n")
            elif not authed:
                wfile.write(b"-NOAUTH Authentication required.\r\n")
            elif verb == b"PING":
                wfile.write(b"+PONG\r\n")
            elif verb in {b"SET", b"DEL"}:
                if role != "PRIMARY" or status != "available":
                    wfile.write(b"-READONLY You can't write against a read only replica.\r\n")
                elif verb == b"SET" and len(command) >= 3:
                    group.data[command[1]] = command[2]
                    wfile.write(b"+OK\r\n")
                else:
                    removed = sum(1 for key in command[1:] if group.data.pop(key, None))
                    wfile.write(f":{removed}\r\n".encode())
            elif verb == b"GET" and len(command) == 2:
                value = group.data.get(command[1])
                wfile.write(b"$-1\r\n" if value is None else b"$%d\r\n%s\r\n" % (len(value), value))
            else:
                wfile.write(b"-ERR unknown command\r\n")
            wfile.flush()

    def connect(self, host: str, port: int, timeout: float) -> socket.socket:
        """A connection to the listener of ``host`` (what DNS would resolve it to); for a stack
        bound to the real region pair, a TLS connection to its server, resolved through its
        DNS server and verified against the name."""
        plane = STATE.data_plane
        if plane is not None and plane.carries_cache_endpoint(host):
            return plane.connect_cache(host, port, timeout)  # type: ignore[no-any-return]
        group = self.groups.get(host.rstrip("."))
        if group is None:
            raise OSError(f"{host}: name does not resolve (no such cache endpoint)")
        if STATE.faults.data_unreachable(group.region):
            raise TimeoutError(f"{host}: connection timed out ({group.region} is not answering)")
        return socket.create_connection(("127.0.0.1", group.port), timeout=timeout)

    def keys(self, host: str) -> set[bytes]:
        """Keys stored by the group behind ``host`` (for assertions)."""
        return set(self.groups[host].data)

    def remove(self, hosts: Iterable[str]) -> None:
        """Stop the listeners of some endpoints (a test's stack is gone), without waiting."""
        with self._lock:
            groups = [self.groups.pop(h) for h in list(hosts) if h in self.groups]
        _shut(groups, wait=False)

    def stop(self) -> None:
        """Stop every listener."""
        with self._lock:
            groups, self.groups = list(self.groups.values()), {}
        _shut(groups, wait=True)


def _close(server: socketserver.ThreadingTCPServer) -> None:
    server.shutdown()
    server.server_close()


def _shut(groups: list[_Group], *, wait: bool) -> None:
    """Stop listeners all at once (each ``shutdown`` waits for its loop's next poll)."""
    threads = [
        threading.Thread(target=_close, args=(g.server,), daemon=True)
        for g in groups
        if g.server is not None
    ]
    for thread in threads:
        thread.start()
    if wait:
        for thread in threads:
            thread.join()
