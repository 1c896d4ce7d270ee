"""How much each quantizable node's INT8 quantization hurts a model's outputs, measured on data.

Three measures (``exclude.measure``); bench/sensitivity_measures.py compares how well their
rankings pick the nodes to keep in float (plugins/olive-onnx/README.md has the figures):

- ``one_at_a_time``: each node alone is fake-quantized as the quantizer would (INT8 weights,
  per channel or per tensor; its input quantized dynamically, or with the data's min/max range for
  static), and the error of the model's outputs (mean 1 - cosine) is its score. What it ranks is
  what the user cares about: the outputs. One session per node.
- ``qdq_loss``: ONNX Runtime's ``qdq_loss_debug`` on a QDQ model of every candidate: the
  quantization noise (1/SQNR) of each node's input and weight. Local: it does not see how much
  the rest of the model amplifies a node's noise.
- ``activation_range``: no quantization at all: the squared peak-to-RMS ratio of each node's input
  (and its weight's channels), which sets the noise of a uniform 8-bit grid. Cheapest, blindest.

A ranking is computed once per (model, data, options) and kept as a JSON record in the run's cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from olive_onnx.activations import cosine_error, outputs_flat, run_batches, session
from olive_onnx.exclusion import QuantizableNode

if TYPE_CHECKING:
    import onnx

    from olive_core.passes import PassRecords

#: bump when a measure's scores change for the same inputs (the cache key holds it)
VERSION = "1"
Feeds = list[dict[str, np.ndarray]]


def ranking_key(model_key: str, data_key: str, options: dict[str, Any], nodes: list[QuantizableNode]) -> str:
    payload = {
        "version": VERSION,
        "model": model_key,
        "data": data_key,
        "options": options,
        "nodes": [n.name for n in nodes],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def rank(
    model: onnx.ModelProto,
    model_file: Path,
    nodes: list[QuantizableNode],
    feeds: Callable[[], Feeds],
    options: dict[str, Any],
    records: PassRecords | None = None,
    key: str | None = None,
) -> tuple[list[tuple[str, float]], bool]:
    """Nodes from most to least sensitive with their scores, and whether they came from the cache."""
    if records is not None and key is not None:
        cached = records.get(key)
        if cached is not None and isinstance(cached.get("ranking"), list):
            return [(str(name), float(score)) for name, score in cached["ranking"]], True
    measure = MEASURES[options["measure"]]
    scores = measure(model, model_file, nodes, feeds(), options)
    ranking = sorted(((n.name, float(scores[n.name])) for n in nodes), key=lambda item: -item[1])
    if records is not None and key is not None:
        records.put(key, {"measure": options["measure"], "ranking": [[name, score] for name, score in ranking]})
    return ranking, False


# -- one node at a time ------------------------------------------------------------------------


def one_at_a_time(
    model: onnx.ModelProto, model_file: Path, nodes: list[QuantizableNode], feeds: Feeds, options: dict[str, Any]
) -> dict[str, float]:
    """Output error with only that node fake-quantized, for each node."""
    from onnx import helper, numpy_helper

    reference = np.concatenate([outputs_flat(v) for v in run_batches(session(model), feeds)])
    ranges = _input_ranges(model, nodes, feeds) if options.get("static") else {}
    initializers = {t.name: t for t in model.graph.initializer}
    scores = {}
    for node in nodes:
        original = initializers[node.weight]
        weight = numpy_helper.to_array(original)
        fake = numpy_helper.from_array(
            _fake_quantize_weight(weight, _channel_axis(model, node), options["per_channel"]), node.weight
        )
        original_copy = type(original)()
        original_copy.CopyFrom(original)
        original.CopyFrom(fake)
        target = next(n for n in model.graph.node if n.name == node.name)
        extra_nodes, constants, dequantized = _activation_qdq(node, ranges.get(node.activation), helper, numpy_helper)
        # appended, not sorted in: ONNX Runtime orders the nodes itself when it loads the graph
        model.graph.node.extend(extra_nodes)
        model.graph.initializer.extend(constants)
        target.input[0] = dequantized
        try:
            quantized = np.concatenate([outputs_flat(v) for v in run_batches(session(model), feeds)])
        finally:
            target.input[0] = node.activation
            del model.graph.node[len(model.graph.node) - len(extra_nodes) :]
            if constants:
                del model.graph.initializer[len(model.graph.initializer) - len(constants) :]
            original.CopyFrom(original_copy)
        scores[node.name] = cosine_error(reference, quantized)
    return scores


def _channel_axis(model: onnx.ModelProto, node: QuantizableNode) -> int:
    """The weight's output-channel axis, the one ORT gives its own scale when per channel."""
    if node.op_type in ("Conv", "ConvTranspose"):
        return 0
    if node.op_type == "Gemm":
        graph_node = next(n for n in model.graph.node if n.name == node.name)
        trans_b = next((a.i for a in graph_node.attribute if a.name == "transB"), 0)
        return 0 if trans_b else 1
    return -1


def _fake_quantize_weight(weight: np.ndarray, axis: int, per_channel: bool) -> np.ndarray:
    """Symmetric INT8 round trip (ORT's default for weights)."""
    if per_channel and weight.ndim > 1:
        reduce = tuple(i for i in range(weight.ndim) if i != axis % weight.ndim)
        peak = np.abs(weight).max(axis=reduce, keepdims=True)
    else:
        peak = np.abs(weight).max()
    scale = np.where(peak > 0, peak / 127.0, 1.0)
    return (np.clip(np.round(weight / scale), -127, 127) * scale).astype(weight.dtype)


