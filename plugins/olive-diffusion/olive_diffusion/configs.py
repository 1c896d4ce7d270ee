"""Reading a diffusers pipeline folder's JSON files (no diffusers import), with errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from olive_core.errors import ModelLoadError

MODEL_INDEX = "model_index.json"

#: model_index.json entries every supported pipeline has
REQUIRED_ENTRIES = ("text_encoder", "tokenizer", "unet", "vae", "scheduler")


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelLoadError(
            f"'{path}' does not exist", hint="the pipeline folder is incomplete; save it again"
        ) from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(
            f"'{path}' cannot be read as JSON: {exc}", hint="restore the file from the pipeline's source"
        ) from exc
    if not isinstance(data, dict):
        raise ModelLoadError(f"'{path}' holds a JSON {type(data).__name__}, not an object")
    return data


def read_model_index(folder: Path) -> dict[str, Any]:
    """model_index.json, refusing pipelines this plugin cannot run (SDXL, inpainting, missing parts)."""
    index = read_json(folder / MODEL_INDEX)
    present = {name for name, value in index.items() if not name.startswith("_") and _is_component(value)}
    missing = [name for name in REQUIRED_ENTRIES if name not in present]
    if missing:
        raise ModelLoadError(
            f"'{folder}' is not a Stable-Diffusion-style pipeline: {MODEL_INDEX} names no {', '.join(missing)}",
            hint="olive-diffusion runs pipelines with one CLIP text encoder, a UNet, a VAE, a scheduler and a tokenizer",
        )
    if "text_encoder_2" in present:
        raise ModelLoadError(
            f"'{folder}' is an SDXL-style pipeline (two text encoders), which olive-diffusion does not run yet",
            hint="use a Stable Diffusion 1.x/2.x-style pipeline",
        )
    return index


def _is_component(value: Any) -> bool:
    """model_index.json writes absent components as [null, null]."""
    return isinstance(value, list) and len(value) == 2 and value[0] is not None and value[1] is not None


def read_component_config(folder: Path, sub_folder: str, name: str = "config.json") -> dict[str, Any]:
    return read_json(folder / sub_folder / name)
