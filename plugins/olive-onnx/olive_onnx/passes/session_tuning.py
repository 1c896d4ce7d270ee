"""OnnxSessionTuning: measure ORT session settings on this machine and keep the fastest."""

from __future__ import annotations

import itertools
import os
import statistics
import time
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from olive_core.models import ModelHandler
from olive_core.models.io_config import Dimension
from olive_core.passes import Pass, PassConfig, PassContext

from olive_onnx.passes.common import read_graph
from olive_onnx.settings import TUNED_ATTRIBUTE, ExecutionMode, OptimizationLevel


def _sequential() -> list[ExecutionMode]:
    return ["sequential"]


def _all_optimizations() -> list[OptimizationLevel]:
    return ["all"]


#: a thread count ONNX Runtime accepts
Threads = Annotated[int, Field(ge=1, le=1024)]


class OnnxSessionTuningConfig(PassConfig):
    intra_op_num_threads: list[Threads] | None = Field(
        default=None,
        min_length=1,
        description="intra-op thread counts to try; None tries 1, half the cores and all cores",
    )
    inter_op_num_threads: list[Annotated[int, Field(ge=0, le=1024)]] = Field(
        default_factory=lambda: [0],
        min_length=1,
        description="inter-op thread counts to try in parallel execution mode (0: ORT's default)",
    )
    execution_modes: list[ExecutionMode] = Field(
        default_factory=_sequential, min_length=1, description="execution modes to try"
    )
    graph_optimization_levels: list[OptimizationLevel] = Field(
        default_factory=_all_optimizations, min_length=1, description="graph optimization levels to try"
    )
    batch_size: int = Field(
        default=1, ge=1, le=4096, description="batch size of the dummy inputs (symbolic first dimension)"
    )
    sequence_length: int = Field(
        default=128, ge=1, le=1_048_576, description="size of the other symbolic dimensions of the dummy inputs"
    )
    dim_values: dict[str, Dimension] = Field(
        default_factory=dict, description="sizes of named symbolic dimensions, e.g. {'past_sequence_length': 0}"
    )
    warmup_runs: int = Field(default=3, ge=0, le=10_000, description="untimed runs per candidate before measuring")
    rounds: int = Field(
        default=3,
        ge=1,
        le=1000,
        description="measurement rounds; candidates are interleaved within each round so drift hits all alike",
    )
    runs_per_round: int = Field(default=10, ge=1, le=100_000, description="timed runs per candidate and round")


class OnnxSessionTuning(Pass):
    """Find the fastest ONNX Runtime session settings (threads, execution mode, optimization level).

    Every candidate runs on dummy inputs shaped from the io_config or the graph, interleaved over
    several rounds; the lowest median latency wins and is stored in
    ``attributes["session_options"]``, which every later session of this model uses (explicit
    workflow runtime settings still take precedence). The model itself is not copied.
    """

    Config = OnnxSessionTuningConfig
    version = "1"
    input_types = ("onnx",)
    output_type = "onnx"

    def run(
        self, model: ModelHandler, config: OnnxSessionTuningConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        from olive_onnx.dummy_inputs import dummy_inputs
        from olive_onnx.inspect import graph_inputs
        from olive_onnx.runtime import OnnxSession, open_session
        from olive_onnx.settings import SessionSettings

        model_file, graph = read_graph(model)
        inputs = dummy_inputs(model, graph_inputs(graph), config.batch_size, config.sequence_length, config.dim_values)
        candidates = [{}, *candidate_settings(config)]
        sessions = []
        for candidate in candidates:
            settings = SessionSettings.model_validate(candidate)
            sessions.append(OnnxSession(open_session(model_file, context.accelerator, settings), model_file, settings))
        for session in sessions:
            for _ in range(config.warmup_runs):
                session.run(inputs)

        latencies: list[list[float]] = [[] for _ in candidates]
        for _ in range(config.rounds):
            for index, session in enumerate(sessions):
                latencies[index] += _time_runs(session, inputs, config.runs_per_round)

        medians = [statistics.median(times) for times in latencies]
        best = min(range(len(candidates)), key=medians.__getitem__)
        context.report["session_tuning"] = {
            "execution_provider": sessions[0].provider,
            "candidates": [
                {"settings": c, "median_ms": round(m, 4), "min_ms": round(min(t), 4), "max_ms": round(max(t), 4)}
                for c, m, t in zip(candidates, medians, latencies, strict=True)
            ],
            "best": candidates[best],
            "defaults_median_ms": round(medians[0], 4),
        }
        if best == 0:
            context.warn("ONNX Runtime's default settings were the fastest; no setting is stored")
        return model.derive(attributes={TUNED_ATTRIBUTE: candidates[best]})


def candidate_settings(config: OnnxSessionTuningConfig) -> list[dict[str, Any]]:
    """The grid of settings to measure; inter-op threads only vary in parallel mode."""
    cores = os.cpu_count() or 1
    intra = config.intra_op_num_threads or sorted({1, max(1, cores // 2), cores})
    candidates = []
    for level, mode, threads in itertools.product(config.graph_optimization_levels, config.execution_modes, intra):
        inter_choices: list[int | None] = list(config.inter_op_num_threads) if mode == "parallel" else [None]
        for inter in inter_choices:
            candidate: dict[str, Any] = {
                "graph_optimization_level": level,
                "execution_mode": mode,
                "intra_op_num_threads": threads,
            }
            if inter is not None:
                candidate["inter_op_num_threads"] = inter
            candidates.append(candidate)
    return candidates


def _time_runs(session: Any, inputs: dict[str, Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(inputs)
        times.append((time.perf_counter() - start) * 1000.0)
    return times
