"""The torch runtime: numpy in, numpy out, the same numbers as the model itself."""

from __future__ import annotations

import numpy as np
import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import DataError, ModelLoadError
from olive_torch.hf_model import HfModelType
from olive_torch.io import dummy_inputs
from olive_torch.loading import load_torch_model

CPU = AcceleratorSpec("cpu", "CPUExecutionProvider")


def test_session_matches_the_model(make_hf_handle, tiny_classifier_dir) -> None:
    import torch

    handle = make_hf_handle(tiny_classifier_dir, task="text-classification")
    session = HfModelType().create_session(handle, CPU, {})
    assert session.input_names == ["input_ids", "attention_mask", "token_type_ids"]
    assert session.output_names == ["logits"]
    inputs = dummy_inputs(handle, batch_size=3, sequence_length=6)
    (logits,) = session.run({name: tensor.numpy() for name, tensor in inputs.items()})
    with torch.no_grad():
        expected = load_torch_model(handle)(**inputs).logits.numpy()
    assert logits.shape == (3, 3) and isinstance(logits, np.ndarray)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)


def test_thread_settings_are_applied(make_hf_handle, tiny_bert_dir) -> None:
    import torch

    before = torch.get_num_threads()
    try:
        handle = make_hf_handle(tiny_bert_dir)
        session = HfModelType().create_session(handle, CPU, {"intra_op_num_threads": 1, "graph_optimization_level": 99})
        torch.set_num_threads(2)
        session.run({name: t.numpy() for name, t in dummy_inputs(handle).items()})
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_a_missing_input_is_named(make_hf_handle, tiny_bert_dir) -> None:
    session = HfModelType().create_session(make_hf_handle(tiny_bert_dir), CPU, {})
    with pytest.raises(DataError, match="'token_type_ids'"):
        session.run({"input_ids": np.zeros((1, 4), np.int64), "attention_mask": np.ones((1, 4), np.int64)})


def test_gpu_without_cuda_is_a_clear_error(make_hf_handle, tiny_bert_dir) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ModelLoadError, match="no CUDA device"):
        HfModelType().create_session(make_hf_handle(tiny_bert_dir), AcceleratorSpec("gpu", "CUDAExecutionProvider"), {})
    with pytest.raises(ModelLoadError, match="runs on 'cpu' or 'gpu'"):
        HfModelType().create_session(make_hf_handle(tiny_bert_dir), AcceleratorSpec("npu", "QNNExecutionProvider"), {})


def test_text_generation_runs_without_the_cache(make_hf_handle, tiny_gpt2_dir) -> None:
    handle = make_hf_handle(tiny_gpt2_dir, task="text-generation")
    assert handle.io_config.input_names == ["input_ids", "attention_mask"]
    session = HfModelType().create_session(handle, CPU, {})
    (logits,) = session.run({name: t.numpy() for name, t in dummy_inputs(handle, sequence_length=5).items()})
    assert logits.shape == (2, 5, 100)
