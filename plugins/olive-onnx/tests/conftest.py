"""Models for the olive-onnx tests: a tiny BERT exported once per session, and small hand-built graphs.

The builders live in olive_onnx.testing, which tests import by name; these are their fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import onnx
import pytest

from olive_core.models import ModelHandler
from olive_onnx.testing import HIDDEN_SIZE, NUM_HEADS, export_tiny_bert, matmul_graph, onnx_handle

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_bert_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT (hidden 32, 2 heads), TorchScript-exported with dynamic batch and sequence."""
    return export_tiny_bert(tmp_path_factory.mktemp("tiny-bert") / "model.onnx")


@pytest.fixture
def tiny_bert(tiny_bert_file: Path) -> ModelHandler:
    return onnx_handle(tiny_bert_file)


@pytest.fixture(scope="session")
def fused_bert_file(tiny_bert_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT after ORT's transformer fusions (Attention, SkipLayerNorm, ...)."""
    from onnxruntime.transformers import optimizer

    target = tmp_path_factory.mktemp("fused-bert") / "model.onnx"
    fused = optimizer.optimize_model(
        str(tiny_bert_file), model_type="bert", num_heads=NUM_HEADS, hidden_size=HIDDEN_SIZE
    )
    fused.save_model_to_file(str(target))
    return target


@pytest.fixture
def fused_bert(fused_bert_file: Path) -> ModelHandler:
    return onnx_handle(fused_bert_file)


@pytest.fixture
def save_onnx(tmp_path: Path) -> Callable[..., Path]:
    """Save a ModelProto under tmp_path: ``save_onnx(model, "name.onnx", external=False)``."""

    def save(model: onnx.ModelProto, name: str = "model.onnx", external: bool = False) -> Path:
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if external:
            onnx.save_model(
                model, str(target), save_as_external_data=True, location=f"{target.name}.data", size_threshold=0
            )
        else:
            onnx.save_model(model, str(target))
        return target

    return save


@pytest.fixture
def matmul_model(save_onnx: Callable[..., Path]) -> ModelHandler:
    return onnx_handle(save_onnx(matmul_graph(), "matmul/model.onnx"))
