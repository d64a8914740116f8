"""Shared helpers for tests that read the recorded resource graph of a stack."""

from __future__ import annotations

import functools
from typing import Any

from preflight.model import RecordedResource, Recording, is_secret
from preflight.recorder import record_stack

STACKS = ("dev", "staging", "prod")


@functools.cache
def recorded(stack: str, *overrides: str) -> Recording:
    """Record a stack once per test process (the program is deterministic)."""
    return record_stack(stack, list(overrides))


def unwrap(value: Any) -> Any:
    """Strip Pulumi's secret wrapper: mocked inputs arrive wrapped."""
    if is_secret(value):
        return value["value"]
    return value


def only(
    recording: Recording, type_token: str, region: str | None = None
) -> list[RecordedResource]:
    """Resources of a type, optionally in one region."""
    return [r for r in recording.by_type(type_token) if region is None or r.region == region]
