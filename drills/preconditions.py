"""Preconditions: the checks a drill runs before it changes anything, and their catalog.

``plan`` prints the catalog entries that apply to a scenario (:func:`planned`), and every check
the drill runs at start is one of those entries (a test holds the two together), so what
``plan`` promises is what ``run`` checks.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .aws import error_code
from .canary import CANARY_SCHEMA, CANARY_TABLE
from .engine import DrillContext, Step
from .errors import PreconditionFailedError, RegionUnavailableError
from .journal import stack_lock_holder
from .metrics import aurora_lag
from .reads import (
    alarms_in_alarm,
    cache_primaries,
    describe_cluster,
    describe_datastore,
    describe_global_cluster,
    reachable,
    read_active_region,
    region_of_arn,
    synchronized,
    writer_regions,
)
from .stop_conditions import expected_alarms
from .target import StackTarget
from .verify import cleanup_canaries


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """Which preconditions a scenario needs."""

    aurora: bool = True
    cache: bool = True
    tables: str = "canary"
    """``canary`` (the canary table), ``all``, ``order`` or ``none``."""
    pitr: bool = False
    lossy: bool = False
    """The writer's region is expected to be lost (unplanned failover)."""
    setting: bool = False
    """The DynamoDB active-region setting must exist and name the writer's region."""


@dataclass(frozen=True, slots=True)
class CheckDef:
    """One entry of the catalog: a name pattern, what it demands, when it applies."""

    pattern: str
    description: str
    applies: Callable[[CheckSpec], bool]

    def matches(self, name: str) -> bool:
        """Whether a check's name is an instance of this entry."""
        regex = re.escape(self.pattern).replace(re.escape("<region>"), "[a-z0-9-]+")
        regex = regex.replace(re.escape("<table>"), ".+")
        return re.fullmatch(regex, name) is not None


@dataclass(frozen=True, slots=True)
class Check:
    """One precondition (its name is one of :data:`drills.preconditions.CATALOG`)."""

    name: str
    ok: bool
    detail: str
    blocking: bool = True

    def to_json(self) -> dict[str, Any]:
        """JSON-able."""
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "blocking": self.blocking}


def _always(spec: CheckSpec) -> bool:
    return True


