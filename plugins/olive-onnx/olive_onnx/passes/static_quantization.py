"""OnnxStaticQuantization: INT8 weights and activations, activation ranges calibrated on data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from olive_core.models import ModelHandler
from olive_core.passes import Pass, PassContext, Searchable
from olive_onnx.passes.common import derive_output, ort_advice_as_debug, pass_failure, read_graph
from olive_onnx.passes.quantization_common import (
    QuantizationConfig,
    common_arguments,
    quant_type,
    refuse_unquantizable,
    report_quantized_ops,
)

if TYPE_CHECKING:
    import onnx

#: ORT calibration messages -> what to do about them
_HINTS = {
    "Too many bins": "a calibrated tensor has (almost) no range, e.g. an attention-mask constant; quantize fewer "
    "op types (op_types_to_quantize: ['MatMul']) or use calibrate_method 'MinMax'",
    "Histogram has not been collected": "no tensor could be calibrated; set op_types_to_quantize to ops the graph has",
}


class OnnxStaticQuantizationConfig(QuantizationConfig):
    """Options of ORT's ``quantize_static`` and of the calibration."""

    quant_format: Annotated[Literal["QDQ", "QOperator"], Searchable()] = Field(
        default="QDQ",
        description="QDQ: QuantizeLinear/DequantizeLinear around float ops (portable, what EPs expect); "
        "QOperator: integer ops such as QLinearMatMul",
    )
    calibrate_method: Annotated[Literal["MinMax", "Entropy", "Percentile"], Searchable()] = Field(
        default="MinMax", description="how activation ranges are chosen from the calibration data"
    )
    activation_type: Literal["QInt8", "QUInt8"] = Field(default="QInt8", description="integer type of activations")
    activation_symmetric: Annotated[bool, Searchable()] = Field(
        default=False,
        description="activation ranges symmetric around 0 (zero point 0); asymmetric uses the whole 8 bits on "
        "one-sided ranges",
    )
    percentile: float = Field(
        default=99.999, gt=90.0, le=100.0, description="calibrate_method 'Percentile': the percentile of |x| kept"
    )
    calibration_chunk: int = Field(
        default=8,
        ge=1,
        le=100_000,
        description="batches the calibrator holds at once: ranges (MinMax) and histograms (Entropy, Percentile) "
        "are merged chunk by chunk, so memory is bounded by one chunk's inner tensors",
    )


class OnnxStaticQuantization(Pass):
    """Quantize weights and activations to INT8, with activation ranges calibrated on a data config.

    Graphs with ORT-fused ops get symbolic shape inference first, so that the quantizer knows the
    types of the fused ops' outputs. It refuses a model that is already quantized or FP16.
    """

    Config = OnnxStaticQuantizationConfig
    version = "2"
    input_types = ("onnx",)
    output_type = "onnx"

    def check_input(self, model: ModelHandler, config: OnnxStaticQuantizationConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        context.require_data(config.data, type(self).__name__)
        refuse_unquantizable(model, type(self).__name__)

    def run(
        self, model: ModelHandler, config: OnnxStaticQuantizationConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        import onnx
        from onnxruntime.quantization import QuantFormat, quantize_static

        from olive_onnx.calibration import DataConfigReader, calibrate_streaming
        from olive_onnx.files import MODEL_FILE_NAME, needs_external_data, read_model_proto
        from olive_onnx.inspect import graph_inputs
        from olive_onnx.passes.quantization_prep import prepare
        from olive_onnx.scratch import scratch_space, stage_input

        name = type(self).__name__
        model_file, graph = read_graph(model)
        batches = context.require_data(config.data, name)()
        reader = DataConfigReader(batches, graph_inputs(graph), str(config.data), config.max_calibration_samples)
        reader.require_data()
        target = output_dir.resolve() / MODEL_FILE_NAME
        external = needs_external_data(model_file)
        extra = {"DefaultTensorType": onnx.TensorProto.FLOAT, "ActivationSymmetric": config.activation_symmetric}
        calibration_options = {"symmetric": config.activation_symmetric}
        if config.calibrate_method == "Percentile":
            calibration_options["percentile"] = config.percentile
        try:
            # ORT's quantizer and calibrator write '<input>-inferred.onnx' beside their input
            with scratch_space(output_dir) as scratch, ort_advice_as_debug():
                source = _with_shapes(stage_input(model_file, scratch), graph, scratch, external)
                prepared = prepare(model, source, config, context, scratch, name, static=True)
                config = config.model_copy(update={"nodes_to_exclude": prepared.nodes_to_exclude})
                arguments = common_arguments(config, extra)
                ranges = calibrate_streaming(
                    prepared.model_file,
                    reader,
                    config.calibrate_method,
                    config.op_types_to_quantize,
                    config.calibration_chunk,
                    calibration_options,
                    scratch / "calibration.json",
                )
                quantize_static(
                    str(prepared.model_file),
                    str(target),
                    None,
                    quant_format=getattr(QuantFormat, config.quant_format),
                    activation_type=quant_type(config.activation_type),
                    calibrate_method=_method(config.calibrate_method),
                    calibration_cache_path=str(ranges),
                    use_external_data_format=external,
                    **arguments,
                )
        except Exception as exc:
            hint = next(
                (h for key, h in _HINTS.items() if key in str(exc)),
                "check the calibration data and op_types_to_quantize",
            )
            raise pass_failure(name, exc, hint=hint) from exc
        context.report["calibration_samples"] = reader.samples
        quantized = report_quantized_ops(read_model_proto(target))
        context.report["quantized_ops"] = quantized
        if not quantized:
            context.warn("no op was quantized; check op_types_to_quantize and nodes_to_include against the graph")
        return derive_output(model, target)


def _method(name: str) -> Any:
    from onnxruntime.quantization import CalibrationMethod

    return getattr(CalibrationMethod, name)


def _with_shapes(model_file: Path, graph: onnx.ModelProto, scratch: Path, external: bool) -> Path:
    """The model itself, or for a graph with ORT contrib ops a copy with symbolic shapes inferred."""
    if not any(node.domain == "com.microsoft" for node in graph.graph.node):
        return model_file
    from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

    from olive_onnx.files import load_model, save_model

    inferred = SymbolicShapeInference.infer_shapes(load_model(model_file), auto_merge=True)
    return save_model(inferred, scratch / "inferred", external_data=external)
