"""ExhaustiveSearch: every point of a discrete space, in order."""

from __future__ import annotations

from collections.abc import Iterator

from olive_core.search.space import Point
from olive_core.search.strategy import SearchStrategy


class ExhaustiveSearch(SearchStrategy):
    """Try every combination of alternatives and searchable choices (discrete spaces only)."""

    _points: Iterator[Point] | None = None

    def ask(self) -> Point | None:
        if self._points is None:
            self._points = self.space.enumerate()
        return next(self._points, None)
