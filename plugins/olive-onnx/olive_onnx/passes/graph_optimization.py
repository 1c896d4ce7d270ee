"""OnnxGraphOptimization: ORT's load-time graph optimizations, applied once and saved."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from olive_core.models import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext, Searchable

from olive_onnx.passes.common import derive_output, read_graph


class OnnxGraphOptimizationConfig(PassConfig):
    level: Annotated[Literal["basic", "extended", "all"], Searchable()] = Field(
        default="extended",
        description="basic: constant folding, redundant node removal (portable); extended: op fusions for "
        "the target execution provider; all: adds layout changes specific to this machine's hardware "
        "and provider, so the saved model may not run, or not run well, elsewhere",
    )
    disabled_optimizers: list[str] = Field(
        default_factory=list, description="ORT optimizers to skip by name, e.g. ['MatMulAddFusion']"
    )


class OnnxGraphOptimization(Pass):
    """Apply ONNX Runtime's graph optimizations offline and save the result, so sessions load faster.

    The optimizations are those of the accelerator's execution provider; load the saved model with
    the same provider.
    """

    Config = OnnxGraphOptimizationConfig
    version = "1"
    input_types = ("onnx",)
    output_type = "onnx"

    def run(
        self, model: ModelHandler, config: OnnxGraphOptimizationConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        import onnxruntime

        from olive_onnx.files import MODEL_FILE_NAME, needs_external_data, read_model_proto
        from olive_onnx.inspect import op_counts
        from olive_onnx.runtime import open_session
        from olive_onnx.scratch import scratch_space
        from olive_onnx.settings import SessionSettings, optimization_level

        model_file, graph = read_graph(model)
        target = output_dir.resolve() / MODEL_FILE_NAME
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = optimization_level(config.level)
        options.optimized_model_filepath = str(target)
        if needs_external_data(model_file):
            options.add_session_config_entry(
                "session.optimized_model_external_initializers_file_name", f"{MODEL_FILE_NAME}.data"
            )
            options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
        # Creating the session writes the optimized model; open_session names any failure.
        with scratch_space(output_dir):
            session = open_session(
                model_file, context.accelerator, SessionSettings(), options=options, disabled_optimizers=config.disabled_optimizers
            )
        provider = session.get_providers()[0]
        before, after = sum(op_counts(graph).values()), sum(op_counts(read_model_proto(target)).values())
        context.report["nodes"] = {"before": before, "after": after}
        context.report["execution_provider"] = provider
        return derive_output(model, target)
