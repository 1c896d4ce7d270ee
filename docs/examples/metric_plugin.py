"""A metric plugin: how far a model's outputs stray from the input model's, on the metric's data."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from olive_core import hookimpl
from olive_core.errors import DataError
from olive_core.evaluation import Metric, MetricConfig, MetricContext
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


class OutputErrorConfig(MetricConfig):
    output: str | None = Field(default=None, description="the output to compare (default: the model's first)")
    tolerance: float = Field(default=1e-3, gt=0, le=1e6, description="an element further off than this counts as off")


class OutputErrorMetric(Metric):
    """Mean squared error against the input model's outputs, and the fraction of elements that are off."""

    Config = OutputErrorConfig
    sub_metrics = {"mse": "min", "off_fraction": "min"}  # "min": lower is better
    needs_data = True  # validation refuses a workflow whose metric names no data
    version = "1"  # enters the evaluation cache key: bump it when the same model measures differently

    def measure(self, config: OutputErrorConfig, context: MetricContext) -> dict[str, float]:
        if context.outputs is None or context.reference_outputs is None:
            raise DataError("metric 'output_error' needs data: name an entry of 'data' in the metric")
        squared, off, count = 0.0, 0, 0
        for ours, reference in zip(context.outputs(), context.reference_outputs(), strict=True):
            name = config.output or next(iter(ours))
            if name not in ours or name not in reference:
                raise DataError(f"metric 'output_error': no output '{name}'", hint=f"outputs: {', '.join(ours)}")
            if ours[name].shape != reference[name].shape:
                raise DataError(
                    f"metric 'output_error': output '{name}' has shape {ours[name].shape}, "
                    f"the input model's {reference[name].shape}"
                )
            difference = ours[name].astype(np.float64) - reference[name].astype(np.float64)
            squared += float(np.sum(difference**2))
            off += int(np.sum(np.abs(difference) > config.tolerance))
            count += difference.size
        return {"mse": squared / count, "off_fraction": off / count}


@hookimpl
def register_metrics(register: Registrar) -> None:
    register("output_error", OutputErrorMetric)
