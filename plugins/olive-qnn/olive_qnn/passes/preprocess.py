"""QnnPreprocess: fixed input shapes, then ONNX Runtime's preprocessing for QNN (Erf -> Gelu, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from olive_core.models import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext

#: a size given to a dynamic dim
DimSize = Annotated[int, Field(ge=1, le=2**24)]


class QnnPreprocessConfig(PassConfig):
    dim_values: dict[str, DimSize] = Field(
        default_factory=dict,
        description="size of each symbolic input dim by name, e.g. {'batch_size': 1, 'sequence_length': 128}; "
        "fixed wherever the name appears in the graph",
    )
    input_shapes: dict[str, list[DimSize]] = Field(
        default_factory=dict,
        description="the whole shape of an input by name, e.g. {'x': [1, 3, 224, 224]}; also sizes unnamed dims",
    )
    fuse_layernorm: bool = Field(
        default=False, description="also fuse ReduceMean sequences into LayerNormalization (opset 17 or later)"
    )


class QnnPreprocess(Pass):
    """Fix every dynamic input dim to a size, then run ONNX Runtime's preprocessing for QNN.

    QNN compiles fixed shapes only: with a dynamic dim left, every node fails its validation. The
    preprocessing fuses patterns QNN refuses as written (Erf sequences into Gelu, ReduceL2 into
    LpNormalization). Reports the dims it fixed and the op counts that changed.
    """

    Config = QnnPreprocessConfig
    version = "1"
    input_types = ("onnx",)
    output_type = "onnx"
    input_constraints = (
        "an ONNX model",
        "every dynamic input dim gets a size from dim_values or input_shapes",
    )

    def check_input(self, model: ModelHandler, config: QnnPreprocessConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        from olive_onnx.api import read_graph

        from olive_qnn.shapes import plan_shapes

        plan_shapes(read_graph(model)[1], config.dim_values, config.input_shapes)

    def run(
        self, model: ModelHandler, config: QnnPreprocessConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        from onnxruntime.quantization.execution_providers.qnn import qnn_preprocess_model

        from olive_onnx.api import (
            MODEL_FILE_NAME,
            derive_output,
            load_model,
            needs_external_data,
            op_counts,
            pass_failure,
            read_graph,
            read_model_proto,
            save_model,
            scratch_space,
        )

        from olive_qnn.logs import root_notices
        from olive_qnn.renaming import rename_added_initializers
        from olive_qnn.shapes import apply_plan, plan_shapes

        model_file, graph = read_graph(model)
        plan = plan_shapes(graph, config.dim_values, config.input_shapes)
        target = output_dir.resolve() / MODEL_FILE_NAME
        external = needs_external_data(model_file)
        try:
            proto = load_model(model_file)
            still_dynamic = apply_plan(proto, plan)
            # ORT's tools write temporary models into the temp folder and log a warning per node
            # they name: both stay inside this step
            with scratch_space(output_dir) as scratch, root_notices("Node of type") as renamed:
                fixed = save_model(proto, scratch / "fixed", external_data=external)
                del proto
                changed = qnn_preprocess_model(
                    str(fixed),
                    str(target),
                    fuse_layernorm=config.fuse_layernorm,
                    save_as_external_data=external,
                    all_tensors_to_one_file=True,
                    external_data_location=f"{MODEL_FILE_NAME}.data",
                )
                if not changed:  # it writes only what it changed: the fixed model is the output
                    for file in fixed.parent.iterdir():
                        file.rename(output_dir.resolve() / file.name)
            known = {tensor.name for tensor in graph.graph.initializer}
            renamed_initializers = rename_added_initializers(target, known, external) if changed else 0
        except Exception as exc:
            raise pass_failure(type(self).__name__, exc, hint="check the sizes given against the model") from exc
        before, after = op_counts(graph), op_counts(read_model_proto(target))
        context.report.update(
            {
                "fixed_dims": dict(plan.by_name),
                "fixed_inputs": dict(plan.by_input),
                "preprocessed": bool(changed),
                "ops_changed": {
                    op: after[op] - before[op] for op in sorted(set(before) | set(after)) if after[op] != before[op]
                },
                "nodes_named": len(renamed),
                "initializers_renamed": renamed_initializers,
            }
        )
        if still_dynamic:
            context.warn(f"output(s) {', '.join(still_dynamic)} keep a dynamic dim after shape inference")
        if plan.empty() and not changed:
            context.warn("nothing to do: the inputs are static and the preprocessing changed nothing")
        return derive_output(model, target)
