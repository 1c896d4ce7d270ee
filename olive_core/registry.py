"""The component registry that plugins fill through their ``register_*`` hooks.

A component is registered as a name plus either an object or an ``"module:attr"`` import path;
paths are imported on first use, which keeps ``olive plugins`` cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from olive_core.errors import PluginError, did_you_mean
from olive_core.known_plugins import plugin_providing

#: component kind -> the registration hook that fills it
KINDS: dict[str, str] = {
    "pass": "register_passes",
    "model_type": "register_model_types",
    "accelerator": "register_accelerators",
    "execution_provider": "register_execution_providers",
    "metric": "register_metrics",
    "data_component": "register_data_components",
    "search_strategy": "register_search_strategies",
    "cache_backend": "register_cache_backends",
    "command": "register_commands",
    "recipe": "register_recipes",
    "tracker": "register_trackers",
    "executor": "register_executors",
}

#: how a kind is spelled in messages
KIND_LABELS: dict[str, str] = {
    "pass": "pass",
    "model_type": "model type",
    "accelerator": "accelerator",
    "execution_provider": "execution provider",
    "metric": "metric",
    "data_component": "data component",
    "search_strategy": "search strategy",
    "cache_backend": "cache backend",
    "command": "command",
    "recipe": "recipe",
    "tracker": "tracker",
    "executor": "executor",
}

KIND_PLURALS: dict[str, str] = {kind: label + "s" for kind, label in KIND_LABELS.items()} | {
    "pass": "passes",
    "search_strategy": "search strategies",
}


@dataclass
class PluginSource:
    """Where a registration came from, for messages and ``olive plugins``."""

    name: str
    distribution: str
    version: str

    def __str__(self) -> str:
        return f"{self.distribution} {self.version}".strip()


@dataclass
class Component:
    """One registered component: its name, where it comes from and how to get it."""

    kind: str
    name: str
    target: Any
    source: PluginSource
    _loaded: Any = field(default=None, repr=False)

    @property
    def import_path(self) -> str:
        if isinstance(self.target, str):
            return self.target
        return f"{getattr(self.target, '__module__', '?')}:{getattr(self.target, '__qualname__', repr(self.target))}"

    def load(self) -> Any:
        """Import (once) and return the registered object."""
        if self._loaded is None:
            self._loaded = self.target if not isinstance(self.target, str) else _import(self)
            _check_type(self)
        return self._loaded


def _import(component: Component) -> Any:
    module_name, _, attr = component.target.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr) if attr else module
    except Exception as exc:  # a plugin's bug, surfaced with the plugin's name
        raise PluginError(
            f"{KIND_LABELS[component.kind]} '{component.name}' from {component.source} "
            f"cannot be imported from '{component.target}': {type(exc).__name__}: {exc}",
            hint=f"reinstall {component.source.distribution} or report this to its authors",
        ) from exc


def _check_type(component: Component) -> None:
    expected = _expected_base(component.kind)
    obj = component._loaded
    instances = ("accelerator", "execution_provider", "command")  # registered as objects, not classes
    ok = isinstance(obj, expected) if component.kind in instances else isinstance(obj, type) and issubclass(obj, expected)
    if not ok:
        raise PluginError(
            f"{KIND_LABELS[component.kind]} '{component.name}' from {component.source} is "
            f"{obj!r}, not a {expected.__name__}",
            hint=f"report this to the authors of {component.source.distribution}",
        )


def _expected_base(kind: str) -> type:
    # Imported here: these modules are light, but the registry must not depend on them at import.
    if kind == "pass":
        from olive_core.passes.base import Pass

        return Pass
    if kind == "model_type":
        from olive_core.models.model_type import ModelType

        return ModelType
    if kind == "accelerator":
        from olive_core.accelerators import Accelerator

        return Accelerator
    if kind == "execution_provider":
        from olive_core.accelerators import ExecutionProvider

        return ExecutionProvider
    if kind == "metric":
        from olive_core.evaluation.metric import Metric

        return Metric
    if kind == "data_component":
        from olive_core.evaluation.data import DataComponent

        return DataComponent
    if kind == "search_strategy":
        from olive_core.search.strategy import SearchStrategy

        return SearchStrategy
    if kind == "command":
        import click

        return click.Command
    if kind == "recipe":
        from olive_core.recipes import Recipe

        return Recipe
    if kind == "tracker":
        from olive_core.tracking import Tracker

        return Tracker
    if kind == "executor":
        from olive_core.engine.executors import TrialExecutor

        return TrialExecutor
    from olive_core.cache.backend import CacheBackend

    return CacheBackend


@dataclass
class PluginFailure:
    """A plugin that could not be loaded: recorded, reported, never fatal unless strict."""

    name: str
    distribution: str
    version: str
    error: str


class Registry:
    """All registered components, by kind and name."""

    def __init__(self) -> None:
        self._components: dict[str, dict[str, Component]] = {kind: {} for kind in KINDS}
        self.failures: list[PluginFailure] = []
        #: installed plugins that were disabled, so a hint does not say "pip install" them
        self.disabled: list[PluginSource] = []

    def registrar(self, kind: str, source: PluginSource) -> Registrar:
        return Registrar(self, kind, source)

    def batch(self, source: PluginSource) -> RegistrationBatch:
        """Collects one plugin's registrations, to be added together by :meth:`add_batch`."""
        return RegistrationBatch(source)

    def add(self, component: Component) -> None:
        existing = self._components[component.kind].get(component.name)
        if existing is not None:
            raise PluginError(
                f"{KIND_LABELS[component.kind]} '{component.name}' is registered twice: by "
                f"{existing.source} and by {component.source}",
                hint="uninstall one of the two distributions, or disable one with "
                f"OLIVE_DISABLE_PLUGINS={component.source.name}",
            )
        self._components[component.kind][component.name] = component

    def add_batch(self, batch: RegistrationBatch) -> None:
        """Add all of a plugin's components, or none when one of them clashes."""
        seen: set[tuple[str, str]] = set()
        for component in batch.components:
            key = (component.kind, component.name)
            existing = self._components[component.kind].get(component.name)
            if key in seen or existing is not None:
                first = existing.source if existing is not None else component.source
                raise PluginError(
                    f"{KIND_LABELS[component.kind]} '{component.name}' is registered twice: by {first} "
                    f"and by {component.source}; {component.source.distribution} is not loaded",
                    hint="uninstall one of the two distributions, or disable one with "
                    f"OLIVE_DISABLE_PLUGINS={component.source.name}",
                )
            seen.add(key)
        for component in batch.components:
            self._components[component.kind][component.name] = component

    def names(self, kind: str) -> list[str]:
        return sorted(self._components[kind])

    def components(self, kind: str) -> Iterator[Component]:
        for name in self.names(kind):
            yield self._components[kind][name]

    def find(self, kind: str, name: str) -> Component | None:
        return self._components[kind].get(name)

    def get(self, kind: str, name: str) -> Component:
        """Return a component or raise an error that says what to do about the unknown name."""
        component = self.find(kind, name)
        if component is not None:
            return component
        raise PluginError(self.unknown_message(kind, name), hint=self.unknown_hint(kind, name))

    def load(self, kind: str, name: str) -> Any:
        return self.get(kind, name).load()

    def unknown_message(self, kind: str, name: str) -> str:
        label = KIND_LABELS[kind]
        known = self.names(kind)
        message = f"unknown {label} '{name}'"
        suggestion = did_you_mean(name, known)
        if suggestion:
            message += f"; {suggestion}"
        elif known:
            shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
            message += f"; installed {KIND_PLURALS[kind]}: {shown}"
        return message

    def unknown_hint(self, kind: str, name: str) -> str | None:
        provider = plugin_providing(kind, name)
        if provider is not None:
            failed = next((f for f in self.failures if f.distribution == provider), None)
            if failed is not None:
                return f"'{name}' comes from {provider}, which failed to load: {failed.error}"
            disabled = next((d for d in self.disabled if d.distribution == provider), None)
            if disabled is not None:
                return (
                    f"'{name}' comes from {provider}, which is installed but disabled "
                    f"(OLIVE_DISABLE_PLUGINS or the 'disabled' argument names '{disabled.name}' or '{provider}')"
                )
            return f"'{name}' is provided by {provider}: pip install {provider}"
        if self.failures:
            names = ", ".join(f.distribution for f in self.failures)
            return f"some plugins failed to load ({names}); run `olive plugins` to see why"
        return "run `olive plugins` to see what is installed"


class RegistrationBatch:
    """One plugin's registrations, held until all its hooks have run."""

    def __init__(self, source: PluginSource) -> None:
        self.source = source
        self.components: list[Component] = []

    def registrar(self, kind: str) -> Registrar:
        return Registrar(self, kind, self.source)

    def add(self, component: Component) -> None:
        self.components.append(component)


class Registrar:
    """The ``register`` callable handed to a plugin's registration hook."""

    def __init__(self, registry: Registry | RegistrationBatch, kind: str, source: PluginSource) -> None:
        self._registry = registry
        self.kind = kind
        self.source = source

    def __call__(self, name: str, target: Any) -> None:
        if not isinstance(name, str) or not name or name != name.strip():
            raise PluginError(f"{self.source} registered a {KIND_LABELS[self.kind]} with an invalid name {name!r}")
        if isinstance(target, str) and ":" not in target:
            raise PluginError(
                f"{self.source} registered {KIND_LABELS[self.kind]} '{name}' with import path "
                f"'{target}'; expected 'package.module:Name'"
            )
        self._registry.add(Component(self.kind, name, target, self.source))


