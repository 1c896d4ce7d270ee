"""One data config's load -> pre-process -> cut -> batch, cached by content hash.

Loading and tokenizing can take longer than evaluating a small model, and calibration needs
the same batches, so the batches are stored in the cache backend as an npz record keyed by a
hash of everything that determines them: each step's name, version and config, the content of
the files the steps read, ``max_samples``, ``batch_size`` and, when a step reads the model (a
tokenizer), the input model's id.
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from olive_core.cache.backend import CacheBackend
from olive_core.config.resolved import ResolvedComponent, ResolvedData
from olive_core.errors import DataError, OliveError
from olive_core.evaluation.batching import make_batches
from olive_core.evaluation.data import Batch, DataContext
from olive_core.models.hashing import hash_json, hash_path

logger = logging.getLogger(__name__)

CACHE_NAMESPACE = "data"
_FORMAT = "npz-base64/1"


@dataclass
class PreparedData:
    """Model-agnostic batches of one data config (inputs only) and their labels."""

    name: str
    key: str
    batches: list[Batch]
    labels: list[np.ndarray] | None
    cached: bool = False

    @property
    def num_samples(self) -> int:
        return sum(len(next(iter(batch.values()))) for batch in self.batches if batch)


def component_key(step: ResolvedComponent) -> dict[str, Any]:
    """What identifies one configured step, for cache keys."""
    return {
        "type": step.type,
        "impl": f"{step.cls.__module__}:{step.cls.__qualname__}",
        "version": getattr(step.cls, "version", "1"),
        "config": step.config.model_dump(mode="json"),
    }


class DataPipeline:
    """Prepares one data config for an evaluator; ``context.model`` is the input model."""

    def __init__(self, data: ResolvedData, context: DataContext, cache: CacheBackend | None, model_id: str = "") -> None:
        self.data = data
        self.context = context
        self.cache = cache
        self.model_id = model_id
        self._key: str | None = None

    def key(self) -> str:
        """The content hash of the prepared batches (hashes the source files once)."""
        if self._key is None:
            steps, uses_model = [], False
            for step in [self.data.load, *self.data.preprocess]:
                files = step.cls().source_files(step.config, self.context)
                steps.append({**component_key(step), "files": {str(path): hash_path(path) for path in files}})
                uses_model = uses_model or step.cls.uses_model
            self._key = hash_json(
                {
                    "steps": steps,
                    "max_samples": self.data.max_samples,
                    "batch_size": self.data.batch_size,
                    "model": self.model_id if uses_model else None,
                }
            )
        return self._key

    def prepare(self) -> PreparedData:
        key = self.key()
        cached = self._read_cache(key)
        if cached is not None:
            return cached
        samples = self._samples()
        batches, labels = make_batches(samples, self.data.batch_size, self.data.name)
        self._write_cache(key, batches, labels, len(samples))
        return PreparedData(self.data.name, key, batches, labels)

    def _samples(self) -> list[Any]:
        name = self.data.name
        load = self.data.load
        samples = self._run_step(load, None, f"data.{name}.load")
        if isinstance(samples, list) and not samples:
            files = ", ".join(f"'{path}'" for path in load.cls().source_files(load.config, self.context))
            raise DataError(
                f"data '{name}' has no samples: its loader ('{load.type}') read none" + (f" from {files}" if files else ""),
                hint=f"check data.{name}.load.config" + (" and that the file holds data" if files else ""),
            )
        for index, step in enumerate(self.data.preprocess):
            samples = self._run_step(step, samples, f"data.{name}.preprocess.{index}")
            if isinstance(samples, list) and not samples:
                raise DataError(
                    f"data '{name}' has no samples left after data.{name}.preprocess.{index} ('{step.type}')",
                    hint=f"check the config of data.{name}.preprocess.{index}",
                )
        if not isinstance(samples, list):
            raise DataError(
                f"data '{name}': the load and pre-process steps gave a {type(samples).__name__}, not a list of samples",
                hint="a data component of role load/preprocess must return a list of dicts",
            )
        logger.debug("data '%s': %d samples", name, len(samples))
        return samples[: self.data.max_samples] if self.data.max_samples else samples

    def _run_step(self, step: ResolvedComponent, value: Any, where: str) -> Any:
        try:
            return step.cls()(value, step.config, self.context)
        except OliveError:
            raise
        except Exception as exc:  # a component's failure, named by where it is in the workflow
            raise DataError(f"{where} ('{step.type}') failed: {type(exc).__name__}: {exc}") from exc

    # -- the cache ---------------------------------------------------------------------------

    def _read_cache(self, key: str) -> PreparedData | None:
        if self.cache is None:
            return None
        record = self.cache.get_record(CACHE_NAMESPACE, key)
        if not record or record.get("format") != _FORMAT:
            return None
        try:
            batches, labels = decode_batches(record)
        except Exception as exc:  # a damaged record is a miss, never trusted
            logger.warning("cached data '%s' (%s) is unreadable (%s); rebuilding it", self.data.name, key[:12], exc)
            return None
        logger.debug("data '%s': %d batches from the cache (%s)", self.data.name, len(batches), key[:12])
        return PreparedData(self.data.name, key, batches, labels, cached=True)

    def _write_cache(self, key: str, batches: list[Batch], labels: list[np.ndarray] | None, num_samples: int) -> None:
        if self.cache is None:
            return
        arrays = [a for batch in batches for a in batch.values()] + list(labels or [])
        if any(array.dtype.kind == "O" for array in arrays):
            logger.debug("data '%s' holds Python objects; it is not cached", self.data.name)
            return
        self.cache.put_record(CACHE_NAMESPACE, key, {**encode_batches(batches, labels), "samples": num_samples, "name": self.data.name})


def encode_batches(batches: list[Batch], labels: list[np.ndarray] | None) -> dict[str, Any]:
    """Arrays go into one npz under positional names; the record keeps the field layout."""
    arrays: dict[str, np.ndarray] = {}
    layout = []
    for batch in batches:
        names = []
        for field_name, array in batch.items():
            arrays[f"a{len(arrays)}"] = array
            names.append(field_name)
        layout.append(names)
    for array in labels or []:
        arrays[f"a{len(arrays)}"] = array
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return {
        "format": _FORMAT,
        "layout": layout,
        "labels": labels is not None,
        "npz": base64.b64encode(buffer.getvalue()).decode("ascii"),
    }


def decode_batches(record: dict[str, Any]) -> tuple[list[Batch], list[np.ndarray] | None]:
    with np.load(io.BytesIO(base64.b64decode(record["npz"])), allow_pickle=False) as npz:
        flat = [npz[f"a{i}"] for i in range(len(npz.files))]
    batches, position = [], 0
    for names in record["layout"]:
        batches.append(dict(zip(names, flat[position : position + len(names)])))
        position += len(names)
    labels = flat[position:] if record["labels"] else None
    if labels is not None and len(labels) != len(batches):
        raise ValueError("labels and batches differ in number")
    return batches, labels
