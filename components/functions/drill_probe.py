"""The in-VPC probe function of the DR drills (``components/drill_probes.py``).

A drill on AWS runs outside the data VPCs (a CI runner), where the private zone does not
resolve and the stores do not answer. It invokes this function in each region instead
(``lambda:InvokeFunction``): the function resolves the names applications use through the
VPC's resolver and connects to the stores over their own protocols, with the same probe code
the sandbox runs (:mod:`components.functions.app_probes`). Its security group reaches only the
stores' ports and the Secrets Manager endpoint, so whatever an event names, the function can
reach nothing else.

Event::

    {"probes": [{"store": "aurora", "name": "writer.<zone>", "tlsName": "<AWS endpoint>",
                 "port": 5432, "canary": {"id", "drill_id", "region", "phase", "written_at"}?},
                {"store": "cache", "name": "cache.<zone>", "tlsName": "<AWS endpoint>",
                 "port": 6379, "key": "drill:...", "value": "..."?}]}

Answer: ``{"region": <this region>, "results": [Outcome.to_json(), ...]}``, one per probe, in
order; a probe that fails is an outcome with ``ok: false`` and the error, never an exception.

Environment (set by the component): ``AURORA_SECRET_ID`` and ``CACHE_SECRET_ID`` (this
region's replica of each secret), ``SECRETS_ENDPOINT_URL`` (the Secrets Manager interface
endpoint: the private subnets have no other way out), ``RDS_CA_FILE`` (the RDS CA bundle
packaged with the function, when it is).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from components.functions.app_probes import (
    Outcome,
    Resolver,
    postgres_probe,
    redis_probe,
    system_resolver,
)

CANARY_PREFIX = "drill:"
"""Cache keys the function writes: only the drills' own (they expire after a day)."""
STORES = ("aurora", "cache")
DEFAULT_TIMEOUT = 5.0


class ProbeEventError(ValueError):
    """An event the function refuses (names the field and what is allowed)."""


class Credentials(Protocol):
    """Where the probes' credentials come from (Secrets Manager in the function)."""

    def aurora(self) -> Mapping[str, Any]:
        """The master secret's JSON: ``username``, ``password``, ``dbname``."""

    def cache_token(self) -> str | None:
        """The cache's AUTH token."""


class SecretsManagerCredentials:
    """This region's replica of each secret, read once, through the interface endpoint."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._aurora: Mapping[str, Any] | None = None
        self._token: str | None = None

    def _read(self, variable: str) -> str:
        secret_id = os.environ.get(variable)
        if not secret_id:
            raise ProbeEventError(f"environment variable {variable} is not set")
        return str(self.client.get_secret_value(SecretId=secret_id)["SecretString"])

    def aurora(self) -> Mapping[str, Any]:
        if self._aurora is None:
            self._aurora = json.loads(self._read("AURORA_SECRET_ID"))
        return self._aurora

    def cache_token(self) -> str | None:
        if self._token is None:
            self._token = self._read("CACHE_SECRET_ID")
        return self._token


def _field(probe: Mapping[str, Any], key: str, index: int) -> str:
    value = probe.get(key)
    if not isinstance(value, str) or not value:
        raise ProbeEventError(f"probes[{index}].{key} has value {value!r}; allowed: a name")
    return value


def run_probes(
    event: Mapping[str, Any],
    credentials: Credentials,
    *,
    resolve: Resolver = system_resolver,
    cafile: str | None = None,
    cache_cafile: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Outcome]:
    """Every probe of ``event``, in order. The function passes the VPC's resolver and the
    packaged RDS CA bundle (``cafile``; ElastiCache's certificates chain to public CAs, so
    ``cache_cafile`` stays None: the system's); the sandbox passes its region pair's DNS
    server and local CA for both."""
    probes = event.get("probes")
    if not isinstance(probes, list) or not probes:
        raise ProbeEventError(f"probes has value {probes!r}; allowed: a non-empty list")
    results: list[Outcome] = []
    for index, probe in enumerate(probes):
        if not isinstance(probe, Mapping) or probe.get("store") not in STORES:
            store = probe.get("store") if isinstance(probe, Mapping) else probe
            raise ProbeEventError(
                f"probes[{index}].store has value {store!r}; allowed: {', '.join(STORES)}"
            )
        name, tls_name = _field(probe, "name", index), _field(probe, "tlsName", index)
        port = probe.get("port")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ProbeEventError(f"probes[{index}].port has value {port!r}; allowed: 1-65535")
        if probe["store"] == "aurora":
            secret = credentials.aurora()
            canary = probe.get("canary")
            results.append(
                postgres_probe(
                    name,
                    tls_name=tls_name,
                    port=port,
                    user=str(secret["username"]),
                    password=str(secret["password"]),
                    database=str(secret["dbname"]),
                    resolve=resolve,
                    cafile=cafile,
                    timeout=timeout,
                    canary=canary if isinstance(canary, Mapping) else None,
                )
            )
        else:
            key = probe.get("key")
            if key is not None and (not isinstance(key, str) or not key.startswith(CANARY_PREFIX)):
                raise ProbeEventError(
                    f"probes[{index}].key has value {key!r}; allowed: a key starting "
                    f"{CANARY_PREFIX!r}"
                )
            results.append(
                redis_probe(
                    name,
                    tls_name=tls_name,
                    port=port,
                    token=credentials.cache_token(),
                    resolve=resolve,
                    cafile=cache_cafile,
                    timeout=timeout,
                    key=key,
                    value=str(probe.get("value") or ""),
                )
            )
    return results


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point."""
    import boto3  # in the Lambda runtime; imported here so the module loads without it

    client = boto3.client(
        "secretsmanager", endpoint_url=os.environ.get("SECRETS_ENDPOINT_URL") or None
    )
    cafile = os.environ.get("RDS_CA_FILE") or None
    if cafile and not Path(cafile).is_absolute():  # packaged: relative to the package root
        cafile = str(Path(__file__).resolve().parents[2] / cafile)
    results = run_probes(event, SecretsManagerCredentials(client), cafile=cafile)
    return {
        "region": os.environ.get("AWS_REGION", ""),
        "results": [outcome.to_json() for outcome in results],
    }