def _activation_qdq(
    node: QuantizableNode, data_range: tuple[float, float] | None, helper: Any, numpy_helper: Any
) -> tuple[list[Any], list[Any], str]:
    """Nodes (and constants) that quantize the node's input as the quantizer will: uint8,
    dynamically (DynamicQuantizeLinear) or with a calibrated range; returns the dequantized name."""
    base = f"{node.name}__sens"
    out = f"{base}_x"
    if data_range is None:
        return (
            [
                helper.make_node("DynamicQuantizeLinear", [node.activation], [f"{base}_q", f"{base}_s", f"{base}_z"]),
                helper.make_node("DequantizeLinear", [f"{base}_q", f"{base}_s", f"{base}_z"], [out]),
            ],
            [],
            out,
        )
    low, high = min(data_range[0], 0.0), max(data_range[1], 0.0)
    scale = np.float32(max(high - low, 1e-12) / 255.0)
    zero = np.uint8(np.clip(round(-low / scale), 0, 255))
    constants = [
        numpy_helper.from_array(np.array(scale), f"{base}_s"),
        numpy_helper.from_array(np.array(zero), f"{base}_z"),
    ]
    return (
        [
            helper.make_node("QuantizeLinear", [node.activation, f"{base}_s", f"{base}_z"], [f"{base}_q"]),
            helper.make_node("DequantizeLinear", [f"{base}_q", f"{base}_s", f"{base}_z"], [out]),
        ],
        constants,
        out,
    )


def _input_ranges(model: onnx.ModelProto, nodes: list[QuantizableNode], feeds: Feeds) -> dict[str, tuple[float, float]]:
    names = sorted({n.activation for n in nodes})
    ranges: dict[str, tuple[float, float]] = {}
    for values in run_batches(session(model, names), feeds, names):
        for name, value in values.items():
            low, high = float(value.min()), float(value.max())
            old = ranges.get(name, (low, high))
            ranges[name] = (min(old[0], low), max(old[1], high))
    return ranges


# -- ONNX Runtime's QDQ loss debugging ---------------------------------------------------------


def qdq_loss(
    model: onnx.ModelProto, model_file: Path, nodes: list[QuantizableNode], feeds: Feeds, options: dict[str, Any]
) -> dict[str, float]:
    """Noise-to-signal of each node's quantized input plus that of its weight, from qdq_loss_debug."""
    import tempfile

    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static
    from onnxruntime.quantization.qdq_loss_debug import (
        collect_activations,
        compute_signal_to_quantization_noice_ratio,
        compute_weight_error,
        create_activation_matching,
        create_weight_matching,
        modify_model_output_intermediate_tensors,
    )

    from olive_onnx.files import save_model

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._feeds = iter(feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._feeds, None)

    with tempfile.TemporaryDirectory(prefix="sensitivity-") as folder:
        work = Path(folder)
        float_file = save_model(model, work / "float")
        qdq_file, augmented = work / "qdq.onnx", work / "augmented.onnx"
        quantize_static(
            str(float_file),
            str(qdq_file),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=options["per_channel"],
            nodes_to_quantize=[n.name for n in nodes],
            calibration_providers=["CPUExecutionProvider"],
            extra_options={"DefaultTensorType": 1},
        )
        modify_model_output_intermediate_tensors(str(qdq_file), str(augmented))
        matching = create_activation_matching(collect_activations(str(augmented), Reader()))
        activations = {
            name: compute_signal_to_quantization_noice_ratio(match["pre_qdq"], match["post_qdq"])
            for name, match in matching.items()
        }
        weights = compute_weight_error(create_weight_matching(str(float_file), str(qdq_file)))

    def noise(sqnr: float | None) -> float:
        return 0.0 if sqnr is None else float(10 ** (-sqnr / 10))

    return {n.name: noise(activations.get(n.activation)) + noise(weights.get(n.weight)) for n in nodes}


# -- activation ranges -------------------------------------------------------------------------


def activation_range(
    model: onnx.ModelProto, model_file: Path, nodes: list[QuantizableNode], feeds: Feeds, options: dict[str, Any]
) -> dict[str, float]:
    """(peak / RMS)^2 of each node's input over 255^2, plus the same for its weight's channels over 127^2:
    the relative noise a uniform 8-bit grid would add, estimated without quantizing anything."""
    from onnx import numpy_helper

    names = sorted({n.activation for n in nodes})
    peak: dict[str, float] = {}
    power: dict[str, tuple[float, int]] = {}
    for values in run_batches(session(model, names), feeds, names):
        for name, value in values.items():
            value = value.astype(np.float64)
            peak[name] = max(peak.get(name, 0.0), float(np.abs(value).max()))
            total, count = power.get(name, (0.0, 0))
            power[name] = (total + float((value**2).sum()), count + value.size)
    initializers = {t.name: t for t in model.graph.initializer}
    scores = {}
    for node in nodes:
        total, count = power[node.activation]
        rms = np.sqrt(total / max(count, 1))
        act = (peak[node.activation] / max(rms, 1e-30)) ** 2 / 255.0**2
        weight = numpy_helper.to_array(initializers[node.weight]).astype(np.float64)
        axis = _channel_axis(model, node) % weight.ndim
        moved = np.moveaxis(weight, axis, 0).reshape(weight.shape[axis], -1)
        if not options["per_channel"]:
            moved = moved.reshape(1, -1)
        ratio = np.abs(moved).max(axis=1) / np.maximum(np.sqrt((moved**2).mean(axis=1)), 1e-30)
        scores[node.name] = float(act + np.mean(ratio**2) / 127.0**2)
    return scores


MEASURES: dict[str, Callable[..., dict[str, float]]] = {
    "one_at_a_time": one_at_a_time,
    "qdq_loss": qdq_loss,
    "activation_range": activation_range,
}