CATALOG: tuple[CheckDef, ...] = (
    CheckDef(
        "primary-region-reachable",
        "the region the writers leave answers (not blocking when it is declared lost)",
        _always,
    ),
    CheckDef("no-other-drill", "no other drill holds the stack", _always),
    CheckDef("no-pulumi-update", "no Pulumi update holds the stack", _always),
    CheckDef(
        "global-cluster-available", "the Aurora global cluster is available", lambda s: s.aurora
    ),
    CheckDef(
        "aurora-writer-in-primary",
        "the Aurora writer is in the region the drill moves it from",
        lambda s: s.aurora,
    ),
    CheckDef(
        "aurora-members-synchronized",
        "every member of the global cluster is synchronized",
        lambda s: s.aurora,
    ),
    CheckDef("aurora-cluster-<region>", "each regional cluster is available", lambda s: s.aurora),
    CheckDef(
        "aurora-data-api-<region>",
        "the RDS Data API (HTTP endpoint) is enabled on each cluster",
        lambda s: s.aurora,
    ),
    CheckDef(
        "aurora-canary-table",
        "the canary table exists on the writer (docs/drills.md, The canary table)",
        lambda s: s.aurora,
    ),
    CheckDef("aurora-backups", "the writer keeps automated backups", lambda s: s.pitr),
    CheckDef(
        "aurora-replication-lag",
        "AuroraGlobalDBReplicationLag (CloudWatch) under drillsMaxReplicationLagSeconds "
        "(an unplanned failover: while the primary still answers)",
        lambda s: s.aurora,
    ),
    CheckDef(
        "data-loss-accepted",
        "a primary that still answers is failed over with AllowDataLoss only with "
        "--allow-data-loss",
        lambda s: s.lossy,
    ),
    CheckDef(
        "table-<table>",
        "each table is ACTIVE with an ACTIVE replica in the other region",
        lambda s: s.tables != "none",
    ),
    CheckDef("table-<table>-pitr", "point-in-time recovery is on for each table", lambda s: s.pitr),
    CheckDef(
        "table-<table>-replication",
        "a probe item reaches the other region within drillsMaxReplicationLagSeconds",
        lambda s: s.tables != "none",
    ),
    CheckDef(
        "dynamodb-active-region",
        "the active-region setting exists in both regions and names the writer's region",
        lambda s: s.setting,
    ),
    CheckDef(
        "cache-dns",
        "cache.<zone> points at the primary replication group's endpoint",
        lambda s: s.cache,
    ),
    CheckDef(
        "cache-datastore",
        "the global datastore is available with every member associated",
        lambda s: s.cache,
    ),
    CheckDef(
        "cache-primary-in-primary",
        "the cache primary is in the region the drill moves it from",
        lambda s: s.cache,
    ),
    CheckDef(
        "app-names-<region>",
        "from inside the region's data VPC, the probes connect through every name applications "
        "use (writer.<zone> reaching the writer, reader-<region>.<zone>, cache.<zone>): DNS, "
        "TLS verified against the AWS endpoint, authenticated. On AWS the stack's probe "
        "function (drillsProbes) runs them, and the drill refuses without it; the sandbox runs "
        "the same code against its region pair",
        lambda s: s.aurora,
    ),
    CheckDef("no-alarm-in-alarm", "no stack alarm is in ALARM", _always),
    CheckDef("alarms-readable", "every region's alarms can be read (not blocking)", _always),
)


def planned(spec: CheckSpec) -> list[CheckDef]:
    """The catalog entries a scenario with ``spec`` runs (what ``plan`` prints)."""
    return [d for d in CATALOG if d.applies(spec)]


def catalog_entry(name: str) -> CheckDef | None:
    """The catalog entry a check's name belongs to: the most specific one that matches (a
    table's name may contain dashes, so ``table-<table>`` also matches
    ``table-sessions-replication``, which belongs to ``table-<table>-replication``)."""
    matching = [d for d in CATALOG if d.matches(name)]
    return max(matching, key=lambda d: len(re.sub(r"<[a-z]+>", "", d.pattern)), default=None)


def dynamo_lag_probe(
    ctx: DrillContext, table: str, writer: str, reader: str, limit: float
) -> float | None:
    """Write a probe item in ``writer``, time until it is readable in ``reader``."""
    canaries = ctx.dynamo(table)
    (probe_id,) = ctx.next_canary_ids("probe-ddb", 1)
    canary = ctx.log.add(canaries.write(writer, probe_id, "probe"))
    if not canary.ok:
        return None
    deadline = canary.written_at + limit
    while time.time() <= deadline:
        if canaries.present(reader, [probe_id]):
            return time.time() - canary.written_at
        time.sleep(min(ctx.settings.poll_interval, max(0.0, deadline - time.time())) or 0.001)
    return None


