"""Tiny models, data and contexts for tests of olive-torch-quant's passes (no hub access).

Only tests import this module; the plugin itself never does. The tiny BERT comes from
``olive_torch.testing`` with this plugin's own vocabulary; handles are made as a workflow
makes them, through olive-torch's model types.
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from typing import Any

import numpy as np

from olive_core.accelerators import AcceleratorSpec
from olive_core.models import IoConfig, ModelHandler
from olive_core.passes import PassContext
from olive_core.testing.steps import CPU

WORDS = ["the", "movie", "food", "was", "is", "very", "really", "good", "great", "bad", "awful", "not"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]

MLP_SOURCE = """
import torch


def build_mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
"""
MLP_IO = IoConfig(
    input_names=["features"],
    input_shapes=[[2, 32]],
    input_types=["float32"],
    output_names=["logits"],
    dynamic_axes={"features": {0: "batch_size"}, "logits": {0: "batch_size"}},
)


def pytorch_handle(weights: Path, loader: Path) -> ModelHandler:
    """A ``pytorch`` handle of the MLP: its weights file and its loader module (``build_mlp``)."""
    from olive_torch.pytorch_model import PyTorchModelType

    config = PyTorchModelType.Config(model_path=str(weights), model_loader=f"{loader}:build_mlp", io_config=MLP_IO)
    return PyTorchModelType().create_handle("input_model", config, weights.parent)


def context(data: dict[str, list[dict[str, np.ndarray]]] | None = None, device: str = "cpu") -> PassContext:
    """A pass context whose ``data(name)`` returns the given batches, as the engine's does."""
    accelerator = CPU if device == "cpu" else AcceleratorSpec(device, "CUDAExecutionProvider")
    return PassContext(
        accelerator=accelerator, step="test", data=(lambda name: data[name]) if data is not None else None
    )


def sentences(count: int, seed: int = 0) -> list[tuple[str, int]]:
    """Short reviews labeled 1 when the adjective is good or great, 0 when bad or awful."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        positive = rng.random() < 0.5
        adjective = rng.choice(["good", "great"] if positive else ["bad", "awful"])
        words = ["the", rng.choice(["movie", "food"]), rng.choice(["was", "is"]), rng.choice(["very", "really"])]
        rows.append((" ".join([*words, adjective]), int(positive)))
    return rows


def load(model: ModelHandler) -> Any:
    """The model's torch module, loaded as olive-torch loads it."""
    from olive_torch.loading import load_torch_model

    return load_torch_model(model)


def outputs(model: ModelHandler, seed: int = 0) -> Any:
    """The model's first output on seeded dummy inputs, as olive-torch loads and calls it."""
    import torch

    from olive_torch.io import dummy_inputs
    from olive_torch.wrapping import wrap_for_io

    with torch.inference_mode():
        return wrap_for_io(load(model), model)(*dummy_inputs(model, seed=seed).values())[0]


def example_steps(folder: Path) -> Any:
    """The lora-classifier example's steps.py, which reads the accuracy after each step from run.json."""
    spec = importlib.util.spec_from_file_location("lora_classifier_steps", folder / "steps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module
