"""Inputs and sessions for tests of the tiny pipeline (olive_diffusion.tiny builds it).

Only tests import this module; the plugin itself never does. Handles and passes are made with
``olive_core.testing.steps`` (``input_handle``, ``run_pass``), as for any other plugin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from olive_core.models.handler import ModelHandler
from olive_core.plugins import create_plugin_manager
from olive_core.testing.steps import CPU

#: the tiny pipeline's text length (its tokenizer's model_max_length), which every input follows
TEXT_LENGTH = 16
#: denoising steps: enough to exercise the scheduler loop, few enough to be quick
STEPS = 2


def prompt_feed(seeds: tuple[int, ...] = (3, 4), offset: int = 0) -> dict[str, np.ndarray]:
    """Token ids within the tiny vocabulary, one row per seed."""
    rows = [(np.arange(TEXT_LENGTH) * (index + 3) + offset) % 50 for index in range(len(seeds))]
    return {"input_ids": np.stack(rows).astype(np.int64), "seed": np.asarray(seeds, dtype=np.int64)}


def create_session(model: ModelHandler, settings: dict[str, Any] | None = None) -> Any:
    """A session of the model's registered type on the CPU (one intra-op thread unless ``settings`` say)."""
    cls = create_plugin_manager().registry.load("model_type", model.type)
    return cls().create_session(model, CPU, {"intra_op_num_threads": 1} if settings is None else settings)
