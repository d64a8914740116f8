"""A real drill against a deployed stack, through the real ``pulumi`` CLI and AWS.

It runs only where all of these hold, and says which one is missing otherwise:

- the ``pulumi`` binary is on PATH (the Automation API drives it);
- AWS credentials resolve through boto3's normal chain, and no ``AWS_ENDPOINT_URL`` points
  boto3 at an emulator;
- ``DRILLS_INTEGRATION_STACK`` names the stack to drill (a deployed dev or staging stack: the
  drill switches its writers to the secondary region and back, which costs minutes of
  reduced availability and some money). Prod is refused here on purpose.

The stack's writer must hold the drills' canary table (created once, docs/drills.md "The canary
table"): the drill refuses at its preconditions otherwise, and this test fails with that reason.

Runs a planned switchover with failback, then checks that the writers are back where they
started, no canary was lost, and the objectives were met.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

STACK = os.environ.get("DRILLS_INTEGRATION_STACK", "")


def _skip_reason() -> str | None:
    if shutil.which("pulumi") is None:
        return "no `pulumi` binary on PATH (the Automation API needs the CLI)"
    if os.environ.get("AWS_ENDPOINT_URL"):
        return "AWS_ENDPOINT_URL is set: boto3 points at an emulator, not an AWS account"
    import boto3

    credentials = boto3.session.Session().get_credentials()
    if credentials is None or credentials.access_key in {"testing", "test"}:
        return "no AWS credentials in boto3's configuration chain"
    if not STACK:
        return "set DRILLS_INTEGRATION_STACK=<deployed dev/staging stack> to run a real drill"
    if STACK == "prod":
        return "the integration test never drills prod"
    return None


pytestmark = [
    pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason())),
    pytest.mark.timeout(3 * 3600),
]


def test_planned_switchover_and_failback_on_a_real_stack(tmp_path: Path) -> None:
    from pulumi.automation import PulumiCommand

    from drills.drill import DrillEnvironment, plan_drill, start_drill
    from drills.progress import RichProgress
    from drills.settings import DrillSettings

    plan = plan_drill(STACK, "planned-switchover", failback=True)
    env = DrillEnvironment(
        settings=DrillSettings(state_dir=tmp_path / "state"),
        pulumi_command=PulumiCommand(),
        observers=[RichProgress()],
        report_dir=tmp_path / "reports",
    )

    result = start_drill(STACK, "planned-switchover", env, failback=True)

    assert result.succeeded, result.reason
    assert result.measurement("switch", "aurora").rpo_canaries_lost == 0
    assert result.measurement("failback", "aurora").rpo_canaries_lost == 0
    assert result.outputs.get("primaryRegion") == plan.primary_region
    assert result.objectives_met is True
    assert Path(result.reports["markdown"]).exists()
