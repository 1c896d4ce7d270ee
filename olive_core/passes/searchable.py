"""Searchable: the marker that puts a pass config field into the search space.

    per_channel: Annotated[bool, Searchable()] = True
    block_size: Annotated[int, Searchable(choices=(32, 64, 128))] = 128
    percentile: Annotated[float, Searchable(low=99.0, high=99.999)] = 99.99

The type stays exact; the space sits next to the field it searches. Booleans, ``Literal`` and
``Enum`` fields need no choices: they are read from the type.

Choices that are all numbers are *ordered* (neighbours score alike, so an optimizer may step
between them); others are categorical unless marked ``ordered=True`` (then in the order given):

    level: Annotated[str, Searchable(choices=("low", "mid", "high"), ordered=True)] = "mid"
"""

from __future__ import annotations

import enum
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Searchable:
    """Marks a config field as searchable, with discrete choices or a numeric range."""

    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    #: only search this field when the other fields have these values
    when: tuple[tuple[str, Any], ...] = ()
    #: whether the choices are ordered; None: ordered when they are all numbers
    ordered: bool | None = None

    def __post_init__(self) -> None:
        ranged = self.low is not None or self.high is not None
        if ranged and (self.low is None or self.high is None or self.low >= self.high):
            raise ValueError("a searchable range needs low < high")
        if ranged and self.choices is not None:
            raise ValueError("give either choices or a range, not both")
        if self.log and ranged and self.low <= 0:
            raise ValueError("a log range needs low > 0")

    @property
    def is_range(self) -> bool:
        return self.low is not None


@dataclass(frozen=True)
class SearchDimension:
    """One field's search space, with choices resolved from the field's type when needed."""

    field: str
    choices: tuple[Any, ...] | None
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    when: tuple[tuple[str, Any], ...] = ()
    #: choices whose order means something (numbers, or marked ``ordered``): see :func:`is_ordered`
    ordered: bool = False

    def active(self, config: dict[str, Any]) -> bool:
        return all(config.get(name) == value for name, value in self.when)


def is_ordered(choices: tuple[Any, ...], declared: bool | None = None) -> bool:
    """Choices are ordered when declared so, or by default when they are all numbers (not bools)."""
    if declared is not None:
        return declared
    return len(choices) > 1 and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in choices)


def _choices_from_type(annotation: Any) -> tuple[Any, ...] | None:
    if annotation is bool:
        return (False, True)
    if typing.get_origin(annotation) is typing.Literal:
        return typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return tuple(member.value for member in annotation)
    return None


def search_space(config_class: type[BaseModel]) -> dict[str, SearchDimension]:
    """The searchable fields of a pass config class, keyed by field name."""
    space: dict[str, SearchDimension] = {}
    for name, info in config_class.model_fields.items():
        marker = next((m for m in info.metadata if isinstance(m, Searchable)), None)
        if marker is None:
            continue
        choices = marker.choices if marker.choices is not None else None
        if choices is None and not marker.is_range:
            choices = _choices_from_type(info.annotation)
            if choices is None:
                raise TypeError(f"{config_class.__name__}.{name}: Searchable() needs choices or a range for this type")
        space[name] = SearchDimension(
            field=name,
            choices=tuple(choices) if choices is not None else None,
            low=marker.low,
            high=marker.high,
            log=marker.log,
            integer=marker.integer,
            when=marker.when,
            ordered=is_ordered(tuple(choices), marker.ordered) if choices is not None else False,
        )
    return space
