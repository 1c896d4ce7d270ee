"""Shared fixtures for core tests: the toy plugin (a real model type and passes) and workflows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from olive_core.plugins import OlivePluginManager, create_plugin_manager
from olive_core.testing.toy import write_toy_model

TOY = "olive_core.testing.toy"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test depends on the caller's plugin settings or writes to the user's cache."""
    for name in ("OLIVE_DISABLE_PLUGINS", "OLIVE_PLUGINS", "OLIVE_NO_ENTRY_POINTS", "OLIVE_STRICT_PLUGINS", "OLIVE_TRACE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OLIVE_CACHE_DIR", str(tmp_path / "default-cache"))


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``olive ARGS...`` through click's CliRunner, with the toy plugin installed."""
    from click.testing import CliRunner

    from olive_core.cli.main import cli

    monkeypatch.setenv("OLIVE_PLUGINS", TOY)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def toy_manager() -> OlivePluginManager:
    return create_plugin_manager(extra_plugins=[TOY])


@pytest.fixture
def toy_model(tmp_path: Path) -> Path:
    return write_toy_model(tmp_path / "input" / "weights.json", [[1.23456, -2.5], [0.125, 3.75]], [0.5, -0.25])


@pytest.fixture
def write_workflow(tmp_path: Path, toy_model: Path) -> Callable[..., Path]:
    """Write a toy workflow file; keyword arguments replace top-level sections."""

    def write(name: str = "workflow.json", **sections: Any) -> Path:
        workflow: dict[str, Any] = {
            "input_model": {"type": "toy", "config": {"model_path": str(toy_model)}},
            "passes": {
                "scale": {"type": "ToyScale", "config": {"factor": 2.0}},
                "round": {"type": "ToyRound", "config": {"decimals": 1}},
            },
            "engine": {"output_dir": "out", "cache": {"type": "local", "config": {"dir": "cache"}}},
        }
        workflow.update(sections)
        path = tmp_path / name
        path.write_text(json.dumps(workflow))
        return path

    return write
