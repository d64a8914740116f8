"""Fixtures for the preflight tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from preflight_fakes import Builder


@pytest.fixture
def builder() -> Builder:
    return Builder()


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    """A project root (Pulumi.yaml naming the project) with an (empty) policy pack directory."""
    (tmp_path / "policies").mkdir()
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: securecart-data\nruntime: python\n")
    return tmp_path
