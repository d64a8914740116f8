"""moto's own threaded HTTP server, with the extensions installed and the fault middleware."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from moto import backends as moto_backends
from moto.core import responses as moto_responses
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from . import (
    aurora,
    cloudwatch,
    dataapi,
    dynamodb,
    elasticache,
    fis,
    rds_instance,
    rds_restore,
    redshift,
    route53,
    ssm,
)
from .cachedata import CacheDataPlane
from .faults import FaultMiddleware
from .state import (
    STATE,
    EmulatedDelay,
    EmulatorState,
    EmulatorTimings,
    Faults,
    action_names,
    patch,
)
from .transport import DISPATCH

_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class _FaultableMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer whose WSGI application sits behind :class:`FaultMiddleware`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = FaultMiddleware(DomainDispatcherApplication(create_backend_app))
        """The application the socket serves (and :meth:`Emulator.serve_in_process`)."""

    def _server_entry(self) -> None:
        self._server = make_server(
            self._ip_address, self._port, self.app, True, request_handler=_QuietHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


class _QuietHandler(MotoRequestHandler):
    """No access log on stderr (the drill's own progress is the interesting output)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None

    def log_error(self, *args: Any, **kwargs: Any) -> None:
        return None


DATA_PLANES = ("real", "model")
"""``real``: PostgreSQL and Redis servers per region (:mod:`.dataplane`); ``model``: the
emulator's own SQLite stores and RESP listeners."""

_MOTO_MODULES: list[str] = []


def _cached_moto_modules() -> list[str]:
    return _MOTO_MODULES


def install() -> EmulatorState:
    """Install every moto extension into this process (idempotent)."""
    if not _MOTO_MODULES:
        # moto lists its own package directory on every request to route it (thousands of
        # stat calls): the list never changes, so compute it once
        _MOTO_MODULES.extend(moto_backends.list_of_moto_modules())
        patch(moto_backends, "list_of_moto_modules", _cached_moto_modules)
        patch(moto_responses, "method_names_from_class", action_names)
    aurora.install()
    dataapi.install()
    rds_restore.install()
    dynamodb.install()
    ssm.install()
    cloudwatch.install()
    elasticache.install()
    route53.install()
    fis.install()
    rds_instance.install()
    redshift.install()
    return STATE


class Emulator:
    """An AWS emulator on 127.0.0.1: moto's server plus global-database behaviours and faults.

    Drill code reaches it only through boto3's standard configuration: :meth:`environment`
    gives the ``AWS_ENDPOINT_URL`` and dummy credentials to set.
    """

    def __init__(
        self, timings: EmulatorTimings | None = None, port: int = 0, data_plane: str | None = None
    ) -> None:
        """``data_plane``: ``real`` (the default, or ``DRILLS_DATA_PLANE``) starts a region
        pair of real servers with the emulator and binds every stack seeded into it; ``model``
        keeps the data in the emulator's own models (tests that need no servers)."""
        self.state = install()
        wanted = data_plane or os.environ.get("DRILLS_DATA_PLANE", "real")
        if wanted not in DATA_PLANES:
            raise ValueError(
                f"data plane {wanted!r} (DRILLS_DATA_PLANE); allowed: {', '.join(DATA_PLANES)}"
            )
        self.data_plane_kind = wanted
        self._own_pair: Any = None
        if timings is not None:
            self.state.timings = timings
        self._server = _FaultableMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._started = False
        self.cache_plane = CacheDataPlane()
        """RESP listeners for the seeded replication groups (the cache's data plane)."""
        self.data_plane: Any = None
        """The real region pair (``emulator.dataplane.RegionPair``) that stacks seeded
        from now on are bound to, or None (the emulator's own models carry the data)."""

    def attach(self, pair: Any) -> None:
        """Bind stacks seeded from now on to ``pair``'s real servers; its servers follow the
        emulated network (region loss, held replication)."""
        self.detach()
        self.data_plane = pair
        STATE.data_plane = pair
        STATE.faults.listeners.append(pair.on_fault)

    def detach(self) -> None:
        """Seeded stacks go back to the emulator's own models."""
        pair, self.data_plane = self.data_plane, None
        if pair is not None:
            if pair.on_fault in STATE.faults.listeners:
                STATE.faults.listeners.remove(pair.on_fault)
            pair.binding = None
        STATE.data_plane = None

    @property
    def account_id(self) -> str:
        """The account every request is attributed to."""
        return str(DEFAULT_ACCOUNT_ID)

    @property
    def faults(self) -> Faults:
        """Fault injection controls."""
        return self.state.faults

    @property
    def timings(self) -> EmulatorTimings:
        """Current emulated durations."""
        return self.state.timings

    @timings.setter
    def timings(self, value: EmulatorTimings) -> None:
        self.state.timings = value

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        """Start serving (returns self)."""
        if not self._started:
            self._server.start()
            self._started = True
            if self.data_plane_kind == "real" and self._own_pair is None:
                from .dataplane import RegionPair  # servers: only when asked for

                try:
                    self._own_pair = RegionPair().start()
                except BaseException:
                    self.stop()
                    raise
                self.attach(self._own_pair)
        return self

    def serve_in_process(self) -> Emulator:
        """Answer this process's boto3 requests to :attr:`endpoint_url` without the socket
        (:mod:`.transport`): the same application and faults, a third less CPU per call.
        Other processes, and requests a hanging region would hold, still use HTTP."""
        if not self._started:
            raise RuntimeError("serve_in_process() needs a started emulator")
        DISPATCH.register(urlsplit(self.endpoint_url).netloc, self._server.app)
        return self

    def stop(self) -> None:
        """Stop serving; held requests are released."""
        if self._started:
            DISPATCH.unregister(urlsplit(self.endpoint_url).netloc)
            self.state.faults.clear()
            self.detach()
            if self._own_pair is not None:
                self._own_pair.stop()
                self._own_pair = None
            self.cache_plane.stop()
            self._server.stop()
            self._started = False

    def environment(self) -> dict[str, str]:
        """Environment variables that point boto3 at this emulator."""
        return {"AWS_ENDPOINT_URL": self.endpoint_url, **_CREDENTIALS}

    @contextmanager
    def configured(self, extra: Mapping[str, str] | None = None) -> Iterator[Emulator]:
        """Set :meth:`environment` in ``os.environ`` for the duration of the block (and hide
        ``AWS_PROFILE``, so the dummy credentials are the ones boto3 uses)."""
        wanted = {**self.environment(), **(extra or {})}
        saved = {key: os.environ.get(key) for key in [*wanted, "AWS_PROFILE"]}
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(wanted)
        try:
            yield self
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def tick(self) -> None:
        """Advance the emulated world to now (requests do this themselves)."""
        self.state.tick()

    def reset(self) -> None:
        """Forget emulator data, faults and pending events (moto's resources stay)."""
        self.state.reset()

    def delays_between(self, start: float, end: float) -> list[EmulatedDelay]:
        """Emulated waits that overlap ``[start, end]`` (for the benchmark)."""
        delays = [*self.state.scheduler.delays, *self.state.faults.outages]
        now = time.time()
        delays += [
            EmulatedDelay(f"{r} outage", t, now) for r, t in self.state.faults.down_regions.items()
        ]
        return [d for d in delays if d.end > start and d.start < end]

    def emulated_seconds(self, start: float, end: float) -> float:
        """Wall time within ``[start, end]`` covered by at least one emulated wait."""
        spans = sorted(
            (max(d.start, start), min(d.end, end)) for d in self.delays_between(start, end)
        )
        total, cursor = 0.0, start
        for begin, finish in spans:
            first = max(begin, cursor)
            if finish > first:
                total += finish - first
                cursor = finish
        return total

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
