"""Facts about an ONNX graph that passes decide on: op counts, quantization, precision, attention.

Every function takes a ``ModelProto`` read without external data (see
:func:`olive_onnx.files.read_model_proto`): the facts come from the graph's structure and tensor
types, never from weight bytes, so inspecting a 10 GB model stays cheap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

from olive_core.errors import IncompatibleModelError
from olive_core.models.io_config import IoConfig

#: ops that only appear in a model that has been quantized already
QUANTIZED_OPS = frozenset(
    {
        "QuantizeLinear",
        "DequantizeLinear",
        "DynamicQuantizeLinear",
        "DynamicQuantizeMatMul",
        "MatMulInteger",
        "MatMulIntegerToFloat",
        "ConvInteger",
        "QLinearMatMul",
        "QLinearConv",
        "QLinearAdd",
        "QLinearMul",
        "QLinearSoftmax",
        "QLinearSigmoid",
        "QLinearLeakyRelu",
        "QLinearConcat",
        "QLinearAveragePool",
        "QLinearGlobalAveragePool",
        "QLinearReduceMean",
        "QLinearWhere",
        "QGemm",
        "QAttention",
        "QEmbedLayerNormalization",
        "QOrderedAttention",
        "QOrderedMatMul",
        "QOrderedGelu",
        "QOrderedLayerNormalization",
        "MatMulNBits",
        "MatMulBnb4",
        "GatherBlockQuantized",
    }
)

#: integer element types that weights only have after quantization
QUANTIZED_TENSOR_TYPES = frozenset(
    {
        onnx.TensorProto.INT8,
        onnx.TensorProto.UINT8,
        onnx.TensorProto.INT4,
        onnx.TensorProto.UINT4,
    }
)

#: the fused ops the ORT transformer optimizer produces, reported after fusion
FUSED_OPS = (
    "Attention",
    "MultiHeadAttention",
    "GroupQueryAttention",
    "EmbedLayerNormalization",
    "SkipLayerNormalization",
    "SkipSimplifiedLayerNormalization",
    "LayerNormalization",
    "SimplifiedLayerNormalization",
    "BiasGelu",
    "Gelu",
    "FastGelu",
    "GemmFastGelu",
    "QuickGelu",
    "BiasSplitGelu",
    "BiasAdd",
    "RotaryEmbedding",
    "GroupNorm",
)


def iter_nodes(graph: onnx.GraphProto) -> Iterator[onnx.NodeProto]:
    """Every node, including those of subgraphs (If/Loop/Scan bodies)."""
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.HasField("g"):
                yield from iter_nodes(attribute.g)
            for subgraph in attribute.graphs:
                yield from iter_nodes(subgraph)


def op_counts(model: onnx.ModelProto) -> Counter[str]:
    return Counter(node.op_type for node in iter_nodes(model.graph))


def fused_op_counts(model: onnx.ModelProto) -> dict[str, int]:
    """Counts of the transformer-fusion ops present in the graph (zero counts left out)."""
    counts = op_counts(model)
    return {op: counts[op] for op in FUSED_OPS if counts[op]}


def quantization_evidence(model: onnx.ModelProto) -> list[str]:
    """Why the model looks quantized already, as short phrases; empty when it does not."""
    evidence = []
    counts = op_counts(model)
    ops = sorted(op for op in counts if op in QUANTIZED_OPS)
    if ops:
        evidence.append("quantized ops " + ", ".join(f"{op}x{counts[op]}" for op in ops))
    int_weights = [t.name for t in model.graph.initializer if t.data_type in QUANTIZED_TENSOR_TYPES]
    if int_weights:
        shown = ", ".join(int_weights[:3]) + (", ..." if len(int_weights) > 3 else "")
        evidence.append(f"{len(int_weights)} int8/int4 initializers ({shown})")
    return evidence


def _elements(tensor: onnx.TensorProto) -> int:
    return int(np.prod(tensor.dims)) if tensor.dims else 1


def float_precision(model: onnx.ModelProto) -> str:
    """'float16' when most floating-point weights are fp16 (or bf16), else 'float32'.

    Counted in elements, so a few fp32 scales left by an fp16 conversion do not hide it.
    """
    half = {onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16}
    sizes: Counter[str] = Counter()
    for tensor in model.graph.initializer:
        if tensor.data_type in half:
            sizes["float16"] += _elements(tensor)
        elif tensor.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE):
            sizes["float32"] += _elements(tensor)
    return "float16" if sizes["float16"] > sizes["float32"] else "float32"


def refuse_quantized(model: onnx.ModelProto, model_file: str, pass_name: str) -> None:
    """Quantizing twice compounds the error and ORT's quantizers are not built for it."""
    evidence = quantization_evidence(model)
    if evidence:
        raise IncompatibleModelError(
            f"{pass_name} needs a float model, but '{model_file}' is already quantized: {'; '.join(evidence)}",
            hint="quantize the float model instead: drop the earlier quantization pass, or run this pass before it",
        )


