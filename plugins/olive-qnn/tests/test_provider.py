"""The QNN provider on olive-onnx's `npu` device: registered apart, runs a QDQ model on the HTP simulator."""

from __future__ import annotations

import numpy as np
import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import ModelLoadError
from olive_core.models.handler import ModelHandler
from olive_core.testing import ExecutionProviderContract
from olive_qnn.testing import images


class TestQnnProviderContract(ExecutionProviderContract):
    provider_name = "QNNExecutionProvider"
    device = "npu"


def test_the_provider_carries_what_qnn_needs(qnn_npu: AcceleratorSpec) -> None:
    assert qnn_npu.device == "npu" and qnn_npu.execution_provider == "QNNExecutionProvider"
    assert qnn_npu.options() == {"backend_type": "htp"}
    assert qnn_npu.config_entries() == {"session.disable_cpu_ep_fallback": "1"}
    assert qnn_npu.library and qnn_npu.library.endswith(".so")
    assert qnn_npu.version and qnn_npu.version.startswith("qnn2.") and qnn_npu.version in qnn_npu.key()
    assert qnn_npu.simulated  # this machine is x86-64: the HTP is a simulator here


def test_a_qdq_model_runs_on_the_htp_simulator_like_on_the_cpu(tiny_cnn_qdq: ModelHandler, qnn_npu: AcceleratorSpec) -> None:
    from olive_onnx.model import OnnxModelType

    from olive_core.testing.steps import CPU

    npu = OnnxModelType().create_session(tiny_cnn_qdq, qnn_npu, {})
    cpu = OnnxModelType().create_session(tiny_cnn_qdq, CPU, {})
    assert npu.provider == "QNNExecutionProvider"
    for batch in images(3):
        expected, got = cpu.run(batch)[0], npu.run(batch)[0]
        cosine = float(np.dot(expected.ravel(), got.ravel()) / (np.linalg.norm(expected) * np.linalg.norm(got)))
        assert cosine > 0.99
    again = OnnxModelType().create_session(tiny_cnn_qdq, qnn_npu, {})  # the library registers once per process
    assert again.provider == "QNNExecutionProvider"


def test_a_model_with_ops_qnn_refuses_is_a_clear_error_without_cpu_fallback(tmp_path, qnn_npu: AcceleratorSpec) -> None:
    import onnx
    from onnx import TensorProto, helper

    from olive_onnx.model import OnnxModelType

    from olive_qnn.testing import onnx_handle

    graph = helper.make_graph(
        [helper.make_node("Erf", ["x"], ["y"], name="erf")],
        "erf",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save_model(model, str(tmp_path / "model.onnx"))
    with pytest.raises(ModelLoadError, match="on QNNExecutionProvider: .*fallback to CPU EP has been explicitly disabled"):
        OnnxModelType().create_session(onnx_handle(tmp_path / "model.onnx"), qnn_npu, {})
