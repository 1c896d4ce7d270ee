"""Components that well-known plugins provide, so an unknown name can say what to install.

This is a hint table only: nothing is registered from here, and a plugin missing from it works
exactly as well. It lists every component of :data:`HINTED_KINDS` that the plugins of this
repository register (``tests/test_docs.py`` checks both ways), and the commands they add, so
that ``olive optimize`` without olive-onnx says what to install. Recipes are left out: nobody
names one.
"""

from __future__ import annotations

#: the kinds of component a workflow or a command line names, for which an unknown name gets an install hint
HINTED_KINDS = (
    "command",
    "pass",
    "model_type",
    "accelerator",
    "execution_provider",
    "metric",
    "data_component",
    "search_strategy",
    "cache_backend",
    "tracker",
    "executor",
)

KNOWN_PLUGINS: dict[str, dict[str, tuple[str, ...]]] = {
    "olive-torch": {
        "model_type": ("hf", "pytorch"),
        "data_component": ("hf_tokenize",),
    },
    "olive-onnx": {
        "command": ("optimize", "quantize", "convert"),
        "model_type": ("onnx",),
        "pass": (
            "OnnxConversion",
            "OnnxTransformersOptimization",
            "OnnxDynamicQuantization",
            "OnnxStaticQuantization",
            "OnnxFloat16",
            "OnnxInt4WeightOnly",
            "OnnxGraphOptimization",
            "OnnxSessionTuning",
        ),
        "accelerator": ("gpu", "npu"),
        "execution_provider": (
            "CUDAExecutionProvider",
            "TensorrtExecutionProvider",
            "ROCMExecutionProvider",
            "MIGraphXExecutionProvider",
            "DmlExecutionProvider",
            "OpenVINOExecutionProvider",
            "VitisAIExecutionProvider",
        ),
    },
    "olive-torch-quant": {
        "pass": ("TorchAOQuantization", "MagnitudePruning", "NMSparsity", "StructuredPruning", "LoRAFinetuning", "MergeLoRA"),
    },
    "olive-diffusion": {
        "model_type": ("diffusers", "onnx_diffusion"),
        "pass": ("DiffusionMergeLoRA", "DiffusionOnnxConversion", "DiffusionComponentPass"),
        "metric": ("pipeline_latency", "image_similarity"),
        "data_component": ("diffusion_prompts",),
    },
    "olive-azure-cache": {
        "cache_backend": ("azure",),
    },
    "olive-dask": {
        "executor": ("dask",),
    },
    "olive-mlflow": {
        "tracker": ("mlflow",),
    },
    "olive-qnn": {
        "execution_provider": ("QNNExecutionProvider",),
        "pass": ("QnnPreprocess", "QnnQuantization", "QnnContextBinary"),
        "metric": ("npu_coverage",),
    },
    "olive-genai": {
        "model_type": ("genai",),
        "pass": ("GenAIModelBuilder", "GenAIKVCacheExport", "GenAIWeightOnlyQuantization"),
        "metric": ("perplexity", "token_agreement", "generation_latency"),
        "data_component": ("text_blocks", "prompts"),
    },
}


def plugin_providing(kind: str, name: str) -> str | None:
    """Return the distribution known to provide ``name`` of ``kind``, if any (case-insensitive)."""
    for distribution, kinds in KNOWN_PLUGINS.items():
        if name.lower() in (known.lower() for known in kinds.get(kind, ())):
            return distribution
    return None
