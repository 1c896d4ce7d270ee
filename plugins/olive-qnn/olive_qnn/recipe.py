"""The recipe `olive optimize --device npu` (and `olive quantize --device npu`) use: Qualcomm's HTP.

The chain is examples/qnn-minilm's, written for the model named on the command line: a Hugging
Face text encoder is exported (through :mod:`olive_qnn.encoders`, whose attention mask QNN can
quantize) with fixed shapes, an ONNX model gets its dynamic dims fixed; then QnnPreprocess,
QnnQuantization and, for ``optimize``, QnnContextBinary, on ``npu`` with QNNExecutionProvider.
Each candidate must run entirely on the NPU (an npu_coverage goal of 1.0) and keep
``--min-similarity`` to the input model.

What is chosen, and why:
- QNN's HTP runs quantized models, so fp32 and fp16 are refused rather than mapped: the default is
  16-bit activations with int16 weights (MiniLM keeps a cosine of 0.9998 with them, 0.84 with
  8-bit), ``--precision int8`` makes uint8 activations and weights.
- ``soc_model`` 57 (Snapdragon 8 Gen 2, HTP v73): int16 weights need a v73 or later, and the
  simulator finalizes float embedding tables only with a SoC model. The saved workflow says it.
- No latency: on x86-64 the HTP is a simulator, whose seconds say nothing of the device. Among
  candidates that meet the goals, the smallest wins (an 8-bit model where it keeps the goal).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from olive_core.errors import ConfigError
from olive_core.recipes import Recipe, Request

#: the accelerator every NPU workflow targets (see the module's docstring for the SoC model)
ACCELERATOR = {"device": "npu", "provider": "QNNExecutionProvider", "provider_options": {"soc_model": "57"}}
#: activation and weight types: the default (16-bit), and --precision int8
SIXTEEN_BIT = {"activation_type": "uint16", "weight_type": "int16"}
EIGHT_BIT = {"activation_type": "uint8", "weight_type": "uint8"}
#: olive quantize --method: how activation ranges are calibrated
METHODS = {"minmax": "MinMax", "entropy": "Entropy", "percentile": "Percentile"}
#: the sequence length a text model is fixed at (or its context, if shorter)
SEQUENCE_LENGTH = 128
#: the HTP simulator takes seconds per sample: evaluate on few, calibrate on more
EVALUATION_SAMPLES, CALIBRATION_SAMPLES = 8, 32
#: dim names sized as a text model's sequence, and as the batch
_SEQUENCE_DIM = re.compile(r"seq|length|token|len$", re.IGNORECASE)
_BATCH_DIM = re.compile(r"batch|^n$", re.IGNORECASE)
#: config.json model_type -> whether its tokenizer makes token_type_ids: the encoder families
#: olive_qnn.encoders exports (each checked in the tests to match the stock model with its mask)
ENCODER_MODEL_TYPES = {
    "bert": True,
    "albert": True,
    "electra": True,
    "roberta": False,
    "xlm-roberta": False,
    "camembert": False,
    "distilbert": False,
    "mpnet": False,
}
#: the task an encoder is exported for -> the output the NPU model returns
TASK_OUTPUTS = {"feature-extraction": "last_hidden_state", "text-classification": "logits"}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "spiece.model", "tokenizer.model")


@dataclass(frozen=True)
class NpuModel:
    """What the recipe learned about the input model, and the steps before quantization."""

    input_model: dict[str, Any]
    #: steps before QnnPreprocess (the export of a Hugging Face encoder)
    passes: dict[str, Any]
    #: QnnPreprocess's config: the sizes of the dynamic dims
    preprocess: dict[str, Any]
    #: measured on text through the model's tokenizer (else on tensors)
    text: bool
    #: the fixed sequence length of a text model's inputs
    sequence: int
    #: an encoder's hidden states, which similarity compares as sentence embeddings
    hidden_states: bool
    #: an ONNX model's inputs (name, dtype, dims with the sizes given); None for an encoder folder
    inputs: list[tuple[str, str, tuple[Any, ...]]] | None


class NpuRecipe(Recipe):
    description = "Hugging Face text encoders and ONNX models on Qualcomm NPUs (QNN HTP): fixed shapes, QDQ, context binary"
    model_kinds = ("hf", "onnx")
    devices = ("npu",)
    precisions = ("int8",)
    methods = tuple(METHODS)
    priority = 10

    def accepts(self, request: Request) -> bool:
        """Every hf or onnx request for the NPU, at any precision: what QNN cannot run (fp32, an
        architecture without a known encoder export) is refused by name in :meth:`workflow`."""
        return (
            request.device == "npu"
            and request.task in self.tasks
            and request.model.kind in self.model_kinds
            and (request.method is None or request.method in self.methods)
        )

    def workflow(self, request: Request) -> dict[str, Any]:
        quantization = _quantization(request)
        model = _hf_encoder(request) if request.model.kind == "hf" else _onnx_model(request)
        data, output, data_note = _data(request, model)
        passes: dict[str, Any] = dict(model.passes)
        passes["preprocess"] = {"type": "QnnPreprocess", "config": model.preprocess}
        configs = [{"data": "calibration", **settings} for settings in quantization]
        passes["quantize"] = {"type": "QnnQuantization", "config": configs[0] if len(configs) == 1 else configs}
        if request.task == "optimize":
            passes["compile"] = {"type": "QnnContextBinary"}
        similarity: dict[str, Any] = {
            "name": "similarity",
            "type": "similarity",
            "data": "evaluation",
            "sub_metrics": ["cosine_mean", "cosine_min"],
            "goals": {"cosine_mean": {"threshold": request.min_similarity}},
        }
        if output:
            similarity["config"] = {"output": output}
        notes = [
            data_note,
            "QNN HTP v73 assumed (soc_model 57: int16 weights need v73 or later)",
            "no latency: on x86-64 the HTP is a simulator, whose timings say nothing of the device",
        ]
        if len(configs) > 1:
            notes.append("of the candidates that run wholly on the NPU and keep the similarity goal, the smallest is best")
        return {
            "description": "; ".join(notes),
            "input_model": model.input_model,
            "accelerators": [ACCELERATOR],
            "data": data,
            "metrics": [
                similarity,
                {"name": "npu", "type": "npu_coverage", "goals": {"coverage": {"threshold": 1.0}}},
                {"name": "size", "type": "size"},
            ],
            "passes": passes,
            "search": {"objectives": [{"metric": "size-mb", "priority": 1}, {"metric": "similarity-cosine_mean", "priority": 2}]},
            # the input is the float reference similarity compares with, run on the CPU (QNN runs
            # quantized, fixed-shape models); coverage means nothing for it
            "engine": {"evaluate_input_model": False, "input_model_on": "cpu"},
        }


def _quantization(request: Request) -> list[dict[str, Any]]:
    """QnnQuantization's settings by task, precision, method and --search; ConfigErrors for what the HTP cannot run."""
    if request.task == "convert":
        raise ConfigError(
            "QNN's HTP runs quantized models, so olive convert makes nothing for the NPU",
            path="--device",
            hint="use olive optimize MODEL --device npu (quantized and compiled for the HTP), or convert for the CPU",
        )
    if request.precision in ("fp32", "fp16"):
        raise ConfigError(
            f"QNN's HTP runs quantized (QDQ) models; olive-qnn makes no {request.precision} model for the NPU",
            path="--precision",
            hint="leave --precision out (16-bit activations, int16 weights: the most accurate) or use --precision int8",
        )
    if request.precision == "int4":
        raise ConfigError(
            "QnnQuantization makes 8- and 16-bit QDQ models for the HTP, not int4",
            path="--precision",
            hint="use --precision int8, or leave --precision out for 16-bit",
        )
    methods = [METHODS[request.method]] if request.method else ["MinMax"]
    if request.precision == "int8":
        if request.search and not request.method:
            methods = list(METHODS.values())
        return [{**EIGHT_BIT, "calibrate_method": method} for method in methods]
    types = [SIXTEEN_BIT, EIGHT_BIT] if request.search else [SIXTEEN_BIT]
    return [{**kind, "calibrate_method": method} for kind in types for method in methods]


