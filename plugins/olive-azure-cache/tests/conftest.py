"""A real Azure Blob Storage server for the tests: Azurite (olive_azure_cache.testing), on
127.0.0.1, in a temporary folder; and the toy workflows the cache backend runs under."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from olive_core.plugins import OlivePluginManager
from olive_core.testing import workflows
from olive_azure_cache.testing import CONNECTION_ENV, Azurite, azurite_binary


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """One emulator for the session; each test uses its own container."""
    server = Azurite(azurite_binary(), tmp_path_factory.mktemp("azurite"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_azurite(tmp_path: Path) -> Iterator[Azurite]:
    """An emulator for one test, which may stop and restart it."""
    server = Azurite(azurite_binary(), tmp_path / "azurite")
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test depends on the caller's plugin settings or writes to the user's cache."""
    for name in ("OLIVE_DISABLE_PLUGINS", "OLIVE_PLUGINS", "OLIVE_NO_ENTRY_POINTS", "OLIVE_STRICT_PLUGINS", "OLIVE_TRACE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OLIVE_CACHE_DIR", str(tmp_path / "default-cache"))


@pytest.fixture
def container_name() -> str:
    return f"olive-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def azure_config(azurite: Azurite, container_name: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, Any]]:
    """The azure backend's config for the session emulator; the secret sits in an env var."""

    def make(server: Azurite = azurite, **fields: Any) -> dict[str, Any]:
        monkeypatch.setenv(CONNECTION_ENV, server.connection_string())
        return {"connection_string_env": CONNECTION_ENV, "container": container_name, "retries": 1, "timeout_s": 5, **fields}

    return make


@pytest.fixture
def toy_manager() -> OlivePluginManager:
    return workflows.toy_manager()


@pytest.fixture
def toy_model(tmp_path: Path) -> Path:
    return workflows.write_toy_input(tmp_path)


@pytest.fixture
def write_workflow(tmp_path: Path, toy_model: Path) -> Callable[..., Path]:
    """Write a toy workflow (scale, then round) whose cache is ``cache`` (a backend type and config)."""

    def write(cache: dict[str, Any], name: str = "workflow.json", **sections: Any) -> Path:
        return workflows.write_workflow(tmp_path / name, workflows.toy_workflow(toy_model, cache, **sections))

    return write
