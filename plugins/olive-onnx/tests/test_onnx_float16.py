"""OnnxFloat16: FP16 weights, IO types kept or converted, FP16 input refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto

from olive_core.errors import IncompatibleModelError
from olive_core.models import ModelHandler
from olive_core.models.io_config import IoConfig
from olive_core.testing import PassContract
from olive_core.testing.steps import CPU, run_pass

from olive_onnx.files import read_model_proto
from olive_onnx.inspect import float_precision
from olive_onnx.runtime import create_session
from olive_onnx.testing import bert_feed, matmul_graph, onnx_handle


class TestOnnxFloat16(PassContract):
    pass_name = "OnnxFloat16"
    configs = [{}, {"keep_io_types": False, "op_block_list": ["LayerNormalization"]}]

    @pytest.fixture
    def input_model(self, tiny_bert: ModelHandler) -> ModelHandler:
        return tiny_bert

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        graph = read_model_proto(Path(output_model.path))
        assert float_precision(graph) == "float16"
        assert any(t.data_type == TensorProto.FLOAT16 for t in graph.graph.initializer)
        output_type = graph.graph.output[0].type.tensor_type.elem_type
        keep = config.get("keep_io_types", True)
        assert output_type == (TensorProto.FLOAT if keep else TensorProto.FLOAT16)
        if keep:
            feed = bert_feed()
            (expected,) = create_session(input_model, CPU, {}).run(feed)
            (actual,) = create_session(output_model, CPU, {}).run(feed)
            np.testing.assert_allclose(actual, expected, atol=2e-2)


def test_refuses_an_fp16_model(save_onnx: Callable[..., Path], tmp_path: Path) -> None:
    model = onnx_handle(save_onnx(matmul_graph(weight_type=TensorProto.FLOAT16), "half.onnx"))
    with pytest.raises(IncompatibleModelError, match="half.onnx.*mostly FP16"):
        run_pass("OnnxFloat16", model, tmp_path / "out")


def test_float_inputs_become_fp16_in_the_io_config(matmul_model: ModelHandler, tmp_path: Path) -> None:
    model = matmul_model.model_copy(
        update={"io_config": IoConfig(input_names=["x"], input_shapes=[[1, 64]], input_types=["float32"])}
    )
    output, context = run_pass("OnnxFloat16", model, tmp_path, {"keep_io_types": False})
    assert output.io_config is not None and output.io_config.input_types == ["float16"]
    assert context.report["precision"] == "float16"
    (y,) = create_session(output, CPU, {}).run({"x": np.ones((1, 64), dtype=np.float16)})
    assert y.dtype == np.float16


def test_output_of_float16_is_refused_by_itself(tiny_bert: ModelHandler, tmp_path: Path) -> None:
    half, _ = run_pass("OnnxFloat16", tiny_bert, tmp_path / "a")
    with pytest.raises(IncompatibleModelError):
        run_pass("OnnxFloat16", half, tmp_path / "b")
    assert onnx.load(half.path) is not None