def check_preconditions(
    ctx: DrillContext,
    *,
    writer: str,
    aurora: bool = True,
    cache: bool = True,
    dynamodb_tables: tuple[str, ...] = (),
    pitr: bool = False,
    allow_writer_unreachable: bool = False,
    setting: bool = False,
) -> list[Check]:
    """Every precondition of a drill; the drill refuses if any blocking one fails."""
    lossy = allow_writer_unreachable
    checks: list[Check] = []
    reader = ctx.target.other(writer)
    objectives = ctx.target.objectives
    max_lag = objectives.max_replication_lag_seconds if objectives else 5.0
    writer_up = reachable(ctx, writer)
    if not writer_up:
        ctx.mark_unreachable(writer)
    checks.append(
        Check(
            "primary-region-reachable",
            writer_up or allow_writer_unreachable,
            f"{writer} answers" if writer_up else f"{writer} does not answer",
            blocking=not allow_writer_unreachable,
        )
    )
    if lossy:
        # A primary that answers is healthy: failing it over with AllowDataLoss loses the
        # writes still in flight to the secondary while applications write (Aurora User Guide,
        # "Performing managed failovers": use it for an outage; a switchover otherwise).
        accepted = not writer_up or ctx.allow_data_loss
        checks.append(
            Check(
                "data-loss-accepted",
                accepted,
                f"{writer} is lost: nothing to accept"
                if not writer_up
                else "accepted (--allow-data-loss): a lossy failover of a primary that answers"
                if accepted
                else f"{writer} still answers: a failover with AllowDataLoss of a healthy "
                "primary loses acknowledged writes; pass --allow-data-loss to accept it, or run "
                "planned-switchover",
            )
        )
    holder = stack_lock_holder(ctx.settings.state_dir, ctx.journal.data["stack"])
    other_drill = holder is not None and holder != ctx.drill_id
    checks.append(
        Check(
            "no-other-drill",
            not other_drill,
            f"drill {holder} holds the stack" if other_drill else "none",
        )
    )
    try:
        busy = ctx.reconciler.update_in_progress()
        checks.append(
            Check(
                "no-pulumi-update",
                not busy,
                "an update is in progress" if busy else "none in progress",
            )
        )
    except Exception as exc:  # report, do not crash, when the CLI cannot even list stacks
        checks.append(Check("no-pulumi-update", False, f"cannot read the stack: {exc}"))

    # the groups are independent (each probes its own store): run them concurrently
    groups: list[tuple[str, Callable[[], list[Check]]]] = []
    if aurora:
        groups.append(
            (
                "aurora",
                functools.partial(
                    _aurora_checks, ctx, writer, reader, writer_up, max_lag, pitr, lossy
                ),
            )
        )
    region = writer if writer_up else reader
    for table in dynamodb_tables:
        groups.append(
            (
                f"table-{table}",
                functools.partial(_table_checks, ctx, table, region, max_lag, pitr, writer_up),
            )
        )
    if cache and ctx.target.cache_global_id:
        groups.append(("cache-datastore", functools.partial(_cache_checks, ctx, writer)))
    if setting:
        groups.append(("dynamodb-active-region", functools.partial(_setting_checks, ctx, writer)))
    regions = ctx.target.regions if writer_up else (reader,)
    if aurora:
        groups.append(("app-names", functools.partial(app_name_checks, ctx, writer, regions)))
    with ThreadPoolExecutor(max_workers=max(1, len(groups) + 1)) as pool:
        futures = [pool.submit(_guarded, name, run) for name, run in groups]
        alarms = pool.submit(alarms_in_alarm, ctx, regions)
        for future in futures:
            checks.extend(future.result())
        firing, unreachable = alarms.result()
    checks.append(
        Check(
            "no-alarm-in-alarm",
            not firing,
            ("in ALARM: " + ", ".join(firing))
            if firing
            else f"{sum(len(ctx.target.alarms.get(r, [])) for r in regions)} alarms OK",
        )
    )
    # Reported either way, so the report lists every check plan promised (not blocking: a
    # region whose alarms cannot be read is the one a lossy drill expects to be down).
    checks.append(
        Check(
            "alarms-readable",
            not unreachable,
            ("not readable in " + ", ".join(unreachable))
            if unreachable
            else "read in " + ", ".join(regions),
            blocking=False,
        )
    )
    return checks


def _guarded(name: str, run: Callable[[], list[Check]]) -> list[Check]:
    """A group of checks; a region that does not answer or an AWS error fails the group."""
    try:
        return run()
    except RegionUnavailableError as exc:
        return [Check(name, False, str(exc))]
    except ClientError as exc:
        return [Check(name, False, f"{error_code(exc)}: {exc}")]


