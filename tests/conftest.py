"""Suite-wide hooks: the policy mutation summary prints under `make test` too."""

from __future__ import annotations

from typing import Any


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
