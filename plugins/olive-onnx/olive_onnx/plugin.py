"""The entry point olive-core loads: registers components by import path, imports nothing heavy."""

from __future__ import annotations

import olive_core
from olive_core.registry import Registrar

olive_plugin_api = "1.0"

_PASSES = {
    "OnnxConversion": "olive_onnx.passes.conversion:OnnxConversion",
    "OnnxTransformersOptimization": "olive_onnx.passes.transformers_optimization:OnnxTransformersOptimization",
    "OnnxDynamicQuantization": "olive_onnx.passes.dynamic_quantization:OnnxDynamicQuantization",
    "OnnxStaticQuantization": "olive_onnx.passes.static_quantization:OnnxStaticQuantization",
    "OnnxFloat16": "olive_onnx.passes.float16:OnnxFloat16",
    "OnnxInt4WeightOnly": "olive_onnx.passes.int4:OnnxInt4WeightOnly",
    "OnnxGraphOptimization": "olive_onnx.passes.graph_optimization:OnnxGraphOptimization",
    "OnnxSessionTuning": "olive_onnx.passes.session_tuning:OnnxSessionTuning",
}


@olive_core.hookimpl
def register_passes(register: Registrar) -> None:
    for name, target in _PASSES.items():
        register(name, target)


@olive_core.hookimpl
def register_model_types(register: Registrar) -> None:
    register("onnx", "olive_onnx.model:OnnxModelType")


@olive_core.hookimpl
def register_accelerators(register: Registrar) -> None:
    register("gpu", "olive_onnx.accelerators:GPU")
    register("npu", "olive_onnx.accelerators:NPU")


@olive_core.hookimpl
def register_execution_providers(register: Registrar) -> None:
    from olive_onnx.accelerators import BUILT_IN_PROVIDERS

    for provider in BUILT_IN_PROVIDERS:
        register(provider.name, provider)


@olive_core.hookimpl
def register_commands(register: Registrar) -> None:
    for name in ("optimize", "quantize", "convert"):
        register(name, f"olive_onnx.cli:{name}")


@olive_core.hookimpl
def register_recipes(register: Registrar) -> None:
    register("onnx", "olive_onnx.recipes:OnnxRecipe")
