"""OnnxTransformersOptimization: ONNX Runtime's transformer fusions (Attention, LayerNorm, Gelu)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from olive_core.errors import ConfigError
from olive_core.models import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext

from olive_onnx.passes.common import derive_output, pass_failure, quiet_logger, read_graph

ModelKind = Literal[
    "bart", "bert", "bert_tf", "bert_keras", "clip", "conformer", "gpt2", "gpt2_tf", "gpt_neox",
    "phi", "qwen3", "sam2", "swin", "tnlr", "t5", "unet", "vae", "vit", "mmdit",
]  # fmt: skip

#: model type -> fused ops whose absence means the main fusion failed (any one is enough)
EXPECTED_FUSIONS: dict[str, tuple[str, ...]] = {
    "bert": ("Attention", "MultiHeadAttention"),
    "bert_tf": ("Attention", "MultiHeadAttention"),
    "bert_keras": ("Attention", "MultiHeadAttention"),
    "tnlr": ("Attention", "MultiHeadAttention"),
    "vit": ("Attention", "MultiHeadAttention"),
    "gpt2": ("Attention", "MultiHeadAttention"),
}


class OnnxTransformersOptimizationConfig(PassConfig):
    model_type: ModelKind = Field(
        default="bert", description="the architecture family, which selects the fusion patterns"
    )
    num_heads: int = Field(
        default=0, ge=0, le=4096, description="attention heads; 0 detects them from the graph (needed for Attention fusion)"
    )
    hidden_size: int = Field(default=0, ge=0, le=1_048_576, description="hidden size; 0 detects it from the graph")
    opt_level: Literal[0, 1, 2, 99] | None = Field(
        default=None,
        description="ORT graph optimization run before the fusions: 0 none, 1 basic, 2 extended, 99 all "
        "(levels above 1 are specific to the target hardware); None uses the model type's default",
    )
    use_gpu: bool = Field(default=False, description="optimize for a GPU target (level > 1 only)")
    float16: bool = Field(
        default=False,
        description="also convert the fused model to FP16, keeping FP32 inputs and outputs (for GPUs; CPUs gain "
        "nothing); OnnxFloat16 offers more control",
    )
    optimization_options: dict[str, bool | Annotated[int, Field(ge=0, le=2**31 - 1)]] = Field(
        default_factory=dict,
        description="fusion switches of onnxruntime.transformers FusionOptions, "
        "e.g. {'enable_gelu_approximation': true}",
    )


class OnnxTransformersOptimization(Pass):
    """Fuse a transformer's subgraphs into ONNX Runtime's fast ops (Attention, SkipLayerNormalization, BiasGelu).

    Fusion depends on how the model was exported: ORT recognizes attention in a TorchScript export
    of a model loaded with ``attn_implementation="eager"``. The pass reports the fused-op counts and
    warns when the fusion that matters most for the model type (Attention for BERT) did not happen.
    """

    Config = OnnxTransformersOptimizationConfig
    version = "1"
    input_types = ("onnx",)
    output_type = "onnx"

    def check_input(
        self, model: ModelHandler, config: OnnxTransformersOptimizationConfig, context: PassContext
    ) -> None:
        super().check_input(model, config, context)
        if config.float16:
            from olive_onnx.inspect import refuse_float16

            model_file, graph = read_graph(model)
            refuse_float16(
                graph, str(model_file), type(self).__name__, hint="set float16 to false: the model is FP16 already"
            )

    def run(
        self, model: ModelHandler, config: OnnxTransformersOptimizationConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        from onnxruntime.transformers import optimizer
        from onnxruntime.transformers.fusion_options import FusionOptions

        from olive_onnx.files import MODEL_FILE_NAME, needs_external_data, read_model_proto
        from olive_onnx.inspect import detect_attention_shape, fused_op_counts
        from olive_onnx.scratch import scratch_space, stage_input

        model_file, graph = read_graph(model)
        num_heads, hidden_size = config.num_heads, config.hidden_size
        if num_heads == 0 or hidden_size == 0:
            detected = detect_attention_shape(graph)
            if detected is not None:
                num_heads = num_heads or detected[0]
                hidden_size = hidden_size or detected[1]
                context.report["detected_attention_shape"] = {"num_heads": num_heads, "hidden_size": hidden_size}

        options = FusionOptions(config.model_type)
        for key, value in config.optimization_options.items():
            if not hasattr(options, key):
                known = ", ".join(sorted(k for k in vars(options) if not k.startswith("_")))
                raise ConfigError(
                    f"'{key}' is not an ONNX Runtime fusion option",
                    path=f"optimization_options.{key}",
                    hint=f"known: {known}",
                )
            setattr(options, key, value)

        external = needs_external_data(model_file)
        target = output_dir.resolve() / MODEL_FILE_NAME
        try:
            with scratch_space(output_dir) as scratch, quiet_logger("onnxruntime.transformers"):
                optimized = optimizer.optimize_model(
                    str(stage_input(model_file, scratch)),
                    model_type=config.model_type,
                    num_heads=num_heads,
                    hidden_size=hidden_size,
                    optimization_options=options,
                    opt_level=config.opt_level,
                    use_gpu=config.use_gpu,
                )
                if config.float16:
                    optimized.convert_float_to_float16(keep_io_types=True)
                optimized.save_model_to_file(str(target), use_external_data_format=external)
        except Exception as exc:
            raise pass_failure(
                type(self).__name__, exc, hint="check model_type against the model's architecture"
            ) from exc

        fused = fused_op_counts(read_model_proto(target))
        context.report["fused_ops"] = fused
        expected = EXPECTED_FUSIONS.get(config.model_type, ())
        if expected and not any(fused.get(op) for op in expected):
            context.warn(
                f"no {' or '.join(expected)} was fused for model_type '{config.model_type}'; ORT recognizes "
                "attention in TorchScript exports (torch.onnx.export(dynamo=False)) of models loaded with "
                "attn_implementation='eager'; set num_heads and hidden_size if they cannot be detected"
            )
        return derive_output(model, target, attributes={"fused_ops": fused})
