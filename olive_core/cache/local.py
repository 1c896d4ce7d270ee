"""LocalCache: metadata as JSON records in SQLite, artifacts in a content-addressed folder.

Layout under the cache root::

    records.sqlite        model records and JSON records (olive_core.cache.records), transactional
    artifacts/ab/<id>/    one folder per cached model, moved into place whole
    staging/<random>/     where passes write; a killed run leaves leftovers here that gc removes

A model record is written only after its artifact folder has been renamed into place, and holds
the size of every file; a record whose files are missing or have another size is treated as a
miss and dropped, so a damaged entry is recomputed, never trusted. A cache may be written by
someone else: reading it never unpickles or imports anything, and a record whose paths leave its
own artifact folder is damaged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from olive_core.cache.backend import CacheBackend, CacheBackendConfig, CacheEntry, GcReport
from olive_core.cache.records import DamagedStoreError, JsonRecords
from olive_core.errors import CacheError
from olive_core.models.handler import ModelHandler

logger = logging.getLogger(__name__)

ARTIFACT_MARK = "$artifact"
_MODEL_PREFIX = "model:"
RECORDS_FILE = "records.sqlite"


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
        self._records = self._open_records()

    def _open_records(self) -> JsonRecords:
        path = self.root / RECORDS_FILE
        try:
            return JsonRecords(path)
        except DamagedStoreError as exc:
            # Damaged by a crash, or not ours: set it aside and start afresh. Artifacts without
            # records are unreachable and are removed by the next gc.
            broken = self.root / f"records.damaged-{int(time.time())}"
            logger.warning("cache metadata at %s is damaged (%s); moved to %s and starting afresh", path, exc, broken)
            broken.mkdir(exist_ok=True)
            for part in self.root.glob(RECORDS_FILE + "*"):
                with contextlib.suppress(OSError):
                    part.rename(broken / part.name)
            try:
                return JsonRecords(path)
            except DamagedStoreError as again:
                raise CacheError(f"cannot open the cache at '{self.root}': {again}", hint="run `olive cache clear`") from again

    # -- models ----------------------------------------------------------------------------

    def artifact_dir(self, model_id: str) -> Path:
        """The folder of a model's cached files, ``artifacts/<first two characters of its id>/<id>/``,
        whether or not the model is cached (ask :meth:`get_model` first). A backend that layers on
        this cache (a remote tier) reads the files it sends from here."""
        return self.artifacts / model_id[:2] / model_id

    def get_model(self, model_id: str) -> ModelHandler | None:
        record = self._records.get(_MODEL_PREFIX + model_id)
        if record is None:
            return None
        folder = self.artifact_dir(model_id)
        handle = _handle_of(record)
        if handle is None or not _manifest_matches(folder, record.get("manifest")):
            logger.warning("cache entry %s is damaged (files missing or changed); it will be recomputed", model_id[:12])
            self._drop(model_id)
            return None
        return resolve_handle(handle, folder)

    def _drop(self, model_id: str) -> int:
        """Remove an entry's record and folder; returns the bytes freed."""
        folder = self.artifact_dir(model_id)
        freed = _folder_size(folder) if folder.exists() else 0
        self._records.delete(_MODEL_PREFIX + model_id)
        shutil.rmtree(folder, ignore_errors=True)
        return freed

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        folder = Path(tempfile.mkdtemp(prefix="step-", dir=self.staging_root))
        folder.chmod(0o755)  # mkdtemp makes it private; a cache may be shared by a team
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def put_model(self, model_id: str, handle: ModelHandler, staging_dir: Path, info: dict[str, Any]) -> ModelHandler:
        portable = portable_handle(handle, staging_dir)
        outside = [path for path in (portable.path, *portable.files) if not _is_artifact_path(path)]
        if outside:
            raise CacheError(
                f"cannot cache model {model_id[:12]}: '{outside[0]}' lies outside the folder its pass wrote",
                hint="a cache entry must hold all its files; report this to the pass's authors",
            )
        target = self.artifact_dir(model_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            # A folder without a (valid) record: left by a run killed before its record was written.
            shutil.rmtree(target)
        os.replace(staging_dir, target)
        record = {
            "handle": portable.model_dump(mode="json"),
            "manifest": _manifest(target),
            "info": info,
            "created": time.time(),
        }
        self._records.set(_MODEL_PREFIX + model_id, record)
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
        return self._records.get(f"{namespace}:{key}")

    def put_record(self, namespace: str, key: str, value: dict[str, Any]) -> None:
        self._records.set(f"{namespace}:{key}", value)

    # -- maintenance -----------------------------------------------------------------------

    def entries(self) -> Iterator[CacheEntry]:
        for key in self._records.keys(_MODEL_PREFIX):
            record = self._records.get(key)
            handle = _handle_of(record) if record is not None else None
            if handle is None:
                continue
            manifest = record.get("manifest")  # type: ignore[union-attr]
            info = record.get("info")  # type: ignore[union-attr]
            created = record.get("created")  # type: ignore[union-attr]
            yield CacheEntry(
                model_id=key[len(_MODEL_PREFIX) :],
                type=handle.type,
                pass_type=str(info.get("pass_type", "")) if isinstance(info, dict) else "",
                size_bytes=sum(manifest.values()) if _is_manifest(manifest) else 0,
                created=float(created) if isinstance(created, (int, float)) else 0.0,
            )

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file())

    def clear(self) -> None:
        self._records.clear()
        for folder in (self.artifacts, self.staging_root):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)

    def gc(self) -> GcReport:
        report = GcReport()
        known = set()
        for key in self._records.keys(_MODEL_PREFIX):
            model_id = key[len(_MODEL_PREFIX) :]
            record = self._records.get(key)
            handle = _handle_of(record) if record is not None else None
            folder = self.artifact_dir(model_id)
            if handle is None or not _manifest_matches(folder, record.get("manifest")):  # type: ignore[union-attr]
                report.freed_bytes += self._drop(model_id)
                report.removed_entries += 1
            else:
                known.add(model_id)
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
        # set-aside metadata, and the diskcache folder of caches written before records.sqlite
        for stale in [*self.root.glob("records.damaged-*"), *self.root.glob("meta.damaged-*"), self.root / "meta"]:
            if stale.exists():
                report.freed_bytes += _folder_size(stale)
                shutil.rmtree(stale, ignore_errors=True)
        return report

    def close(self) -> None:
        self._records.close()


