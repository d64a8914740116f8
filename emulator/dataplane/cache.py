"""Each region's ElastiCache replication group as a real Redis-protocol server; the secondary
group replicates from the primary's (``REPLICAOF``) across the inter-region link, with AUTH
(``requirepass``/``masterauth``) and TLS (``tls-replication``) as the stack sets them.

``failover_global_replication_group`` moves the replication as the ElastiCache User Guide's
"Promoting the secondary cluster to primary" describes: the secondary becomes the primary and
the old primary becomes a secondary replicating from it. A planned promotion first pauses
writes on the old primary and waits until the secondary's replication offset has reached the
primary's (nothing acknowledged is lost); an unplanned one (the primary's region is lost)
promotes whatever had arrived. Binary: Debian's ``redis-server`` (``REDIS_SERVER`` overrides).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from .addresses import inner_address, link_address, server_address
from .link import Link
from .postgres import WAIT_SECONDS, DataPlaneError, wait_until
from .tls import LocalCA, ServerCertificate


def find_redis_server() -> str:
    """The ``redis-server`` (or ``valkey-server``) binary."""
    wanted = os.environ.get("REDIS_SERVER")
    for candidate in [wanted, shutil.which("valkey-server"), shutil.which("redis-server")]:
        if candidate and Path(candidate).is_file():
            return candidate
    raise DataPlaneError(
        "no redis-server: install Debian's redis-server (apt-get install redis-server) or set "
        "REDIS_SERVER to a Redis- or Valkey-compatible server binary built with TLS"
    )


@dataclass(slots=True)
class CacheServer:
    """One region's replication group (its primary node)."""

    region_index: int
    root: Path
    port: int
    binary: str
    certificate: ServerCertificate
    ca: Path
    token: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        """The region's server address: its edge, what clients dial."""
        return server_address(self.region_index)

    @property
    def listen(self) -> str:
        """Where the process listens, behind the edge (administration reaches it here)."""
        return inner_address(self.region_index)

    def start(self, replica_of: tuple[str, int] | None) -> None:
        """Start the server (as a replica of ``replica_of`` when given)."""
        self.root.mkdir(parents=True, exist_ok=True)
        args = [
            self.binary,
            "--bind", self.listen,
            "--port", "0",
            "--tls-port", str(self.port),
            "--tls-cert-file", str(self.certificate.cert),
            "--tls-key-file", str(self.certificate.key),
            "--tls-ca-cert-file", str(self.ca),
            "--tls-auth-clients", "no",
            "--tls-replication", "yes",
            "--requirepass", self.token,
            "--masterauth", self.token,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.root),
            "--pidfile", str(self.root / "redis.pid"),  # the lifeline finds it (.lifeline)
            "--logfile", str(self.root / "server.log"),
            "--daemonize", "no",
            "--repl-diskless-sync", "yes",
            "--repl-diskless-sync-delay", "0",
        ]  # fmt: skip
        if replica_of is not None:
            args += ["--replicaof", replica_of[0], str(replica_of[1])]
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.root
        )
        wait_until(f"cache region {self.region_index} to answer", self._answers, WAIT_SECONDS)

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            log = (self.root / "server.log").read_text(errors="replace")[-600:]
            raise DataPlaneError(f"redis-server in region {self.region_index} exited: {log}")
        try:
            return bool(self.client().ping())
        except (redis.ConnectionError, redis.TimeoutError):
            return False

    def client(self) -> redis.Redis:
        """An administrative client (TLS against the CA, AUTH)."""
        return redis.Redis(
            host=self.listen,  # AWS's management path: not cut with the customer's subnets
            port=self.port,
            password=self.token,
            ssl=True,
            ssl_ca_certs=str(self.ca),
            ssl_check_hostname=False,  # the admin path dials the address; clients verify names
            socket_timeout=WAIT_SECONDS,
        )

    def replication(self) -> dict[str, Any]:
        """``INFO replication``."""
        with self.client() as conn:
            info: dict[str, Any] = conn.info("replication")
        return info

    def stop(self) -> None:
        """Stop the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=WAIT_SECONDS)
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class CachePair:
    """The global datastore's two replication groups, on real Redis-protocol servers."""

    def __init__(
        self, root: Path, port: int, ca: LocalCA, names: list[list[str]], token: str
    ) -> None:
        binary = find_redis_server()
        self.port = port
        self.token = token
        self.servers = [
            CacheServer(
                i,
                root / f"cache-region{i}",
                port,
                binary,
                ca.issue(f"cache-region{i}", names[i], [server_address(i)]),
                ca.cert,
                token,
            )
            for i in (0, 1)
        ]
        self.primary = 0
        self.links: list[Link | None] = [None, None]
        self.edges: list[Link] = []
        """Per region, the edge in front of its server (see AuroraPair.edges)."""

    @property
    def secondary(self) -> int:
        return 1 - self.primary

    @property
    def version(self) -> str:
        """``redis_version`` from ``INFO server``."""
        with self.servers[self.primary].client() as conn:
            return str(conn.info("server")["redis_version"])

    def link_into(self, index: int) -> Link:
        link = self.links[index]
        assert link is not None
        return link

    def start(self) -> None:
        """Primary group in region 0; region 1's replicates from it through the link."""
        self.edges = [
            Link((s.host, self.port), (s.listen, self.port), f"cache-edge-{i}")
            for i, s in enumerate(self.servers)
        ]
        for i in (0, 1):
            other = self.servers[1 - i]
            self.links[i] = Link(
                (link_address(i), self.port), (other.host, other.port), f"cache-into-{i}"
            )
        self.servers[0].start(None)
        self.servers[1].start((link_address(1), self.port))
        self.wait_linked()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        for link in [*self.links, *self.edges]:
            if link is not None:
                link.stop()

    def wait_linked(self) -> None:
        """Until the secondary's link to the primary is up."""
        standby = self.servers[self.secondary]
        wait_until(
            f"cache region {self.secondary} to replicate from region {self.primary}",
            lambda: standby.replication().get("master_link_status") == "up",
        )

    def offsets(self) -> tuple[int, int]:
        """(primary's replication offset, secondary's processed offset)."""
        primary = int(self.servers[self.primary].replication()["master_repl_offset"])
        secondary = int(self.servers[self.secondary].replication().get("slave_repl_offset", 0))
        return primary, secondary

    def wait_replicated(self, timeout: float = WAIT_SECONDS) -> int:
        """Until the secondary has processed everything the primary has; that offset."""
        target = int(self.servers[self.primary].replication()["master_repl_offset"])
        standby = self.servers[self.secondary]
        wait_until(
            f"cache region {self.secondary} to reach offset {target}",
            lambda: int(standby.replication().get("slave_repl_offset", 0)) >= target,
            timeout,
        )
        return target

    def failover(self, *, planned: bool) -> None:
        """Promote the secondary; the old primary (if it answers) replicates from it."""
        old, new = self.servers[self.primary], self.servers[self.secondary]
        if planned:
            with old.client() as conn:
                conn.execute_command("CLIENT", "PAUSE", str(int(WAIT_SECONDS * 1000)), "WRITE")
            try:
                self.wait_replicated()
            except DataPlaneError:
                with old.client() as conn:
                    conn.execute_command("CLIENT", "UNPAUSE")
                raise
        else:
            self.link_into(new.region_index).cut()
        with new.client() as conn:
            conn.execute_command("REPLICAOF", "NO", "ONE")
        self.primary = new.region_index
        link = self.link_into(old.region_index)
        link.retarget((new.host, new.port))
        if old.running:
            with old.client() as conn:
                conn.execute_command("REPLICAOF", link_address(old.region_index), str(self.port))
                if planned:
                    conn.execute_command("CLIENT", "UNPAUSE")
            if not link.is_cut:  # an isolated region links up when its network is back
                self.wait_linked()

    def recover(self) -> None:
        """Both groups up, the secondary replicating from the primary."""
        primary = self.servers[self.primary]
        if not primary.running:
            primary.start(None)
        for link in self.links:
            assert link is not None
            link.restore()
        self.rejoin(self.secondary)

    def lose_region(self, index: int) -> None:
        """The region is lost: its server stops, replication from it ends."""
        self.link_into(1 - index).cut()
        self.servers[index].stop()

    def rejoin(self, index: int) -> None:
        """The lost region is back: its group starts again as a replica of the primary."""
        for link in self.links:
            assert link is not None
            link.restore()
        primary = self.servers[self.primary]
        self.link_into(index).retarget((primary.host, primary.port))
        server = self.servers[index]
        if server.running:
            with server.client() as conn:
                conn.execute_command("REPLICAOF", link_address(index), str(self.port))
        else:
            server.start((link_address(index), self.port))
        self.wait_linked()
