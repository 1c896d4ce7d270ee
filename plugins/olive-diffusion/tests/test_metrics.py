"""Pipeline metrics: per-step and per-image latency from the session's timings; PSNR and SSIM."""

from __future__ import annotations

import numpy as np
import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import DataError, IncompatibleModelError
from olive_core.evaluation.metric import MetricContext
from olive_core.models import ModelHandler

from olive_diffusion.metrics.image_similarity import (
    MAX_PSNR_DB,
    ImageSimilarityConfig,
    ImageSimilarityMetric,
    psnr,
    ssim,
)
from olive_diffusion.metrics.latency import PipelineLatencyConfig, PipelineLatencyMetric
from olive_diffusion.session import Generation


class FakePipeline:
    """Fixed timings: 2 images per call, 3 steps of 10, 20, 30 ms, 100 ms in all."""

    input_names = ["input_ids", "seed"]
    output_names = ["images"]

    def __init__(self) -> None:
        self.calls = 0

    def run(self, inputs: dict) -> list:
        return [self.generate(inputs).images]

    def generate(self, inputs: dict) -> Generation:
        self.calls += 1
        return Generation(np.zeros((2, 4, 4, 3), np.float32), 0.1, [0.01, 0.02, 0.03])


def _context(session: object, **fields: object) -> MetricContext:
    model = ModelHandler(type="onnx_diffusion", path="pipeline")
    return MetricContext(model=model, model_type=None, accelerator=AcceleratorSpec(), session=lambda: session, **fields)  # type: ignore[arg-type]


def test_latency_per_step_and_per_image() -> None:
    session = FakePipeline()
    batch = {"input_ids": np.zeros((2, 4), np.int64), "seed": np.zeros(2, np.int64)}
    values = PipelineLatencyMetric().measure(
        PipelineLatencyConfig(warmup_runs=1, repeat_runs=2), _context(session, model_inputs=lambda: [batch])
    )
    assert session.calls == 3
    assert values["step_mean"] == pytest.approx(20.0) and values["step_p50"] == pytest.approx(20.0)
    assert values["image_mean"] == pytest.approx(50.0) and values["image_p50"] == pytest.approx(50.0)


def test_latency_refuses_a_single_model_session() -> None:
    class Single:
        input_names, output_names = ["x"], ["y"]

        def run(self, inputs: dict) -> list:
            return []

    with pytest.raises(IncompatibleModelError, match="diffusion pipelines"):
        PipelineLatencyMetric().measure(
            PipelineLatencyConfig(), _context(Single(), model_inputs=lambda: [{"x": np.zeros(1)}])
        )


def test_psnr_and_ssim_of_identical_noisy_and_unrelated_images() -> None:
    rng = np.random.default_rng(0)
    image = rng.uniform(size=(32, 32, 3))
    noisy = np.clip(image + rng.normal(scale=0.01, size=image.shape), 0, 1)
    other = rng.uniform(size=image.shape)
    assert psnr(image, image) == MAX_PSNR_DB and ssim(image, image) == pytest.approx(1.0)
    assert 35 < psnr(noisy, image) < 45 and ssim(noisy, image) > 0.95
    assert psnr(other, image) < 10 and abs(ssim(other, image)) < 0.1
    assert ssim(noisy, image) == pytest.approx(ssim(image, noisy))


def test_image_similarity_compares_with_the_input_pipelines_images() -> None:
    rng = np.random.default_rng(1)
    images = rng.uniform(size=(2, 16, 16, 3)).astype(np.float32)
    shifted = np.clip(images + 0.01, 0, 1)
    context = _context(None, outputs=lambda: [{"images": shifted}], reference_outputs=lambda: [{"images": images}])
    values = ImageSimilarityMetric().measure(ImageSimilarityConfig(), context)
    assert 38 < values["psnr_min"] <= values["psnr_mean"] < 41
    assert values["ssim_min"] > 0.99
    context = _context(
        None, outputs=lambda: [{"images": images[:, :8]}], reference_outputs=lambda: [{"images": images}]
    )
    with pytest.raises(DataError, match="one size"):
        ImageSimilarityMetric().measure(ImageSimilarityConfig(), context)
