"""OnnxDynamicQuantization and OnnxStaticQuantization: outputs, calibration data, refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from onnx import TensorProto, helper

from olive_core.errors import ConfigError, DataError, IncompatibleModelError, PassError
from olive_core.models import ModelHandler
from olive_core.passes import PassContext
from olive_core.testing import PassContract
from olive_core.testing.steps import run_pass

from olive_onnx.files import read_model_proto
from olive_onnx.inspect import op_counts
from olive_onnx.testing import assert_close_to, bert_feed, matmul_graph, onnx_handle


def calibration_data(batches: int = 4, batch_size: int = 2) -> Callable[[str], list[dict[str, np.ndarray]]]:
    def data(name: str) -> list[dict[str, np.ndarray]]:
        assert name == "calib"
        return [bert_feed(batch_size, 8, seed=i) for i in range(batches)]

    return data


class TestOnnxDynamicQuantization(PassContract):
    pass_name = "OnnxDynamicQuantization"
    configs = [
        {},
        {"per_channel": False, "reduce_range": True, "weight_type": "QUInt8", "op_types_to_quantize": ["MatMul"]},
    ]

    @pytest.fixture
    def input_model(self, tiny_bert: ModelHandler) -> ModelHandler:
        return tiny_bert

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        counts = op_counts(read_model_proto(Path(output_model.path)))
        assert counts["MatMulInteger"] == 12 and counts["DynamicQuantizeLinear"] > 0
        assert_close_to(input_model, output_model)


class TestOnnxDynamicQuantizationOfAFusedGraph(TestOnnxDynamicQuantization):
    """ORT-fused graphs need DefaultTensorType (ENVIRONMENT.md): the pass sets it."""

    configs = [{}]

    @pytest.fixture
    def input_model(self, fused_bert: ModelHandler) -> ModelHandler:
        return fused_bert

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        counts = op_counts(read_model_proto(Path(output_model.path)))
        assert counts["QAttention"] == 2 and counts["MatMulInteger"] == 6
        assert_close_to(input_model, output_model)


class TestOnnxStaticQuantization(PassContract):
    pass_name = "OnnxStaticQuantization"
    configs = [
        {"data": "calib"},
        {
            "data": "calib",
            "quant_format": "QOperator",
            "calibrate_method": "Entropy",
            "op_types_to_quantize": ["MatMul"],
        },
        {"data": "calib", "calibrate_method": "Percentile", "op_types_to_quantize": ["MatMul"], "per_channel": False},
    ]

    @pytest.fixture
    def input_model(self, tiny_bert: ModelHandler) -> ModelHandler:
        return tiny_bert

    def make_context(self) -> PassContext:
        return PassContext(accelerator=self.accelerator, step=self.pass_name, data=calibration_data())

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        counts = op_counts(read_model_proto(Path(output_model.path)))
        if config.get("quant_format") == "QOperator":
            assert counts["QLinearMatMul"] == 16
        else:
            assert counts["QuantizeLinear"] > 0 and counts["DequantizeLinear"] > 0
        assert_close_to(input_model, output_model, minimum=0.9)


class TestOnnxStaticQuantizationOfAFusedGraph(TestOnnxStaticQuantization):
    """Fused ops need symbolic shape inference first, or nothing gets quantized."""

    configs = [{"data": "calib", "op_types_to_quantize": ["MatMul"]}]

    @pytest.fixture
    def input_model(self, fused_bert: ModelHandler) -> ModelHandler:
        return fused_bert

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        counts = op_counts(read_model_proto(Path(output_model.path)))
        assert counts["QuantizeLinear"] >= 6 and counts["Attention"] == 2


# -- calibration data ------------------------------------------------------------------------


def test_calibration_is_capped_and_reported(tiny_bert: ModelHandler, tmp_path: Path) -> None:
    _, context = run_pass(
        "OnnxStaticQuantization",
        tiny_bert,
        tmp_path,
        {"data": "calib", "max_calibration_samples": 3, "op_types_to_quantize": ["MatMul"]},
        data=calibration_data(batches=10, batch_size=2),
    )
    assert context.report["calibration_samples"] == 3
    assert context.report["quantized_ops"]["QuantizeLinear"] > 0


def test_static_quantization_needs_a_data_name(tiny_bert: ModelHandler, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs calibration data"):
        run_pass("OnnxStaticQuantization", tiny_bert, tmp_path, {}, data=calibration_data())


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda b: {k: v for k, v in b.items() if k != "token_type_ids"}, "no field for model input 'token_type_ids'"),
        (lambda b: {**b, "input_ids": b["input_ids"].astype(np.int32)}, "'input_ids' expects dtype int64, given int32"),
        (lambda b: {**b, "attention_mask": b["attention_mask"][0]}, "'attention_mask' expects rank 2"),
    ],
    ids=["missing", "dtype", "rank"],
)
def test_calibration_data_that_does_not_fit_is_a_data_error(
    tiny_bert: ModelHandler, tmp_path: Path, change: Callable[[dict[str, Any]], dict[str, Any]], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        run_pass(
            "OnnxStaticQuantization",
            tiny_bert,
            tmp_path,
            {"data": "calib"},
            data=lambda name: [change(bert_feed())],
        )


def test_empty_calibration_data_is_a_data_error(tiny_bert: ModelHandler, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="'calib' gave no batches"):
        run_pass("OnnxStaticQuantization", tiny_bert, tmp_path, {"data": "calib"}, data=lambda name: [])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_calibration_failure_says_what_to_do(
    tiny_bert: ModelHandler, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    # Entropy over every op type meets the attention mask's constant, rangeless tensor
    with pytest.raises(PassError, match="OnnxStaticQuantization") as raised:
        run_pass(
            "OnnxStaticQuantization", tiny_bert, tmp_path / "out", {"data": "calib", "calibrate_method": "Entropy"},
            data=calibration_data(),
        )  # fmt: skip
    assert "op_types_to_quantize" in str(raised.value)
    assert list(cwd.iterdir()) == [], "ORT's temp files must not land in the working directory"
    assert Path.cwd() == cwd


def test_a_later_pass_drops_tuned_session_options(tiny_bert: ModelHandler, tmp_path: Path) -> None:
    tuned = tiny_bert.derive(attributes={"session_options": {"intra_op_num_threads": 1}, "task": "feature-extraction"})
    output, _ = run_pass("OnnxDynamicQuantization", tuned, tmp_path)
    assert "session_options" not in output.attributes
    assert output.attributes["task"] == "feature-extraction"


# -- refusals ----------------------------------------------------------------------------------

QUANTIZED_GRAPHS = {
    "QuantizeLinear": lambda: matmul_graph(
        extra_nodes=[helper.make_node("QuantizeLinear", ["y", "B"], ["yq"], name="q")]
    ),
    "MatMulInteger": lambda: matmul_graph(
        extra_nodes=[helper.make_node("MatMulInteger", ["x", "W"], ["xi"], name="mmi")]
    ),
    "QAttention": lambda: matmul_graph(
        extra_nodes=[helper.make_node("QAttention", ["x", "W"], ["att"], name="qa", domain="com.microsoft")]
    ),
    "int8 weights": lambda: matmul_graph(weight_type=TensorProto.INT8),
}


@pytest.mark.parametrize("pass_name", ["OnnxDynamicQuantization", "OnnxStaticQuantization", "OnnxInt4WeightOnly"])
@pytest.mark.parametrize("kind", list(QUANTIZED_GRAPHS))
def test_quantizers_refuse_a_quantized_model(
    pass_name: str, kind: str, save_onnx: Callable[..., Path], tmp_path: Path
) -> None:
    model = onnx_handle(save_onnx(QUANTIZED_GRAPHS[kind](), "quantized.onnx"))
    with pytest.raises(IncompatibleModelError, match="already quantized") as raised:
        run_pass(
            pass_name, model, tmp_path / "out", {"data": "calib"} if "Static" in pass_name else {}, calibration_data()
        )
    assert "quantized.onnx" in str(raised.value)
    assert not (tmp_path / "out").exists(), "the refusal must come before any work"


@pytest.mark.parametrize("pass_name", ["OnnxDynamicQuantization", "OnnxStaticQuantization"])
def test_int8_quantizers_refuse_an_fp16_model(pass_name: str, save_onnx: Callable[..., Path], tmp_path: Path) -> None:
    model = onnx_handle(save_onnx(matmul_graph(weight_type=TensorProto.FLOAT16), "half.onnx"))
    with pytest.raises(IncompatibleModelError, match="FP16"):
        run_pass(
            pass_name, model, tmp_path / "out", {"data": "calib"} if "Static" in pass_name else {}, calibration_data()
        )


def test_the_output_of_a_quantizer_is_refused_by_the_next(tiny_bert: ModelHandler, tmp_path: Path) -> None:
    quantized, _ = run_pass("OnnxDynamicQuantization", tiny_bert, tmp_path / "q1")
    with pytest.raises(IncompatibleModelError, match="MatMulIntegerx12"):
        run_pass("OnnxDynamicQuantization", quantized, tmp_path / "q2")


def test_a_quantized_model_does_not_carry_its_inputs_external_data(tmp_path, save_onnx):
    """The input's model.onnx.data belongs to the input's graph: copying it along wastes its size."""
    from olive_core.testing.steps import run_pass
    from olive_onnx.testing import matmul_graph, onnx_handle

    source = save_onnx(matmul_graph(k=64, n=64), "source/model.onnx", external=True)
    tokenizer = source.parent / "tokenizer.json"
    tokenizer.write_text("{}")
    handle = onnx_handle(source).model_copy(update={"files": [str(source.parent / "model.onnx.data"), str(tokenizer)]})
    output, _ = run_pass("OnnxDynamicQuantization", handle, tmp_path / "step")
    assert output.files == [str(tokenizer)]
