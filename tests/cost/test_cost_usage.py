"""Usage files: validated like the stack config, copied into the gate's config, never drifting."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies.budget_gate import NAME
from policies.pricing.usage import UsageError, json_schema, parse_usage
from preflight.cost import gate_settings, read_usage, sync
from preflight.pipeline import PreflightConfigError
from tests.support.stacks import STACKS

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("document", "key", "allowed"),
    [
        ({"aurra": {}}, "aurra", "one of dynamodb, aurora"),
        ({"aurora": {"storageGB": 10}}, "aurora.storageGB", "one of storageGb, writeIoPerSecond"),
        ({"aurora": {"storageGb": "lots"}}, "aurora.storageGb", "a number from 0 to 131072 (GB)"),
        ({"aurora": {"storageGb": -1}}, "aurora.storageGb", "a number from 0 to 131072 (GB)"),
        ({"aurora": {"extraReaders": 16}}, "aurora.extraReaders", "a number from 0 to 15"),
        ({"backup": {"dailyChangePercent": True}}, "backup.dailyChangePercent", "from 0 to 100"),
        ({"cache": [1, 2]}, "cache", "a mapping with keys dataGb, writesPerSecond, itemSizeKb"),
        (
            {"dynamodb": {"tables": {"carts": {"itemSizeKb": 500}}}},
            "dynamodb.tables.carts.itemSizeKb",
            "a number from 0.01 to 400 (KB)",
        ),
        (
            {"dynamodb": {"default": {"writes": 3}}},
            "dynamodb.default.writes",
            "one of storageGb, writesPerSecond",
        ),
        ({"dynamodb": {"replicas": {}}}, "dynamodb.replicas", "one of default, tables"),
    ],
)
def test_bad_usage_is_rejected_naming_the_key(document: Any, key: str, allowed: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_usage(document)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"usage key '{key}' has value ")
    assert allowed in str(caught.value)


def test_missing_figures_take_stated_defaults() -> None:
    usage = parse_usage(
        {"aurora": {"storageGb": 10}, "dynamodb": {"tables": {"carts": {"storageGb": 3}}}}
    )
    assert usage.figure("aurora.storageGb") == 10
    assert usage.figure("aurora.writeIoPerSecond") == 100
    assert usage.table("carts") == {
        "storageGb": 3,
        "writesPerSecond": 10,
        "readsPerSecond": 50,
        "itemSizeKb": 1,
        "streamReadsPerSecond": 0,
    }
    defaults = {d.key: d.value for d in usage.defaults_used(["carts"])}
    assert "aurora.storageGb" not in defaults
    assert defaults["aurora.writeIoPerSecond"] == 100
    assert defaults["dynamodb.tables.carts.writesPerSecond"] == 10
    assert "dynamodb.tables.carts.storageGb" not in defaults


def test_the_gate_schema_bounds_every_figure() -> None:
    schema = json_schema()
    assert schema["additionalProperties"] is False
    storage = schema["properties"]["aurora"]["properties"]["storageGb"]
    assert (storage["minimum"], storage["maximum"], storage["type"]) == (0, 131072, "number")
    table = schema["properties"]["dynamodb"]["properties"]["tables"]["additionalProperties"]
    assert table["properties"]["itemSizeKb"]["maximum"] == 400


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_has_a_documented_usage_file_and_its_policy_config_carries_the_same_copy(
    stack: str,
) -> None:
    path = REPO / "stacks" / f"usage.{stack}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#") and "preflight.cost --sync" in text
    document = yaml.safe_load(text)
    parse_usage(document)
    config = json.loads((REPO / "stacks" / f"policy-config.{stack}.json").read_text())
    assert config[NAME]["usage"] == document, f"run: python -m preflight.cost --sync {stack}"
    usage = read_usage(stack, REPO)
    gate_settings(usage, stack, REPO, REPO / "stacks" / f"policy-config.{stack}.json", config)


def test_a_drifted_copy_is_refused_naming_the_key() -> None:
    config = json.loads((REPO / "stacks" / "policy-config.dev.json").read_text())
    config[NAME]["usage"]["aurora"]["storageGb"] = 999
    with pytest.raises(PreflightConfigError) as caught:
        gate_settings(
            read_usage("dev", REPO), "dev", REPO, REPO / "stacks" / "policy-config.dev.json", config
        )
    message = str(caught.value)
    assert "at 'aurora.storageGb' (policy config 999, usage file 20)" in message
    assert "python -m preflight.cost --sync dev" in message


def _project_copy(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(REPO / "stacks", root / "stacks")
    shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
    for name in ("__main__.py", "components", "policies"):
        (root / name).symlink_to(REPO / name)
    return root


def _preflight(root: Path, stack: str = "dev") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "preflight", "--stack", stack, "--root", str(root)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_the_command_line_rejects_a_bad_usage_file_with_exit_2_naming_the_key(
    tmp_path: Path,
) -> None:
    root = _project_copy(tmp_path)
    path = root / "stacks" / "usage.dev.yaml"
    path.write_text(path.read_text().replace("storageGb: 20 ", "storageGb: -20 "), encoding="utf-8")
    proc = _preflight(root)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr
    assert "stacks/usage.dev.yaml: usage key 'aurora.storageGb' has value -20;" in proc.stderr
    assert "allowed: a number from 0 to 131072 (GB)" in proc.stderr
    assert "Plan" not in proc.stdout  # refused before anything ran


def test_the_command_line_rejects_a_drifted_copy_and_sync_repairs_it(tmp_path: Path) -> None:
    root = _project_copy(tmp_path)
    path = root / "stacks" / "usage.dev.yaml"
    path.write_text(
        path.read_text().replace("writesPerSecond: 20 ", "writesPerSecond: 40 "), encoding="utf-8"
    )
    proc = _preflight(root)
    assert proc.returncode == 2
    assert "differs from stacks/usage.dev.yaml at 'cache.writesPerSecond'" in proc.stderr
    synced = subprocess.run(
        [sys.executable, "-m", "preflight.cost", "--sync", "dev", "--root", str(root)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert synced.returncode == 0, synced.stderr
    config = json.loads((root / "stacks" / "policy-config.dev.json").read_text())
    assert config[NAME]["usage"]["cache"]["writesPerSecond"] == 40
    assert config[NAME]["enforcementLevel"] == "advisory"  # the rest of the entry is kept
    assert (
        config["rds-multi-az"]
        == json.loads((REPO / "stacks" / "policy-config.dev.json").read_text())["rds-multi-az"]
    )
    usage = read_usage("dev", root)
    gate_settings(usage, "dev", root, root / "stacks" / "policy-config.dev.json", config)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            {"headroomPercent": 95},
            f"config key '{NAME}.headroomPercent' has value 95; allowed: a number from 0 to 90",
        ),
        (
            {"compareWith": "spot"},
            f"config key '{NAME}.compareWith' has value 'spot'; allowed: on-demand",
        ),
    ],
)
def test_the_command_line_rejects_gate_settings_outside_the_schema(
    tmp_path: Path, setting: dict[str, Any], message: str
) -> None:
    root = _project_copy(tmp_path)
    path = root / "stacks" / "policy-config.dev.json"
    config = json.loads(path.read_text())
    config[NAME].update(setting)
    path.write_text(json.dumps(config), encoding="utf-8")
    proc = _preflight(root)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_sync_writes_the_stack_files_layout(tmp_path: Path) -> None:
    root = _project_copy(tmp_path)
    before = (root / "stacks" / "policy-config.prod.json").read_text()
    sync("prod", root)
    assert (root / "stacks" / "policy-config.prod.json").read_text() == before


def test_docs_list_every_figure_with_its_default_and_range() -> None:
    from policies.pricing.usage import SECTIONS, TABLE_FIGURES, _num

    text = (REPO / "docs" / "cost.md").read_text()
    for section, figures in SECTIONS.items():
        for f in figures:
            row = f"| `{section}.{f.key}` | {_num(f.default)} | {_num(f.minimum)} to {_num(f.maximum)} | {f.unit} |"
            assert row in text, row
    for f in TABLE_FIGURES:
        assert (
            f"`dynamodb.tables.<name>.{f.key}` | {_num(f.default)} | {_num(f.minimum)} to {_num(f.maximum)} |"
            in text
        )
