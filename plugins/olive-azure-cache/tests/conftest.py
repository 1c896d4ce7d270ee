"""A real Azure Blob Storage server for the tests: Azurite, on 127.0.0.1, in a temporary folder.

The emulator is the npm package ``azurite`` that ``make test`` installs; its ``azurite-blob``
binary is found through ``AZURITE_BLOB`` (the Makefile and noxfile export it) or at
``.tools/azurite`` in the repository. A missing binary fails the tests: CI must exercise them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from olive_core.plugins import OlivePluginManager, create_plugin_manager
from olive_core.testing.toy import write_toy_model

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_BINARY = REPO_ROOT / ".tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
HOST = "127.0.0.1"  # never anything else: the tests talk to a local emulator only
ACCOUNT = "devstoreaccount1"
#: Azurite's well-known development key (public, documented by Microsoft)
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONNECTION_ENV = "OLIVE_TEST_AZURE_CONNECTION"
TOY = "olive_core.testing.toy"


def azurite_binary() -> Path:
    candidates = [Path(os.environ["AZURITE_BLOB"])] if os.environ.get("AZURITE_BLOB") else []
    candidates.append(DEFAULT_BINARY)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    pytest.fail(
        f"the Azurite emulator is not installed (looked for {', '.join(map(str, candidates))}): run `make test`, "
        "which installs it, or set AZURITE_BLOB to an azurite-blob binary",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Azurite:
    """One Azurite blob server; ``stop()`` and ``start()`` again keep its data and port."""

    def __init__(self, binary: Path, location: Path) -> None:
        self.binary = binary
        self.location = location
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def account_url(self) -> str:
        return f"http://{HOST}:{self.port}/{ACCOUNT}"

    def connection_string(self, key: str = ACCOUNT_KEY) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};"
            f"BlobEndpoint={self.account_url};"
        )

    def start(self) -> None:
        self.location.mkdir(parents=True, exist_ok=True)
        command = [
            str(self.binary), "--blobHost", HOST, "--blobPort", str(self.port), "--location", str(self.location),
            "--silent", "--disableTelemetry", "--skipApiVersionCheck",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                pytest.fail(f"Azurite exited at start (code {self.process.returncode}): {error[-2000:]}", pytrace=False)
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"Azurite did not listen on {HOST}:{self.port} within 30 s", pytrace=False)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def container(self, name: str) -> Any:
        """A client of one container, for tests that look at (or damage) what the cache stored."""
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.connection_string()).get_container_client(name)


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
    return create_plugin_manager(extra_plugins=[TOY])


@pytest.fixture
def toy_model(tmp_path: Path) -> Path:
    return write_toy_model(tmp_path / "input" / "weights.json", [[1.23456, -2.5], [0.125, 3.75]], [0.5, -0.25])


@pytest.fixture
def write_workflow(tmp_path: Path, toy_model: Path) -> Callable[..., Path]:
    """Write a toy workflow (scale, then round) whose cache is ``cache`` (a backend type and config)."""

    def write(cache: dict[str, Any], name: str = "workflow.json", **sections: Any) -> Path:
        workflow: dict[str, Any] = {
            "input_model": {"type": "toy", "config": {"model_path": str(toy_model)}},
            "passes": {
                "scale": {"type": "ToyScale", "config": {"factor": 2.0}},
                "round": {"type": "ToyRound", "config": {"decimals": 1}},
            },
            "engine": {"output_dir": "out", "cache": cache},
        }
        workflow.update(sections)
        path = tmp_path / name
        path.write_text(json.dumps(workflow))
        return path

    return write
