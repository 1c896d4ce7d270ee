"""NevergradSearch: any nevergrad optimizer (NGOpt, TwoPointsDE, OnePlusOne, Portfolio, ...).

Discrete variables become ``ng.p.Choice``, ranges ``ng.p.Scalar`` (or ``ng.p.Log``). Scores
are maximized by the engine; nevergrad minimizes, so the loss is the negated score of the
first-priority objective, and goals a candidate missed are passed as a constraint violation.
With several objectives the engine itself keeps the Pareto front of every trial.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from olive_core.errors import OliveError
from olive_core.models.hashing import canonical_json
from olive_core.search.sampling import assemble, variables
from olive_core.search.space import Point
from olive_core.search.strategy import SearchStrategy, SearchStrategyConfig

#: the loss told for a failed trial: worse than any real score
FAILED_LOSS = 1e12


class NevergradConfig(SearchStrategyConfig):
    optimizer: str = Field(default="NGOpt", description="nevergrad optimizer name, e.g. NGOpt, TwoPointsDE, OnePlusOne, Portfolio")
    budget: int = Field(
        default=50, ge=1, le=1_000_000, description="trials the optimizer plans for (search.max_trials still stops the run)"
    )
    num_workers: int = Field(
        default=1, ge=1, le=256, description="points asked before results come back (parallel trials)"
    )


def _import_nevergrad() -> Any:
    try:
        import nevergrad
    except ImportError as exc:
        raise OliveError(
            "the 'nevergrad' search strategy needs the nevergrad package",
            hint="pip install 'olive-core[search]'",
        ) from exc
    return nevergrad


class NevergradSearch(SearchStrategy):
    """Learn where to look next with a nevergrad optimizer."""

    Config = NevergradConfig

    def __init__(self, space: Any, config: NevergradConfig | None = None, seed: int = 0) -> None:
        super().__init__(space, config or NevergradConfig(), seed)
        ng = _import_nevergrad()
        self._variables = variables(space)
        if not self._variables:
            self._optimizer = None
            self._single_done = False
            return
        parameters = {}
        for variable in self._variables:
            if variable.choices is not None:
                parameters[variable.name] = ng.p.Choice(list(variable.choices))
            elif variable.log:
                parameters[variable.name] = ng.p.Log(lower=variable.low, upper=variable.high)
            else:
                parameters[variable.name] = ng.p.Scalar(lower=variable.low, upper=variable.high)
            if variable.integer and variable.choices is None:
                parameters[variable.name].set_integer_casting()
        parametrization = ng.p.Dict(**parameters)
        parametrization.random_state.seed(seed)
        if self.config.optimizer not in ng.optimizers.registry:
            from olive_core.errors import did_you_mean

            raise OliveError(
                f"unknown nevergrad optimizer '{self.config.optimizer}'",
                hint=did_you_mean(self.config.optimizer, list(ng.optimizers.registry)) or "see nevergrad's optimizer list",
            )
        optimizer_class = ng.optimizers.registry[self.config.optimizer]
        self._optimizer = optimizer_class(parametrization=parametrization, budget=self.config.budget, num_workers=self.config.num_workers)
        self._pending: dict[str, list[Any]] = {}
        self._asked = 0

    def planned_trials(self) -> int | None:
        return 1 if self._optimizer is None else self.config.budget

    def ask(self) -> Point | None:
        if self._optimizer is None:  # nothing to search: the one point there is
            if self._single_done:
                return None
            self._single_done = True
            return assemble(self.space, {})
        if self._asked >= self.config.budget:
            return None
        self._asked += 1
        candidate = self._optimizer.ask()
        point = assemble(self.space, dict(candidate.value))
        self._pending.setdefault(canonical_json(point), []).append(candidate)
        return point

    def tell(self, point: Point, score: tuple[float, ...] | None, violation: float = 0.0) -> None:
        if self._optimizer is None:
            return
        candidates = self._pending.get(canonical_json(point))
        if not candidates:
            return
        candidate = candidates.pop(0)
        loss = FAILED_LOSS if score is None else -score[0]
        self._optimizer.tell(candidate, loss, constraint_violation=[max(violation, 0.0)])
