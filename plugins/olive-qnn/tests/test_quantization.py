"""QnnQuantization: QDQ for QNN's HTP, calibrated on a data config; float, static inputs only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import ConfigError, DataError, IncompatibleModelError
from olive_core.models.handler import ModelHandler
from olive_core.passes import PassContext
from olive_core.testing import PassContract
from olive_core.testing.steps import CPU

from olive_qnn.passes.quantization import QnnQuantization
from olive_qnn.testing import calibration, images, onnx_handle, qnn_accelerator, quantized, tiny_cnn_file


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def outputs(model: ModelHandler, accelerator: AcceleratorSpec, count: int = 4) -> list[np.ndarray]:
    from olive_onnx.model import OnnxModelType

    session = OnnxModelType().create_session(model, accelerator, {})
    return [session.run(feed)[0] for feed in images(count, seed=7)]


def check(model: ModelHandler, config: dict[str, Any], accelerator: AcceleratorSpec = CPU) -> None:
    QnnQuantization().check_input(model, QnnQuantization.Config(**config), PassContext(accelerator=accelerator, data=calibration()))


class TestQnnQuantizationContract(PassContract):
    pass_name = "QnnQuantization"
    configs = [
        {"data": "calib"},
        {"data": "calib", "activation_type": "uint8", "calibrate_method": "Entropy", "per_channel": False},
        {"data": "calib", "weight_type": "int16", "calibrate_method": "Percentile", "max_calibration_samples": 3},
    ]

    @pytest.fixture
    def input_model(self, tiny_cnn: ModelHandler) -> ModelHandler:
        return tiny_cnn

    def make_context(self) -> PassContext:
        return PassContext(accelerator=self.accelerator, step=self.pass_name, data=calibration())

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        graph = onnx.load(output_model.path, load_external_data=False).graph
        ops = {node.op_type for node in graph.node}
        assert {"QuantizeLinear", "DequantizeLinear"} <= ops
        activation = config.get("activation_type", "uint16")
        types = {t.data_type for t in graph.initializer if t.name.endswith("zero_point")}
        assert (onnx.TensorProto.UINT16 if activation == "uint16" else onnx.TensorProto.UINT8) in types
        if config.get("weight_type") == "int16":
            assert onnx.TensorProto.INT16 in types
        for want, got in zip(outputs(input_model, CPU), outputs(output_model, CPU)):
            assert cosine(want, got) > 0.99


@pytest.mark.parametrize("activation_type", ["uint8", "uint16"])
def test_the_qdq_model_runs_entirely_on_the_htp_simulator(
    tiny_cnn: ModelHandler, tmp_path: Path, qnn_npu: AcceleratorSpec, activation_type: str
) -> None:
    qdq = quantized(tiny_cnn, tmp_path / activation_type, activation_type=activation_type)
    for want, got in zip(outputs(tiny_cnn, CPU), outputs(qdq, qnn_npu)):  # CPU fallback is disabled
        assert cosine(want, got) > 0.99


def test_the_report_says_what_was_calibrated_and_quantized(tiny_cnn: ModelHandler, tmp_path: Path) -> None:
    the_pass = QnnQuantization()
    context = PassContext(accelerator=CPU, data=calibration())
    (tmp_path / "out").mkdir()
    the_pass.run(tiny_cnn, the_pass.Config(data="calib", max_calibration_samples=5), tmp_path / "out", context)
    report = context.report
    assert report["calibration_samples"] == 5 and report["activation_type"] == "uint16"
    assert report["quantized_ops"]["QuantizeLinear"] > 0
    # 16-bit activations before opset 21 go through com.microsoft Q/DQ; the notice is not printed
    assert report["qdq_domain"] == ["com.microsoft"] and report["opset"]["input"] == 17
    assert context.warnings == [] and sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model.onnx"]


def test_a_dynamic_input_is_refused_naming_it_and_pointing_to_qnn_preprocess(tmp_path: Path) -> None:
    model = onnx_handle(tiny_cnn_file(tmp_path / "dynamic", dynamic_batch=True))
    with pytest.raises(IncompatibleModelError, match=r"input 'x' axis 0 \('N'\) of .* is dynamic") as error:
        check(model, {"data": "calib"})
    assert "QnnPreprocess" in str(error.value.hint) and "'N': 1" in str(error.value.hint)


def test_a_quantized_model_is_refused(tiny_cnn_qdq: ModelHandler) -> None:
    with pytest.raises(IncompatibleModelError, match="needs a float model, but .* is already quantized"):
        check(tiny_cnn_qdq, {"data": "calib"})


def test_an_fp16_model_is_refused(tiny_cnn: ModelHandler, tmp_path: Path) -> None:
    from onnxruntime.transformers.float16 import convert_float_to_float16

    half = convert_float_to_float16(onnx.load(tiny_cnn.path))
    (tmp_path / "fp16").mkdir()
    onnx.save_model(half, str(tmp_path / "fp16" / "model.onnx"))
    with pytest.raises(IncompatibleModelError, match="needs an FP32 model"):
        check(onnx_handle(tmp_path / "fp16" / "model.onnx"), {"data": "calib"})


def test_calibration_data_must_be_named(tiny_cnn: ModelHandler) -> None:
    with pytest.raises(ConfigError, match="needs calibration data") as error:
        check(tiny_cnn, {})
    assert error.value.path == "data"


def test_calibration_data_that_does_not_fit_the_model_is_a_data_error(tiny_cnn: ModelHandler, tmp_path: Path) -> None:
    the_pass = QnnQuantization()
    context = PassContext(accelerator=CPU, data=lambda name: [{"image": np.zeros((1, 3, 16, 16), np.float32)}])
    (tmp_path / "out").mkdir()
    with pytest.raises(DataError, match="calibration data 'calib' has no field for model input 'x'"):
        the_pass.run(tiny_cnn, the_pass.Config(data="calib"), tmp_path / "out", context)


@pytest.mark.parametrize("options", [{}, {"htp_arch": "68"}])
def test_int16_weights_on_an_htp_older_than_v73_are_refused(tiny_cnn: ModelHandler, options: dict[str, str]) -> None:
    """Measured: the default HTP (v68) refuses 16-bit weights for MatMul and LayerNorm."""
    with pytest.raises(ConfigError, match="int16 weights need an HTP v73 or later") as error:
        check(tiny_cnn, {"data": "calib", "weight_type": "int16"}, qnn_accelerator(**options))
    assert error.value.path == "weight_type" and "htp_arch" in str(error.value.hint)


@pytest.mark.parametrize("options", [{"htp_arch": "73"}, {"htp_arch": "75"}, {"soc_model": "57"}])
def test_int16_weights_are_accepted_for_a_newer_htp(tiny_cnn: ModelHandler, options: dict[str, str]) -> None:
    check(tiny_cnn, {"data": "calib", "weight_type": "int16"}, qnn_accelerator(**options))
