"""OnnxInt4WeightOnly: MatMulNBits replaces MatMuls with constant weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from olive_core.models import ModelHandler
from olive_core.testing import PassContract
from olive_core.testing.steps import run_pass

from olive_onnx.files import read_model_proto
from olive_onnx.inspect import op_counts
from olive_onnx.testing import assert_close_to, onnx_handle


class TestOnnxInt4WeightOnly(PassContract):
    pass_name = "OnnxInt4WeightOnly"
    configs = [{}, {"block_size": 32, "symmetric": False, "accuracy_level": 4}]

    @pytest.fixture
    def input_model(self, tiny_bert: ModelHandler) -> ModelHandler:
        return tiny_bert

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        counts = op_counts(read_model_proto(Path(output_model.path)))
        # 2 layers x (query, key, value, attention output, intermediate, output)
        assert counts["MatMulNBits"] == 12
        assert_close_to(input_model, output_model, minimum=0.9)


def test_reports_and_excludes_nodes(matmul_model: ModelHandler, tmp_path: Path) -> None:
    output, context = run_pass("OnnxInt4WeightOnly", matmul_model, tmp_path / "a")
    assert context.report["MatMulNBits"] == 1
    kept, context = run_pass("OnnxInt4WeightOnly", matmul_model, tmp_path / "b", {"nodes_to_exclude": ["matmul"]})
    assert context.report["MatMulNBits"] == 0
    assert "no MatMul was quantized" in context.warnings[0]
    assert op_counts(read_model_proto(Path(kept.path)))["MatMul"] == 1
    assert onnx_handle(output.path).path.endswith("model.onnx")
