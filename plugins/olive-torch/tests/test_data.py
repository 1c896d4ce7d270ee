"""hf_tokenize: text to the model's token arrays, with the model's own tokenizer."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from olive_core.errors import DataError
from olive_core.evaluation.data import DataContext
from olive_core.models.handler import ModelHandler
from olive_torch.data import HfTokenize, HfTokenizeConfig

SAMPLES = [{"text": "hello world", "label": 1}, {"text": "the cat sat on the mat", "label": 0}]


def tokenize(samples, context: DataContext, **config):
    return HfTokenize()(samples, HfTokenizeConfig(**config), context)


def test_uses_the_models_tokenizer_and_keeps_other_fields(make_hf_handle, tiny_bert_dir: Path) -> None:
    out = tokenize(SAMPLES, DataContext(model=make_hf_handle(tiny_bert_dir)), max_length=16)
    assert [sample["label"] for sample in out] == [1, 0] and "text" not in out[0]
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        assert out[0][key].dtype == np.int64 and out[0][key].shape == (16,)
    # [CLS] hello world [SEP] with the tiny vocabulary
    assert out[0]["input_ids"][:4].tolist() == [2, 5, 6, 3] and out[0]["attention_mask"].sum() == 4


def test_longest_padding_pads_to_the_longest_sample(make_hf_handle, tiny_bert_dir: Path) -> None:
    out = tokenize(SAMPLES, DataContext(model=make_hf_handle(tiny_bert_dir)), padding="longest")
    assert {sample["input_ids"].shape for sample in out} == {(8,)}


def test_truncation_and_text_pairs(make_hf_handle, tiny_bert_dir: Path) -> None:
    samples = [{"a": "hello world", "b": "the cat sat on the mat"}]
    out = tokenize(samples, DataContext(model=make_hf_handle(tiny_bert_dir)), text_field="a", text_pair_field="b", max_length=6)
    assert out[0]["input_ids"].shape == (6,) and out[0]["token_type_ids"].tolist().count(1) > 0
    assert set(out[0]) == {"input_ids", "attention_mask", "token_type_ids"}


def test_produces_exactly_the_models_inputs(make_hf_handle, tiny_bert_dir: Path) -> None:
    handle = make_hf_handle(tiny_bert_dir, io_config={"input_names": ["input_ids", "attention_mask"], "output_names": ["last_hidden_state"]})
    out = tokenize(SAMPLES, DataContext(model=handle), max_length=8)
    assert set(out[0]) == {"input_ids", "attention_mask", "label"}


def test_tokenizer_beside_a_converted_model(tiny_bert_dir: Path, tmp_path: Path) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tiny_bert_dir / name, tmp_path / name)
    (tmp_path / "model.onnx").write_bytes(b"")
    out = tokenize(SAMPLES, DataContext(model=ModelHandler(type="onnx", path=str(tmp_path / "model.onnx"))), max_length=8)
    assert out[1]["attention_mask"].sum() == 8


def test_tokenizer_from_the_config_relative_to_the_workflow(tiny_bert_dir: Path) -> None:
    context = DataContext(model=None, base_dir=tiny_bert_dir.parent)
    out = tokenize(SAMPLES, context, tokenizer=tiny_bert_dir.name, max_length=8)
    assert out[0]["input_ids"].shape == (8,)


def test_missing_text_field_is_named(make_hf_handle, tiny_bert_dir: Path) -> None:
    with pytest.raises(DataError, match="no text field 'sentence' \\(it has: text, label\\)") as error:
        tokenize(SAMPLES, DataContext(model=make_hf_handle(tiny_bert_dir), name="eval"), text_field="sentence")
    assert "text_field" in error.value.hint


def test_no_tokenizer_anywhere(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"")
    with pytest.raises(DataError, match="no tokenizer files"):
        tokenize(SAMPLES, DataContext(model=ModelHandler(type="onnx", path=str(tmp_path / "model.onnx"))))
    with pytest.raises(DataError, match="no model to take a tokenizer from"):
        tokenize(SAMPLES, DataContext(model=None))
