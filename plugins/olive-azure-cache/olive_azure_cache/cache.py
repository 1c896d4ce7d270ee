"""AzureCache: olive-core's local cache with a shared Azure Blob Storage tier behind it.

Reads go local first, then remote; a remote hit is verified file by file against its manifest's
sha256 and stored locally (read-through). Writes go local first (the local cache's staging and
atomic rename), then are uploaded in the background; ``close()`` waits for them. The remote
failing never fails a run: see :mod:`olive_azure_cache.status` and :mod:`.pending`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from olive_core.cache.backend import CacheBackend, CacheEntry, GcReport, TransferReport
from olive_core.cache.local import LocalCache
from olive_core.errors import CacheError
from olive_core.models.handler import ModelHandler
from olive_azure_cache.config import AzureCacheConfig
from olive_azure_cache.connect import connect
from olive_azure_cache.pending import PendingUploads, Upload
from olive_azure_cache.remote import RemoteError, RemoteStore
from olive_azure_cache.status import RemoteStatus
from olive_azure_cache.transfers import Transfers
from olive_azure_cache.uploader import Uploader

logger = logging.getLogger("olive_azure_cache")


class AzureCache(CacheBackend):
    """The local cache, plus a container that machines share: one machine's results are the next one's cache hits."""

    Config = AzureCacheConfig
    has_remote = True

    def __init__(self, config: AzureCacheConfig | None = None) -> None:
        if config is None:
            raise CacheError(
                "the 'azure' cache backend needs a config", hint="set engine.cache.config.container and credentials"
            )
        self.config = config
        self.remote = RemoteStore(connect(config), config.prefix, config.create_container)  # no traffic yet
        self.local = LocalCache(config)
        self.transfers = Transfers(self.local, self.remote)
        self.location = self.local.location
        self.remote_location = self.remote.location
        self.status = RemoteStatus(self.remote_location, self.location, self.remote.credentials)
        self.pending = PendingUploads(self.local.root, self.remote_location)
        self.uploader = Uploader(self._upload, self.status.is_up, config.upload_queue_size)
        self._in_use = False
        #: markers of the uploads this cache took on and has not done (others may share the backlog)
        self._unsent: set[str] = set()

    def _use(self) -> None:
        """First use by a run: resume the uploads that earlier runs left pending."""
        if not self._in_use:
            self._in_use = True
            backlog = self.pending.all(orphaned_only=True)
            self._unsent.update(job.marker for job in backlog)
            self.uploader.start(backlog=backlog)

    # -- reads: local, then remote (stored locally once verified) ----------------------------

    def get_model(self, model_id: str) -> ModelHandler | None:
        self._use()
        found = self.local.get_model(model_id)
        if found is not None or not self.status.up:
            return found
        try:
            fetched = self.transfers.fetch_model(model_id)
        except RemoteError as exc:
            self.status.failed(exc)
            return None
        return fetched[0] if fetched else None

    def get_record(self, namespace: str, key: str) -> dict[str, Any] | None:
        self._use()
        found = self.local.get_record(namespace, key)
        if found is not None or not self.status.up:
            return found
        try:
            return self.transfers.fetch_record(namespace, key)
        except RemoteError as exc:
            self.status.failed(exc)
            return None

    # -- writes: local, then a background upload ---------------------------------------------

    def step_lock(self, model_id: str) -> AbstractContextManager[None]:
        return self.local.step_lock(model_id)

    def staging(self) -> AbstractContextManager[Path]:
        return self.local.staging()

    def put_model(self, model_id: str, handle: ModelHandler, staging_dir: Path, info: dict[str, Any]) -> ModelHandler:
        stored = self.local.put_model(model_id, handle, staging_dir, info)
        self._queue(Upload("model", model_id, info=dict(info), created=time.time()))
        return stored

    def put_record(self, namespace: str, key: str, value: dict[str, Any]) -> None:
        self.local.put_record(namespace, key, value)
        self._queue(Upload("record", key, namespace))

    def _queue(self, job: Upload) -> None:
        self._use()
        self.pending.add(job)  # first, so a crash or an outage leaves it for the next run
        self._unsent.add(job.marker)
        if self.status.up:
            self.uploader.submit(job)

    def _upload(self, job: Upload) -> bool:
        """The uploader's job: send one entry; False when there was nothing to send or it failed."""
        try:
            sent = self.transfers.send(job)
        except RemoteError as exc:
            self.status.failed(exc)
            return False
        except Exception as exc:  # a local I/O error or an SDK surprise: this entry stays pending
            logger.warning("upload of %s failed (%s); it stays pending", job.describe(), self.remote.scrub(exc))
            return False
        self.pending.done(job)
        self._unsent.discard(job.marker)
        return sent is not None

    # -- the remote tier, on request (olive cache list --remote / push / pull / delete) -------

    @contextmanager
    def _explicit(self, action: str) -> Iterator[None]:
        """A remote failure during a command the user asked for is an error, not a warning."""
        try:
            yield
        except RemoteError as exc:
            hints = {
                "auth": f"check {self.remote.credentials} (Azure portal: storage account > Access keys / SAS)",
                "unreachable": "check the network and the account URL, then try again",
            }
            raise CacheError(f"{action} {self.remote_location} failed: {exc}", hint=hints.get(exc.kind)) from None

    def remote_entries(self) -> Iterator[CacheEntry]:
        with self._explicit("listing"):
            blobs = list(self.remote.list("manifests", metadata=True))
        for name, metadata in blobs:
            yield CacheEntry(
                model_id=name.rsplit("/", 1)[-1][: -len(".json")],
                type=metadata.get("type", ""),
                pass_type=metadata.get("pass_type", ""),
                size_bytes=int(metadata.get("size", "0") or 0),
                created=float(metadata.get("created", "0") or 0),
            )

    def push(self) -> TransferReport:
        report = TransferReport()
        with self._explicit("pushing to"):
            shared = {entry.model_id for entry in self.remote_entries()}
            jobs = self.pending.all()
            queued = {job.key for job in jobs if job.kind == "model"}
            for entry in self.local.entries():  # also entries made before this remote was configured
                if entry.model_id in shared:
                    report.skipped += entry.model_id not in queued
                elif entry.model_id not in queued:
                    info = {"pass_type": entry.pass_type}
                    jobs.append(Upload("model", entry.model_id, info=info, created=entry.created))
                    jobs.append(Upload("record", entry.model_id, "step"))
            for job in jobs:
                sent = self.transfers.send(job)
                self.pending.done(job)
                if sent is None:
                    report.skipped += job.kind == "model"
                    continue
                report.bytes += sent
                report.models += job.kind == "model"
                report.records += job.kind == "record"
        return report

    def pull(self, model_ids: Sequence[str] | None = None) -> TransferReport:
        report = TransferReport()
        with self._explicit("pulling from"):
            ids = list(model_ids) if model_ids is not None else [e.model_id for e in self.remote_entries()]
            for model_id in ids:
                if self.local.get_model(model_id) is not None:
                    report.skipped += 1
                    continue
                fetched = self.transfers.fetch_model(model_id)
                if fetched is None:
                    report.failed.append(f"{model_id[:12]}: missing or damaged in {self.remote_location}")
                    continue
                report.models, report.bytes = report.models + 1, report.bytes + fetched[1]
            records = [("step", model_id) for model_id in ids]
            if model_ids is None:
                records = [self.remote.record_key(name) for name, _ in self.remote.list("records")]
            for namespace, key in records:
                if self.local.get_record(namespace, key) is None:
                    report.records += self.transfers.fetch_record(namespace, key) is not None
        return report

    def delete_remote(self, model_ids: Sequence[str]) -> int:
        removed = 0
        with self._explicit("deleting from"):
            for model_id in model_ids:
                # the manifest first: once it is gone, no reader sees a half-deleted entry
                removed += self.remote.delete(self.remote.manifest_name(model_id))
                for name, _ in self.remote.list(f"artifacts/{model_id}"):
                    self.remote.delete(name)
                self.remote.delete(self.remote.record_name("step", model_id))
        return removed

    # -- the local tier ----------------------------------------------------------------------

    def entries(self) -> Iterator[CacheEntry]:
        return self.local.entries()

    def size_bytes(self) -> int:
        return self.local.size_bytes()

    def clear(self) -> None:
        self.local.clear()
        self.pending.clear()

    def gc(self) -> GcReport:
        return self.local.gc()

    def close(self) -> None:
        """Wait for the uploads still queued, say what is left for later, close the local cache."""
        try:
            self.uploader.close(
                lambda remaining: self.report_progress(
                    f"waiting for {remaining} upload(s) to {self.remote_location} "
                    "(interrupting leaves them for the next run or `olive cache push`)"
                )
            )
            left = len(self._unsent)
            if left:
                self.report_progress(
                    f"{left} cache entr{'y' if left == 1 else 'ies'} not uploaded to {self.remote_location}: "
                    "the next run or `olive cache push --workflow FILE` uploads them"
                )
        finally:
            self.pending.release()
            self.local.close()
