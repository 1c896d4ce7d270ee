"""Fixtures for evaluation tests: the numpy plugin, a linear model, workflows and evaluators."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.cache.local import LocalCache, LocalCacheConfig
from olive_core.config.resolved import ResolvedWorkflow
from olive_core.config.validation import resolve_workflow
from olive_core.config.workflow import WorkflowConfig
from olive_core.evaluation.evaluator import Evaluator
from olive_core.plugins import OlivePluginManager, create_plugin_manager

from . import numpy_plugin
from .helpers import BIAS, WEIGHT, handle_for


@pytest.fixture
def manager(monkeypatch: pytest.MonkeyPatch) -> OlivePluginManager:
    # a child process (the memory probe) imports the plugin by name, through this sys.path
    monkeypatch.syspath_prepend(str(Path(numpy_plugin.__file__).parents[numpy_plugin.__name__.count(".")]))
    return create_plugin_manager(entry_points=False, extra_plugins=[numpy_plugin.__name__])


@pytest.fixture
def model_path(tmp_path: Path) -> Path:
    return numpy_plugin.write_linear_model(tmp_path / "model" / "linear.npz", WEIGHT, BIAS)


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

