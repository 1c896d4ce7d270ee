"""Run a float model on data and look at inner tensors, one batch at a time (memory stays bounded).

Used by SmoothQuant (per-channel activation maxima) and by the sensitivity measures.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnx
    import onnxruntime


def session(
    model: onnx.ModelProto, extra_outputs: Iterable[str] = (), threads: int = 0
) -> onnxruntime.InferenceSession:
    """A CPU session of ``model`` that also returns ``extra_outputs`` (inner tensors)."""
    import onnx
    import onnxruntime

    extra = [name for name in dict.fromkeys(extra_outputs) if name not in {o.name for o in model.graph.output}]
    if extra:
        model = _copy_without_weights_copy(model)
        model.graph.output.extend(onnx.ValueInfoProto(name=name) for name in extra)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def _copy_without_weights_copy(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy whose graph outputs can change; protobuf copies are deep, so this copies once."""
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    return copy


def run_batches(
    sess: onnxruntime.InferenceSession, feeds: Iterable[dict[str, np.ndarray]], names: list[str] | None = None
) -> Iterator[dict[str, np.ndarray]]:
    """Each batch's requested outputs (all outputs when ``names`` is None), by name."""
    wanted = names or [o.name for o in sess.get_outputs()]
    inputs = {i.name for i in sess.get_inputs()}
    for feed in feeds:
        values = sess.run(wanted, {k: v for k, v in feed.items() if k in inputs})
        yield dict(zip(wanted, values, strict=True))


def channel_maxima(
    model: onnx.ModelProto, tensors: list[str], feeds: Iterable[dict[str, Any]]
) -> dict[str, np.ndarray]:
    """max |x| over every sample and position, per channel (the last axis), for each tensor."""
    sess = session(model, tensors)
    maxima: dict[str, np.ndarray] = {}
    for values in run_batches(sess, feeds, tensors):
        for name, value in values.items():
            current = np.abs(value.reshape(-1, value.shape[-1])).max(axis=0)
            maxima[name] = np.maximum(maxima[name], current) if name in maxima else current
    return maxima


def outputs_flat(values: dict[str, np.ndarray]) -> np.ndarray:
    """All outputs of one batch as one float vector per sample: [batch, features]."""
    rows = [np.asarray(v, dtype=np.float64).reshape(v.shape[0], -1) for v in values.values() if v.ndim]
    return np.concatenate(rows, axis=1)


def cosine_error(reference: np.ndarray, actual: np.ndarray) -> float:
    """Mean over samples of 1 - cosine(reference, actual)."""
    dot = (reference * actual).sum(axis=1)
    norms = np.linalg.norm(reference, axis=1) * np.linalg.norm(actual, axis=1)
    return float(np.mean(1.0 - dot / np.maximum(norms, 1e-30)))
