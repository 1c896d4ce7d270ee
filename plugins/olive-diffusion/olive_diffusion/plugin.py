"""The entry point olive-core loads: registers components by import path, imports nothing heavy."""

from __future__ import annotations

from olive_core import hookimpl
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


@hookimpl
def register_model_types(register: Registrar) -> None:
    register("diffusers", "olive_diffusion.diffusers_model:DiffusersModelType")
    register("onnx_diffusion", "olive_diffusion.onnx_model:OnnxDiffusionModelType")


@hookimpl
def register_passes(register: Registrar) -> None:
    register("DiffusionMergeLoRA", "olive_diffusion.passes.merge_lora:DiffusionMergeLoRA")
    register("DiffusionOnnxConversion", "olive_diffusion.passes.conversion:DiffusionOnnxConversion")
    register("DiffusionComponentPass", "olive_diffusion.passes.component_pass:DiffusionComponentPass")


@hookimpl
def register_metrics(register: Registrar) -> None:
    register("pipeline_latency", "olive_diffusion.metrics.latency:PipelineLatencyMetric")
    register("image_similarity", "olive_diffusion.metrics.image_similarity:ImageSimilarityMetric")


@hookimpl
def register_data_components(register: Registrar) -> None:
    register("diffusion_prompts", "olive_diffusion.data:DiffusionPrompts")
