"""A tiny Stable Diffusion pipeline built once per session from configs, its LoRA adapters, and the
models the passes make from it (merged, exported), shared by the tests that read them."""

from __future__ import annotations

import os
from pathlib import Path

# The machine is shared and the models are tiny: OpenMP's spinning threads only slow them down.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from olive_core.models import ModelHandler
from olive_core.testing.steps import input_handle, run_pass
from olive_diffusion.testing import STEPS, TEXT_LENGTH


@pytest.fixture(scope="session")
def tiny_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from olive_diffusion.tiny import build_tiny_pipeline

    return build_tiny_pipeline(tmp_path_factory.mktemp("pipelines") / "tiny-sd", text_length=TEXT_LENGTH)


@pytest.fixture(scope="session")
def tiny_lora(tiny_pipeline: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A diffusers-format adapter (safetensors) for the UNet and the text encoder, made with peft."""
    from olive_diffusion.tiny import build_tiny_lora

    return build_tiny_lora(tiny_pipeline, tmp_path_factory.mktemp("lora") / "tiny-lora")


@pytest.fixture(scope="session")
def tiny_peft_lora(tiny_pipeline: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A peft-format adapter folder (adapter_config.json + adapter_model.safetensors) for the UNet."""
    from olive_diffusion.tiny import build_tiny_lora

    return build_tiny_lora(tiny_pipeline, tmp_path_factory.mktemp("lora") / "tiny-peft", "peft", seed=2)


@pytest.fixture(scope="session")
def base_model(tiny_pipeline: Path) -> ModelHandler:
    return input_handle(
        "diffusers", tiny_pipeline.parent, model_path=str(tiny_pipeline), generation={"num_inference_steps": STEPS}
    )


@pytest.fixture(scope="session")
def lora_model(tiny_pipeline: Path, tiny_lora: Path) -> ModelHandler:
    return input_handle(
        "diffusers",
        tiny_pipeline.parent,
        model_path=str(tiny_pipeline),
        lora_adapters=[{"path": str(tiny_lora)}],
        generation={"num_inference_steps": STEPS},
    )


@pytest.fixture(scope="session")
def merged_model(lora_model: ModelHandler, tmp_path_factory: pytest.TempPathFactory) -> ModelHandler:
    merged, _ = run_pass("DiffusionMergeLoRA", lora_model, tmp_path_factory.mktemp("merged"))
    return merged


@pytest.fixture(scope="session")
def onnx_model(merged_model: ModelHandler, tmp_path_factory: pytest.TempPathFactory) -> ModelHandler:
    """Every component exported (TorchScript, classic attention, dynamic sizes)."""
    exported, _ = run_pass("DiffusionOnnxConversion", merged_model, tmp_path_factory.mktemp("onnx"))
    return exported
