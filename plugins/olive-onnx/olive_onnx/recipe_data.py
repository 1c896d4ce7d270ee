"""The data an olive-onnx recipe measures and calibrates on, and the checks of ``--data``.

Text models are measured on ``--data`` (a .txt file, one sample a line, or a .jsonl file with a
text field) or, without it, on the built-in sample sentences tokenized by the model's own
tokenizer. Models whose inputs are tensors (PyTorch modules, ONNX graphs without a tokenizer)
take a .jsonl file whose fields are their inputs, or synthetic inputs shaped like the graph's.
A file the recipe cannot read is refused here, before anything runs, with a ConfigError naming
``--data``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from olive_core.errors import ConfigError

#: 64 English sentences of everyday topics (the MiniLM example's): what text models are measured
#: on when the user gives no data
SAMPLE_SENTENCES = Path(__file__).resolve().parent / "samples" / "sentences.txt"
EVALUATION, CALIBRATION = "evaluation", "calibration"
BATCH_SIZE = 8
CALIBRATION_SAMPLES = 32
MAX_LENGTH = 128
SYNTHETIC_SAMPLES = 64
#: the size given to a symbolic dimension other than the batch (the sequence length)
SYNTHETIC_DIM = 128
#: the synthetic loader's default highest integer, kept for inputs whose table is larger
SYNTHETIC_INT_HIGH = 99
_FORMATS = "a .txt file (one sample a line) or a .jsonl file (one JSON object a line)"


@dataclass(frozen=True)
class RecipeData:
    """Data configs for a workflow, and what a person should know about them."""

    #: workflow ``data`` entries: ``evaluation`` and ``calibration``
    configs: dict[str, dict[str, Any]]
    #: the post-processed output that similarity compares; None: every output
    output: str | None
    #: one sentence for the workflow's description
    note: str
    #: for a PyTorch module: the io_config read from the data's fields
    io_config: dict[str, Any] | None = None


def text_data(data_file: Path | None, postprocess: list[dict[str, Any]], output: str | None) -> RecipeData:
    """Sentences for a text model: ``data_file`` (.txt or .jsonl) or the built-in samples."""
    if data_file is None:
        load, count, text_field = {"type": "text_lines", "config": {"path": str(SAMPLE_SENTENCES)}}, len(_lines(SAMPLE_SENTENCES)), "text"
        note = f"measured on olive-onnx's {count} built-in English sample sentences (give --data for your own)"
    else:
        load, count, text_field = _text_loader(data_file)
        note = f"measured on the {count} samples of '{data_file.name}'"
    tokenize: dict[str, Any] = {"max_length": MAX_LENGTH, "padding": "max_length"}
    if text_field != "text":
        tokenize["text_field"] = text_field
    preprocess = [{"type": "hf_tokenize", "config": tokenize}]
    evaluation = {"load": load, "preprocess": preprocess, "postprocess": postprocess, "batch_size": BATCH_SIZE}
    if not postprocess:
        del evaluation["postprocess"]
    calibration = {"load": load, "preprocess": preprocess, "batch_size": BATCH_SIZE, "max_samples": CALIBRATION_SAMPLES}
    return RecipeData(json.loads(json.dumps({EVALUATION: evaluation, CALIBRATION: calibration})), output, note)


def tensor_data(
    data_file: Path | None, inputs: list[tuple[str, str, tuple[Any, ...]]] | None, index_limits: dict[str, int] | None = None
) -> RecipeData:
    """Inputs for a model that takes tensors: a .jsonl file of its inputs, or synthetic ones.

    ``inputs`` are the graph's (name, numpy dtype, dims) when known (an ONNX model); a PyTorch
    module says nothing about its inputs, so its io_config is read from the data's fields.
    ``index_limits``: per integer input that indexes a table, its row count (values stay below).
    """
    limits = index_limits or {}
    if data_file is not None:
        return _tensor_file(data_file, inputs, limits)
    if inputs is None:
        raise ConfigError(
            "a PyTorch module does not say what inputs it takes, and no data shows them",
            path="--data",
            hint="give --data FILE.jsonl whose fields are the module's inputs in call order, "
            'e.g. {"features": [0.1, 0.2, ...]}; its first sample sets the shapes',
        )
    shapes, ranges = {}, {}
    for name, dtype, dims in inputs:
        shapes[name] = [dim if isinstance(dim, int) and dim > 0 else SYNTHETIC_DIM for dim in dims[1:]]
        if "mask" in name.lower() and dtype.startswith(("int", "uint", "bool")):
            ranges[name] = [1, 1]
        elif name in limits:
            ranges[name] = [0, min(SYNTHETIC_INT_HIGH, limits[name] - 1)]
    synthetic: dict[str, Any] = {"num_samples": SYNTHETIC_SAMPLES, "shapes": shapes}
    if ranges:
        synthetic["ranges"] = ranges
    load = {"type": "synthetic", "config": synthetic}
    note = (
        f"measured on {SYNTHETIC_SAMPLES} synthetic inputs (random values shaped like the model's, other symbolic "
        f"dimensions {SYNTHETIC_DIM}): latency and size hold, similarity is only as telling as random inputs "
        "(give --data FILE.jsonl of real inputs)"
    )
    return RecipeData(_tensor_configs(load, []), None, note)


def _tensor_file(data_file: Path, inputs: list[tuple[str, str, tuple[Any, ...]]] | None, limits: dict[str, int]) -> RecipeData:
    if data_file.suffix.lower() != ".jsonl":
        raise ConfigError(
            f"'{data_file}' cannot be read as inputs of this model: it takes tensors, which come from a .jsonl file",
            path="--data",
            hint='give a .jsonl file whose fields are the model\'s inputs, e.g. {"features": [0.1, 0.2, ...]}',
        )
    samples = _jsonl_samples(data_file)
    first = samples[0]
    if inputs is not None:
        names = [name for name, _, _ in inputs]
        missing = [name for name in names if name not in first]
        if missing:
            raise ConfigError(
                f"'{data_file}' has no field '{missing[0]}', an input of the model",
                path="--data",
                hint=f"the model's inputs: {', '.join(names)}; the file's fields: {', '.join(first)}",
            )
        dtypes = {name: dtype for name, dtype, _ in inputs}
        io_config = None
        _check_indices(samples, limits, data_file)
    else:
        names = [name for name in first if name != "label"]
        dtypes = {name: _dtype_of(first[name], name, data_file) for name in names}
        io_config = {
            "input_names": names,
            "input_shapes": [[1, *_shape_of(first[name])] for name in names],
            "input_types": [dtypes[name] for name in names],
            "output_names": ["output"],
            "dynamic_axes": {**{name: {"0": "batch"} for name in names}, "output": {"0": "batch"}},
        }
    load = {"type": "jsonl", "config": {"path": str(data_file), "columns": names}}
    cast = [{"type": "cast", "config": {"dtypes": dtypes}}]
    note = f"measured on the {len(samples)} samples of '{data_file.name}'"
    return RecipeData(_tensor_configs(load, cast), None, note, io_config)


def _tensor_configs(load: dict[str, Any], preprocess: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    configs = {
        EVALUATION: {"load": load, "preprocess": preprocess, "batch_size": BATCH_SIZE},
        CALIBRATION: {"load": load, "preprocess": preprocess, "batch_size": BATCH_SIZE, "max_samples": CALIBRATION_SAMPLES},
    }
    return json.loads(json.dumps(configs))  # two independent copies


# -- reading and checking --data ------------------------------------------------------------


def _text_loader(data_file: Path) -> tuple[dict[str, Any], int, str]:
    """The loader of a text data file, how many samples it holds, and the field of the text."""
    suffix = data_file.suffix.lower()
    if suffix == ".txt":
        return {"type": "text_lines", "config": {"path": str(data_file)}}, len(_lines(data_file)), "text"
    if suffix == ".jsonl":
        samples = _jsonl_samples(data_file)
        text_field = _text_field(samples[0], data_file)
        for number, sample in enumerate(samples, start=1):
            if not isinstance(sample.get(text_field), str):
                raise ConfigError(f"'{data_file}': sample {number} has no text in field '{text_field}'", path="--data")
        return {"type": "jsonl", "config": {"path": str(data_file), "columns": [text_field]}}, len(samples), text_field
    raise ConfigError(f"'{data_file}' is not {_FORMATS}", path="--data", hint="write one sample a line to a .txt file, or one JSON object a line to a .jsonl file")


def _text_field(sample: dict[str, Any], data_file: Path) -> str:
    """``text``, else the one field holding a string."""
    if isinstance(sample.get("text"), str):
        return "text"
    strings = [name for name, value in sample.items() if isinstance(value, str)]
    if len(strings) == 1:
        return strings[0]
    raise ConfigError(
        f"'{data_file}': cannot tell which field holds the text (fields: {', '.join(sample) or 'none'})",
        path="--data",
        hint='name the field "text" in every line',
    )


def _read(data_file: Path) -> str:
    try:
        return data_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"'{data_file}' is not UTF-8 text ({exc.reason} at byte {exc.start})",
            path="--data",
            hint=f"give {_FORMATS}",
        ) from None
    except OSError as exc:
        raise ConfigError(f"'{data_file}' cannot be read: {exc.strerror or exc}", path="--data") from None


def _lines(data_file: Path) -> list[str]:
    lines = [line for line in _read(data_file).splitlines() if line.strip()]
    if not lines:
        raise ConfigError(f"'{data_file}' holds no samples (no line with text)", path="--data")
    return lines


def _jsonl_samples(data_file: Path) -> list[dict[str, Any]]:
    samples = []
    for number, line in enumerate(_read(data_file).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            sample = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"'{data_file}' is not JSON Lines: line {number}, column {exc.colno}: {exc.msg}",
                path="--data",
                hint="write one JSON object a line",
            ) from None
        if not isinstance(sample, dict):
            raise ConfigError(
                f"'{data_file}': line {number} is a {type(sample).__name__}, not an object of fields",
                path="--data",
                hint='write one JSON object a line, e.g. {"text": "..."}',
            )
        samples.append(sample)
    if not samples:
        raise ConfigError(f"'{data_file}' holds no samples (no line with a JSON object)", path="--data")
    return samples


def _check_indices(samples: list[dict[str, Any]], limits: dict[str, int], data_file: Path) -> None:
    """Index inputs (token ids, token type ids) within the table they index, in every sample."""
    for number, sample in enumerate(samples, start=1):
        for name, limit in limits.items():
            values = [v for v in _leaves(sample.get(name)) if isinstance(v, (int, float))]
            outside = [v for v in values if not 0 <= v < limit]
            if outside:
                raise ConfigError(
                    f"'{data_file}': sample {number}, field '{name}' holds {outside[0]}, outside the model's table "
                    f"of {limit} rows that '{name}' indexes",
                    path="--data",
                    hint=f"values of '{name}' must lie in 0..{limit - 1} (token ids from this model's own tokenizer)",
                )


def _shape_of(value: Any) -> list[int]:
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return shape


def _dtype_of(value: Any, name: str, data_file: Path) -> str:
    """int64 when every number is an integer, float32 otherwise; a ConfigError for anything else."""
    leaves = list(_leaves(value))
    if not leaves or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in leaves):
        raise ConfigError(
            f"'{data_file}': field '{name}' of the first sample is not a number or a list of numbers",
            path="--data",
            hint="each field of a PyTorch model's data is one of its input tensors",
        )
    return "int64" if all(isinstance(v, int) for v in leaves) else "float32"


def _leaves(value: Any) -> Any:
    if isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value
