"""Evaluator: runs models through their model type's runtime and measures the workflow's metrics.

One evaluator serves one run on one accelerator. Data is prepared lazily, once per data config
(and cached by content hash); each model gets at most one inference session; the input model's
outputs and metrics, which similarity and relative goals compare against, are computed once.
Results are cached by (model id, metric configs with their data, accelerator, runtime settings),
so a model evaluated by an earlier run is not measured again; goals are checked afresh each
time, because they can change without changing what is measured.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np

from olive_core.accelerators import CPU_SPEC, AcceleratorSpec
from olive_core.cache.backend import CacheBackend
from olive_core.config.resolved import ResolvedMetric, ResolvedWorkflow
from olive_core.errors import DataError, PluginError, did_you_mean
from olive_core.evaluation.data import Batch, DataContext
from olive_core.evaluation.goals import GoalResult, evaluate_goal, is_relative
from olive_core.evaluation.metric import MetricContext
from olive_core.evaluation.pipeline import DataPipeline, PreparedData, component_key
from olive_core.evaluation.result import Evaluation
from olive_core.evaluation.runner import fit_inputs, run_all
from olive_core.models.handler import ModelHandler
from olive_core.models.hashing import hash_json
from olive_core.models.model_type import InferenceSession, ModelType
from olive_core.registry import Registry

logger = logging.getLogger(__name__)

CACHE_NAMESPACE = "evaluation"

T = TypeVar("T")

__all__ = ["Evaluator", "Evaluation", "GoalResult"]


class _Once:
    """Compute each key's value once, also when evaluations run in parallel threads."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._guard:
            if key in self._values:
                return self._values[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._guard:
                self._values[key] = value
            return value

    def drop(self, keep: Callable[[Hashable], bool]) -> None:
        with self._guard:
            for key in [k for k in self._values if not keep(k)]:
                del self._values[key]
                self._locks.pop(key, None)


class Evaluator:
    """Measures the workflow's metrics for any model of the run, on one accelerator."""

    def __init__(
        self,
        workflow: ResolvedWorkflow,
        registry: Registry,
        cache: CacheBackend,
        accelerator: AcceleratorSpec,
        input_model: ModelHandler,
    ) -> None:
        self.workflow = workflow
        self.registry = registry
        self.cache = cache
        self.accelerator = accelerator
        self.input_model = input_model
        #: what every session is created with, and what every evaluation records
        self.settings: dict[str, Any] = workflow.config.runtime.settings()
        self._ids = _Once()
        self._pipelines = _Once()
        self._data = _Once()
        self._sessions = _Once()
        self._outputs = _Once()
        self._shared = _Once()
        self._input_evaluation = _Once()

    # -- data --------------------------------------------------------------------------------

    def batches(self, data_name: str) -> list[Batch]:
        """The named data config's batches, inputs only (for calibration); prepared once."""
        return self._prepared(data_name).batches

    def data_key(self, data_name: str) -> str:
        """The content key of a data config (its files, steps and the input model when used)."""
        return self._pipeline(data_name).key()

    def _pipeline(self, data_name: str) -> DataPipeline:
        if data_name not in self.workflow.data:
            known = list(self.workflow.data)
            raise DataError(
                f"no data named '{data_name}'",
                hint=did_you_mean(data_name, known) or f"defined in the workflow: {', '.join(known) or 'none'}",
            )

        def make() -> DataPipeline:
            context = DataContext(model=self.input_model, base_dir=self.workflow.base_dir, name=data_name)
            return DataPipeline(self.workflow.data[data_name], context, self.cache, self.input_model_id)

        return self._pipelines.get(data_name, make)

    def _prepared(self, data_name: str) -> PreparedData:
        return self._data.get(data_name, lambda: self._pipeline(data_name).prepare())

    # -- models ------------------------------------------------------------------------------

    def _model_type(self, model: ModelHandler) -> ModelType:
        return self.registry.load("model_type", model.type)()

    def _model_id(self, model: ModelHandler) -> str:
        if model.id:
            return model.id
        return self._ids.get(("path", model.type, model.path), lambda: self._model_type(model).content_id(model))

    @property
    def input_model_id(self) -> str:
        return self._model_id(self.input_model)

    @property
    def input_accelerator(self) -> AcceleratorSpec:
        """Where the input model is measured: the run's accelerator, or the CPU when its runtime
        cannot use it (a PyTorch model in an NPU run). Its evaluation records which."""

        def choose() -> AcceleratorSpec:
            if self.workflow.config.engine.input_model_on == "cpu":
                return CPU_SPEC
            if self._model_type(self.input_model).runs_on(self.accelerator):
                return self.accelerator
            logger.warning(
                "the input model (%s) cannot run on %s: it is measured on the CPU, as the reference candidates compare with",
                self.input_model.type,
                self.accelerator,
            )
            return CPU_SPEC

        return self._ids.get(("input accelerator",), choose)

    def accelerator_of(self, model_id: str) -> AcceleratorSpec:
        return self.input_accelerator if model_id == self.input_model_id else self.accelerator

    def _session(self, model: ModelHandler, model_id: str, model_type: ModelType) -> InferenceSession:
        def create() -> InferenceSession:
            accelerator = self.accelerator_of(model_id)
            logger.debug("creating a session for %s on %s with %s", model.path, accelerator, self.settings)
            return model_type.create_session(model, accelerator, dict(self.settings))

        return self._sessions.get(model_id, create)

    def _model_outputs(self, model: ModelHandler, model_id: str, model_type: ModelType, data_name: str) -> list[dict[str, np.ndarray]]:
        def compute() -> list[dict[str, np.ndarray]]:
            steps = self.workflow.data[data_name].postprocess
            context = self._pipeline(data_name).context
            session = self._session(model, model_id, model_type)
            return run_all(session, self._prepared(data_name).batches, model, steps, context)

        return self._outputs.get((model_id, data_name, "outputs"), compute)

    def _model_inputs(self, model: ModelHandler, model_id: str, model_type: ModelType, data_name: str) -> list[Batch]:
        def compute() -> list[Batch]:
            session = self._session(model, model_id, model_type)
            return [fit_inputs(batch, session, model, data_name) for batch in self._prepared(data_name).batches]

        return self._outputs.get((model_id, data_name, "inputs"), compute)

    def _release(self, model_id: str) -> None:
        """Drop a candidate's session and outputs: its results are cached, it is not run again."""
        self._sessions.drop(lambda key: key != model_id)
        self._outputs.drop(lambda key: key[0] != model_id)  # type: ignore[index]

    def close(self) -> None:
        """Release every session, the input model's included."""
        self._sessions.drop(lambda key: False)
        self._outputs.drop(lambda key: False)
        self._shared.drop(lambda key: False)

    # -- evaluation --------------------------------------------------------------------------

    def evaluate(self, model: ModelHandler) -> Evaluation:
        """Measure ``model`` (or take its measurement from the cache) and check the goals."""
        model_id = self._model_id(model)
        key = self.evaluation_key(model_id)
        measured = self._from_cache(key)
        cached = measured is not None
        if measured is None:
            try:
                measured = self._measure(model, model_id)
            finally:
                if model_id != self.input_model_id:
                    self._release(model_id)
            values, directions = measured
            record = {"model_id": model_id, "values": values, "directions": directions, "settings": self.settings}
            self.cache.put_record(CACHE_NAMESPACE, key, self.workflow.redactor(record))
        values, directions = measured
        goals = self._goals(values, directions, values if model_id == self.input_model_id else None)
        accelerator = self.accelerator_of(model_id).key()
        return Evaluation(values, directions, goals, dict(self.settings), cached=cached, accelerator=accelerator)

    def evaluation_key(self, model_id: str) -> str:
        """The cache key of a model's measurement: model, metrics with their data, accelerator, settings."""
        return hash_json(
            {
                "model": model_id,
                "metrics": [self._metric_key(metric) for metric in self.workflow.metrics],
                "accelerator": self.accelerator_of(model_id).key(),
                "settings": self.settings,
            }
        )

    def _metric_key(self, metric: ResolvedMetric) -> dict[str, Any]:
        key: dict[str, Any] = {
            "name": metric.name,
            "type": metric.type,
            "impl": f"{metric.cls.__module__}:{metric.cls.__qualname__}",
            "version": getattr(metric.cls, "version", "1"),
            "config": metric.config.model_dump(mode="json"),
            "sub_metrics": list(metric.sub_metrics),
        }
        if metric.data is not None:
            key["data"] = self._pipeline(metric.data).key()
            key["postprocess"] = [component_key(step) for step in self.workflow.data[metric.data].postprocess]
        return key

    def _from_cache(self, key: str) -> tuple[dict[str, float], dict[str, str]] | None:
        record = self.cache.get_record(CACHE_NAMESPACE, key)
        expected = {f"{m.name}-{sub}" for m in self.workflow.metrics for sub in m.sub_metrics}
        values, directions = (record or {}).get("values"), (record or {}).get("directions")
        # a record from another tool or a damaged one is a miss, never a crash
        if not isinstance(values, dict) or not isinstance(directions, dict) or set(values) != expected:
            return None
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values.values()):
            return None
        if set(directions) != expected or not all(d in ("min", "max") for d in directions.values()):
            return None
        return {k: float(v) for k, v in values.items()}, dict(directions)

    def _measure(self, model: ModelHandler, model_id: str) -> tuple[dict[str, float], dict[str, str]]:
        model_type = self._model_type(model)
        values: dict[str, float] = {}
        directions: dict[str, str] = {}
        for metric in self.workflow.metrics:
            measured = metric.cls().measure(metric.config, self._context(metric, model, model_id, model_type))
            for sub in metric.sub_metrics:
                if sub not in measured:
                    raise PluginError(
                        f"metric '{metric.name}' ({metric.type}) returned no value for its sub-metric '{sub}'",
                        hint=f"report this to the authors of the plugin that provides '{metric.type}'",
                    )
                values[f"{metric.name}-{sub}"] = float(measured[sub])
                directions[f"{metric.name}-{sub}"] = metric.cls.sub_metrics[sub]
        logger.info("evaluated %s: %s", model.path, ", ".join(f"{k}={v:.4g}" for k, v in values.items()))
        return values, directions

    def _context(self, metric: ResolvedMetric, model: ModelHandler, model_id: str, model_type: ModelType) -> MetricContext:
        context = MetricContext(
            model=model,
            model_type=model_type,
            accelerator=self.accelerator_of(model_id),
            session=lambda: self._session(model, model_id, model_type),
            settings=dict(self.settings),
            model_type_plugin=self.registry.get("model_type", model.type).source.name,
            reference_model=self.input_model,
            reference_model_type=self._model_type(self.input_model),
            reference_session=lambda: self._session(
                self.input_model, self.input_model_id, self._model_type(self.input_model)
            ),
            shared=self._shared.get,
        )
        data_name = metric.data
        if data_name is None:
            return context
        prepared = self._prepared(data_name)
        context.batches = prepared.batches
        context.labels = prepared.labels
        context.model_inputs = lambda: self._model_inputs(model, model_id, model_type, data_name)
        context.outputs = lambda: self._model_outputs(model, model_id, model_type, data_name)

        def reference() -> list[dict[str, np.ndarray]]:
            input_type = self._model_type(self.input_model)
            return self._model_outputs(self.input_model, self.input_model_id, input_type, data_name)

        context.reference_outputs = reference
        return context

    # -- goals -------------------------------------------------------------------------------

    def input_values(self) -> dict[str, float]:
        """The input model's own values, which relative goals compare with; measured once."""
        return self._input_evaluation.get("input", lambda: self.evaluate(self.input_model)).values

    def _goals(
        self, values: dict[str, float], directions: dict[str, str], reference: dict[str, float] | None
    ) -> dict[str, GoalResult]:
        results: dict[str, GoalResult] = {}
        for metric in self.workflow.metrics:
            for sub, goal in metric.goals.items():
                key = f"{metric.name}-{sub}"
                base = None
                if is_relative(goal):
                    reference = reference if reference is not None else self.input_values()
                    base = reference[key]
                results[key] = evaluate_goal(goal, directions[key], values[key], base)
        return results
