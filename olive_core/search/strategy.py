"""SearchStrategy: proposes pass configurations and learns from their results."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from pydantic import BaseModel

from olive_core.bounds import STRICT_CONFIG
from olive_core.search.space import Point, SearchSpace


class SearchStrategyConfig(BaseModel):
    model_config = STRICT_CONFIG


class SearchStrategy(ABC):
    """Ask for points, tell their scores.

    ``score`` is a tuple to maximize, objectives in priority order (None for a failed trial);
    ``violation`` is 0 when the candidate met every goal, else how far it missed them
    (relative misses, summed).
    """

    Config: ClassVar[type[SearchStrategyConfig]] = SearchStrategyConfig

    def __init__(self, space: SearchSpace, config: Any, seed: int = 0, max_trials: int | None = None) -> None:
        self.space = space
        self.config = config
        self.seed = seed
        #: the run's ``search.max_trials`` (None: no cap), for a strategy that plans its effort by it
        self.max_trials = max_trials

    @abstractmethod
    def ask(self) -> Point | None:
        """The next point to try, or None when the strategy has nothing left to propose."""

    def tell(self, point: Point, score: tuple[float, ...] | None, violation: float = 0.0) -> None:
        """Learn from a finished trial; strategies that do not learn ignore it."""

    def planned_trials(self) -> int | None:
        """How many points this strategy proposes at most, when it knows (progress shows "trial
        i of N"); by default the size of a discrete space, None for one with ranges."""
        return self.space.size()

    @classmethod
    def description(cls) -> str:
        return (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
