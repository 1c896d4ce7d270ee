"""Shared fixtures for core tests: the toy plugin (a real model type and passes) and workflows.

Thin wrappers of olive_core.testing.workflows, which tests import by name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from olive_core.plugins import OlivePluginManager
from olive_core.testing import workflows


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test depends on the caller's plugin settings or writes to the user's cache."""
    for name in ("OLIVE_DISABLE_PLUGINS", "OLIVE_PLUGINS", "OLIVE_NO_ENTRY_POINTS", "OLIVE_STRICT_PLUGINS", "OLIVE_TRACE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OLIVE_CACHE_DIR", str(tmp_path / "default-cache"))


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``olive ARGS...`` through click's CliRunner, with the toy plugin installed."""
    monkeypatch.setenv("OLIVE_PLUGINS", workflows.TOY)
    return workflows.invoke_olive


@pytest.fixture
def toy_manager() -> OlivePluginManager:
    return workflows.toy_manager()


@pytest.fixture
def toy_model(tmp_path: Path) -> Path:
    return workflows.write_toy_input(tmp_path)


@pytest.fixture
def write_workflow(tmp_path: Path, toy_model: Path) -> Callable[..., Path]:
    """Write a toy workflow file; keyword arguments replace top-level sections."""

    def write(name: str = "workflow.json", **sections: Any) -> Path:
        return workflows.write_workflow(tmp_path / name, workflows.toy_workflow(toy_model, **sections))

    return write
