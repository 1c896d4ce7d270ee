"""Core's own plugin: registered through the same hooks as any installed plugin."""

from __future__ import annotations

from olive_core import hookimpl
from olive_core.accelerators import CPU, CPU_PROVIDER
from olive_core.cli.commands import CORE_COMMANDS
from olive_core.builtin.evaluation import register_data_components, register_metrics  # noqa: F401
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


@hookimpl
def register_accelerators(register: Registrar) -> None:
    register("cpu", CPU)


@hookimpl
def register_execution_providers(register: Registrar) -> None:
    register("CPUExecutionProvider", CPU_PROVIDER)


@hookimpl
def register_cache_backends(register: Registrar) -> None:
    register("local", "olive_core.cache.local:LocalCache")


@hookimpl
def register_search_strategies(register: Registrar) -> None:
    register("exhaustive", "olive_core.search.exhaustive:ExhaustiveSearch")
    register("random", "olive_core.search.random:RandomSearch")
    register("nevergrad", "olive_core.search.nevergrad:NevergradSearch")


@hookimpl
def register_executors(register: Registrar) -> None:
    register("inline", "olive_core.engine.executors:InlineTrialExecutor")
    register("process", "olive_core.engine.executors:ProcessTrialExecutor")


@hookimpl
def register_commands(register: Registrar) -> None:
    for name, target in CORE_COMMANDS.items():
        register(name, target)
