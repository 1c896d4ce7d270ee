"""A tiny Stable Diffusion pipeline built once per session from configs, its LoRA adapters, and the
models the passes make from it (merged, exported), shared by the tests that read them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# The machine is shared and the models are tiny: OpenMP's spinning threads only slow them down.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.models import ModelHandler
from olive_core.passes import PassContext
from olive_core.plugins import create_plugin_manager

CPU = AcceleratorSpec("cpu", "CPUExecutionProvider")
#: the tiny pipeline's text length (its tokenizer's model_max_length), which every input follows
TEXT_LENGTH = 16
STEPS = 2


def make_handle(model_type: str, base_dir: Path, **config: Any) -> ModelHandler:
    """A handle as the engine makes it for an input model: validated config, checked, with its content id."""
    cls = create_plugin_manager().registry.load("model_type", model_type)
    instance = cls()
    handle = instance.create_handle("input_model", cls.Config.model_validate(config), base_dir)
    instance.check(handle)
    return handle.model_copy(update={"id": instance.content_id(handle)})


def run_pass(
    pass_name: str, model: ModelHandler, output_dir: Path, config: dict[str, Any] | None = None
) -> tuple[ModelHandler, PassContext]:
    """Check and run one registered pass the way the engine does; return its output and context."""
    pass_class = create_plugin_manager().registry.load("pass", pass_name)
    the_pass, parsed = pass_class(), pass_class.Config(**(config or {}))
    context = PassContext(accelerator=CPU, step=pass_name)
    the_pass.check_input(model, parsed, context)
    output_dir.mkdir(parents=True, exist_ok=True)
    return the_pass.run(model, parsed, output_dir, context), context


def prompt_feed(seeds: tuple[int, ...] = (3, 4), offset: int = 0) -> dict[str, np.ndarray]:
    """Token ids within the tiny vocabulary, one row per seed."""
    rows = [(np.arange(TEXT_LENGTH) * (index + 3) + offset) % 50 for index in range(len(seeds))]
    return {"input_ids": np.stack(rows).astype(np.int64), "seed": np.asarray(seeds, dtype=np.int64)}


def create_session(model: ModelHandler, settings: dict[str, Any] | None = None) -> Any:
    cls = create_plugin_manager().registry.load("model_type", model.type)
    return cls().create_session(model, CPU, {"intra_op_num_threads": 1} if settings is None else settings)


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
    return make_handle(
        "diffusers", tiny_pipeline.parent, model_path=str(tiny_pipeline), generation={"num_inference_steps": STEPS}
    )


@pytest.fixture(scope="session")
def lora_model(tiny_pipeline: Path, tiny_lora: Path) -> ModelHandler:
    return make_handle(
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
