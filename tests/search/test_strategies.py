"""Search strategies on a synthetic objective with a known optimum (ToyObjective: 0 at a=1.5, b=3, c=True)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from olive_core.engine.api import run
from olive_core.search.random import RandomSearch
from olive_core.search.space import SearchSpace, StepSpace
from olive_core.passes.searchable import SearchDimension

OBJECTIVE = {"metrics": [{"name": "objective", "type": "toy_objective", "sub_metrics": ["loss"]}]}


def _workflow(write_workflow, search: dict, knobs: dict | None = None, search_overrides: dict | None = None, **extra):
    step = {"type": "ToyObjective", "config": knobs or {}}
    if search_overrides:
        step["search"] = search_overrides
    return write_workflow(passes={"objective": step}, search=search, **OBJECTIVE, **extra)


def _best_loss(result) -> float:
    return result.best_candidates[0].evaluation.values["objective-loss"]


def test_exhaustive_finds_the_optimum_of_a_discrete_space(write_workflow, toy_manager):
    path = _workflow(write_workflow, {"strategy": "exhaustive"}, search_overrides={"a": [-1.0, 1.5, 3.0]})
    result = run(path, manager=toy_manager)
    assert len(result.candidates) == 3 * 5 * 2
    assert _best_loss(result) == 0.0
    assert result.best_candidates[0].point["objective"] == {"a": 1.5, "b": 3, "c": True}


def test_exhaustive_refuses_a_continuous_range(write_workflow, toy_manager):
    result_error = None
    try:
        run(_workflow(write_workflow, {"strategy": "exhaustive", "max_trials": 5}), manager=toy_manager)
    except Exception as exc:  # the range cannot be enumerated: a clear error names the field
        result_error = str(exc)
    assert result_error is not None and "'a' is a range and cannot be enumerated" in result_error


def test_a_continuous_space_needs_a_budget(write_workflow, toy_manager):
    from olive_core.errors import ConfigError

    with pytest.raises(ConfigError, match="search.max_trials: the search space has continuous ranges"):
        run(_workflow(write_workflow, {"strategy": "random"}), manager=toy_manager)


def test_random_covers_a_small_discrete_space_without_repeats(write_workflow, toy_manager):
    path = _workflow(write_workflow, {"strategy": "random", "seed": 3}, knobs={"a": 1.5})
    result = run(path, manager=toy_manager)
    points = [tuple(sorted(c.point["objective"].items())) for c in result.candidates]
    assert len(points) == 10 == len(set(points))
    assert _best_loss(result) == 0.0


def test_random_is_reproducible_with_a_seed(write_workflow, toy_manager):
    path = _workflow(write_workflow, {"strategy": "random", "seed": 7, "max_trials": 6})
    first = [c.point for c in run(path, manager=toy_manager).candidates]
    second = [c.point for c in run(path, manager=toy_manager).candidates]
    assert first == second and len(first) == 6


@pytest.mark.parametrize("optimizer", ["NGOpt", "TwoPointsDE", "OnePlusOne", "Portfolio"])
def test_nevergrad_optimizers_approach_the_optimum(write_workflow, toy_manager, optimizer):
    search = {"strategy": "nevergrad", "config": {"optimizer": optimizer, "budget": 60}, "max_trials": 60, "seed": 1}
    result = run(_workflow(write_workflow, search), manager=toy_manager)
    points = [json.dumps(c.point, sort_keys=True) for c in result.candidates]
    assert 0 < len(points) <= 60 and len(set(points)) == len(points)  # a repeat is told, not run again
    assert _best_loss(result) < 2.0  # random guessing averages ~8; the optimum is 0, b one off costs 1


def test_nevergrad_unknown_optimizer_suggests(write_workflow, toy_manager):
    from olive_core.errors import OliveError

    search = {"strategy": "nevergrad", "config": {"optimizer": "TwoPointDE"}, "max_trials": 3}
    with pytest.raises(OliveError, match="unknown nevergrad optimizer 'TwoPointDE'") as exc:
        run(_workflow(write_workflow, search), manager=toy_manager)
    assert "TwoPointsDE" in str(exc.value)


def test_stop_when_goals_met(write_workflow, toy_manager):
    metrics = [{"name": "objective", "type": "toy_objective", "sub_metrics": ["loss"], "goals": {"loss": {"threshold": 2.5}}}]
    path = write_workflow(
        passes={"objective": {"type": "ToyObjective", "config": {"a": 1.5}}},
        search={"strategy": "exhaustive", "stop_when_goals_met": True},
        metrics=metrics,
    )
    result = run(path, manager=toy_manager)
    assert result.stopped_early == "a candidate met every goal (stop_when_goals_met)"
    assert result.candidates[-1].evaluation.all_goals_met
    assert all(not c.evaluation.all_goals_met for c in result.candidates[:-1])


def test_no_candidate_meets_the_goals_closest_are_kept_with_their_miss(write_workflow, toy_manager, tmp_path):
    import json

    metrics = [{"name": "objective", "type": "toy_objective", "sub_metrics": ["loss"], "goals": {"loss": {"threshold": -1.0}}}]
    path = write_workflow(
        passes={"objective": {"type": "ToyObjective", "config": {"a": 1.5, "c": True}}},
        search={"strategy": "exhaustive"},
        metrics=metrics,
    )
    result = run(path, manager=toy_manager)
    assert not result.ok and result.best == []
    assert [result.candidates[i].point["objective"]["b"] for i in result.closest] == [3, 2, 4]
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["closest"][0]["output"] == "closest/1" and record["closest"][0]["violation"] == 1.0
    assert (tmp_path / "out" / "closest" / "1" / "model.json").exists()
    goals = record["candidates"][record["closest"][0]["candidate"]]["metrics"]["goals"]["objective-loss"]
    assert goals == {"met": False, "target": -1.0, "missed_by": 1.0}


def test_multi_objective_writes_the_pareto_front(write_workflow, toy_manager, tmp_path):
    import json

    path = write_workflow(
        passes={"objective": {"type": "ToyObjective", "config": {"b": 3, "c": True}, "search": {"a": [-2.0, 0.0, 1.5, 3.0]}}},
        search={"strategy": "exhaustive", "objectives": [{"metric": "objective-loss", "priority": 1}, {"metric": "objective-quality", "priority": 2}]},
        metrics=[{"name": "objective", "type": "toy_objective"}],
    )
    result = run(path, manager=toy_manager)
    front = sorted(result.candidates[i].point["objective"]["a"] for i in result.pareto)
    assert front == [-2.0, 0.0, 1.5]  # a=3.0 is dominated by a=1.5 on both objectives
    assert result.best_candidates[0].point["objective"]["a"] == 1.5
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert len(record["pareto"]) == 3
    assert sorted(p.name for p in (tmp_path / "out" / "pareto").iterdir()) == ["1", "2", "3"]


def test_a_stopped_search_resumes_from_the_cache(write_workflow, toy_manager):
    first = run(_workflow(write_workflow, {"strategy": "exhaustive", "max_trials": 4}, knobs={"a": 1.5}), manager=toy_manager)
    assert len(first.candidates) == 4 and first.stopped_early == "reached max_trials=4"
    second = run(_workflow(write_workflow, {"strategy": "exhaustive"}, knobs={"a": 1.5}), manager=toy_manager)
    statuses = [second.steps[c.lineage[0]].status for c in second.candidates]
    assert statuses[:4] == ["cached"] * 4 and set(statuses[4:]) == {"ran"}
    assert all(c.evaluation.cached for c in second.candidates[:4])


def test_parallel_trials_in_a_process_pool_match_sequential(write_workflow, toy_manager, monkeypatch):
    monkeypatch.setenv("OLIVE_PLUGINS", "olive_core.testing.toy")  # workers build their own manager
    sequential = run(_workflow(write_workflow, {"strategy": "exhaustive"}, knobs={"a": 1.5}, engine={"output_dir": "seq", "cache": {"type": "local", "config": {"dir": "c1"}}}), manager=toy_manager)
    parallel = run(_workflow(write_workflow, {"strategy": "exhaustive", "parallel_trials": 2}, knobs={"a": 1.5}, engine={"output_dir": "par", "cache": {"type": "local", "config": {"dir": "c2"}}}), manager=toy_manager)
    assert [c.point for c in parallel.candidates] == [c.point for c in sequential.candidates]
    assert [c.evaluation.values for c in parallel.candidates] == [c.evaluation.values for c in sequential.candidates]
    assert parallel.best_candidates[0].point == sequential.best_candidates[0].point


def test_any_executor_can_run_the_trials(write_workflow, toy_manager, monkeypatch):
    monkeypatch.setenv("OLIVE_PLUGINS", "olive_core.testing.toy")
    with ThreadPoolExecutor(max_workers=3) as executor:
        result = run(_workflow(write_workflow, {"strategy": "exhaustive", "parallel_trials": 3}, knobs={"a": 1.5}), manager=toy_manager, executor=executor)
    assert len(result.candidates) == 10 and _best_loss(result) == 0.0


def test_a_failed_trial_is_recorded_and_the_search_goes_on(write_workflow, toy_manager):
    path = write_workflow(
        passes={"flaky": {"type": "ToyFlaky", "config": [{"always_fail": True}, {}]}, "objective": {"type": "ToyObjective", "config": {"a": 1.5, "b": 3}}},
        search={"strategy": "exhaustive"},
        **OBJECTIVE,
    )
    result = run(path, manager=toy_manager)
    failed = [c for c in result.candidates if not c.ok]
    assert len(failed) == 2 and all("configured to always fail" in c.error for c in failed)
    assert _best_loss(result) == 0.0


def test_random_strategy_conditional_fields():
    dims = [SearchDimension("mode", ("a", "b")), SearchDimension("level", (1, 2, 3), when=(("mode", "b"),))]
    space = SearchSpace([StepSpace("s", [{}], [dims])])
    strategy = RandomSearch(space, None, seed=0)
    points = []
    while (point := strategy.ask()) is not None:
        points.append(point["s"])
    assert sorted(map(str, points)) == sorted(map(str, [{"mode": "a"}, {"mode": "b", "level": 1}, {"mode": "b", "level": 2}, {"mode": "b", "level": 3}]))


def test_an_optional_step_is_tried_with_and_without(write_workflow, toy_manager):
    path = write_workflow(
        passes={
            "scale": {"type": "ToyScale", "config": {"factor": 2.0}, "optional": True},
            "round": {"type": "ToyRound", "config": [{"decimals": 0}, {"decimals": 1}]},
        },
    )
    result = run(path, manager=toy_manager)
    assert [(c.point["scale"], c.point["round"]["decimals"], len(c.lineage)) for c in result.candidates] == [
        ({"factor": 2.0}, 0, 2),
        ({"factor": 2.0}, 1, 2),
        (None, 0, 1),
        (None, 1, 1),
    ]


def test_random_and_nevergrad_can_skip_an_optional_step(write_workflow, toy_manager):
    for search in ({"strategy": "random", "seed": 0}, {"strategy": "nevergrad", "config": {"budget": 30}, "max_trials": 30}):
        path = write_workflow(
            passes={"scale": {"type": "ToyScale", "config": {"factor": 2.0}, "optional": True}, "objective": {"type": "ToyObjective", "config": {"a": 1.5}}},
            search=search,
            **OBJECTIVE,
        )
        result = run(path, manager=toy_manager)
        assert {c.point["scale"] is None for c in result.candidates} == {True, False}


def test_parallel_trials_compute_a_shared_prefix_once(write_workflow, toy_manager, monkeypatch, tmp_path):
    monkeypatch.setenv("OLIVE_PLUGINS", "olive_core.testing.toy")
    counter = tmp_path / "runs"
    path = write_workflow(
        passes={
            "shared": {"type": "ToyFlaky", "config": {"counter_file": str(counter), "sleep_s": 0.5}},
            "objective": {"type": "ToyObjective", "config": [{"b": 1}, {"b": 2}]},
        },
        search={"parallel_trials": 2},
        **OBJECTIVE,
    )
    result = run(path, manager=toy_manager)
    assert len(result.candidates) == 2 and all(c.ok for c in result.candidates)
    assert counter.read_text() == "1"
