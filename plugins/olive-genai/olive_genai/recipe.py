"""The recipe `olive optimize`, `olive quantize` and `olive convert` use for decoder language models.

A Hugging Face causal LM is not an encoder to export and fuse: it generates token by token with
a key/value cache, and what matters is how much quantization changes what it generates. So this
recipe, of higher priority than a generic one, writes a GenAIModelBuilder workflow (or, for
architectures the builder lacks, GenAIKVCacheExport then weight-only INT4) measured by
perplexity, token agreement with the input model, generation speed and size.

It imports nothing heavy: the workflow is written from config.json and the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from olive_core.errors import ConfigError
from olive_core.recipes import Recipe, Request, text_data

from olive_genai.passes.builder import BUILDER_ARCHITECTURES

#: olive-genai's own English sample, measured on when the command gives no --data
SAMPLE_TEXT = Path(__file__).with_name("sample_text.txt")
#: int4 settings --search tries: block sizes, and how block values are chosen
SEARCHED_BLOCK_SIZES = (32, 128)
SEARCHED_ALGORITHMS = ("rtn", "k_quant")
#: methods that run on the fp32 model after the build, as GenAIWeightOnlyQuantization (int4 only)
AFTER_BUILD_METHODS = ("hqq", "gptq")
#: when config.json gives no context length
DEFAULT_CONTEXT = 2048


def is_causal_lm(config: dict[str, Any] | None) -> bool:
    """A decoder language model by its config.json: a ``*ForCausalLM``/``*LMHeadModel`` class or
    one the builder knows, and not an encoder-decoder."""
    names = (config or {}).get("architectures") or []
    if not isinstance(names, list) or not names or (config or {}).get("is_encoder_decoder"):
        return False
    name = str(names[0])
    return name.endswith(("ForCausalLM", "LMHeadModel")) or name in BUILDER_ARCHITECTURES


def perplexity_rise_percent(min_similarity: float) -> float:
    """How far perplexity may rise over the input model's: 300 x (1 - min_similarity) percent, so
    the default 0.99 allows 3% (a common bound for INT4 language models) and 0.999 allows 0.3%."""
    return round(max(0.0, 300.0 * (1.0 - min_similarity)), 6)


class LanguageModelRecipe(Recipe):
    description = "decoder language models (Hugging Face causal LMs) to ONNX Runtime GenAI on the CPU"
    model_kinds = ("hf",)
    devices = ("cpu",)
    precisions = ("fp32", "int8", "int4")
    methods = ("rtn", "k_quant", "hqq", "gptq")
    #: above olive-onnx's generic recipe, which would export a causal LM without its cache
    priority = 20

    def accepts(self, request: Request) -> bool:
        """Every request for a causal LM, on any device and precision: a language model sent to a
        generic recipe would be exported without its cache, so what this recipe cannot do it
        refuses by name in :meth:`workflow`."""
        return (
            request.task in self.tasks
            and request.model.kind == "hf"
            and is_causal_lm(request.model.config)
            and (request.method is None or request.method in self.methods)
        )

    def workflow(self, request: Request) -> dict[str, Any]:
        config = request.model.config or {}
        architecture = request.model.architecture or ""
        precision = _precision(request)
        built = architecture in BUILDER_ARCHITECTURES
        text, notes = (text_data(request.data), []) if request.data else (text_data(SAMPLE_TEXT), [_sample_note()])
        context = _context_length(config)
        passes = _passes(request, precision, built, architecture)
        if request.method == "gptq" and "quantize" in passes:
            notes.append("GPTQ calibrates on the first blocks of the same text it is measured on")
        workflow: dict[str, Any] = {
            "input_model": {"type": "hf", "config": {"model_path": _model_path(request), "task": "text-generation"}},
            "data": _data(text, context, calibrate=request.method == "gptq"),
            "metrics": _metrics(context, perplexity_rise_percent(request.min_similarity)),
            "passes": passes,
            "search": {
                "objectives": [
                    {"metric": "speed-decode_tokens_per_s_p50", "priority": 1},
                    {"metric": "perplexity-perplexity", "priority": 2},
                ]
            },
        }
        if notes:
            workflow["description"] = "; ".join(notes)
        return workflow


def _precision(request: Request) -> str:
    """The precision to build, or a ConfigError saying what this recipe makes."""
    if request.device != "cpu":
        raise ConfigError(
            f"olive-genai makes language models for the CPU; '{request.device}' is not supported for a "
            f"{request.model.architecture} model",
            path="--device",
            hint="use --device cpu (ONNX Runtime GenAI's CPU runtime is the one olive-genai measures on)",
        )
    if request.task == "convert":
        if request.precision not in (None, "fp32"):
            raise ConfigError(
                f"convert keeps the language model's weights in fp32, not {request.precision}",
                path="--precision",
                hint=f"use olive quantize --precision {request.precision} to make smaller weights",
            )
        if request.method is not None:
            raise ConfigError("convert does not quantize, so it takes no --method", path="--method", hint="use olive quantize")
        return "fp32"
    precision = request.precision or "int4"
    if precision == "fp16":
        raise ConfigError(
            "olive-genai builds language models for the CPU in fp32, int8 or int4; fp16 is not one of them",
            path="--precision",
            hint="use --precision int4 (smallest, fastest), int8 or fp32",
        )
    if request.task == "quantize" and precision == "fp32":
        raise ConfigError("quantize makes int8 or int4 weights, not fp32", path="--precision", hint="use olive convert for fp32")
    if request.method is not None and precision == "fp32":
        raise ConfigError(f"--method {request.method} quantizes, but --precision is fp32", path="--method", hint="use --precision int4 or int8")
    if request.method in AFTER_BUILD_METHODS and precision != "int4":
        raise ConfigError(
            f"{request.method} makes 4-bit weights, not {precision}",
            path="--method",
            hint=f"use --precision int4 with --method {request.method}, or --method rtn/k_quant for int8",
        )
    if request.method == "gptq" and request.data is None:
        raise ConfigError(
            "gptq calibrates on text, and no --data was given",
            path="--data",
            hint="give --data FILE (.txt, one text a line, or .jsonl with a 'text' field) with text like the model's use",
        )
    return precision


def _passes(request: Request, precision: str, built: bool, architecture: str) -> dict[str, Any]:
    """The chain: the builder (or, for architectures it lacks, the cache export), then weight-only
    INT4 where the builder cannot make the weights asked for."""
    if not built and precision == "int8":
        raise ConfigError(
            f"the onnxruntime-genai builder does not support {architecture}, and olive-genai's weight-only "
            "quantization for other architectures makes int4 weights only",
            path="--precision",
            hint="use --precision int4 or fp32",
        )
    fp32 = (
        {"build": {"type": "GenAIModelBuilder", "config": {"precision": "fp32"}}}
        if built
        else {"export": {"type": "GenAIKVCacheExport", "config": {}}}
    )
    if precision == "fp32":
        return fp32
    searched = request.search and precision == "int4"
    # a block longer than a weight's rows cannot be filled (k_quant fails on it): tiny models skip 128
    width = _hidden_size(request.model.config or {})
    blocks = (32,)
    if searched:
        blocks = tuple(b for b in SEARCHED_BLOCK_SIZES if width is None or b <= width) or blocks
    algorithms = (request.method,) if request.method else (SEARCHED_ALGORITHMS if searched else ("rtn",))
    if built and request.method not in AFTER_BUILD_METHODS:
        configs = [{"precision": precision, "block_size": b, "algorithm": a} for b in blocks for a in algorithms]
        return {"build": {"type": "GenAIModelBuilder", "config": _one_or_all(configs)}}
    configs = [
        {"algorithm": a, "block_size": b, **({"data": "calibration"} if a == "gptq" else {})} for b in blocks for a in algorithms
    ]
    return {**fp32, "quantize": {"type": "GenAIWeightOnlyQuantization", "config": _one_or_all(configs)}}


def _one_or_all(configs: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    """One config as itself; several as the list of alternatives the run tries."""
    return configs[0] if len(configs) == 1 else configs


def _model_path(request: Request) -> str:
    return str(request.model.path) if request.model.path is not None else request.model.given


def _context_length(config: dict[str, Any]) -> int:
    """The longest sequence the model takes, from the config.json keys architectures use for it."""
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else config
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = text.get(key)
        if isinstance(value, int) and value > 0:
            return value
    return DEFAULT_CONTEXT


def _hidden_size(config: dict[str, Any]) -> int | None:
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else config
    for key in ("hidden_size", "n_embd", "d_model"):
        value = text.get(key)
        if isinstance(value, int) and value > 0:
            return value
    return None


def _data(text: dict[str, Any], context: int, calibrate: bool) -> dict[str, Any]:
    """Token blocks for perplexity (and GPTQ), and prompts for agreement and speed, from the same text."""
    block = min(256, context)
    data: dict[str, Any] = {
        "heldout": {"load": text, "preprocess": [{"type": "text_blocks", "config": {"block_size": block, "max_blocks": 16}}]},
        "prompts": {
            "load": text,
            "preprocess": [{"type": "prompts", "config": {"length": min(32, context // 4)}}],
            "max_samples": 8,
        },
    }
    if calibrate:
        data["calibration"] = {
            "load": text,
            "preprocess": [{"type": "text_blocks", "config": {"block_size": block, "max_blocks": 32}}],
        }
    return data


def _metrics(context: int, rise_percent: float) -> list[dict[str, Any]]:
    return [
        {
            "name": "perplexity",
            "type": "perplexity",
            "data": "heldout",
            "goals": {"perplexity": {"max_degradation_percent": rise_percent}},
        },
        {"name": "agreement", "type": "token_agreement", "data": "prompts", "config": {"new_tokens": min(32, context // 4)}},
        {
            "name": "speed",
            "type": "generation_latency",
            "data": "prompts",
            "config": {"prompt_tokens": min(128, context // 2), "new_tokens": min(64, context // 4), "warmup_runs": 1, "repeat_runs": 5},
        },
        {"name": "size", "type": "size"},
    ]


def _sample_note() -> str:
    return (
        f"no --data: perplexity, agreement and speed are measured on olive-genai's built-in English sample "
        f"({SAMPLE_TEXT}, about 1,500 words of general prose); it shows how much the model changed, not how "
        "well it does on your text: give --data FILE (.txt, one text a line, or .jsonl with a 'text' field)"
    )
