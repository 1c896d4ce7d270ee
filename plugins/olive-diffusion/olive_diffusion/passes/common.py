"""What the pipeline passes share: copying a pipeline's untouched parts, and example inputs per component."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olive_core.models.handler import ModelHandler

from olive_diffusion.components import ComponentName
from olive_diffusion.loading import AttentionKind, component_handle_attributes
from olive_diffusion.shapes import PipelineShapes, component_io_config

if TYPE_CHECKING:
    import torch


def copy_tree(source: Path, destination: Path, ignore: Any = None) -> None:
    """Copies, never hard links: a tool that rewrites a file in place (save_pretrained does) would
    otherwise change the source too, be it the user's model or a cached artifact."""
    shutil.copytree(source, destination, ignore=ignore, dirs_exist_ok=True)


def component_torch_handle(
    pipeline_folder: Path,
    component: ComponentName,
    shapes: PipelineShapes,
    guidance: bool,
    attention: AttentionKind,
    image_size: tuple[int, int] | None = None,
    dynamic_image_size: bool = True,
) -> ModelHandler:
    """A `pytorch` handle of one component, so olive-torch's and olive-onnx's single-model tools apply to it."""
    return ModelHandler(
        type="pytorch",
        path=str(pipeline_folder),
        io_config=component_io_config(component, shapes, guidance, image_size, dynamic_image_size),
        attributes=component_handle_attributes(pipeline_folder, component, attention, shapes.vocab_size),
    )


def example_inputs(handle: ModelHandler, batch_size: int | None = None, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Seeded example tensors in io-config order (olive-torch's dummy inputs: token ids within the vocabulary)."""
    from olive_torch.api import dummy_inputs

    inputs = dummy_inputs(handle, batch_size=batch_size, seed=seed)
    return tuple(inputs[name] for name in handle.io_config.input_names)  # type: ignore[union-attr]
