"""Load and save the `hf` and `pytorch` models these passes rewrite.

Outputs are written so that olive-torch's model types load them back without unpickling code:
an `hf` model as a ``save_pretrained`` folder (safetensors) with its tokenizer and config files;
a `pytorch` model as a state dict for the same ``model_loader``: safetensors for plain tensors,
``torch.save`` for torchao's quantized tensors (read with ``weights_only=True``; safetensors has
no form for some of them). Facts the next passes need travel in the handle's attributes:
``quantization`` (how it was quantized) and ``adapter`` (a LoRA adapter folder beside it).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olive_core.errors import IncompatibleModelError
from olive_core.models.handler import ModelHandler

if TYPE_CHECKING:
    import torch

#: attribute naming a LoRA adapter folder, relative to the model folder (hf) or file's folder
ADAPTER = "adapter"
#: attribute describing how a model was quantized: {"library": "torchao", "scheme": ...}
QUANTIZATION = "quantization"
#: pytorch formats whose weights can be re-saved for the model's own model_loader
_WEIGHTS_FORMATS = ("loader", "safetensors", "torch_save")


# -- what a model is ---------------------------------------------------------------------------


def adapter_dir(model: ModelHandler) -> Path | None:
    """The LoRA adapter folder a model carries, if any; one outside the model's folder is refused."""
    from olive_torch.api import adapter_folder

    return adapter_folder(model)


def check_rewritable(
    pass_name: str, model: ModelHandler, *, adapter_ok: bool = False, quantized_ok: bool = False
) -> None:
    """Refuse, before any work, a model whose weights this plugin cannot rewrite and save."""
    if model.type == "pytorch":
        model_format = model.attributes.get("model_format")
        if model_format not in _WEIGHTS_FORMATS or not model.attributes.get("model_loader"):
            raise IncompatibleModelError(
                f"{pass_name} saves new weights for the model's model_loader, but this pytorch model is a "
                f"{str(model_format).replace('_', ' ')} file without one",
                hint="give the model as a state dict (.safetensors/.pt) with a model_loader that builds the "
                "module without arguments",
            )
    if not adapter_ok and model.attributes.get(ADAPTER):
        raise IncompatibleModelError(
            f"{pass_name} works on plain weights, but this model carries a LoRA adapter",
            hint="put a MergeLoRA step before it",
        )
    from olive_torch.api import quantization_of

    quantization = quantization_of(model)
    if not quantized_ok and quantization:
        raise IncompatibleModelError(
            f"{pass_name} works on float weights, but this model is already quantized "
            f"({quantization.get('library')} {quantization.get('scheme')})",
            hint="run it before the quantization step, on the float model",
        )


# -- loading -----------------------------------------------------------------------------------


def load_module(model: ModelHandler, **load_kwargs: Any) -> torch.nn.Module:
    """The model as a torch module (eval mode, CPU); ``load_kwargs`` go to an hf from_pretrained."""
    from olive_torch.api import load_torch_model

    if load_kwargs and model.type == "hf":
        merged = {**(model.attributes.get("load_kwargs") or {}), **load_kwargs}
        model = model.derive(attributes={"load_kwargs": merged})
    return load_torch_model(model)


def parameter_count(module: torch.nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def tensor_bytes(tensor: torch.Tensor) -> int:
    """Bytes a tensor holds; a tensor subclass (torchao) counts its inner tensors."""
    import torch

    if type(tensor) not in (torch.Tensor, torch.nn.Parameter) and hasattr(tensor, "__tensor_flatten__"):
        names, _ = tensor.__tensor_flatten__()
        return sum(tensor_bytes(getattr(tensor, name)) for name in names)
    return tensor.numel() * tensor.element_size()


def weight_megabytes(module: torch.nn.Module) -> float:
    return round(sum(tensor_bytes(t) for t in module.state_dict().values()) / 2**20, 4)


# -- saving ------------------------------------------------------------------------------------


def save_module(
    module: torch.nn.Module,
    model: ModelHandler,
    output_dir: Path,
    attributes: dict[str, Any] | None = None,
) -> ModelHandler:
    """Write ``module`` under ``output_dir`` in the input model's type; return its handle."""
    if model.type == "hf":
        return _save_hf(module, model, output_dir, attributes or {})
    return _save_pytorch(module, model, output_dir, attributes or {})


def _save_hf(
    module: torch.nn.Module, model: ModelHandler, output_dir: Path, attributes: dict[str, Any]
) -> ModelHandler:
    from olive_torch.api import architecture_attributes

    folder = output_dir / "model"
    module.save_pretrained(folder)  # safetensors: transformers' only format for new saves
    copy_support_files(model, folder)
    architecture = architecture_attributes(json.loads((folder / "config.json").read_text(encoding="utf-8")))
    return model.derive(
        path=str(folder),
        attributes={"hub_id": False, "revision": None, **architecture, **attributes},
    )


def copy_support_files(model: ModelHandler, folder: Path) -> None:
    """Tokenizer, generation config and sentence-transformers files; the new config.json stays."""
    from olive_torch.api import hf_support_files

    for source in hf_support_files(model):
        destination = folder / source.name
        if destination.exists():
            continue
        if source.is_dir():
            shutil.copytree(source, destination)
        else:
            shutil.copy2(source, destination)


def _save_pytorch(
    module: torch.nn.Module, model: ModelHandler, output_dir: Path, attributes: dict[str, Any]
) -> ModelHandler:
    from olive_torch.api import model_format_of, save_state_dict

    path = save_state_dict(module.state_dict(), output_dir)
    return model.derive(path=str(path), attributes={"model_format": model_format_of(path), **attributes})
