"""Versions recorded in run.json, read from package metadata (nothing is imported)."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

KEY_LIBRARIES = (
    "torch",
    "transformers",
    "onnx",
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxscript",
    "numpy",
    "pydantic",
    "pluggy",
    "diffusers",
    "peft",
    "nevergrad",
)


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def collect_versions(plugins: dict[str, str]) -> dict[str, Any]:
    """olive-core, each loaded plugin's distribution, key libraries and Python."""
    libraries = {name: version for name in KEY_LIBRARIES if (version := _version(name))}
    return {
        "olive-core": _version("olive-core"),
        "plugins": plugins,
        "libraries": libraries,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
