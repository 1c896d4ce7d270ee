"""Batching, max_samples, and the pre-processed data cache (content hash, reuse, invalidation)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from olive_core.errors import DataError
from olive_core.evaluation.batching import make_batches

from . import numpy_plugin
from .helpers import write_jsonl


def test_batches_stack_per_key_and_keep_labels_apart() -> None:
    samples = [{"x": [i, i], "label": i % 2} for i in range(5)]
    batches, labels = make_batches(samples, 2, "eval")
    assert [b["x"].shape for b in batches] == [(2, 2), (2, 2), (1, 2)]
    assert all("label" not in b for b in batches)
    assert [lab.tolist() for lab in labels] == [[0, 1], [0, 1], [0]]
    assert make_batches([{"x": 1}], 4, "eval")[1] is None


def test_batching_errors_name_the_field() -> None:
    with pytest.raises(DataError, match=r"field 'ids' has different shapes within one batch \(sample 0: \[2\], sample 1: \[3\]\)"):
        make_batches([{"ids": [1, 2]}, {"ids": [1, 2, 3]}], 2, "eval")
    with pytest.raises(DataError, match="sample 1 has fields"):
        make_batches([{"a": 1}, {"b": 1}], 2, "eval")
    with pytest.raises(DataError, match="sample 0 is a str"):
        make_batches(["text"], 1, "eval")
    with pytest.raises(DataError, match="has no samples"):
        make_batches([], 1, "eval")


def rows(count: int) -> list[dict[str, Any]]:
    return [{"x": [float(i), 0.0, 1.0, 0.0], "label": i % 3} for i in range(count)]


def data_section(path: str, **extra: Any) -> dict[str, Any]:
    return {
        "eval": {
            "load": {"type": "jsonl", "config": {"path": path}},
            "preprocess": [{"type": "scale_field", "config": {"factor": 2.0}}],
            "batch_size": 4,
            **extra,
        }
    }


def test_preprocess_then_cut_then_batch(tmp_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]) -> None:
    write_jsonl(tmp_path / "data.jsonl", rows(10))
    evaluator = make_evaluator(make_workflow(data=data_section("data.jsonl", max_samples=6)))
    batches = evaluator.batches("eval")
    assert [b["x"].shape for b in batches] == [(4, 4), (2, 4)]
    assert batches[0]["x"][1].tolist() == [2.0, 0.0, 2.0, 0.0]  # scaled by the pre-processor
    assert set(batches[0]) == {"x"}  # inputs only: labels are apart
    assert evaluator.batches("eval") is batches  # prepared once per evaluator
    with pytest.raises(DataError, match="no data named 'evl'") as error:
        evaluator.batches("evl")
    assert "did you mean 'eval'" in (error.value.hint or "")


def test_preprocessed_data_is_cached_by_content_hash(
    tmp_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]
) -> None:
    data_file = write_jsonl(tmp_path / "data.jsonl", rows(6))
    workflow = make_workflow(data=data_section("data.jsonl"))
    calls = len(numpy_plugin.PREPROCESS_CALLS)

    first = make_evaluator(workflow).batches("eval")
    assert len(numpy_plugin.PREPROCESS_CALLS) == calls + 1

    # a next run (a new evaluator on the same cache) reuses the pre-processed batches
    second = make_evaluator(workflow).batches("eval")
    assert len(numpy_plugin.PREPROCESS_CALLS) == calls + 1
    assert all(np.array_equal(a["x"], b["x"]) for a, b in zip(first, second))

    # an edited data file changes the hash: the data is rebuilt
    write_jsonl(data_file, rows(7))
    assert sum(len(b["x"]) for b in make_evaluator(workflow).batches("eval")) == 7
    assert len(numpy_plugin.PREPROCESS_CALLS) == calls + 2

    # so does another pre-processing config
    data = data_section("data.jsonl")
    data["eval"]["preprocess"][0]["config"]["factor"] = 3.0
    tripled = make_evaluator(make_workflow(data=data)).batches("eval")
    assert tripled[0]["x"][1].tolist() == [3.0, 0.0, 3.0, 0.0]
    assert len(numpy_plugin.PREPROCESS_CALLS) == calls + 3


def test_missing_data_file_is_named_when_evaluating(
    tmp_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]
) -> None:
    evaluator = make_evaluator(make_workflow(data=data_section("missing.jsonl")))
    with pytest.raises(DataError, match=r"JSON Lines file '.*missing.jsonl' does not exist"):
        evaluator.batches("eval")


def test_an_empty_data_file_is_named(tmp_path: Path, make_workflow: Callable[..., Any], make_evaluator: Callable[..., Any]) -> None:
    (tmp_path / "empty.jsonl").write_text("\n")
    evaluator = make_evaluator(make_workflow(data=data_section("empty.jsonl")))
    with pytest.raises(DataError, match=r"data 'eval' has no samples: its loader \('jsonl'\) read none from '.*empty.jsonl'"):
        evaluator.batches("eval")
