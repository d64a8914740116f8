"""The emulator served to boto3 in the caller's own process, without a socket.

A drill test makes a hundred or more AWS calls. Over HTTP, about a third of each call's CPU
is the socket's: urllib3 and ``http.client`` on one side, werkzeug's request parsing on the
other (measured: 2.5 of 7.5 ms for ``DescribeGlobalClusters`` on this project's 2-core
machines). In the test process, :data:`DISPATCH` hands such a request straight to the same
WSGI application the HTTP server runs, fault middleware included, and botocore does
everything else as always: serialisation, signing, retries, parsing, errors.

What HTTP still carries:

- other processes (the CLI, ``drills serve``, the sandbox): they never register here;
- a request the fault middleware would hold (a region that hangs): the client's read timeout
  is what such a request is about, so :class:`WouldHoldError` sends it back to botocore, which
  sends it over the socket where the timeout applies.

This follows moto's own ``BotocoreStubber``: a ``before-send`` handler in botocore's
``BUILTIN_HANDLERS`` (every session created afterwards has it) that answers only the
requests addressed to a registered endpoint and returns None for everything else.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.awsrequest import AWSResponse
from botocore.handlers import BUILTIN_HANDLERS
from moto.core.botocore_stubber import MockRawResponse

IN_PROCESS = "securecart.in_process"
"""Set in the environ of a request served in-process (the fault middleware reads it)."""


class WouldHoldError(Exception):
    """Raised by the fault middleware for an in-process request it would hold unanswered."""


class InProcessDispatch:
    """botocore ``before-send`` handler: requests to a registered ``host:port`` are served by
    that endpoint's WSGI application in the calling thread."""

    def __init__(self) -> None:
        self._apps: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.served = 0
        """Requests answered in-process (tests read it to know the path was taken)."""

    def register(self, netloc: str, app: Any) -> None:
        """Serve requests to ``netloc`` (``127.0.0.1:<port>``) with ``app``."""
        with self._lock:
            self._apps[netloc] = app

    def unregister(self, netloc: str) -> None:
        """Requests to ``netloc`` go over HTTP again."""
        with self._lock:
            self._apps.pop(netloc, None)

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        if not self._apps:
            return None
        parts = urlsplit(request.url)
        app = self._apps.get(parts.netloc)
        if app is None:
            return None
        environ = _environ(request, parts)
        status: list[Any] = []

        def start_response(line: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
            status[:] = [line, headers]
            return lambda data: None

        try:
            chunks: Iterable[bytes] = app(environ, start_response)
            body = b"".join(chunks)
        except WouldHoldError:
            return None  # over the socket, where the client's read timeout applies
        line, headers = status
        self.served += 1
        return AWSResponse(
            request.url, int(line.split(" ", 1)[0]), dict(headers), MockRawResponse(body)
        )


def _environ(request: Any, parts: Any) -> dict[str, Any]:
    """The WSGI environ werkzeug's server would build for ``request`` (PEP 3333)."""
    body = request.body
    if body is None:
        data = b""
    elif isinstance(body, bytes | bytearray):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:  # a file-like body (streaming uploads): read it whole, as the server would
        data = body.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
    host, _, port = parts.netloc.partition(":")
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme or "http",
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(parts.path or "/", "latin-1"),
        "QUERY_STRING": parts.query,
        "RAW_URI": parts.path + (f"?{parts.query}" if parts.query else ""),
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": 0,
        "SERVER_NAME": host,
        "SERVER_PORT": port or "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": parts.netloc,
        "CONTENT_LENGTH": str(len(data)),
        IN_PROCESS: True,
    }
    environ["REQUEST_URI"] = environ["RAW_URI"]
    for name, raw in request.headers.items():
        key = name.upper().replace("-", "_")
        value = raw.decode("latin-1") if isinstance(raw, bytes) else raw
        if key == "CONTENT_TYPE":
            environ[key] = value
        elif key != "CONTENT_LENGTH":  # the body's own length (above) is what the app reads
            environ[f"HTTP_{key}"] = value
    return environ


DISPATCH = InProcessDispatch()
BUILTIN_HANDLERS.append(("before-send", DISPATCH))
