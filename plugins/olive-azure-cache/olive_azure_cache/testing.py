"""Azurite, the Azure Storage emulator, as a local blob server for tests (olive-azure-cache's and
olive-dask's shared-cache test). Only tests import this module; the plugin itself never does.

The emulator is the npm package ``azurite`` that ``make test`` installs; its ``azurite-blob``
binary is found through ``AZURITE_BLOB`` (the Makefile and noxfile export it) or under
``.tools/azurite`` of the current folder or a folder above it (the repository, when tests run
from it). A missing binary fails the tests: CI must exercise them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from olive_core.testing.ports import HOST, free_port

ACCOUNT = "devstoreaccount1"
#: Azurite's well-known development key (public, documented by Microsoft)
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#: the environment variable the tests' cache configs name for the connection string
CONNECTION_ENV = "OLIVE_TEST_AZURE_CONNECTION"
#: where ``make test`` installs the emulator, relative to the repository
INSTALLED_BINARY = Path(".tools") / "azurite" / "node_modules" / ".bin" / "azurite-blob"


def azurite_binary() -> Path:
    """The ``azurite-blob`` binary; a missing one fails the test with how to install it."""
    candidates = [Path(os.environ["AZURITE_BLOB"])] if os.environ.get("AZURITE_BLOB") else []
    candidates += [folder / INSTALLED_BINARY for folder in (Path.cwd(), *Path.cwd().parents)]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    pytest.fail(
        f"the Azurite emulator is not installed (looked for $AZURITE_BLOB and {INSTALLED_BINARY} here and above): "
        "run `make test`, which installs it, or set AZURITE_BLOB to an azurite-blob binary",
        pytrace=False,
    )


class Azurite:
    """One Azurite blob server on 127.0.0.1; ``stop()`` and ``start()`` again keep its data and port."""

    def __init__(self, binary: Path, location: Path) -> None:
        self.binary = binary
        self.location = location
        self.port = free_port()
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
