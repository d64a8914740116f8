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
    """Before the check that closes a rollback: wait (within the step deadline) until neither
    the global cluster nor the global datastore has a move in flight, so the check sees the
    final state instead of skipping a store that is still ``modifying``."""

    def quiet() -> bool | None:
        gc = describe_global_cluster(ctx)
        if gc.get("Status") != "available":
            return None
        datastore = describe_datastore(ctx) if ctx.target.cache_global_id else None
        if datastore is not None and datastore.get("Status") != "available":
            return None
        return True

    ctx.wait_until(
        "every store to be available before the final check", quiet, tolerate_unreachable=True
    )


def single_writer(ctx: DrillContext, step: Step | None) -> dict[str, Any]:
    """Exactly one Aurora writer (control plane, plus the data plane after writer moves) and
    exactly one cache primary; after a rollback both must be in the origin region. A store
    that is not ``available`` fails the check (it is never skipped). The independent reads run
    concurrently."""
    if ctx.in_rollback:
        _wait_available(ctx)
    data_plane = step is None or step.moves_writer
    down = ctx.unreachable
    with ThreadPoolExecutor(max_workers=4) as pool:
        gc_future = pool.submit(describe_global_cluster, ctx)
        cache_future = pool.submit(describe_datastore, ctx) if ctx.target.cache_global_id else None
        answers = {
            region: pool.submit(ctx.aurora.answers_as_writer, region, ref.arn)
            for region, ref in ctx.target.aurora.items()
            if data_plane and region not in down
        }
        gc = gc_future.result()
        datastore = cache_future.result() if cache_future is not None else None
        control = writer_regions(gc)
        check: dict[str, Any] = {
            "ok": True,
            "aurora_writers": control,
            "store": "aurora",
            "writers": control,
        }
        if len(control) != 1:
            return {
                **check,
                "ok": False,
                "detail": f"global cluster {gc.get('GlobalClusterIdentifier')}",
            }
        if data_plane:
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
            if len(data_writers) > 1 or (data_writers and data_writers != control):
                return {
                    **check,
                    "ok": False,
                    "writers": sorted(set(data_writers) | set(control)),
                    "detail": "the Data API answers as a writer where the global cluster has none",
                }
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
        where = {"aurora": control, "cache": check.get("cache_primaries", [origin])}
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
