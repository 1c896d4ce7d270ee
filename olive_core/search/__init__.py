"""Search: the space, the strategy protocol and core's strategies."""

from olive_core.search.space import Point, SearchSpace, StepSpace
from olive_core.search.strategy import SearchStrategy, SearchStrategyConfig

__all__ = ["Point", "SearchSpace", "StepSpace", "SearchStrategy", "SearchStrategyConfig"]
