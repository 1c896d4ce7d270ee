"""Turn a list of sample dicts into batches: arrays stacked key by key, labels kept apart."""

from __future__ import annotations

from typing import Any

import numpy as np

from olive_core.errors import DataError
from olive_core.evaluation.data import LABEL_KEY, Batch


def describe_array(array: Any) -> str:
    """``float32[2, 8]``: how messages show an array."""
    array = np.asarray(array)
    return f"{array.dtype}[{', '.join(str(d) for d in array.shape)}]"


def describe_batch(batch: Batch) -> str:
    return ", ".join(f"{key} {describe_array(value)}" for key, value in batch.items()) or "nothing"


def make_batches(samples: list[Any], batch_size: int, data_name: str) -> tuple[list[Batch], list[np.ndarray] | None]:
    """Stack samples into batches of ``batch_size`` (the last may be smaller).

    Every sample must be a dict with the same keys; ``label`` values become the second result
    (None when no sample has one). A key whose values have different shapes cannot be stacked:
    pad them in a pre-processing step, or use ``batch_size: 1``.
    """
    if not samples:
        raise DataError(f"data '{data_name}' has no samples", hint="check the loader's file and 'max_samples'")
    keys = _sample_keys(samples[0], 0, data_name)
    batches: list[Batch] = []
    labels: list[np.ndarray] = []
    for start in range(0, len(samples), batch_size):
        chunk = samples[start : start + batch_size]
        for offset, sample in enumerate(chunk):
            if _sample_keys(sample, start + offset, data_name) != keys:
                raise DataError(
                    f"data '{data_name}': sample {start + offset} has fields {sorted(sample)}, "
                    f"but sample 0 has {sorted(keys)}",
                    hint="every sample must have the same fields",
                )
        stacked = {key: _stack(key, [sample[key] for sample in chunk], start, data_name) for key in sorted(keys)}
        if LABEL_KEY in stacked:
            labels.append(stacked.pop(LABEL_KEY))
        batches.append(stacked)
    return batches, (labels if labels else None)


def _sample_keys(sample: Any, index: int, data_name: str) -> frozenset[str]:
    if not isinstance(sample, dict):
        raise DataError(
            f"data '{data_name}': sample {index} is a {type(sample).__name__}, not a dict of fields",
            hint="a loader or pre-processing step must return a list of dicts",
        )
    return frozenset(sample)


def _stack(key: str, values: list[Any], start: int, data_name: str) -> np.ndarray:
    arrays = []
    for offset, value in enumerate(values):
        try:
            arrays.append(np.asarray(value))
        except ValueError as exc:  # a ragged nested list
            raise DataError(
                f"data '{data_name}': field '{key}' of sample {start + offset} is not a rectangular array: {exc}",
                hint="pad or truncate it to one length in a pre-processing step",
            ) from exc
    shapes = {array.shape for array in arrays}
    if len(shapes) > 1:
        shown = ", ".join(f"sample {start + i}: {list(a.shape)}" for i, a in enumerate(arrays[:4]))
        more = ", ..." if len(arrays) > 4 else ""
        raise DataError(
            f"data '{data_name}': field '{key}' has different shapes within one batch ({shown}{more})",
            hint="pad or truncate it to one length in a pre-processing step, or set batch_size to 1",
        )
    return np.stack(arrays)
