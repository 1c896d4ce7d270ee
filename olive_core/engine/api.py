"""The Python API: ``olive_core.run(config)`` does what ``olive run`` does and returns the result."""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from olive_core.config.workflow import WorkflowConfig
from olive_core.engine.engine import Engine, EventSink
from olive_core.engine.prepare import LoadedWorkflow, load_workflow, open_cache, resolve_output_dir, with_executor
from olive_core.engine.result import WorkflowResult
from olive_core.errors import OliveError
from olive_core.plugins import OlivePluginManager, create_plugin_manager


def create_engine(
    config: str | Path | dict[str, Any] | WorkflowConfig,
    *,
    output_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    manager: OlivePluginManager | None = None,
    on_event: EventSink | None = None,
    executor: Executor | None = None,
    executor_type: str | None = None,
) -> Engine:
    manager = manager or create_plugin_manager()
    loaded = load_workflow(config, manager, executor_type)
    try:
        cache = open_cache(loaded.resolved, cache_dir)
    except OliveError as exc:
        loaded.resolved.redactor.error(exc)
        raise
    return Engine(
        loaded.resolved,
        manager,
        resolve_output_dir(loaded.resolved, output_dir),
        cache,
        raw_workflow=loaded.raw,
        on_event=on_event,
        executor=executor,
        cache_dir=str(cache_dir) if cache_dir is not None else None,
    )


def run(
    config: str | Path | dict[str, Any] | WorkflowConfig,
    *,
    output_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    manager: OlivePluginManager | None = None,
    on_event: EventSink | None = None,
    executor: Executor | None = None,
    executor_type: str | None = None,
) -> WorkflowResult:
    """Validate and run a workflow; returns what ``olive run`` writes to ``run.json``.

    User mistakes raise :class:`olive_core.errors.OliveError`. A run whose candidates all fail
    returns a result with ``ok == False`` (the CLI turns that into a non-zero exit). Trials run
    on ``executor`` when given (any ``concurrent.futures.Executor``), else on the workflow's
    ``search.executor`` (``executor_type`` replaces it, like ``olive run --executor``): by
    default a process pool of ``search.parallel_trials`` workers, or this process.
    """
    engine = create_engine(
        config,
        output_dir=output_dir,
        cache_dir=cache_dir,
        manager=manager,
        on_event=on_event,
        executor=executor,
        executor_type=executor_type,
    )
    try:
        return engine.run()
    finally:
        engine.cache.close()


__all__ = ["run", "create_engine", "load_workflow", "open_cache", "with_executor", "LoadedWorkflow", "OliveError"]
