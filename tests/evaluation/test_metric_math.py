"""Each metric's arithmetic on known inputs, without a model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from olive_core.errors import DataError, ModelLoadError
from olive_core.evaluation.metrics.accuracy import classification_scores
from olive_core.evaluation.metrics.latency import latency_stats, percentile
from olive_core.evaluation.metrics.similarity import cosine_rows, similarity_scores
from olive_core.evaluation.metrics.size import MB, files_size_bytes
from olive_core.evaluation.metrics.throughput import batch_items, items_per_second
from olive_core.evaluation.metrics.timing import time_runs


def test_percentile_interpolates_between_ranks() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 50) == 2.5
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 90) == pytest.approx(3.7)
    assert percentile([7.0], 99) == 7.0
    ten = [float(v) for v in range(1, 11)]
    for q in (50, 90, 95, 99):
        assert percentile(ten, q) == pytest.approx(np.percentile(ten, q))
    with pytest.raises(ValueError):
        percentile([], 50)


def test_latency_stats_of_fixed_timings() -> None:
    stats = latency_stats([5.0, 1.0, 4.0, 2.0, 3.0, 100.0])
    assert stats == {
        "mean": pytest.approx(115.0 / 6),
        "p50": 3.5,
        "p90": pytest.approx(52.5),  # rank 4.5 of 0..5: 5 + 0.5 * 95
        "p95": pytest.approx(76.25),
        "p99": pytest.approx(95.25),
        "min": 1.0,
        "max": 100.0,
    }


def test_time_runs_warms_up_then_times_each_run_cycling_inputs() -> None:
    seen: list[int] = []
    timings = time_runs(lambda batch: seen.append(batch["i"]), [{"i": 0}, {"i": 1}], warmup=3, repeat=4)
    assert seen == [0, 1, 0, 0, 1, 0, 1]
    assert len(timings) == 4 and all(t >= 0 for t in timings)


def test_throughput_counts_items_per_second() -> None:
    assert batch_items({"x": np.zeros((8, 3))}) == 8
    assert items_per_second(80, 2.0) == 40.0


def test_classification_scores_macro() -> None:
    labels = np.array([0, 0, 1, 1, 2, 2])
    predictions = np.array([0, 1, 1, 1, 2, 0])
    scores = classification_scores(labels, predictions, "macro")
    # per class precision: 1/2, 2/3, 1/1; recall: 1/2, 2/2, 1/2
    precision = (0.5 + 2 / 3 + 1.0) / 3
    recall = (0.5 + 1.0 + 0.5) / 3
    f1 = (0.5 + 0.8 + 2 / 3) / 3
    assert scores == {
        "accuracy": pytest.approx(4 / 6),
        "precision": pytest.approx(precision),
        "recall": pytest.approx(recall),
        "f1": pytest.approx(f1),
    }


def test_classification_scores_micro_weighted_binary() -> None:
    labels = np.array([1, 1, 1, 0])
    predictions = np.array([1, 0, 1, 1])
    micro = classification_scores(labels, predictions, "micro")
    assert micro["precision"] == micro["recall"] == micro["f1"] == micro["accuracy"] == 0.5
    binary = classification_scores(labels, predictions, "binary", pos_label=1)
    assert binary["precision"] == pytest.approx(2 / 3) and binary["recall"] == pytest.approx(2 / 3)
    weighted = classification_scores(labels, predictions, "weighted")
    # class 0: p=0, r=0 (support 1); class 1: p=2/3, r=2/3 (support 3)
    assert weighted["recall"] == pytest.approx(0.75 * 2 / 3)
    assert classification_scores(np.array(["a", "b"]), np.array(["a", "b"]))["f1"] == 1.0


def test_cosine_and_similarity_scores() -> None:
    a = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    b = np.array([[0.0, 1.0], [2.0, 2.0], [0.0, 0.0]])
    assert cosine_rows(a, b).tolist() == pytest.approx([0.0, 1.0, 1.0])
    scores = similarity_scores([a], [b])
    assert scores == {"cosine_mean": pytest.approx(2 / 3), "cosine_min": pytest.approx(0.0), "max_abs_error": 1.0}
    same = similarity_scores([np.ones((2, 3, 4))], [np.ones((2, 3, 4))])
    assert same == {"cosine_mean": pytest.approx(1.0), "cosine_min": pytest.approx(1.0), "max_abs_error": 0.0}
    with pytest.raises(DataError, match=r"float64\[2, 2\].*float64\[2, 3\]"):
        similarity_scores([np.zeros((2, 2))], [np.zeros((2, 3))])


def test_size_of_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "a.bin").write_bytes(b"x" * 1000)
    (tmp_path / "model" / "sub").mkdir()
    (tmp_path / "model" / "sub" / "b.bin").write_bytes(b"x" * 24)
    (tmp_path / "tokenizer.json").write_bytes(b"x" * 100)
    paths = [tmp_path / "model", tmp_path / "tokenizer.json", tmp_path / "model" / "a.bin"]
    assert files_size_bytes(paths) == 1124  # a.bin counted once
    assert MB == 1048576
    with pytest.raises(ModelLoadError, match="missing.onnx"):
        files_size_bytes([tmp_path / "missing.onnx"])
