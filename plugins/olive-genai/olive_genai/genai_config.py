"""``genai_config.json``: read it, and check that every file it names lies inside its folder.

ONNX Runtime GenAI opens the model files that ``genai_config.json`` names. The folder may come
from anywhere (a colleague, a download, a shared cache), so a name that climbs out of it
(``../other.onnx``, an absolute path, a link) is refused before anything opens it, as are a
missing decoder and a folder without a tokenizer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path, PureWindowsPath
from typing import Any

from olive_core.errors import ModelLoadError

CONFIG_FILE = "genai_config.json"
#: one of these makes the folder's tokenizer loadable (by ONNX Runtime GenAI and by transformers)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "tokenizer_config.json")


def read_genai_config(folder: Path) -> dict[str, Any]:
    """The folder's genai_config.json, once its decoder, other model files and tokenizer check out."""
    folder = Path(folder)
    path = folder / CONFIG_FILE
    if not folder.is_dir():
        raise ModelLoadError(f"'{folder}' is not a folder", hint=f"point model_path at the folder holding {CONFIG_FILE}")
    if not path.is_file():
        raise ModelLoadError(
            f"'{folder}' has no {CONFIG_FILE}: it is not an ONNX Runtime GenAI model folder",
            hint="make one with the GenAIModelBuilder or GenAIKVCacheExport pass",
        )
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(f"'{path}' cannot be read as JSON: {exc}") from exc
    decoder = config.get("model", {}).get("decoder") if isinstance(config.get("model"), dict) else None
    if not isinstance(decoder, dict) or not isinstance(decoder.get("filename"), str):
        raise ModelLoadError(f"'{path}' names no model.decoder.filename", hint="rebuild the model folder")
    for where, name in named_files(config):
        model_file(folder, name, f"{CONFIG_FILE} {where}")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise ModelLoadError(
            f"'{folder}' has no tokenizer files ({', '.join(TOKENIZER_FILES)})",
            hint="copy the tokenizer of the model it was made from into the folder",
        )
    return config


def named_files(config: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every ``filename`` in the config (decoder, embedding, vision, ... sections), with its place."""
    if isinstance(config, dict):
        for key, value in config.items():
            place = f"{where}.{key}" if where else str(key)
            if key == "filename" and isinstance(value, str):
                yield place, value
            else:
                yield from named_files(value, place)
    elif isinstance(config, list):
        for index, value in enumerate(config):
            yield from named_files(value, f"{where}.{index}")


def model_file(folder: Path, name: str, where: str) -> Path:
    """``folder / name``, refused unless it is an existing file inside the folder (links resolved)."""
    escapes = os.path.isabs(name) or PureWindowsPath(name).is_absolute() or PureWindowsPath(name).drive
    path = Path(folder) / name
    if escapes or not path.resolve().is_relative_to(Path(folder).resolve()):
        raise ModelLoadError(
            f"{where} names '{name}', outside the model folder '{folder}'",
            hint="every file a genai model uses must be inside its folder",
        )
    if not path.is_file():
        raise ModelLoadError(f"{where} names '{name}', which is not in '{folder}'", hint="copy the model files together")
    return path


def write_genai_config(folder: Path, decoder: dict[str, Any], model: dict[str, Any]) -> Path:
    """Write the genai_config.json of a decoder whose inputs and outputs use ONNX Runtime GenAI's
    names (``input_ids``, ``attention_mask``, ``past_key_values.N.key`` -> ``logits``,
    ``present.N.key``), with greedy search up to the model's context as the default."""
    names = {
        "inputs": {
            "input_ids": "input_ids",
            "attention_mask": "attention_mask",
            "past_key_names": "past_key_values.%d.key",
            "past_value_names": "past_key_values.%d.value",
        },
        "outputs": {
            "logits": "logits",
            "present_key_names": "present.%d.key",
            "present_value_names": "present.%d.value",
        },
    }
    config = {
        "model": {
            **model,
            # ONNX Runtime GenAI's generic decoder: no builder-specific state (rotary caches, GQA buffers)
            "type": "decoder",
            "decoder": {"session_options": {"log_id": "onnxruntime-genai", "provider_options": []}, **decoder, **names},
        },
        "search": {
            "do_sample": False,
            "max_length": model["context_length"],
            "num_beams": 1,
            "num_return_sequences": 1,
            # the exported graph concatenates the past with the new keys: no shared fixed buffer
            "past_present_share_buffer": False,
        },
    }
    path = Path(folder) / CONFIG_FILE
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path