def _aurora_checks(
    ctx: DrillContext,
    writer: str,
    reader: str,
    writer_up: bool,
    max_lag: float,
    pitr: bool,
    lossy: bool,
) -> list[Check]:
    checks: list[Check] = []
    try:
        gc = describe_global_cluster(ctx, (reader, writer))
    except RegionUnavailableError as exc:
        return [Check("global-cluster-available", False, str(exc))]
    status = gc.get("Status")
    checks.append(Check("global-cluster-available", status == "available", f"status {status}"))
    writers = writer_regions(gc)
    checks.append(
        Check(
            "aurora-writer-in-primary",
            writers == [writer],
            f"writer in {', '.join(writers) or 'no region'}; expected {writer}",
        )
    )
    unsynced = [
        region_of_arn(m["DBClusterArn"])
        for m in gc.get("GlobalClusterMembers", [])
        if not synchronized(m)
    ]
    checks.append(
        Check(
            "aurora-members-synchronized",
            not unsynced and len(gc.get("GlobalClusterMembers", [])) >= 2,
            f"not synchronized: {', '.join(unsynced)}"
            if unsynced
            else f"{len(gc.get('GlobalClusterMembers', []))} members connected",
        )
    )
    clusters: dict[str, dict[str, Any]] = {}
    for region in (writer, reader):
        if region == writer and not writer_up:
            continue
        try:
            cluster = clusters[region] = describe_cluster(ctx, region)
        except RegionUnavailableError as exc:
            checks.append(Check(f"aurora-cluster-{region}", False, str(exc)))
            continue
        checks.append(
            Check(
                f"aurora-cluster-{region}",
                cluster.get("Status") == "available",
                f"status {cluster.get('Status')}",
            )
        )
        if pitr and region == writer:
            retention = int(cluster.get("BackupRetentionPeriod") or 0)
            checks.append(
                Check("aurora-backups", retention >= 1, f"backup retention {retention} days")
            )
    data_api_on: dict[str, bool] = {}
    for region, cluster in clusters.items():  # the clusters described above, in that order
        on = bool(cluster.get("HttpEndpointEnabled"))
        data_api_on[region] = on
        checks.append(
            Check(
                f"aurora-data-api-{region}",
                on,
                "HTTP endpoint enabled"
                if on
                else "the RDS Data API (HTTP endpoint) is off: the drill writes its canaries "
                "through it (config auroraDataApiEnabled, RDS EnableHttpEndpoint)",
            )
        )
    if writer_up and data_api_on.get(writer):
        checks.append(_canary_table_check(ctx, writer))
    if not lossy or writer_up:  # the lag bounds what a lossy failover of a live primary loses
        sample = aurora_lag(ctx, reader)
        if sample is None:
            checks.append(
                Check(
                    "aurora-replication-lag",
                    False,
                    f"no AuroraGlobalDBReplicationLag datapoint for {reader} in CloudWatch",
                )
            )
        else:
            ctx.state.setdefault("lag", {})["aurora"] = sample.milliseconds / 1000
            checks.append(
                Check(
                    "aurora-replication-lag",
                    sample.milliseconds <= max_lag * 1000,
                    f"{sample.milliseconds:.0f} ms AuroraGlobalDBReplicationLag in {reader} "
                    f"(limit {max_lag:g}s)",
                )
            )
    return checks


def _canary_table_check(ctx: DrillContext, writer: str) -> Check:
    """The canary table is part of the schema (the drill sends no DDL through the Data API)."""
    ref = ctx.target.aurora[writer]
    try:
        exists = ctx.aurora.table_exists(writer, ref.arn)
    except ClientError as exc:
        return Check("aurora-canary-table", False, f"{error_code(exc)}: {exc}")
    return Check(
        "aurora-canary-table",
        exists,
        f"{CANARY_TABLE} exists on {ref.identifier}"
        if exists
        else f"table {CANARY_TABLE} does not exist on {ref.identifier} (database "
        f"{ctx.target.database}): create it once on the writer with: {CANARY_SCHEMA} "
        "(docs/drills.md, The canary table)",
    )


