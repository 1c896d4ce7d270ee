"""QnnPreprocess: dynamic dims fixed to the sizes given (or refused by name), then ORT's QNN preprocessing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from olive_core.errors import ConfigError
from olive_core.models.handler import ModelHandler
from olive_core.passes import PassContext
from olive_core.testing import PassContract
from olive_core.testing.steps import CPU

from olive_qnn.passes.preprocess import QnnPreprocess
from olive_qnn.testing import gelu_cnn_file, images, onnx_file, onnx_handle, tiny_bert_file, tiny_cnn_file


def dims(model_file: str | Path) -> dict[str, list[int | str]]:
    """Each graph input's and output's dims (a size, or the symbolic name)."""
    graph = onnx.load(str(model_file), load_external_data=False).graph
    return {
        value.name: [d.dim_value if d.HasField("dim_value") else d.dim_param for d in value.type.tensor_type.shape.dim]
        for value in [*graph.input, *graph.output]
    }


def run(model: ModelHandler, tmp_path: Path, **config: Any) -> tuple[ModelHandler, PassContext]:
    the_pass, context = QnnPreprocess(), PassContext(accelerator=CPU, step="preprocess")
    settings = the_pass.Config(**config)
    the_pass.check_input(model, settings, context)
    output = tmp_path / "out"
    output.mkdir()
    return the_pass.run(model, settings, output, context), context


@pytest.fixture(scope="module")
def dynamic_cnn(tmp_path_factory: pytest.TempPathFactory) -> ModelHandler:
    return onnx_handle(tiny_cnn_file(tmp_path_factory.mktemp("dynamic"), dynamic_batch=True))


class TestQnnPreprocessContract(PassContract):
    pass_name = "QnnPreprocess"
    configs = [{"dim_values": {"N": 1}}, {"input_shapes": {"x": [1, 3, 16, 16]}}, {"dim_values": {"N": 2}, "fuse_layernorm": True}]

    @pytest.fixture
    def input_model(self, dynamic_cnn: ModelHandler) -> ModelHandler:
        return dynamic_cnn

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        batch = config.get("dim_values", {}).get("N", 1)
        assert dims(output_model.path) == {"x": [batch, 3, 16, 16], "y": [batch, 4]}


def test_fixed_shapes_compute_what_the_dynamic_model_computes(dynamic_cnn: ModelHandler, tmp_path: Path) -> None:
    import onnxruntime

    fixed, context = run(dynamic_cnn, tmp_path, dim_values={"N": 1})
    assert context.report["fixed_dims"] == {"N": 1} and context.warnings == []
    before = onnxruntime.InferenceSession(dynamic_cnn.path, providers=["CPUExecutionProvider"])
    after = onnxruntime.InferenceSession(fixed.path, providers=["CPUExecutionProvider"])
    for feed in images(3):
        np.testing.assert_allclose(after.run(None, feed)[0], before.run(None, feed)[0], rtol=1e-5, atol=1e-6)


def test_erf_sequences_become_gelu_and_the_report_says_so(tmp_path: Path) -> None:
    model = onnx_handle(gelu_cnn_file(tmp_path / "gelu"))
    output, context = run(model, tmp_path)
    ops = {node.op_type for node in onnx.load(output.path).graph.node}
    assert "Gelu" in ops and "Erf" not in ops
    assert context.report["preprocessed"] is True
    assert context.report["ops_changed"]["Erf"] == -1 and context.report["ops_changed"]["Gelu"] == 1
    assert context.report["fixed_dims"] == {} and context.report["fixed_inputs"] == {}


def test_the_preprocessed_model_still_loads_on_the_cpu_at_full_optimization(tmp_path: Path) -> None:
    """ORT's preprocessing adds MatMul+Add fusion shape initializers whose names the same fusion
    picks again when a CPU session loads the model ('Attempt to replace the existing tensor')."""
    import onnxruntime

    model = onnx_handle(tiny_bert_file(tmp_path / "bert"))
    output, context = run(model, tmp_path)
    assert context.report["ops_changed"]["Gelu"] == 1
    feed = {name: np.ones((1, 16), np.int64) for name in ("input_ids", "attention_mask", "token_type_ids")}
    feed["attention_mask"][0, 10:] = 0
    before = onnxruntime.InferenceSession(model.path, providers=["CPUExecutionProvider"]).run(None, feed)[0]
    after = onnxruntime.InferenceSession(output.path, providers=["CPUExecutionProvider"]).run(None, feed)[0]
    np.testing.assert_allclose(after, before, atol=1e-4)


def test_a_static_model_with_nothing_to_fuse_passes_through_with_a_warning(tmp_path: Path) -> None:
    model = onnx_handle(tiny_cnn_file(tmp_path / "static"))
    output, context = run(model, tmp_path)
    assert dims(output.path) == dims(model.path)
    assert context.warnings == ["nothing to do: the inputs are static and the preprocessing changed nothing"]


def test_input_shapes_size_unnamed_dims_too(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    source = onnx_file(
        tmp_path / "unnamed",
        [helper.make_node("Relu", ["x"], ["y"], name="relu")],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])],
    )
    model = onnx_handle(source)
    with pytest.raises(ConfigError, match=r"input 'x' axis 0 \(unnamed\) is dynamic") as error:
        run(model, tmp_path / "refused")
    assert error.value.path == "input_shapes" and "input_shapes: {'x': [...]}" in str(error.value.hint)
    output, context = run(model, tmp_path, input_shapes={"x": [2, 4]})
    assert dims(output.path) == {"x": [2, 4], "y": [2, 4]} and context.report["fixed_inputs"] == {"x": [2, 4]}


@pytest.mark.parametrize(
    "config, path, message",
    [
        ({}, "dim_values", r"input 'x' axis 0 \('N'\) is dynamic and the config gives it no size"),
        ({"dim_values": {"batch": 1}}, "dim_values.batch", "no input of the model has a dim named 'batch'; its dynamic dims are N"),
        ({"input_shapes": {"image": [1, 3, 16, 16]}}, "input_shapes.image", "'image' is not an input of the model; its inputs are x"),
        ({"input_shapes": {"x": [1, 3, 16]}}, "input_shapes.x", "input 'x' has rank 4, but input_shapes gives 3 sizes"),
        ({"input_shapes": {"x": [1, 3, 16, 32]}}, "input_shapes.x", "input 'x' axis 3 is fixed at 16, but input_shapes gives 32"),
        ({"dim_values": {"N": 2}, "input_shapes": {"x": [1, 3, 16, 16]}}, "dim_values.N", "dim 'N' is given two sizes, 1 and 2"),
    ],
)
def test_config_mistakes_name_the_input_and_the_dim_before_any_work(
    dynamic_cnn: ModelHandler, tmp_path: Path, config: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        QnnPreprocess().check_input(dynamic_cnn, QnnPreprocess.Config(**config), PassContext(accelerator=CPU))
    assert error.value.path == path


def test_a_misspelled_dim_name_gets_a_suggestion(dynamic_cnn: ModelHandler) -> None:
    with pytest.raises(ConfigError) as error:
        QnnPreprocess().check_input(dynamic_cnn, QnnPreprocess.Config(dim_values={"n": 1}), PassContext(accelerator=CPU))
    assert error.value.hint == "did you mean 'N'?"


def test_sizes_are_bounded_by_the_config() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        QnnPreprocess.Config(dim_values={"N": 0})
    with pytest.raises(ValidationError):
        QnnPreprocess.Config(input_shapes={"x": [1, -1]})
