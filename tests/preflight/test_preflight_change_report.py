"""A change report (``--against``) counts what the summary counts, and its critical path is the
changes' (what already exists unchanged takes no time), not a from-scratch deploy's."""

from __future__ import annotations

import pytest

from preflight.changes import Op
from preflight.critical_path import creation_seconds
from preflight.jsonout import counts, write_json
from preflight.markdown import render_markdown
from preflight.pipeline import PreflightResult, run_preflight

INSTANCE = "aws:rds/clusterInstance:ClusterInstance"


@pytest.fixture(scope="module")
def change(tmp_path_factory: pytest.TempPathFactory) -> PreflightResult:
    baseline = tmp_path_factory.mktemp("baseline") / "dev.json"
    write_json(run_preflight("dev"), baseline)
    # one more Aurora instance per region (and its FreeableMemory alarm)
    return run_preflight("dev", overrides={"auroraInstancesPerRegion": 3}, against=baseline)


def test_the_diff_counts_add_up_to_the_plans_resources(change: PreflightResult) -> None:
    diff = change.diff
    assert diff is not None
    total = counts(change.recording)["total"]
    assert sum(diff.count(op) for op in Op if op is not Op.DELETE) == total
    assert diff.count(Op.CREATE) == 4  # two instances, two alarms
    text = render_markdown(change)
    assert f"{diff.count(Op.SAME)} unchanged" in text and f"**Resources**: {total} (" in text


def test_the_critical_path_is_the_changes(change: PreflightResult) -> None:
    path = change.critical_path
    created = {c.urn for c in change.diff.changes if c.op is Op.CREATE} if change.diff else set()
    assert path.steps and {step.urn for step in path.steps} <= created
    (step,) = path.steps  # an instance is the longest change; nothing before it is new
    assert step.type == INSTANCE
    resource = next(r for r in change.recording.resources if r.urn == step.urn)
    assert path.total_seconds == creation_seconds(resource) == 600.0
    assert "Critical path of the changes: 10m 00s" in render_markdown(change)


def test_without_a_baseline_the_path_is_a_whole_deploy() -> None:
    result = run_preflight("dev")
    assert result.critical_path.total_seconds > 30 * 60
    assert "Deploy critical path" in render_markdown(result)
