"""Read a stack's settings the way the CLI would, without the CLI.

``plan`` and the sandbox need the region pair and the drill objectives before any Pulumi
operation runs: ``preflight.config`` reads the files as the CLI would and
``components.settings.load_settings`` validates them, exactly as for the program itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.settings import ConfigError, load_settings, parse_config_value
from preflight.config import YAML_LOADER, load_stack_config

from .errors import DrillConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PROJECT = "securecart-data"


@dataclass(frozen=True, slots=True)
class Objectives:
    """What a drill is measured against (stack config key ``drills``)."""

    rto_seconds: float
    rpo_seconds: float
    max_replication_lag_seconds: float

    def to_json(self) -> dict[str, float]:
        """camelCase, as in the stack config and the ``drillObjectives`` output."""
        return {
            "rtoSeconds": self.rto_seconds,
            "rpoSeconds": self.rpo_seconds,
            "maxReplicationLagSeconds": self.max_replication_lag_seconds,
        }


DEFAULT_OBJECTIVES = Objectives(rto_seconds=300.0, rpo_seconds=5.0, max_replication_lag_seconds=5.0)


@dataclass(frozen=True, slots=True)
class StackSettings:
    """The parts of a stack's config a drill needs before touching anything."""

    project: str
    stack: str
    environment: str
    primary_region: str
    secondary_region: str
    objectives: Objectives
    raw: dict[str, Any]
    """Project config keys without the namespace, values parsed."""

    @property
    def is_production(self) -> bool:
        """Prod needs an explicit confirmation flag."""
        return self.stack == "prod" or self.environment in {"prod", "production"}


def project_name(root: Path = REPO_ROOT) -> str:
    """The project name from ``Pulumi.yaml`` (``securecart-data`` when absent)."""
    path = root / "Pulumi.yaml"
    if not path.exists():
        return DEFAULT_PROJECT
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
    return str(data.get("name", DEFAULT_PROJECT))


def _number(raw: Mapping[str, Any], key: str, default: float, minimum: float) -> float:
    value = raw.get(key, default)
    allowed = f"a number of seconds >= {minimum:g}"
    if isinstance(value, bool):
        raise DrillConfigError(f"drills.{key}", value, allowed)
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise DrillConfigError(f"drills.{key}", value, allowed) from exc
    if number < minimum:
        raise DrillConfigError(f"drills.{key}", value, allowed)
    return number


def parse_objectives(value: Any) -> Objectives:
    """Objectives from ``drills`` (a mapping or its JSON text; flat ``drillsRtoSeconds`` keys are
    folded into one by :func:`settings_from_config`); missing keys take the project defaults."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise DrillConfigError("drills", value, "an object") from exc
    if value is None:
        return DEFAULT_OBJECTIVES
    if not isinstance(value, Mapping):
        raise DrillConfigError("drills", value, "an object with rtoSeconds and rpoSeconds")
    d = DEFAULT_OBJECTIVES
    return Objectives(
        rto_seconds=_number(value, "rtoSeconds", d.rto_seconds, 1.0),
        rpo_seconds=_number(value, "rpoSeconds", d.rpo_seconds, 0.0),
        max_replication_lag_seconds=_number(
            value, "maxReplicationLagSeconds", d.max_replication_lag_seconds, 0.1
        ),
    )


def settings_from_config(stack: str, project: str, raw: Mapping[str, Any]) -> StackSettings:
    """StackSettings from un-namespaced config values, validated by the program's own loader
    (values may still be in the engine's string form, as the Automation API returns them)."""
    values = {
        key: parse_config_value(key, value) if isinstance(value, str) else value
        for key, value in raw.items()
    }
    try:
        settings = load_settings(values)
    except ConfigError as exc:  # names key, value and what is allowed
        raise DrillConfigError(exc.key, exc.value, exc.allowed) from exc
    objectives = Objectives(
        rto_seconds=float(settings.drills.rto_seconds),
        rpo_seconds=float(settings.drills.rpo_seconds),
        max_replication_lag_seconds=float(settings.drills.max_replication_lag_seconds),
    )
    return StackSettings(
        project,
        stack,
        settings.environment,
        settings.primary_region,
        settings.secondary_region,
        objectives,
        raw=values,
    )


def read_stack_config(stack: str, root: Path = REPO_ROOT) -> dict[str, Any]:
    """Project config of ``stacks/Pulumi.<stack>.yaml`` as the CLI reads it, un-namespaced
    (``secure:`` values, which cannot be decrypted offline, are left out)."""
    try:
        config = load_stack_config(stack, root)
    except ConfigError as exc:
        raise DrillConfigError(exc.key, exc.value, exc.allowed) from exc
    prefix = f"{config.project}:"
    return {
        key: value
        for key, value in config.project_values().items()
        if f"{prefix}{key}" not in config.secret_keys
    }


def load_stack_settings(stack: str, root: Path = REPO_ROOT) -> StackSettings:
    """The stack's settings from its stack file."""
    return settings_from_config(stack, project_name(root), read_stack_config(stack, root))


STORE_SWITCHES = {
    "payments": "paymentsEnabled",
    "neptune": "neptuneEnabled",
    "redshift": "redshiftEnabled",
}
"""The optional stores of issue 20 and the config key that turns each on (Pulumi.yaml)."""


def enabled_stores(settings: StackSettings) -> frozenset[str]:
    """The optional stores the stack builds (``payments``, ``neptune``, ``redshift``): the
    stack's own switches, validated by the program's loader already (so only booleans, or the
    engine's ``"true"``/``"false"`` strings, reach here)."""
    return frozenset(
        store
        for store, key in STORE_SWITCHES.items()
        if str(settings.raw.get(key, False)).lower() == "true"
    )
