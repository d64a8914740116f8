"""AWS FIS experiments that take effect: a network disruption cuts a region's data plane.

moto keeps FIS templates and experiments but moves an experiment through its states on reads
and does nothing to the targets. Here an experiment follows AWS's lifecycle on the emulator's
clock (FIS API Reference, ``ExperimentState``: pending | initiating | running | completed |
stopping | stopped | failed): ``StartExperiment`` answers ``initiating``; after
``fis_start_seconds`` it is ``running`` and each ``aws:network:disrupt-connectivity`` action cuts
the data plane of its subnets' region (:meth:`Faults.cut_data_plane`: databases and caches stop
answering applications, the AWS APIs of the region still answer); it is ``completed`` when the
action's ``duration`` has passed. ``StopExperiment`` moves it to ``stopping`` and, after
``fis_stop_seconds``, to ``stopped`` with the network restored; a stop condition alarm in ALARM
stops it the same way (User Guide, "Stop conditions for AWS FIS"). ``StartExperiment`` with a
``clientToken`` already used answers the same experiment (the API's idempotency), so a drill
that crashed between sending it and journaling it can send it again safely.

Gates: ``faults.hold("start_experiment")`` keeps a started experiment ``initiating`` and
``faults.hold("stop_experiment")`` keeps a stopped one ``stopping`` until released.
"""

from __future__ import annotations

import re
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.fis.exceptions import FISException
from moto.fis.models import Experiment, FISBackend

from .state import STATE, patch

NETWORK_DISRUPTION = "aws:network:disrupt-connectivity"
TERMINAL = frozenset({"completed", "stopped", "failed", "cancelled"})
REASONS = {
    "initiating": "Experiment is initiating.",
    "running": "Experiment is running.",
    "completed": "Experiment completed.",
    "stopping": "Stopping experiment.",
    "stopped": "Experiment stopped.",
}

_original_start: Any = FISBackend.start_experiment
_ISO = re.compile(r"PT(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?")


