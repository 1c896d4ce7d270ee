"""The search space of a workflow: per pass step, its alternative configs and searchable fields.

A point is a full config for every step: ``{"quantize": {"per_channel": True, ...}, ...}``; an
optional step that is skipped has ``None``. In a step of several passes each alternative also
says which pass it runs, under :data:`PASS_TYPE_KEY`: ``{"type": "OnnxStaticQuantization", ...}``;
its searchable fields are searched only under it (a conditional space: no point is invalid).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from olive_core.models.hashing import canonical_json
from olive_core.passes.searchable import SearchDimension

Point = dict[str, "dict[str, Any] | None"]

#: the key of a point's step config that names the pass, in a step of several passes
PASS_TYPE_KEY = "type"


@dataclass
class StepSpace:
    """One pass step: alternative base configs, each with the dimensions searched on top of it."""

    step: str
    alternatives: list[dict[str, Any]]
    dimensions: list[list[SearchDimension]] = field(default_factory=list)
    optional: bool = False

    def options(self) -> list[dict[str, Any] | None]:
        """Every distinct full config of this step (only for discrete dimensions); None = skip."""
        seen: dict[str, dict[str, Any]] = {}
        for base, dims in zip(self.alternatives, self.dimensions or [[] for _ in self.alternatives]):
            for dim in dims:
                if dim.choices is None:
                    raise ValueError(
                        f"step '{self.step}': field '{dim.field}' is a range and cannot be enumerated; "
                        "use the 'random' or a nevergrad strategy, or give it choices in 'search'"
                    )
            for values in itertools.product(*(dim.choices for dim in dims)):
                config = dict(base)
                config.update({dim.field: value for dim, value in zip(dims, values)})
                for dim in dims:  # a conditional field takes its base value when inactive
                    if not dim.active(config):
                        if dim.field in base:
                            config[dim.field] = base[dim.field]
                        else:
                            config.pop(dim.field, None)
                seen.setdefault(canonical_json(config), config)
        options: list[dict[str, Any] | None] = list(seen.values())
        return options + [None] if self.optional else options


@dataclass
class SearchSpace:
    steps: list[StepSpace]

    @property
    def is_discrete(self) -> bool:
        return all(dim.choices is not None for step in self.steps for dims in step.dimensions for dim in dims)

    def size(self) -> int | None:
        if not self.is_discrete:
            return None
        total = 1
        for step in self.steps:
            total *= len(step.options())
        return total

    def enumerate(self) -> Iterator[Point]:
        """Every point; the last step varies fastest, so neighbours share their prefix."""
        options = [step.options() for step in self.steps]
        for combo in itertools.product(*options):
            yield {step.step: dict(config) if config is not None else None for step, config in zip(self.steps, combo)}
