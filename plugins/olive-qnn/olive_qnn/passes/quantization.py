"""QnnQuantization: QDQ quantization the way QNN's HTP runs it, calibrated on a workflow data config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from olive_core.errors import ConfigError
from olive_core.models import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext, Searchable

_QUANT_TYPES = {"uint8": "QUInt8", "uint16": "QUInt16", "int16": "QInt16"}
#: the first HTP generation (v73) whose ops take 16-bit weights (older ones refuse MatMul, LayerNorm)
_INT16_WEIGHTS_ARCH = 73
#: ORT's notices on the root logger, once per model or per weight: reported instead of printed.
#: It upgrades the opset for 16-bit types, and quantizes per tensor a weight with no channel axis
#: (LayerNorm's 1-D scale) when per_channel is set.
_OPSET_NOTICE = "The original model opset version is"
_PER_TENSOR_NOTICE = "Axis "


class QnnQuantizationConfig(PassConfig):
    data: str | None = Field(default=None, description="name of the workflow data config whose batches calibrate")
    activation_type: Annotated[Literal["uint8", "uint16"], Searchable()] = Field(
        default="uint16",
        description="activations: uint16 keeps transformers accurate (MiniLM cosine 0.998 vs 0.85 with uint8); "
        "uint8 is faster and enough for many CNNs",
    )
    weight_type: Literal["uint8", "int16"] = Field(
        default="uint8",
        description="weights: int16 (with uint16 activations) is the most accurate and needs an HTP v73 or later "
        "(provider option htp_arch >= 73 or a soc_model)",
    )
    calibrate_method: Annotated[Literal["MinMax", "Entropy", "Percentile"], Searchable()] = Field(
        default="MinMax", description="how activation ranges are chosen from the calibration data"
    )
    per_channel: bool = Field(
        default=True, description="one scale per output channel of each weight (MiniLM: cosine 0.9985 vs 0.989)"
    )
    max_calibration_samples: int = Field(
        default=128, ge=1, le=1_000_000, description="calibrate on at most this many samples"
    )


class QnnQuantization(Pass):
    """Quantize a float model to QDQ for QNN's HTP with ONNX Runtime's QNN configuration.

    Activation ranges are calibrated on the CPU with a workflow data config. The QNN configuration
    adds the overrides the HTP needs (shared scales, 16-bit types through com.microsoft Q/DQ on
    opsets before 21). Reports the calibration samples and the quantized ops.
    """

    Config = QnnQuantizationConfig
    version = "1"
    input_types = ("onnx",)
    output_type = "onnx"
    input_constraints = (
        "a float32 ONNX model, not quantized yet",
        "static input shapes (QnnPreprocess fixes them)",
        "calibration data named by 'data'",
    )

    def check_input(self, model: ModelHandler, config: QnnQuantizationConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        from olive_onnx.api import read_graph, refuse_unquantizable

        from olive_qnn.graph import refuse_dynamic

        context.require_data(config.data, type(self).__name__)
        _check_int16_weights(config, context)
        refuse_unquantizable(model, type(self).__name__)
        model_file, graph = read_graph(model)
        refuse_dynamic(graph, str(model_file), type(self).__name__)

    def run(
        self, model: ModelHandler, config: QnnQuantizationConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        from onnxruntime.quantization import CalibrationMethod, QuantType, quantize
        from onnxruntime.quantization.execution_providers.qnn import get_qnn_qdq_config

        from olive_onnx.api import (
            MODEL_FILE_NAME,
            DataConfigReader,
            derive_output,
            graph_inputs,
            ort_advice_as_debug,
            pass_failure,
            read_graph,
            read_model_proto,
            report_quantized_ops,
            scratch_space,
            stage_input,
        )

        from olive_qnn.graph import QDQ_OPS
        from olive_qnn.logs import root_notices

        batches = context.require_data(config.data, type(self).__name__)()
        name = str(config.data)
        model_file, graph = read_graph(model)
        reader = DataConfigReader(batches, graph_inputs(graph), name, config.max_calibration_samples)
        reader.require_data()
        target = output_dir.resolve() / MODEL_FILE_NAME
        try:
            # ORT's calibrator writes augmented models beside its input and into the temp folder
            notices = root_notices(_OPSET_NOTICE, _PER_TENSOR_NOTICE)
            with scratch_space(output_dir) as scratch, ort_advice_as_debug(), notices as caught:
                source = stage_input(model_file, scratch)
                qnn_config = get_qnn_qdq_config(
                    str(source),
                    reader,
                    calibrate_method=getattr(CalibrationMethod, config.calibrate_method),
                    activation_type=getattr(QuantType, _QUANT_TYPES[config.activation_type]),
                    weight_type=getattr(QuantType, _QUANT_TYPES[config.weight_type]),
                    per_channel=config.per_channel,
                    # ranges are a property of the float model: measure them where every op runs
                    calibration_providers=["CPUExecutionProvider"],
                )
                quantize(str(source), str(target), qnn_config)
        except Exception as exc:
            raise pass_failure(type(self).__name__, exc, hint="check the calibration data against the model") from exc
        output = read_model_proto(target)
        context.report.update(
            {
                "calibration_samples": reader.samples,
                "activation_type": config.activation_type,
                "weight_type": config.weight_type,
                "quantized_ops": report_quantized_ops(output),
                # 16-bit types need opset 21, or com.microsoft Q/DQ before it
                "opset": {"input": _opset(graph), "output": _opset(output)},
                "qdq_domain": sorted({n.domain or "ai.onnx" for n in output.graph.node if n.op_type in QDQ_OPS}),
                "per_tensor_weights": sum(notice.startswith(_PER_TENSOR_NOTICE) for notice in caught),
            }
        )
        return derive_output(model, target)


def _opset(model: Any) -> int:
    return next((entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")), 0)


def _check_int16_weights(config: QnnQuantizationConfig, context: PassContext) -> None:
    """Measured: on the default HTP (v68) 16-bit weights fail validation for MatMul and LayerNorm."""
    options: dict[str, Any] = context.accelerator.options()
    if config.weight_type != "int16" or context.accelerator.execution_provider != "QNNExecutionProvider":
        return
    if options.get("soc_model"):
        return
    arch = str(options.get("htp_arch", ""))
    if not arch.isdigit() or int(arch) < _INT16_WEIGHTS_ARCH:
        raise ConfigError(
            f"int16 weights need an HTP v{_INT16_WEIGHTS_ARCH} or later, but the accelerator's htp_arch is "
            f"{arch or 'not set (v68 by default)'}",
            path="weight_type",
            hint=f"set accelerators[].provider_options.htp_arch to '{_INT16_WEIGHTS_ARCH}' or later (or a soc_model), "
            "or use weight_type 'uint8'",
        )
