"""Build a workflow's search space from its resolved pass steps.

What a workflow writes in a pass config is pinned; the searchable fields it leaves out are
searched when a search strategy is set. ``passes.<step>.search`` narrows or widens a field
(``[values]`` or ``{"low": .., "high": ..}``) or pins it (``false``). A step of several passes
has the alternatives of all of them, each tagged with its pass and searched on its own fields.
"""

from __future__ import annotations

from typing import Any

from olive_core.config.resolved import ResolvedPass, ResolvedStep
from olive_core.errors import ConfigError
from olive_core.passes.searchable import SearchDimension, is_ordered, search_space
from olive_core.search.space import PASS_TYPE_KEY, SearchSpace, StepSpace


def build_search_space(steps: list[ResolvedStep], searching: bool) -> SearchSpace:
    """Alternatives always count; searchable fields only when ``searching``."""
    spaces = []
    for step in steps:
        alternatives, dimensions = [], []
        tagged = len(step.passes) > 1
        for resolved in step.passes:
            declared = search_space(resolved.cls.Config) if searching else {}
            for config, written in zip(resolved.alternatives, resolved.written):
                base = config.model_dump(mode="json")
                alternatives.append({PASS_TYPE_KEY: resolved.type, **base} if tagged else base)
                dimensions.append(_dimensions(resolved, declared, written) if searching else [])
        spaces.append(StepSpace(step=step.name, alternatives=alternatives, dimensions=dimensions, optional=step.optional))
    return SearchSpace(spaces)


def _dimensions(step: ResolvedPass, declared: dict[str, SearchDimension], written: set[str]) -> list[SearchDimension]:
    dims: dict[str, SearchDimension] = {name: dim for name, dim in declared.items() if name not in written}
    for field, override in step.search_overrides.items():
        path = f"passes.{step.name}.search.{field}"
        if override is False:
            dims.pop(field, None)
        elif isinstance(override, list):
            if not override:
                raise ConfigError("give at least one value to search", path=path)
            base = declared.get(field)
            dims[field] = SearchDimension(
                field=field, choices=tuple(override), when=base.when if base else (), ordered=is_ordered(tuple(override))
            )
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


def check_point(steps: list[ResolvedStep], point: dict[str, dict[str, Any] | None]) -> dict[str, tuple[ResolvedPass, Any] | None]:
    """Validate a proposed point: per step, the pass it runs and its config; a skipped step is None."""
    chosen: dict[str, tuple[ResolvedPass, Any] | None] = {}
    for step in steps:
        raw = point[step.name]
        if raw is None:
            if not step.optional:
                raise ValueError(f"step '{step.name}' is not optional")
            chosen[step.name] = None
            continue
        resolved = step.passes[0]
        if len(step.passes) > 1:
            raw = dict(raw)
            name = raw.pop(PASS_TYPE_KEY, None)
            if name not in step.types:
                raise ValueError(f"step '{step.name}' runs one of {', '.join(step.types)}, not {name!r}")
            resolved = step.pass_of(name)
        chosen[step.name] = (resolved, resolved.cls.Config.model_validate(raw))
    return chosen
