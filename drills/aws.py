"""boto3 clients as the drill uses them: standard configuration, bounded timeouts, retries.

The endpoint, credentials and profile come from boto3's normal configuration chain
(``AWS_ENDPOINT_URL``, ``AWS_PROFILE``, ...). A region that does not answer surfaces as
:class:`~drills.errors.RegionUnavailableError` after the client's own retries.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from .errors import RegionUnavailableError
from .settings import DrillSettings

T = TypeVar("T")

UNREACHABLE = (
    ConnectTimeoutError,
    ReadTimeoutError,
    EndpointConnectionError,
    ConnectionClosedError,
)


ANSWERS_WITH_5XX = frozenset({"DatabaseUnavailableException"})
"""Errors sent with a 5xx status that are an answer, not a failing endpoint: the Data API's
``DatabaseUnavailableException`` (HTTP 504, "The writer instance in the DB cluster isn't
available") is how a secondary cluster of a global database refuses every statement (RDS Data
API Reference, Errors; Aurora User Guide, "Limitations for the Amazon RDS Data API")."""


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ``ClientError`` (empty for anything else)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


_SHARED: dict[str, Any] = {}
_CLIENTS: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Any]] = weakref.WeakKeyDictionary()
"""Clients by boto3 Session, then by everything that configures them."""
_SHARED_LOCK = threading.Lock()
_CONFIG_ENV = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION")


def shared_session() -> Any:
    """One boto3 Session per process: service models load once, configuration (endpoint,
    credentials, profile) is still read from the environment for every new client."""
    with _SHARED_LOCK:
        if "session" not in _SHARED:
            _SHARED["session"] = boto3.session.Session()
        return _SHARED["session"]


class AwsClients:
    """A cache of boto3 clients per (service, region, retry profile)."""

    def __init__(self, settings: DrillSettings, session: Any | None = None) -> None:
        self._session = session or shared_session()
        self._settings = settings
        self._clients: dict[tuple[str, str, bool], Any] = {}
        self._lock = threading.Lock()
        self.calls = 0

    def client(self, service: str, region: str, *, retries: bool = True) -> Any:
        """A client; ``retries=False`` for probes that must fail fast (canary writes).

        Clients are thread-safe and costly to create (tens of ms), so a session's clients are
        reused across drills in a process, keyed by everything that configures them.
        """
        key = (service, region, retries)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._make(service, region, retries)
            return self._clients[key]

    def _make(self, service: str, region: str, retries: bool) -> Any:
        s = self._settings
        attempts = s.aws_max_attempts if retries else 1
        shared_key = (
            service,
            region,
            s.aws_connect_timeout,
            s.aws_read_timeout,
            attempts,
            *(os.environ.get(name) for name in _CONFIG_ENV),
        )
        # per session: a resumed drill, or the next drill of a process, reuses its clients
        # (a caller's own session, e.g. one that counts calls, keeps its own)
        with _SHARED_LOCK:
            clients = _CLIENTS.setdefault(self._session, {})
            cached = clients.get(shared_key)
        if cached is not None:
            return cached
        config = Config(
            connect_timeout=s.aws_connect_timeout,
            read_timeout=s.aws_read_timeout,
            retries={"mode": "standard", "total_max_attempts": attempts},
        )
        client = self._session.client(service, region_name=region, config=config)
        with _SHARED_LOCK:
            clients[shared_key] = client
        return client

    def call(
        self,
        service: str,
        region: str,
        operation: str,
        *,
        retries: bool = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """``client.<operation>(**kwargs)``; an unreachable region raises RegionUnavailableError."""
        client = self.client(service, region, retries=retries)
        self.calls += 1
        try:
            result: dict[str, Any] = getattr(client, operation)(**kwargs)
        except UNREACHABLE as exc:
            raise RegionUnavailableError(region, f"{service}.{operation}: {exc}") from exc
        except ClientError as exc:
            # 5xx after botocore's retries: the regional endpoint is failing, not refusing
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if status >= 500 and error_code(exc) not in ANSWERS_WITH_5XX:
                raise RegionUnavailableError(region, f"{service}.{operation}: {exc}") from exc
            raise
        return result

    def guarded(self, region: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` and turn connectivity errors into RegionUnavailableError."""
        try:
            return fn()
        except UNREACHABLE as exc:
            raise RegionUnavailableError(region, str(exc)) from exc
