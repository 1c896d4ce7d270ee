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
        try:
            dim = override_dimension(field, override, declared.get(field))
        except ValueError as exc:
            raise ConfigError(str(exc), path=f"passes.{step.name}.search.{field}") from None
        if dim is None:
            dims.pop(field, None)
        else:
            dims[field] = dim
    return list(dims.values())


def override_dimension(field: str, override: Any, base: SearchDimension | None) -> SearchDimension | None:
    """What ``passes.<step>.search.<field>`` makes of a field: None pins it (``false``); a list
    of values (ordered when all numbers), ``{"choices": [...], "ordered": true}`` (values in an
    order that matters, e.g. ``exclude`` objects by how much they keep in float), or a range.
    A malformed override is a ValueError saying what to write."""
    when = base.when if base else ()
    if override is False:
        return None
    if isinstance(override, list) or (isinstance(override, dict) and "choices" in override):
        values = override if isinstance(override, list) else override["choices"]
        extra = set(override) - {"choices", "ordered"} if isinstance(override, dict) else set()
        if extra:
            raise ValueError(f"unknown key(s) {', '.join(sorted(extra))}: give 'choices' and 'ordered'")
        if not isinstance(values, list) or not values:
            raise ValueError("give at least one value to search")
        ordered = override.get("ordered") if isinstance(override, dict) else None
        if ordered is not None and not isinstance(ordered, bool):
            raise ValueError(f"'ordered' is true or false, got {ordered!r}")
        return SearchDimension(field=field, choices=tuple(values), when=when, ordered=is_ordered(tuple(values), ordered))
    if isinstance(override, dict) and {"low", "high"} <= set(override):
        try:
            low, high = float(override["low"]), float(override["high"])
        except (TypeError, ValueError):
            raise ValueError(f"'low' and 'high' are numbers, got {override!r}") from None
        if not low < high:
            raise ValueError(f"a range needs low < high, got {override!r}")
        return SearchDimension(
            field=field,
            choices=None,
            low=low,
            high=high,
            log=bool(override.get("log", False)),
            integer=bool(override.get("integer", base.integer if base else False)),
            when=when,
        )
    raise ValueError(
        "expected a list of values, {'choices': [...], 'ordered': true}, {'low': .., 'high': ..} or false, "
        f"got {override!r}"
    )


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
