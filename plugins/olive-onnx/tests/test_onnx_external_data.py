"""Large models: every pass reads external data and writes its output with external data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import onnx
import pytest

from olive_core.models import ModelHandler
from olive_core.testing.steps import run_pass

from olive_onnx import files
from olive_onnx.model import OnnxModelType
from olive_onnx.testing import assert_close_to, bert_feed, onnx_handle

PASSES = {
    "OnnxTransformersOptimization": {},
    "OnnxDynamicQuantization": {},
    "OnnxStaticQuantization": {"data": "calib", "op_types_to_quantize": ["MatMul"]},
    "OnnxFloat16": {},
    "OnnxInt4WeightOnly": {},
    "OnnxGraphOptimization": {},
}


@pytest.fixture
def external_bert(tiny_bert_file: Path, save_onnx: Callable[..., Path]) -> ModelHandler:
    """The tiny BERT saved with its weights in model.onnx.data."""
    return onnx_handle(save_onnx(onnx.load(str(tiny_bert_file)), "external/model.onnx", external=True))


@pytest.mark.parametrize("pass_name", list(PASSES))
def test_large_models_keep_their_weights_beside_the_model(
    pass_name: str, external_bert: ModelHandler, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Treat every model as over protobuf's 2 GB limit, so the external-data paths run on a tiny one.
    monkeypatch.setattr(files, "EXTERNAL_DATA_THRESHOLD", 0)
    output_dir = tmp_path / "out"
    output, _ = run_pass(pass_name, external_bert, output_dir, PASSES[pass_name], data=lambda name: [bert_feed()])
    model_type = OnnxModelType()
    model_type.check(output)
    written = model_type.model_files(output)
    assert written[0] == output_dir.resolve() / "model.onnx"
    assert len(written) == 2 and written[1].parent == output_dir.resolve(), written
    assert sorted(p.name for p in output_dir.iterdir()) == sorted(p.name for p in written)
    assert_close_to(external_bert, output, minimum=0.9)
