"""The network between the two regions, as a TCP relay the emulator controls.

Replication (PostgreSQL streaming, Redis ``REPLICAOF``) from one region to the other connects
through a :class:`Link`, which forwards bytes both ways like a network path. The emulator can
*hold* it (bytes from the source are kept in flight, as when replication lags: what was written
has not arrived), *release* it (they arrive), or *cut* it (the source region is lost: what was
in flight never arrives and new connections are refused). Nothing here decides anything about
the data: the servers at both ends do what real servers do when their network behaves so.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from dataclasses import dataclass, field

_CHUNK = 65536


@dataclass(slots=True)
class _Pair:
    client: socket.socket
    upstream: socket.socket
    pending: list[bytes] = field(default_factory=list)
    closed: bool = False
    sending: threading.Lock = field(default_factory=threading.Lock)
    """Held while bytes go to the client, so they arrive in order; never the link's lock,
    which a client that does not read (yet) would otherwise hold for every connection."""

    def close(self) -> None:
        self.closed = True
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class Link:
    """Forwards ``listen`` -> ``target``; bytes from the target can be held or dropped."""

    def __init__(self, listen: tuple[str, int], target: tuple[str, int], name: str) -> None:
        self.name = name
        self.target = target
        self._lock = threading.Lock()
        self._pairs: list[_Pair] = []
        self._held = False
        self._cut = False
        self._server = socket.create_server(listen, reuse_port=False)
        self._server.settimeout(None)
        self.address: tuple[str, int] = self._server.getsockname()[:2]
        self._stopped = False
        threading.Thread(target=self._accept, name=f"link-{name}", daemon=True).start()

    # -- control -----------------------------------------------------------------------------

    @property
    def held(self) -> bool:
        """Whether bytes from the source are kept in flight."""
        return self._held

    @property
    def is_cut(self) -> bool:
        """Whether the path is down."""
        return self._cut

    def hold(self) -> None:
        """Keep everything the source sends from now on in flight."""
        with self._lock:
            self._held = True

    def release(self) -> None:
        """Deliver what was held and stop holding."""
        with self._lock:
            self._held = False
            pairs = list(self._pairs)
        for pair in pairs:
            with contextlib.suppress(OSError):  # a connection that closed meanwhile
                self._deliver(pair, b"")

    def cut(self) -> None:
        """The path goes down: in-flight bytes are lost, connections close, new ones fail."""
        with self._lock:
            self._cut = True
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            pair.close()

    def restore(self) -> None:
        """The path is back (nothing held)."""
        with self._lock:
            self._cut = False
            self._held = False

    def retarget(self, target: tuple[str, int]) -> None:
        """Forward new connections to ``target`` (existing ones are closed; nothing changes
        when it is already the target)."""
        with self._lock:
            if target == self.target:
                return
            self.target = target
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            pair.close()

    def stop(self) -> None:
        """Close the listener and every connection."""
        self._stopped = True
        self.cut()
        with contextlib.suppress(OSError):
            self._server.close()

    # -- forwarding --------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                cut, target = self._cut, self.target
            if cut:
                client.close()
                continue
            try:
                upstream = socket.create_connection(target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            pair = _Pair(client, upstream)
            with self._lock:
                self._pairs.append(pair)
            threading.Thread(target=self._pump, args=(pair,), daemon=True).start()

    def _deliver(self, pair: _Pair, data: bytes) -> None:
        """Send what was held for ``pair`` and then ``data``, unless the link holds (then
        ``data`` joins what is held)."""
        with pair.sending:
            with self._lock:
                if self._held:
                    if data:
                        pair.pending.append(data)
                    return
                out, pair.pending = b"".join([*pair.pending, data]), []
            if out:
                pair.client.sendall(out)

    def _pump(self, pair: _Pair) -> None:
        sockets = [pair.client, pair.upstream]
        try:
            while not pair.closed:
                readable, _, _ = select.select(sockets, [], [], 0.5)
                for sock in readable:
                    data = sock.recv(_CHUNK)
                    if not data:
                        return
                    if sock is pair.client:
                        pair.upstream.sendall(data)
                    else:
                        self._deliver(pair, data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                if pair in self._pairs:
                    self._pairs.remove(pair)
            pair.close()
