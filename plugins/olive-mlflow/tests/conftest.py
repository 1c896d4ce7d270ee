"""Fixtures of the olive-mlflow tests: the toy plugin's manager and a real MLflow server.

Toy workflows and the server starter live in olive_mlflow.testing, which tests import by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from olive_core.plugins import OlivePluginManager
from olive_core.testing import workflows
from olive_mlflow.testing import MlflowServer, start_server


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("OLIVE_DISABLE_PLUGINS", "OLIVE_PLUGINS", "OLIVE_NO_ENTRY_POINTS", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OLIVE_CACHE_DIR", str(tmp_path / "default-cache"))


@pytest.fixture
def toy_manager() -> OlivePluginManager:
    return workflows.toy_manager()


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow SQLite database with its tables made, copied by each server: creating them is
    most of a server's start-up."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture(scope="module")
def _servers(tmp_path_factory: pytest.TempPathFactory, empty_store: Path) -> Iterator[list[MlflowServer]]:
    """The module's servers: one shared by its tests (each logs to its own experiment) until a
    test kills it; every one is killed by its PID at the end."""
    servers: list[MlflowServer] = []
    yield servers
    for server in servers:
        server.kill()


@pytest.fixture
def mlflow_server(_servers: list[MlflowServer], tmp_path_factory: pytest.TempPathFactory, empty_store: Path) -> MlflowServer:
    if not _servers or _servers[-1].process.poll() is not None:
        _servers.append(start_server(tmp_path_factory.mktemp("server") / "server", empty_store))
    return _servers[-1]
