"""The evaluator end to end with a real (numpy) model type: metrics, goals, caching, data errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from olive_core.errors import DataError
from olive_core.evaluation.metrics.size import MB

from . import numpy_plugin
from .helpers import BIAS, WEIGHT, handle_for, write_jsonl

FEATURES = np.array(
    [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0.2, 0.1, 0, 1], [1, 2, 0, 0], [0, 0, 0.3, 0]], dtype=np.float32
)
LABELS = np.array([0, 1, 2, 1, 1, 0])


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    rows = [{"x": row.tolist(), "label": int(label), "note": "ignored"} for row, label in zip(FEATURES, LABELS)]
    return write_jsonl(tmp_path / "eval.jsonl", rows)


def data(path: str = "eval.jsonl", **extra: Any) -> dict[str, Any]:
    return {"eval": {"load": {"type": "jsonl", "config": {"path": path}}, "batch_size": 4, **extra}}


FAST_TIMING = {"warmup_runs": 1, "repeat_runs": 5}


def all_metrics(**goals: Any) -> list[dict[str, Any]]:
    return [
        {"name": "latency", "type": "latency", "data": "eval", "config": FAST_TIMING, "goals": goals.get("latency", {})},
        {"name": "throughput", "type": "throughput", "data": "eval", "config": {"warmup_runs": 0, "repeat": 1}},
        {"name": "acc", "type": "accuracy", "data": "eval", "goals": goals.get("acc", {})},
        {"name": "sim", "type": "similarity", "data": "eval", "goals": goals.get("sim", {})},
        {"name": "size", "type": "size"},
    ]


def reference_accuracy(weight: np.ndarray, bias: np.ndarray) -> float:
    return float(np.mean(np.argmax(FEATURES @ weight + bias, axis=1) == LABELS))


def test_evaluate_measures_every_metric(
    data_file: Path, model_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]
) -> None:
    workflow = make_workflow(data=data(), metrics=all_metrics(), runtime={"intra_op_num_threads": 1})
    numpy_plugin.SESSIONS.clear()
    evaluation = make_evaluator(workflow).evaluate(handle_for(model_path))

    values = evaluation.values
    assert set(values) == {
        *(f"latency-{s}" for s in ("mean", "p50", "p90", "p95", "p99", "min", "max")),
        "throughput-items_per_second",
        *(f"acc-{s}" for s in ("accuracy", "f1", "precision", "recall")),
        "sim-cosine_mean",
        "sim-cosine_min",
        "sim-max_abs_error",
        "size-mb",
    }
    assert 0 < values["latency-min"] <= values["latency-p50"] <= values["latency-p99"] <= values["latency-max"]
    assert values["throughput-items_per_second"] > 0
    assert values["acc-accuracy"] == pytest.approx(reference_accuracy(WEIGHT, BIAS))
    assert values["sim-cosine_min"] == pytest.approx(1.0) and values["sim-max_abs_error"] == 0.0
    assert values["size-mb"] == pytest.approx(model_path.stat().st_size / MB)
    assert evaluation.directions["latency-p90"] == "min" and evaluation.directions["acc-f1"] == "max"
    assert evaluation.settings == {"intra_op_num_threads": 1}  # threads recorded with the values
    assert evaluation.cached is False and evaluation.goals == {} and evaluation.all_goals_met
    assert numpy_plugin.SESSIONS == {str(model_path): 1}  # one session, shared by every metric


def test_second_evaluation_comes_from_the_cache(
    data_file: Path, model_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]
) -> None:
    workflow = make_workflow(data=data(), metrics=all_metrics(), runtime={"intra_op_num_threads": 1})
    first = make_evaluator(workflow).evaluate(handle_for(model_path))
    numpy_plugin.SESSIONS.clear()

    again = make_evaluator(workflow).evaluate(handle_for(model_path))  # a next run, same cache
    assert again.cached is True
    assert again.values == first.values and again.directions == first.directions and again.settings == first.settings
    assert numpy_plugin.SESSIONS == {}  # nothing was run

    other_threads = make_workflow(data=data(), metrics=all_metrics(), runtime={"intra_op_num_threads": 2})
    assert make_evaluator(other_threads).evaluate(handle_for(model_path)).cached is False
    other_config = all_metrics()
    other_config[0]["config"] = {**FAST_TIMING, "repeat_runs": 6}
    assert make_evaluator(make_workflow(data=data(), metrics=other_config)).evaluate(handle_for(model_path)).cached is False


def test_candidate_is_compared_with_the_input_model(
    tmp_path: Path, data_file: Path, model_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]
) -> None:
    rounded_weight = np.round(WEIGHT * 2) / 2 + np.array([0, 0, 0.4], dtype=np.float32)
    candidate_path = numpy_plugin.write_linear_model(tmp_path / "candidate" / "linear.npz", rounded_weight, BIAS)
    goals = {
        "acc": {"accuracy": {"max_degradation": 0.0}, "f1": {"min_improvement": 0.5}},
        "sim": {"cosine_min": {"threshold": 0.5}},
        "latency": {"p50": {"max_degradation_percent": 100000}},
    }
    workflow = make_workflow(data=data(), metrics=all_metrics(**goals))
    evaluator = make_evaluator(workflow)
    numpy_plugin.SESSIONS.clear()

    evaluation = evaluator.evaluate(handle_for(candidate_path))

    expected = FEATURES @ rounded_weight + BIAS
    reference = FEATURES @ WEIGHT + BIAS
    cosine = np.sum(expected * reference, axis=1) / (np.linalg.norm(expected, axis=1) * np.linalg.norm(reference, axis=1))
    assert evaluation.values["sim-cosine_mean"] == pytest.approx(float(cosine.mean()), rel=1e-5)
    assert evaluation.values["sim-cosine_min"] == pytest.approx(float(cosine.min()), rel=1e-5)
    assert evaluation.values["sim-max_abs_error"] == pytest.approx(float(np.abs(expected - reference).max()), rel=1e-5)

    input_values = evaluator.input_values()
    accuracy_goal = evaluation.goals["acc-accuracy"]
    assert accuracy_goal.target == input_values["acc-accuracy"]
    assert accuracy_goal.met is (evaluation.values["acc-accuracy"] >= input_values["acc-accuracy"])
    f1_goal = evaluation.goals["acc-f1"]
    assert f1_goal.met is False and f1_goal.target == pytest.approx(input_values["acc-f1"] + 0.5)
    assert f1_goal.missed_by == pytest.approx(f1_goal.target - evaluation.values["acc-f1"])
    assert evaluation.goals["sim-cosine_min"].met and evaluation.goals["latency-p50"].met
    assert evaluation.all_goals_met is False
    # each model ran in one session; the input model was measured once for goals and similarity
    assert numpy_plugin.SESSIONS == {str(candidate_path): 1, str(model_path): 1}

    input_evaluation = evaluator.evaluate(handle_for(model_path))
    assert input_evaluation.cached and input_evaluation.values == input_values
    assert input_evaluation.goals["acc-accuracy"].met and not input_evaluation.goals["acc-f1"].met


def test_data_without_the_model_input_is_named(
    tmp_path: Path, model_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]
) -> None:
    write_jsonl(tmp_path / "eval.jsonl", [{"features": [1, 2, 3, 4], "label": 0}] * 3)
    evaluator = make_evaluator(make_workflow(data=data(), metrics=all_metrics()[:1]))
    with pytest.raises(DataError) as error:
        evaluator.evaluate(handle_for(model_path))
    message = str(error.value)
    assert "input 'x' is missing" in message
    assert "features int64[3, 4]" in message and "x float32[batch, 4]" in message


def test_data_of_the_wrong_shape_or_dtype_is_named(
    tmp_path: Path, model_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]
) -> None:
    write_jsonl(tmp_path / "eval.jsonl", [{"x": [1.0, 2.0, 3.0]}] * 2)
    evaluator = make_evaluator(make_workflow(data=data(), metrics=all_metrics()[:1]))
    with pytest.raises(DataError, match=r"input 'x' is float32\[2, 3\] but axis 1 must be 4"):
        evaluator.evaluate(handle_for(model_path))

    write_jsonl(tmp_path / "text.jsonl", [{"x": "a sentence"}] * 2)
    evaluator = make_evaluator(make_workflow(data=data("text.jsonl"), metrics=all_metrics()[:1]))
    with pytest.raises(DataError, match=r"input 'x' is <U10\[2\] but the model expects float32"):
        evaluator.evaluate(handle_for(model_path))


def test_accuracy_without_labels_says_so(
    tmp_path: Path, model_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]
) -> None:
    write_jsonl(tmp_path / "eval.jsonl", [{"x": [1, 0, 0, 0]}] * 2)
    evaluator = make_evaluator(make_workflow(data=data(), metrics=[{"name": "acc", "type": "accuracy", "data": "eval"}]))
    with pytest.raises(DataError, match="needs labels"):
        evaluator.evaluate(handle_for(model_path))


def test_synthetic_data_and_post_processing(
    model_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]
) -> None:
    synthetic = {
        "eval": {
            "load": {"type": "synthetic", "config": {"num_samples": 3, "seed": 1}},
            "postprocess": [{"type": "l2_normalize"}],
            "batch_size": 3,
        }
    }
    metrics = [{"name": "sim", "type": "similarity", "data": "eval"}, {"name": "latency", "type": "latency", "data": "eval", "config": FAST_TIMING}]
    evaluator = make_evaluator(make_workflow(data=synthetic, metrics=metrics))
    evaluation = evaluator.evaluate(handle_for(model_path))
    assert evaluator.batches("eval")[0]["x"].shape == (3, 4)
    assert evaluation.values["sim-cosine_mean"] == pytest.approx(1.0)


def test_memory_is_measured_in_a_child_process(
    data_file: Path, model_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]
) -> None:
    metrics = [{"name": "memory", "type": "memory", "data": "eval"}]
    numpy_plugin.SESSIONS.clear()
    evaluation = make_evaluator(make_workflow(data=data(), metrics=metrics)).evaluate(handle_for(model_path))
    assert evaluation.values["memory-peak_mb"] > 5  # an interpreter with numpy loaded
    assert 0 <= evaluation.values["memory-increase_mb"] < evaluation.values["memory-peak_mb"]
    assert numpy_plugin.SESSIONS == {}  # the session was made in the child, not here


def test_memory_probe_reports_data_errors_from_the_child(
    tmp_path: Path, model_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]
) -> None:
    write_jsonl(tmp_path / "eval.jsonl", [{"x": [1.0, 2.0]}] * 2)
    metrics = [{"name": "memory", "type": "memory", "data": "eval"}]
    evaluator = make_evaluator(make_workflow(data=data(), metrics=metrics))
    with pytest.raises(DataError, match=r"metric 'memory': .*input 'x' is float32\[2, 2\] but axis 1 must be 4"):
        evaluator.evaluate(handle_for(model_path))


def test_a_plugin_metric_is_measured_like_a_builtin_one(
    data_file: Path, model_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]
) -> None:
    metrics = [{"name": "range", "type": "output_range", "data": "eval", "goals": {"high": {"threshold": 1.0}}}]
    evaluation = make_evaluator(make_workflow(data=data(), metrics=metrics)).evaluate(handle_for(model_path))
    logits = FEATURES @ WEIGHT + BIAS
    assert evaluation.values == {"range-low": pytest.approx(float(logits.min())), "range-high": pytest.approx(float(logits.max()))}
    assert evaluation.directions == {"range-low": "max", "range-high": "min"}
    assert evaluation.goals["range-high"].met is False


def test_a_metric_can_run_the_input_model_its_own_way_once_per_run(
    tmp_path: Path, data_file: Path, model_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]
) -> None:
    metrics = [{"name": "gap", "type": "reference_gap", "data": "eval"}]
    evaluator = make_evaluator(make_workflow(data=data(), metrics=metrics))
    numpy_plugin.REFERENCE_RUNS.clear()
    shifted = numpy_plugin.write_linear_model(tmp_path / "a" / "linear.npz", WEIGHT, BIAS + 0.25)
    other = numpy_plugin.write_linear_model(tmp_path / "b" / "linear.npz", WEIGHT, BIAS - 0.5)
    assert evaluator.evaluate(handle_for(shifted)).values["gap-gap"] == pytest.approx(0.25)
    assert evaluator.evaluate(handle_for(other)).values["gap-gap"] == pytest.approx(0.5)
    assert numpy_plugin.REFERENCE_RUNS == [str(model_path)]  # the input model ran once for both
