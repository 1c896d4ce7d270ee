"""End to end on a real model: all-MiniLM-L6-v2 from its folder, tokenized and run by olive-torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from olive_core.accelerators import AcceleratorSpec
from olive_core.evaluation.data import DataContext
from olive_torch.data import HfTokenize, HfTokenizeConfig
from olive_torch.hf_model import HfModelType

SENTENCES = ["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."]


def embed(session, samples: list[dict]) -> np.ndarray:
    batch = {name: np.stack([sample[name] for sample in samples]) for name in session.input_names}
    (hidden,) = session.run(batch)
    mask = batch["attention_mask"][..., None]
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def test_minilm_sentence_embeddings(make_hf_handle, minilm_dir: Path) -> None:
    handle = make_hf_handle(minilm_dir)
    assert handle.attributes["hidden_size"] == 384
    session = HfModelType().create_session(handle, AcceleratorSpec("cpu"), {"intra_op_num_threads": 2})
    context = DataContext(model=handle)
    samples = [{"text": text} for text in SENTENCES]
    padded = embed(session, HfTokenize()(samples, HfTokenizeConfig(max_length=32), context))
    tight = embed(session, HfTokenize()(samples, HfTokenizeConfig(padding="longest"), context))
    np.testing.assert_allclose(padded, tight, atol=1e-5)  # padding is masked out
    similarity = padded @ padded.T
    assert similarity[0, 1] > 0.6 > similarity[0, 2]
