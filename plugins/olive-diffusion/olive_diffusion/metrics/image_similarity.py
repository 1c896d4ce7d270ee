"""Image similarity to the input pipeline's images for the same prompts and seeds: PSNR and SSIM.

Cosine similarity (the core 'similarity' metric) says little about images; PSNR is the usual
pixel-error measure and SSIM compares local structure (means, contrasts, correlations in 7x7
windows), closer to what a person notices.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from olive_core.bounds import Index
from olive_core.errors import DataError
from olive_core.evaluation.batching import describe_array
from olive_core.evaluation.metric import Direction, Metric, MetricConfig, MetricContext
from olive_core.evaluation.postprocess import pick_output

#: PSNR of identical images is infinite; this caps it to a finite, comparable number
MAX_PSNR_DB = 100.0
_C1, _C2 = 0.01**2, 0.03**2  # SSIM's stabilizers for a data range of 1


class ImageSimilarityConfig(MetricConfig):
    output: str | Index = Field(default="images", description="the output holding NHWC images in [0, 1] (name or index)")
    window: int = Field(default=7, ge=3, le=255, description="side of SSIM's square window, in pixels")


def psnr(image: np.ndarray, reference: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB for images in [0, 1], capped at MAX_PSNR_DB."""
    mse = float(np.mean((image.astype(np.float64) - reference.astype(np.float64)) ** 2))
    return MAX_PSNR_DB if mse <= 10 ** (-MAX_PSNR_DB / 10) else min(MAX_PSNR_DB, 10.0 * np.log10(1.0 / mse))


def _box_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean over every window x window square of an [H, W, C] array (valid positions only)."""
    summed = np.cumsum(np.cumsum(np.pad(values, ((1, 0), (1, 0), (0, 0))), axis=0), axis=1)
    total = (
        summed[window:, window:] - summed[:-window, window:] - summed[window:, :-window] + summed[:-window, :-window]
    )
    return total / (window * window)


def ssim(image: np.ndarray, reference: np.ndarray, window: int = 7) -> float:
    """Mean structural similarity of two [H, W, C] images in [0, 1] (uniform windows, per channel)."""
    x, y = image.astype(np.float64), reference.astype(np.float64)
    window = min(window, x.shape[0], x.shape[1])
    mean_x, mean_y = _box_mean(x, window), _box_mean(y, window)
    var_x = _box_mean(x * x, window) - mean_x**2
    var_y = _box_mean(y * y, window) - mean_y**2
    cov = _box_mean(x * y, window) - mean_x * mean_y
    numerator = (2 * mean_x * mean_y + _C1) * (2 * cov + _C2)
    denominator = (mean_x**2 + mean_y**2 + _C1) * (var_x + var_y + _C2)
    return float(np.mean(numerator / denominator))


class ImageSimilarityMetric(Metric):
    """PSNR (dB) and SSIM of each generated image against the input pipeline's image for the same prompt and seed."""

    Config = ImageSimilarityConfig
    sub_metrics: ClassVar[dict[str, Direction]] = {
        "psnr_mean": "max",
        "psnr_min": "max",
        "ssim_mean": "max",
        "ssim_min": "max",
    }
    needs_reference: ClassVar[bool] = True

    def measure(self, config: ImageSimilarityConfig, context: MetricContext) -> dict[str, float]:
        if context.outputs is None or context.reference_outputs is None:
            raise DataError("metric 'image_similarity' needs data: name an entry of 'data' (prompts) in the metric")
        psnrs, ssims = [], []
        for batch, reference in zip(context.outputs(), context.reference_outputs(), strict=True):
            images = np.asarray(batch[pick_output(batch, config.output, "metric 'image_similarity'")])
            expected = np.asarray(
                reference[pick_output(reference, config.output, "metric 'image_similarity' (input model)")]
            )
            if images.shape != expected.shape or images.ndim != 4:
                raise DataError(
                    f"metric 'image_similarity': images are {describe_array(images)} but the input model's are "
                    f"{describe_array(expected)}; both must be NHWC batches of one size",
                    hint="generate both pipelines at one height and width (generation.height/width)",
                )
            for image, target in zip(images, expected):
                psnrs.append(psnr(image, target))
                ssims.append(ssim(image, target, config.window))
        return {
            "psnr_mean": float(np.mean(psnrs)),
            "psnr_min": float(np.min(psnrs)),
            "ssim_mean": float(np.mean(ssims)),
            "ssim_min": float(np.min(ssims)),
        }
