"""Run ``__main__.py`` under Pulumi's own mocks and record the resource graph.

This is the engine's side of a preview without the engine: Pulumi's ``MockMonitor`` receives
every ``RegisterResource`` request; our subclass keeps what the engine would keep (type, name,
inputs, parent, provider, dependencies, property dependencies, resource options). The mocks
answer with plausible cloud outputs (ARNs, endpoints) so the program's ``Output`` chains resolve
as they would after a real ``pulumi up``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import runpy
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from google.protobuf import empty_pb2
from pulumi.asset import Archive, Asset, AssetArchive
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import rpc, settings
from pulumi.runtime import stack as pulumi_stack
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from components.settings import load_settings
from preflight.config import REPO_ROOT, StackConfig, load_stack_config
from preflight.model import RecordedResource, Recording

ACCOUNT = "123456789012"
STACK_TYPE = "pulumi:pulumi:Stack"


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:17]


class CloudMocks(pulumi_mocks.Mocks):
    """Plausible outputs per resource type, derived only from the inputs (deterministic)."""

    def __init__(self, default_region: str) -> None:
        self.default_region = default_region

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:root",
                "userId": "AIDA",
            }, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com"}, []
        return {}, []

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        region = str(inputs.get("region") or self.default_region)
        token = args.typ
        digest = _short_hash(token, args.name)
        module = token.split(":")[1].split("/")[0] if token.count(":") == 2 else "x"
        resource_id = f"{args.name}-{digest[:8]}"
        state: dict[str, Any] = dict(inputs)
        state.setdefault("arn", f"arn:aws:{module}:{region}:{ACCOUNT}:{args.name}")
        state.setdefault("tagsAll", inputs.get("tags") or {})
        if token == "aws:ec2/vpc:Vpc":
            resource_id = f"vpc-{digest}"
        elif token == "aws:ec2/subnet:Subnet":
            resource_id = f"subnet-{digest}"
        elif token == "aws:ec2/securityGroup:SecurityGroup":
            resource_id = f"sg-{digest}"
        elif token == "aws:kms/key:Key":
            resource_id = f"mrk-{digest}"
            state["arn"] = f"arn:aws:kms:{region}:{ACCOUNT}:key/{resource_id}"
            state["keyId"] = resource_id
        elif token == "aws:kms/replicaKey:ReplicaKey":
            primary = str(inputs.get("primaryKeyArn", ""))
            resource_id = primary.rsplit("/", 1)[-1] or f"mrk-{digest}"
            state["arn"] = f"arn:aws:kms:{region}:{ACCOUNT}:key/{resource_id}"
            state["keyId"] = resource_id
        elif token == "aws:rds/globalCluster:GlobalCluster":
            resource_id = str(inputs.get("globalClusterIdentifier", resource_id))
            state["arn"] = f"arn:aws:rds::{ACCOUNT}:global-cluster:{resource_id}"
            # The global writer endpoint: "<global cluster id>.global-<id>.global.rds.amazonaws.com".
            state["endpoint"] = f"{resource_id}.global-{digest[:10]}.global.rds.amazonaws.com"
            state["engineVersionActual"] = inputs.get("engineVersion")
        elif token == "aws:rds/cluster:Cluster":
            resource_id = str(inputs.get("clusterIdentifier", resource_id))
            state["arn"] = f"arn:aws:rds:{region}:{ACCOUNT}:cluster:{resource_id}"
            state["endpoint"] = f"{resource_id}.cluster-c{digest[:11]}.{region}.rds.amazonaws.com"
            state["readerEndpoint"] = (
                f"{resource_id}.cluster-ro-c{digest[:11]}.{region}.rds.amazonaws.com"
            )
            state["clusterResourceId"] = f"cluster-{digest.upper()}"
        elif token == "aws:rds/clusterInstance:ClusterInstance":
            resource_id = str(inputs.get("identifier", resource_id))
            state["arn"] = f"arn:aws:rds:{region}:{ACCOUNT}:db:{resource_id}"
            state["endpoint"] = f"{resource_id}.c{digest[:11]}.{region}.rds.amazonaws.com"
        elif token == "aws:rds/instance:Instance":
            resource_id = str(inputs.get("identifier", resource_id))
            state["arn"] = f"arn:aws:rds:{region}:{ACCOUNT}:db:{resource_id}"
            state["address"] = f"{resource_id}.c{digest[:11]}.{region}.rds.amazonaws.com"
            state["endpoint"] = f"{state['address']}:5432"
        elif token == "aws:dynamodb/table:Table":
            resource_id = str(inputs.get("name", resource_id))
            state["arn"] = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{resource_id}"
            state["streamArn"] = f"{state['arn']}/stream/2026-01-01T00:00:00.000"
        elif token == "aws:elasticache/replicationGroup:ReplicationGroup":
            resource_id = str(inputs.get("replicationGroupId", resource_id))
            state["arn"] = f"arn:aws:elasticache:{region}:{ACCOUNT}:replicationgroup:{resource_id}"
            state["primaryEndpointAddress"] = (
                f"master.{resource_id}.{digest[:6]}.{region}.cache.amazonaws.com"
            )
            state["readerEndpointAddress"] = (
                f"replica.{resource_id}.{digest[:6]}.{region}.cache.amazonaws.com"
            )
        elif token == "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup":
            resource_id = f"ldgnf-{inputs.get('globalReplicationGroupIdSuffix', args.name)}"
            state["globalReplicationGroupId"] = resource_id
            state["arn"] = f"arn:aws:elasticache::{ACCOUNT}:globalreplicationgroup:{resource_id}"
        elif token == "aws:route53/zone:Zone":
            resource_id = f"Z{digest.upper()}"
            state["zoneId"] = resource_id
        elif token == "aws:route53/healthCheck:HealthCheck":
            resource_id = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}"
        elif token == "aws:sns/topic:Topic":
            state["arn"] = f"arn:aws:sns:{region}:{ACCOUNT}:{inputs.get('name', args.name)}"
        elif token == "aws:secretsmanager/secret:Secret":
            state["arn"] = (
                f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{inputs.get('name', args.name)}-{digest[:6]}"
            )
        elif token == "aws:backup/vault:Vault":
            state["arn"] = (
                f"arn:aws:backup:{region}:{ACCOUNT}:backup-vault:{inputs.get('name', args.name)}"
            )
        elif token == "aws:iam/role:Role":
            state["arn"] = f"arn:aws:iam::{ACCOUNT}:role/{inputs.get('name', args.name)}"
        elif token == "aws:cloudwatch/metricAlarm:MetricAlarm":
            state["arn"] = (
                f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{inputs.get('name', args.name)}"
            )
        elif token == "random:index/randomPassword:RandomPassword":
            state["result"] = {
                rpc._special_sig_key: rpc._special_secret_sig,
                "value": "mock-" + digest,
            }
        state.setdefault("name", inputs.get("name", args.name))
        state["id"] = resource_id
        return resource_id, state


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that keeps every registration the way the engine sees it."""

    def __init__(
        self, mocks: pulumi_mocks.Mocks, on_record: Callable[[RecordedResource], None] | None = None
    ) -> None:
        super().__init__(mocks)
        self.on_record = on_record
        """Called with each resource as it is registered (preflight analyzes it at once)."""
        self.recorded: list[RecordedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self.stack_urn = ""

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == STACK_TYPE:
            self.stack_urn = response.urn
            return response
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        for key, value in inputs.items():
            if isinstance(value, Asset | Archive):  # e.g. a Lambda function's code
                inputs[key] = _wire_asset(value)
        # The mocks' state for this URN: inputs plus computed outputs. The recorded inputs win,
        # so secrets stay wrapped and unknowns stay unknown, as in the engine's outputs.
        registration = self.resources.get(response.urn)
        state = dict(registration.state) if registration is not None else {}
        resource = RecordedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            inputs=inputs,
            parent=request.parent or None,
            provider=request.provider or None,
            dependencies=tuple(request.dependencies),
            property_dependencies={
                key: tuple(value.urns) for key, value in request.propertyDependencies.items()
            },
            protect=bool(request.protect),
            ignore_changes=tuple(request.ignoreChanges),
            retain_on_delete=bool(request.retainOnDelete),
            outputs={**state, **inputs},
        )
        self.recorded.append(resource)
        if self.on_record is not None:
            self.on_record(resource)
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        if request.urn == self.stack_urn:
            self.stack_outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        return empty_pb2.Empty()


