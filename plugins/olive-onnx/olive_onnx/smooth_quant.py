"""SmoothQuant (Xiao et al., 2022): move activation outliers into the weights before INT8.

For each activation X read by MatMuls with constant weights W (a [K, N] matrix each), the
per-input-channel scale s_k = max|X_k|^alpha / max|W_k|^(1-alpha) divides X and multiplies the
rows of W: X W = (X / s)(s W), so the float model computes the same, while the activation to
quantize has no outlier channel left. The division is folded into what produces X when only
those MatMuls read it (a LayerNormalization's scale and bias, a MatMul's columns and its bias
Add); otherwise a Mul node divides X for those MatMuls only (a residual branch keeps X).

Our own implementation: ONNX Runtime delegates SmoothQuant to neural-compressor, whose current
releases (3.x) no longer ship the ONNX adaptor ORT imports (plugins/olive-onnx/README.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from olive_onnx.activations import channel_maxima

if TYPE_CHECKING:
    import onnx

_MIN_SCALE, _MAX_SCALE = 1e-4, 1e4


@dataclass
class SmoothReport:
    smoothed: int = 0  # activations smoothed
    folded: int = 0  # of which folded into their producer
    mul_nodes: list[str] = field(default_factory=list)  # Mul nodes inserted (kept in float)

    def as_dict(self) -> dict[str, Any]:
        return {"smoothed": self.smoothed, "folded": self.folded, "mul_nodes": len(self.mul_nodes)}


def smooth(
    model: onnx.ModelProto, feeds: Iterable[dict[str, Any]], alpha: float, skip_nodes: Iterable[str] = ()
) -> tuple[onnx.ModelProto, SmoothReport]:
    """A copy of ``model`` with smoothed MatMul inputs; the float outputs stay the same."""
    import onnx
    from onnx import numpy_helper

    result = onnx.ModelProto()
    result.CopyFrom(model)
    graph = result.graph
    weights = {t.name: t for t in graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
    producers: dict[str, onnx.NodeProto] = {}
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
        for name in node.output:
            producers[name] = node
    skip = set(skip_nodes)
    groups: dict[str, list[onnx.NodeProto]] = defaultdict(list)
    for node in graph.node:
        if (
            node.op_type == "MatMul"
            and node.name not in skip
            and node.input[1] in weights
            and node.input[0] not in weights
            and len(weights[node.input[1]].dims) == 2
        ):
            groups[node.input[0]].append(node)
    report = SmoothReport()
    if not groups:
        return result, report
    maxima = channel_maxima(model, list(groups), feeds)
    graph_outputs = {o.name for o in graph.output}
    inserted: list[onnx.NodeProto] = []
    for tensor, readers in groups.items():
        act = maxima[tensor].astype(np.float64)
        # current values: a fold for an earlier group may have scaled a weight already
        arrays = {n.input[1]: numpy_helper.to_array(weights[n.input[1]]) for n in readers}
        if act.shape[0] != arrays[readers[0].input[1]].shape[0]:
            continue
        weight_max = np.max([np.abs(arrays[n.input[1]]).max(axis=1) for n in readers], axis=0).astype(np.float64)
        scale = np.where(
            (act > 0) & (weight_max > 0),
            np.power(np.maximum(act, 1e-12), alpha) / np.power(np.maximum(weight_max, 1e-12), 1 - alpha),
            1.0,
        )
        scale = np.clip(scale, _MIN_SCALE, _MAX_SCALE).astype(np.float32)
        only_readers = {id(n) for n in consumers[tensor]} == {id(n) for n in readers} and tensor not in graph_outputs
        if only_readers and _fold_into_producer(graph, producers.get(tensor), weights, consumers, 1 / scale):
            report.folded += 1
        else:
            name = _unique(graph, f"{tensor}_smooth")
            # not '<name>_scale': ORT's quantizers name the scale of a quantized tensor so
            divisor = _add_initializer(graph, weights, f"{name}_divisor", (1 / scale).astype(np.float32))
            inserted.append(onnx.helper.make_node("Mul", [tensor, divisor], [name], name=name))
            for reader in readers:
                reader.input[0] = name
            report.mul_nodes.append(name)
        for reader in readers:
            scaled = (arrays[reader.input[1]] * scale[:, None]).astype(np.float32)
            reader.input[1] = _add_initializer(graph, weights, f"{reader.input[1]}_smoothed", scaled)
        report.smoothed += 1
    _insert_before_readers(graph, inserted)
    _drop_unused_initializers(graph)
    return result, report


def _fold_into_producer(
    graph: onnx.GraphProto,
    producer: onnx.NodeProto | None,
    weights: dict[str, onnx.TensorProto],
    consumers: dict[str, list[onnx.NodeProto]],
    factor: np.ndarray,
) -> bool:
    """Multiply what produces the activation by ``factor`` per channel, when that is exact."""
    from onnx import numpy_helper

    if producer is None:
        return False
    if producer.op_type == "LayerNormalization" and len(producer.input) >= 2 and producer.output[0]:
        if len(producer.output) > 1 and any(producer.output[1:]):
            return False  # mean/inv-std outputs are used: leave it
        names = [n for n in producer.input[1:3] if n]
        if not all(n in weights for n in names):
            return False
        for position, name in enumerate(names, start=1):
            value = numpy_helper.to_array(weights[name]) * factor
            producer.input[position] = _add_initializer(graph, weights, f"{name}_smoothed", value.astype(np.float32))
        return True
    if producer.op_type == "Add":
        bias_index = next((i for i, n in enumerate(producer.input) if n in weights), None)
        if bias_index is None:
            return False
        other = producer.input[1 - bias_index]
        matmul = next((n for n in graph.node if other in n.output), None)
        if matmul is None or len(consumers[other]) != 1 or not _foldable_matmul(matmul, weights, factor):
            return False
        bias = numpy_helper.to_array(weights[producer.input[bias_index]])
        if bias.shape != factor.shape:
            return False
        _scale_columns(graph, matmul, weights, factor)
        producer.input[bias_index] = _add_initializer(
            graph, weights, f"{producer.input[bias_index]}_smoothed", (bias * factor).astype(np.float32)
        )
        return True
    if producer.op_type == "MatMul" and _foldable_matmul(producer, weights, factor):
        _scale_columns(graph, producer, weights, factor)
        return True
    return False


def _foldable_matmul(node: onnx.NodeProto, weights: dict[str, onnx.TensorProto], factor: np.ndarray) -> bool:
    weight = weights.get(node.input[1])
    return node.op_type == "MatMul" and weight is not None and list(weight.dims)[-1:] == [factor.shape[0]]


def _scale_columns(
    graph: onnx.GraphProto, node: onnx.NodeProto, weights: dict[str, onnx.TensorProto], factor: np.ndarray
) -> None:
    from onnx import numpy_helper

    value = numpy_helper.to_array(weights[node.input[1]]) * factor
    node.input[1] = _add_initializer(graph, weights, f"{node.input[1]}_smoothed", value.astype(np.float32))


def _add_initializer(graph: onnx.GraphProto, weights: dict[str, onnx.TensorProto], name: str, value: np.ndarray) -> str:
    from onnx import numpy_helper

    name = _unique(graph, name, weights)
    tensor = numpy_helper.from_array(value, name)
    graph.initializer.append(tensor)
    weights[name] = graph.initializer[-1]
    return name


def _unique(graph: onnx.GraphProto, name: str, weights: dict[str, Any] | None = None) -> str:
    taken = {o for node in graph.node for o in node.output} | set(weights or {}) | {t.name for t in graph.initializer}
    candidate, index = name, 1
    while candidate in taken:
        index += 1
        candidate = f"{name}_{index}"
    return candidate


def _insert_before_readers(graph: onnx.GraphProto, inserted: list[onnx.NodeProto]) -> None:
    """Each new node just before the first node that reads it: the list stays topologically sorted."""
    import onnx

    if not inserted:
        return
    pending = {node.output[0]: node for node in inserted}
    nodes = []
    for node in graph.node:
        for name in node.input:
            if name in pending:
                nodes.append(pending.pop(name))
        copy = onnx.NodeProto()
        copy.CopyFrom(node)  # detached: the repeated field is cleared below
        nodes.append(copy)
    del graph.node[:]
    graph.node.extend(nodes)


def _drop_unused_initializers(graph: onnx.GraphProto) -> None:
    used = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