def _handle_of(record: dict[str, Any]) -> ModelHandler | None:
    """The record's handle if it is well formed and every path stays in its artifact folder."""
    try:
        handle = ModelHandler.model_validate(record.get("handle"))
    except ValidationError:
        return None
    if not all(_is_artifact_path(path) for path in (handle.path, *handle.files)):
        return None
    return handle


def _is_artifact_path(path: str) -> bool:
    """``$artifact`` or ``$artifact/<relative path>`` that does not climb out with ``..``."""
    if path == ARTIFACT_MARK:
        return True
    if not path.startswith(ARTIFACT_MARK + "/"):
        return False
    return _is_inside_name(path[len(ARTIFACT_MARK) + 1 :])


def _is_inside_name(name: str) -> bool:
    """A relative POSIX name that stays inside its folder."""
    if not name or "\\" in name or posixpath.isabs(name):
        return False
    normalized = posixpath.normpath(name)
    return normalized != ".." and not normalized.startswith("../")


def _is_manifest(manifest: Any) -> bool:
    return isinstance(manifest, dict) and all(
        isinstance(name, str) and _is_inside_name(name) and isinstance(size, int) and size >= 0
        for name, size in manifest.items()
    )


def _manifest(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


def _manifest_matches(folder: Path, manifest: Any) -> bool:
    if not _is_manifest(manifest) or not folder.is_dir():
        return False
    try:
        # lstat: a link planted in an entry must not make the cache read a file elsewhere
        found = {name: os.lstat(folder / name) for name in manifest}
    except OSError:
        return False
    return all(stat.S_ISREG(found[name].st_mode) and found[name].st_size == size for name, size in manifest.items())


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
