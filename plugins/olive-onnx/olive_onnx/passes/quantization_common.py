"""What the dynamic and static INT8 quantization passes share: options, refusals, ORT arguments."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from olive_core.errors import ConfigError
from olive_core.models import ModelHandler
from olive_core.passes import PassConfig, Searchable

from olive_onnx.passes.common import read_graph

QuantTypeName = Literal["QInt8", "QUInt8"]


class QuantizationConfig(PassConfig):
    """Options common to ORT's dynamic and static quantizers."""

    per_channel: Annotated[bool, Searchable()] = Field(
        default=True,
        description="one scale per output channel of each weight; keeps accuracy of transformer models "
        "(measured: cosine 0.989 vs 0.952 per-tensor on MiniLM)",
    )
    reduce_range: Annotated[bool, Searchable()] = Field(
        default=False,
        description="quantize weights to 7 bits; helps on CPUs without VNNI, not needed on those with it",
    )
    weight_type: QuantTypeName = Field(default="QInt8", description="integer type of the weights")
    op_types_to_quantize: list[str] | None = Field(
        default=None, description="op types to quantize, e.g. ['MatMul']; None quantizes every op type ORT supports"
    )
    nodes_to_include: list[str] | None = Field(
        default=None, description="quantize only these nodes (by name); None means all nodes of the op types"
    )
    nodes_to_exclude: list[str] = Field(default_factory=list, description="never quantize these nodes (by name)")
    extra_options: dict[str, Any] = Field(
        default_factory=dict,
        description="ORT quantizer extra_options, e.g. {'MatMulConstBOnly': true}; see onnxruntime.quantization",
    )


def refuse_unquantizable(model: ModelHandler, pass_name: str) -> None:
    """An already-quantized or FP16 model cannot be quantized to INT8 by ORT's tools."""
    from olive_onnx.inspect import refuse_float16, refuse_quantized

    model_file, graph = read_graph(model)
    refuse_quantized(graph, str(model_file), pass_name)
    refuse_float16(
        graph,
        str(model_file),
        pass_name,
        hint="quantize the FP32 model, and convert to FP16 (OnnxFloat16) only models that stay unquantized",
    )


def quant_type(name: str) -> Any:
    from onnxruntime.quantization import QuantType

    return getattr(QuantType, name)


def common_arguments(config: QuantizationConfig, default_extra: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments both ``quantize_dynamic`` and ``quantize_static`` accept."""
    both = set(config.nodes_to_include or ()) & set(config.nodes_to_exclude)
    if both:
        raise ConfigError(
            f"nodes both included and excluded: {', '.join(sorted(both))}",
            path="nodes_to_exclude",
            hint="list each node in one of nodes_to_include and nodes_to_exclude only",
        )
    return {
        "op_types_to_quantize": config.op_types_to_quantize,
        "per_channel": config.per_channel,
        "reduce_range": config.reduce_range,
        "weight_type": quant_type(config.weight_type),
        "nodes_to_quantize": config.nodes_to_include,
        "nodes_to_exclude": config.nodes_to_exclude or None,
        "extra_options": {**default_extra, **config.extra_options},
    }


def report_quantized_ops(graph: Any) -> dict[str, int]:
    """Counts of the quantized ops in the output, for the lineage and for tests."""
    from olive_onnx.inspect import QUANTIZED_OPS, op_counts

    counts = op_counts(graph)
    return {op: counts[op] for op in sorted(QUANTIZED_OPS) if counts[op]}
