"""OnnxDynamicQuantization: INT8 weights, activations quantized on the fly (MatMulInteger, QAttention)."""

from __future__ import annotations

from pathlib import Path

from olive_core.models import ModelHandler
from olive_core.passes import Pass, PassContext
from olive_onnx.passes.common import derive_output, ort_advice_as_debug, pass_failure
from olive_onnx.passes.quantization_common import (
    QuantizationConfig,
    common_arguments,
    refuse_unquantizable,
    report_quantized_ops,
    require_options_data,
)


class OnnxDynamicQuantizationConfig(QuantizationConfig):
    """Options of ORT's ``quantize_dynamic``."""


class OnnxDynamicQuantization(Pass):
    """Quantize weights to INT8 ahead of time and activations at run time; needs no calibration data.

    Works on plain and on ORT-fused graphs (a fused BERT gets QAttention). It refuses a model that
    is already quantized or FP16.
    """

    Config = OnnxDynamicQuantizationConfig
    version = "2"
    input_types = ("onnx",)
    output_type = "onnx"

    def check_input(self, model: ModelHandler, config: OnnxDynamicQuantizationConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        require_options_data(config, context, type(self).__name__)
        refuse_unquantizable(model, type(self).__name__)

    def run(
        self, model: ModelHandler, config: OnnxDynamicQuantizationConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        import onnx
        from onnxruntime.quantization import quantize_dynamic

        from olive_onnx.files import MODEL_FILE_NAME, needs_external_data, read_model_proto
        from olive_onnx.passes.common import read_graph
        from olive_onnx.passes.quantization_prep import prepare
        from olive_onnx.scratch import scratch_space, stage_input

        name = type(self).__name__
        model_file, _ = read_graph(model)
        target = output_dir.resolve() / MODEL_FILE_NAME
        try:
            # ORT writes '<input>-inferred.onnx' beside its input: give it a staged one
            with scratch_space(output_dir) as scratch, ort_advice_as_debug():
                prepared = prepare(model, stage_input(model_file, scratch), config, context, scratch, name, static=False)
                config = config.model_copy(update={"nodes_to_exclude": prepared.nodes_to_exclude})
                # Shape inference cannot type the outputs of ORT's fused ops (Attention, SkipLayerNorm...);
                # without a default type the quantizer fails on a fused graph.
                arguments = common_arguments(config, {"DefaultTensorType": onnx.TensorProto.FLOAT})
                quantize_dynamic(
                    str(prepared.model_file),
                    str(target),
                    use_external_data_format=needs_external_data(model_file),
                    **arguments,
                )
        except Exception as exc:
            raise pass_failure(
                name,
                exc,
                hint="restrict op_types_to_quantize (e.g. ['MatMul']) or exclude the failing nodes",
            ) from exc
        quantized = report_quantized_ops(read_model_proto(target))
        context.report["quantized_ops"] = quantized
        if not quantized:
            context.warn("no op was quantized; check op_types_to_quantize and nodes_to_include against the graph")
        return derive_output(model, target)
