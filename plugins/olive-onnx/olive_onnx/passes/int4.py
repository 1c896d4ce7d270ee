"""OnnxInt4WeightOnly: MatMul weights to 4 bits in blocks (MatMulNBits), activations stay float."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from olive_core.models import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext, Searchable

from olive_onnx.passes.common import derive_output, pass_failure, quiet_logger, read_graph


class OnnxInt4WeightOnlyConfig(PassConfig):
    block_size: Annotated[Literal[32, 64, 128], Searchable()] = Field(
        default=128, description="weights per quantization block along K; smaller blocks keep accuracy, cost size"
    )
    symmetric: Annotated[bool, Searchable()] = Field(
        default=True, description="symmetric blocks (no zero point); asymmetric can fit skewed weights better"
    )
    accuracy_level: Literal[0, 1, 2, 3, 4] | None = Field(
        default=None,
        description="minimum precision of MatMulNBits' activations on CPU: 1 fp32, 2 fp16, 3 bf16, 4 int8 "
        "(fastest); None or 0 leaves ORT's default",
    )
    nodes_to_exclude: list[str] = Field(default_factory=list, description="MatMul nodes (by name) kept in float")


class OnnxInt4WeightOnly(Pass):
    """Quantize the weights of MatMuls with constant weights to INT4 blocks (RTN), as MatMulNBits ops.

    The usual way to shrink LLMs for CPU and GPU inference. It refuses a model that is quantized
    already.
    """

    Config = OnnxInt4WeightOnlyConfig
    version = "1"
    input_types = ("onnx",)
    output_type = "onnx"

    def check_input(self, model: ModelHandler, config: OnnxInt4WeightOnlyConfig, context: PassContext) -> None:
        from olive_onnx.inspect import refuse_quantized

        super().check_input(model, config, context)
        model_file, graph = read_graph(model)
        refuse_quantized(graph, str(model_file), type(self).__name__)

    def run(
        self, model: ModelHandler, config: OnnxInt4WeightOnlyConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

        from olive_onnx.files import load_model, needs_external_data, save_model
        from olive_onnx.inspect import op_counts
        from olive_onnx.scratch import scratch_space

        model_file, _ = read_graph(model)
        external = needs_external_data(model_file)
        algorithm = DefaultWeightOnlyQuantConfig(
            block_size=config.block_size, is_symmetric=config.symmetric, accuracy_level=config.accuracy_level
        )
        try:
            # the quantizer logs one INFO line per node; whatever it writes stays in the step's folder
            quiet = quiet_logger("onnxruntime.quantization.matmul_nbits_quantizer", "onnxruntime.quantization")
            with scratch_space(output_dir), quiet:
                quantizer = MatMulNBitsQuantizer(
                    load_model(model_file), nodes_to_exclude=config.nodes_to_exclude, algo_config=algorithm
                )
                quantizer.process()
        except Exception as exc:
            raise pass_failure(
                type(self).__name__, exc, hint="exclude the failing MatMul with nodes_to_exclude"
            ) from exc
        quantized = quantizer.model.model
        target = save_model(quantized, output_dir.resolve(), external_data=external)
        count = op_counts(quantized)["MatMulNBits"]
        context.report["MatMulNBits"] = count
        if count == 0:
            context.warn("no MatMul was quantized: INT4 weight-only needs MatMuls whose weight is a 2-D initializer")
        return derive_output(model, target)
