"""Suite-wide hooks: the longest tests start first, and the policy mutation summary prints
under `make test` too."""

from __future__ import annotations

import os
from typing import Any

import pytest

# Journal writes skip their fsync in the tests, subprocesses included: a test kills processes,
# never the machine, and 2,200 fsyncs cost 2.3 s of test_drill_aborts.py alone (cProfile)
os.environ.setdefault("DRILLS_JOURNAL_FSYNC", "0")

LONGEST_FIRST = (
    "tests/drills/test_drill_sandbox.py::test_make_drill_records_the_program",
    "tests/drills/test_drill_serve.py::",
    "tests/policies/test_policy_stacks.py::test_every_rule_has_a_catching",
    "tests/drills/test_dataplane.py::",
    "tests/drills/test_drill_sandbox.py::",
    "tests/policies/test_policy_complexity.py::",
)
"""Tests of tens of seconds each (``--durations``): started first, so that the workers
(``-n 3 --dist worksteal``) end together instead of one waiting for a long test drawn last."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next(
            (i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)),
            len(LONGEST_FIRST),
        )

    items.sort(key=rank)  # stable: the rest keep their order


def pytest_terminal_summary(terminalreporter: Any) -> None:
    rows = [
        value
        for report in terminalreporter.stats.get("passed", [])
        + terminalreporter.stats.get("failed", [])
        for key, value in getattr(report, "user_properties", [])
        if key == "mutations"
    ]
    if not rows:
        return
    terminalreporter.section("policy mutation test")
    for row in sorted(rows, key=lambda r: r["stack"]):
        terminalreporter.write_line(
            f"{row['stack']:8} {row['rules']} rules: {row['caught']} of {row['tried']} single-property "
            f"mutations and {row.get('ineffective_caught', 0)} of {row.get('ineffective_tried', 0)} "
            "present-but-ineffective ones made exactly their rule fire"
        )
    terminalreporter.write_line(
        f"total    {sum(r['caught'] for r in rows)} of {sum(r['tried'] for r in rows)} removals, "
        f"{sum(r.get('ineffective_caught', 0) for r in rows)} of "
        f"{sum(r.get('ineffective_tried', 0) for r in rows)} ineffective caught"
    )
