"""Dummy inputs: shapes, dtypes and values that exporters can trace faithfully."""

from __future__ import annotations

import pytest

from olive_core.errors import ConfigError
from olive_core.models.handler import ModelHandler
from olive_torch.io import dummy_inputs, hf_io_config


def test_default_dummy_inputs_follow_the_io_config(make_hf_handle, tiny_bert_dir) -> None:
    import torch

    inputs = dummy_inputs(make_hf_handle(tiny_bert_dir))
    assert list(inputs) == ["input_ids", "attention_mask", "token_type_ids"]
    assert all(t.shape == (2, 8) and t.dtype == torch.int64 for t in inputs.values())
    assert int(inputs["input_ids"].max()) < 100
    # The first row is full, later rows are padded, so a trace keeps the masking.
    assert inputs["attention_mask"][0].all() and not inputs["attention_mask"][1].all()


def test_batch_and_sequence_overrides_resize_dynamic_axes(make_hf_handle, tiny_bert_dir) -> None:
    import torch

    handle = make_hf_handle(tiny_bert_dir)
    inputs = dummy_inputs(handle, batch_size=3, sequence_length=16)
    assert all(t.shape == (3, 16) for t in inputs.values())
    again = dummy_inputs(handle, batch_size=3, sequence_length=16)
    assert torch.equal(inputs["input_ids"], again["input_ids"]), "dummy inputs must be deterministic"


def test_a_static_input_keeps_its_shape(tiny_net_io) -> None:
    handle = ModelHandler(type="pytorch", path="x", io_config={**tiny_net_io, "dynamic_axes": None})
    assert dummy_inputs(handle, batch_size=7)["x"].shape == (2, 4)


def test_no_shapes_means_no_dummy_inputs() -> None:
    handle = ModelHandler(type="pytorch", path="x", io_config={"input_names": ["x"], "output_names": ["y"]})
    with pytest.raises(ConfigError, match="no input_shapes") as error:
        dummy_inputs(handle)
    assert "io_config.input_shapes" in str(error.value)


def test_a_model_without_token_types_takes_none() -> None:
    io = hf_io_config({"model_type": "roberta", "type_vocab_size": 1}, "text-classification")
    assert io.input_names == ["input_ids", "attention_mask"] and io.output_names == ["logits"]
