"""The QNN flow through olive_core.run: a small CNN end to end on the HTP simulator, and the
mistakes validation stops before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

import olive_core
from olive_core.errors import ConfigError, ConfigErrors
from olive_qnn.testing import cnn_workflow


def test_a_cnn_is_quantized_and_compiled_for_the_htp_simulator(tmp_path: Path) -> None:
    result = olive_core.run(cnn_workflow(tmp_path))
    assert result.ok and len(result.candidates) == 2, [c.error for c in result.candidates]
    for candidate in result.candidates:
        values = candidate.evaluation.values
        assert values["npu-coverage"] == 1.0 and values["npu-cpu_nodes"] == 0.0
        assert values["similarity-cosine_mean"] > 0.99
    assert result.input_evaluation.values["npu-coverage"] == 1.0  # the float CNN runs on the HTP too

    record = json.loads((tmp_path / "output" / "run.json").read_text())
    compiled = [step for step in record["models"].values() if step["step"] == "compile"]
    assert len(compiled) == 2 and all(step["report"]["ep_sdk_version"].startswith("v2.") for step in compiled)
    assert all(step["accelerator"].startswith("npu-QNNExecutionProvider-qnn2.") for step in compiled)
    nodes = onnx.load(str(tmp_path / "output" / "model" / "model.onnx"), load_external_data=False).graph.node
    assert [node.op_type for node in nodes] == ["EPContext"]

    again = olive_core.run(cnn_workflow(tmp_path))  # every step and evaluation comes from the cache
    assert again.ok and {step.status for step in again.steps.values()} == {"cached"}


def test_dynamic_dims_left_in_the_model_stop_quantization_with_the_fix(tmp_path: Path) -> None:
    """No metric (a dynamic model cannot run on QNN to be compared with) and no preprocessing."""
    config = cnn_workflow(tmp_path, dynamic=True, metrics=[])
    del config["passes"]["preprocess"]
    result = olive_core.run(config)
    assert not result.ok
    for candidate in result.candidates:
        assert "QnnQuantization needs fixed input shapes" in candidate.error
        assert "input 'x' axis 0 ('N')" in candidate.error and "QnnPreprocess" in candidate.error


def test_the_dims_fixed_by_qnn_preprocess_let_the_chain_through(tmp_path: Path) -> None:
    config = cnn_workflow(tmp_path, dynamic=True, metrics=[])
    config["passes"]["quantize"]["config"] = {"data": "images", "activation_type": "uint8"}
    config["data"]["images"]["load"]["config"]["shapes"] = {"x": [3, 16, 16]}
    result = olive_core.run(config)
    assert result.ok, [c.error for c in result.candidates]
    preprocess = next(step for step in result.steps.values() if step.step == "preprocess")
    assert preprocess.report["fixed_dims"] == {"N": 1}


def test_a_qnn_pass_on_a_cpu_accelerator_is_refused_before_anything_runs(tmp_path: Path) -> None:
    config = cnn_workflow(tmp_path, accelerators=[{"device": "cpu"}], metrics=[])
    with pytest.raises(ConfigError, match=r"passes\.compile\.type: QnnContextBinary runs on npu only, but the workflow targets 'cpu'"):
        olive_core.run(config)
    assert not (tmp_path / "cache").exists() and not (tmp_path / "output").exists()


def test_a_qnn_pass_among_several_accelerators_names_the_one_it_cannot_use(tmp_path: Path) -> None:
    accelerators = [{"device": "npu", "provider": "QNNExecutionProvider"}, {"device": "cpu"}]
    with pytest.raises((ConfigError, ConfigErrors), match="targets 'cpu'"):
        olive_core.run(cnn_workflow(tmp_path, accelerators=accelerators, metrics=[]))
    assert not (tmp_path / "cache").exists()


def test_a_provider_no_plugin_registered_is_a_validation_error_with_a_suggestion(tmp_path: Path) -> None:
    config = cnn_workflow(tmp_path, accelerators=[{"device": "npu", "provider": "QnnExecutionProvider"}])
    with pytest.raises(ConfigError, match="unknown execution provider 'QnnExecutionProvider'") as error:
        olive_core.run(config)
    assert "did you mean 'QNNExecutionProvider'?" in str(error.value)
    assert not (tmp_path / "cache").exists()


def test_the_qnn_provider_on_the_wrong_device_is_a_validation_error(tmp_path: Path) -> None:
    config = cnn_workflow(tmp_path, accelerators=[{"device": "gpu", "provider": "QNNExecutionProvider"}])
    with pytest.raises(ConfigError, match="'QNNExecutionProvider' runs on 'npu', not on 'gpu'"):
        olive_core.run(config)


def _without_onnxruntime_qnn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make onnxruntime-qnn look uninstalled (olive-qnn's entry points stay registered)."""
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name == "onnxruntime_qnn" else find_spec(name, *args))


def test_qnn_named_without_onnxruntime_qnn_installed_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _without_onnxruntime_qnn(monkeypatch)
    with pytest.raises(ConfigError, match="execution provider 'QNNExecutionProvider' is not available on this machine") as error:
        olive_core.run(cnn_workflow(tmp_path))
    assert "pip install olive-qnn" in str(error.value)
    assert not (tmp_path / "cache").exists() and not (tmp_path / "output").exists()


def test_an_npu_run_without_any_npu_provider_installed_names_the_registered_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _without_onnxruntime_qnn(monkeypatch)
    with pytest.raises(ConfigError, match=r"no execution provider of 'npu' is available here \(.*QNNExecutionProvider") as error:
        olive_core.run(cnn_workflow(tmp_path, accelerators=[{"device": "npu"}]))
    assert "install the plugin (and package) of a provider" in str(error.value)
    assert not (tmp_path / "output").exists()
