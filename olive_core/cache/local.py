"""LocalCache: metadata in diskcache (SQLite), artifacts in a content-addressed folder.

Layout under the cache root::

    meta/                 diskcache: model records and JSON records, transactional
    artifacts/ab/<id>/    one folder per cached model, moved into place whole
    staging/<random>/     where passes write; a killed run leaves leftovers here that gc removes

A model record is written only after its artifact folder has been renamed into place, and holds
the size of every file; a record whose files are missing or have another size is treated as a
miss and dropped, so a damaged entry is recomputed, never trusted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import Field

from olive_core.cache.backend import CacheBackend, CacheBackendConfig, CacheEntry, GcReport
from olive_core.errors import CacheError
from olive_core.models.handler import ModelHandler

logger = logging.getLogger(__name__)

ARTIFACT_MARK = "$artifact"
_MODEL_PREFIX = "model:"


def default_cache_dir() -> Path:
    """``OLIVE_CACHE_DIR``, else the per-user cache folder."""
    if os.environ.get("OLIVE_CACHE_DIR"):
        return Path(os.environ["OLIVE_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "olive-core"


class LocalCacheConfig(CacheBackendConfig):
    dir: str | None = Field(
        default=None,
        description="cache folder; default: --cache-dir, else OLIVE_CACHE_DIR, else ~/.cache/olive-core",
    )


class LocalCache(CacheBackend):
    """The default cache: a folder on local disk."""

    Config = LocalCacheConfig

    def __init__(self, config: LocalCacheConfig | None = None) -> None:
        config = config or LocalCacheConfig()
        self.root = Path(config.dir).expanduser() if config.dir else default_cache_dir()
        self.location = str(self.root)
        self.artifacts = self.root / "artifacts"
        self.staging_root = self.root / "staging"
        try:
            self.artifacts.mkdir(parents=True, exist_ok=True)
            self.staging_root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(
                f"cannot create the cache folder '{self.root}': {exc}",
                hint="pass --cache-dir or set OLIVE_CACHE_DIR to a writable folder",
            ) from exc
        self._meta = self._open_meta()

    def _open_meta(self) -> Any:
        import diskcache

        meta_dir = self.root / "meta"
        try:
            meta = diskcache.Cache(str(meta_dir))
            meta.get("__probe__")  # touches the SQLite file: a damaged one fails here
            return meta
        except (sqlite3.DatabaseError, OSError) as exc:
            # A metadata store damaged by a crash: move it aside and start afresh. Artifacts
            # without records are unreachable and are removed by the next gc.
            broken = self.root / f"meta.damaged-{int(time.time())}"
            logger.warning("cache metadata at %s is damaged (%s); moved to %s and starting afresh", meta_dir, exc, broken)
            with contextlib.suppress(OSError):
                meta_dir.rename(broken)
            try:
                return diskcache.Cache(str(meta_dir))
            except (sqlite3.DatabaseError, OSError) as again:
                raise CacheError(f"cannot open the cache at '{self.root}': {again}", hint="run `olive cache clear`") from again

    # -- models ----------------------------------------------------------------------------

    def _artifact_dir(self, model_id: str) -> Path:
        return self.artifacts / model_id[:2] / model_id

    def get_model(self, model_id: str) -> ModelHandler | None:
        record = self._meta.get(_MODEL_PREFIX + model_id)
        if record is None:
            return None
        folder = self._artifact_dir(model_id)
        if not _manifest_matches(folder, record.get("manifest", {})):
            logger.warning("cache entry %s is damaged (files missing or changed); it will be recomputed", model_id[:12])
            self._meta.delete(_MODEL_PREFIX + model_id)
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return resolve_handle(ModelHandler.model_validate(record["handle"]), folder)

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        folder = Path(tempfile.mkdtemp(prefix="step-", dir=self.staging_root))
        folder.chmod(0o755)  # mkdtemp makes it private; a cache may be shared by a team
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def put_model(self, model_id: str, handle: ModelHandler, staging_dir: Path, info: dict[str, Any]) -> ModelHandler:
        target = self._artifact_dir(model_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            # A folder without a (valid) record: left by a run killed before its record was written.
            shutil.rmtree(target)
        portable = portable_handle(handle, staging_dir)
        os.replace(staging_dir, target)
        record = {
            "handle": portable.model_dump(mode="json"),
            "manifest": _manifest(target),
            "info": info,
            "created": time.time(),
        }
        self._meta.set(_MODEL_PREFIX + model_id, record)
        return resolve_handle(portable, target)

    @contextlib.contextmanager
    def step_lock(self, model_id: str) -> Iterator[None]:
        """An OS file lock per model id: released by the OS if its holder is killed."""
        try:
            import fcntl
        except ImportError:  # not POSIX: concurrent trials may compute a shared step twice
            yield
            return
        locks = self.root / "locks"
        locks.mkdir(exist_ok=True)
        with (locks / f"{model_id}.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- records ---------------------------------------------------------------------------

    def get_record(self, namespace: str, key: str) -> dict[str, Any] | None:
        return self._meta.get(f"{namespace}:{key}")

    def put_record(self, namespace: str, key: str, value: dict[str, Any]) -> None:
        self._meta.set(f"{namespace}:{key}", value)

    # -- maintenance -----------------------------------------------------------------------

    def entries(self) -> Iterator[CacheEntry]:
        for key in list(self._meta.iterkeys()):
            if not isinstance(key, str) or not key.startswith(_MODEL_PREFIX):
                continue
            record = self._meta.get(key)
            if record is None:
                continue
            yield CacheEntry(
                model_id=key[len(_MODEL_PREFIX) :],
                type=record["handle"]["type"],
                pass_type=record.get("info", {}).get("pass_type", ""),
                size_bytes=sum(record.get("manifest", {}).values()),
                created=record.get("created", 0.0),
            )

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file())

    def clear(self) -> None:
        self._meta.clear()
        for folder in (self.artifacts, self.staging_root):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)

    def gc(self) -> GcReport:
        report = GcReport()
        known = set()
        for entry in list(self.entries()):
            if self.get_model(entry.model_id) is None:  # drops damaged entries
                report.removed_entries += 1
            else:
                known.add(entry.model_id)
        for shard in self.artifacts.iterdir() if self.artifacts.exists() else ():
            for folder in shard.iterdir():
                if folder.name not in known:
                    report.freed_bytes += _folder_size(folder)
                    shutil.rmtree(folder, ignore_errors=True)
                    report.removed_orphans += 1
        for leftover in self.staging_root.iterdir():
            report.freed_bytes += _folder_size(leftover)
            shutil.rmtree(leftover, ignore_errors=True)
            report.removed_orphans += 1
        for broken in self.root.glob("meta.damaged-*"):
            shutil.rmtree(broken, ignore_errors=True)
        return report

    def close(self) -> None:
        self._meta.close()


def _manifest(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


def _manifest_matches(folder: Path, manifest: dict[str, int]) -> bool:
    if not folder.is_dir():
        return False
    try:
        return all((folder / name).stat().st_size == size for name, size in manifest.items())
    except OSError:
        return False


def _folder_size(folder: Path) -> int:
    if folder.is_file():
        return folder.stat().st_size
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def portable_handle(handle: ModelHandler, folder: Path) -> ModelHandler:
    """Paths inside ``folder`` become ``$artifact/...``; others stay as they are (a cache can move)."""
    root = folder.resolve()

    def portable(path: str) -> str:
        try:
            relative = Path(path).resolve().relative_to(root)
        except ValueError:
            return path
        return f"{ARTIFACT_MARK}/{relative.as_posix()}" if str(relative) != "." else ARTIFACT_MARK

    return handle.model_copy(update={"path": portable(handle.path), "files": [portable(f) for f in handle.files]})


def resolve_handle(handle: ModelHandler, folder: Path) -> ModelHandler:
    """``$artifact/...`` paths become paths under ``folder``."""

    def local(path: str) -> str:
        if path == ARTIFACT_MARK:
            return str(folder)
        if path.startswith(ARTIFACT_MARK + "/"):
            return str(folder / path[len(ARTIFACT_MARK) + 1 :])
        return path

    return handle.model_copy(update={"path": local(handle.path), "files": [local(f) for f in handle.files]})