def _table_checks(
    ctx: DrillContext, table: str, region: str, max_lag: float, pitr: bool, writer_up: bool
) -> list[Check]:
    checks: list[Check] = []
    other = ctx.target.other(region)
    try:
        desc = ctx.aws.call("dynamodb", region, "describe_table", TableName=table)["Table"]
    except RegionUnavailableError as exc:
        return [Check(f"table-{table}", False, str(exc))]
    except ClientError as exc:
        return [Check(f"table-{table}", False, f"{error_code(exc)}: {exc}")]
    replicas = {r["RegionName"]: r.get("ReplicaStatus") for r in desc.get("Replicas", [])}
    healthy = desc.get("TableStatus") == "ACTIVE" and replicas.get(other) == "ACTIVE"
    checks.append(
        Check(
            f"table-{table}",
            healthy,
            f"{desc.get('TableStatus')} in {region}; replica in {other}: {replicas.get(other, 'missing')}",
        )
    )
    if pitr:
        backups = ctx.aws.call("dynamodb", region, "describe_continuous_backups", TableName=table)
        status = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"
        ]
        checks.append(
            Check(f"table-{table}-pitr", status == "ENABLED", f"point-in-time recovery {status}")
        )
    if healthy and writer_up:
        lag = dynamo_lag_probe(ctx, table, region, other, max_lag)
        if lag is None:
            checks.append(
                Check(
                    f"table-{table}-replication", False, f"probe not in {other} within {max_lag:g}s"
                )
            )
        else:
            ctx.state.setdefault("lag", {})[f"dynamodb:{table}"] = lag
            checks.append(
                Check(
                    f"table-{table}-replication", True, f"{lag * 1000:.0f} ms (limit {max_lag:g}s)"
                )
            )
    return checks


def _cache_checks(ctx: DrillContext, writer: str) -> list[Check]:
    try:
        datastore = describe_datastore(ctx)
    except RegionUnavailableError as exc:
        return [Check("cache-datastore", False, str(exc))]
    if datastore is None:
        return [
            Check(
                "cache-datastore", False, f"global datastore {ctx.target.cache_global_id} not found"
            )
        ]
    members = datastore.get("Members", [])
    associated = all(m.get("Status") == "associated" for m in members) and len(members) >= 2
    primaries = cache_primaries(datastore)
    dns_checks: list[Check] = []
    if ctx.target.dns is None:
        dns_checks.append(
            Check(
                "cache-dns",
                False,
                f"the stack does not export {', '.join(ctx.target.dns_missing)} "
                "(docs/contracts.md, Stack outputs)",
            )
        )
    else:
        from .stores import cache_record

        record = cache_record(ctx, ctx.target.dns.zone_id, ctx.target.dns.cache_name)
        if record.health_routed:
            # Health-routed (docs/components.md): each region's records name that region's own
            # primary endpoint; Route 53's health checks pick the answer, the drill moves nothing.
            groups = {ref.primary_endpoint for ref in ctx.target.cache.values()}
            dns_checks.append(
                Check(
                    "cache-dns",
                    set(record.weighted) == groups,
                    f"{ctx.target.dns.cache_name}: health-routed records -> "
                    f"{sorted(set(record.weighted))}; expected each region's primary endpoint "
                    f"{sorted(groups)}",
                )
            )
        else:
            value = record.simple
            wanted = ctx.target.cache[writer].primary_endpoint if writer in ctx.target.cache else ""
            dns_checks.append(
                Check(
                    "cache-dns",
                    value == wanted,
                    f"{ctx.target.dns.cache_name} -> {value}; expected {wanted}",
                )
            )
    return [
        *dns_checks,
        Check(
            "cache-datastore",
            datastore.get("Status") == "available" and associated,
            f"status {datastore.get('Status')}, {len(members)} members",
        ),
        Check(
            "cache-primary-in-primary",
            primaries == [writer],
            f"primary in {', '.join(primaries) or 'no region'}; expected {writer}",
        ),
    ]


