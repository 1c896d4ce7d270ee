"""olive-onnx's recipe: the workflow ``olive optimize``, ``quantize`` and ``convert`` run for a
Hugging Face text model, an ONNX model or a PyTorch module, on the CPU or a GPU.

The chain is the one examples/minilm/workflow.json spells out by hand: TorchScript conversion
(the graph ONNX Runtime fuses best), ORT's transformer fusion where the architecture is one it
knows, then the precision's quantization. ``--search`` searches what examples/minilm/search.json
searches: dynamic or static INT8 as one choice, the K most sensitive nodes kept in float (measured,
not named), SmoothQuant, and the static calibration method, ranked by latency then similarity
under the ``--min-similarity`` goal. Every workflow measures latency, similarity to the input model and
size; see :mod:`olive_onnx.recipe_data` for the data.

No session tuning step: with its defaults OnnxSessionTuning only picks the intra-op thread count,
ONNX Runtime's default already uses the physical cores, and a count measured under this moment's
load would then decide every later measurement. ``--save-workflow`` gives a file to add it to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from olive_core.errors import ConfigError
from olive_core.recipes import Recipe, Request

from olive_onnx.recipe_data import CALIBRATION, EVALUATION, RecipeData, tensor_data, text_data

#: quantization methods by precision (``olive quantize --method``); the first is the default
METHODS = {"int8": ("dynamic", "static"), "int4": ("rtn",)}
#: precisions per device: INT8/INT4 here are CPU kernels (MatMulInteger, MatMulNBits)
DEVICE_PRECISIONS = {"cpu": ("fp32", "fp16", "int8", "int4"), "gpu": ("fp32", "fp16")}
DEFAULT_PRECISION = {("optimize", "cpu"): "int8", ("optimize", "gpu"): "fp16"}

#: Hugging Face model types whose graphs ONNX Runtime's transformer optimizer fuses, by the
#: optimizer's model_type
FUSION = {"bert": "bert", "roberta": "bert", "xlm-roberta": "bert", "camembert": "bert", "electra": "bert", "distilbert": "bert", "gpt2": "gpt2"}
#: architecture name endings -> the task olive-torch loads the model for
TASKS = (
    ("ForSequenceClassification", "text-classification"),
    ("ForTokenClassification", "token-classification"),
    ("ForQuestionAnswering", "question-answering"),
    ("ForMaskedLM", "fill-mask"),
    ("ForCausalLM", "text-generation"),
    ("LMHeadModel", "text-generation"),
    ("Model", "feature-extraction"),
)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "spiece.model", "tokenizer.model")
TEXT_INPUTS = {"input_ids", "attention_mask", "token_type_ids"}

LATENCY = {"warmup_runs": 3, "repeat_runs": 20, "batches": 8}


@dataclass(frozen=True)
class Model:
    """What the recipe learned about the input model."""

    input_model: dict[str, Any]
    needs_conversion: bool
    #: ORT optimizer model_type, None where the architecture is not one it fuses
    fusion: str | None
    #: a transformer: static quantization stays on MatMuls (the embedding Gather breaks it)
    transformer: bool
    data: RecipeData
    #: ``BertModel (feature-extraction)``, for the description
    summary: str
    #: an ONNX input that is already quantized (why it looks so) or FP16: nothing more to lower
    lowered: str | None = None


class OnnxRecipe(Recipe):
    """Conversion, transformer fusion and quantization with ONNX Runtime; similarity to the input."""

    description = "ONNX Runtime: conversion, fusion, INT8/INT4/FP16 (olive-onnx)"
    model_kinds = ("hf", "onnx", "pytorch")
    devices = ("cpu", "gpu")
    methods = tuple(method for methods in METHODS.values() for method in methods)

    def accepts(self, request: Request) -> bool:
        if not super().accepts(request):
            return False
        if request.precision is not None and request.precision not in DEVICE_PRECISIONS[request.device]:
            return False
        if request.task == "quantize" and request.precision not in METHODS:
            return False
        if request.task == "convert" and request.precision not in (None, "fp32", "fp16"):
            return False
        return request.model.kind != "hf" or _is_text_model(request.model.config or {})

    def workflow(self, request: Request) -> dict[str, Any]:
        precision = _precision(request)
        method = _method(request, precision)
        model = read_model(request)
        if model.lowered and precision != "fp32":
            raise ConfigError(
                f"'{request.model.given}' is {model.lowered}: olive does not lower a model's precision twice",
                path="MODEL",
                hint="give the FP32 model it was made from",
            )
        if request.search:
            passes, search, chose = _search(model, precision, request)
        else:
            passes, chose = _chain(model, request.task, precision, method)
            search = {}
        if not passes:
            raise ConfigError(
                f"olive {request.task} has nothing to do: '{request.model.given}' is an ONNX model at {precision} already",
                path="MODEL",
                hint="olive convert --precision fp16 makes an FP16 copy; olive optimize --precision int8 quantizes it",
            )
        workflow: dict[str, Any] = {
            "description": f"{model.summary}: {chose}; {model.data.note}",
            "input_model": model.input_model,
            "data": model.data.configs,
            "metrics": _metrics(model.data, request.min_similarity),
            "passes": passes,
            "search": {**search, "objectives": [{"metric": "latency-p50", "priority": 1}, {"metric": "similarity-cosine_mean", "priority": 2}]},
        }
        if request.device != "cpu":
            workflow["accelerators"] = [{"device": request.device}]
        return workflow


def _precision(request: Request) -> str:
    if request.precision is not None:
        return request.precision
    return DEFAULT_PRECISION.get((request.task, request.device), "fp32")


def _method(request: Request, precision: str) -> str | None:
    methods = METHODS.get(precision, ())
    if request.method is None:
        return methods[0] if methods else None
    if request.method not in methods:
        offered = "; ".join(f"{p}: {', '.join(m)}" for p, m in METHODS.items())
        raise ConfigError(
            f"--method '{request.method}' is not a method of {precision}" + (f" (it takes {', '.join(methods)})" if methods else " (it takes none)"),
            path="--method",
            hint=f"olive-onnx's methods by precision: {offered}",
        )
    return request.method


# -- the model --------------------------------------------------------------------------------


def read_model(request: Request) -> Model:
    """What the recipe needs to know about the input model, from its files (no torch import)."""
    source = request.model
    if source.kind == "hf":
        return _hf(request)
    if source.kind == "onnx":
        return _onnx(request)
    return _pytorch(request)


def _is_text_model(config: dict[str, Any]) -> bool:
    """A config.json this recipe can load: unknown (a hub id offline), or a text model of a known task."""
    if not config:
        return True
    architecture = (config.get("architectures") or [""])[0]
    return "vocab_size" in config and _task(str(architecture)) is not None


def _task(architecture: str) -> str | None:
    return next((task for ending, task in TASKS if architecture.endswith(ending)), None)


def _hf(request: Request) -> Model:
    source = request.model
    config = source.config or {}
    architecture = source.architecture
    task = _task(architecture or "") or "feature-extraction"
    model_type = str(config.get("model_type", ""))
    folder = source.path
    postprocess, output = _pooling(folder, task, "last_hidden_state")
    data = text_data(request.data, postprocess, output)
    fusion = FUSION.get(model_type)
    summary = f"{architecture or 'a Hugging Face model of unknown architecture'} ({task})"
    return Model(
        input_model={"type": "hf", "config": {"model_path": str(folder) if folder else source.given, "task": task}},
        needs_conversion=True,
        fusion=fusion,
        transformer=True,
        data=data,
        summary=summary,
    )


def _onnx(request: Request) -> Model:
    from olive_onnx.files import read_model_proto, resolve_model_file
    from olive_onnx.inspect import float_precision, graph_inputs, index_limits, quantization_evidence

    path = request.model.path
    assert path is not None  # describe_model found the file
    folder = path if path.is_dir() else path.parent
    proto = read_model_proto(resolve_model_file(path))
    inputs = graph_inputs(proto)
    evidence = quantization_evidence(proto)
    lowered = f"already quantized ({'; '.join(evidence)})" if evidence else "FP16 already" if float_precision(proto) == "float16" else None
    config = _folder_config(folder)
    text = any((folder / name).is_file() for name in TOKENIZER_FILES) and "input_ids" in {spec.name for spec in inputs}
    if text and {spec.name for spec in inputs} <= TEXT_INPUTS:
        postprocess, output = _pooling(folder, "feature-extraction", "last_hidden_state")
        data = text_data(request.data, postprocess, output)
    else:
        data = tensor_data(request.data, [(spec.name, spec.dtype, spec.dims) for spec in inputs], index_limits(proto))
    model_type = str(config.get("model_type", ""))
    fusion = FUSION.get(model_type) if text else None
    architecture = str((config.get("architectures") or [""])[0]) or None
    return Model(
        input_model={"type": "onnx", "config": {"model_path": str(path)}},
        needs_conversion=False,
        fusion=fusion,
        transformer=text,
        data=data,
        summary=f"ONNX model {path.name}" + (f" ({architecture})" if architecture else ""),
        lowered=lowered,
    )


def _pytorch(request: Request) -> Model:
    source = request.model
    loader = _loader(source.loader or "")
    if source.path is None:
        raise ConfigError(
            f"no file or folder '{source.given}'",
            path="MODEL",
            hint="with --loader, MODEL is the weights (or the file or folder the loader reads), or the loader's own .py file",
        )
    data = tensor_data(request.data, None)
    config: dict[str, Any] = {"model_loader": loader, "io_config": data.io_config}
    if str(source.path) != loader.rpartition(":")[0]:
        config["model_path"] = str(source.path)
    return Model(
        input_model={"type": "pytorch", "config": config},
        needs_conversion=True,
        fusion=None,
        transformer=False,
        data=data,
        summary=f"PyTorch module from {Path(loader.rpartition(':')[0]).name}",
    )


def _loader(spec: str) -> str:
    """``file.py:function`` with the file made absolute (the workflow may be saved elsewhere)."""
    module, _, function = spec.rpartition(":")
    if not module or not function:
        raise ConfigError(f"--loader '{spec}' is not 'file.py:function'", path="--loader", hint="e.g. --loader model.py:build")
    if not module.endswith(".py"):
        return spec  # an installed module: olive-torch asks for it to be trusted
    file = Path(module).expanduser().resolve()
    if not file.is_file():
        raise ConfigError(f"no file '{module}'", path="--loader", hint="name a .py file and the function in it that returns the module")
    return f"{file}:{function}"


def _folder_config(folder: Path) -> dict[str, Any]:
    file = folder / "config.json"
    try:
        config = json.loads(file.read_text(encoding="utf-8")) if file.is_file() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}  # the support file is the model's business; the recipe just learns less
    return config if isinstance(config, dict) else {}


def _pooling(folder: Path | None, task: str, hidden: str) -> tuple[list[dict[str, Any]], str | None]:
    """A sentence-transformers model is compared by its sentence embeddings (mean pooling, then
    L2-normalized when its modules say so); any other model by its outputs as they are."""
    if task != "feature-extraction" or folder is None:
        return [], None
    modules = _json_list(folder / "modules.json")
    pooling = next((m for m in modules if str(m.get("type", "")).endswith(".Pooling")), None)
    if pooling is None:
        return [], None
    settings = _folder_config(folder / str(pooling.get("path", "")))
    if not settings.get("pooling_mode_mean_tokens"):
        return [], None
    normalize = any(str(m.get("type", "")).endswith(".Normalize") for m in modules)
    return [{"type": "mean_pool", "config": {"output": hidden, "to": "embedding", "normalize": normalize}}], "embedding"


def _json_list(file: Path) -> list[dict[str, Any]]:
    try:
        value = json.loads(file.read_text(encoding="utf-8")) if file.is_file() else []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


# -- the chain ---------------------------------------------------------------------------------


def _chain(model: Model, task: str, precision: str, method: str | None) -> tuple[dict[str, Any], str]:
    """The passes of ``olive optimize`` (fusion included) or ``quantize``/``convert`` (without)."""
    passes: dict[str, Any] = {}
    chose = []
    if model.needs_conversion:
        passes["convert"] = {"type": "OnnxConversion", "config": {"exporter": "torchscript"}}
        chose.append("TorchScript conversion")
    if task == "optimize" and model.fusion:
        passes["fuse"] = {"type": "OnnxTransformersOptimization", "config": {"model_type": model.fusion}}
        chose.append(f"ORT '{model.fusion}' fusion")
    elif task == "optimize":
        chose.append("no fusion (ONNX Runtime's optimizer knows no pattern for this architecture)")
    if precision == "fp16":
        passes["fp16"] = {"type": "OnnxFloat16", "config": {}}
        chose.append("FP16 weights and ops (FP32 inputs and outputs)")
    elif precision == "int8" and method == "dynamic":
        passes["quantize"] = {"type": "OnnxDynamicQuantization", "config": {"per_channel": True}}
        chose.append("dynamic INT8, per-channel weights")
    elif precision == "int8":
        passes["quantize"] = {"type": "OnnxStaticQuantization", "config": _static(model, [])}
        chose.append(f"static INT8 (QDQ, MinMax calibration on {CALIBRATION} data)")
    elif precision == "int4":
        passes["quantize"] = {"type": "OnnxInt4WeightOnly", "config": {}}
        chose.append("INT4 weight-only (RTN, blocks of 128, MatMulNBits)")
    return passes, ", ".join(chose)


def _static(model: Model, exclude: list[str]) -> dict[str, Any]:
    config: dict[str, Any] = {"data": CALIBRATION, "quant_format": "QDQ", "calibrate_method": "MinMax"}
    if model.transformer:
        config["op_types_to_quantize"] = ["MatMul"]
    config["nodes_to_exclude"] = exclude
    return config


def _search(model: Model, precision: str, request: Request) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The search of examples/minilm/search.json, for any model: what varies and how it is ranked."""
    if request.task != "optimize":
        raise ConfigError(f"olive {request.task} does not search", path="--search", hint="use olive optimize --search")
    if precision not in ("int8", "int4"):
        raise ConfigError(
            f"--search searches quantization settings; {precision} has none to search",
            path="--search",
            hint="add --precision int8 or int4, or leave out --search",
        )
    passes: dict[str, Any] = {}
    if model.needs_conversion:
        passes["convert"] = {"type": "OnnxConversion", "config": {"exporter": "torchscript"}}
    if model.fusion:
        passes["fuse"] = {"type": "OnnxTransformersOptimization", "config": {"model_type": model.fusion}}
    if precision == "int8":
        passes["quantize"] = _int8_search(model)
        varied = (
            "dynamic or static INT8 x the K most sensitive nodes kept in float "
            f"(K in {', '.join(map(str, MOST_SENSITIVE))}, ranked by measuring each node on the calibration data) "
            "x SmoothQuant on/off x (static) MinMax or Percentile calibration"
        )
    else:
        passes["int4"] = {"type": "OnnxInt4WeightOnly", "config": {}}
        varied = "INT4 block size x symmetric"
    chose = f"searched {varied}, fastest with similarity cosine mean >= {request.min_similarity}"
    return passes, {"strategy": "exhaustive"}, chose


