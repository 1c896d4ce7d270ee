"""NevergradSearch: any nevergrad optimizer (NGOpt, TwoPointsDE, OnePlusOne, Portfolio, ...).

Categorical choices (which pass or alternative runs, booleans, names) become ``ng.p.Choice``;
ordered choices (numbers, or marked ``ordered``) become an integer-cast ``ng.p.Scalar`` over
their positions (``ordered_choices`` says otherwise), so an optimizer can step from a good
value to its neighbours; ranges become ``ng.p.Scalar`` (or ``ng.p.Log``). Scores are maximized
by the engine; nevergrad minimizes, so the loss is the negated score of the first-priority
objective; a candidate that missed a goal is told a loss above every one that met them,
ranked by how far it missed (``told_loss``). With several objectives the engine itself keeps
the Pareto front of every trial.

A point nevergrad proposes again is not run again: the optimizer is told the score it already
has (or, while that trial runs, when its result comes), and the repeat counts against
``budget``, so a search that keeps re-proposing ends when its budget is spent. ``max_trials``
counts trials run; a finite space ends once every point was tried. On a small discrete space
most of nevergrad's late proposals are repeats, so the default budget follows ``max_trials``
(``PROPOSALS_PER_TRIAL`` proposals per trial): a fixed 50 ended such searches before
``max_trials`` distinct points had run.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import Field

from olive_core.errors import OliveError
from olive_core.models.hashing import canonical_json
from olive_core.search.sampling import Variable, assemble, variables
from olive_core.search.space import Point
from olive_core.search.strategy import SearchStrategy, SearchStrategyConfig

#: the loss told for a failed trial: worse than any real score
FAILED_LOSS = 1e12
#: the loss told for a trial that missed a goal, times (1 + its violation): above any objective's
#: loss and below a failure's. nevergrad's own constraint penalty scales with the loss and with the
#: tells so far, so early in a search a fast model that missed its accuracy goal looked better to
#: it than every model that met it (and, for a maximized objective, the penalty was nothing).
INFEASIBLE_LOSS = 1e9
#: violations beyond this rank alike (keeps INFEASIBLE_LOSS x (1 + violation) below FAILED_LOSS)
MAX_VIOLATION = 100.0
#: proposals allowed per trial of ``search.max_trials`` when ``budget`` is not set (repeats are
#: told without running; bench/search_efficiency.py measures how far the budget reaches)
PROPOSALS_PER_TRIAL = 4
#: the budget when neither ``budget`` nor ``search.max_trials`` is set
DEFAULT_BUDGET = 50
#: random moves tried to find an untried neighbour of a repeated point (1, then 2, 3, 4 variables at once)
_NEIGHBOUR_ATTEMPTS = 64


class NevergradConfig(SearchStrategyConfig):
    optimizer: str = Field(default="NGOpt", description="nevergrad optimizer name, e.g. NGOpt, TwoPointsDE, OnePlusOne, Portfolio")
    budget: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description=f"points the optimizer may propose, repeats included (search.max_trials still stops the run); "
        f"default {PROPOSALS_PER_TRIAL} x search.max_trials, or {DEFAULT_BUDGET} without it",
    )
    num_workers: int = Field(
        default=1, ge=1, le=256, description="points asked before results come back (parallel trials)"
    )
    escape_repeats: bool = Field(
        default=True,
        description="when the optimizer re-proposes a point already tried, also propose an untried neighbour of it "
        "(one or a few of its discrete choices moved), so a search that circles its best point keeps finding new ones",
    )
    ordered_choices: Literal["scalar", "transition", "categorical"] = Field(
        default="scalar",
        description="how ordered choices (numbers, or marked ordered) reach nevergrad: an integer-cast Scalar over "
        "their positions, a TransitionChoice, or a plain Choice that ignores the order",
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


def told_loss(score: tuple[float, ...] | None, violation: float) -> float:
    """What nevergrad (a minimizer) is told: every model that met its goals ranks above every one
    that missed them, and those by how far they missed (feasibility first, then the objective)."""
    if score is None:
        return FAILED_LOSS
    if violation > 0:
        return INFEASIBLE_LOSS * (1.0 + min(violation, MAX_VIOLATION))
    return -score[0]


def proposal_budget(budget: int | None, max_trials: int | None) -> int:
    """The proposals a search may make: ``budget`` when set, else enough for ``max_trials`` distinct trials."""
    if budget is not None:
        return budget
    return DEFAULT_BUDGET if max_trials is None else PROPOSALS_PER_TRIAL * max_trials


class _OrderedIndex:
    """An ordered choice as nevergrad sees it: an integer position, mapped back to its value."""

    def __init__(self, choices: tuple[Any, ...]) -> None:
        numeric = all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in choices)
        self.values = sorted(choices) if numeric else list(choices)

    def value(self, position: Any) -> Any:
        return self.values[min(max(round(position), 0), len(self.values) - 1)]


def parameter(ng: Any, variable: Variable, ordered_choices: str) -> tuple[Any, _OrderedIndex | None]:
    """The nevergrad parameter of one variable, and the map from its positions when it has one."""
    if variable.choices is not None:
        if not variable.ordered or ordered_choices == "categorical" or len(variable.choices) < 3:
            return ng.p.Choice(list(variable.choices)), None  # two values have no neighbours to step to
        index = _OrderedIndex(variable.choices)
        if ordered_choices == "transition":
            return ng.p.TransitionChoice(index.values), None
        scalar = ng.p.Scalar(lower=0, upper=len(index.values) - 1).set_integer_casting()
        return scalar, index
    if variable.log:
        result = ng.p.Log(lower=variable.low, upper=variable.high)
    else:
        result = ng.p.Scalar(lower=variable.low, upper=variable.high)
    if variable.integer:
        result.set_integer_casting()
    return result, None


class NevergradSearch(SearchStrategy):
    """Learn where to look next with a nevergrad optimizer."""

    Config = NevergradConfig

    def __init__(self, space: Any, config: NevergradConfig | None = None, seed: int = 0, max_trials: int | None = None) -> None:
        super().__init__(space, config or NevergradConfig(), seed, max_trials)
        ng = _import_nevergrad()
        self.budget = proposal_budget(self.config.budget, max_trials)
        self._variables = variables(space)
        self._size = space.size()
        #: scores told, by point: a repeat is answered from here
        self._known: dict[str, float] = {}
        #: candidates waiting for a point's result (the first asked is the trial that runs it)
        self._pending: dict[str, list[Any]] = {}
        self._asked = 0
        if not self._variables:
            self._optimizer = None
            self._single_done = False
            return
        parameters, self._indexes = {}, {}
        for variable in self._variables:
            parameters[variable.name], index = parameter(ng, variable, self.config.ordered_choices)
            if index is not None:
                self._indexes[variable.name] = index
        parametrization = ng.p.Dict(**parameters)
        parametrization.random_state.seed(seed)
        if self.config.optimizer not in ng.optimizers.registry:
            from olive_core.errors import did_you_mean

            raise OliveError(
                f"unknown nevergrad optimizer '{self.config.optimizer}'",
                hint=did_you_mean(self.config.optimizer, list(ng.optimizers.registry)) or "see nevergrad's optimizer list",
            )
        optimizer_class = ng.optimizers.registry[self.config.optimizer]
        self._optimizer = optimizer_class(parametrization=parametrization, budget=self.budget, num_workers=self.config.num_workers)

    def planned_trials(self) -> int | None:
        if self._optimizer is None:
            return 1
        return min(self.budget, self._size) if self._size is not None else self.budget

    def _point(self, candidate: Any) -> Point:
        return self._point_of(dict(candidate.value))

    def _point_of(self, values: dict[str, Any]) -> Point:
        values = dict(values)
        for name, index in self._indexes.items():
            values[name] = index.value(values[name])
        return assemble(self.space, values)

    def _untried_neighbour(self, values: dict[str, Any]) -> dict[str, Any] | None:
        """Optimizer values one step from ``values`` whose point was never asked: an ordered choice
        moved to the next position up or down, a categorical one to another value; two, three,
        then four variables at once when the single moves tried lead back to tried points."""
        discrete = [variable for variable in self._variables if variable.choices is not None]
        if not discrete:
            return None
        rng = random.Random(self.seed * 1_000_003 + self._asked)
        for attempt in range(_NEIGHBOUR_ATTEMPTS):
            moved = dict(values)
            for variable in rng.sample(discrete, min(1 + attempt // 16, len(discrete))):
                if variable.name in self._indexes:
                    position = round(moved[variable.name]) + rng.choice((-1, 1))
                    moved[variable.name] = float(min(max(position, 0), len(variable.choices) - 1))
                else:
                    others = [choice for choice in variable.choices if choice != moved[variable.name]]
                    moved[variable.name] = rng.choice(others) if others else moved[variable.name]
            key = canonical_json(self._point_of(moved))
            if key not in self._known and key not in self._pending:
                return moved
        return None

    def ask(self) -> Point | None:
        if self._optimizer is None:  # nothing to search: the one point there is
            if self._single_done:
                return None
            self._single_done = True
            return assemble(self.space, {})
        while self._asked < self.budget:
            if self._size is not None and len(self._known) + len(self._pending) >= self._size:
                return None  # every point of a finite space has been tried (or is running)
            self._asked += 1
            candidate = self._optimizer.ask()
            point = self._point(candidate)
            key = canonical_json(point)
            if key in self._known:  # a repeat: told what the trial of this point scored
                self._optimizer.tell(candidate, self._known[key])
                if self.config.escape_repeats and (neighbour := self._untried_neighbour(dict(candidate.value))):
                    self._optimizer.suggest(neighbour)  # what the next ask returns
            elif key in self._pending:  # a repeat of a running trial: told with it
                self._pending[key].append(candidate)
            else:
                self._pending[key] = [candidate]
                return point
        return None

    def tell(self, point: Point, score: tuple[float, ...] | None, violation: float = 0.0) -> None:
        if self._optimizer is None:
            return
        key = canonical_json(point)
        candidates = self._pending.pop(key, None)
        if not candidates:
            return
        self._known[key] = loss = told_loss(score, violation)
        for candidate in candidates:
            self._optimizer.tell(candidate, loss)

    @property
    def proposals(self) -> int:
        """Points asked of the optimizer so far, repeats included (what ``budget`` counts)."""
        return self._asked
