"""Phase two of validation: resolve every component and check its own config.

Errors are collected across the whole workflow and reported together, one per bad field; a
component whose type is unknown gets one error and its config is not checked (no cascade).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from olive_core.accelerators import AcceleratorSpec, ExecutionProvider
from olive_core.config.errors import config_errors_from
from olive_core.config.resolved import (
    ResolvedComponent,
    ResolvedData,
    ResolvedMetric,
    ResolvedPass,
    ResolvedStep,
    ResolvedWorkflow,
)
from olive_core.config.workflow import ComponentConfig, WorkflowConfig
from olive_core.errors import ConfigError, ConfigErrors, OliveError, did_you_mean
from olive_core.passes.searchable import search_space
from olive_core.redaction import Redactor
from olive_core.registry import Registry
from olive_core.search.build import override_dimension
from olive_core.search.space import PASS_TYPE_KEY


class _Collector:
    def __init__(self, registry: Registry, source: str | None) -> None:
        self.registry = registry
        self.source = source
        self.errors: list[ConfigError] = []

    def error(self, path: str, message: str, hint: str | None = None) -> None:
        self.errors.append(ConfigError(message, path=path, source=self.source, hint=hint))

    def load(self, kind: str, name: str, path: str) -> Any | None:
        component = self.registry.find(kind, name)
        if component is None:
            self.error(path, self.registry.unknown_message(kind, name), self.registry.unknown_hint(kind, name))
            return None
        try:
            return component.load()
        except OliveError as exc:
            self.error(path, exc.message, exc.hint)
            return None

    def validate(self, model: type[BaseModel], data: Any, path: str, label: str | None = None) -> BaseModel | None:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            self.errors += config_errors_from(exc, prefix=path, source=self.source, model=model, label=label)
            return None

    def component(self, kind: str, spec: ComponentConfig, path: str) -> ResolvedComponent | None:
        cls = self.load(kind, spec.type, f"{path}.type")
        if cls is None:
            return None
        config = self.validate(cls.Config, spec.config, f"{path}.config")
        return ResolvedComponent(spec.type, cls, config) if config is not None else None


def resolve_workflow(
    config: WorkflowConfig,
    registry: Registry,
    source: str | None = None,
    base_dir: Path | None = None,
    redactor: Redactor | None = None,
) -> ResolvedWorkflow:
    """Resolve and validate every component of ``config``; raise all errors found at once."""
    check = _Collector(registry, source)
    input_model = check.component("model_type", config.input_model, "input_model")
    accelerators = _accelerators(config, check)
    steps = [_step(name, step, check, list(config.data)) for name, step in config.passes.items()]
    _targets(steps, accelerators, check)
    data = {name: _data(name, spec, check) for name, spec in config.data.items()}
    metrics = [_metric(index, spec, config, check) for index, spec in enumerate(config.metrics)]
    search = None
    if config.search.strategy:
        search = check.component(
            "search_strategy",
            ComponentConfig(type=config.search.strategy, config=config.search.config),
            "search.strategy",
        )
    cache = check.component("cache_backend", config.engine.cache, "engine.cache")
    trackers = [check.component("tracker", spec, f"tracking.{index}") for index, spec in enumerate(config.tracking)]
    executor = _executor(config, cache, check)
    if all(m is not None for m in metrics):  # else the metric's own error says enough
        _objectives(config, metrics, check)  # type: ignore[arg-type]
    if check.errors:
        raise check.errors[0] if len(check.errors) == 1 else ConfigErrors(check.errors)
    return ResolvedWorkflow(
        config=config,
        source=source,
        base_dir=base_dir or Path.cwd(),
        input_model=input_model,  # type: ignore[arg-type]
        accelerators=accelerators,
        steps=steps,  # type: ignore[arg-type]
        data=data,  # type: ignore[arg-type]
        metrics=metrics,  # type: ignore[arg-type]
        search=search,
        cache=cache,  # type: ignore[arg-type]
        redactor=_with_secrets(redactor or Redactor(), config),
        trackers=trackers,  # type: ignore[arg-type]
        executor=executor,
    )


def _executor(config: WorkflowConfig, cache: ResolvedComponent | None, check: _Collector) -> ResolvedComponent | None:
    """The executor trials run on, refused with a cache its workers could not share.

    Workers on other machines share results only through a cache with a remote tier; a local
    folder (its file locks and SQLite records) is safe on one machine only.
    """
    spec = config.search.executor
    if spec is None:
        spec = ComponentConfig(type="process" if config.search.parallel_trials > 1 else "inline")
    executor = check.component("executor", spec, "search.executor")
    if executor is None or cache is None or cache.cls.has_remote or executor.cls.on_this_machine(executor.config):
        return executor
    option = executor.cls.same_machine_option
    check.error(
        "engine.cache.type",
        f"the '{cache.type}' cache keeps its results in a folder of this machine, but executor "
        f"'{executor.type}' may run trials on other machines, which could not share it",
        "use a cache backend with a remote tier that every worker reaches (engine.cache.type: azure, from "
        "olive-azure-cache)"
        + (f", or, if every worker runs on this machine, set search.executor.config.{option}: true" if option else ""),
    )
    return None


def _with_secrets(redactor: Redactor, config: WorkflowConfig) -> Redactor:
    """The run's redactor, told the secret fields' clear values too (see Redactor.remember_secrets)."""
    redactor.remember_secrets(config.model_dump(mode="json"))
    return redactor


def _objectives(config: WorkflowConfig, metrics: list[ResolvedMetric], check: _Collector) -> None:
    known = sorted(f"{m.name}-{sub}" for m in metrics for sub in m.sub_metrics)
    for index, objective in enumerate(config.search.objectives):
        if objective.metric not in known:
            check.error(
                f"search.objectives.{index}.metric",
                f"'{objective.metric}' is not a measured metric",
                did_you_mean(objective.metric, known) or f"measured: {', '.join(known) or 'none (add metrics)'}",
            )


def _accelerators(config: WorkflowConfig, check: _Collector) -> list[AcceleratorSpec]:
    specs: list[AcceleratorSpec] = []
    for index, accelerator in enumerate(config.accelerators):
        path = f"accelerators.{index}"
        device = check.load("accelerator", accelerator.device, f"{path}.device")
        if device is None:
            continue
        if not device.is_available():
            check.error(f"{path}.device", f"device '{accelerator.device}' is not available on this machine")
            continue
        provider = _provider(accelerator.device, accelerator.provider, path, check)
        if provider is None:
            continue
        try:
            specs.append(accelerator_spec(provider, accelerator.provider_options))
        except Exception as exc:  # the provider's library probe: a broken install of its package
            check.error(f"{path}.provider", f"execution provider '{provider.name}' cannot be set up: {type(exc).__name__}: {exc}", provider.install_hint or None)
    return specs


def _targets(steps: list[ResolvedStep | None], accelerators: list[AcceleratorSpec], check: _Collector) -> None:
    """Refuse, before anything runs, a step whose pass cannot run on a targeted device or provider."""
    for step in (p for s in steps if s is not None for p in s.passes):
        devices, providers = step.cls.devices, step.cls.providers
        for spec in accelerators:
            if devices and spec.device not in devices:
                check.error(
                    f"passes.{step.name}.type",
                    f"{step.type} runs on {', '.join(devices)} only, but the workflow targets '{spec.device}'",
                    f"target {' or '.join(devices)} in 'accelerators', or drop this step",
                )
            elif providers and spec.execution_provider not in providers:
                check.error(
                    f"passes.{step.name}.type",
                    f"{step.type} needs {' or '.join(providers)}, but the workflow targets {spec.execution_provider}",
                    f"set accelerators[].provider to {providers[0]}",
                )


def _provider(device: str, name: str | None, path: str, check: _Collector) -> ExecutionProvider | None:
    """The named provider of ``device``, or the available one its plugins prefer; None after an error."""
    registry = check.registry
    of_device = [c.load() for c in registry.components("execution_provider")]
    of_device = sorted((p for p in of_device if p.device == device), key=lambda p: -p.priority)
    if name is not None:
        provider = check.load("execution_provider", name, f"{path}.provider")
        if provider is None:
            return None
        if provider.device != device:
            names = ", ".join(p.name for p in of_device) or "none"
            check.error(f"{path}.provider", f"'{name}' runs on '{provider.device}', not on '{device}'", f"providers of '{device}': {names}")
            return None
        if not provider.is_available():
            check.error(f"{path}.provider", f"execution provider '{name}' is not available on this machine", provider.install_hint or None)
            return None
        return provider
    available = [p for p in of_device if p.is_available()]
    if not available:
        registered = ", ".join(p.name for p in of_device) or "none registered"
        check.error(f"{path}.device", f"no execution provider of '{device}' is available here ({registered})", "install the plugin (and package) of a provider for it, or target another device")
        return None
    return available[0]


def accelerator_spec(provider: ExecutionProvider, options: dict[str, str] | None = None) -> AcceleratorSpec:
    """What a run needs of a provider: its merged options and session config, its library's path."""
    merged = {**provider.provider_options, **(options or {})}
    return AcceleratorSpec(
        device=provider.device,
        execution_provider=provider.name,
        provider_options=tuple(sorted((str(k), str(v)) for k, v in merged.items())),
        session_config=tuple(sorted((str(k), str(v)) for k, v in provider.session_config.items())),
        version=provider.version() if provider.version is not None else None,
        library=provider.library() if provider.library is not None else None,
        simulated=bool(provider.simulated()),
    )


