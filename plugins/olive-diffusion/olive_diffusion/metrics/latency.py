"""Pipeline latency: milliseconds per denoising step and per image, from the pipeline's own timings."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from olive_core.errors import IncompatibleModelError
from olive_core.evaluation.metric import Direction, Metric, MetricConfig, MetricContext
from olive_core.evaluation.metrics.latency import latency_stats
from olive_core.evaluation.metrics.timing import timed_inputs

from olive_diffusion.session import PipelineSession


class PipelineLatencyConfig(MetricConfig):
    warmup_runs: int = Field(
        default=1, ge=0, le=10_000, description="untimed generations first (lazy init, allocator warm-up)"
    )
    repeat_runs: int = Field(default=3, ge=1, le=100_000, description="timed generations")
    batches: int = Field(
        default=1, ge=1, le=100_000, description="how many of the data's first batches the runs cycle through"
    )


def pipeline_session(context: MetricContext, metric: str) -> PipelineSession:
    session = context.session()
    if not isinstance(session, PipelineSession):
        raise IncompatibleModelError(
            f"metric '{metric}' measures diffusion pipelines ('diffusers', 'onnx_diffusion'), "
            f"not a '{context.model.type}' model",
            hint="use the core 'latency' metric for single models",
        )
    return session


class PipelineLatencyMetric(Metric):
    """Milliseconds per denoising step (UNet, guidance and scheduler step) and per generated image.

    ``image_*`` is a whole call (text encoding, every step, VAE decoding) divided by the batch's
    images; ``step_*`` are the individual denoising steps of every timed call.
    """

    Config = PipelineLatencyConfig
    sub_metrics: ClassVar[dict[str, Direction]] = {
        "step_mean": "min",
        "step_p50": "min",
        "image_mean": "min",
        "image_p50": "min",
    }

    def measure(self, config: PipelineLatencyConfig, context: MetricContext) -> dict[str, float]:
        inputs = timed_inputs(context, "pipeline_latency", config.batches)
        session = pipeline_session(context, "pipeline_latency")
        for index in range(config.warmup_runs):
            session.generate(inputs[index % len(inputs)])
        steps_ms: list[float] = []
        images_ms: list[float] = []
        for index in range(config.repeat_runs):
            generation = session.generate(inputs[index % len(inputs)])
            steps_ms += [seconds * 1000.0 for seconds in generation.step_seconds]
            images_ms.append(generation.seconds * 1000.0 / max(len(generation.images), 1))
        step, image = latency_stats(steps_ms), latency_stats(images_ms)
        return {
            "step_mean": step["mean"],
            "step_p50": step["p50"],
            "image_mean": image["mean"],
            "image_p50": image["p50"],
        }