def _wire_asset(value: Asset | Archive) -> dict[str, Any]:
    """An asset or archive as the engine marshals it (a signature-tagged object): comparable
    between two recordings and JSON-able, like every other recorded input.

    ``hash`` is the SHA-256 of the contents, which is what the engine compares assets by (two
    assets are equal when their hashes are, wherever their files live): a plan diff against a
    baseline recorded in another checkout then sees no change in an unchanged Lambda's code.
    For a file or string asset it is the engine's own hash; for an archive, a hash of its
    members' names and hashes.
    """
    if isinstance(value, AssetArchive):
        assets = {k: _wire_asset(v) for k, v in value.assets.items()}
        members = "\n".join(f"{k}\0{a.get('hash', '')}" for k, a in sorted(assets.items()))
        return {
            rpc._special_sig_key: rpc._special_archive_sig,
            "assets": assets,
            "hash": hashlib.sha256(members.encode()).hexdigest(),
        }
    sig = rpc._special_asset_sig if isinstance(value, Asset) else rpc._special_archive_sig
    for field_name in ("path", "text", "uri"):
        if hasattr(value, field_name):
            wire: dict[str, Any] = {
                rpc._special_sig_key: sig,
                field_name: getattr(value, field_name),
            }
            content = _asset_contents(field_name, getattr(value, field_name))
            if content is not None:
                wire["hash"] = hashlib.sha256(content).hexdigest()
            return wire
    return {rpc._special_sig_key: sig}


def _asset_contents(field_name: str, source: str) -> bytes | None:
    """The bytes an asset stands for (a file, every file of a directory, a text), or None
    when only the cloud can read them (a URI) or the file is not there."""
    if field_name == "text":
        return source.encode()
    if field_name != "path":
        return None
    path = Path(source)
    if path.is_file():
        return path.read_bytes()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return b"".join(str(p.relative_to(path)).encode() + b"\0" + p.read_bytes() for p in files)
    return None


