"""Tiny models for the HTP simulator, built in the tests (no downloads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.models.handler import ModelHandler

CPU = AcceleratorSpec("cpu", "CPUExecutionProvider")


@pytest.fixture(scope="session")
def qnn_npu() -> AcceleratorSpec:
    """The npu accelerator with QNN, as validation resolves it from the registered provider."""
    from olive_core.config.validation import accelerator_spec
    from olive_core.plugins import create_plugin_manager

    provider = create_plugin_manager().registry.load("execution_provider", "QNNExecutionProvider")
    return accelerator_spec(provider)


def tiny_cnn_file(folder: Path, dynamic_batch: bool = False) -> Path:
    """Conv/Relu/MaxPool twice and a Gemm, 1x3x16x16 -> 1x4: every op QNN's HTP takes."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 4),
    ).eval()  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "model.onnx"
    axes = {"x": {0: "N"}, "y": {0: "N"}} if dynamic_batch else None
    torch.onnx.export(model, (torch.randn(1, 3, 16, 16),), str(target), input_names=["x"], output_names=["y"], dynamic_axes=axes, opset_version=17, dynamo=False)
    return target


def onnx_handle(model_file: Path) -> ModelHandler:
    from olive_onnx.model import OnnxModelType

    model_type = OnnxModelType()
    handle = model_type.create_handle("input_model", model_type.Config(model_path=str(model_file)), model_file.parent)
    return handle.model_copy(update={"id": model_type.content_id(handle)})


def images(count: int = 8, seed: int = 0) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [{"x": rng.standard_normal((1, 3, 16, 16), dtype=np.float32)} for _ in range(count)]


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
