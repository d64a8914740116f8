"""The invariant every drill step ends on: exactly one writer per store, and after a
rollback every store's writer back in the origin region."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from .aws import error_code
from .engine import DrillContext, Step
from .errors import RegionUnavailableError
from .reads import (
    cache_primaries,
    describe_datastore,
    describe_global_cluster,
    read_active_region,
    writer_regions,
)


def _wait_available(ctx: DrillContext) -> None:
    """Before the checks that close a rollback and open a resume: wait (within the step
    deadline) until neither the global cluster nor the global datastore has a move in flight,
    so the check sees the final state instead of failing a store that is still ``modifying``."""

    def quiet() -> bool | None:
        gc = describe_global_cluster(ctx)
        if gc.get("Status") != "available":
            return None
        datastore = describe_datastore(ctx) if ctx.target.cache_global_id else None
        if datastore is not None and datastore.get("Status") != "available":
            return None
        return True

    ctx.wait_until("every store to be available before the check", quiet, tolerate_unreachable=True)


REREADS = 3
"""How many times the Aurora check starts over when the global cluster moved while the Data API
was asked (a switchover or failover completing between the two reads)."""


def _aurora_check(ctx: DrillContext, pool: ThreadPoolExecutor, data_plane: bool) -> dict[str, Any]:
    """The Aurora writers, control plane and (after writer moves) data plane, from one
    consistent moment. The global cluster is read strictly before the Data API is asked, and
    read again when the two disagree: a move that completed in between changes the second read
    (the writer flag and the data plane flip together at the end of a switchover or failover;
    Aurora User Guide, "Using switchover or failover in Amazon Aurora Global Database"), so the
    check starts over instead of reporting two writers that never coexisted. Only a
    disagreement the control plane holds still across the reads is a violation."""
    down = ctx.unreachable
    gc = describe_global_cluster(ctx)
    for attempt in range(1, REREADS + 1):
        control = writer_regions(gc)
        check: dict[str, Any] = {
            "ok": True,
            "aurora_writers": control,
            "store": "aurora",
            "writers": control,
        }
        if attempt > 1:
            check["aurora_rereads"] = attempt - 1
        if len(control) != 1:
            return {
                **check,
                "ok": False,
                "detail": f"global cluster {gc.get('GlobalClusterIdentifier')}",
            }
        if not data_plane:
            return check
        answers = {
            region: pool.submit(ctx.aurora.answers_as_writer, region, ref.arn)
            for region, ref in ctx.target.aurora.items()
            if region not in down
        }
        data_writers: list[str] = []
        unknown = [f"{r} (not answering)" for r in ctx.target.aurora if r in down]
        for region, future in answers.items():
            try:
                if future.result():
                    data_writers.append(region)
            except RegionUnavailableError:
                unknown.append(region)
            except ClientError as exc:
                unknown.append(f"{region} ({error_code(exc)})")
        check["aurora_data_plane_writers"] = data_writers
        check["aurora_unknown"] = unknown
        if not (len(data_writers) > 1 or (data_writers and data_writers != control)):
            return check
        after = describe_global_cluster(ctx)
        moved = writer_regions(after) != control or after.get("Status") != gc.get("Status")
        if not moved or attempt == REREADS:
            return {
                **check,
                "ok": False,
                "writers": sorted(set(data_writers) | set(control)),
                "detail": "the Data API answers as a writer where the global cluster has none"
                + ("" if not moved else f" (the global cluster kept moving over {REREADS} reads)"),
            }
        gc = after
    raise AssertionError("unreachable")  # the loop returns on its last attempt


def single_writer(ctx: DrillContext, step: Step | None) -> dict[str, Any]:
    """Exactly one Aurora writer (control plane, plus the data plane after writer moves) and
    exactly one cache primary; after a rollback both must be in the origin region. A store
    that is not ``available`` fails the check (it is never skipped), so the checks that close
    a rollback and open a resume (``step`` None) first let a move in flight finish. The cache
    is read while Aurora is."""
    if ctx.in_rollback or step is None:
        _wait_available(ctx)
    data_plane = step is None or step.moves_writer
    with ThreadPoolExecutor(max_workers=4) as pool:
        cache_future = pool.submit(describe_datastore, ctx) if ctx.target.cache_global_id else None
        check = _aurora_check(ctx, pool, data_plane)
        if not check["ok"]:
            return check
        datastore = cache_future.result() if cache_future is not None else None
    if datastore is not None:
        primaries = cache_primaries(datastore)
        check["cache_primaries"] = primaries
        check["cache_status"] = datastore.get("Status")
        if datastore.get("Status") != "available" or len(primaries) != 1:
            return {
                **check,
                "ok": False,
                "store": "cache",
                "writers": primaries,
                "detail": f"global datastore is {datastore.get('Status')}",
            }
    origin = (ctx.state.get("origin") or {}).get("primary")
    if ctx.in_rollback and origin:
        where = {"aurora": check["aurora_writers"], "cache": check.get("cache_primaries", [origin])}
        setting = read_active_region(ctx)
        if setting.values:
            check["dynamodb_active_region"] = setting.values
            where["dynamodb"] = setting.regions
        expected = {
            "aurora": [origin],
            "cache": [origin],
            "dynamodb": [ctx.state.get("setting_origin") or origin],
        }
        astray = {store: w for store, w in where.items() if w != expected[store]}
        if astray:
            store_name, writers = next(iter(astray.items()))
            return {
                **check,
                "ok": False,
                "store": store_name,
                "writers": writers,
                "detail": f"after the rollback the {store_name} primary must be in "
                f"{expected[store_name][0]}",
            }
    return check
