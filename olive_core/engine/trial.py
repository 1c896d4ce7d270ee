"""One trial: run a candidate's pass chain through the cache, then evaluate its output.

The same code runs in the engine's process or in a worker of any ``concurrent.futures``
executor: a worker rebuilds the plugin manager (once per process), the workflow and the cache
from a picklable :class:`TrialRequest`, so a distributed executor needs nothing else.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olive_core.accelerators import AcceleratorSpec
from olive_core.cache.backend import CacheBackend
from olive_core.config.resolved import ResolvedWorkflow
from olive_core.engine.prepare import open_cache, resolve_raw_workflow
from olive_core.engine.result import CandidateResult, StepRecord
from olive_core.engine.steps import StepRunner
from olive_core.models.handler import ModelHandler
from olive_core.search.build import check_point

if TYPE_CHECKING:
    from olive_core.plugins import OlivePluginManager

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerLog:
    """A log record of a trial that ran in a worker, re-emitted by the engine into its run's log."""

    level: int
    name: str
    message: str


@dataclass
class TrialOutcome:
    candidate: CandidateResult
    records: list[StepRecord] = field(default_factory=list)
    #: what the trial logged in a worker process (empty for trials run in the engine's process)
    logs: list[WorkerLog] = field(default_factory=list)


class TrialRunner:
    """Runs trials for one accelerator with a given cache, hooks and evaluator."""

    def __init__(
        self,
        workflow: ResolvedWorkflow,
        cache: CacheBackend,
        hooks: Any,
        run_id: str,
        accelerator: AcceleratorSpec,
        input_model: ModelHandler,
        evaluator: Any = None,
        on_event: Any = None,
        registry: Any = None,
    ) -> None:
        self.workflow = workflow
        self.hooks = hooks
        self.run_id = run_id
        self.accelerator = accelerator
        self.input_model = input_model
        self.evaluator = evaluator
        self.on_event = on_event or (lambda *args: None)
        self.steps = StepRunner(
            cache,
            hooks,
            run_id,
            retries=workflow.config.engine.retries,
            data=evaluator.batches if evaluator is not None else None,
            on_event=on_event,
            runtime_settings=workflow.config.runtime.settings(),
            data_key=evaluator.data_key if evaluator is not None else None,
            redact=workflow.redactor,
            registry=registry,
        )

    def run(self, index: int, point: dict[str, dict[str, Any]]) -> TrialOutcome:
        candidate = CandidateResult(index=index, accelerator=self.accelerator.key(), point=point)
        outcome = TrialOutcome(candidate)
        try:
            configs = check_point(self.workflow.steps, point)
        except Exception as exc:  # a strategy proposed a config the pass rejects
            candidate.error = f"invalid proposed config: {exc}"
            return outcome
        model = self.input_model
        for step in self.workflow.steps:
            chosen = configs[step.name]
            if chosen is None:  # an optional step this candidate skips
                continue
            the_pass, config = chosen
            result = self.steps.run(model, the_pass, config, self.accelerator)
            outcome.records.append(result.record)
            candidate.lineage.append(result.record.model_id)
            if result.model is None:
                candidate.error = f"pass '{step.name}' ({the_pass.type}) failed: {result.record.error}"
                logger.info("%s", candidate.error)  # the result and the progress line report it
                return outcome
            model = result.model
        candidate.model = model
        if self.evaluator is not None and self.workflow.metrics:
            self.on_event("evaluating", f"candidate {index + 1}")
            try:
                candidate.evaluation = self.evaluator.evaluate(model)
            except Exception as exc:  # evaluation failure fails this trial, not the search
                candidate.error = f"evaluation failed: {exc}"
                return outcome
            redacted = self.workflow.redactor.handle(model)
            self.hooks.on_evaluation_end(run_id=self.run_id, model=redacted, metrics=candidate.evaluation.values)
        return outcome


