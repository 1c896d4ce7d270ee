"""What every contract suite checks the same way: configs and import cost."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import BaseModel, ValidationError

from olive_core.bounds import unbounded_numbers

HEAVY_MODULES = ("torch", "onnx", "onnxruntime", "onnxruntime_genai", "transformers", "diffusers")


def check_config(config_class: type[BaseModel]) -> None:
    """Strict (unknown fields refused), every field described, every number bounded and finite."""
    assert config_class.model_config.get("extra") == "forbid", "use olive_core.bounds.STRICT_CONFIG"
    undocumented = [name for name, info in config_class.model_fields.items() if not info.description]
    assert not undocumented, f"fields without a description: {undocumented}"
    with pytest.raises(ValidationError):
        config_class.model_validate({"__surely_not_a_field__": 1})
    assert unbounded_numbers(config_class) == [], "give every int field ge/le bounds (see olive_core.bounds)"


def heavy_modules_after_import(module: str) -> list[str]:
    """The heavy frameworks importing ``module`` loads, in a fresh interpreter."""
    code = f"import sys, {module}; print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    return [name for name in loaded.split(",") if name]
