"""A WSGI middleware in front of moto's server: fault injection and the emulator's clock.

Every request is attributed to a region and a service from its SigV4 ``Authorization`` header
(what a real endpoint does from the hostname). A request to a region that is down is held
without an answer (the client's read timeout fires, as with a region that stops answering);
a throttled request gets the service's own throttling error in its own protocol; every other
request first advances the emulator (``STATE.tick()``) and is then served by moto, one at a
time, since moto's backends are not written for concurrent mutation.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from .state import STATE
from .transport import IN_PROCESS, WouldHoldError

_CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/(?P<service>[a-z0-9-]+)/")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

GLOBAL_SERVICES = frozenset({"route53", "iam", "sts"})
"""Services without regional endpoints: a region that stops answering does not stop them."""

_QUERY_SERVICES = {"rds", "elasticache", "sts", "sns", "ec2", "iam"}
_JSON_SERVICES = {
    "dynamodb": "DynamoDB_20120810",
    "secretsmanager": "secretsmanager",
    "kms": "TrentService",
}


def request_scope(environ: dict[str, Any]) -> tuple[str | None, str | None]:
    """(region, service) of a signed request, from its credential scope."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match is None:
        return None, None
    return match.group("region"), match.group("service")


def _operation(environ: dict[str, Any], body: bytes) -> str | None:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    if body and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    path = str(environ.get("PATH_INFO", ""))
    return path.strip("/").split("/")[0] or None


def _throttle_response(service: str, start_response: StartResponse) -> list[bytes]:
    request_id = str(uuid.uuid4())
    if service in _QUERY_SERVICES:
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
            f"<Message>Rate exceeded</Message></Error><RequestId>{request_id}</RequestId>"
            "</ErrorResponse>"
        ).encode()
        start_response(
            "400 Bad Request",
            [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)],
        )
        return [body]
    if service in _JSON_SERVICES:
        payload = {"__type": "ThrottlingException", "message": "Rate exceeded"}
        start_response(
            "400 Bad Request",
            [
                ("Content-Type", "application/x-amz-json-1.0"),
                ("x-amzn-RequestId", request_id),
            ],
        )
        return [json.dumps(payload).encode()]
    # rest-json (rds-data) and anything else: the error type travels in a header
    start_response(
        "429 Too Many Requests",
        [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", "ThrottlingException"),
            ("x-amzn-RequestId", request_id),
        ],
    )
    return [json.dumps({"message": "Rate exceeded"}).encode()]


class FaultMiddleware:
    """Wraps moto's WSGI application with fault injection and the emulator clock."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request."""
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith("/moto-api"):
            with STATE.lock:
                return list(self.app(environ, start_response))
        region, service = request_scope(environ)
        faults = STATE.faults
        # Route 53 is a global service (requests are signed for us-east-1 whatever the
        # client's region): a regional outage in the emulator does not take it down. Real
        # Route 53's control plane is hosted in us-east-1 and can be impaired there (docs:
        # "Creating disaster recovery mechanisms using Amazon Route 53"): docs/drills.md
        # lists this as a leniency.
        if service in GLOBAL_SERVICES:
            region = None
        if region is not None and faults.is_down(region):
            if region not in faults.refusing:
                if environ.get(IN_PROCESS):
                    raise WouldHoldError(region)  # the caller sends it over HTTP, to be held there
                faults.held_count += 1
                faults.wait_for_recovery(region, faults.hold_seconds)
            start_response("503 Service Unavailable", [("Content-Length", "0")])
            return [b""]
        if service == "rds-data" and region in faults.data_plane_cut:
            # the Data API reaches the cluster through its subnets: cut off, it cannot connect
            # (refused at once, as a down region that refuses is: no test waits on a timeout)
            start_response("503 Service Unavailable", [("Content-Length", "0")])
            return [b""]
        body = b""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
        if service is not None and faults.take_throttle(service, region, _operation(environ, body)):
            return _throttle_response(service, start_response)
        with STATE.lock:
            STATE.request_count += 1
            STATE.tick()
            return list(self.app(environ, start_response))
