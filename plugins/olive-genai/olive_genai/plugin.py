"""The entry point olive-core loads: registers components by import path, imports nothing heavy."""

from __future__ import annotations

from olive_core import hookimpl
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


@hookimpl
def register_model_types(register: Registrar) -> None:
    register("genai", "olive_genai.model:GenAIModelType")


@hookimpl
def register_passes(register: Registrar) -> None:
    register("GenAIModelBuilder", "olive_genai.passes.builder:GenAIModelBuilder")
    register("GenAIKVCacheExport", "olive_genai.passes.kv_export:GenAIKVCacheExport")
    register("GenAIWeightOnlyQuantization", "olive_genai.passes.weight_only:GenAIWeightOnlyQuantization")


@hookimpl
def register_metrics(register: Registrar) -> None:
    register("perplexity", "olive_genai.metrics.perplexity:PerplexityMetric")
    register("token_agreement", "olive_genai.metrics.agreement:TokenAgreementMetric")
    register("generation_latency", "olive_genai.metrics.generation_latency:GenerationLatencyMetric")


@hookimpl
def register_data_components(register: Registrar) -> None:
    register("text_blocks", "olive_genai.data:TextBlocks")
    register("prompts", "olive_genai.data:Prompts")


@hookimpl
def register_recipes(register: Registrar) -> None:
    register("genai-language-models", "olive_genai.recipe:LanguageModelRecipe")