class ValidationException(FISException):
    """``ValidationException`` (HTTP 400)."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ValidationException", message)


def duration_seconds(value: str) -> float:
    """``PT30M`` -> 1800.0 (the ISO 8601 durations FIS actions take: one minute to 12 hours)."""
    match = _ISO.fullmatch(value or "")
    if match is None or not any(match.groupdict().values()):
        raise ValidationException(f"duration {value!r} is not an ISO 8601 duration like PT10M")
    parts = {k: int(v or 0) for k, v in match.groupdict().items()}
    seconds = parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    if not 60 <= seconds <= 12 * 3600:
        raise ValidationException(f"duration {value}: allowed from PT1M to PT12H")
    return float(seconds)


def cut_regions(experiment: Experiment) -> list[str]:
    """Regions whose data plane the experiment's network disruptions cut (from the subnet
    ARNs their targets name: ``arn:aws:ec2:<region>:<account>:subnet/<id>``)."""
    regions: list[str] = []
    for action in (experiment.actions or {}).values():
        if action.get("actionId") != NETWORK_DISRUPTION:
            continue
        target = (experiment.targets or {}).get((action.get("targets") or {}).get("Subnets", ""))
        for arn in (target or {}).get("resourceArns") or []:
            region = str(arn).split(":")[3]
            if region not in regions:
                regions.append(region)
    return regions


_REASON: dict[str, str] = {}
"""Experiment id -> the reason of its current state."""


def _set(experiment: Experiment, status: str, reason: str | None = None) -> None:
    experiment._status = status
    _REASON[experiment.id] = reason or REASONS.get(status, status)


def _finish(experiment: Experiment, status: str) -> None:
    """End the experiment (``completed``/``stopped``): its faults are rolled back."""
    if experiment._status in TERMINAL:
        return
    why = _REASON.get(experiment.id, "")  # a stop condition's stop says so to the end
    _set(experiment, status, why if why.startswith("Stop condition") else None)
    for region in cut_regions(experiment):
        still = any(
            other._status == "running" and region in cut_regions(other)
            for other in _running()
            if other is not experiment
        )
        if not still:
            STATE.faults.restore_data_plane(region)


def _running() -> list[Experiment]:
    return [e for e in _experiments() if e._status in {"running", "stopping"}]


def forget() -> None:
    """Drop every experiment (a test's world ends with it; a running one would otherwise keep
    its completion scheduled and its regions cut into the next test)."""
    from moto.fis.models import fis_backends

    for account in fis_backends.values():
        for backend in account.values():
            backend.experiments.clear()


def _experiments() -> list[Experiment]:
    from moto.fis.models import fis_backends

    found: list[Experiment] = []
    for account in fis_backends.values():
        for backend in account.values():
            found.extend(backend.experiments.values())
    return found


def _run(experiment: Experiment) -> None:
    if experiment._status != "initiating":
        return
    _set(experiment, "running")
    for region in cut_regions(experiment):
        STATE.faults.cut_data_plane(region)
    longest = max(
        (
            duration_seconds(str((a.get("parameters") or {}).get("duration", "PT1M")))
            for a in (experiment.actions or {}).values()
        ),
        default=60.0,
    )
    STATE.scheduler.after(
        longest, f"fis {experiment.id} completes", lambda: _finish(experiment, "completed")
    )


def _start_experiment(
    self: FISBackend,
    client_token: str | None,
    experiment_template_id: str,
    experiment_options: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    known = self._client_token_to_experiment_id.get(client_token or "")
    if known in self.experiments:  # idempotent: the same experiment, as it is now
        return self.get_experiment(known)
    template = self.experiment_templates.get(experiment_template_id)
    if template is not None:
        for action in (template.actions or {}).values():
            if action.get("actionId") == NETWORK_DISRUPTION:
                duration_seconds(str((action.get("parameters") or {}).get("duration", "")))
    started = _original_start(self, client_token, experiment_template_id, experiment_options, tags)
    experiment = self.experiments[started["id"]]
    _set(experiment, "initiating")
    if not STATE.faults.park("start_experiment", lambda: _run(experiment)):
        STATE.scheduler.after(
            STATE.timings.fis_start_seconds, f"fis {experiment.id} runs", lambda: _run(experiment)
        )
    return self.get_experiment(experiment.id)


def _stop_experiment(self: FISBackend, id: str) -> dict[str, Any]:
    experiment = self.experiments.get(id)
    if experiment is not None and experiment._status not in TERMINAL | {"stopping"}:
        _stop(experiment, "Stopping experiment.")
    return self.get_experiment(id)


def _stop(experiment: Experiment, reason: str) -> None:
    _set(experiment, "stopping", reason)

    def done() -> None:
        _finish(experiment, "stopped")

    if not STATE.faults.park("stop_experiment", done):
        STATE.scheduler.after(STATE.timings.fis_stop_seconds, f"fis {experiment.id} stops", done)


def _get_experiment(self: FISBackend, id: str) -> dict[str, Any]:
    if id not in self.experiments:
        from moto.fis.exceptions import ResourceNotFoundException

        raise ResourceNotFoundException(f"Experiment {id} does not exist")
    experiment = self.experiments[id]
    data: dict[str, Any] = experiment.to_dict(
        tags=self.tagger.get_tag_dict_for_resource(experiment.arn)
    )
    data["state"] = {"status": experiment._status, "reason": _REASON.get(id, experiment._status)}
    return data


def _stop_conditions(now: float) -> None:
    """FIS stops a running experiment when one of its stop-condition alarms is in ALARM."""
    for experiment in [e for e in _running() if e._status == "running"]:
        for condition in experiment.stop_conditions or []:
            if condition.get("source") != "aws:cloudwatch:alarm":
                continue
            parts = str(condition.get("value", "")).split(":")
            if len(parts) < 7:
                continue
            region, account, name = parts[3], parts[4], ":".join(parts[6:])
            alarm = cloudwatch_backends[account][region].alarms.get(name)
            if alarm is not None and alarm.state_value == "ALARM":
                _stop(experiment, f"Stop condition {name} is in ALARM.")
                break


def _summary(self: Experiment, tags: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "id": self.id,
        "arn": self.arn,
        "experimentTemplateId": self.experiment_template_id,
        "state": {"status": self._status, "reason": _REASON.get(self.id, self._status)},
        "creationTime": self.creation_time,
        "tags": tags or {},
        "experimentOptions": self.experiment_options,
    }


def install() -> None:
    """Install the FIS lifecycle (idempotent)."""
    if getattr(FISBackend.start_experiment, "__name__", "") == "_start_experiment":
        return
    patch(FISBackend, "start_experiment", _start_experiment)
    patch(FISBackend, "stop_experiment", _stop_experiment)
    patch(FISBackend, "get_experiment", _get_experiment)
    patch(Experiment, "to_summary_dict", _summary)
    # the status moves on the emulator's clock, never on reads (moto's ManagedState would)
    patch(Experiment, "status", property(lambda self: self._status, _set))
    STATE.add_tick_hook(_stop_conditions)
