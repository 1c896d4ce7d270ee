"""Turn a search space into a flat list of variables and back into points.

Strategies that sample (random, nevergrad) see the space as named variables: one per step for
the choice of alternative (when there are several), one per searchable field of each
alternative. :func:`assemble` rebuilds a full point from values of those variables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from olive_core.passes.searchable import SearchDimension
from olive_core.search.space import Point, SearchSpace


@dataclass(frozen=True)
class Variable:
    """One searched quantity: discrete ``choices`` (``ordered`` or categorical) or a numeric range."""

    name: str
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    ordered: bool = False


def _alternative_key(step: str) -> str:
    return f"{step}/alternative"


def _field_key(step: str, alternative: int, field: str) -> str:
    return f"{step}/{alternative}/{field}"


def variables(space: SearchSpace) -> list[Variable]:
    result = []
    for step in space.steps:
        count = len(step.alternatives) + (1 if step.optional else 0)
        if count > 1:  # which alternative (pass, config) runs: categorical; the last index of an optional step means "skip"
            result.append(Variable(_alternative_key(step.step), choices=tuple(range(count))))
        for index, dims in enumerate(step.dimensions):
            for dim in dims:
                result.append(_variable(_field_key(step.step, index, dim.field), dim))
    return result


def _variable(name: str, dim: SearchDimension) -> Variable:
    if dim.choices is not None:
        return Variable(name, choices=dim.choices, ordered=dim.ordered)
    return Variable(name, low=dim.low, high=dim.high, log=dim.log, integer=dim.integer)


def assemble(space: SearchSpace, values: dict[str, Any]) -> Point:
    """The point that ``values`` (variable name -> value) stand for."""
    point: Point = {}
    for step in space.steps:
        index = int(values.get(_alternative_key(step.step), 0))
        if index == len(step.alternatives):
            point[step.step] = None
            continue
        config = dict(step.alternatives[index])
        dims = step.dimensions[index] if step.dimensions else []
        for dim in dims:
            value = values[_field_key(step.step, index, dim.field)]
            config[dim.field] = int(round(value)) if dim.integer and dim.choices is None else value
        for dim in dims:  # conditional fields take their base value when inactive
            if not dim.active(config):
                if dim.field in step.alternatives[index]:
                    config[dim.field] = step.alternatives[index][dim.field]
                else:
                    config.pop(dim.field, None)
        point[step.step] = config
    return point
