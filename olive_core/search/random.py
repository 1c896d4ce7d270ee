"""RandomSearch: uniform samples of the space (log-uniform for log ranges), never repeating.

Each variable is sampled on its own (the alternative first, then its fields), so a small
alternative is tried as often as a large one. When a sample repeats a point already tried, a
finite space draws instead among the points not tried yet, so every point is reached within
as many trials as the space has points; a space with ranges simply samples again.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable

from olive_core.models.hashing import canonical_json
from olive_core.search.sampling import Variable, assemble, variables
from olive_core.search.space import Point
from olive_core.search.strategy import SearchStrategy

#: a finite space up to this many points is listed to draw among its untried points
_LISTED_POINTS = 200_000
#: consecutive repeats after which a space too large to list is taken as exhausted
_MAX_REPEATS = 200


def sample(variable: Variable, rng: random.Random) -> object:
    if variable.choices is not None:
        return rng.choice(variable.choices)
    low, high = float(variable.low), float(variable.high)  # type: ignore[arg-type]
    value = math.exp(rng.uniform(math.log(low), math.log(high))) if variable.log else rng.uniform(low, high)
    return round(value) if variable.integer else value


class RandomSearch(SearchStrategy):
    """Sample points at random; stops when a discrete space has no unseen point left."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._rng = random.Random(self.seed)
        self._variables = variables(self.space)
        self._seen: set[str] = set()
        self._size = self.space.size()
        #: a finite space's untried points, listed at its first repeat
        self._untried: _Untried | None = None

    def ask(self) -> Point | None:
        if self._size is not None and len(self._seen) >= self._size:
            return None
        for _ in range(_MAX_REPEATS):
            point = assemble(self.space, {v.name: sample(v, self._rng) for v in self._variables})
            key = canonical_json(point)
            if key not in self._seen:
                return self._tried(key, point)
            if self._size is not None and self._size <= _LISTED_POINTS:
                if self._untried is None:
                    self._untried = _Untried(self.space.enumerate(), self._seen)
                drawn = self._untried.draw(self._rng)
                return self._tried(*drawn) if drawn is not None else None
        return None

    def _tried(self, key: str, point: Point) -> Point:
        self._seen.add(key)
        if self._untried is not None:
            self._untried.remove(key)
        return point


class _Untried:
    """The points of a finite space not tried yet: drawn uniformly, removed in O(1)."""

    def __init__(self, points: Iterable[Point], seen: set[str]) -> None:
        self._points = {key: point for point in points if (key := canonical_json(point)) not in seen}
        self._keys = list(self._points)
        self._position = {key: index for index, key in enumerate(self._keys)}

    def draw(self, rng: random.Random) -> tuple[str, Point] | None:
        if not self._keys:
            return None
        key = self._keys[rng.randrange(len(self._keys))]
        return key, self._points[key]

    def remove(self, key: str) -> None:
        index = self._position.pop(key, None)
        if index is None:
            return
        last = self._keys.pop()
        if index < len(self._keys):
            self._keys[index] = last
            self._position[last] = index
