"""nevergrad sees ordered choices as ordered, repeats are told not run, random search covers a
finite space, and a failed trial in a search is logged at INFO with its reason.

The convergence figures are those bench/search_efficiency.py prints for its ``toy-ordered``
problem (ToyOrdered: two ordered knobs of 0..12, 169 points, optimum i=9 j=4; NGOpt, 100
trials and its default budget of 400 proposals, seeds 0-9): ordered, the optimum within 40
trials on 9 of 10 seeds (median 22.5, all 10 within 55); the same choices given as
categorical, 1 of 10 within 40 and 5 of 10 within 100. The seeds' runs are replayed here
without the engine (the same strategy told the same scores), and one is checked against the engine.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated

import pytest

from olive_core.engine.api import run
from olive_core.passes.base import PassConfig
from olive_core.passes.searchable import SearchDimension, Searchable, search_space
from olive_core.search.nevergrad import DEFAULT_BUDGET, PROPOSALS_PER_TRIAL, NevergradConfig, NevergradSearch, told_loss
from olive_core.search.random import RandomSearch
from olive_core.search.space import SearchSpace, StepSpace
from olive_core.testing.toy import ORDERED_OPTIMUM, ToyOrderedConfig, ordered_loss

SEEDS = range(10)
BUDGET = 100  # trials
PROPOSALS = PROPOSALS_PER_TRIAL * BUDGET  # nevergrad's default budget for max_trials=BUDGET


def _ordered_space() -> SearchSpace:
    return SearchSpace([StepSpace("knobs", [{}], [list(search_space(ToyOrderedConfig).values())])])


def _trials_to_optimum(encoding: str, seed: int) -> int | None:
    """Trials (points run) until the optimum, for one seed; None if the budget ran out first."""
    strategy = NevergradSearch(_ordered_space(), NevergradConfig(optimizer="NGOpt", ordered_choices=encoding), seed, BUDGET)
    trials = 0
    while trials < BUDGET and (point := strategy.ask()) is not None:
        trials += 1
        loss = ordered_loss(**point["knobs"])
        if loss == 0:
            return trials
        strategy.tell(point, (-loss,))
    return None


def test_numeric_choices_are_ordered_and_others_categorical():
    class Marked(PassConfig):
        count: Annotated[int, Searchable(choices=(0, 4, 8))] = 0
        mode: Annotated[str, Searchable(choices=("a", "b"))] = "a"
        level: Annotated[str, Searchable(choices=("low", "mid", "high"), ordered=True)] = "low"
        switch: Annotated[bool, Searchable()] = False
        threes: Annotated[int, Searchable(choices=(1, 2, 3), ordered=False)] = 1

    space = search_space(Marked)
    assert {name: dim.ordered for name, dim in space.items()} == {
        "count": True, "mode": False, "level": True, "switch": False, "threes": False,
    }  # fmt: skip


def test_nevergrad_gets_ordered_choices_as_an_integer_scalar(monkeypatch):
    dims = [SearchDimension("n", (8, 0, 4), ordered=True), SearchDimension("mode", ("x", "y", "z"))]
    strategy = NevergradSearch(SearchSpace([StepSpace("s", [{}, {}], [dims, []])]), NevergradConfig(), seed=0)
    parameters = strategy._optimizer.parametrization
    names = {name: type(parameter).__name__ for name, parameter in parameters.items()}
    assert names == {"s/alternative": "Choice", "s/0/n": "Scalar", "s/0/mode": "Choice"}
    seen = set()
    while (point := strategy.ask()) is not None:
        seen.add(point["s"].get("n"))
        strategy.tell(point, (0.0,))
    assert seen <= {None, 0, 4, 8} and {0, 4, 8} <= seen  # positions map back to the values


def test_nevergrad_on_an_ordered_space_finds_the_optimum_as_the_benchmark_says():
    ordered = [_trials_to_optimum("scalar", seed) for seed in SEEDS]
    categorical = [_trials_to_optimum("categorical", seed) for seed in SEEDS]
    reached = [n for n in ordered if n is not None and n <= 40]
    assert len(reached) >= 8, ordered
    assert sum(n is not None for n in categorical) < len(reached), (ordered, categorical)


def test_the_engine_runs_the_trials_the_replay_counts(write_workflow, toy_manager):
    seed = 1
    expected = _trials_to_optimum("scalar", seed)
    path = write_workflow(
        passes={"knobs": {"type": "ToyOrdered"}},
        metrics=[{"name": "ordered", "type": "toy_ordered"}],
        search={"strategy": "nevergrad", "config": {"budget": PROPOSALS}, "max_trials": expected, "seed": seed},
    )
    result = run(path, manager=toy_manager)
    losses = [c.evaluation.values["ordered-loss"] for c in sorted(result.candidates, key=lambda c: c.index)]
    assert len(losses) == expected and losses[-1] == 0 and 0 not in losses[:-1]
    assert result.best_candidates[0].point["knobs"] == ORDERED_OPTIMUM


def _trials_run(strategy: NevergradSearch, max_trials: int) -> int:
    trials = 0
    while trials < max_trials and (point := strategy.ask()) is not None:
        trials += 1
        strategy.tell(point, (-ordered_loss(**point["knobs"]),))
    return trials


def test_the_default_budget_follows_max_trials():
    space = _ordered_space()
    assert NevergradSearch(space, NevergradConfig(), seed=0, max_trials=40).budget == PROPOSALS_PER_TRIAL * 40
    assert NevergradSearch(space, NevergradConfig(), seed=0).budget == DEFAULT_BUDGET
    assert NevergradSearch(space, NevergradConfig(budget=7), seed=0, max_trials=40).budget == 7


@pytest.mark.parametrize("seed", [0, 8])
def test_max_trials_distinct_points_run_without_a_budget_set(seed):
    # NGOpt re-proposes often on these 169 points: 50 proposals ran only 26-31 distinct trials of 40
    config = {"escape_repeats": False}  # the budget alone
    assert _trials_run(NevergradSearch(_ordered_space(), NevergradConfig(budget=50, **config), seed), 40) < 40
    assert _trials_run(NevergradSearch(_ordered_space(), NevergradConfig(**config), seed, max_trials=40), 40) == 40


def test_the_engine_tells_the_strategy_its_max_trials(write_workflow, toy_manager):
    path = write_workflow(
        passes={"knobs": {"type": "ToyOrdered"}},
        metrics=[{"name": "ordered", "type": "toy_ordered"}],
        search={"strategy": "nevergrad", "config": {"escape_repeats": False}, "max_trials": 40, "seed": 8},
    )
    result = run(path, manager=toy_manager)
    assert len(result.candidates) == 40  # with the old fixed budget of 50 proposals: 29
    assert result.best_candidates[0].point["knobs"] == ORDERED_OPTIMUM


def test_a_repeated_point_is_told_its_score_and_counts_against_the_budget():
    # five points, a budget of 12: OnePlusOne re-proposes its best; each repeat is told, none is run
    space = SearchSpace([StepSpace("s", [{}], [[SearchDimension("n", (0, 1, 2, 3, 4), ordered=True)]])])
    strategy = NevergradSearch(space, NevergradConfig(optimizer="OnePlusOne", budget=12, escape_repeats=False), seed=0)
    asked = []
    while (point := strategy.ask()) is not None:
        asked.append(point["s"]["n"])
        strategy.tell(point, (-abs(point["s"]["n"] - 1),))
    assert len(asked) == len(set(asked)) < 5  # no point run twice; repeats spent the budget
    assert strategy.proposals == 12


def test_a_repeat_also_proposes_an_untried_neighbour():
    # the same search, escaping repeats (the default): each repeat is still told and counted, and
    # the next proposal is a neighbour of the repeated point not tried yet, so all five points run
    space = SearchSpace([StepSpace("s", [{}], [[SearchDimension("n", (0, 1, 2, 3, 4), ordered=True)]])])
    strategy = NevergradSearch(space, NevergradConfig(optimizer="OnePlusOne", budget=12), seed=0)
    asked = []
    while (point := strategy.ask()) is not None:
        asked.append(point["s"]["n"])
        strategy.tell(point, (-abs(point["s"]["n"] - 1),))
    assert sorted(asked) == [0, 1, 2, 3, 4]
    assert strategy.proposals <= 12


def test_a_missed_goal_ranks_below_every_met_one_by_how_far_it_missed():
    met_slow, met_fast = told_loss((-900.0,), 0.0), told_loss((-100.0,), 0.0)
    missed_a_little, missed_more = told_loss((-1.0,), 0.001), told_loss((-1.0,), 0.2)
    assert met_fast < met_slow < missed_a_little < missed_more < told_loss(None, 0.0)
    # a maximized objective (an accuracy, loss = -score) ranks the same way
    assert told_loss((0.80,), 0.0) < told_loss((0.99,), 0.001)
    assert told_loss((1.0,), 10**9) < told_loss(None, 0.0)  # an absurd miss still ranks above a failure


def test_repeats_end_a_search_when_its_budget_is_spent():
    # a continuous space never runs out; a point re-proposed while the optimizer converges is
    # still counted, so asking ends after `budget` proposals whatever was run
    space = SearchSpace([StepSpace("s", [{}], [[SearchDimension("n", None, low=0, high=1, integer=True)]])])
    strategy = NevergradSearch(space, NevergradConfig(optimizer="OnePlusOne", budget=30), seed=0)
    run_points = []
    while (point := strategy.ask()) is not None:
        run_points.append(point["s"]["n"])
        strategy.tell(point, (float(point["s"]["n"]),))
    assert sorted(run_points) == [0, 1] and strategy.proposals <= 30


def test_a_repeat_of_a_running_trial_is_told_when_it_ends():
    space = SearchSpace([StepSpace("s", [{}], [[SearchDimension("n", (0, 1))]])])
    strategy = NevergradSearch(space, NevergradConfig(optimizer="RandomSearch", budget=10, num_workers=4), seed=0)
    first = strategy.ask()
    second = strategy.ask()  # the other point (or None): a repeat of `first` waits for its result
    assert second != first
    strategy.tell(first, (1.0,))
    if second is not None:
        strategy.tell(second, (0.0,))
    assert strategy.ask() is None and not strategy._pending


def _skewed_space() -> SearchSpace:
    """One alternative with one point, one with 400, and a skip: sampling the alternative first
    makes the 400 points rare, which made random search give up after 200 repeats."""
    grid = [SearchDimension("x", tuple(range(20))), SearchDimension("y", tuple(range(20)))]
    return SearchSpace([StepSpace("s", [{"k": 0}, {"k": 1}], [[], grid], optional=True)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_search_reaches_every_point_of_a_finite_space(seed):
    space = _skewed_space()
    strategy = RandomSearch(space, None, seed=seed)
    points = []
    while (point := strategy.ask()) is not None:
        points.append(json.dumps(point, sort_keys=True))
    assert len(points) == space.size() == 402 and len(set(points)) == 402


def test_random_search_with_max_trials_the_size_of_the_space_tries_it_all(write_workflow, toy_manager):
    grid = {"i": [0, 3, 6, 9, 12], "j": [2, 4, 6, 8]}  # 20 points
    path = write_workflow(
        passes={"knobs": {"type": "ToyOrdered", "search": grid}},
        metrics=[{"name": "ordered", "type": "toy_ordered"}],
        search={"strategy": "random", "seed": 4, "max_trials": 20},
    )
    result = run(path, manager=toy_manager)
    assert len({json.dumps(c.point, sort_keys=True) for c in result.candidates}) == 20
    assert result.best_candidates[0].point["knobs"] == ORDERED_OPTIMUM


def test_failed_trials_in_a_search_log_at_info_with_their_reason(write_workflow, toy_manager, caplog):
    path = write_workflow(
        passes={"flaky": {"type": "ToyFlaky", "config": [{"always_fail": True}, {}]}, "objective": {"type": "ToyObjective", "config": {"a": 1.5, "b": 3}}},
        search={"strategy": "exhaustive"},
        metrics=[{"name": "objective", "type": "toy_objective", "sub_metrics": ["loss"]}],
    )
    with caplog.at_level(logging.DEBUG):  # on the root logger, which the run's log shares
        result = run(path, manager=toy_manager)
    assert sum(not c.ok for c in result.candidates) == 2 and result.ok
    failed = [r for r in caplog.records if "failed after" in r.getMessage()]
    assert len(failed) == 2 and all(r.levelno == logging.INFO for r in failed)
    assert all("configured to always fail" in r.getMessage() for r in failed)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("olive_core")]


def test_a_search_whose_every_trial_fails_still_exits_non_zero(invoke, write_workflow, tmp_path):
    path = write_workflow(passes={"flaky": {"type": "ToyFlaky", "config": [{"always_fail": True}, {"always_fail": True, "fail_times": 1}]}})
    result = invoke("run", str(path))
    assert result.exit_code == 1
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert [c["error"] for c in record["candidates"]] == ["pass 'flaky' (ToyFlaky) failed: pass 'ToyFlaky' failed: configured to always fail"] * 2
    log = (tmp_path / "out" / "run.log").read_text()
    failed = [line for line in log.splitlines() if " failed after " in line]
    assert len(failed) == 2 and all(" INFO olive_core.engine.engine: trial " in line for line in failed)
    assert all(line.endswith("configured to always fail") for line in failed) and " ERROR " not in log


def test_a_workflow_marks_a_list_of_values_as_ordered(write_workflow, toy_manager):
    from olive_core.engine.api import load_workflow
    from olive_core.search.build import build_search_space

    # objects ordered by how much they keep (as exclude: {most_sensitive: K}): ordered only when said
    keep = [{"most_sensitive": k} for k in (0, 2, 4)]
    step = {"type": "ToyObjective", "search": {"b": [0, 2, 4], "a": {"choices": keep, "ordered": True}, "c": [True, False]}}
    loaded = load_workflow(write_workflow(passes={"o": step}, search={"strategy": "exhaustive"}), toy_manager)
    (dims,) = build_search_space(loaded.resolved.steps, searching=True).steps[0].dimensions
    assert {d.field: (d.choices, d.ordered) for d in dims} == {
        "a": (tuple(keep), True), "b": ((0, 2, 4), True), "c": ((True, False), False),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ([], "passes.o.search.b: give at least one value to search"),
        ({"choices": [1, 2], "order": True}, "passes.o.search.b: unknown key(s) order: give 'choices' and 'ordered'"),
        ({"choices": [1, 2], "ordered": "yes"}, "passes.o.search.b: 'ordered' is true or false, got 'yes'"),
        ({"low": 3, "high": 1}, "passes.o.search.b: a range needs low < high"),
        ("all", "passes.o.search.b: expected a list of values, {'choices': [...], 'ordered': true}"),
    ],
)
def test_a_malformed_search_override_is_refused_before_anything_runs(write_workflow, toy_manager, override, message):
    from olive_core.engine.api import load_workflow
    from olive_core.errors import ConfigError

    path = write_workflow(passes={"o": {"type": "ToyObjective", "search": {"b": override}}}, search={"strategy": "exhaustive"})
    with pytest.raises(ConfigError, match=None) as caught:
        load_workflow(path, toy_manager)
    assert message in str(caught.value)
