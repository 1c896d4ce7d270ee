"""LoRA adapters attached to a `diffusers` model: where they are, which format, how strong.

Adapters belong to the model, not to the pass that merges them: their files are part of the
model's content id (so a changed adapter is a new model and never a stale cache hit), and a
model with adapters attached is what PyTorch users run today, which is the reference every
optimized pipeline is compared with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from olive_core.bounds import STRICT_CONFIG
from olive_core.errors import ModelLoadError

AdapterFormat = Literal["diffusers", "peft"]

#: the file diffusers' save_lora_weights writes
DIFFUSERS_WEIGHTS = "pytorch_lora_weights.safetensors"
#: the files peft's save_pretrained writes
PEFT_CONFIG = "adapter_config.json"
PEFT_WEIGHTS = "adapter_model.safetensors"


class LoraAdapterConfig(BaseModel):
    """One adapter in ``input_model.config.lora_adapters``."""

    model_config = STRICT_CONFIG

    path: str = Field(
        description="a diffusers LoRA .safetensors file (or a folder holding pytorch_lora_weights.safetensors), "
        "or a peft adapter folder (adapter_config.json + adapter_model.safetensors); relative to the workflow's folder"
    )
    name: str | None = Field(
        default=None, description="adapter name; default: the folder's name (or the file's, for a file of another name)"
    )
    scale: float = Field(default=1.0, ge=-10, le=10, description="strength of the adapter (1: as trained)")
    component: Literal["unet", "text_encoder"] = Field(
        default="unet",
        description="the component a peft-format adapter was trained on (diffusers files name theirs in their keys)",
    )


def resolve_adapters(adapters: list[LoraAdapterConfig], base_dir: Path) -> list[dict[str, Any]]:
    """Adapters as JSON for a handle: absolute weight file, format, unique name, scale, component."""
    resolved: list[dict[str, Any]] = []
    for index, adapter in enumerate(adapters):
        path = Path(adapter.path).expanduser()
        path = (path if path.is_absolute() else base_dir / path).resolve()
        adapter_format, weights = detect_adapter(path, f"input_model.config.lora_adapters.{index}")
        name = adapter.name or _default_name(path)
        if any(entry["name"] == name for entry in resolved):
            raise ModelLoadError(
                f"two LoRA adapters are named '{name}'", hint="give each adapter its own 'name' in lora_adapters"
            )
        resolved.append(
            {
                "name": name,
                "path": str(weights),
                "format": adapter_format,
                "scale": adapter.scale,
                "component": adapter.component,
            }
        )
    return resolved


def _default_name(path: Path) -> str:
    """The folder's name for a folder or a file of the standard name, else the file's stem."""
    return (
        path.stem
        if path.is_file() and path.name != DIFFUSERS_WEIGHTS
        else (path.parent.name if path.is_file() else path.name)
    )


def detect_adapter(path: Path, where: str) -> tuple[AdapterFormat, Path]:
    """The adapter's format and weight file, from the files present (nothing is loaded)."""
    if path.is_file():
        if path.suffix != ".safetensors":
            raise ModelLoadError(
                f"{where}: '{path}' is not a .safetensors file; olive reads LoRA weights only as safetensors",
                hint="convert the adapter with safetensors.torch.save_file (pickled .bin/.pt files can run code)",
            )
        return "diffusers", path
    if (path / PEFT_CONFIG).is_file() and (path / PEFT_WEIGHTS).is_file():
        return "peft", path / PEFT_WEIGHTS
    if (path / DIFFUSERS_WEIGHTS).is_file():
        return "diffusers", path / DIFFUSERS_WEIGHTS
    if path.is_dir():
        raise ModelLoadError(
            f"{where}: folder '{path}' holds neither {PEFT_CONFIG} + {PEFT_WEIGHTS} (peft) nor {DIFFUSERS_WEIGHTS} (diffusers)",
            hint="point path at the adapter's .safetensors file or at the folder save_pretrained wrote",
        )
    raise ModelLoadError(
        f"{where}: LoRA adapter '{path}' does not exist", hint="relative paths start at the workflow's folder"
    )


def adapter_files(adapter: dict[str, Any]) -> list[Path]:
    """Every file that defines an adapter: its weights, and for peft its config."""
    weights = Path(adapter["path"])
    return [weights, weights.parent / PEFT_CONFIG] if adapter["format"] == "peft" else [weights]
