"""Goals: absolute thresholds and limits relative to the input model, for both directions."""

from __future__ import annotations

import pytest

from olive_core.config.workflow import GoalConfig
from olive_core.evaluation.goals import GoalResult, evaluate_goal
from olive_core.evaluation.result import Evaluation


@pytest.mark.parametrize(
    ("direction", "value", "threshold", "met", "missed_by"),
    [
        ("min", 9.0, 10.0, True, 0.0),
        ("min", 10.0, 10.0, True, 0.0),
        ("min", 12.5, 10.0, False, 2.5),
        ("max", 0.91, 0.9, True, 0.0),
        ("max", 0.85, 0.9, False, 0.05),
    ],
)
def test_threshold(direction: str, value: float, threshold: float, met: bool, missed_by: float) -> None:
    result = evaluate_goal(GoalConfig(threshold=threshold), direction, value)
    assert result.met is met
    assert result.target == threshold
    assert result.missed_by == pytest.approx(missed_by)


def test_max_degradation_absolute() -> None:
    goal = GoalConfig(max_degradation=0.01)
    # accuracy (max): 0.90 may drop to 0.89
    assert evaluate_goal(goal, "max", 0.895, reference=0.90) == GoalResult(True, pytest.approx(0.89), 0.0)
    missed = evaluate_goal(goal, "max", 0.88, reference=0.90)
    assert not missed.met and missed.missed_by == pytest.approx(0.01)
    # latency (min): 10 ms may grow to 10.01 ms
    assert evaluate_goal(goal, "min", 10.005, reference=10.0).met
    assert not evaluate_goal(goal, "min", 10.02, reference=10.0).met


def test_max_degradation_percent() -> None:
    goal = GoalConfig(max_degradation_percent=1.0)
    assert evaluate_goal(goal, "max", 0.891, reference=0.9).target == pytest.approx(0.891)
    assert evaluate_goal(goal, "max", 0.891, reference=0.9).met
    assert not evaluate_goal(goal, "max", 0.89, reference=0.9).met
    latency = evaluate_goal(goal, "min", 10.2, reference=10.0)
    assert latency.target == pytest.approx(10.1) and latency.missed_by == pytest.approx(0.1)
    # percent of the magnitude: a negative 'max' value may still only get worse by 1 %
    assert evaluate_goal(goal, "max", -2.02, reference=-2.0).target == pytest.approx(-2.02)


def test_no_degradation_is_met_by_the_reference_itself() -> None:
    for goal in (GoalConfig(max_degradation=0), GoalConfig(max_degradation_percent=0)):
        assert evaluate_goal(goal, "min", 0.1 + 0.2, reference=0.3).met
        assert evaluate_goal(goal, "max", 0.3, reference=0.1 + 0.2).met


def test_min_improvement() -> None:
    assert evaluate_goal(GoalConfig(min_improvement=2.0), "min", 7.5, reference=10.0).met
    slow = evaluate_goal(GoalConfig(min_improvement=2.0), "min", 9.0, reference=10.0)
    assert not slow.met and slow.target == 8.0 and slow.missed_by == pytest.approx(1.0)
    assert evaluate_goal(GoalConfig(min_improvement=0.05), "max", 0.96, reference=0.9).met
    assert not evaluate_goal(GoalConfig(min_improvement=0.05), "max", 0.94, reference=0.9).met


def test_min_improvement_percent() -> None:
    halved = GoalConfig(min_improvement_percent=50)
    assert evaluate_goal(halved, "min", 5.0, reference=10.0).met
    assert evaluate_goal(halved, "min", 6.0, reference=10.0).missed_by == pytest.approx(1.0)
    assert evaluate_goal(GoalConfig(min_improvement_percent=10), "max", 110.0, reference=100.0).met
    assert not evaluate_goal(GoalConfig(min_improvement_percent=10), "max", 109.0, reference=100.0).met


def test_relative_goal_needs_a_reference() -> None:
    with pytest.raises(ValueError, match="input model"):
        evaluate_goal(GoalConfig(max_degradation=1), "min", 1.0)


def test_evaluation_json_round_trip_and_all_goals_met() -> None:
    evaluation = Evaluation(
        values={"latency-p50": 3.0, "acc-accuracy": 0.8},
        directions={"latency-p50": "min", "acc-accuracy": "max"},
        goals={"latency-p50": GoalResult(True, 5.0, 0.0), "acc-accuracy": GoalResult(False, 0.9, 0.1)},
        settings={"intra_op_num_threads": 1},
    )
    data = evaluation.to_json()
    assert data["all_goals_met"] is False
    assert Evaluation.from_json(data) == evaluation
    assert Evaluation(values={}, directions={}).all_goals_met
