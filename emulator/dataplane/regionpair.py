"""The region pair: real servers behind the emulated control plane, and the names that lead
to them.

:class:`RegionPair` starts, once, a PostgreSQL server and a Redis-protocol server per region
(:mod:`.postgres`, :mod:`.cache`) on the region's loopback network (:mod:`.addresses`), a local
CA whose certificates name the AWS-style endpoints (:mod:`.tls`), and a DNS server on
127.0.0.1 (:mod:`.dns`). Seeding a stack *binds* it: the stack's Aurora global cluster and
global datastore are then carried by these servers. The emulated control plane calls the
hooks here when its operations take effect (a switchover completes, a region is lost, a held
replication is released, a datastore fails over) and the servers do the same thing for real;
the Data API on a bound cluster executes on the region's server.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pg8000.native

from .addresses import inner_address, server_address
from .cache import CachePair
from .dns import CachingResolver, DnsServer, Record
from .lifeline import STOP_SECONDS
from .link import Link
from .postgres import APP_USER, AuroraPair, DataPlaneError
from .tls import LocalCA

log = logging.getLogger(__name__)

CACHE_REPLICATION = "cache_replication"
"""The operation a test holds (``faults.hold``) to keep the cache's replication stream in
flight on the link into the secondary region."""

CLUSTER_ENDPOINT_TTL = 5
"""Aurora's cluster, reader and global writer endpoints are CNAMEs AWS serves with a 5-second
TTL (Aurora User Guide, "Amazon Aurora endpoint connections": clients should not cache DNS
longer; the global writer endpoint's own TTL is not stated on "Connecting to Amazon Aurora
Global Database", so the cluster endpoints' is used)."""
CACHE_ENDPOINT_TTL = 5
"""ElastiCache primary/reader endpoints: the same short TTL (the User Guide does not state
one on "Finding connection endpoints"; see docs/drills.md)."""


@dataclass(slots=True)
class Binding:
    """The stack whose global cluster and datastore the servers carry."""

    global_cluster_id: str
    regions: tuple[str, str]
    database: str
    cluster_arns: dict[str, str]
    cluster_endpoints: dict[str, tuple[str, str]]
    writer_endpoint: str
    cache_global_id: str | None
    cache_endpoints: dict[str, tuple[str, str]]
    zone_id: str
    token: str
    master: tuple[str, str] | None = None
    """The master secret's (username, password): a login role on the servers, as Aurora's
    master user is (member of the role that owns the database, so it writes its tables)."""


def _free_port(hosts: list[str]) -> int:
    """A TCP port free on every one of ``hosts`` (the same port in both regions)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((hosts[0], 0))
            port = int(probe.getsockname()[1])
        try:
            for host in hosts[1:]:
                with socket.socket() as other:
                    other.bind((host, port))
        except OSError:
            continue
        return port
    raise DataPlaneError(f"no TCP port free on all of {hosts}")


class RegionPair:
    """Both regions' servers, the CA and the DNS server (started once, bound per stack)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="regionpair-"))
        self.root.chmod(0o755)  # the postgres system user traverses it
        self.ca = LocalCA(self.root / "ca")
        hosts = [
            *(server_address(i) for i in (0, 1)),
            *(inner_address(i) for i in (0, 1)),
            "127.0.1.250",
            "127.0.2.250",
        ]
        self.aurora = AuroraPair(
            self.root, _free_port(hosts), self.ca, [["localhost"], ["localhost"]]
        )
        self.cache = CachePair(
            self.root, _free_port(hosts), self.ca, [["localhost"], ["localhost"]], "unbound"
        )
        self.binding: Binding | None = None
        self.dns = DnsServer(self.lookup)
        self._lock = threading.RLock()
        self._sessions: dict[int, pg8000.native.Connection] = {}
        self.resolver = CachingResolver(self.dns.address)
        self.events: list[str] = []
        """What the servers did, in order (for tests and the report)."""
        self.errors: list[str] = []
        """Server operations that failed (tests assert there are none)."""
        self.isolated: dict[int, list[Link]] = {}
        """Regions whose data plane is cut off (an FIS network disruption): what the cut
        closed, to reopen exactly that when the network comes back."""
        self.watcher: subprocess.Popen[bytes] | None = None
        """The process that stops the servers if this one dies (:mod:`.lifeline`)."""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> RegionPair:
        """Start every server (seconds: initdb, a base backup, two Redis servers), watched by
        a lifeline process that stops them if this process dies without :meth:`stop`."""
        self.watcher = subprocess.Popen(
            [sys.executable, "-I", str(Path(__file__).with_name("lifeline.py")), str(self.root)],
            stdin=subprocess.PIPE,  # never written to: its end-of-file is this process's end
            stdout=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C for the terminal's group is not for it
        )
        self.dns.start()
        try:
            self.aurora.start()
            self.cache.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every server and remove their files."""
        self._close_sessions()
        self.aurora.stop()
        self.cache.stop()
        self.dns.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        watcher, self.watcher = self.watcher, None
        if watcher is not None:  # nothing is left for it to stop: it exits at end-of-file
            assert watcher.stdin is not None
            watcher.stdin.close()
            watcher.wait(timeout=STOP_SECONDS * 2)

    def evidence(self) -> dict[str, Any]:
        """report.json's ``data_plane``: what actually served the drill."""
        return {
            "aurora": {
                "engine": "postgresql",
                "version": self.aurora.version,
                "address": f"{server_address(self.aurora.writer)}:{self.aurora.port}",
            },
            "cache": {
                "engine": "redis",
                "version": self.cache.version,
                "address": f"{server_address(self.cache.primary)}:{self.cache.port}",
            },
            "dns": {
                "server": f"{self.dns.address[0]}:{self.dns.address[1]}",
                "ttl_seconds": CLUSTER_ENDPOINT_TTL,
            },
        }

    # -- binding a seeded stack --------------------------------------------------------------

    def bind(self, binding: Binding) -> None:
        """Carry ``binding``'s stack: its database on the writer, roles in its primary region,
        certificates naming its endpoints."""
        with self._lock:
            self._close_sessions()
            self.binding = binding
            self.aurora.recover()
            self.cache.recover()
            if self.aurora.writer != 0:
                self.aurora.switchover()
            if self.cache.primary != 0:
                self.cache.failover(planned=True)
            self._issue_certificates(binding)
            writer = self.aurora.servers[0]
            with writer.admin() as conn:
                exists = conn.run(
                    "SELECT 1 FROM pg_database WHERE datname = :d", d=binding.database
                )
                if not exists:
                    conn.run(f"CREATE DATABASE {binding.database} OWNER {APP_USER}")
                if binding.master is not None:
                    self._master_role(conn, *binding.master)
            for server in self.cache.servers:
                with server.client() as client:
                    client.config_set("masterauth", binding.token)
                    client.config_set("requirepass", binding.token)
                    server.token = binding.token
            self.cache.token = binding.token
            self.aurora.wait_replayed()
            self.events.append(f"bound {binding.global_cluster_id}")

    @staticmethod
    def _master_role(conn: pg8000.native.Connection, user: str, password: str) -> None:
        if not user.replace("_", "").isalnum():
            raise DataPlaneError(f"master username {user!r}: letters, digits and _ only")
        secret = pg8000.native.literal(password)  # utility statements take no parameters
        found = conn.run("SELECT 1 FROM pg_roles WHERE rolname = :u", u=user)
        verb = "ALTER" if found else "CREATE"
        conn.run(f"{verb} ROLE {user} WITH LOGIN PASSWORD {secret}")
        if not found:
            conn.run(f"GRANT {APP_USER} TO {user}")

    def client_settings(self) -> dict[str, str]:
        """The drill settings that put the write probes on the application's path here
        (drills.settings.DrillSettings ``dns_server``/``ca_file``): this DNS server and the
        CA that signed the servers' certificates."""
        return {
            "dns_server": f"{self.dns.address[0]}:{self.dns.address[1]}",
            "ca_file": str(self.ca.cert),
        }

    def _issue_certificates(self, binding: Binding) -> None:
        for index, region in enumerate(binding.regions):
            names = [*binding.cluster_endpoints[region], binding.writer_endpoint]
            cert = self.ca.issue(f"aurora-{region}", names, [server_address(index)])
            server = self.aurora.servers[index]
            server.certificate = cert  # a rebuilt or restarted server keeps presenting it
            shutil.copy(cert.cert, server.root / "server.crt")
            shutil.copy(cert.key, server.root / "server.key")
            server._own(server.root)
            if server.running:
                server.scalar("SELECT pg_reload_conf()")
            cache_names = [n for n in binding.cache_endpoints.get(region, ("", "")) if n]
            if cache_names:
                cert = self.ca.issue(f"cache-{region}", cache_names, [server_address(index)])
                cache_server = self.cache.servers[index]
                cache_server.certificate = cert
                with cache_server.client() as client:
                    # both at once: Redis refuses a certificate that does not match the key
                    client.execute_command(
                        "CONFIG",
                        "SET",
                        "tls-cert-file",
                        str(cert.cert),
                        "tls-key-file",
                        str(cert.key),
                    )

    def bound_region(self, region: str) -> int | None:
        """The index of ``region`` in the bound pair (None when not bound)."""
        binding = self.binding
        if binding is None or region not in binding.regions:
            return None
        return binding.regions.index(region)

    def carries_cluster(self, arn: str) -> bool:
        binding = self.binding
        return binding is not None and arn in binding.cluster_arns.values()

    def carries_global_cluster(self, global_cluster_id: str) -> bool:
        binding = self.binding
        return binding is not None and binding.global_cluster_id == global_cluster_id

    def carries_cache_endpoint(self, host: str) -> bool:
        binding = self.binding
        wanted = host.rstrip(".").lower()
        return binding is not None and any(
            wanted == name.lower() for pair in binding.cache_endpoints.values() for name in pair
        )

    def carries_datastore(self, global_id: str) -> bool:
        binding = self.binding
        return binding is not None and binding.cache_global_id == global_id

    # -- the Data API executes here ----------------------------------------------------------

    def execute(
        self, region: str, sql: str, params: dict[str, Any]
    ) -> tuple[list[str], list[list[Any]], int]:
        """Run one statement on ``region``'s server, as the Data API does on the cluster's
        writer (TLS, verified against the cluster endpoint's name); (columns, rows, changed)."""
        index = self.bound_region(region)
        if index is None:
            raise DataPlaneError(f"{region} is not a region of the bound stack")
        with self._lock:
            conn = self._session(index)
            try:
                rows = conn.run(sql, **params)
            except (pg8000.native.InterfaceError, OSError):
                self._sessions.pop(index, None)
                raise
            columns = [c["name"] for c in conn.columns or []]
            changed = max(int(conn.row_count or 0), 0)
        return columns, [list(r) for r in rows or []], changed

    def _session(self, index: int) -> pg8000.native.Connection:
        session = self._sessions.get(index)
        if session is not None:
            return session
        binding = self.binding
        assert binding is not None
        endpoint = binding.cluster_endpoints[binding.regions[index]][0]
        session = self.connect_aurora(endpoint, address=server_address(index))
        self._sessions[index] = session
        return session

    def connect_aurora(
        self, name: str, address: str | None = None, timeout: float = 5.0
    ) -> pg8000.native.Connection:
        """A session as applications open one: ``name`` resolved through the DNS server
        (unless ``address`` is given), TLS with ``verify-full`` against the local CA."""
        binding = self.binding
        assert binding is not None
        target = address or self.resolver.resolve(name).address
        sock = socket.create_connection((target, self.aurora.port), timeout=timeout)
        context = ssl.create_default_context(cafile=str(self.ca.cert))
        return pg8000.native.Connection(
            APP_USER,
            host=name,
            password=self.aurora.app_password,
            database=binding.database,
            sock=sock,
            ssl_context=context,
            timeout=timeout,
        )

    def connect_cache(self, host: str, port: int, timeout: float) -> socket.socket:
        """A TLS connection through ``host`` (an endpoint or the private name), resolved
        through the DNS server, verified against the ElastiCache endpoint the name leads to
        (the last name of the CNAME chain: what the certificate names, as on AWS). The port in
        the stack outputs is AWS's; the local one is used."""
        del port
        answer = self.resolver.resolve(host)
        raw = socket.create_connection((answer.address, self.cache.port), timeout=timeout)
        context = ssl.create_default_context(cafile=str(self.ca.cert))
        return context.wrap_socket(raw, server_hostname=answer.chain[-1])

    def _close_sessions(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            with contextlib.suppress(Exception):  # a dead session is being dropped anyway
                session.close()

    def create_schema(self, ddl: str) -> None:
        """The application's migration, on the writer of the bound stack."""
        binding = self.binding
        assert binding is not None
        with self._lock:
            self.execute(binding.regions[self.aurora.writer], ddl, {})
            self.aurora.wait_replayed()

    # -- control-plane hooks -----------------------------------------------------------------

    def on_fault(self, event: str, subject: str) -> None:
        """The emulated network changed (:class:`~emulator.state.Faults` listener)."""
        if event == "region-down":
            self.region_lost(subject)
        elif event == "region-up":
            self.region_back(subject)
        elif event == "data-plane-down":
            self.data_plane_cut(subject)
        elif event == "data-plane-up":
            self.data_plane_back(subject)
        elif event in ("hold", "release") and self.binding is not None:
            if subject == "aurora_replication":
                self.replication_held(event == "hold")
            elif subject == CACHE_REPLICATION:
                link = self.cache.link_into(self.cache.secondary)
                link.hold() if event == "hold" else link.release()

    def aurora_moved(self, new_region: str, *, lossy: bool) -> None:
        """A switchover or failover took effect: the servers follow."""
        index = self.bound_region(new_region)
        if index is None or index == self.aurora.writer:
            return
        with self._lock:
            self._close_sessions()
            if lossy:
                self._guard(f"aurora failover to {new_region}", self.aurora.failover)
            else:
                self._guard(f"aurora switchover to {new_region}", self.aurora.switchover)

    def aurora_rejoined(self, region: str) -> None:
        """After a lossy failover the old primary's region answers: rebuild it."""
        index = self.bound_region(region)
        if index is None or index == self.aurora.writer:
            return
        with self._lock:
            self._guard(
                f"aurora rebuilt {region} from the writer", lambda: self.aurora.rebuild(index)
            )

    def region_lost(self, region: str) -> None:
        """The region stops answering: its servers go down as in a crash."""
        index = self.bound_region(region)
        if index is None:
            return
        with self._lock:
            self._sessions.pop(index, None)

            def lose() -> None:
                self.aurora.lose_region(index)
                self.cache.lose_region(index)

            self._guard(f"{region} lost", lose)

    def region_back(self, region: str) -> None:
        """The region answers again. Its cache group restarts: as the primary if no failover
        moved the role meanwhile, else as a replica of the new primary. Its Aurora server
        restarts (crash recovery) if it is still the writer; a demoted one waits for the
        control plane's rejoin (:meth:`aurora_rejoined`), which rebuilds it."""
        index = self.bound_region(region)
        if index is None:
            return
        with self._lock:
            self._guard(f"{region} back", lambda: self._restart(index))

    def data_plane_cut(self, region: str) -> None:
        """An FIS network disruption with scope ``all`` cut the region's data subnets off:
        AWS clones the subnets' network ACL with deny-all entries, which "denies all traffic
        entering and leaving the subnet" (FIS User Guide, actions reference,
        ``aws:network:disrupt-connectivity``). The servers keep running and keep their data;
        what stops is every path through the region's edge: applications and probes (new
        connections and open ones), the Data API's sessions, and replication out of the region
        and into it. AWS's management path to the instances is not a customer subnet's: the
        control plane still administers the servers (a failover fences the old primary).
        Leniency: a network ACL drops packets, so a client waits for its own timeout; the
        edge here closes the connection at once, as the emulator's model data plane and a
        refusing region do, so that no test waits on a timeout."""
        index = self.bound_region(region)
        if index is None or index in self.isolated:
            return
        with self._lock:
            session = self._sessions.pop(index, None)
            if session is not None:
                with contextlib.suppress(Exception):  # its connection is about to be cut
                    session.close()
            paths = [
                self.aurora.edges[index],
                self.cache.edges[index],
                self.aurora.link_into(index),
                self.cache.link_into(index),
            ]
            closed = [path for path in paths if not path.is_cut]
            for path in closed:
                path.cut()
            self.isolated[index] = closed
            self.events.append(f"{region} data plane cut off")

    def data_plane_back(self, region: str) -> None:
        """The disruption ended (the experiment stopped or completed; FIS restores the
        subnets' original ACL): what the cut closed opens again. Replication resumes on its
        own (PostgreSQL's WAL receiver and a Redis replica reconnect; a cache group that a
        failover demoted meanwhile links up with the new primary); this returns once it has.
        An old Aurora primary that a failover fenced waits for the control plane's rejoin."""
        index = self.bound_region(region)
        if index is None:
            return
        with self._lock:
            for path in self.isolated.pop(index, []):
                path.restore()

            def reconnect() -> None:
                if all(server.running for server in self.cache.servers):
                    self.cache.wait_linked()
                standby = self.aurora.servers[self.aurora.secondary]
                writer = self.aurora.servers[self.aurora.writer]
                if writer.running and standby.running and standby.in_recovery():
                    self.aurora.wait_streaming()

            self._guard(f"{region} data plane back", reconnect)

    def _restart(self, index: int) -> None:
        cache = self.cache.servers[index]
        if index == self.cache.primary:
            if not cache.running:
                cache.start(None)
            self.cache.recover()
        elif not cache.running:
            self.cache.rejoin(index)
        if index == self.aurora.writer and not self.aurora.servers[index].running:
            self.aurora.recover()

    def _guard(self, what: str, action: Callable[[], None]) -> None:
        """Run a server operation for a control-plane event; a failure is logged and kept in
        :attr:`events` (the event fires inside an emulator tick, which must not break the
        request that happened to run it)."""
        try:
            action()
        except Exception as exc:
            log.exception("region pair: %s failed", what)
            self.events.append(f"{what} FAILED: {exc}")
            self.errors.append(f"{what}: {exc}")
            return
        self.events.append(what)

    def replication_held(self, held: bool) -> None:
        """A test holds (or releases) Aurora's replication: the link into the secondary."""
        link = self.aurora.link_into(self.aurora.secondary)
        if held:
            link.hold()
        else:
            link.release()

    def cache_moved(self, new_region: str, *, planned: bool) -> None:
        """``failover_global_replication_group`` took effect."""
        index = self.bound_region(new_region)
        if index is None or index == self.cache.primary:
            return
        with self._lock:
            old = self.cache.primary
            # an isolated old primary cannot ship what it has: nothing more arrives
            reachable = self.cache.servers[old].running and old not in self.isolated

            def move() -> None:
                self.cache.failover(planned=planned and reachable)
                binding = self.binding
                if binding is not None and not self.cache.servers[old].running:
                    from emulator.state import STATE  # the emulated network's view

                    if not STATE.faults.is_down(binding.regions[old]):
                        self.cache.rejoin(old)  # its region is back already: it follows

            self._guard(f"cache failover to {new_region}", move)

    # -- names -------------------------------------------------------------------------------

    def lookup(self, name: str) -> list[Record]:
        """The DNS server's answers: AWS-owned names from the control plane, then the private
        zone from the emulated Route 53."""
        binding = self.binding
        if binding is None:
            return []
        for index, region in enumerate(binding.regions):
            if name in (n.lower() for n in binding.cluster_endpoints[region]):
                return [Record("A", server_address(index), CLUSTER_ENDPOINT_TTL)]
            if name in (n.lower() for n in binding.cache_endpoints.get(region, ("", "")) if n):
                return [Record("A", server_address(index), CACHE_ENDPOINT_TTL)]
        if name == binding.writer_endpoint.lower():
            writer_region = binding.regions[self.aurora.writer]
            target = binding.cluster_endpoints[writer_region][0]
            return [Record("CNAME", target.lower(), CLUSTER_ENDPOINT_TTL)]
        from emulator.route53 import zone_records  # route53 imports .dns: import late

        return zone_records(binding.zone_id, name)
