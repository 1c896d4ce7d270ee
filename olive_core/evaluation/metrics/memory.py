"""Peak memory of session creation plus inference, measured in a child process.

Measuring in the evaluating process would mix models: memory freed by one model's session is
often kept by the allocator, and heavy runtimes imported once stay resident, so the second
model would look cheaper or dearer than it is. A fresh child (``python -m
olive_core.evaluation.memory_probe``) rebuilds the plugin manager and the model type by name,
creates the session, runs the batches and reports its peak resident memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from olive_core import errors
from olive_core.errors import DataError, OliveError
from olive_core.evaluation.metric import Direction, Metric, MetricConfig, MetricContext
from olive_core.evaluation.pipeline import encode_batches


class MemoryConfig(MetricConfig):
    max_batches: int | None = Field(
        default=1, ge=1, le=100_000, description="run the data's first N batches (default 1; null: all)"
    )
    timeout_s: float = Field(default=600.0, gt=0, le=86_400, description="give up on the child process after this long")


class MemoryMetric(Metric):
    """Peak resident memory (MB) of a process that creates the session and runs the data.

    ``peak_mb`` is the child's whole peak, interpreter included; ``increase_mb`` is the part
    above what it held just before creating the session, i.e. what the model itself costs.
    """

    Config = MemoryConfig
    sub_metrics: ClassVar[dict[str, Direction]] = {"peak_mb": "min", "increase_mb": "min"}

    def measure(self, config: MemoryConfig, context: MetricContext) -> dict[str, float]:
        if context.batches is None:
            raise DataError("metric 'memory' needs data: name an entry of 'data' in the metric")
        batches = context.batches[: config.max_batches] if config.max_batches else context.batches
        with tempfile.TemporaryDirectory(prefix="olive-memory-") as folder:
            request_path = Path(folder) / "request.json"
            result_path = Path(folder) / "result.json"
            request = {
                "sys_path": [entry for entry in sys.path if entry],
                "model_type": context.model.type,
                "plugin": context.model_type_plugin,
                "handle": context.model.model_dump(mode="json"),
                "accelerator": context.accelerator.to_json(),
                "settings": context.settings,
                "batches": encode_batches(batches, None),
                "result": str(result_path),
            }
            request_path.write_text(json.dumps(request), encoding="utf-8")
            return _run_probe(request_path, result_path, config.timeout_s, context.model.path)


def _run_probe(request_path: Path, result_path: Path, timeout_s: float, model_path: str) -> dict[str, float]:
    command = [sys.executable, "-m", "olive_core.evaluation.memory_probe", str(request_path)]
    try:
        process = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=dict(os.environ))
    except subprocess.TimeoutExpired as exc:
        raise OliveError(
            f"metric 'memory': measuring '{model_path}' took longer than {timeout_s:g} s",
            hint="raise the metric's timeout_s, or lower max_batches",
        ) from exc
    result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8")) if result_path.exists() else {}
    if "error" in result:
        error_type = getattr(errors, result.get("type", ""), OliveError)
        error_type = error_type if isinstance(error_type, type) and issubclass(error_type, OliveError) else OliveError
        if error_type in (errors.ConfigError, errors.PassError):  # their constructors take other arguments
            error_type = OliveError
        raise error_type(f"metric 'memory': {result['error']}", hint=result.get("hint"))
    if process.returncode != 0 or "peak_mb" not in result:
        tail = "\n".join((process.stderr or "").strip().splitlines()[-8:])
        raise OliveError(
            f"metric 'memory': the measuring process for '{model_path}' exited with code {process.returncode}: {tail}",
            hint="the model type's runtime failed in a fresh process; run the same model with another metric to see why",
        )
    return {"peak_mb": float(result["peak_mb"]), "increase_mb": float(result["increase_mb"])}
