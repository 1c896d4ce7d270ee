"""Similarity of a model's post-processed outputs to the input model's on the same data.

It needs no labels: it tells how far an optimized model (quantized, fp16) drifted from the
model it came from, which is what most optimization goals care about.
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


class SimilarityConfig(MetricConfig):
    output: str | Index | None = Field(
        default=None, description="compare only this post-processed output (name or index); default: every output"
    )


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of each sample (row after flattening all but the first axis).

    Two zero vectors are identical (1); a zero vector and a non-zero one share nothing (0).
    """
    a = a.reshape(a.shape[0], -1).astype(np.float64)
    b = b.reshape(b.shape[0], -1).astype(np.float64)
    norm_a = np.linalg.norm(a, axis=1)
    norm_b = np.linalg.norm(b, axis=1)
    dot = np.sum(a * b, axis=1)
    both = (norm_a > 0) & (norm_b > 0)
    cosine = np.where(both, dot / np.where(both, norm_a * norm_b, 1.0), 0.0)
    cosine = np.where((norm_a == 0) & (norm_b == 0), 1.0, cosine)
    return np.clip(cosine, -1.0, 1.0)


def similarity_scores(outputs: list[np.ndarray], reference: list[np.ndarray]) -> dict[str, float]:
    """cosine_mean and cosine_min over samples, max_abs_error over every element."""
    cosines = []
    max_error = 0.0
    for index, (out, ref) in enumerate(zip(outputs, reference, strict=True)):
        out, ref = np.asarray(out), np.asarray(ref)
        if out.shape != ref.shape:
            raise DataError(
                f"metric 'similarity': output {index} is {describe_array(out)} but the input model's is {describe_array(ref)}",
                hint="compare outputs of one shape: pick one with 'output' or add a post-processing step",
            )
        if out.size == 0:
            continue
        if out.ndim == 0:
            out, ref = out.reshape(1), ref.reshape(1)
        cosines.append(cosine_rows(out, ref))
        max_error = max(max_error, float(np.max(np.abs(out.astype(np.float64) - ref.astype(np.float64)))))
    if not cosines:
        raise DataError("metric 'similarity': the outputs are empty")
    every = np.concatenate(cosines)
    return {"cosine_mean": float(every.mean()), "cosine_min": float(every.min()), "max_abs_error": max_error}


class SimilarityMetric(Metric):
    """Cosine similarity (mean, min) and max absolute error of outputs against the input model's."""

    Config = SimilarityConfig
    sub_metrics: ClassVar[dict[str, Direction]] = {"cosine_mean": "max", "cosine_min": "max", "max_abs_error": "min"}
    needs_reference: ClassVar[bool] = True

    def measure(self, config: SimilarityConfig, context: MetricContext) -> dict[str, float]:
        if context.outputs is None or context.reference_outputs is None:
            raise DataError("metric 'similarity' needs data: name an entry of 'data' in the metric")
        outputs, reference = [], []
        for batch_out, batch_ref in zip(context.outputs(), context.reference_outputs(), strict=True):
            names = self._names(batch_out, batch_ref, config)
            outputs += [batch_out[name] for name in names]
            reference += [batch_ref[name] for name in names]
        return similarity_scores(outputs, reference)

    def _names(self, batch_out: dict[str, np.ndarray], batch_ref: dict[str, np.ndarray], config: SimilarityConfig) -> list[str]:
        if config.output is not None:
            name = pick_output(batch_ref, config.output, "metric 'similarity' (input model)")
            pick_output(batch_out, name, "metric 'similarity'")
            return [name]
        missing = [name for name in batch_ref if name not in batch_out]
        if missing:
            raise DataError(
                f"metric 'similarity': the model gives no output '{missing[0]}', which the input model gives",
                hint="pick the output to compare with 'output', or select it in post-processing",
            )
        return list(batch_ref)
