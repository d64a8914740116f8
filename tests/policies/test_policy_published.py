"""The pack as ``pulumi policy publish`` ships it and a policy group runs it.

``pulumi policy publish`` tars the pack directory; the CLI installs a required pack into
``~/.pulumi/policies/<org>/<pack>/<version>/`` and runs it there through the Python language
host: ``python -u -m pulumi.policy <engine> <pack dir>`` with the pack directory as working
directory, in the virtualenv that ``PulumiPolicy.yaml`` names (relative to the pack) and that
the CLI fills from the pack's ``requirements.txt``. Nothing of the repository is there. This test
copies ``policies/`` alone into such a directory and serves it exactly that way.
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from policies import ALL_RULES, PACK_NAME, RULES_BY_NAME
from policies import resource_types as t
from preflight.analyzer import PolicyServer
from tests.policies.golden import golden_stack
from tests.policies.policy_cases import CASES
from tests.policies.policy_support import apply, find

REPO = Path(__file__).resolve().parents[2]
PACK = REPO / "policies"
GOLDEN = golden_stack()
ALLOWED_IMPORTS = {"policies", "pulumi_policy", "google"}
"""Third-party top-level modules the pack may import: pulumi-policy and what it depends on."""


def _installed_copy(root: Path) -> Path:
    version = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())["version"]
    target = root / "securecart" / PACK_NAME / str(version)
    shutil.copytree(PACK, target, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _installed_copy(tmp_path_factory.mktemp("policies"))


@pytest.fixture(scope="module")
def server(installed: Path) -> Iterator[PolicyServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("PYTHONPATH", raising=False)  # only the pack directory is importable
        patch.delenv("PULUMI_STACK", raising=False)
        with PolicyServer(installed) as running:
            running.remember(GOLDEN)
            yield running


def test_the_pack_is_self_contained() -> None:
    project = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    venv = project["runtime"]["options"]["virtualenv"]
    assert not Path(venv).is_absolute() and ".." not in Path(venv).parts
    assert "venv/" in (PACK / ".gitignore").read_text().split()  # never uploaded by publish
    pins = {
        line.split("==")[0]: line
        for line in (PACK / "requirements.txt").read_text().splitlines()
        if "==" in line
    }
    project_pins = {
        line.split("==")[0]: line
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if "==" in line
    }
    assert set(pins) == {"pulumi", "pulumi-policy"}
    assert all(project_pins[name] == pin for name, pin in pins.items())
    stdlib = set(sys.stdlib_module_names)
    # The pack directory is sys.path[0] when the engine runs it: a module named like a standard
    # library module (secrets.py, ...) would replace that module for everything in the process.
    top_level = {s.stem for s in PACK.glob("*.py")} | {d.name for d in PACK.iterdir() if d.is_dir()}
    assert top_level & set(sys.stdlib_module_names) == set()
    sources = [s for s in PACK.rglob("*.py") if "venv" not in s.relative_to(PACK).parts]
    assert any(s.parent != PACK for s in sources)  # subpackages (pricing/) are checked too
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in stdlib or top in ALLOWED_IMPORTS, f"{source.name} imports {name}"


def test_the_installed_copy_serves_every_rule(server: PolicyServer, installed: Path) -> None:
    assert installed.name == yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())["version"]
    assert server.pack_dir == installed.resolve()
    assert {p.name for p in server.info()} == set(RULES_BY_NAME)
    assert server.pack_name == PACK_NAME


def test_the_installed_copy_passes_the_compliant_stack(server: PolicyServer) -> None:
    server.configure({"all": "mandatory"})
    found = [d for r in GOLDEN for d in server.analyze(r)] + server.analyze_stack(GOLDEN)
    assert found == []


@pytest.mark.parametrize("name", [r.name for r in ALL_RULES])
def test_the_installed_copy_reports_each_violation(server: PolicyServer, name: str) -> None:
    server.configure({"all": "mandatory", name: dict(CASES[name].violations[0].config or {})})
    mutation = CASES[name].violations[0]
    index = find(GOLDEN, mutation)[0]
    changed = apply(
        GOLDEN, index, mutation.path, mutation.candidate_values(GOLDEN[index], GOLDEN)[0]
    )
    rule = RULES_BY_NAME[name]
    if rule.kind == "stack":
        found = server.analyze_stack(changed)
    elif mutation.type == t.AWS_PROVIDER:
        server.remember([changed[index]])
        try:
            found = server.analyze(next(r for r in changed if r.type == t.SNS_TOPIC))
        finally:
            server.remember([GOLDEN[index]])
    else:
        found = server.analyze(changed[index])
    assert [d.policy_name for d in found if d.policy_name == name], name
    assert all(d.enforcement_level == "mandatory" for d in found)


def test_the_stack_name_from_the_engine_sets_the_environment(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The language host passes the stack as PULUMI_STACK: with no ``environment`` in the
    policy config, a dev-tagged resource on the prod stack is reported."""
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.setenv("PULUMI_STACK", "acme/securecart-data/prod")
    topic = next(r for r in GOLDEN if r.type == t.SNS_TOPIC)
    with PolicyServer(installed) as running:
        running.remember(GOLDEN)
        running.configure({"all": "mandatory"})
        found = running.analyze(topic)
    assert [d.policy_name for d in found] == ["tag-values-allowed"]
    assert re.search(r'`tags.Environment` is "dev" on the prod stack', found[0].message)
