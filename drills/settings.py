"""Runtime knobs of a drill: polling, timeouts, canary counts, where the journal lives.

Defaults suit a real account (poll every 2 s, step timeouts in minutes). Tests and the sandbox
scale them down; every value is recorded in the journal so ``resume`` uses the same ones.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .stackfile import REPO_ROOT

MAX_DEFAULT_POLL_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class StepTimeouts:
    """Seconds each kind of step may take before the drill aborts and rolls back."""

    preconditions: float = 300.0
    canaries: float = 300.0
    aurora_switch: float = 1800.0
    cache_switch: float = 1800.0
    dynamodb_evacuation: float = 900.0
    verify: float = 600.0
    rebuild: float = 3600.0
    reconcile: float = 3600.0
    restore: float = 7200.0
    cleanup: float = 1800.0

    def scaled(self, factor: float) -> StepTimeouts:
        """Every timeout multiplied by ``factor``."""
        return StepTimeouts(**{k: v * factor for k, v in asdict(self).items()})


@dataclass(frozen=True, slots=True)
class DrillSettings:
    """How a drill runs (not what it measures: objectives come from the stack)."""

    poll_interval: float = 2.0
    """Seconds between status polls (must be <= 5 by default; tests use milliseconds)."""
    stop_check_interval: float = 5.0
    """At most this often, stop-condition alarms are read between polls."""
    canary_count: int = 5
    """Canaries written per store before the action."""
    canary_interval: float = 1.0
    """Seconds between canary writes during the action (RTO resolution)."""
    replication_grace: float = 120.0
    """How long to wait for canaries to show up in the other region before counting them lost."""
    aws_connect_timeout: float = 5.0
    aws_read_timeout: float = 15.0
    aws_max_attempts: int = 5
    """Total attempts per AWS call, first one included (botocore standard retry mode:
    throttling and transient errors are retried with backoff)."""
    busy_retries: int = 3
    """How many times a Pulumi operation is retried when another update holds the stack."""
    timeouts: StepTimeouts = field(default_factory=StepTimeouts)
    state_dir: Path = REPO_ROOT / ".drills"
    policy_pack: str = "policies"
    """``--policy-pack`` passed to preview (relative to the repo root)."""
    policy_config: str = "stacks/policy-config.{stack}.json"
    """``--policy-pack-config`` passed to preview."""
    database: str | None = None
    """Aurora database for canaries (default: the ``auroraDatabaseName`` output or postgres)."""
    ignored_alarms: tuple[str, ...] = ()
    """Alarms that are not stop conditions (expected to fire during this drill)."""
    lease_seconds: float = 300.0
    """How long the stack's lease (drills/lease.py) lasts without a heartbeat; the drill renews
    it every third of that."""
    dns_server: str = ""
    """``host:port`` of the resolver the write probes ask (drills/apppath.py): the region
    pair's DNS server in the sandbox, the VPC resolver (169.254.169.253:53) inside a VPC.
    Empty: no application path (the emulator's model data plane), the probes use the control
    plane's view and the report's ``path`` says so."""
    ca_file: str = ""
    """PEM bundle that verifies the stores' TLS certificates (empty: the system trust store)."""

    def __post_init__(self) -> None:
        if self.poll_interval <= 0:
            raise ValueError("poll_interval must be > 0")
        if self.canary_count < 1:
            raise ValueError("canary_count must be >= 1")
        if self.lease_seconds <= 0:
            raise ValueError("lease_seconds must be > 0")

    def with_(self, **changes: Any) -> DrillSettings:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """JSON-able (stored in the journal)."""
        data = asdict(self)
        data["state_dir"] = str(self.state_dir)
        data["ignored_alarms"] = list(self.ignored_alarms)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DrillSettings:
        """Inverse of :meth:`to_json`."""
        values = dict(data)
        values["timeouts"] = StepTimeouts(**values.get("timeouts", {}))
        values["state_dir"] = Path(values.get("state_dir", REPO_ROOT / ".drills"))
        values["ignored_alarms"] = tuple(values.get("ignored_alarms", ()))
        return cls(**values)

    @classmethod
    def fast(cls, state_dir: Path, scale: float = 0.01) -> DrillSettings:
        """Settings for the sandbox and tests: everything ``scale`` times faster."""
        return cls(
            poll_interval=max(0.005, 2.0 * scale),
            stop_check_interval=max(0.05, 5.0 * scale),
            canary_count=3,
            canary_interval=max(0.005, 1.0 * scale),
            replication_grace=max(0.5, 120.0 * scale),
            aws_connect_timeout=0.5,
            aws_read_timeout=max(0.3, 15.0 * scale),
            aws_max_attempts=3,
            busy_retries=2,
            timeouts=StepTimeouts().scaled(max(scale, 0.002)),
            state_dir=state_dir,
            lease_seconds=max(3.0, 300.0 * scale),
        )
