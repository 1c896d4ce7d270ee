"""A Hugging Face model's ``config.json``, read as plain JSON from its folder or the hub cache.

Kept apart from the `hf` model type (:mod:`olive_torch.hf_model`) because io configs
(:mod:`olive_torch.io`) need it too, and the model type needs io configs: both import this
module, which imports neither, so the three do not import one another in a circle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from olive_core.errors import ModelLoadError
from olive_core.models.handler import ModelHandler


def is_hub_handle(handle: ModelHandler) -> bool:
    return bool(handle.attributes.get("hub_id"))


def read_hf_config(handle: ModelHandler) -> dict[str, Any]:
    """The model's config.json contents, from its folder or (for a hub id) the hub cache."""
    if is_hub_handle(handle):
        return read_json(hub_file(handle.path, "config.json", handle.attributes.get("revision")))
    return read_json(Path(handle.path) / "config.json")


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a model's file; a ModelLoadError naming the file otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(
            f"'{path}' cannot be read as JSON: {exc}", hint="restore the file from the model's original source"
        ) from exc
    if not isinstance(data, dict):
        raise ModelLoadError(f"'{path}' holds a JSON {type(data).__name__}, not an object")
    return data


def hub_file(repo_id: str, filename: str, revision: str | None) -> Path:
    """One file of a hub model, from the local hub cache or downloaded into it."""
    try:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(repo_id, filename, revision=revision))
    except Exception as exc:  # offline, unknown repo, missing file, network: all the same to the user
        raise ModelLoadError(
            f"'{repo_id}' is neither a local folder nor a hub model whose {filename} can be fetched: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            hint="check the path (relative paths start at the workflow's folder), or the hub id, "
            "network access and HF_HUB_OFFLINE",
        ) from exc
