"""The ONNX Runtime pipeline: the same images as diffusers for the same prompt and seed, timed per step."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from olive_core.errors import ModelLoadError
from olive_core.models import ModelHandler
from olive_core.testing.steps import input_handle

from olive_diffusion.manifest import MANIFEST_FILE
from olive_diffusion.metrics.image_similarity import psnr
from olive_diffusion.testing import STEPS, create_session, prompt_feed


def test_onnx_pipeline_reproduces_the_pytorch_images(merged_model: ModelHandler, onnx_model: ModelHandler) -> None:
    feed = prompt_feed((11, 12))
    reference = create_session(merged_model).generate(feed)
    generation = create_session(onnx_model).generate(feed)
    assert generation.images.shape == reference.images.shape == (2, 64, 64, 3)
    assert np.abs(generation.images - reference.images).max() < 1e-3
    assert min(psnr(a, b) for a, b in zip(generation.images, reference.images)) > 60
    assert len(generation.step_seconds) == STEPS


def test_other_sizes_and_steps_run_on_the_dynamic_export(
    merged_model: ModelHandler, onnx_model: ModelHandler, tmp_path: Path
) -> None:
    generation = {"num_inference_steps": 1, "guidance_scale": 1.0, "height": 32, "width": 48}
    onnx = input_handle("onnx_diffusion", tmp_path, model_path=onnx_model.path, generation=generation)
    torch = input_handle("diffusers", tmp_path, model_path=merged_model.path, generation=generation)
    feed = prompt_feed((2,))
    (images,) = create_session(onnx).run(feed)
    (expected,) = create_session(torch).run(feed)
    assert images.shape == (1, 32, 48, 3)
    assert np.abs(images - expected).max() < 1e-3


def test_a_missing_component_file_is_named(onnx_model: ModelHandler, tmp_path: Path) -> None:
    copy = shutil.copytree(onnx_model.path, tmp_path / "copy")
    (copy / "unet" / "model.onnx").unlink()
    with pytest.raises(ModelLoadError, match="unet model"):
        input_handle("onnx_diffusion", tmp_path, model_path=str(copy))
    (copy / MANIFEST_FILE).unlink()
    with pytest.raises(ModelLoadError, match="no pipeline.json"):
        input_handle("onnx_diffusion", tmp_path, model_path=str(copy))
