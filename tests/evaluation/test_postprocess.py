"""Built-in post-processors on known arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from olive_core.errors import DataError
from olive_core.evaluation.data import DataContext
from olive_core.evaluation.postprocess import Argmax, L2Normalize, LogitsToLabels, MeanPool, SelectOutput

CONTEXT = DataContext(name="eval")


def post(step: Any, outputs: dict[str, np.ndarray], batch: dict[str, np.ndarray] | None = None, **config: Any) -> dict[str, np.ndarray]:
    return step()((outputs, batch or {}), step.Config(**config), CONTEXT)


def test_mean_pool_weights_tokens_by_the_attention_mask() -> None:
    hidden = np.array([[[1.0, 1.0], [3.0, 5.0], [100.0, 100.0]]], dtype=np.float32)  # last token is padding
    batch = {"attention_mask": np.array([[1, 1, 0]])}
    pooled = post(MeanPool, {"last_hidden_state": hidden, "pooler_output": np.zeros((1, 2))}, batch)
    assert list(pooled) == ["last_hidden_state"]
    assert pooled["last_hidden_state"].tolist() == [[2.0, 3.0]]
    normalized = post(MeanPool, {"h": hidden}, batch, normalize=True, to="embedding")
    assert np.linalg.norm(normalized["embedding"]) == pytest.approx(1.0)
    np.testing.assert_allclose(post(MeanPool, {"h": hidden})["h"], [[104 / 3, 106 / 3]], rtol=1e-6)  # no mask: plain mean
    with pytest.raises(DataError, match=r"needs token vectors \[batch, tokens, hidden\]"):
        post(MeanPool, {"h": np.zeros((2, 3))})


def test_l2_normalize_keeps_zero_vectors() -> None:
    result = post(L2Normalize, {"e": np.array([[3.0, 4.0], [0.0, 0.0]])})["e"]
    np.testing.assert_allclose(result, [[0.6, 0.8], [0.0, 0.0]])


def test_argmax_and_select_output_by_name_or_index() -> None:
    outputs = {"logits": np.array([[0.1, 0.9], [2.0, -1.0]]), "other": np.ones(2)}
    assert post(Argmax, outputs)["logits"].tolist() == [1, 0]
    assert list(post(Argmax, outputs, keep_others=True)) == ["other", "logits"]
    assert list(post(SelectOutput, outputs, output="other", to="picked")) == ["picked"]
    assert list(post(SelectOutput, outputs, output=-1)) == ["other"]
    with pytest.raises(DataError, match="asks for output 'probs'") as error:
        post(SelectOutput, outputs, output="probs")
    assert "logits float64[2, 2]" in (error.value.hint or "")
    with pytest.raises(DataError, match="asks for output 5, but there are 2"):
        post(SelectOutput, outputs, output=5)


def test_logits_to_labels_multi_class_binary_and_names() -> None:
    logits = np.array([[0.2, 0.7, 0.1], [3.0, 0.0, 0.0]])
    assert post(LogitsToLabels, {"logits": logits})["logits"].tolist() == [1, 0]
    named = post(LogitsToLabels, {"logits": logits}, labels=["neg", "pos", "neutral"], to="labels")
    assert named["labels"].tolist() == ["pos", "neg"]
    single = np.array([[-0.3], [2.0]])
    assert post(LogitsToLabels, {"logit": single})["logit"].tolist() == [0, 1]
    with pytest.raises(DataError, match="class id 1 but 'labels' names 1 classes"):
        post(LogitsToLabels, {"logits": logits}, labels=["only"])
