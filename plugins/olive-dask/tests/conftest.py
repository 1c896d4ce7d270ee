"""Real processes on 127.0.0.1 only: a `dask scheduler` with `dask worker` processes, and Azurite.

Every process is started here on a free port, without a dashboard, and stopped by its PID when
the test ends, whether it passed or not. Workers get ``OLIVE_PLUGINS`` (the toy plugin) and any
environment a test gives them (their own ``OLIVE_CACHE_DIR``, a connection string).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HOST = "127.0.0.1"  # never anything else
TOY = "olive_core.testing.toy"
REPO_ROOT = Path(__file__).resolve().parents[3]
AZURITE_DEFAULT = REPO_ROOT / ".tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
#: Azurite's well-known development account and key (public, documented by Microsoft)
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


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


@dataclass
class Azurite:
    port: int
    process: subprocess.Popen[bytes]

    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://{HOST}:{self.port}/devstoreaccount1;"
        )


@pytest.fixture
def azurite(tmp_path: Path) -> Iterator[Azurite]:
    """The Azure Storage emulator `make test` installs (AZURITE_BLOB): a missing one fails the test."""
    binary = Path(os.environ.get("AZURITE_BLOB") or AZURITE_DEFAULT)
    if not binary.is_file():
        pytest.fail(f"the Azurite emulator is not installed at {binary}: run `make test`, or set AZURITE_BLOB", pytrace=False)
    port = free_port()
    command = [str(binary), "--blobHost", HOST, "--blobPort", str(port), "--location", str(tmp_path / "azurite"),
               "--silent", "--disableTelemetry", "--skipApiVersionCheck"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((HOST, port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("Azurite did not start", pytrace=False)
                time.sleep(0.1)
        yield Azurite(port, process)
    finally:
        _stop(process)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test depends on the caller's plugin settings or writes to the user's cache; the toy
    plugin is loaded in this process and in every worker it starts."""
    for name in ("OLIVE_DISABLE_PLUGINS", "OLIVE_NO_ENTRY_POINTS", "OLIVE_STRICT_PLUGINS", "OLIVE_TRACE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OLIVE_PLUGINS", TOY)
    monkeypatch.setenv("OLIVE_CACHE_DIR", str(tmp_path / "default-cache"))


def read(path: Path) -> dict[str, Any]:
    import json

    return json.loads(path.read_text())