PROBES_OUTPUT = "drillProbes"
"""Stack output: the probe function's name per region (components/drill_probes.py)."""

Invoker = Callable[[str, dict[str, Any]], Mapping[str, Any]]
"""``(region, event) -> answer`` of the probe function (components/functions/drill_probe.py)."""


def application_probes(target: StackTarget, writer: str) -> list[dict[str, Any]]:
    """The connect-only probes of every name applications use whose TLS name is known in
    advance: ``writer.<zone>`` (verified against the global writer endpoint),
    ``reader-<region>.<zone>`` (each region's reader endpoint) and ``cache.<zone>`` (the
    primary group's endpoint in ``writer``'s region). ``reader.`` and ``cache-reader.`` are
    latency-routed: which region's certificate they lead to is Route 53's answer, and their
    targets are the regional names probed here."""
    raw = target.raw
    clients = raw.get("clientEndpoints") or {}
    probes: list[dict[str, Any]] = []
    if target.dns is not None:
        writer_host = (clients.get("writer") or {}).get("host") or target.dns.writer_endpoint
        if writer_host:
            probes.append(_probe("aurora", target.dns.writer_name, str(writer_host), POSTGRES))
    for region, name in sorted((raw.get("readerDnsNames") or {}).items()):
        host = ((clients.get("readers") or {}).get(region) or {}).get("host") or (
            target.aurora[region].reader_endpoint if region in target.aurora else ""
        )
        if host:
            probes.append(_probe("aurora", str(name), str(host), POSTGRES))
    if target.dns is not None and target.cache_global_id and writer in target.cache:
        ref = target.cache[writer]
        if ref.primary_endpoint:
            probes.append(_probe("cache", target.dns.cache_name, ref.primary_endpoint, ref.port))
    return probes


POSTGRES = 5432


def _probe(store: str, name: str, tls_name: str, port: int) -> dict[str, Any]:
    return {"store": store, "name": name, "tlsName": tls_name, "port": int(port)}


def reaches_aws(ctx: DrillContext) -> bool:
    """The drill talks to AWS itself: not the sandbox, not ``drills serve``, no
    ``AWS_ENDPOINT_URL`` pointing boto3 at an emulator."""
    data = ctx.journal.data
    return not (
        data.get("sandbox") or data.get("endpoint_url") or os.environ.get("AWS_ENDPOINT_URL")
    )


class ProbeFunctionError(RuntimeError):
    """The probe function could not be invoked, or failed rather than answer."""


