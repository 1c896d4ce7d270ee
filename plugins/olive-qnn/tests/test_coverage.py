"""npu_coverage: the share of nodes QNN places on the NPU, the rest named in a warning."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import ConfigError, IncompatibleModelError, ModelLoadError
from olive_core.evaluation.metric import MetricContext
from olive_core.models.handler import ModelHandler
from olive_core.testing import MetricContract
from olive_core.testing.steps import CPU

from olive_qnn.coverage import NpuCoverageMetric
from olive_qnn.testing import det_model_file, gelu_cnn_file, onnx_handle, qnn_accelerator, quantized


def context_for(model: ModelHandler, accelerator: AcceleratorSpec | None = None) -> MetricContext:
    from olive_onnx.model import OnnxModelType

    def no_session() -> None:
        raise AssertionError("npu_coverage opens its own session")

    return MetricContext(model=model, model_type=OnnxModelType(), accelerator=accelerator or qnn_accelerator(), session=no_session)


def measure(model: ModelHandler, accelerator: AcceleratorSpec | None = None, **config: int) -> dict[str, float]:
    return NpuCoverageMetric().measure(NpuCoverageMetric.Config(**config), context_for(model, accelerator))


class TestNpuCoverageContract(MetricContract):
    metric_name = "npu_coverage"
    configs = [{}, {"show_nodes": 1}]

    @pytest.fixture
    def context(self, tiny_cnn_qdq: ModelHandler) -> MetricContext:
        return context_for(tiny_cnn_qdq)


def test_a_qdq_model_qnn_takes_whole_is_fully_covered_including_its_io_quantization(tiny_cnn_qdq: ModelHandler, caplog) -> None:
    """With fallback enabled QNN would hand the first Q and last DQ to the CPU; runs keep them on the NPU."""
    with caplog.at_level(logging.WARNING):
        assert measure(tiny_cnn_qdq) == {"coverage": 1.0, "cpu_nodes": 0.0}
    assert not caplog.records


def test_a_float_model_qnn_takes_whole_is_covered_too(tiny_cnn: ModelHandler) -> None:
    assert measure(tiny_cnn)["coverage"] == 1.0


def test_an_op_qnn_refuses_is_counted_and_named(tmp_path: Path, caplog) -> None:
    qdq = quantized(onnx_handle(det_model_file(tmp_path / "det")), tmp_path / "qdq", shape=(1, 4, 2, 2))
    with caplog.at_level(logging.WARNING, logger="olive_qnn.coverage"):
        values = measure(qdq)
    assert values["cpu_nodes"] == 1.0 and 0.8 < values["coverage"] < 1.0
    assert "run on the CPU, not on the NPU: Det x1 (the_det)" in caplog.text


def test_unfused_erf_goes_to_the_cpu_with_its_qdq_nodes(tmp_path: Path, caplog) -> None:
    qdq = quantized(onnx_handle(gelu_cnn_file(tmp_path / "gelu")), tmp_path / "qdq")
    with caplog.at_level(logging.WARNING, logger="olive_qnn.coverage"):
        values = measure(qdq, show_nodes=1)
    assert values["cpu_nodes"] == 3.0
    assert "Erf x1 (/1/Erf); DequantizeLinear x1" in caplog.text


def test_a_compiled_model_counts_its_epcontext_nodes(tiny_cnn_qdq: ModelHandler, tmp_path: Path) -> None:
    from olive_core.passes import PassContext

    from olive_qnn.passes.context_binary import QnnContextBinary

    (tmp_path / "out").mkdir()
    compiled = QnnContextBinary().run(tiny_cnn_qdq, QnnContextBinary.Config(), tmp_path / "out", PassContext(accelerator=qnn_accelerator()))
    assert measure(compiled) == {"coverage": 1.0, "cpu_nodes": 0.0}


def test_another_accelerator_is_a_config_error(tiny_cnn_qdq: ModelHandler) -> None:
    with pytest.raises(ConfigError, match="measures placement on QNNExecutionProvider, but this run targets cpu") as error:
        measure(tiny_cnn_qdq, CPU)
    assert error.value.path == "accelerators"


def test_a_model_that_is_not_onnx_is_refused(tiny_cnn: ModelHandler) -> None:
    with pytest.raises(IncompatibleModelError, match="measures ONNX models on QNN; .* is a 'pytorch' model"):
        measure(tiny_cnn.model_copy(update={"type": "pytorch"}))


def test_a_graph_qnn_cannot_finalize_names_the_ops_that_cause_it(tmp_path: Path) -> None:
    """Measured: a float Gather (an embedding table) fails QNN's finalize, even with CPU fallback,
    unless a soc_model is set."""
    from olive_qnn.testing import onnx_file
    from onnx import TensorProto, helper, numpy_helper

    table = numpy_helper.from_array(np.linspace(0, 1, 32, dtype=np.float32).reshape(8, 4), "table")
    model = onnx_handle(
        onnx_file(
            tmp_path / "gather",
            [helper.make_node("Gather", ["table", "ids"], ["y"], name="embeddings")],
            [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 3])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4])],
            [table],
        )
    )
    with pytest.raises(ModelLoadError, match=r"QNN_COMMON_ERROR_MEM_ALLOC.*Gather 'embeddings'") as error:
        measure(model)
    assert "soc_model" in str(error.value.hint)
    assert measure(model, qnn_accelerator(soc_model="57")) == {"coverage": 1.0, "cpu_nodes": 0.0}
