"""The unplanned failover's fault: an AWS FIS experiment that cuts the primary region's data
subnets off the network (the stack's templates, output ``faultInjectionTemplates``, created with
``drillsFaultInjection``: components/fault_injection.py).

Starting it is an irreversible call like the failovers: journaled as intended, sent with a
``clientToken`` derived from the drill and the call (StartExperiment is idempotent on it: FIS API
Reference), journaled as sent with the experiment's id. A crash between the two is resolved by
reading FIS (ListExperiments of the template, the experiment tagged with the drill's id), never
by starting a second experiment. The fault ends with StopExperiment (journaled the same way)
before the old region is rebuilt, and first of all on rollback: moving writers back into a region
that applications cannot reach helps nobody.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from .canary import PhaseRun
from .engine import DrillContext
from .errors import OperatorNeededError, StepFailedError

TEMPLATES_OUTPUT = "faultInjectionTemplates"
TERMINAL = frozenset({"completed", "stopped", "failed", "cancelled"})
"""Experiment states after which FIS has rolled its actions back (API Reference,
``ExperimentState``)."""


def fault_template(ctx: DrillContext, region: str) -> str | None:
    """The stack's experiment template that impairs ``region``, if the stack has one."""
    templates = ctx.target.raw.get(TEMPLATES_OUTPUT) or {}
    value = templates.get(region) if isinstance(templates, dict) else None
    return str(value) if value else None


def client_token(drill_id: str, key: str, generation: int) -> str:
    """The StartExperiment ``clientToken``: the same for every re-send of one call (at most
    64 characters, the API's limit)."""
    digest = hashlib.sha256(f"{drill_id}|{key}|{generation}".encode()).hexdigest()
    return f"drill-{digest[:58]}"


def _find(ctx: DrillContext, region: str, template: str, key: str) -> dict[str, Any] | None:
    """The experiment this drill started for ``key`` (tagged with the drill and the call)."""
    listed = ctx.aws.call("fis", region, "list_experiments", experimentTemplateId=template)
    for summary in listed.get("experiments", []):
        tags = summary.get("tags") or {}
        if tags.get("drillId") == ctx.drill_id and tags.get("drillCall") == key:
            return dict(summary)
    return None


def _status(ctx: DrillContext, region: str, experiment_id: str) -> str:
    answer = ctx.aws.call("fis", region, "get_experiment", id=experiment_id)
    return str(((answer.get("experiment") or {}).get("state") or {}).get("status", ""))


def start_fault(ctx: DrillContext, run: PhaseRun, template: str) -> str:
    """Start (or, after a crash, find) the experiment that cuts the phase's source region off;
    wait until it runs. Returns the experiment id (also in the phase record and the journaled
    call)."""
    key = f"{run.name}:fault"
    region, ph = run.src, run.record
    calls: dict[str, Any] = ctx.state.setdefault("calls", {})
    record = calls.get(key)
    experiment_id = str((record or {}).get("experiment_id") or "")
    if record is not None and not experiment_id:
        found = _find(ctx, region, template, key)  # a crash fell between intent and "sent"
        if found is not None:
            experiment_id = str(found["id"])
            record["experiment_id"] = experiment_id
            ctx.resolve_call(key, f"ListExperiments shows {experiment_id}")
    if experiment_id:
        status = _status(ctx, region, experiment_id)
        if status in TERMINAL:
            if not ctx.resend:
                raise OperatorNeededError(
                    f"FIS experiment {experiment_id} ({template} in {region}) is {status}: the "
                    "fault is over before the failover finished",
                    "resume with --resend to start the fault again, or roll back",
                )
            experiment_id = ""
    if not experiment_id:
        generation = int((record or {}).get("generation", -1)) + 1
        token = client_token(ctx.drill_id, key, generation)
        ph["fault_at"] = time.time()  # the fault cannot begin before it is asked for
        with ctx.irreversible(
            key,
            f"fis.StartExperiment(experimentTemplateId={template}) in {region}",
            region=region,
            template=template,
            generation=generation,
            experiment_id=None,
        ):
            answer = ctx.aws.call(
                "fis",
                region,
                "start_experiment",
                clientToken=token,
                experimentTemplateId=template,
                tags={"drillId": ctx.drill_id, "drillCall": key},
            )
            experiment_id = str(answer["experiment"]["id"])
            calls[key]["experiment_id"] = experiment_id
    ph.update(
        {
            "experiment": {"id": experiment_id, "template": template, "region": region},
            "fault": f"AWS FIS experiment {experiment_id} cut the data subnets of {region} off "
            "the network",
            # applications could not reach it (its AWS APIs and storage replication still ran)
            "primary_answered": False,
        }
    )
    ctx.checkpoint()

    def running() -> float | None:
        status = _status(ctx, region, experiment_id)
        if status in TERMINAL:
            raise StepFailedError(f"FIS experiment {experiment_id} ended ({status}) while starting")
        return time.time() if status == "running" else None

    ph["fault_running_at"] = ctx.wait_until(f"FIS experiment {experiment_id} to run", running)
    ctx.event(
        "fault",
        f"FIS experiment {experiment_id} runs: the data subnets of {region} are cut off",
        experiment=experiment_id,
        region=region,
    )
    return experiment_id


def end_fault(ctx: DrillContext, run: PhaseRun) -> None:
    """Stop the phase's experiment (if one started) and wait until FIS has restored the
    network. An experiment that already ended is left alone."""
    key = f"{run.name}:fault"
    record = (ctx.state.get("calls") or {}).get(key)
    if record is None:
        return
    region, template = str(record["region"]), str(record["template"])
    experiment_id = str(record.get("experiment_id") or "")
    if not experiment_id:
        found = _find(ctx, region, template, key)
        if found is None:
            return  # never started: nothing to stop
        experiment_id = str(found["id"])
        record["experiment_id"] = experiment_id
        ctx.resolve_call(key, f"ListExperiments shows {experiment_id}")
    status = _status(ctx, region, experiment_id)
    if status not in TERMINAL | {"stopping"}:
        with ctx.irreversible(
            f"{run.name}:fault-stop",
            f"fis.StopExperiment(id={experiment_id}) in {region}",
            region=region,
            experiment_id=experiment_id,
        ):
            ctx.aws.call("fis", region, "stop_experiment", id=experiment_id)

    def over() -> str | None:
        state = _status(ctx, region, experiment_id)
        return state if state in TERMINAL else None

    final = ctx.wait_until(f"FIS experiment {experiment_id} to end", over)
    run.record["fault_ended_at"] = time.time()
    ctx.event(
        "fault",
        f"FIS experiment {experiment_id} is {final}: {region}'s network is restored",
        experiment=experiment_id,
        region=region,
    )
