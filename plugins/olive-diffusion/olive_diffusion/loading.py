"""Load a diffusers pipeline's parts with torch, and wrap each component for export and checks.

Each wrapper takes positional tensors in the io config's order and returns one tensor, which is
the calling convention olive-torch's exporters and checks use. ``load_component`` is the
``model_loader`` of the `pytorch` handles that DiffusionOnnxConversion hands to OnnxConversion.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from olive_core.errors import ModelLoadError

from olive_diffusion.components import SOURCE_FOLDERS
from olive_diffusion.configs import MODEL_INDEX, read_model_index

if TYPE_CHECKING:
    import torch

AttentionKind = Literal["classic", "default"]


def load_part(folder: Path, sub_folder: str, attention: AttentionKind = "default") -> Any:
    """One entry of model_index.json (``unet``, ``vae``, ``text_encoder``), loaded in eval mode.

    ``classic`` attention swaps diffusers' SDPA processors for ``AttnProcessor`` and loads CLIP
    with eager attention: explicit MatMul/Softmax graphs that ONNX Runtime's fusions recognize.
    """
    library, class_name = read_model_index(folder)[sub_folder]  # libraries and names checked there
    cls = model_class(folder, sub_folder, library, class_name)
    try:
        kwargs = {"attn_implementation": "eager"} if attention == "classic" and library == "transformers" else {}
        module = cls.from_pretrained(str(folder / sub_folder), **kwargs)
    except Exception as exc:  # diffusers and transformers raise many types for a bad folder
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelLoadError(
            f"'{folder / sub_folder}' cannot be loaded as {library}.{class_name}: {type(exc).__name__}: {first}",
            hint="check that the pipeline folder is complete (save_pretrained writes every part)",
        ) from exc
    if attention == "classic" and hasattr(module, "set_attn_processor"):
        from diffusers.models.attention_processor import AttnProcessor

        module.set_attn_processor(AttnProcessor())
    return module.eval()


#: library -> the base class of the models diffusers loads from it (among its LOADABLE_CLASSES)
MODEL_BASES = {"diffusers": "ModelMixin", "transformers": "PreTrainedModel"}


def model_class(folder: Path, sub_folder: str, library: str, class_name: str) -> type:
    """The class an entry names, if it is a model diffusers would load: a subclass of the
    library's model base class (ModelMixin, PreTrainedModel), both in diffusers' LOADABLE_CLASSES."""
    where = f"'{folder / MODEL_INDEX}' entry '{sub_folder}'"
    hint = "restore model_index.json as save_pretrained wrote it"
    if library not in MODEL_BASES:
        raise ModelLoadError(
            f"{where} names '{library}', which is not a library diffusers loads models from "
            f"({', '.join(MODEL_BASES)})",
            hint=hint,
        )
    module = importlib.import_module(library)
    cls, base = getattr(module, class_name, None), getattr(module, MODEL_BASES[library])
    if not isinstance(cls, type) or not issubclass(cls, base):
        raise ModelLoadError(
            f"{where} names {library}.{class_name}, which is not a model class diffusers loads "
            f"(a subclass of {library}.{MODEL_BASES[library]})",
            hint=hint,
        )
    return cls


def wrap_component(component: str, module: torch.nn.Module) -> torch.nn.Module:
    """``module`` (a UNet, CLIP text encoder or AutoencoderKL) as the named component's forward."""
    import torch

    class Component(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = module

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            if component == "unet":
                sample, timestep, states = args
                return self.model(sample, timestep, states, return_dict=False)[0]
            if component == "text_encoder":
                return self.model(args[0])[0]
            if component == "vae_encoder":
                # The distribution's mean: deterministic, unlike latent_dist.sample()
                return self.model.encode(args[0]).latent_dist.mean
            if component == "vae_decoder":
                return self.model.decode(args[0], return_dict=False)[0]
            raise ValueError(f"unknown component '{component}'")

    return Component().eval()


def load_component(pipeline_path: str, component: str, attention: AttentionKind = "default") -> torch.nn.Module:
    """The ``model_loader`` of one component: load its part of the pipeline and wrap it."""
    return wrap_component(component, load_part(Path(pipeline_path), SOURCE_FOLDERS[component], attention))


def component_handle_attributes(
    pipeline_path: Path, component: str, attention: AttentionKind, vocab_size: int
) -> dict[str, Any]:
    """Attributes of a `pytorch` handle whose loader builds ``component`` (for olive-torch's tools)."""
    return {
        "model_format": "loader",
        "model_loader": "olive_diffusion.loading:load_component",
        "loader_kwargs": {"pipeline_path": str(pipeline_path), "component": component, "attention": attention},
        "vocab_size": vocab_size,
    }