#: how many of the most sensitive nodes ``--search`` tries keeping in float (examples/minilm/search.json)
MOST_SENSITIVE = (0, 1, 2, 3, 4, 6, 8)


def _int8_search(model: Model) -> list[dict[str, Any]]:
    """One step, dynamic or static: no node names, so it means the same for any model and exporter."""
    # ordered: nevergrad steps between neighbouring K rather than treating them as unrelated
    exclude = {"choices": [{"most_sensitive": k} for k in MOST_SENSITIVE], "ordered": True}
    static = {k: v for k, v in _static(model, []).items() if k not in ("nodes_to_exclude", "calibrate_method")}
    return [
        {
            "type": "OnnxDynamicQuantization",
            "config": {"data": CALIBRATION, "per_channel": True, "reduce_range": False},
            "search": {"exclude": exclude, "smooth_quant": [False, True]},
        },
        {
            "type": "OnnxStaticQuantization",
            "config": {**static, "per_channel": True, "reduce_range": False, "activation_symmetric": False},
            "search": {"exclude": exclude, "smooth_quant": [False, True], "calibrate_method": ["MinMax", "Percentile"]},
        },
    ]


def _metrics(data: RecipeData, min_similarity: float) -> list[dict[str, Any]]:
    similarity: dict[str, Any] = {"output": data.output} if data.output else {}
    return [
        {"name": "latency", "type": "latency", "data": EVALUATION, "config": dict(LATENCY), "sub_metrics": ["p50", "p90"]},
        {
            "name": "similarity",
            "type": "similarity",
            "data": EVALUATION,
            "config": similarity,
            "sub_metrics": ["cosine_mean", "cosine_min"],
            "goals": {"cosine_mean": {"threshold": min_similarity}},
        },
        {"name": "size", "type": "size"},
    ]
