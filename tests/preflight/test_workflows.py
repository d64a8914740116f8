"""The GitHub workflows: what GitHub's schema (``make lint``) cannot check.

The workflows are parsed as YAML, and their shell steps are run here with bash, a stub
``.venv/bin/python`` that records its arguments, and GitHub's files (``GITHUB_OUTPUT``,
``GITHUB_STEP_SUMMARY``) in a temporary directory; the arguments the stub saw are then parsed
by the real command-line parsers of ``preflight`` and ``drills``, so a workflow cannot call an
option that does not exist.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import shlex
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from preflight.pipeline import REPO

WORKFLOWS = REPO / ".github" / "workflows"
STACKS = sorted(
    p.name[len("Pulumi.") : -len(".yaml")] for p in (REPO / "stacks").glob("Pulumi.*.yaml")
)
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@(v\d+\.\d+\.\d+|[0-9a-f]{40})$")
SECRET = re.compile(r"\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


ALL = sorted(p.name for p in WORKFLOWS.glob("*.yml"))


def jobs(name: str) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = load(name)["jobs"]
    return result


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def step(job: Mapping[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for s in job["steps"] if s.get("name") == name or s.get("id") == name]
    return dict(found)


# --- running a shell step -------------------------------------------------------------------

STUB_PYTHON = """#!/usr/bin/env bash
printf '%s\\0' "$@" >> "$STUB_CALLS"; printf '\\n' >> "$STUB_CALLS"
if [ "$2" = preflight ]; then
  while [ $# -gt 0 ]; do
    if [ "$1" = --markdown ]; then mkdir -p "$(dirname "$2")"; echo "## stub report" > "$2"; fi
    shift
  done
fi
exit "${STUB_EXIT:-0}"
"""


@dataclass
class StepRun:
    returncode: int
    stdout: str
    outputs: dict[str, str]
    summary: str
    calls: list[list[str]]


def run_step(
    script: str, tmp: Path, env: Mapping[str, str], expressions: Mapping[str, str] | None = None
) -> StepRun:
    """Run a step's ``run`` script as GitHub does (bash -e), in a scratch working directory."""
    work = tmp / "work"
    (work / ".venv" / "bin").mkdir(parents=True, exist_ok=True)
    python = work / ".venv" / "bin" / "python"
    python.write_text(STUB_PYTHON)
    python.chmod(0o755)
    output, summary, calls = tmp / "output", tmp / "summary", tmp / "calls"
    for path in (output, summary, calls):
        path.write_text("")

    def substitute(match: re.Match[str]) -> str:
        return (expressions or {}).get(match.group(1), "")

    proc = subprocess.run(
        ["bash", "-e", "-c", EXPRESSION.sub(substitute, script)],
        cwd=work,
        env={
            "PATH": "/usr/bin:/bin",
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "RUNNER_TEMP": str(tmp),
            "STUB_CALLS": str(calls),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    recorded = [
        [arg for arg in line.split("\0") if arg] for line in calls.read_text().split("\n") if line
    ]
    return StepRun(
        proc.returncode, proc.stdout + proc.stderr, outputs, summary.read_text(), recorded
    )


def parses(command: Any, args: list[str]) -> None:
    """Raise if ``args`` are not a valid invocation of ``command`` (a typer/click command, or
    an argparse parser)."""
    if isinstance(command, argparse.ArgumentParser):
        command.exit_on_error = False
        _parsed, unknown = command.parse_known_args(list(args))
        assert not unknown, f"unknown arguments {unknown}"
        return
    command.make_context(command.name or "cmd", list(args), resilient_parsing=False)


def preflight_command() -> Any:
    from preflight.cli import parser

    return parser()


def drills_run_command() -> Any:
    from drills.cli import app

    return typer.main.get_command(app).commands["run"]


# --- every workflow ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_every_action_is_pinned_to_a_full_version(name: str) -> None:
    for job_id, job in jobs(name).items():
        if "uses" in job:  # a reusable workflow of this repository
            path = job["uses"]
            assert path.startswith("./.github/workflows/"), (job_id, path)
            assert (REPO / path).is_file(), (job_id, path)
            continue
        for s in job["steps"]:
            if "uses" in s:
                assert PINNED.match(s["uses"]), (job_id, s["uses"])


@pytest.mark.parametrize("name", ALL)
def test_every_job_needing_a_secret_skips_with_a_notice_without_it(
    name: str, tmp_path: Path
) -> None:
    for job_id, job in jobs(name).items():
        if "uses" in job:
            assert job.get("secrets") in ("inherit", None), job_id
            continue
        secrets = {m for text in strings(job) for m in SECRET.findall(text)}
        if not secrets:
            continue
        # `secrets` cannot be used in a job-level if: the first step decides, on env values
        assert "secrets." not in str(job.get("if", "")), job_id
        env = job.get("env", {})
        variables = {var for var, value in env.items() if SECRET.search(str(value))}
        assert {SECRET.search(str(env[v])).group(1) for v in variables} == secrets, job_id
        gate, *rest = job["steps"]
        assert gate.get("id"), job_id
        condition = f"steps.{gate['id']}.outputs.enabled == 'true'"
        for later in rest:
            assert condition in str(later.get("if", "")), (job_id, later.get("name") or later)
        for later in rest:
            assert not any(SECRET.search(text) for text in strings(later)), (job_id, later)

        absent = run_step(gate["run"], tmp_path, {}, {"matrix.stack": "dev"})
        assert absent.returncode == 0, absent.stdout
        assert absent.outputs["enabled"] == "false", (job_id, absent.outputs)
        notice = [line for line in absent.stdout.splitlines() if line.startswith("::notice")]
        assert len(notice) == 1, (job_id, absent.stdout)
        for variable in variables:
            assert variable in notice[0], (job_id, notice)

        configured = {var: "configured" for var in env if var.isupper()}
        present = run_step(gate["run"], tmp_path, configured, {"matrix.stack": "dev"})
        assert present.outputs["enabled"] == "true", (job_id, present.stdout)
        assert "::notice" not in present.stdout


@pytest.mark.parametrize("name", ALL)
def test_permissions_are_explicit_and_oidc_only_where_aws_is_used(name: str) -> None:
    workflow = load(name)
    permissions = workflow["permissions"]
    assert permissions.get("contents") == "read"
    uses_aws = any(
        str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
        for job in workflow["jobs"].values()
        for s in job.get("steps", [])
    )
    calls_deploy = any(
        "deploy.yml" in str(job.get("uses", "")) for job in workflow["jobs"].values()
    )
    assert (permissions.get("id-token") == "write") == (uses_aws or calls_deploy), permissions


# --- pull request -----------------------------------------------------------------------------


def _readme_commands() -> set[str]:
    return set(re.findall(r"`?(make (?:lint|typecheck|test))\b", (REPO / "README.md").read_text()))


def test_the_pull_request_runs_the_readme_checks() -> None:
    checks = jobs("pull-request.yml")["checks"]
    runs = [s["run"] for s in checks["steps"] if "run" in s]
    assert _readme_commands() == {"make lint", "make typecheck", "make test"}
    assert runs == ["make lint", "make typecheck", "make test"]
    makefile = (REPO / "Makefile").read_text()
    for target in ("lint", "typecheck", "test"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target


def test_the_pull_request_previews_every_stack() -> None:
    workflow = load("pull-request.yml")
    preflight = workflow["jobs"]["preflight"]
    assert preflight["strategy"]["matrix"]["stack"] == STACKS
    assert set(workflow["on"]["pull_request"]["types"]) >= {"opened", "synchronize", "labeled"}


def test_the_baseline_comes_from_the_base_branch() -> None:
    job = jobs("pull-request.yml")["preflight"]
    assert job["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    script = step(job, "baseline")["run"]
    commands = [shlex.split(line) for line in script.splitlines() if line.strip()]
    assert ["git", "worktree", "add", "--detach", "$BASE_DIR", "$BASE_SHA"] in commands
    assert ["make", "-C", "$BASE_DIR", "venv"] in commands
    # the base branch's own preflight writes the baseline
    (base_run,) = [c for c in commands if "preflight" in c]
    assert base_run[base_run.index("-m") + 1] == "preflight"
    assert base_run[base_run.index("--json") + 1] == "$RUNNER_TEMP/baseline-$STACK.json"
    assert job["steps"][0]["with"] == {"fetch-depth": 0}


def test_labels_approve_replacements(tmp_path: Path) -> None:
    job = jobs("pull-request.yml")["preflight"]
    labels = '["bug", "allow-replace:vpc-us-east-1", "allow-replace:subnet-us-east-1a"]'
    result = run_step(step(job, "approvals")["run"], tmp_path, {"LABELS": labels})
    assert result.returncode == 0, result.stdout
    assert result.outputs["names"].split() == ["vpc-us-east-1", "subnet-us-east-1a"]


@pytest.mark.parametrize("exit_code", [0, 1])
def test_the_preflight_step_diffs_reports_and_passes_the_verdict_on(
    exit_code: int, tmp_path: Path
) -> None:
    job = jobs("pull-request.yml")["preflight"]
    preflight_step = step(job, "Preflight against the baseline")
    env = {
        "STACK": "prod",
        "BASELINE": "/tmp/base/baseline-prod.json",
        "APPROVED": "vpc-us-east-1 subnet-us-east-1a ",
        "STUB_EXIT": str(exit_code),
    }
    result = run_step(preflight_step["run"], tmp_path, env)
    assert result.returncode == exit_code
    (call,) = result.calls
    assert call[:2] == ["-m", "preflight"]
    args = call[2:]
    assert args == [
        "--stack",
        "prod",
        "--json",
        "out/prod.json",
        "--markdown",
        "out/prod.md",
        "--graph",
        "out/prod.mmd",
        "--against",
        "/tmp/base/baseline-prod.json",
        "--allow-replace",
        "vpc-us-east-1",
        "--allow-replace",
        "subnet-us-east-1a",
    ]
    parses(preflight_command(), args)
    assert result.summary == "## stub report\n"  # the Markdown report is the job summary
    upload = job["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["if"] == "always()" and upload["with"]["path"] == "out/"


def test_without_a_baseline_the_plan_is_all_creates(tmp_path: Path) -> None:
    job = jobs("pull-request.yml")["preflight"]
    result = run_step(
        step(job, "Preflight against the baseline")["run"],
        tmp_path,
        {"STACK": "dev", "BASELINE": "", "APPROVED": ""},
    )
    (call,) = result.calls
    assert "--against" not in call and "--allow-replace" not in call


# --- main, promotion, drill, publish ----------------------------------------------------------


def test_push_to_main_previews_every_stack_with_the_pack() -> None:
    workflow = load("main.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    (job,) = workflow["jobs"].values()
    assert job["strategy"]["matrix"]["stack"] == STACKS
    (action,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert action["with"]["command"] == "preview"
    assert action["with"]["policyPacks"] == "policies"
    config = action["with"]["policyPackConfigs"].replace("${{ matrix.stack }}", "prod")
    assert (REPO / config).is_file()


def test_promotion_goes_dev_staging_prod_through_environments() -> None:
    promote = jobs("promote.yml")
    assert [promote[j]["with"]["stack"] for j in ("dev", "staging", "prod")] == [
        "dev",
        "staging",
        "prod",
    ]
    assert "needs" not in promote["dev"]
    assert promote["staging"]["needs"] == "dev" and promote["prod"]["needs"] == "staging"
    for job in promote.values():
        assert job["uses"] == "./.github/workflows/deploy.yml" and job["secrets"] == "inherit"
    deploy = load("deploy.yml")
    assert set(deploy["on"]["workflow_call"]["inputs"]) == {"stack", "ref"}
    (up,) = deploy["jobs"].values()
    assert up["environment"] == "${{ inputs.stack }}"
    (action,) = [s for s in up["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert action["with"]["command"] == "up" and action["with"]["policyPacks"] == "policies"
    docs = (REPO / "docs" / "workflows.md").read_text()
    assert "Required reviewers" in docs and "prod" in docs


def test_the_deploy_runs_the_offline_preflight_first(tmp_path: Path) -> None:
    (up,) = jobs("deploy.yml").values()
    names = [s.get("name") for s in up["steps"]]
    preflight_step = step(up, "Offline preflight (fails fast on a mandatory policy)")
    assert names.index(preflight_step["name"]) < names.index("pulumi up with the policy pack")
    result = run_step(preflight_step["run"], tmp_path, {"STACK": "staging"})
    (call,) = result.calls
    parses(preflight_command(), call[2:])
    assert call == ["-m", "preflight", "--stack", "staging"]


def test_a_weekly_drill_runs_on_staging_and_uploads_its_report(tmp_path: Path) -> None:
    workflow = load("drill.yml")
    (cron,) = [entry["cron"] for entry in workflow["on"]["schedule"]]
    _minute, _hour, day, month, weekday = cron.split()
    assert (day, month) == ("*", "*") and weekday.isdigit()  # once a week
    (job,) = workflow["jobs"].values()
    assert job["environment"] == "staging"
    drill = step(job, "python -m drills run")
    result = run_step(drill["run"], tmp_path, {"SCENARIO": "planned-switchover"})
    (call,) = result.calls
    assert call[:3] == ["-m", "drills", "run"]
    parses(drills_run_command(), call[3:])
    assert call[call.index("--stack") + 1] == "staging"
    report = call[call.index("--report") + 1]
    upload = step(job, "Upload the drill report and journal")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert "always()" in upload["if"]
    assert report in upload["with"]["path"].split()[0]
    choices = workflow["on"]["workflow_dispatch"]["inputs"]["scenario"]["options"]
    from drills.scenarios import SCENARIOS

    assert set(choices) <= set(SCENARIOS)


def test_a_cancelled_or_failed_drill_is_rolled_back_from_its_uploaded_journal(
    tmp_path: Path,
) -> None:
    """Issue 17, item 5: the drill runs as the step's process (GitHub's SIGINT/SIGTERM reach
    it); the journal is uploaded whatever happens; the final steps, on cancellation or failure,
    roll back every unfinished drill of that state directory and upload the journal again; the
    job's timeout is the sum of its steps' timeouts, within GitHub-hosted runners' 360 minutes."""
    (job,) = load("drill.yml")["jobs"].values()
    names = [s.get("name") or s.get("uses") for s in job["steps"]]
    drill = step(job, "python -m drills run")
    assert drill["run"].startswith("exec ")
    state = shlex.split(drill["run"])[shlex.split(drill["run"]).index("--state-dir") + 1]

    rollback = step(job, "python -m drills rollback --unfinished")
    assert names.index(rollback["name"]) > names.index("Upload the drill report and journal")
    assert rollback["if"].startswith("(cancelled() || failure())")
    result = run_step(rollback["run"], tmp_path, {})
    (call,) = result.calls
    assert call[:3] == ["-m", "drills", "rollback"]
    from drills.cli import app

    parses(typer.main.get_command(app).commands["rollback"], call[3:])
    assert "--unfinished" in call and call[call.index("--state-dir") + 1] == state
    after = job["steps"][-1]
    assert after["uses"].startswith("actions/upload-artifact@") and "cancelled()" in after["if"]
    assert state + "/" in after["with"]["path"].split()

    timeouts = [s.get("timeout-minutes") for s in job["steps"]]
    assert all(isinstance(t, int) and t > 0 for t in timeouts), list(
        zip(names, timeouts, strict=True)
    )
    assert job["timeout-minutes"] == sum(timeouts) <= 360
    assert rollback["timeout-minutes"] >= 30


def test_the_policy_pack_is_published_on_its_version_tag() -> None:
    workflow = load("publish-policy-pack.yml")
    (pattern,) = workflow["on"]["push"]["tags"]
    pack = yaml.safe_load((REPO / "policies" / "PulumiPolicy.yaml").read_text())
    tag = f"v{pack['version']}"
    # GitHub's tag filters are glob patterns: the pack's version tag matches, a branch-like
    # name does not
    assert fnmatch.fnmatch(tag, pattern) and not fnmatch.fnmatch("main", pattern)
    (job,) = workflow["jobs"].values()
    publish = step(job, "pulumi policy publish")
    assert publish["working-directory"] == "policies"
    assert shlex.split(publish["run"])[:3] == ["pulumi", "policy", "publish"]