async def _drain_rpcs(await_all_outstanding_tasks: bool = True) -> None:
    """Same contract as ``pulumi.runtime.stack.wait_for_rpcs``, without its quadratic cost.

    The SDK waits for *one* of all pending outputs to finish (``FIRST_COMPLETED``), then waits
    again on the rest: with ~150 resources that is ~90k done-callbacks and about half of a
    mocked run. Awaiting every pending output together reaches the same quiescent state.
    """
    rpc_manager = settings._get_rpc_manager()
    while True:
        while rpc_manager.rpcs:
            await asyncio.sleep(0)
            await rpc_manager.rpcs.pop()
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        while await_all_outstanding_tasks:
            with settings.SETTINGS.lock:
                pending = list(settings.SETTINGS.outputs)
                settings.SETTINGS.outputs.clear()
            if not pending:
                break
            await asyncio.gather(*pending)
        if not rpc_manager.rpcs:
            return


def _no_stack_trace() -> source_pb2.StackTrace:
    return source_pb2.StackTrace()


@contextlib.contextmanager
def _fast_quiescence() -> Iterator[None]:
    """For the duration of one recording: :func:`_drain_rpcs`, and no stack traces.

    The SDK walks the Python stack at every registration to send the engine the source
    position of the resource; preflight records no source positions, and the walk costs
    about 0.3 ms per resource.
    """
    original_wait, original_trace = pulumi_stack.wait_for_rpcs, pulumi_resource._get_stack_trace
    pulumi_stack.wait_for_rpcs = _drain_rpcs
    pulumi_resource._get_stack_trace = _no_stack_trace
    try:
        yield
    finally:
        pulumi_stack.wait_for_rpcs = original_wait
        pulumi_resource._get_stack_trace = original_trace


HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the program's event loop runs, and deliver the first to
    the handler that was in place once the loop has returned. Raised inside the loop, the
    KeyboardInterrupt or SystemExit lands in whichever task or callback the signal interrupted,
    and the loop can then wait forever for an RPC that task was to answer (a SIGTERMed
    ``preflight`` hung there about once in fifteen). The program runs for seconds; a second
    signal is not held."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals (and may set handlers)
        return
    received: list[int] = []

    def hold(signum: int, _frame: object) -> None:
        received.append(signum)
        if len(received) > 1:
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, hold) for sig in HELD_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:  # to the previous handler, as if it came now
            signal.raise_signal(received[0])


def _run(
    config: StackConfig,
    main: Path,
    on_record: Callable[[RecordedResource], None] | None = None,
) -> tuple[RecordingMonitor, list[str]]:
    """Run the program in a fresh context so repeated runs never share runtime state."""
    anchor = str(config.values.get("aws:region", "us-east-1"))
    monitor = RecordingMonitor(CloudMocks(anchor), on_record)
    mock_settings = pulumi_mocks.MockSettings(  # type: ignore[no-untyped-call]
        monitor=monitor,
        monitor_features=set(
            monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures  # type: ignore[no-untyped-call]
        ),
        engine=pulumi_mocks.MockEngine(None),
        project=config.project,
        stack=config.stack,
        dry_run=False,
        organization="organization",
        callbacks=None,
    )
    settings.configure(mock_settings)
    settings.ROOT.set(None)
    set_all_config(config.engine_config(), sorted(config.secret_keys))
    root = str(main.parent)
    added = root not in sys.path
    if added:
        sys.path.insert(0, root)
    try:

        def program() -> None:
            runpy.run_path(str(main), run_name="__main__")

        with _fast_quiescence(), _signals_held():
            _sync_await(run_in_stack(program))
    finally:
        if added:
            sys.path.remove(root)
    return monitor, []


def record(
    config: StackConfig,
    root: Path = REPO_ROOT,
    on_record: Callable[[RecordedResource], None] | None = None,
) -> Recording:
    """Validate the config, run the program under mocks, return everything it registered.

    ``on_record`` sees each resource as soon as it is registered.
    """
    load_settings(config.project_values())  # fail fast with ConfigError before any resource
    context = contextvars.Context()
    monitor, _ = context.run(_run, config, root / "__main__.py", on_record)
    return Recording(
        project=config.project,
        stack=config.stack,
        resources=monitor.recorded,
        outputs=monitor.stack_outputs,
        config=config.redacted(),
    )


def record_stack(
    stack: str,
    overrides: Mapping[str, str] | Iterable[str] | None = None,
    root: Path = REPO_ROOT,
    on_record: Callable[[RecordedResource], None] | None = None,
) -> Recording:
    """Record one stack of the project at ``root``; ``overrides`` are ``--set`` pairs."""
    if overrides is None:
        pairs: list[str] = []
    elif isinstance(overrides, Mapping):
        pairs = [f"{key}={value}" for key, value in overrides.items()]
    else:
        pairs = list(overrides)
    return record(load_stack_config(stack, root, pairs), root, on_record)