def refuse_float16(model: onnx.ModelProto, model_file: str, pass_name: str, hint: str) -> None:
    if float_precision(model) == "float16":
        raise IncompatibleModelError(
            f"{pass_name} needs an FP32 model, but the weights of '{model_file}' are mostly FP16", hint=hint
        )


# --------------------------------------------------------------------------------------------
# Graph inputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputSpec:
    """One graph input: name, numpy dtype name and dims (int, or a symbolic name, or None)."""

    name: str
    dtype: str
    dims: tuple[int | str | None, ...]


def graph_inputs(model: onnx.ModelProto) -> list[InputSpec]:
    """The inputs a caller must feed: graph inputs that are not initializers."""
    initializers = {t.name for t in model.graph.initializer}
    specs = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor_type = value.type.tensor_type
        dtype = _numpy_dtype(tensor_type.elem_type) if value.type.HasField("tensor_type") else "object"
        specs.append(InputSpec(value.name, dtype, _dims(value)))
    return specs


def index_limits(model: onnx.ModelProto) -> dict[str, int]:
    """Per integer graph input that indexes a table (a Gather of an initializer, maybe through a
    Cast): the table's row count. Random values at or above it are out of range and fail the run
    (token_type_ids index a table of 2 rows in BERT, input_ids one of the vocabulary's size)."""
    tables = {t.name: t.dims[0] for t in model.graph.initializer if len(t.dims) >= 1}
    names = {spec.name for spec in graph_inputs(model) if spec.dtype.startswith(("int", "uint"))}
    aliases = {name: name for name in names}  # tensor -> the graph input it carries
    nodes = list(iter_nodes(model.graph))
    for node in nodes:
        if node.op_type == "Cast" and node.input and node.input[0] in aliases:
            aliases[node.output[0]] = aliases[node.input[0]]
    limits: dict[str, int] = {}
    for node in nodes:
        if node.op_type == "Gather" and len(node.input) == 2 and node.input[1] in aliases and node.input[0] in tables:
            name = aliases[node.input[1]]
            limits[name] = min(limits.get(name, tables[node.input[0]]), tables[node.input[0]])
    return limits


def _numpy_dtype(elem_type: int) -> str:
    if elem_type == onnx.TensorProto.STRING or elem_type == onnx.TensorProto.UNDEFINED:
        return "object"
    return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type)).name


def io_config_from_graph(model: onnx.ModelProto) -> IoConfig:
    """Names, dtypes and symbolic axes of the graph's inputs and outputs.

    No example shapes: a symbolic dimension has no size until someone chooses one.
    """
    inputs = graph_inputs(model)
    axes: dict[str, dict[int, str]] = {}
    outputs = [InputSpec(o.name, "", _dims(o)) for o in model.graph.output]
    for spec in (*inputs, *outputs):
        named = {axis: dim for axis, dim in enumerate(spec.dims) if isinstance(dim, str)}
        if named:
            axes[spec.name] = named
    return IoConfig(
        input_names=[spec.name for spec in inputs],
        input_types=[spec.dtype for spec in inputs],
        output_names=[spec.name for spec in outputs],
        dynamic_axes=axes or None,
    )


