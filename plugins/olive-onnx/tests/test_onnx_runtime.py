"""ORT sessions: providers, settings and their precedence, input checks."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import ConfigError, DataError, ModelLoadError
from olive_core.models import ModelHandler
from olive_core.testing.steps import CPU

from olive_onnx import accelerators, runtime
from olive_onnx.model import OnnxModelType
from olive_onnx.runtime import create_session
from olive_onnx.settings import effective_settings
from olive_onnx.testing import bert_feed, onnx_handle



def test_session_runs_the_model(tiny_bert: ModelHandler) -> None:
    session = OnnxModelType().create_session(tiny_bert, CPU, {})
    assert session.input_names == ["input_ids", "attention_mask", "token_type_ids"]
    assert session.output_names == ["last_hidden_state"]
    (hidden,) = session.run(bert_feed(batch=3, sequence=5))
    assert hidden.shape == (3, 5, 32) and hidden.dtype == np.float32


def test_device_without_provider_uses_its_default(tiny_bert: ModelHandler) -> None:
    session = create_session(tiny_bert, AcceleratorSpec("cpu", None), {})
    assert session.provider == "CPUExecutionProvider"


def test_settings_are_applied(tiny_bert: ModelHandler) -> None:
    settings = {
        "intra_op_num_threads": 1,
        "inter_op_num_threads": 2,
        "execution_mode": "parallel",
        "graph_optimization_level": "basic",
        "session_config_entries": {"session.use_env_allocators": "0"},
    }
    session = create_session(tiny_bert, CPU, settings)
    options = session._session.get_session_options()
    import onnxruntime

    assert options.intra_op_num_threads == 1
    assert options.inter_op_num_threads == 2
    assert options.execution_mode == onnxruntime.ExecutionMode.ORT_PARALLEL
    assert options.graph_optimization_level == onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    assert options.get_session_config_entry("session.use_env_allocators") == "0"


def test_tuned_settings_are_used_and_explicit_ones_win(
    tiny_bert: ModelHandler, caplog: pytest.LogCaptureFixture
) -> None:
    tuned = tiny_bert.derive(attributes={"session_options": {"intra_op_num_threads": 1, "execution_mode": "parallel"}})
    assert effective_settings(tuned, {}).intra_op_num_threads == 1
    with caplog.at_level(logging.INFO, logger="olive_onnx.settings"):
        merged = effective_settings(tuned, {"intra_op_num_threads": 2})
    assert merged.intra_op_num_threads == 2  # the workflow's explicit value
    assert merged.execution_mode == "parallel"  # the tuned value, not overridden
    assert "overrides the tuned" in caplog.text
    options = create_session(tuned, CPU, {}).settings
    assert options.execution_mode == "parallel"


def test_unknown_setting_is_ignored_with_a_warning(tiny_bert: ModelHandler, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="olive_onnx.settings"):
        create_session(tiny_bert, CPU, {"torch_compile": True})
    assert "torch_compile" in caplog.text


def test_invalid_setting_value_names_the_setting(tiny_bert: ModelHandler) -> None:
    with pytest.raises(ConfigError, match="runtime.execution_mode: ONNX Runtime setting 'execution_mode'"):
        create_session(tiny_bert, CPU, {"execution_mode": "fast"})
    bad_tuning = tiny_bert.derive(attributes={"session_options": {"intra_op_num_threads": -1}})
    with pytest.raises(ConfigError, match="attributes.session_options.intra_op_num_threads"):
        create_session(bad_tuning, CPU, {})


@pytest.mark.parametrize(
    "accelerator, expected",
    [
        (AcceleratorSpec("gpu", "CUDAExecutionProvider"), "install onnxruntime-gpu"),
        (AcceleratorSpec("npu", "QNNExecutionProvider"), "pip install olive-qnn"),
    ],
)
def test_missing_execution_provider_lists_the_available_ones(
    tiny_bert: ModelHandler, monkeypatch: pytest.MonkeyPatch, accelerator: AcceleratorSpec, expected: str
) -> None:
    monkeypatch.setattr(accelerators, "available_providers", lambda: ["AzureExecutionProvider", "CPUExecutionProvider"])
    with pytest.raises(ConfigError) as raised:
        create_session(tiny_bert, accelerator, {})
    message = str(raised.value)
    assert "available providers: AzureExecutionProvider, CPUExecutionProvider" in message
    assert expected in message


def test_an_accelerator_without_a_provider_made_by_hand_is_named(tiny_bert: ModelHandler) -> None:
    with pytest.raises(ConfigError, match="accelerator 'gpu' names no execution provider"):
        create_session(tiny_bert, AcceleratorSpec("gpu", None), {})


@pytest.mark.filterwarnings("ignore:Specified provider 'CUDAExecutionProvider' is not in available provider names")
def test_a_provider_that_falls_back_to_cpu_is_an_error(
    tiny_bert: ModelHandler, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if onnxruntime-gpu were installed but CUDA failed to initialize: ORT would run on CPU.
    monkeypatch.setattr(accelerators, "available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    with pytest.raises(
        ModelLoadError, match="could not initialize CUDAExecutionProvider.*fell back to CPUExecutionProvider"
    ):
        create_session(tiny_bert, AcceleratorSpec("gpu", "CUDAExecutionProvider"), {})


@pytest.fixture
def bert_session(tiny_bert: ModelHandler) -> runtime.OnnxSession:
    return create_session(tiny_bert, CPU, {})


def test_missing_input_is_a_data_error(bert_session: runtime.OnnxSession) -> None:
    feed = bert_feed()
    del feed["token_type_ids"]
    with pytest.raises(DataError, match="'token_type_ids'.*was not given"):
        bert_session.run(feed)


def test_input_the_model_lacks_is_a_data_error(bert_session: runtime.OnnxSession) -> None:
    with pytest.raises(DataError, match="'label' is not an input.*input_ids, attention_mask, token_type_ids"):
        bert_session.run({**bert_feed(), "label": np.zeros(2)})


def test_wrong_dtype_is_a_data_error(bert_session: runtime.OnnxSession) -> None:
    feed = bert_feed()
    feed["input_ids"] = feed["input_ids"].astype(np.int32)
    with pytest.raises(DataError, match="'input_ids'.*expects dtype int64, given int32"):
        bert_session.run(feed)


def test_wrong_rank_is_a_data_error(bert_session: runtime.OnnxSession) -> None:
    feed = bert_feed()
    feed["attention_mask"] = feed["attention_mask"][0]
    with pytest.raises(
        DataError, match=r"'attention_mask'.*expects shape \['batch', 'sequence'\] \(rank 2\), given shape \[8\]"
    ):
        bert_session.run(feed)


def test_wrong_fixed_dimension_is_a_data_error(matmul_model: ModelHandler) -> None:
    session = create_session(matmul_model, CPU, {})
    with pytest.raises(DataError, match=r"'x'.*expects shape \['batch', 64\].*given shape \[2, 63\]"):
        session.run({"x": np.zeros((2, 63), dtype=np.float32)})
    (y,) = session.run({"x": np.ones((2, 64), dtype=np.float32)})
    assert y.shape == (2, 32)


def test_a_folder_handle_opens_its_model(matmul_model: ModelHandler) -> None:
    session = create_session(onnx_handle(Path(matmul_model.path).parent), CPU, {})
    assert session.input_names == ["x"]
