"""Toy searches tracked in MLflow and a real ``mlflow server``, for tests and the docs' screenshot.

Only tests and plugins/olive-mlflow/docs/ui_screenshot.py import this module; the plugin itself
never does. The workflows are olive_core.testing.workflows' toy workflow with MLflow tracking.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from olive_core.testing.ports import HOST, free_port
from olive_core.testing.toy import write_toy_model
from olive_core.testing.workflows import toy_workflow, write_toy_input, write_workflow

#: MiniLM's hidden size, the width of minilm_shaped's toy layer
HIDDEN = 384


def toy_search(tmp_path: Path, tracking: dict[str, Any], name: str = "search.json", **sections: Any) -> Path:
    """A toy search of 4 candidates (2 scales x 2 roundings) measured on synthetic data, tracked
    by MLflow with the ``tracking`` config; keyword arguments replace top-level sections."""
    defaults: dict[str, Any] = {
        "description": "toy search for the olive-mlflow tests",
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
        "tracking": [{"type": "mlflow", "config": tracking}],
    }
    return write_workflow(tmp_path / name, toy_workflow(write_toy_input(tmp_path), **{**defaults, **sections}))


def minilm_shaped(tmp_path: Path, tracking: dict[str, Any]) -> Path:
    """A 384x384 toy linear layer, "quantized" by rounding its weights to 1, 2 or 3 decimals."""
    import numpy as np

    rng = np.random.default_rng(0)
    weights, bias = rng.normal(0, 0.05, (HIDDEN, HIDDEN)).tolist(), rng.normal(0, 0.01, HIDDEN).tolist()
    model = write_toy_model(tmp_path / "minilm-toy" / "weights.json", weights, bias)
    workflow = toy_workflow(
        model,
        data={"sentences": {"load": {"type": "synthetic", "config": {"num_samples": 8, "seed": 1}}}},
        metrics=[
            {"name": "similarity", "type": "similarity", "data": "sentences", "sub_metrics": ["cosine_min", "cosine_mean"]},
            {"name": "size", "type": "size"},
        ],
        passes={"quantize": {"type": "ToyRound", "config": {"round_bias": True}, "search": {"decimals": [1, 2, 3]}}},
        search={"strategy": "exhaustive", "objectives": [{"metric": "similarity-cosine_min"}, {"metric": "size-mb", "priority": 2}]},
        tracking=[{"type": "mlflow", "config": tracking}],
    )
    return write_workflow(tmp_path / "minilm-toy.json", workflow)


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


def start_server(folder: Path, empty_store: Path) -> MlflowServer:
    """``mlflow server`` on 127.0.0.1 and a free port, a SQLite backend (a copy of ``empty_store``)
    and a local artifact root, once its /health answers."""
    folder.mkdir(parents=True)
    shutil.copyfile(empty_store, folder / "mlflow.db")
    port = free_port()
    backend = f"sqlite:///{folder / 'mlflow.db'}"
    command = [
        sys.executable, "-m", "mlflow", "server", "--host", HOST, "--port", str(port), "--workers", "1",
        "--backend-store-uri", backend, "--artifacts-destination", str(folder / "artifacts"),
    ]  # fmt: skip
    with open(folder / "server.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = MlflowServer(f"http://{HOST}:{port}", backend, folder / "artifacts", process)
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
