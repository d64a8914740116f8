"""auroraEngineVersion against AWS's lists (components/settings/data/aurora-postgresql.json).

Every major 13 to 17 has its list of versions; the loader accepts exactly those, at or after the
major's global-database floor (and the Data API floor while the Data API is on). Expected values
are the versions AWS announced, copied by hand from the sources the data file cites, not read
from the file.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.settings import ConfigError, load_settings
from components.settings.aurora import (
    AURORA_ENGINE_VERSION,
    GLOBAL_DATABASE_MINIMUM,
    engine_data,
    listed_versions,
)
from preflight.config import load_stack_config

BASE: dict[str, Any] = load_stack_config("dev").project_values()


def _load(version: str, *, data_api: bool) -> str:
    raw = copy.deepcopy(BASE)
    raw.update(auroraEngineVersion=version, auroraDataApiEnabled=data_api)
    return load_settings(raw).aurora.engine_version


def _refused(version: str, *, data_api: bool = False) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        _load(version, data_api=data_api)
    assert caught.value.key == "auroraEngineVersion"
    assert caught.value.value == version
    return caught.value


def test_every_major_the_pattern_accepts_has_a_list_of_versions() -> None:
    """No major is left to its floor alone: 13, 14 and 15 carry lists like 16 and 17."""
    majors = engine_data()["majors"]
    assert sorted(majors, key=int) == ["13", "14", "15", "16", "17"]
    for major, spec in majors.items():
        versions = spec["versions"]
        assert versions, major
        assert all(AURORA_ENGINE_VERSION.fullmatch(v) for v in versions), major
        assert {v.split(".")[0] for v in versions} == {major}
        assert len(set(versions)) == len(versions), major
        # The global-database floor is itself a released version of its major.
        assert spec["globalDatabaseFrom"] in versions, major
    assert engine_data()["versionSources"]["retrieved"] == "2026-12-07"


# The lists as AWS's announcements give them (hand-copied; the sources are in the data file).
EXPECTED = {
    13: "13.4 13.5 13.6 13.7 13.8 13.9 13.10 13.11 13.12 13.13 13.14 13.15 13.16 13.18 13.20 "
    "13.21 13.22",
    14: "14.3 14.4 14.5 14.6 14.7 14.8 14.9 14.10 14.11 14.12 14.13 14.15 14.17 14.18 14.19",
    15: "15.2 15.3 15.4 15.5 15.6 15.7 15.8 15.10 15.12 15.13 15.14",
}


@pytest.mark.parametrize("major", [13, 14, 15])
def test_lists_of_the_older_majors(major: int) -> None:
    assert " ".join(listed_versions(major)) == EXPECTED[major]


@pytest.mark.parametrize("version", ["13.22", "14.19", "15.14", "13.11", "14.8", "15.3"])
def test_listed_versions_after_the_data_api_floor_load(version: str) -> None:
    assert _load(version, data_api=True) == version


@pytest.mark.parametrize("version", ["13.4", "14.3", "15.2"])
def test_global_database_floors_load_with_the_data_api_off(version: str) -> None:
    assert _load(version, data_api=False) == version


@pytest.mark.parametrize(
    ("version", "neighbours"),
    [
        # PostgreSQL community releases Aurora never shipped (or not yet listed).
        ("13.17", "13.16, 13.18"),
        ("13.19", "13.18, 13.20"),
        ("14.14", "14.13, 14.15"),
        ("14.16", "14.15, 14.17"),
        ("15.9", "15.8, 15.10"),
        ("15.11", "15.10, 15.12"),
        ("15.99", "15.13, 15.14"),
    ],
)
def test_versions_aws_does_not_list_are_refused_with_the_list(
    version: str, neighbours: str
) -> None:
    error = _refused(version)
    major = version.split(".", maxsplit=1)[0]
    assert f"an Aurora PostgreSQL {major} version AWS lists" in error.allowed
    assert neighbours in error.allowed
    assert str(error).startswith(f"config key 'auroraEngineVersion' has value '{version}'")


def test_a_version_before_the_global_database_floor_names_the_floor_and_the_list() -> None:
    error = _refused("14.2")
    assert error.allowed.startswith("14.3 or later in Aurora PostgreSQL 14")
    assert error.allowed.endswith(
        "14.3, 14.4, 14.5, 14.6, 14.7, 14.8, 14.9, 14.10, 14.11, 14.12, "
        "14.13, 14.15, 14.17, 14.18, 14.19"
    )


def test_the_data_api_floor_lists_only_what_serves_it() -> None:
    error = _refused("13.10", data_api=True)
    assert error.allowed.startswith("13.11 or later while auroraDataApiEnabled is true")
    assert error.allowed.endswith(
        ": 13.11, 13.12, 13.13, 13.14, 13.15, 13.16, 13.18, 13.20, 13.21, 13.22"
    )


def test_a_major_without_global_databases_names_the_majors() -> None:
    error = _refused("12.22")
    assert "13.x to 17.x" in error.allowed


def test_floors_are_the_first_listed_versions() -> None:
    """listed_versions(major, floor) starts at the floor: nothing below it is offered."""
    for major, floor in GLOBAL_DATABASE_MINIMUM.items():
        assert listed_versions(major, floor)[0] == f"{floor[0]}.{floor[1]}"
