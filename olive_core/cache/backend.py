"""The cache protocol: content-addressed model artifacts plus small JSON records."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel

from olive_core.bounds import STRICT_CONFIG
from olive_core.errors import CacheError
from olive_core.models.handler import ModelHandler

logger = logging.getLogger("olive_core.cache")


class CacheBackendConfig(BaseModel):
    model_config = STRICT_CONFIG


@dataclass
class CacheEntry:
    """One cached model, as ``olive cache list`` shows it."""

    model_id: str
    type: str
    pass_type: str
    size_bytes: int
    created: float


@dataclass
class GcReport:
    removed_entries: int = 0
    removed_orphans: int = 0
    freed_bytes: int = 0


@dataclass
class TransferReport:
    """What ``push`` or ``pull`` moved between the local and the remote tier."""

    models: int = 0
    records: int = 0
    bytes: int = 0
    #: entries the other side already had
    skipped: int = 0
    #: ids (with the reason) that could not be moved, e.g. a damaged remote entry
    failed: list[str] = field(default_factory=list)


class CacheBackend(ABC):
    """Stores each step's output model under its derived id, and JSON records (evaluations).

    A backend must never return an entry that a killed run left half-written: artifacts are
    written to a staging folder and moved into place before their record is written.
    """

    Config: ClassVar[type[CacheBackendConfig]] = CacheBackendConfig

    #: where this cache keeps things, for messages
    location: str = ""
    #: whether this backend has a remote tier (``olive cache push/pull/delete``, ``list --remote``)
    has_remote: ClassVar[bool] = False
    #: where the remote tier lives, for messages
    remote_location: str = ""
    #: receives one-line progress messages (uploads awaited at close); None: logged as warnings,
    #: which the CLI shows on stderr unless -q
    progress: Callable[[str], None] | None = None

    @abstractmethod
    def get_model(self, model_id: str) -> ModelHandler | None:
        """The cached model with this id, with paths resolved, or None (also for a damaged entry)."""

    @abstractmethod
    def staging(self) -> AbstractContextManager[Path]:
        """An empty folder to write a new model into; removed on exit unless committed."""

    @abstractmethod
    def put_model(self, model_id: str, handle: ModelHandler, staging_dir: Path, info: dict[str, Any]) -> ModelHandler:
        """Move ``staging_dir`` into the cache as ``model_id``; return the handle with its new paths."""

    @abstractmethod
    def get_record(self, namespace: str, key: str) -> dict[str, Any] | None:
        """A JSON record (an evaluation result, a data hash), or None."""

    @abstractmethod
    def put_record(self, namespace: str, key: str, value: dict[str, Any]) -> None:
        """Store a JSON record atomically."""

    @abstractmethod
    def entries(self) -> Iterator[CacheEntry]:
        """Every cached model."""

    @abstractmethod
    def size_bytes(self) -> int:
        """Bytes used on disk."""

    @abstractmethod
    def clear(self) -> None:
        """Remove everything."""

    @abstractmethod
    def gc(self) -> GcReport:
        """Remove damaged entries, orphan artifacts and staging leftovers of killed runs."""

    def step_lock(self, model_id: str) -> AbstractContextManager[None]:
        """Held while a step computes ``model_id``, so that concurrent trials compute it once.

        The default does not lock; a backend shared by processes should (see LocalCache).
        """
        return nullcontext()

    def close(self) -> None:
        """Release open handles; a backend with a remote tier first waits for its pending uploads."""

    def report_progress(self, message: str) -> None:
        """Tell the user what a slow cache operation is waiting for."""
        if self.progress is not None:
            self.progress(message)
        else:
            logger.warning("%s", message)

    # -- the remote tier: optional; backends without one raise a CacheError that says so ------

    def remote_entries(self) -> Iterator[CacheEntry]:
        """Every model the remote tier holds."""
        raise self._no_remote()

    def push(self) -> TransferReport:
        """Upload every local entry the remote tier lacks (uploads that earlier runs left pending first)."""
        raise self._no_remote()

    def pull(self, model_ids: Sequence[str] | None = None) -> TransferReport:
        """Download these models (every remote entry when None) into the local tier, verified."""
        raise self._no_remote()

    def delete_remote(self, model_ids: Sequence[str]) -> int:
        """Remove these models from the remote tier; returns how many were there."""
        raise self._no_remote()

    def _no_remote(self) -> CacheError:
        return CacheError(
            f"the cache at {self.location or '?'} ({type(self).__name__}) has no remote tier",
            hint="pass --workflow FILE whose engine.cache names a backend with a remote tier "
            "(e.g. 'azure' from olive-azure-cache)",
        )
