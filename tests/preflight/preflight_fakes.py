"""Hand-built recordings and a stand-in policy server for the preflight tests."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from preflight.cli import run
from preflight.model import SECRET_SIG, SIG_KEY, RecordedResource, Recording

PROJECT = "securecart-data"
STACK_URN = f"urn:pulumi:test::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-test"
PROVIDER_URN = f"urn:pulumi:test::{PROJECT}::pulumi:providers:aws::aws"
PASSWORD = "s3cr3t-Passw0rd-from-a-test"


def secret(value: Any) -> dict[str, Any]:
    """A value wrapped the way the recorder leaves secrets."""
    return {SIG_KEY: SECRET_SIG, "value": value}


@dataclass
class Builder:
    """Builds a Recording resource by resource; URNs nest types like the engine's."""

    resources: list[RecordedResource] = field(default_factory=list)
    _types: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.resources.append(
            RecordedResource(
                PROVIDER_URN,
                "pulumi:providers:aws",
                "aws",
                True,
                {"region": "us-east-1"},
                None,
                None,
            )
        )

    def add(
        self,
        type_: str,
        name: str,
        *,
        parent: str | None = None,
        deps: Sequence[str] = (),
        region: str | None = "us-east-1",
        custom: bool | None = None,
        **inputs: Any,
    ) -> str:
        chain = ""
        if parent is not None:
            chain = self._types[parent] + "$"
        qualified = chain + type_
        urn = f"urn:pulumi:test::{PROJECT}::{qualified}::{name}"
        self._types[urn] = qualified
        is_custom = custom if custom is not None else type_.startswith("aws:")
        if region is not None and is_custom:
            inputs = {"region": region, **inputs}
        self.resources.append(
            RecordedResource(
                urn=urn,
                type=type_,
                name=name,
                custom=is_custom,
                inputs=inputs,
                parent=parent or STACK_URN,
                provider=f"{PROVIDER_URN}::provider-id" if is_custom else None,
                dependencies=tuple(deps),
            )
        )
        return urn

    def recording(self, stack: str = "test", outputs: dict[str, Any] | None = None) -> Recording:
        return Recording(PROJECT, stack, list(self.resources), outputs or {}, {})


def global_database(b: Builder, parent: str | None = None) -> dict[str, str]:
    """The Aurora global database chain of the README (Contracts between the parts), in two regions."""
    gc = b.add("aws:rds/globalCluster:GlobalCluster", "aurora-global", parent=parent)
    key = b.add("aws:kms/key:Key", "aurora-key", parent=parent)
    primary = b.add(
        "aws:rds/cluster:Cluster",
        "aurora-us-east-1",
        parent=parent,
        deps=(gc, key),
        masterPassword=secret(PASSWORD),
    )
    writer = b.add(
        "aws:rds/clusterInstance:ClusterInstance",
        "aurora-us-east-1-1",
        parent=parent,
        deps=(primary,),
    )
    reader = b.add(
        "aws:rds/clusterInstance:ClusterInstance",
        "aurora-us-east-1-2",
        parent=parent,
        deps=(primary,),
    )
    secondary = b.add(
        "aws:rds/cluster:Cluster",
        "aurora-us-west-2",
        parent=parent,
        deps=(gc, writer),
        region="us-west-2",
    )
    replica = b.add(
        "aws:rds/clusterInstance:ClusterInstance",
        "aurora-us-west-2-1",
        parent=parent,
        deps=(secondary,),
        region="us-west-2",
    )
    return {
        "global": gc,
        "key": key,
        "primary": primary,
        "writer": writer,
        "reader": reader,
        "secondary": secondary,
        "replica": replica,
    }


@dataclass(frozen=True)
class FakeDiagnostic:
    policy_name: str
    policy_pack_name: str
    description: str
    message: str
    enforcement_level: str
    urn: str


@dataclass(frozen=True)
class FakePolicyInfo:
    name: str
    description: str
    remediation_steps: str
    enforcement_level: str


Rule = Callable[[RecordedResource], str | None]


class FakePolicyServer:
    """Stands in for preflight.analyzer.PolicyServer: rules are plain functions."""

    instances: list[FakePolicyServer] = []

    def __init__(
        self,
        pack_dir: Path,
        rules: dict[str, tuple[str, Rule]] | None = None,
        stack_rules: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        self.pack_dir = pack_dir
        self.rules = rules or {}
        self.stack_rules = stack_rules or {}
        self.config: dict[str, Any] | None = None
        self.entered = self.exited = False
        self.analyzed: list[str] = []
        FakePolicyServer.instances.append(self)

    def __enter__(self) -> FakePolicyServer:
        self.entered = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.exited = True

    def info(self) -> list[FakePolicyInfo]:
        names = {
            **{k: v[0] for k, v in self.rules.items()},
            **{k: v[0] for k, v in self.stack_rules.items()},
        }
        return [
            FakePolicyInfo(n, f"{n} description", f"fix {n}", level) for n, level in names.items()
        ]

    def configure(self, config: dict[str, Any]) -> None:
        self.config = dict(config)

    def _level(self, name: str, default: str) -> str:
        assert self.config is not None, "configure() must come before analyze()"
        entry = self.config.get(name)
        if isinstance(entry, dict):
            return str(entry.get("enforcementLevel", default))
        if isinstance(entry, str):
            return entry
        return str(self.config.get("all", default))

    def analyze(self, resource: RecordedResource) -> list[FakeDiagnostic]:
        self.analyzed.append(resource.urn)
        found = []
        for name, (level, rule) in self.rules.items():
            message = rule(resource)
            if message is not None:
                found.append(
                    FakeDiagnostic(
                        name,
                        "fake-pack",
                        f"{name} description",
                        message,
                        self._level(name, level),
                        resource.urn,
                    )
                )
        return found

    def analyze_stack(self, resources: Sequence[RecordedResource]) -> list[FakeDiagnostic]:
        return [
            FakeDiagnostic(
                name, "fake-pack", f"{name} description", message, self._level(name, level), ""
            )
            for name, (level, message) in self.stack_rules.items()
        ]


class Harness:
    """Runs cli.run with fakes and captures everything it prints."""

    def __init__(self, root: Path, recording: Recording, **server_args: Any) -> None:
        self.root = root
        self.recording = recording
        self.server_args = server_args
        self.servers: list[FakePolicyServer] = []
        self.out = io.StringIO()
        self.err = io.StringIO()

    def recorder(self, stack: str, overrides: Mapping[str, str] | None, root: Path) -> Recording:
        self.overrides = dict(overrides or {})
        return self.recording

    def server(self, pack_dir: Path) -> FakePolicyServer:
        server = FakePolicyServer(pack_dir, **self.server_args)
        self.servers.append(server)
        return server

    def run(self, *args: Any, **kwargs: Any) -> int:
        return run(
            "test",
            *args,
            root=self.root,
            console=Console(file=self.out, width=200, color_system=None),
            err_console=Console(file=self.err, width=200, color_system=None),
            recorder=kwargs.pop("recorder", self.recorder),
            server_factory=self.server,
            **kwargs,
        )

    @property
    def output(self) -> str:
        return self.out.getvalue() + self.err.getvalue()
