"""Read a stack's config the way the Pulumi CLI does, without the CLI.

``Pulumi.yaml`` gives the project name, ``stackConfigDir`` and the declared project config
(with defaults); ``<stackConfigDir>/Pulumi.<stack>.yaml`` gives namespaced values. ``secure:``
values are secrets: we cannot decrypt them offline, so they stay opaque placeholders and are
reported as secret keys, never printed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.settings import STRING_KEYS, ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (several times faster), else PyYAML's."""
SECRET_PLACEHOLDER = "[secret]"
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(slots=True)
class StackConfig:
    """One stack's effective config, as the engine would hand it to the program."""

    project: str
    stack: str
    values: dict[str, Any]
    """Full key (``securecart-data:primaryRegion``, ``aws:region``) -> parsed YAML value."""
    secret_keys: set[str] = field(default_factory=set)
    stack_file: Path | None = None

    def project_values(self) -> dict[str, Any]:
        """Project-namespace values with the ``<project>:`` prefix removed (settings input)."""
        prefix = f"{self.project}:"
        return {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}

    def engine_config(self) -> dict[str, str]:
        """Values as strings, objects and lists as JSON: the form ``pulumi.Config`` reads."""
        return {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in self.values.items()
        }

    def redacted(self) -> dict[str, Any]:
        """Values safe to print or write: secrets replaced by a placeholder."""
        return {
            key: SECRET_PLACEHOLDER if key in self.secret_keys else value
            for key, value in self.values.items()
        }


class PreflightConfigError(Exception):
    """Bad configuration: the stack config, a ``--set`` override, or a preflight option.

    Its message is meant for the user as is (the settings loader's message names the key, the
    value and what is allowed). The CLI exits 2 on it.
    """


class StackFileError(ConfigError):
    """A stack or project file that is not valid YAML: names the file, the line and the
    problem on one line (``key``, ``value`` and ``allowed`` as for any ``ConfigError``)."""

    def __init__(self, path: Path, exc: yaml.YAMLError) -> None:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "?"
        problem = str(getattr(exc, "problem", None) or exc).replace("\n", " ")
        super().__init__(str(path), f"invalid YAML at {where}", f"valid YAML ({problem})")
        self.args = (f"{path}: invalid YAML at {where}: {problem}",)

    def __str__(self) -> str:
        return str(self.args[0])


class FileConfigError(ConfigError):
    """A stack or project file that cannot be used as one: names the file and what is wrong."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(str(path), problem, "a YAML mapping")
        self.args = (f"{path}: {problem}",)

    def __str__(self) -> str:
        return str(self.args[0])


class StackEncodingError(ConfigError):
    """A stack or project file that is not UTF-8 (the Pulumi CLI reads them as UTF-8): names
    the file and the first byte that is not, on one line."""

    def __init__(self, path: Path, exc: UnicodeDecodeError) -> None:
        byte = f"byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"
        super().__init__(str(path), byte, "UTF-8 text")
        self.args = (f"{path}: not UTF-8 text ({byte}); save it as UTF-8",)

    def __str__(self) -> str:
        return str(self.args[0])


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
    except FileNotFoundError:
        raise FileConfigError(path, "no such file") from None
    except yaml.YAMLError as exc:
        raise StackFileError(path, exc) from None
    except UnicodeDecodeError as exc:
        raise StackEncodingError(path, exc) from None
    if not isinstance(data, dict):
        raise FileConfigError(path, f"a YAML {type(data).__name__}, not a mapping of keys")
    return data


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _set_path(values: dict[str, Any], full_key: str, path: str, value: Any) -> None:
    """Set ``value`` at ``path`` inside the structured value of ``full_key`` (``--path``)."""
    parts: list[str | int] = [
        int(index) if index else name for name, index in _PATH_PART.findall(path)
    ]
    if not parts:
        values[full_key] = value
        return
    node: Any = values.setdefault(full_key, {} if isinstance(parts[0], str) else [])
    for here, nxt in zip(parts, [*parts[1:], None], strict=True):
        if nxt is None:
            if isinstance(node, list) and isinstance(here, int) and here < len(node):
                node[here] = value
            elif isinstance(node, dict) and isinstance(here, str):
                node[here] = value
            else:
                raise ConfigError(f"{full_key}.{path}", value, "a path into the existing value")
            return
        if isinstance(node, dict) and isinstance(here, str):
            node = node.setdefault(here, {} if isinstance(nxt, str) else [])
        elif isinstance(node, list) and isinstance(here, int) and here < len(node):
            node = node[here]
        else:
            raise ConfigError(f"{full_key}.{path}", value, "a path into the existing value")


class OptionError(ConfigError):
    """A command-line option's value is wrong: named as the option, not as a config key."""

    def __init__(self, option: str, value: Any, allowed: str) -> None:
        super().__init__(option, value, allowed)
        self.args = (f"option {option} has value {value!r}; allowed: {allowed}",)

    def __str__(self) -> str:
        return str(self.args[0])


def apply_overrides(config: StackConfig, overrides: Iterable[str]) -> None:
    """Apply ``key=value`` what-if overrides (``primaryRegion=us-west-2``,
    ``dynamodbTables[0].billingMode=PROVISIONED``) like ``pulumi config set --path``."""
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise OptionError("--set", item, "key=value, e.g. primaryRegion=us-west-2")
        match = re.match(r"^([A-Za-z0-9_:-]+)(.*)$", key)
        if match is None:
            raise OptionError("--set", item, "a config key, optionally followed by a path")
        base, path = match.group(1), match.group(2).lstrip(".")
        full = _full_key(config.project, base)
        bare = full.split(":", 1)[1]
        value: Any = text if (bare in STRING_KEYS and not path) else yaml.safe_load(text)
        _set_path(config.values, full, path, value)
        config.secret_keys.discard(full)


def load_stack_config(
    stack: str, root: Path = REPO_ROOT, overrides: Iterable[str] = ()
) -> StackConfig:
    """Read ``Pulumi.yaml`` and the stack file under ``root``; raise ConfigError when unreadable."""
    if not re.match(r"^[A-Za-z0-9_.-]+$", stack):
        raise OptionError("--stack", stack, "a stack name of letters, digits, '.', '_' or '-'")
    project_file = _read_yaml(root / "Pulumi.yaml")
    project = project_file.get("name")
    if not isinstance(project, str):
        raise ConfigError("name", project, "a project name in Pulumi.yaml")
    stack_dir = root / str(project_file.get("stackConfigDir", "."))
    stack_file = stack_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        known = sorted(
            p.name[len("Pulumi.") : -len(".yaml")] for p in stack_dir.glob("Pulumi.*.yaml")
        )
        raise OptionError("--stack", stack, f"one of the stacks in {stack_dir.name}/: {known}")
    raw = _read_yaml(stack_file).get("config", {}) or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{stack_file.name}: config", raw, "a mapping of config keys")
    values: dict[str, Any] = {}
    secret_keys: set[str] = set()
    declared = project_file.get("config", {}) or {}
    for key, decl in declared.items():
        if isinstance(decl, Mapping) and "default" in decl:
            values[_full_key(project, key)] = decl["default"]
        elif not isinstance(decl, Mapping):
            values[_full_key(project, key)] = decl
    for key, value in raw.items():
        full = _full_key(project, str(key))
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            values[full] = SECRET_PLACEHOLDER
            secret_keys.add(full)
        else:
            values[full] = value
    config = StackConfig(project, stack, values, secret_keys, stack_file)
    apply_overrides(config, overrides)
    return config