@dataclass
class TrialRequest:
    """Everything a worker process needs to run one trial (picklable)."""

    raw_workflow: dict[str, Any]
    source: str | None
    base_dir: str
    manager_recipe: dict[str, Any]
    cache_dir: str | None
    run_id: str
    accelerator: AcceleratorSpec
    input_model: ModelHandler
    index: int
    point: dict[str, dict[str, Any]]


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def run_trial_in_worker(request: TrialRequest) -> TrialOutcome:
    """Entry point for executor workers: the trial's outcome, with what it logged and where it ran."""
    level = _LEVELS.get(request.raw_workflow.get("engine", {}).get("log_level", "info"), logging.INFO)
    with _collecting_logs(level) as logs:
        outcome = _run_trial(request)
    outcome.logs = logs
    outcome.candidate.worker = f"{socket.gethostname()} pid {os.getpid()}"
    return outcome


class _Collector(logging.Handler):
    """Keeps the records of one thread (a worker may run several trials at once, one per thread)."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.thread = threading.get_ident()
        self.records: list[WorkerLog] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.records.append(WorkerLog(record.levelno, record.name, record.getMessage()))


@contextmanager
def _collecting_logs(level: int) -> Iterator[list[WorkerLog]]:
    root = logging.getLogger()
    collector = _Collector(level)
    previous = root.level
    root.addHandler(collector)
    root.setLevel(min(previous, level))  # NOTSET (0) stays: it already lets every record through
    try:
        yield collector.records
    finally:
        root.removeHandler(collector)
        root.setLevel(previous)


def _without_executor(raw: dict[str, Any]) -> dict[str, Any]:
    """The workflow a worker resolves: where trials run is the engine's business, so a worker
    needs no executor plugin (the engine has checked the executor and the cache together)."""
    search = raw.get("search")
    if not isinstance(search, dict) or "executor" not in search:
        return raw
    return {**raw, "search": {key: value for key, value in search.items() if key != "executor"}}


_managers: dict[str, OlivePluginManager] = {}
_PLUGIN_VARIABLES = ("OLIVE_PLUGINS", "OLIVE_DISABLE_PLUGINS", "OLIVE_NO_ENTRY_POINTS", "OLIVE_STRICT_PLUGINS")
_managers_lock = threading.Lock()


def _plugin_manager(recipe: dict[str, Any]) -> OlivePluginManager:
    """The worker process's plugin manager for ``recipe``, built once: finding and importing the
    plugins costs tens of milliseconds, which every trial on a long-lived worker (a process pool,
    a dask worker) would otherwise pay again. Its registry is built here too, under the lock,
    since a worker may run several trials at once on threads."""
    from olive_core.plugins import create_plugin_manager

    # the plugin set also follows these variables (a thread pool in a test process may see them change)
    environment = {name: os.environ.get(name) for name in _PLUGIN_VARIABLES}
    key = json.dumps([recipe, environment], sort_keys=True)
    with _managers_lock:
        if key not in _managers:
            manager = create_plugin_manager(**recipe)
            _ = manager.registry
            _managers[key] = manager
        return _managers[key]


def _run_trial(request: TrialRequest) -> TrialOutcome:
    manager = _plugin_manager(request.manager_recipe)
    workflow = resolve_raw_workflow(_without_executor(request.raw_workflow), manager, request.source, Path(request.base_dir))
    cache = open_cache(workflow, request.cache_dir)
    try:
        evaluator = None
        if workflow.metrics or workflow.data:
            from olive_core.evaluation.evaluator import Evaluator

            evaluator = Evaluator(workflow, manager.registry, cache, request.accelerator, request.input_model)
        runner = TrialRunner(
            workflow,
            cache,
            manager.hook,
            request.run_id,
            request.accelerator,
            request.input_model,
            evaluator,
            registry=manager.registry,
        )
        return runner.run(request.index, request.point)
    finally:
        cache.close()
