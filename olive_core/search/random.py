"""RandomSearch: uniform samples of the space (log-uniform for log ranges), never repeating."""

from __future__ import annotations

import math
import random

from olive_core.models.hashing import canonical_json
from olive_core.search.sampling import Variable, assemble, variables
from olive_core.search.space import Point
from olive_core.search.strategy import SearchStrategy

#: consecutive repeats after which a discrete space is taken as exhausted
_MAX_REPEATS = 200


def sample(variable: Variable, rng: random.Random) -> object:
    if variable.choices is not None:
        return rng.choice(variable.choices)
    low, high = float(variable.low), float(variable.high)  # type: ignore[arg-type]
    value = math.exp(rng.uniform(math.log(low), math.log(high))) if variable.log else rng.uniform(low, high)
    return int(round(value)) if variable.integer else value


class RandomSearch(SearchStrategy):
    """Sample points at random; stops when a discrete space has no unseen point left."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._rng = random.Random(self.seed)
        self._variables = variables(self.space)
        self._seen: set[str] = set()
        self._size = self.space.size()

    def ask(self) -> Point | None:
        if self._size is not None and len(self._seen) >= self._size:
            return None
        for _ in range(_MAX_REPEATS):
            point = assemble(self.space, {v.name: sample(v, self._rng) for v in self._variables})
            key = canonical_json(point)
            if key not in self._seen:
                self._seen.add(key)
                return point
        return None
