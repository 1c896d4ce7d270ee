"""Calibration batches for ORT's static quantizer, taken from a workflow data config.

Imports onnxruntime at module level: import it inside a pass's ``run``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from onnxruntime.quantization import CalibrationDataReader

from olive_core.errors import DataError
from olive_onnx.inspect import InputSpec


class DataConfigReader(CalibrationDataReader):
    """Feeds batches of a data config to the calibrator, checked against the graph's inputs.

    Fields that are not model inputs (a label) are dropped; a missing input or a wrong dtype is a
    :class:`DataError` naming the data config. At most ``max_samples`` rows are used in all.
    """

    def __init__(self, batches: Iterable[dict[str, Any]], inputs: list[InputSpec], data_name: str, max_samples: int):
        self._batches: Iterator[dict[str, Any]] = iter(batches)
        self._inputs = inputs
        self._data_name = data_name
        self._left = max_samples
        self._pending: dict[str, Any] | None = None
        self.samples = 0
        self.batches = 0

    def require_data(self) -> None:
        """Fail early, with the data config's name, when it yields no batch at all."""
        self._pending = next(self._batches, None)
        if self._pending is None:
            raise DataError(
                f"calibration data '{self._data_name}' gave no batches",
                hint="check that data config's loader and max_samples",
            )

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._left <= 0:
            return None
        batch, self._pending = (self._pending, None) if self._pending is not None else (next(self._batches, None), None)
        if batch is None:
            return None
        feed = self._checked(batch)
        first = next(iter(feed.values()), None)
        rows = first.shape[0] if first is not None and first.ndim else 1
        if rows > self._left:
            feed = {name: value[: self._left] for name, value in feed.items()}
            rows = self._left
        self._left -= rows
        self.samples += rows
        self.batches += 1
        return feed

    def _checked(self, batch: dict[str, Any]) -> dict[str, np.ndarray]:
        feed = {}
        for spec in self._inputs:
            if spec.name not in batch:
                raise DataError(
                    f"calibration data '{self._data_name}' has no field for model input '{spec.name}'; "
                    f"its fields are {', '.join(batch) or 'none'}",
                    hint="produce every model input in that data config's pre-processing",
                )
            value = np.asarray(batch[spec.name])
            if value.dtype.name != spec.dtype:
                raise DataError(
                    f"calibration data '{self._data_name}': input '{spec.name}' expects dtype {spec.dtype}, "
                    f"given {value.dtype.name} (shape {list(value.shape)})",
                    hint=f"cast it with .astype('{spec.dtype}') in the data config's pre-processing",
                )
            if spec.dims and value.ndim != len(spec.dims):
                raise DataError(
                    f"calibration data '{self._data_name}': input '{spec.name}' expects rank {len(spec.dims)} "
                    f"(shape {list(spec.dims)}), given shape {list(value.shape)}",
                    hint="batch the samples (the data config's batch_size) so each input has the model's rank",
                )
            feed[spec.name] = value
        return feed


class _Chunk(CalibrationDataReader):
    """At most ``size`` batches of another reader; ``exhausted`` once that reader has no more."""

    def __init__(self, reader: CalibrationDataReader, size: int) -> None:
        self._reader, self._left, self.exhausted = reader, size, False

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._left <= 0:
            return None
        batch = self._reader.get_next()
        if batch is None:
            self.exhausted = True
            return None
        self._left -= 1
        return batch


def calibrate_streaming(
    model_file: Path,
    reader: CalibrationDataReader,
    method: str,
    op_types: list[str] | None,
    chunk_batches: int,
    options: dict[str, Any],
    target: Path,
) -> Path:
    """Activation ranges calibrated ``chunk_batches`` batches at a time, saved as ORT's JSON cache.

    ORT's calibrators keep every inner tensor of what one ``collect_data`` call reads (and
    MinMax's ``CalibMaxIntermediateOutputs`` drops, rather than merges, a full buffer in ORT
    1.32), so each call gets one chunk: MinMax merges the ranges of successive calls, the
    histogram calibrators add each chunk to their histograms. Memory is bounded by one chunk.
    """
    from onnxruntime.quantization import CalibrationMethod
    from onnxruntime.quantization.calibrate import create_calibrator, save_tensors_data

    calibrator = create_calibrator(
        model_file,
        op_types,
        augmented_model_path=str(target.parent / "augmented.onnx"),
        calibrate_method=getattr(CalibrationMethod, method),
        providers=["CPUExecutionProvider"],
        extra_options=options,
    )
    while True:
        chunk = _Chunk(reader, chunk_batches)
        first = chunk.get_next()
        if first is None:
            break
        calibrator.collect_data(_Prepended(first, chunk))
        if chunk.exhausted:
            break
    save_tensors_data(calibrator.compute_data(), target)
    del calibrator
    return target


class _Prepended(CalibrationDataReader):
    def __init__(self, first: dict[str, np.ndarray], rest: CalibrationDataReader) -> None:
        self._first: dict[str, np.ndarray] | None = first
        self._rest = rest

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return self._rest.get_next()
