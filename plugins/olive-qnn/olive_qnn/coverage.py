"""npu_coverage: the fraction of a model's nodes that QNN runs on the NPU, and the nodes it does not."""

from __future__ import annotations

import logging
from typing import ClassVar

from pydantic import Field

from olive_core.errors import ConfigError, IncompatibleModelError
from olive_core.evaluation.metric import Direction, Metric, MetricConfig, MetricContext

logger = logging.getLogger(__name__)


class NpuCoverageConfig(MetricConfig):
    show_nodes: int = Field(
        default=20, ge=1, le=10_000, description="node names listed per op type in the warning about CPU nodes"
    )


class NpuCoverageMetric(Metric):
    """Fraction of the model's nodes on QNN's NPU (coverage, max) and nodes left to the CPU (cpu_nodes, min).

    Measured in a session of its own with CPU fallback enabled (runs have it disabled, so one
    refused node fails the whole model), as ONNX Runtime places the nodes after its rewrites; a
    compiled (EPContext) model counts as its EPContext nodes. Needs the run's accelerator to be QNN.
    Below 100% it logs a warning naming the op types and nodes left to the CPU.
    """

    Config = NpuCoverageConfig
    sub_metrics: ClassVar[dict[str, Direction]] = {"coverage": "max", "cpu_nodes": "min"}
    needs_data: ClassVar[bool] = False

    def measure(self, config: NpuCoverageConfig, context: MetricContext) -> dict[str, float]:
        from olive_onnx.api import effective_settings, resolve_model_file

        from olive_qnn.placement import PROVIDER, measure_placement

        if context.accelerator.execution_provider != PROVIDER:
            raise ConfigError(
                f"metric 'npu_coverage' measures placement on {PROVIDER}, but this run targets {context.accelerator}",
                path="accelerators",
                hint=f"target {{device: npu, provider: {PROVIDER}}}, or drop the metric",
            )
        if context.model.type != "onnx":
            raise IncompatibleModelError(
                f"metric 'npu_coverage' measures ONNX models on QNN; '{context.model.path}' is a "
                f"'{context.model.type}' model",
                hint="convert it first (OnnxConversion), or set engine.evaluate_input_model: false",
            )
        model_file = resolve_model_file(context.model.path)
        placement = measure_placement(
            model_file, context.accelerator, effective_settings(context.model, context.settings)
        )
        cpu = placement.on_cpu
        if cpu:
            logger.warning(
                "%d of %d nodes of '%s' run on the CPU, not on the NPU: %s",
                len(cpu),
                len(placement.nodes),
                model_file,
                placement.describe_cpu(config.show_nodes),
            )
        return {"coverage": placement.coverage(), "cpu_nodes": float(len(cpu))}
