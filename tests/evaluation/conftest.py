"""Fixtures for evaluation tests: the numpy plugin, a linear model, workflows and evaluators."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.cache.local import LocalCache, LocalCacheConfig
from olive_core.config.resolved import ResolvedWorkflow
from olive_core.config.validation import resolve_workflow
from olive_core.config.workflow import WorkflowConfig
from olive_core.evaluation.evaluator import Evaluator
from olive_core.models.handler import ModelHandler
from olive_core.plugins import OlivePluginManager, create_plugin_manager

from . import numpy_plugin

#: 4 features -> 3 classes; each row of the identity-like weight picks a class
WEIGHT = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5]], dtype=np.float32)
BIAS = np.array([0.0, 0.1, -0.1], dtype=np.float32)


@pytest.fixture
def manager() -> OlivePluginManager:
    return create_plugin_manager(entry_points=False, extra_plugins=[numpy_plugin.__name__])


@pytest.fixture
def model_path(tmp_path: Path) -> Path:
    return numpy_plugin.write_linear_model(tmp_path / "model" / "linear.npz", WEIGHT, BIAS)


def handle_for(path: Path) -> ModelHandler:
    """A handle with its content id, as the engine makes them."""
    from olive_core.models.hashing import hash_path

    return numpy_plugin.LinearModelType.handle(path).model_copy(update={"id": hash_path(path)})


@pytest.fixture
def cache(tmp_path: Path) -> LocalCache:
    backend = LocalCache(LocalCacheConfig(dir=str(tmp_path / "cache")))
    yield backend
    backend.close()


@pytest.fixture
def make_workflow(tmp_path: Path, manager: OlivePluginManager, model_path: Path) -> Callable[..., ResolvedWorkflow]:
    """A resolved workflow over the linear model; keyword arguments replace sections."""

    def make(**sections: Any) -> ResolvedWorkflow:
        config = {"input_model": {"type": "numpy_linear", "config": {"model_path": str(model_path)}}, **sections}
        return resolve_workflow(WorkflowConfig.model_validate(config), manager.registry, base_dir=tmp_path)

    return make


@pytest.fixture
def make_evaluator(manager: OlivePluginManager, cache: LocalCache, model_path: Path) -> Callable[..., Evaluator]:
    def make(workflow: ResolvedWorkflow, cache_backend: Any = None) -> Evaluator:
        return Evaluator(workflow, manager.registry, cache_backend or cache, AcceleratorSpec("cpu"), handle_for(model_path))

    return make


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    import json

    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path
