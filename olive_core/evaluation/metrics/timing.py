"""What latency and throughput share: inputs to cycle through, and a timed run loop."""

from __future__ import annotations

import time
from collections.abc import Callable

from olive_core.errors import DataError
from olive_core.evaluation.data import Batch
from olive_core.evaluation.metric import MetricContext


def timed_inputs(context: MetricContext, metric: str, limit: int | None) -> list[Batch]:
    """The first ``limit`` batches fitted to the session's inputs (all when ``limit`` is None)."""
    if context.model_inputs is None:
        raise DataError(f"metric '{metric}' needs data: name an entry of 'data' in the metric")
    inputs = context.model_inputs()
    return inputs[:limit] if limit is not None else inputs


def time_runs(run: Callable[[Batch], object], inputs: list[Batch], warmup: int, repeat: int) -> list[float]:
    """Seconds per call of ``run``, cycling through ``inputs``; warm-up calls are not timed."""
    for index in range(warmup):
        run(inputs[index % len(inputs)])
    timings = []
    for index in range(repeat):
        start = time.perf_counter()
        run(inputs[index % len(inputs)])
        timings.append(time.perf_counter() - start)
    return timings
