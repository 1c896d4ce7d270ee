"""OnnxFloat16: FP32 weights and ops to FP16, for GPUs and NPUs with fast half precision."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from olive_core.models import ModelHandler
from olive_core.models.io_config import IoConfig
from olive_core.passes import Pass, PassConfig, PassContext

from olive_onnx.passes.common import derive_output, pass_failure, read_graph


class OnnxFloat16Config(PassConfig):
    keep_io_types: bool = Field(
        default=True,
        description="keep FP32 graph inputs and outputs (Cast nodes at the edges), so callers need no change",
    )
    op_block_list: list[str] | None = Field(
        default=None, description="op types kept in FP32; None uses ONNX Runtime's default list of unsafe ops"
    )
    node_block_list: list[str] = Field(default_factory=list, description="nodes (by name) kept in FP32")
    force_fp16_initializers: bool = Field(
        default=False, description="convert initializers to FP16 even when only FP32 ops use them"
    )


class OnnxFloat16(Pass):
    """Convert a model to FP16 with ONNX Runtime's converter; halves the size, speeds up GPUs.

    CPUs gain little from FP16. The pass refuses a model whose weights are FP16 already.
    """

    Config = OnnxFloat16Config
    version = "1"
    input_types = ("onnx",)
    output_type = "onnx"

    def check_input(self, model: ModelHandler, config: OnnxFloat16Config, context: PassContext) -> None:
        from olive_onnx.inspect import refuse_float16

        super().check_input(model, config, context)
        model_file, graph = read_graph(model)
        refuse_float16(graph, str(model_file), type(self).__name__, hint="drop this pass: the model is FP16 already")

    def run(
        self, model: ModelHandler, config: OnnxFloat16Config, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        from onnxruntime.transformers.float16 import convert_float_to_float16

        from olive_onnx.files import load_model, needs_external_data, save_model
        from olive_onnx.inspect import float_precision
        from olive_onnx.scratch import scratch_space

        model_file, _ = read_graph(model)
        external = needs_external_data(model_file)
        try:
            with scratch_space(output_dir):  # whatever ORT's converter writes stays in the step's folder
                converted = convert_float_to_float16(
                    load_model(model_file),
                    keep_io_types=config.keep_io_types,
                    op_block_list=config.op_block_list,
                    node_block_list=config.node_block_list or None,
                    force_fp16_initializers=config.force_fp16_initializers,
                    # onnx shape inference cannot take models over 2 GB in memory
                    disable_shape_infer=external,
                )
        except Exception as exc:
            raise pass_failure(
                type(self).__name__, exc, hint="keep the failing op types in FP32 with op_block_list"
            ) from exc
        target = save_model(converted, output_dir.resolve(), external_data=external)
        context.report["precision"] = float_precision(converted)
        changes = {}
        if not config.keep_io_types and model.io_config is not None:
            changes["io_config"] = _half_io(model.io_config)
        return derive_output(model, target, **changes)


def _half_io(io_config: IoConfig) -> IoConfig:
    """The io_config of a model whose FP32 inputs became FP16."""
    if io_config.input_types is None:
        return io_config
    types = ["float16" if t in ("float32", "float") else t for t in io_config.input_types]
    return io_config.model_copy(update={"input_types": types})
