"""Latency: milliseconds per inference call, as percentiles over repeated runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from pydantic import Field

from olive_core.evaluation.metric import Direction, Metric, MetricConfig, MetricContext
from olive_core.evaluation.metrics.timing import time_runs, timed_inputs


class LatencyConfig(MetricConfig):
    warmup_runs: int = Field(default=10, ge=0, le=100_000, description="untimed runs first (caches, lazy init, JIT)")
    repeat_runs: int = Field(default=100, ge=1, le=1_000_000, description="timed runs")
    batches: int = Field(
        default=1, ge=1, le=100_000, description="how many of the data's first batches the runs cycle through"
    )


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ascending values, interpolating linearly between ranks
    (numpy's default method), so p50 of an even count is the mean of the two middle values."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0-100")
    rank = (len(sorted_values) - 1) * q / 100.0
    below = int(rank)
    above = min(below + 1, len(sorted_values) - 1)
    return sorted_values[below] + (sorted_values[above] - sorted_values[below]) * (rank - below)


def latency_stats(timings_ms: Sequence[float]) -> dict[str, float]:
    """mean, p50, p90, p95, p99, min and max of a list of timings."""
    ordered = sorted(float(t) for t in timings_ms)
    stats = {"mean": sum(ordered) / len(ordered)}
    for q in (50, 90, 95, 99):
        stats[f"p{q}"] = percentile(ordered, q)
    stats["min"] = ordered[0]
    stats["max"] = ordered[-1]
    return stats


class LatencyMetric(Metric):
    """Milliseconds per inference call of the metric's first batches (mean, percentiles, min, max).

    The session is made with the workflow's runtime settings (threads), which every evaluation
    records beside its values.
    """

    Config = LatencyConfig
    sub_metrics: ClassVar[dict[str, Direction]] = {
        "mean": "min",
        "p50": "min",
        "p90": "min",
        "p95": "min",
        "p99": "min",
        "min": "min",
        "max": "min",
    }

    def measure(self, config: LatencyConfig, context: MetricContext) -> dict[str, float]:
        inputs = timed_inputs(context, "latency", config.batches)
        session = context.session()
        timings = time_runs(session.run, inputs, config.warmup_runs, config.repeat_runs)
        return latency_stats([seconds * 1000.0 for seconds in timings])
