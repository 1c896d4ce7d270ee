"""What the evaluation tests import by name: the linear model's weights, its handle, data files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from olive_core.models.handler import ModelHandler

from . import numpy_plugin

#: 4 features -> 3 classes; each row of the identity-like weight picks a class
WEIGHT = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5]], dtype=np.float32)
BIAS = np.array([0.0, 0.1, -0.1], dtype=np.float32)


def handle_for(path: Path) -> ModelHandler:
    """A handle with its content id, as the engine makes them."""
    from olive_core.models.hashing import hash_path

    return numpy_plugin.LinearModelType.handle(path).model_copy(update={"id": hash_path(path)})


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path