def _dims(value: onnx.ValueInfoProto) -> tuple[int | str | None, ...]:
    return tuple(
        d.dim_value if d.HasField("dim_value") else d.dim_param if d.HasField("dim_param") else None
        for d in value.type.tensor_type.shape.dim
    )


# --------------------------------------------------------------------------------------------
# Attention shape (num_heads, hidden_size) for the transformer optimizer
# --------------------------------------------------------------------------------------------


def detect_attention_shape(model: onnx.ModelProto) -> tuple[int, int] | None:
    """(num_heads, hidden_size) read from the Q/K/V reshapes of self-attention, or None.

    ORT's optimizer reads num_heads from the reshape's constant ``[0, 0, heads, head_size]``.
    Recent transformers exports write ``-1`` for the heads (``view(*shape, -1, head_dim)``), so
    it detects nothing and fuses no Attention. Here the hidden size comes from the projection
    weight feeding the reshape and the heads from hidden_size / head_size.
    """
    producers = {output: node for node in model.graph.node for output in node.output}
    weights = {t.name: tuple(t.dims) for t in model.graph.initializer}
    constants = _ConstantReader(model, producers)
    found: Counter[tuple[int, int]] = Counter()
    for node in model.graph.node:
        if node.op_type != "Reshape" or len(node.input) < 2:
            continue
        heads_and_size = _reshape_heads(node.input[1], constants, producers)
        if heads_and_size is None:
            continue
        heads, head_size = heads_and_size
        hidden = _projection_width(node.input[0], producers, weights)
        if hidden is None or hidden % head_size:
            continue
        if heads <= 0:
            heads = hidden // head_size
        if heads * head_size == hidden:
            found[(heads, hidden)] += 1
    return found.most_common(1)[0][0] if found else None


class _ConstantReader:
    """Small constant values by tensor name, from Constant nodes or initializers."""

    def __init__(self, model: onnx.ModelProto, producers: dict[str, onnx.NodeProto]) -> None:
        self._initializers = {t.name: t for t in model.graph.initializer}
        self._producers = producers

    def value(self, name: str) -> np.ndarray | None:
        tensor = self._initializers.get(name)
        node = self._producers.get(name)
        if tensor is None and node is not None and node.op_type == "Constant":
            tensor = next((a.t for a in node.attribute if a.name == "value" and a.HasField("t")), None)
        if tensor is None or tensor.data_location == onnx.TensorProto.EXTERNAL or _elements(tensor) > 8:
            return None
        return numpy_helper.to_array(tensor)


def _reshape_heads(
    shape_name: str, constants: _ConstantReader, producers: dict[str, onnx.NodeProto]
) -> tuple[int, int] | None:
    """(heads or -1, head_size) of a reshape to [batch, seq, heads, head_size]."""
    value = constants.value(shape_name)
    if value is not None:
        flat = value.reshape(-1)
        if flat.size == 4 and flat[3] > 0:
            return int(flat[2]), int(flat[3])
        return None
    concat = producers.get(shape_name)
    if concat is None or concat.op_type != "Concat" or len(concat.input) != 4:
        return None
    heads, head_size = constants.value(concat.input[2]), constants.value(concat.input[3])
    if heads is None or head_size is None or heads.size != 1 or head_size.size != 1:
        return None
    if int(head_size.reshape(-1)[0]) <= 0:
        return None
    return int(heads.reshape(-1)[0]), int(head_size.reshape(-1)[0])


def _projection_width(
    name: str, producers: dict[str, onnx.NodeProto], weights: dict[str, tuple[int, ...]]
) -> int | None:
    """Output width of the MatMul (optionally followed by a bias Add) that produces ``name``."""
    node = producers.get(name)
    if node is not None and node.op_type == "Add":
        node = next(
            (producers[i] for i in node.input if i in producers and producers[i].op_type == "MatMul"),
            None,
        )
    if node is None or node.op_type != "MatMul":
        return None
    shape = next((weights[i] for i in node.input if i in weights and len(weights[i]) == 2), None)
    return int(shape[1]) if shape else None
