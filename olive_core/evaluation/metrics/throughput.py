"""Throughput: samples per second over passes through the metric's data."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from olive_core.evaluation.data import Batch
from olive_core.evaluation.metric import Direction, Metric, MetricConfig, MetricContext
from olive_core.evaluation.metrics.timing import time_runs, timed_inputs


class ThroughputConfig(MetricConfig):
    warmup_runs: int = Field(default=2, ge=0, le=100_000, description="untimed batch runs first")
    repeat: int = Field(default=3, ge=1, le=100_000, description="timed passes through the batches")
    batches: int | None = Field(default=None, ge=1, le=100_000, description="use the first N batches (default: all)")


def batch_items(batch: Batch) -> int:
    """The number of samples in a batch: the length of its first input's first axis."""
    first = next(iter(batch.values()), None)
    return int(first.shape[0]) if first is not None and first.ndim > 0 else 1


def items_per_second(items: int, seconds: float) -> float:
    return items / seconds if seconds > 0 else float("inf")


class ThroughputMetric(Metric):
    """Samples per second: batch items processed divided by the time spent running them."""

    Config = ThroughputConfig
    sub_metrics: ClassVar[dict[str, Direction]] = {"items_per_second": "max"}

    def measure(self, config: ThroughputConfig, context: MetricContext) -> dict[str, float]:
        inputs = timed_inputs(context, "throughput", config.batches)
        session = context.session()
        runs = len(inputs) * config.repeat
        timings = time_runs(session.run, inputs, config.warmup_runs, runs)
        items = sum(batch_items(inputs[i % len(inputs)]) for i in range(runs))
        return {"items_per_second": items_per_second(items, sum(timings))}
