"""Moving one entry between the tiers: download with verification, upload with the manifest last.

Both directions go through the local cache's own API, so downloads land through its staging
folder and atomic rename, and uploads read only entries whose files still match its records.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from olive_core.cache.local import LocalCache
from olive_core.cache.local import portable_handle, resolve_handle
from olive_core.errors import CacheError
from olive_core.models.handler import ModelHandler
from olive_azure_cache.manifest import (
    ManifestError,
    ModelManifest,
    describe_folder,
    unwrap_record,
    wrap_record,
)
from olive_azure_cache.pending import Upload
from olive_azure_cache.remote import RemoteError, RemoteStore

logger = logging.getLogger("olive_azure_cache")


class Transfers:
    """Fetch and send single entries; RemoteErrors propagate, the caller decides what they cost."""

    def __init__(self, local: LocalCache, remote: RemoteStore) -> None:
        self.local = local
        self.remote = remote

    # -- remote -> local ---------------------------------------------------------------------

    def fetch_model(self, model_id: str) -> tuple[ModelHandler, int] | None:
        """Download, verify and store one model (and its size); None when absent or damaged remotely."""
        data = self.remote.get_bytes(self.remote.manifest_name(model_id))
        if data is None:
            return None
        try:
            manifest = ModelManifest.from_bytes(data, model_id)
        except ManifestError as exc:
            self._damaged(model_id, str(exc))
            return None
        with self.local.staging() as folder:
            for name, expected in manifest.files.items():
                blob = self.remote.artifact_name(model_id, manifest.upload_id, name)
                got = self.remote.download_file(blob, folder / name)
                if got != (expected["sha256"], expected["size"]):
                    problem = "is missing" if got is None else "does not match the sha256 its manifest records"
                    self._damaged(model_id, f"its file '{name}' {problem}", manifest.upload_id)
                    return None
            handle = resolve_handle(ModelHandler.model_validate(manifest.handle), folder)
            try:
                stored = self.local.put_model(model_id, handle, folder, manifest.info)
            except CacheError as exc:  # a handle naming files outside its own folder
                self._damaged(model_id, exc.message, manifest.upload_id)
                return None
        return stored, manifest.size_bytes

    def _damaged(self, model_id: str, reason: str, upload_id: str | None = None) -> None:
        """Never use a damaged remote entry; remove it, so that the recomputed one replaces it."""
        logger.warning(
            "remote cache entry %s in %s is damaged (%s); not used: it is recomputed and uploaded again",
            model_id[:12],
            self.remote.location,
            reason,
        )
        try:
            self.remote.delete(self.remote.manifest_name(model_id))
            if upload_id is not None:  # only this upload's files: another may be arriving beside them
                for name, _ in self.remote.list(f"artifacts/{model_id}/{upload_id}"):
                    self.remote.delete(name)
        except RemoteError as exc:  # e.g. a read-only token: the recomputed entry is still uploaded anew
            logger.debug("could not remove the damaged entry %s: %s", model_id[:12], exc)

    def fetch_record(self, namespace: str, key: str) -> dict[str, Any] | None:
        """Download, verify and store one record; None when absent or damaged."""
        data = self.remote.get_bytes(self.remote.record_name(namespace, key))
        if data is None:
            return None
        try:
            value = unwrap_record(data, namespace, key)
        except ManifestError as exc:
            logger.warning("remote cache record %s/%s is damaged (%s); not used", namespace, key[:12], exc)
            return None
        self.local.put_record(namespace, key, value)
        return value

    # -- local -> remote ---------------------------------------------------------------------

    def send(self, job: Upload) -> int | None:
        """Put one entry on the remote; the bytes sent, or None when there was nothing to send."""
        if job.kind == "record":
            value = self.local.get_record(job.namespace, job.key)
            if value is None:
                return None
            data = wrap_record(job.namespace, job.key, value)
            self.remote.put_bytes(self.remote.record_name(job.namespace, job.key), data)
            return len(data)
        handle = self.local.get_model(job.key)
        manifest_name = self.remote.manifest_name(job.key)
        if handle is None or self.remote.exists(manifest_name):  # gone locally, or already shared
            return None
        folder = self.local.artifact_dir(job.key)
        files = describe_folder(folder)
        upload_id = uuid.uuid4().hex[:16]
        for name in files:
            self.remote.upload_file(self.remote.artifact_name(job.key, upload_id, name), folder / name)
        manifest = ModelManifest(
            model_id=job.key,
            upload_id=upload_id,
            handle=portable_handle(handle, folder).model_dump(mode="json"),
            files=files,
            info=job.info,
            created=job.created,
        )
        # the manifest goes last: until it exists, readers do not see the entry
        self.remote.put_bytes(manifest_name, manifest.to_bytes(), metadata=manifest.metadata())
        return manifest.size_bytes
