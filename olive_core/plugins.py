"""Plugin discovery: a fresh plugin manager per call, with an entry-point loop we own.

pluggy's ``load_setuptools_entrypoints`` lets one broken plugin abort everything; here each
entry point loads in its own ``try``, and a plugin that cannot be used (an import error, another
plugin API, a misspelled hook, a component name another plugin already registered) is refused
on its own: recorded, reported as a one-line warning (an error with ``OLIVE_STRICT_PLUGINS=1``),
and the other plugins keep working. Discovery imports only the plugins' light entry modules.

Environment variables:

- ``OLIVE_DISABLE_PLUGINS=a,b``: skip these plugins (entry-point or distribution names).
- ``OLIVE_PLUGINS=pkg.module,...``: also load these modules as plugins, without installing them.
- ``OLIVE_NO_ENTRY_POINTS=1``: load no installed plugin (core's own components only).
- ``OLIVE_STRICT_PLUGINS=1``: a plugin that fails to load is an error, not a warning.
- ``OLIVE_TRACE_PLUGINS=1``: print every hook call and its result to stderr.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from olive_core import hookspecs
from olive_core.errors import PluginError, did_you_mean
from olive_core.registry import KINDS, PluginFailure, PluginSource, Registry
from olive_core.version import PLUGIN_API_VERSION, __version__

ENTRY_POINT_GROUP = "olive_core.plugins"
BUILTIN_PLUGINS = ("olive_core.builtin",)

logger = logging.getLogger(__name__)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


@dataclass
class PluginInfo:
    """What ``olive plugins`` reports about one loaded plugin."""

    name: str
    distribution: str
    version: str
    module: str
    components: dict[str, list[str]] = field(default_factory=dict)


class OlivePluginManager(pluggy.PluginManager):
    """A pluggy manager that also owns the component registry and the load record."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.sources: dict[str, PluginSource] = {}
        self.failures: list[PluginFailure] = []
        #: installed plugins skipped by OLIVE_DISABLE_PLUGINS or ``disabled``
        self.disabled: list[PluginSource] = []
        self._registry: Registry | None = None
        self.tracing = False
        #: how this manager was made, so a worker process can make an equal one
        self.recipe: dict[str, Any] = {}

    # -- loading -------------------------------------------------------------------------

    def register_plugin(self, module: ModuleType, source: PluginSource) -> None:
        """Register one plugin module after checking the API version it declares and its hook names."""
        check_api_version(module, source)
        check_hook_names(self, module, source)
        self.register(module, name=source.name)
        self.sources[source.name] = source

    def refuse(self, name: str, error: str) -> None:
        """Take back a registered plugin that turned out unusable, and record why."""
        source = self.sources.pop(name, None) or PluginSource(name, name, "")
        if self.has_plugin(name):
            self.unregister(name=name)
        self.record_failure(name, source.distribution, source.version, error)

    def record_failure(self, name: str, distribution: str, version: str, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        text = text.splitlines()[0] if text else "unknown error"
        self.failures.append(PluginFailure(name, distribution, version, text))
        if _env_flag("OLIVE_STRICT_PLUGINS"):
            raise PluginError(
                f"plugin '{name}' ({distribution} {version}) failed to load: {text}",
                hint="fix or uninstall it, or unset OLIVE_STRICT_PLUGINS to load the others",
            )
        logger.warning("plugin '%s' (%s %s) failed to load and is skipped: %s", name, distribution, version, text)

    # -- the registry ----------------------------------------------------------------------

    @property
    def registry(self) -> Registry:
        """Components of every plugin, built on first use by calling the registration hooks."""
        if self._registry is None:
            self._registry = self._build_registry()
        return self._registry

    def _build_registry(self) -> Registry:
        """Call each plugin's registration hooks, a plugin at a time, in the order plugins loaded.

        A plugin's components enter the registry together or not at all: one that fails in a
        hook, or registers a name an earlier plugin has, is refused whole and the rest go on.
        """
        registry = Registry()
        registry.failures = self.failures
        registry.disabled = self.disabled
        for name, _plugin in list(self.list_name_plugin()):
            source = self.sources.get(name) or PluginSource(name, name, "")
            batch = registry.batch(source)
            try:
                for kind, hook_name in KINDS.items():
                    impl = next((i for i in getattr(self.hook, hook_name).get_hookimpls() if i.plugin_name == name), None)
                    if impl is None:
                        continue
                    if self.tracing:
                        print(f"[olive trace] {hook_name}(register) -> {name}", file=sys.stderr)
                    _call_registration(impl, batch.registrar(kind), source, hook_name)
                registry.add_batch(batch)
            except PluginError as exc:
                if name == BUILTIN_PLUGINS[0]:
                    raise  # core's own components are not optional
                self.refuse(name, exc.message)
        return registry

    def plugin_infos(self) -> list[PluginInfo]:
        registry = self.registry
        infos = []
        for name, source in self.sources.items():
            plugin = self.get_plugin(name)
            components = {
                kind: [c.name for c in registry.components(kind) if c.source.name == name] for kind in KINDS
            }
            infos.append(
                PluginInfo(
                    name=name,
                    distribution=source.distribution,
                    version=source.version,
                    module=getattr(plugin, "__name__", repr(plugin)),
                    components={k: v for k, v in components.items() if v},
                )
            )
        return infos


def _call_registration(impl: Any, register: Any, source: PluginSource, hook_name: str) -> None:
    kwargs = {"register": register} if "register" in impl.argnames else {}
    try:
        impl.function(**kwargs)
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(
            f"plugin '{source.name}' ({source}) failed in {hook_name}: {type(exc).__name__}: {exc}",
            hint=f"report this to the authors of {source.distribution}, or disable it "
            f"with OLIVE_DISABLE_PLUGINS={source.name}",
        ) from exc


def check_api_version(module: ModuleType, source: PluginSource) -> None:
    """Refuse, in one line, a plugin built for another major version of the plugin API."""
    declared = getattr(module, "olive_plugin_api", None)
    major = PLUGIN_API_VERSION.split(".")[0]
    if declared is None:
        raise PluginError(
            f"plugin '{source.name}' ({source}) does not declare olive_plugin_api; this olive-core "
            f"provides plugin API {PLUGIN_API_VERSION} (set olive_plugin_api = \"{PLUGIN_API_VERSION}\" in the plugin)"
        )
    if str(declared).split(".")[0] != major:
        raise PluginError(
            f"plugin '{source.name}' ({source}) targets plugin API {declared}, but this olive-core "
            f"({__version__}) provides plugin API {PLUGIN_API_VERSION}; install a release of "
            f"{source.distribution} built for plugin API {major}.x"
        )


def check_hook_names(manager: pluggy.PluginManager, module: Any, source: PluginSource) -> None:
    """Refuse a plugin that marks a function as a hook the contract does not have (a typo)."""
    for attribute in dir(module):
        if manager.parse_hookimpl_opts(module, attribute) is None:
            continue
        if not hasattr(hookspecs, attribute):
            known = [*hookspecs.REGISTRATION_HOOKS, *hookspecs.LIFECYCLE_HOOKS]
            suggestion = did_you_mean(attribute, known)
            raise PluginError(
                f"plugin '{source.name}' ({source}) implements '{attribute}', which is not an olive hook"
                + (f"; {suggestion}" if suggestion else "")
            )


def create_plugin_manager(
    entry_points: bool | None = None,
    disabled: Iterable[str] = (),
    extra_plugins: Iterable[str] = (),
) -> OlivePluginManager:
    """Return a new plugin manager with core's own plugin and the installed ones.

    ``entry_points`` defaults to True unless ``OLIVE_NO_ENTRY_POINTS`` is set; ``disabled`` adds
    to ``OLIVE_DISABLE_PLUGINS``; ``extra_plugins`` (module paths) adds to ``OLIVE_PLUGINS``.
    """
    manager = OlivePluginManager()
    manager.recipe = {"entry_points": entry_points, "disabled": list(disabled), "extra_plugins": list(extra_plugins)}
    if _env_flag("OLIVE_TRACE_PLUGINS"):
        _enable_tracing(manager)
    core_source = PluginSource("olive_core.builtin", "olive-core", __version__)
    for module_name in BUILTIN_PLUGINS:
        manager.register_plugin(importlib.import_module(module_name), core_source)

    skip = set(disabled) | set(_env_list("OLIVE_DISABLE_PLUGINS"))
    if entry_points is None:
        entry_points = not _env_flag("OLIVE_NO_ENTRY_POINTS")
    if entry_points:
        _load_entry_points(manager, skip)
    for module_name in [*extra_plugins, *_env_list("OLIVE_PLUGINS")]:
        if module_name in skip or manager.has_plugin(module_name):
            continue
        _load_one(manager, module_name, PluginSource(module_name, module_name, "(OLIVE_PLUGINS)"), lambda m=module_name: importlib.import_module(m))
    return manager


def _load_entry_points(manager: OlivePluginManager, skip: set[str]) -> None:
    for entry_point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        dist = entry_point.dist
        dist_name = dist.metadata["Name"] if dist is not None else "?"
        dist_version = dist.version if dist is not None else "?"
        if entry_point.name in skip or dist_name in skip:
            manager.disabled.append(PluginSource(entry_point.name, dist_name, dist_version))
            continue
        if manager.has_plugin(entry_point.name):
            continue
        _load_one(manager, entry_point.name, PluginSource(entry_point.name, dist_name, dist_version), entry_point.load)


def _load_one(manager: OlivePluginManager, name: str, source: PluginSource, load: Any) -> None:
    try:
        module = load()
        manager.register_plugin(module, source)
    except Exception as exc:  # any failure in a third-party plugin is that plugin's, not ours
        if manager.has_plugin(name):  # pluggy adds hooks one by one: take back a partial plugin
            manager.unregister(name=name)
        if isinstance(exc, PluginError):
            reason: BaseException | str = exc.message
        elif isinstance(exc, pluggy.PluginValidationError):  # a hook whose arguments the spec lacks
            reason = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        else:
            reason = exc
        manager.record_failure(name, source.distribution, source.version, reason)


def _enable_tracing(manager: OlivePluginManager) -> None:
    manager.tracing = True

    def before(hook_name: str, hook_impls: list[Any], kwargs: dict[str, Any]) -> None:
        names = ", ".join(impl.plugin_name for impl in hook_impls)
        print(f"[olive trace] {hook_name}({', '.join(kwargs)}) -> [{names}]", file=sys.stderr)

    def after(outcome: Any, hook_name: str, hook_impls: list[Any], kwargs: dict[str, Any]) -> None:
        exception = outcome.exception
        status = f"raised {type(exception).__name__}" if exception else "ok"
        print(f"[olive trace] {hook_name} {status}", file=sys.stderr)

    manager.add_hookcall_monitoring(before, after)
