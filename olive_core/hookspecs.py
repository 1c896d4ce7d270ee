"""The plugin contract: every hook olive-core calls, in one place.

A plugin is a module (usually named by an entry point in the group ``olive_core.plugins``) that
declares ``olive_plugin_api = "1.0"`` and implements some of these hooks with
:data:`olive_core.hookimpl`. Implementations may accept fewer arguments than a spec lists, so a
new argument added here breaks no existing plugin.

Registration hooks receive a ``register`` callable and return nothing. ``register(name, target)``
records one component; ``target`` is either the component class or an import path
``"package.module:Name"`` that is imported only when the component is first used, so that
listing plugins stays cheap. The registrar checks the name and rejects duplicates across
plugins, naming both distributions.

This module imports nothing heavy; the types below are for readers and type checkers only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from olive_core.engine.result import CandidateResult, StepRecord, WorkflowResult
    from olive_core.models.handler import ModelHandler
    from olive_core.registry import Registrar

PROJECT_NAME = "olive_core"

_hookspec = pluggy.HookspecMarker(PROJECT_NAME)


# --------------------------------------------------------------------------------------------
# Registration: called once per plugin manager, the first time its components are needed.
# --------------------------------------------------------------------------------------------


@_hookspec
def register_passes(register: Registrar) -> None:
    """Register passes: ``register("OnnxConversion", "olive_onnx.passes.conversion:OnnxConversion")``.

    The target must resolve to a subclass of :class:`olive_core.passes.Pass`. A pass name is
    what a workflow writes as ``passes.<step>.type``.
    """


@_hookspec
def register_model_types(register: Registrar) -> None:
    """Register model types: ``register("onnx", "olive_onnx.model:OnnxModelType")``.

    The target must resolve to a subclass of :class:`olive_core.models.ModelType`; its name is
    what a workflow writes as ``input_model.type`` and what passes list as accepted inputs.
    """


@_hookspec
def register_accelerators(register: Registrar) -> None:
    """Register accelerator devices: ``register("cpu", Accelerator(...))``.

    The target is an :class:`olive_core.accelerators.Accelerator` (or an import path to one);
    its name is what a workflow writes as ``accelerators[].device``.
    """


@_hookspec
def register_execution_providers(register: Registrar) -> None:
    """Register execution providers on device kinds: ``register("QNNExecutionProvider", ExecutionProvider(...))``.

    The target is an :class:`olive_core.accelerators.ExecutionProvider` (or an import path to
    one) naming the device it runs on, which any plugin may have registered (``npu`` comes from
    olive-onnx). Several plugins can add providers to one device; the name is what a workflow
    writes as ``accelerators[].provider``. Give the provider's default options and session
    config entries, an availability probe that imports nothing heavy, and for a provider shipped
    as a separate library (an ONNX Runtime plugin EP) a callable returning that library's path.
    """


@_hookspec
def register_metrics(register: Registrar) -> None:
    """Register metrics: ``register("latency", "olive_core.evaluation.metrics.latency:LatencyMetric")``.

    The target must resolve to a subclass of :class:`olive_core.evaluation.Metric`; its name is
    what a workflow writes as ``metrics[].type``.
    """


@_hookspec
def register_data_components(register: Registrar) -> None:
    """Register data components: loaders, pre-processors and post-processors.

    The target must resolve to a subclass of :class:`olive_core.evaluation.DataComponent`; its
    name is what a workflow writes as ``data.<name>.load.type`` (or ``preprocess`` /
    ``postprocess``), and its ``role`` says which of the three it can fill.
    """


@_hookspec
def register_search_strategies(register: Registrar) -> None:
    """Register search strategies: ``register("random", "olive_core.search.random:RandomSearch")``.

    The target must resolve to a subclass of :class:`olive_core.search.SearchStrategy`; its
    name is what a workflow writes as ``search.strategy``.
    """


@_hookspec
def register_cache_backends(register: Registrar) -> None:
    """Register cache backends: ``register("local", "olive_core.cache.local:LocalCache")``.

    The target must resolve to a subclass of :class:`olive_core.cache.CacheBackend`; its name is
    what a workflow writes as ``engine.cache.type``.
    """


@_hookspec
def register_commands(register: Registrar) -> None:
    """Add commands to ``olive``: ``register("optimize", "olive_onnx.cli.optimize:optimize")``.

    The target must resolve to a :class:`click.Command`. ``olive --help`` imports every
    command's module to show its one-line help, so a command module imports click and nothing
    heavy (do the work inside the command). Core's own commands (``run``, ``plugins``, ...) are
    registered the same way, so a plugin cannot take their names.
    """


@_hookspec
def register_recipes(register: Registrar) -> None:
    """Register recipes: ``register("onnx-cpu", "olive_onnx.recipes:OnnxRecipe")``.

    The target must resolve to a subclass of :class:`olive_core.recipes.Recipe`: given what the
    user asked for on the command line (model, device, precision, data), it writes the
    workflow that ``olive optimize``, ``olive quantize`` and ``olive convert`` run. Among the
    recipes that accept a request, the one with the highest ``priority`` writes it, so a plugin
    for a model family or a device adds a recipe without replacing the others.
    """


@_hookspec
def register_trackers(register: Registrar) -> None:
    """Register trackers, observers a workflow configures: ``register("mlflow", "olive_mlflow.tracker:MlflowTracker")``.

    The target must resolve to a subclass of :class:`olive_core.tracking.Tracker`; its name is
    what a workflow writes as ``tracking[].type``. A run creates one instance per entry of its
    ``tracking`` list and hands it the run's lifecycle calls (below) on a thread of its own: a
    tracker that fails or does not answer within its ``timeout_s`` is switched off with one
    warning, and the run goes on.
    """


@_hookspec
def register_executors(register: Registrar) -> None:
    """Register executors, where a search's trials run: ``register("dask", "olive_dask.executor:DaskExecutor")``.

    The target must resolve to a subclass of :class:`olive_core.engine.executors.TrialExecutor`;
    its name is what a workflow writes as ``search.executor.type`` (and ``olive run --executor``).
    Core registers ``inline`` (this process) and ``process`` (a local process pool). An executor
    whose workers may run on other machines says so, so that a cache that cannot be shared
    across machines is refused before any trial runs.
    """


# --------------------------------------------------------------------------------------------
# Lifecycle: observers of a run. Return values are ignored; an exception raised here fails the
# run, so an observer that may fail (a network call) should be a tracker (register_trackers):
# core runs those apart from the run, and a tracker's failure never fails it.
# --------------------------------------------------------------------------------------------


@_hookspec
def on_workflow_start(run_id: str, workflow: dict[str, Any]) -> None:
    """Called once a workflow has been validated and before its first pass runs.

    ``run_id`` identifies this run in ``run.json``; ``workflow`` is the validated workflow as
    plain JSON data, with secrets removed.
    """


@_hookspec
def on_pass_start(run_id: str, step: str, pass_type: str, model: ModelHandler, config: dict[str, Any]) -> None:
    """Called before a pass runs (not when its result comes from the cache).

    ``step`` is the workflow's name for the pass, ``pass_type`` its registered name, ``model``
    the input model and ``config`` the pass config as plain JSON data.
    """


@_hookspec
def on_pass_end(
    run_id: str,
    step: str,
    pass_type: str,
    model: ModelHandler | None,
    error: str | None,
    cached: bool,
) -> None:
    """Called after each step of a pass chain, whether it ran, came from the cache or failed.

    ``model`` is the output model (None on failure), ``error`` the failure reason (None on
    success), and ``cached`` tells whether the result was taken from the cache.
    """


@_hookspec
def on_evaluation_end(run_id: str, model: ModelHandler, metrics: dict[str, float]) -> None:
    """Called after a model has been evaluated, with its flat ``metric-submetric: value`` dict."""


@_hookspec
def on_candidate_end(run_id: str, candidate: CandidateResult, steps: list[StepRecord]) -> None:
    """Called in the engine's process when a candidate's trial has finished, wherever it ran.

    ``candidate`` holds its configs (``point``), lineage, output model, metrics (``evaluation``)
    or ``error``; ``steps`` is the record of each step of its chain in order, whose ``status``
    says whether it ran, came from the cache or failed. Trials that run in worker processes call
    the pass and evaluation hooks there, not here: this is the call an observer of every
    candidate can rely on.
    """


@_hookspec
def on_workflow_end(run_id: str, result: WorkflowResult) -> None:
    """Called once at the end of a run, successful or not, with what the run produced."""


REGISTRATION_HOOKS = (
    "register_passes",
    "register_model_types",
    "register_accelerators",
    "register_execution_providers",
    "register_metrics",
    "register_data_components",
    "register_search_strategies",
    "register_cache_backends",
    "register_commands",
    "register_recipes",
    "register_trackers",
    "register_executors",
)

LIFECYCLE_HOOKS = (
    "on_workflow_start",
    "on_pass_start",
    "on_pass_end",
    "on_evaluation_end",
    "on_candidate_end",
    "on_workflow_end",
)

__all__ = ["PROJECT_NAME", "REGISTRATION_HOOKS", "LIFECYCLE_HOOKS"]
