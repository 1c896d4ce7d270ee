"""The container, seen as the cache's remote tier: blob names, transfers, and one error type.

Layout under ``<prefix>/``::

    manifests/<model id>.json                  written last: a model exists once this does
    artifacts/<model id>/<upload id>/<file>    one blob per artifact file
    records/<namespace>/<key>.json             evaluations, step reports, data hashes

Each upload of a model writes its files under a fresh upload id and then the manifest that
names it, so readers never see a manifest pointing at files another writer is replacing.
Every SDK failure becomes a :class:`RemoteError` whose message has been scrubbed of secrets.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from olive_azure_cache.connect import Connection

_CHUNK = 4 * 1024 * 1024


class RemoteError(Exception):
    """The remote tier failed; ``kind`` is 'unreachable', 'auth' or 'error'. The text is scrubbed."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class RemoteStore:
    """Blob operations on the cache's container, under its prefix."""

    def __init__(self, connection: Connection, prefix: str, create_container: bool) -> None:
        self.container = connection.container
        self.scrub = connection.scrub
        self.location = connection.location
        self.credentials = connection.credentials
        self.prefix = f"{prefix}/" if prefix else ""
        self.create_container = create_container
        self._ready = False
        self._lock = threading.Lock()

    # -- names -------------------------------------------------------------------------------

    def manifest_name(self, model_id: str) -> str:
        return f"{self.prefix}manifests/{model_id}.json"

    def artifact_name(self, model_id: str, upload_id: str, relative: str) -> str:
        return f"{self.prefix}artifacts/{model_id}/{upload_id}/{relative}"

    def record_name(self, namespace: str, key: str) -> str:
        return f"{self.prefix}records/{quote(namespace, safe='')}/{quote(key, safe='')}.json"

    def record_key(self, name: str) -> tuple[str, str]:
        """(namespace, key) of a record blob name."""
        namespace, key = name[len(self.prefix) + len("records/") :].split("/", 1)
        return unquote(namespace), unquote(key[: -len(".json")])

    # -- errors ------------------------------------------------------------------------------

    @contextmanager
    def _call(self, what: str) -> Iterator[None]:
        """Translate SDK errors into a RemoteError that says what failed, without secrets."""
        try:
            yield
        except RemoteError:
            raise
        except ClientAuthenticationError as exc:
            raise RemoteError("auth", self._describe(what, exc)) from None
        except HttpResponseError as exc:
            kind = "auth" if exc.status_code in (401, 403) else "error"
            raise RemoteError(kind, self._describe(what, exc)) from None
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise RemoteError("unreachable", self._describe(what, exc)) from None
        except AzureError as exc:
            raise RemoteError("error", self._describe(what, exc)) from None

    def _describe(self, what: str, exc: Exception) -> str:
        status = getattr(exc, "status_code", None)
        code = getattr(exc, "error_code", None)
        code = getattr(code, "value", code)  # a StorageErrorCode enum
        first_line = (str(getattr(exc, "reason", None) or exc).strip().splitlines() or [""])[0]
        detail = " ".join(str(p) for p in (status, code) if p) or type(exc).__name__
        return self.scrub(f"{what}: {detail}: {first_line[:200]}")

    def ensure_container(self) -> None:
        """Check the container once per run (this is where bad credentials show); create it if allowed."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            with self._call(f"opening container '{self.container.container_name}'"):
                if not self.container.exists():
                    if not self.create_container:
                        name = self.container.container_name
                        raise RemoteError("error", f"container '{name}' does not exist (create_container is false)")
                    try:
                        self.container.create_container()
                    except ResourceExistsError:  # another machine created it meanwhile
                        pass
            self._ready = True

    # -- transfers ---------------------------------------------------------------------------

    def get_bytes(self, name: str) -> bytes | None:
        """A small blob's content, or None when there is no such blob."""
        self.ensure_container()
        with self._call(f"reading {name}"):
            try:
                return self.container.download_blob(name).readall()
            except ResourceNotFoundError:
                return None

    def put_bytes(self, name: str, data: bytes, metadata: dict[str, str] | None = None) -> None:
        self.ensure_container()
        with self._call(f"writing {name}"):
            self.container.upload_blob(name, data, overwrite=True, metadata=metadata)

    def upload_file(self, name: str, path: Path) -> None:
        self.ensure_container()
        with self._call(f"uploading {name}"), path.open("rb") as stream:
            self.container.upload_blob(name, stream, overwrite=True, length=path.stat().st_size)

    def download_file(self, name: str, target: Path) -> tuple[str, int] | None:
        """Stream a blob into ``target``; its sha256 and size, or None when there is no such blob."""
        self.ensure_container()
        digest, size = hashlib.sha256(), 0
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._call(f"downloading {name}"):
            try:
                downloader = self.container.download_blob(name)
            except ResourceNotFoundError:
                return None
            with target.open("wb") as stream:
                for chunk in downloader.chunks():
                    digest.update(chunk)
                    size += len(chunk)
                    stream.write(chunk)
        return digest.hexdigest(), size

    def exists(self, name: str) -> bool:
        self.ensure_container()
        with self._call(f"checking {name}"):
            return bool(self.container.get_blob_client(name).exists())

    def list(self, folder: str, metadata: bool = False) -> Iterator[tuple[str, dict[str, str]]]:
        """(name, metadata) of every blob under ``<prefix>/<folder>/``."""
        self.ensure_container()
        with self._call(f"listing {self.prefix}{folder}/"):
            include = ["metadata"] if metadata else None
            blobs = self.container.list_blobs(name_starts_with=f"{self.prefix}{folder}/", include=include)
            items: list[Any] = list(blobs)
        for blob in items:
            yield blob.name, dict(blob.metadata or {})

    def delete(self, name: str) -> bool:
        """Delete one blob; False when it was not there."""
        self.ensure_container()
        with self._call(f"deleting {name}"):
            try:
                self.container.delete_blob(name)
                return True
            except ResourceNotFoundError:
                return False
