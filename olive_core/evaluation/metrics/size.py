"""Model size: bytes on disk of the files that make up the model."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from olive_core.errors import ModelLoadError
from olive_core.evaluation.metric import Direction, Metric, MetricContext

MB = 1024 * 1024


def files_size_bytes(paths: Iterable[Path]) -> int:
    """Total size of the files, folders walked; a file reached twice counts once."""
    seen: set[Path] = set()
    total = 0
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise ModelLoadError(f"model file '{path}' does not exist", hint="the model is incomplete; rerun the step that made it")
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            resolved = file.resolve()
            if resolved not in seen:
                seen.add(resolved)
                total += resolved.stat().st_size
    return total


class SizeMetric(Metric):
    """Size on disk in MB (MiB, 2**20 bytes) of the model's files, as its model type lists them."""

    sub_metrics: ClassVar[dict[str, Direction]] = {"mb": "min"}
    needs_data: ClassVar[bool] = False

    def measure(self, config: object, context: MetricContext) -> dict[str, float]:
        return {"mb": files_size_bytes(context.model_type.model_files(context.model)) / MB}