def _step(name: str, step: Any, check: _Collector, data_names: list[str]) -> ResolvedStep | None:
    """A step in either spelling: ``{type, config, ...}`` (``type`` may list several passes that
    share ``config``) or a list of ``{type, config, ...}`` whose choices the step unites."""
    path = f"passes.{name}"
    errors_before = len(check.errors)
    if isinstance(step, list):
        items = _listed_alternatives(step, path, check)
        passes = [_pass(name, item, item.type, where, check, data_names) for item, where in items]
        optional = any(item.optional for item in step)
    else:
        classes = {t: check.load("pass", t, f"{path}.type") for t in step.types}
        if any(cls is None for cls in classes.values()):
            return None
        shared = None
        if len(classes) > 1:
            shared = {t: set(cls.Config.model_fields) for t, cls in classes.items()}
            _check_shared_fields(step, path, shared, check)
        passes = [
            _pass(name, step, t, path, check, data_names, classes[t], shared[t] if shared else None) for t in step.types
        ]
        optional = step.optional
    if len(passes) > 1:
        for resolved in passes:
            if resolved is not None and PASS_TYPE_KEY in resolved.cls.Config.model_fields:
                check.error(
                    f"{path}.type",
                    f"'{resolved.type}' has a config field named '{PASS_TYPE_KEY}', which a step of several passes "
                    "uses to record which one a candidate ran",
                    "give this pass a step of its own",
                )
    if len(check.errors) > errors_before or any(p is None for p in passes):
        return None
    return ResolvedStep(name=name, passes=passes, optional=optional)  # type: ignore[arg-type]


