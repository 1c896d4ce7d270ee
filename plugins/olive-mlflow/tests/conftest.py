"""Fixtures of the olive-mlflow tests: the toy plugin's manager, toy workflows, a real MLflow server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from olive_core.plugins import OlivePluginManager, create_plugin_manager
from olive_core.testing.toy import write_toy_model

TOY = "olive_core.testing.toy"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("OLIVE_DISABLE_PLUGINS", "OLIVE_PLUGINS", "OLIVE_NO_ENTRY_POINTS", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OLIVE_CACHE_DIR", str(tmp_path / "default-cache"))


@pytest.fixture
def toy_manager() -> OlivePluginManager:
    return create_plugin_manager(extra_plugins=[TOY])


def toy_search(tmp_path: Path, tracking: dict[str, Any], name: str = "search.json", **sections: Any) -> Path:
    """A toy search of 4 candidates (2 scales x 2 roundings) measured on synthetic data."""
    model = write_toy_model(tmp_path / "input" / "weights.json", [[1.23456, -2.5], [0.125, 3.75]], [0.5, -0.25])
    workflow: dict[str, Any] = {
        "description": "toy search for the olive-mlflow tests",
        "input_model": {"type": "toy", "config": {"model_path": str(model)}},
        "data": {"points": {"load": {"type": "synthetic", "config": {"num_samples": 4}}}},
        "metrics": [
            {"name": "similarity", "type": "similarity", "data": "points", "sub_metrics": ["cosine_min", "max_abs_error"]},
            {"name": "size", "type": "size"},
        ],
        "passes": {
            "scale": {"type": "ToyScale", "config": [{"factor": 1.0}, {"factor": 0.5}]},
            "round": {"type": "ToyRound", "config": [{"decimals": 1}, {"decimals": 3}]},
        },
        "search": {"objectives": [{"metric": "similarity-max_abs_error"}]},
        "engine": {"output_dir": "out", "cache": {"type": "local", "config": {"dir": "cache"}}},
        "tracking": [{"type": "mlflow", "config": tracking}],
    }
    workflow.update(sections)
    path = tmp_path / name
    path.write_text(json.dumps(workflow))
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class MlflowServer:
    url: str
    backend_uri: str
    artifacts: Path
    process: subprocess.Popen

    def kill(self) -> None:
        """Kill the server and its workers (its own process group) by its PID."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow SQLite database with its tables made, copied by each server: creating them is
    most of a server's start-up."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


def start_server(folder: Path, empty_store: Path) -> MlflowServer:
    """``mlflow server`` on 127.0.0.1 and a free port, a SQLite backend and a local artifact root,
    once its /health answers."""
    folder.mkdir(parents=True)
    shutil.copyfile(empty_store, folder / "mlflow.db")
    port = free_port()
    backend = f"sqlite:///{folder / 'mlflow.db'}"
    command = [
        sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--backend-store-uri", backend, "--artifacts-destination", str(folder / "artifacts"),
    ]  # fmt: skip
    with open(folder / "server.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = MlflowServer(f"http://127.0.0.1:{port}", backend, folder / "artifacts", process)
    deadline = time.monotonic() + 180
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited: {(folder / 'server.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"mlflow server not healthy after 180 s: {(folder / 'server.log').read_text()[-2000:]}")
        time.sleep(0.5)


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
