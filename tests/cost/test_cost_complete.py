"""An estimate says what it left out: a line it cannot price is never $0 in silence.

A region the table does not price, an instance class or node type it lacks, a type without a
rule: each becomes an unpriced line, the estimate is marked incomplete in the terminal, the
Markdown and ``--json`` (``cost.complete``, ``cost.unpriced``), and the budget gate does not pass
it as if it were complete. The stack config accepts only the regions the table prices.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from components.settings.placement import PRICED_REGIONS, REGIONS
from components.settings.values import ConfigError
from policies import resource_types as t
from policies.pricing.table import pinned_table
from tests.cost.cost_support import EAST, WEST, Planned, cluster, instance, run

REPO = Path(__file__).resolve().parents[2]


def test_the_config_accepts_exactly_the_regions_the_table_prices() -> None:
    assert set(PRICED_REGIONS) == pinned_table().regions() - {"global"}
    assert set(PRICED_REGIONS) <= set(REGIONS)


def test_a_region_outside_the_table_is_refused_by_the_stack_config() -> None:
    from components.settings.placement import region_pair

    with pytest.raises(ConfigError) as caught:
        region_pair({"primaryRegion": "eu-west-1", "secondaryRegion": "us-west-2"})
    message = str(caught.value)
    assert "primaryRegion" in message and "eu-west-1" in message
    assert "us-east-1" in message and "us-west-2" in message


def test_an_unpriced_region_is_an_unpriced_line_not_a_silent_zero() -> None:
    est = run([cluster(EAST, primary=True), instance(EAST, 1), instance("eu-west-1", 1)])
    assert not est.complete
    (gap,) = [line for line in est.unpriced if line.name == "aurora-eu-west-1-1"]
    assert (gap.region, gap.monthly_usd, gap.priced, gap.free) == ("eu-west-1", 0.0, False, False)
    assert gap.reason == (
        "the table has no on-demand price for aurora.instance/aurora-postgresql/db.r6g.large"
        " in eu-west-1"
    )
    # the priced part is still exact: the one us-east-1 instance, 730 h x $0.26
    assert sum(line.monthly_usd for line in est.lines if line.name.endswith("-1-1")) == (
        pytest.approx(189.80)
    )


def test_an_unpriced_class_and_a_type_without_a_rule_are_gaps_too() -> None:
    est = run(
        [
            cluster(EAST, primary=True),
            instance(EAST, 1, "db.r8g.large"),
            Planned("aws:s3/bucketV2:BucketV2", "bucket", {"region": WEST}),
        ]
    )
    assert [(g.name, g.region) for g in est.unpriced] == [
        ("aurora-us-east-1-1", EAST),
        ("bucket", WEST),
    ]
    assert est.unpriced[1].reason == "the estimator has no rule for this type"


def test_a_complete_estimate_says_so() -> None:
    assert run([cluster(EAST, primary=True), instance(EAST, 1)]).complete


@pytest.fixture(scope="module")
def r8g(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any], str]:
    out = tmp_path_factory.mktemp("r8g")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "preflight",
            "--stack",
            "dev",
            "--set",
            "auroraInstanceClass=db.r8g.large",
            "--json",
            str(out / "dev.json"),
            "--markdown",
            str(out / "dev.md"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    doc = json.loads((out / "dev.json").read_text()) if (out / "dev.json").exists() else {}
    markdown = (out / "dev.md").read_text() if (out / "dev.md").exists() else ""
    return proc, doc, markdown


def test_json_marks_the_estimate_incomplete(r8g: tuple[Any, dict[str, Any], str]) -> None:
    proc, doc, _ = r8g
    # dev's policy config makes the class list mandatory (that blocks), the gate advisory
    assert proc.returncode == 1, proc.stderr
    mandatory = {
        d["policyName"] for d in doc["diagnostics"] if d["enforcementLevel"] == "mandatory"
    }
    assert mandatory == {"cost-allowed-instance-classes"}
    cost = doc["cost"]
    assert cost["complete"] is False
    # dev: two db.r8g.large per region, none in the table
    gaps = [g for g in cost["unpriced"] if g["type"] == t.RDS_CLUSTER_INSTANCE]
    assert sorted(g["region"] for g in gaps) == [EAST, EAST, WEST, WEST]
    for gap in gaps:
        assert {"urn", "type", "region", "reason"} <= set(gap)
        assert gap["reason"].startswith("the table has no on-demand price for")
    assert cost["gate"]["withinBudget"] is None  # the priced part fits; the gate cannot confirm
    (finding,) = [d for d in doc["diagnostics"] if d["policyName"] == "cost-budget-estimate"]
    assert finding["enforcementLevel"] == "advisory" and "cannot confirm" in finding["message"]


def test_terminal_and_markdown_mark_it(r8g: tuple[Any, dict[str, Any], str]) -> None:
    proc, doc, markdown = r8g
    n = len(doc["cost"]["unpriced"])
    assert f"INCOMPLETE: {n} item(s) not priced" in proc.stdout
    assert "is unconfirmed" in proc.stdout
    assert "Not priced ($0 in the totals): aurora-us-east-1-1" in proc.stdout
    assert f"**Incomplete**: {n} item(s) not priced" in markdown
    assert "not confirmed by the gate" in markdown