def _listed_alternatives(items: list[Any], path: str, check: _Collector) -> list[tuple[Any, str]]:
    """The items of a step written as a list, each naming one pass, each pass once."""
    chosen: list[tuple[Any, str]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        where = f"{path}.{index}"
        if isinstance(item.type, list):
            check.error(f"{where}.type", "each item of a step's list of alternatives names one pass", "write one item per pass")
        elif item.type in seen:
            check.error(
                f"{where}.type",
                f"'{item.type}' is already item {seen[item.type]} of this step",
                f"list its configs in one item: {{type: {item.type}, config: [{{...}}, {{...}}]}}",
            )
        else:
            seen[item.type] = index
            chosen.append((item, where))
    return chosen


def _check_shared_fields(step: Any, path: str, fields: dict[str, set[str]], check: _Collector) -> None:
    """Each field of a shared config goes to the listed passes that have it; one that none of them
    has is an error (a typo, or an option of a pass the step does not list)."""
    known = set().union(*fields.values())
    names = " or ".join(fields)
    written = [("config", key) for key in step.config] + [("search", key) for key in step.search]
    written += [("fallback", key) for key in step.fallback or {}]
    for section, key in written:
        if key not in known:
            check.error(
                f"{path}.{section}.{key}",
                f"neither {names} has a field '{key}'" if len(fields) == 2 else f"none of {', '.join(fields)} has a field '{key}'",
                did_you_mean(key, sorted(known)) or "`olive passes NAME` lists a pass's fields",
            )


def _pass(
    step_name: str,
    step: Any,
    type_name: str,
    path: str,
    check: _Collector,
    data_names: list[str],
    cls: Any = None,
    fields: set[str] | None = None,
) -> ResolvedPass | None:
    """One pass of a step. ``fields``: when several passes share the step's options, those of
    this pass (the others are left out for it); errors then say which pass they are about."""
    cls = cls or check.load("pass", type_name, f"{path}.type")
    if cls is None:
        return None
    label = type_name if fields is not None else None

    def own(options: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in options.items() if fields is None or k in fields}

    many = isinstance(step.config, list)
    raws = [own(raw) for raw in step.alternatives]
    alternatives = []
    for index, raw in enumerate(raws):
        where = f"{path}.config.{index}" if many else f"{path}.config"
        alternatives.append(check.validate(cls.Config, raw, where, label))
    fallback = None
    if step.fallback is not None:
        fallback = check.validate(cls.Config, own(step.fallback), f"{path}.fallback", label)
    about = f"{type_name}: " if label else ""
    for index, config in enumerate(alternatives):
        for field, data_name in cls.data_names(config).items() if config is not None else ():
            if data_name not in data_names:
                where = f"{path}.config.{index}.{field}" if many else f"{path}.config.{field}"
                hint = did_you_mean(data_name, data_names) or f"defined: {', '.join(data_names) or 'none'}"
                check.error(where, f"{about}no data named '{data_name}'", hint)
    try:
        space = search_space(cls.Config)
    except TypeError as exc:
        check.error(f"{path}.type", f"pass '{type_name}' declares an invalid search space: {exc}")
        space = {}
    overrides = own(step.search)
    for field in overrides:
        where = f"{path}.search.{field}"
        if field not in cls.Config.model_fields:
            check.error(where, f"'{type_name}' has no field '{field}'", did_you_mean(field, cls.Config.model_fields))
            continue
        try:
            dim = override_dimension(field, overrides[field], space.get(field))
        except ValueError as exc:
            check.error(where, f"{about}{exc}")
            continue
        if field not in space and dim is not None and dim.choices is None:
            check.error(where, f"{about}this field is not searchable: give a list of values to search it")
    if any(a is None for a in alternatives) or (step.fallback is not None and fallback is None):
        return None
    return ResolvedPass(
        name=step_name,
        type=type_name,
        cls=cls,
        alternatives=alternatives,  # type: ignore[arg-type]
        fallback=fallback,
        written=[set(raw) for raw in raws],
        search_overrides=overrides,
    )


def _data(name: str, spec: Any, check: _Collector) -> ResolvedData | None:
    path = f"data.{name}"
    load = _data_component(spec.load, "load", f"{path}.load", check)
    pre = [_data_component(c, "preprocess", f"{path}.preprocess.{i}", check) for i, c in enumerate(spec.preprocess)]
    post = [_data_component(c, "postprocess", f"{path}.postprocess.{i}", check) for i, c in enumerate(spec.postprocess)]
    if load is None or None in pre or None in post:
        return None
    return ResolvedData(name, load, pre, post, spec.batch_size, spec.max_samples)  # type: ignore[arg-type]


def _data_component(spec: ComponentConfig, role: str, path: str, check: _Collector) -> ResolvedComponent | None:
    resolved = check.component("data_component", spec, path)
    if resolved is not None and resolved.cls.role != role:
        check.error(f"{path}.type", f"'{spec.type}' is a {resolved.cls.role} step, not a {role} step")
        return None
    return resolved


def _metric(index: int, spec: Any, config: WorkflowConfig, check: _Collector) -> ResolvedMetric | None:
    path = f"metrics.{index}"
    resolved = check.component("metric", spec, path)
    if resolved is None:
        return None
    cls = resolved.cls
    if cls.needs_data and spec.data is None:
        check.error(f"{path}.data", f"metric '{spec.type}' needs data: name an entry of 'data'")
        return None
    if spec.data is not None and spec.data not in config.data:
        known = list(config.data)
        check.error(f"{path}.data", f"no data named '{spec.data}'", did_you_mean(spec.data, known) or f"defined: {', '.join(known) or 'none'}")
        return None
    subs = spec.sub_metrics or list(cls.sub_metrics)
    for sub in subs:
        if sub not in cls.sub_metrics:
            check.error(f"{path}.sub_metrics", f"metric '{spec.type}' has no sub-metric '{sub}'; it has {', '.join(cls.sub_metrics)}")
            return None
    for sub in spec.goals:
        if sub not in subs:
            check.error(f"{path}.goals.{sub}", f"goal on '{sub}', which is not measured; measured: {', '.join(subs)}")
            return None
    return ResolvedMetric(spec.name, spec.type, cls, resolved.config, spec.data, subs, dict(spec.goals))


__all__ = ["resolve_workflow"]