def _hf_encoder(request: Request) -> NpuModel:
    """A text encoder folder, exported through olive_qnn.encoders at batch 1 x sequence length."""
    source = request.model
    if source.path is None:
        raise ConfigError(
            f"'{source.given}' is a hub id; the NPU recipe exports a model folder",
            path="MODEL",
            hint=f"download it first (huggingface-cli download {source.given} --local-dir DIR) and give the folder",
        )
    config = source.config or {}
    model_type = str(config.get("model_type", ""))
    task = task_of(source.architecture)
    if model_type not in ENCODER_MODEL_TYPES or task is None:
        raise ConfigError(
            f"olive-qnn's NPU recipe exports text encoders ({', '.join(ENCODER_MODEL_TYPES)}; bare or with a sequence "
            f"classification head), not a '{model_type or 'unknown'}' {source.architecture or 'model'}",
            path="MODEL",
            hint="export the model to ONNX with fixed input shapes and give the .onnx file",
        )
    sequence = min(SEQUENCE_LENGTH, int(config.get("max_position_embeddings") or SEQUENCE_LENGTH))
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if ENCODER_MODEL_TYPES[model_type] else [])
    output = TASK_OUTPUTS[task]
    input_model = {
        "type": "pytorch",
        "config": {
            "model_path": str(source.path),
            "model_loader": "olive_qnn.encoders:arithmetic_mask_encoder",
            "trusted_modules": ["olive_qnn"],
            "loader_kwargs": {"task": task},
            "io_config": {
                "input_names": names,
                "input_shapes": [[1, sequence]] * len(names),
                "input_types": ["int64"] * len(names),
                "output_names": [output],
            },
        },
    }
    return NpuModel(
        input_model=input_model,
        passes={"convert": {"type": "OnnxConversion", "config": {"exporter": "torchscript", "check_shapes": [[1, sequence]]}}},
        preprocess={},
        text=True,
        sequence=sequence,
        hidden_states=task == "feature-extraction",
        inputs=None,
    )


