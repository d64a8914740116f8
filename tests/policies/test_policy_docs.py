"""The policy table in docs/policies.md is the one generated from the rules and configs."""

from __future__ import annotations

import json
from pathlib import Path

from policies import ALL_RULES, RULES_BY_NAME
from policies.catalog import BEGIN, END, level, render_section

REPO = Path(__file__).resolve().parents[2]


def test_docs_table_matches_the_rules_and_stack_configs() -> None:
    text = (REPO / "docs" / "policies.md").read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == render_section(ALL_RULES, REPO), (
        "regenerate with: .venv/bin/python -c 'from pathlib import Path; from policies import ALL_RULES; "
        'from policies.catalog import render_section; print(render_section(ALL_RULES, Path(".")))\''
    )
    for rule in ALL_RULES:
        assert f"| `{rule.name}` |" in text


def test_stack_configs_name_only_real_rules_and_prod_is_mandatory() -> None:
    for stack in ("dev", "staging", "prod"):
        config = json.loads((REPO / "stacks" / f"policy-config.{stack}.json").read_text())
        assert config["all"] == "mandatory"
        assert set(config) - {"all"} <= set(RULES_BY_NAME), stack
    prod = json.loads((REPO / "stacks" / "policy-config.prod.json").read_text())
    assert {level(prod, rule.name) for rule in ALL_RULES} == {"mandatory"}
    dev = json.loads((REPO / "stacks" / "policy-config.dev.json").read_text())
    advisory = {rule.name for rule in ALL_RULES if level(dev, rule.name) == "advisory"}
    assert advisory and advisory <= {
        "rds-multi-az",
        "elasticache-multi-az",
        "elasticache-automatic-failover",
        "rds-enhanced-monitoring",
        "backup-cross-region-copy",
        "cost-budget-estimate",
    }


def test_docs_coverage_table_matches_the_controls_table() -> None:
    from policies.catalog import COVERAGE_BEGIN, COVERAGE_END, render_coverage_section

    text = (REPO / "docs" / "policies.md").read_text()
    start = text.index(COVERAGE_BEGIN)
    end = text.index(COVERAGE_END) + len(COVERAGE_END)
    assert text[start:end] == render_coverage_section(ALL_RULES)