def lambda_invoker(ctx: DrillContext) -> Invoker:
    """Invoke the stack's probe function in a region (``lambda:InvokeFunction``,
    RequestResponse: the answer is the function's return value; an unhandled error comes back
    as ``FunctionError`` with the error in the payload, Lambda API Reference, "Invoke")."""
    functions = dict(ctx.target.raw.get(PROBES_OUTPUT) or {})

    def invoke(region: str, event: dict[str, Any]) -> Mapping[str, Any]:
        function = functions.get(region)
        if not function:
            raise ProbeFunctionError(
                f"the stack exports no {PROBES_OUTPUT} function for {region}: set "
                f"drillsProbes: true in stacks/Pulumi.{ctx.journal.data['stack']}.yaml and "
                "deploy (docs/drills.md, Probes inside the VPC); from outside the VPC the "
                "drill cannot reach the names applications use"
            )
        answer = ctx.aws.call(
            "lambda",
            region,
            "invoke",
            FunctionName=str(function),
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
        body = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            message = body.get("errorMessage") if isinstance(body, Mapping) else body
            raise ProbeFunctionError(f"{function} failed: {answer['FunctionError']}: {message}")
        if not isinstance(body, Mapping) or not isinstance(body.get("results"), list):
            raise ProbeFunctionError(f"{function} answered {body!r}, not probe results")
        return body

    return invoke


def app_name_checks(ctx: DrillContext, writer: str, regions: tuple[str, ...]) -> list[Check]:
    """``app-names-<region>``: the probes of :func:`application_probes`, run from inside each
    region's data VPC (or against the sandbox's region pair); the outcomes are journaled."""
    from components.functions.app_probes import Outcome  # pg8000, redis: only when probing

    invoke: Invoker | None = ctx.probe_invoker
    if invoke is None and reaches_aws(ctx):
        invoke = lambda_invoker(ctx)
    probes = application_probes(ctx.target, writer)

    def check(region: str) -> Check:
        name = f"app-names-{region}"
        if invoke is None:
            return Check(
                name,
                False,
                "not run: the emulator's in-memory stores have no servers to connect to "
                "(the sandbox's real region pair has; DRILLS_DATA_PLANE=real)",
                blocking=False,
            )
        if not probes:
            return Check(name, False, "the stack exports none of the names to probe")
        try:
            answer = invoke(region, {"probes": probes})
        except (ProbeFunctionError, ClientError, RegionUnavailableError) as exc:
            return Check(name, False, str(exc))
        outcomes = [Outcome.from_json(r) for r in answer["results"]]
        ctx.state.setdefault("app_names", {})[region] = [o.to_json() for o in outcomes]
        failed = [
            f"{o.name} -> {o.address or 'unresolved'}: {o.error}" for o in outcomes if not o.ok
        ]
        writer_name = ctx.target.dns.writer_name if ctx.target.dns is not None else ""
        failed += [
            f"{o.name} -> {o.address} reached a {o.detail}, not the writer"
            for o in outcomes
            if o.ok and o.name == writer_name and o.detail != "writer"
        ]
        return Check(
            name,
            not failed and len(outcomes) == len(probes),
            "; ".join(failed)
            if failed
            else ", ".join(
                f"{o.name} -> {o.address} ({o.detail}, {o.seconds * 1000:.0f} ms)" for o in outcomes
            ),
        )

    # each region's function on its own: they run at once
    with ThreadPoolExecutor(max_workers=max(1, len(regions))) as pool:
        return list(pool.map(check, regions))


def _setting_checks(ctx: DrillContext, writer: str) -> list[Check]:
    setting = read_active_region(ctx, ctx.target.regions)
    if setting.unanswered:
        raise RegionUnavailableError(
            setting.unanswered[0], f"ssm get_parameter {setting.name}: no answer"
        )
    if setting.missing:
        return [
            Check(
                "dynamodb-active-region",
                False,
                f"SSM parameter {setting.name} not found in {', '.join(setting.missing)}: the "
                "stack must own it (output dynamodbActiveRegionParameter; docs/drills.md)",
            )
        ]
    ok = set(setting.values.values()) == {writer}
    return [
        Check(
            "dynamodb-active-region",
            ok,
            f"{setting.name} = {setting.values}; expected {writer} in both regions",
        )
    ]


def refuse_unless_ok(ctx: DrillContext, checks: list[Check], key: str = "preconditions") -> None:
    """Record the checks; raise PreconditionFailedError naming every blocking failure."""
    ctx.state[key] = [c.to_json() for c in checks]
    failed = [f"{c.name}: {c.detail}" for c in checks if c.blocking and not c.ok]
    for check in checks:
        ctx.event(
            "check", f"{'ok' if check.ok else 'FAIL'} {check.name}: {check.detail}", ok=check.ok
        )
    if failed:
        raise PreconditionFailedError(failed)


def precondition_step(spec: CheckSpec) -> Step:
    """A drill's first step: every check of ``spec`` with the writers where the drill found
    them (refused, with the canaries it may have written removed, if one fails), and on
    resume what of them still applies (:func:`recheck_on_resume`)."""

    def recheck(ctx: DrillContext) -> None:
        recheck_on_resume(ctx, spec, str(ctx.state["origin"]["primary"]))

    def run(ctx: DrillContext) -> None:
        first = ctx.state["origin"]
        try:
            if ctx.state.get("already_home"):
                raise PreconditionFailedError(
                    [
                        f"already-home: the writers are already in the stack's home region "
                        f"{ctx.state['home']} (primaryRegion in stacks/Pulumi."
                        f"{ctx.journal.data['stack']}.yaml): nothing to fail back"
                    ]
                )
            run_checks(ctx, spec, str(first["primary"]))
        except PreconditionFailedError:
            cleanup_canaries(ctx, best_effort=True)
            ctx.checkpoint()
            raise

    return Step(
        "preconditions",
        "check health, lag, alarms, Pulumi",
        run,
        "preconditions",
        undo=cleanup_canaries,
        undo_order=2,
        recheck=recheck,
    )


def run_checks(ctx: DrillContext, spec: CheckSpec, writer: str, key: str = "preconditions") -> None:
    """Run every precondition of ``spec`` with the writers in ``writer``; refuse if one fails
    (journaled under ``key``)."""
    tables = _tables_for(ctx, spec)
    checks = check_preconditions(
        ctx,
        writer=writer,
        aurora=spec.aurora,
        cache=spec.cache,
        dynamodb_tables=tables,
        pitr=spec.pitr,
        allow_writer_unreachable=spec.lossy,
        setting=spec.setting,
    )
    refuse_unless_ok(ctx, checks, key)


def recheck_on_resume(ctx: DrillContext, spec: CheckSpec, writer: str) -> None:
    """The preconditions that still apply when a drill resumes (journaled as
    ``resume_checks``). Before the drill's first irreversible call, every one of them: nothing
    moved yet. After it, the writer is no longer where the drill found it, so only what does
    not depend on that: no other drill, no Pulumi update, no alarm in ALARM that the drill
    does not set off itself (``expected_alarms``), in the regions that answer."""
    if not ctx.state.get("calls"):
        run_checks(ctx, spec, writer, "resume_checks")
        return
    checks: list[Check] = []
    holder = stack_lock_holder(ctx.settings.state_dir, ctx.journal.data["stack"])
    other = holder is not None and holder != ctx.drill_id
    checks.append(
        Check("no-other-drill", not other, f"drill {holder} holds the stack" if other else "none")
    )
    try:
        busy = ctx.reconciler.update_in_progress()
        ours = busy and bool(ctx.state.get("pulumi_up"))  # cleared by the step it interrupted
        detail = "an update is in progress" if busy else "none"
        detail = "the drill's own interrupted up" if ours else detail
        checks.append(Check("no-pulumi-update", not busy or ours, detail))
    except Exception as exc:  # report, do not crash, when the CLI cannot even list stacks
        checks.append(Check("no-pulumi-update", False, f"cannot read the stack: {exc}"))
    regions = tuple(r for r in ctx.target.regions if r not in ctx.unreachable)
    firing, _ = alarms_in_alarm(ctx, regions)
    unexpected = [a for a in firing if a not in expected_alarms(ctx)]
    checks.append(
        Check(
            "no-alarm-in-alarm",
            not unexpected,
            ("in ALARM: " + ", ".join(unexpected)) if unexpected else "none unexpected",
        )
    )
    refuse_unless_ok(ctx, checks, "resume_checks")


def _tables_for(ctx: DrillContext, spec: CheckSpec) -> tuple[str, ...]:
    if spec.tables == "all":
        return tuple(t.name for t in ctx.target.tables.values())
    if spec.tables == "order" and ctx.target.tables:
        return (ctx.target.order_table().name,)
    if spec.tables == "canary" and ctx.target.tables:
        return (ctx.target.canary_table().name,)
    return ()
