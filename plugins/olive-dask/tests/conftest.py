"""Real processes on 127.0.0.1 only: a `dask scheduler` with `dask worker` processes, and Azurite.

Every process is started here on a free port, without a dashboard, and stopped by its PID when
the test ends, whether it passed or not. Workers get ``OLIVE_PLUGINS`` (the toy plugin) and any
environment a test gives them (their own ``OLIVE_CACHE_DIR``, a connection string).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from olive_core.testing.ports import HOST, free_port
from olive_core.testing.workflows import TOY


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class DaskProcesses:
    """One scheduler and its workers, by PID."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: Path = Path()

    def worker_address(self, name: str) -> str:
        from distributed import Client

        with Client(self.address, timeout=10) as client:
            info = client.scheduler_info(n_workers=-1)["workers"]
        return next(address for address, worker in info.items() if worker.get("name") == name)

    def kill(self, name: str) -> None:
        """SIGKILL one worker: no goodbye to the scheduler, nothing flushed."""
        self.workers[name].send_signal(signal.SIGKILL)
        self.workers[name].wait()

    def stop(self) -> None:
        for process in self.workers.values():
            _stop(process)
        _stop(self.scheduler)


def _wait_for_workers(processes: DaskProcesses, count: int) -> None:
    from distributed import Client

    with Client(processes.address, timeout=60) as client:
        client.wait_for_workers(count, timeout=90)


@pytest.fixture
def dask_processes(tmp_path: Path) -> Iterator[Callable[..., DaskProcesses]]:
    """Start ``dask scheduler`` and named ``dask worker`` processes (each with its own extra env)."""
    started: list[DaskProcesses] = []

    def start(workers: dict[str, dict[str, str]]) -> DaskProcesses:
        port = free_port()
        logs = tmp_path / "dask-logs"
        logs.mkdir(exist_ok=True)
        env = {**os.environ, "OLIVE_PLUGINS": TOY, "PYTHONUNBUFFERED": "1"}
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "dask", "scheduler", "--host", HOST, "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=(logs / "scheduler.log").open("wb"), env=env,
        )  # fmt: skip
        processes = DaskProcesses(f"tcp://{HOST}:{port}", scheduler, logs=logs)
        started.append(processes)
        for name, extra in workers.items():
            processes.workers[name] = subprocess.Popen(
                [sys.executable, "-m", "dask", "worker", processes.address, "--name", name, "--nthreads", "1",
                 "--no-nanny", "--no-dashboard", "--host", HOST],
                stdout=subprocess.DEVNULL, stderr=(logs / f"{name}.log").open("wb"), env={**env, **extra},
            )  # fmt: skip
        _wait_for_workers(processes, len(workers))
        return processes

    yield start
    for processes in started:
        processes.stop()


@pytest.fixture
def azurite(tmp_path: Path) -> Iterator[Any]:
    """olive-azure-cache's Azurite emulator (``make test`` installs it): a missing one fails the test."""
    from olive_azure_cache.testing import Azurite, azurite_binary

    server = Azurite(azurite_binary(), tmp_path / "azurite")
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test depends on the caller's plugin settings or writes to the user's cache; the toy
    plugin is loaded in this process and in every worker it starts."""
    for name in ("OLIVE_DISABLE_PLUGINS", "OLIVE_NO_ENTRY_POINTS", "OLIVE_STRICT_PLUGINS", "OLIVE_TRACE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OLIVE_PLUGINS", TOY)
    monkeypatch.setenv("OLIVE_CACHE_DIR", str(tmp_path / "default-cache"))

