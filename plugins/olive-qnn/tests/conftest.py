"""Tiny models for the HTP simulator, built once per session by olive_qnn.testing's builders."""

from __future__ import annotations

import numpy as np
import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.models.handler import ModelHandler
from olive_qnn.testing import images, onnx_handle, qnn_accelerator, tiny_cnn_file


@pytest.fixture(scope="session")
def qnn_npu() -> AcceleratorSpec:
    return qnn_accelerator()


@pytest.fixture(scope="session")
def tiny_cnn(tmp_path_factory: pytest.TempPathFactory) -> ModelHandler:
    return onnx_handle(tiny_cnn_file(tmp_path_factory.mktemp("cnn")))


@pytest.fixture(scope="session")
def tiny_cnn_qdq(tiny_cnn: ModelHandler, tmp_path_factory: pytest.TempPathFactory) -> ModelHandler:
    """The CNN quantized for QNN by onnxruntime's own QNN helper (u8 activations and weights)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantType, quantize
    from onnxruntime.quantization.execution_providers.qnn import get_qnn_qdq_config

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(images())

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    folder = tmp_path_factory.mktemp("cnn-qdq")
    config = get_qnn_qdq_config(tiny_cnn.path, Reader(), activation_type=QuantType.QUInt8, weight_type=QuantType.QUInt8)
    quantize(tiny_cnn.path, str(folder / "model.onnx"), config)
    return onnx_handle(folder / "model.onnx")
