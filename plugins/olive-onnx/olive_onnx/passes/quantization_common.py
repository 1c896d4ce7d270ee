"""What the dynamic and static INT8 quantization passes share: options, refusals, ORT arguments."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from olive_core.bounds import STRICT_CONFIG
from olive_core.errors import ConfigError
from olive_core.models import ModelHandler
from olive_core.passes import PassConfig, PassContext, Searchable
from olive_onnx.passes.common import read_graph

QuantTypeName = Literal["QInt8", "QUInt8"]
#: how a node's sensitivity is measured (see olive_onnx/sensitivity.py and the README)
SensitivityMeasure = Literal["one_at_a_time", "qdq_loss", "activation_range"]


class ExcludeConfig(BaseModel):
    """Nodes kept in float, chosen by what they are rather than by their export names."""

    model_config = STRICT_CONFIG

    most_sensitive: int = Field(
        default=0,
        ge=0,
        le=10_000,
        description="keep in float the K quantizable nodes whose quantization hurts the outputs most, ranked by a "
        "sensitivity measured on the pass's 'data' (computed once per model and data, kept in the cache)",
    )
    measure: SensitivityMeasure = Field(
        default="one_at_a_time",
        description="how sensitivity is measured: 'one_at_a_time' (each node alone fake-quantized, the outputs' "
        "error; ranked best in our measurements), 'qdq_loss' (ORT's qdq_loss_debug: the local SQNR of each node's "
        "quantized input and weight), 'activation_range' (the node's input range over its RMS, no quantization)",
    )
    sensitivity_samples: int = Field(
        default=16, ge=1, le=4096, description="rows of the data the sensitivity ranking is measured on"
    )
    op_types: list[str] = Field(default_factory=list, description="keep every node of these op types in float")
    first_layers: int = Field(
        default=0,
        ge=0,
        le=10_000,
        description="keep in float the quantizable nodes of the first N levels of the graph: a level is the "
        "quantizable nodes with the same number of quantizable nodes before them on the longest path from the "
        "inputs (found from the graph's structure, so it survives the exporter's naming)",
    )
    last_layers: int = Field(
        default=0, ge=0, le=10_000, description="keep in float the quantizable nodes of the last N levels"
    )

    @property
    def active(self) -> bool:
        return bool(self.most_sensitive or self.op_types or self.first_layers or self.last_layers)


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
    exclude: ExcludeConfig = Field(
        default_factory=ExcludeConfig,
        description="nodes kept in float by sensitivity, op type or position: {most_sensitive: K, op_types: [...], "
        "first_layers: N, last_layers: N}; search K with passes.<step>.search.exclude: "
        "{choices: [{most_sensitive: 0}, {most_sensitive: 2}, ...], ordered: true}",
    )
    smooth_quant: Annotated[bool, Searchable()] = Field(
        default=False,
        description="SmoothQuant: move activation outliers into the weights (per input channel, s = max|X|^alpha / "
        "max|W|^(1-alpha)) before quantizing; folded into the preceding LayerNorm or MatMul when only MatMuls read "
        "it, else a Mul node; the float outputs stay the same. Needs 'data'",
    )
    smooth_quant_alpha: float = Field(
        default=0.5, ge=0.0, le=1.0, description="SmoothQuant's migration strength: 0 keeps activations, 1 flattens them"
    )
    data: str | None = Field(
        default=None,
        description="name of the workflow data config: calibration (static), and the sensitivity ranking "
        "(exclude.most_sensitive) and SmoothQuant's activation maxima (both passes)",
    )
    max_calibration_samples: int = Field(
        default=128, ge=1, le=1_000_000, description="calibrate (and collect SmoothQuant's maxima) on at most this many samples"
    )
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


def needs_data(config: QuantizationConfig) -> bool:
    """Whether the options read the pass's data besides calibration."""
    return config.exclude.most_sensitive > 0 or config.smooth_quant


def require_options_data(config: QuantizationConfig, context: PassContext, pass_name: str) -> None:
    """A ConfigError on 'data' before any work when an option needs data and none is named."""
    if needs_data(config) and config.data is None:
        what = "exclude.most_sensitive" if config.exclude.most_sensitive else "smooth_quant"
        raise ConfigError(
            f"{pass_name}: {what} measures the model on data, but no 'data' is named",
            path="data",
            hint="set 'data' to the name of an entry in the workflow's 'data' (the calibration samples suit it)",
        )
    if needs_data(config):
        context.require_data(config.data, pass_name)


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