def task_of(architecture: str | None) -> str | None:
    """``feature-extraction`` for a bare encoder (``BertModel``), ``text-classification`` for a
    ``*ForSequenceClassification``; None for heads this recipe does not export."""
    if architecture is None or architecture.endswith("Model"):
        return "feature-extraction"
    if architecture.endswith("ForSequenceClassification"):
        return "text-classification"
    return None


def _onnx_model(request: Request) -> NpuModel:
    """An ONNX model with every dynamic input dim given a size: the batch 1, a text model's sequence 128."""
    from olive_onnx.api import graph_inputs, read_model_proto, resolve_model_file

    path = request.model.path
    assert path is not None  # describe_model found it
    folder = path if path.is_dir() else path.parent
    inputs = graph_inputs(read_model_proto(resolve_model_file(path)))
    names = {spec.name for spec in inputs}
    text = "input_ids" in names and any((folder / name).is_file() for name in TOKENIZER_FILES)
    sequence = min(SEQUENCE_LENGTH, int(_folder_config(folder).get("max_position_embeddings") or SEQUENCE_LENGTH))
    fixed: dict[str, list[int]] = {}
    sizes: dict[str, int] = {}
    for spec in inputs:
        shape = []
        for axis, dim in enumerate(spec.dims):
            if isinstance(dim, int) and dim > 0:
                shape.append(dim)
                continue
            size = _dim_size(spec.name, spec.dtype, axis, dim, sequence)
            if isinstance(dim, str) and dim:
                size = sizes.setdefault(dim, size)
            shape.append(size)
        if list(shape) != list(spec.dims):
            fixed[spec.name] = shape
    return NpuModel(
        input_model={"type": "onnx", "config": {"model_path": str(path)}},
        passes={},
        preprocess={"input_shapes": fixed} if fixed else {},
        text=text,
        sequence=sequence,
        hidden_states=text and "last_hidden_state" in _output_names(path),
        inputs=[(spec.name, spec.dtype, tuple(fixed.get(spec.name, spec.dims))) for spec in inputs],
    )


def _dim_size(name: str, dtype: str, axis: int, dim: str | None, sequence: int) -> int:
    """The size of a dynamic dim: 1 for the batch, the sequence length for token inputs; else refused."""
    label = f"'{dim}'" if dim else "unnamed"
    if axis == 0 or (dim and _BATCH_DIM.search(dim)):
        return 1
    if dtype.startswith(("int", "uint")) or (dim and _SEQUENCE_DIM.search(dim)):
        return sequence
    raise ConfigError(
        f"input '{name}' axis {axis} ({label}) is dynamic, and QNN compiles fixed shapes only; olive cannot tell its size",
        path="MODEL",
        hint="export the model with that axis fixed (the size it runs at on the device)",
    )


def _output_names(path: Path) -> list[str]:
    from olive_onnx.api import read_model_proto, resolve_model_file

    return [value.name for value in read_model_proto(resolve_model_file(path)).graph.output]


def _folder_config(folder: Path) -> dict[str, Any]:
    file = folder / "config.json"
    try:
        config = json.loads(file.read_text(encoding="utf-8")) if file.is_file() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}  # a support file beside the model: the recipe just learns less
    return config if isinstance(config, dict) else {}


def _data(request: Request, model: NpuModel) -> tuple[dict[str, Any], str | None, str]:
    """olive-onnx's data for the model (text or tensors, --data or built in), at batch 1 and sized
    for the simulator: its first 8 samples evaluate, its first 32 calibrate. Also the output
    similarity compares: an encoder's sentence embedding (mean-pooled, normalized), else every output."""
    from olive_onnx.api import CALIBRATION, EVALUATION, tensor_data, text_data

    if model.text:
        postprocess = (
            [{"type": "mean_pool", "config": {"output": "last_hidden_state", "to": "embedding", "normalize": True}}]
            if model.hidden_states
            else []
        )
        recipe_data = text_data(request.data, postprocess, "embedding" if postprocess else None)
    else:
        recipe_data = tensor_data(request.data, model.inputs)
    configs = recipe_data.configs
    for name, samples in ((EVALUATION, EVALUATION_SAMPLES), (CALIBRATION, CALIBRATION_SAMPLES)):
        configs[name]["batch_size"] = 1
        configs[name]["max_samples"] = samples
        for step in configs[name].get("preprocess", []):
            if step["type"] == "hf_tokenize":
                step["config"]["max_length"] = model.sequence
        load = configs[name]["load"]
        if load["type"] == "synthetic":  # segment ids beyond 0 index past a BERT's token-type table
            ranges = load["config"].setdefault("ranges", {})
            ranges.update({input_name: [0, 0] for input_name, *_ in model.inputs or [] if "token_type" in input_name})
    source = (
        f"'{request.data.name}'"
        if request.data
        else "olive-onnx's built-in English sentences" if model.text else "synthetic inputs (random values)"
    )
    note = f"similarity measured on the first {EVALUATION_SAMPLES} samples of {source}, calibrated on its first {CALIBRATION_SAMPLES}"
    if not request.data:
        note += " (give --data for your own)"
    return configs, recipe_data.output, note
