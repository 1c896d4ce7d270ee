"""Build a workflow's search space from its resolved pass steps.

What a workflow writes in a pass config is pinned; the searchable fields it leaves out are
searched when a search strategy is set. ``passes.<step>.search`` narrows or widens a field
(``[values]`` or ``{"low": .., "high": ..}``) or pins it (``false``).
"""

from __future__ import annotations

from typing import Any

from olive_core.config.resolved import ResolvedStep
from olive_core.errors import ConfigError
from olive_core.passes.searchable import SearchDimension, search_space
from olive_core.search.space import SearchSpace, StepSpace


def build_search_space(steps: list[ResolvedStep], searching: bool) -> SearchSpace:
    """Alternatives always count; searchable fields only when ``searching``."""
    spaces = []
    for step in steps:
        declared = search_space(step.cls.Config) if searching else {}
        alternatives, dimensions = [], []
        for config, written in zip(step.alternatives, step.written):
            alternatives.append(config.model_dump(mode="json"))
            dims = [] if not searching else _dimensions(step, declared, written)
            dimensions.append(dims)
        spaces.append(StepSpace(step=step.name, alternatives=alternatives, dimensions=dimensions, optional=step.optional))
    return SearchSpace(spaces)


def _dimensions(step: ResolvedStep, declared: dict[str, SearchDimension], written: set[str]) -> list[SearchDimension]:
    dims: dict[str, SearchDimension] = {name: dim for name, dim in declared.items() if name not in written}
    for field, override in step.search_overrides.items():
        path = f"passes.{step.name}.search.{field}"
        if override is False:
            dims.pop(field, None)
        elif isinstance(override, list):
            if not override:
                raise ConfigError("give at least one value to search", path=path)
            base = declared.get(field)
            dims[field] = SearchDimension(field=field, choices=tuple(override), when=base.when if base else ())
        elif isinstance(override, dict) and {"low", "high"} <= set(override):
            base = declared.get(field)
            dims[field] = SearchDimension(
                field=field,
                choices=None,
                low=float(override["low"]),
                high=float(override["high"]),
                log=bool(override.get("log", False)),
                integer=bool(override.get("integer", base.integer if base else False)),
                when=base.when if base else (),
            )
        else:
            raise ConfigError(
                f"expected a list of values, {{'low': .., 'high': ..}} or false, got {override!r}", path=path
            )
    return list(dims.values())


def check_point(steps: list[ResolvedStep], point: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """Validate a proposed point into each step's config class; a skipped step stays None."""
    configs: dict[str, Any] = {}
    for step in steps:
        raw = point[step.name]
        if raw is None and not step.optional:
            raise ValueError(f"step '{step.name}' is not optional")
        configs[step.name] = None if raw is None else step.cls.Config.model_validate(raw)
    return configs
