"""The cache protocol: content-addressed model artifacts plus small JSON records."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from olive_core.models.handler import ModelHandler


class CacheBackendConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class CacheBackend(ABC):
    """Stores each step's output model under its derived id, and JSON records (evaluations).

    A backend must never return an entry that a killed run left half-written: artifacts are
    written to a staging folder and moved into place before their record is written.
    """

    Config: ClassVar[type[CacheBackendConfig]] = CacheBackendConfig

    #: where this cache keeps things, for messages
    location: str = ""

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

    def close(self) -> None:
        """Release open handles."""
