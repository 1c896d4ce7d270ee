"""GenAIWeightOnlyQuantization: INT4 MatMulNBits with RTN, k-quant, HQQ and GPTQ on a genai decoder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from olive_core.errors import IncompatibleModelError
from olive_core.models.handler import ModelHandler
from olive_core.testing import PassContract
from olive_core.testing.steps import CPU, run_pass

#: token blocks, as the text_blocks data component makes them
BLOCKS = [{"input_ids": np.random.default_rng(seed).integers(4, 256, size=(2, 32)).astype(np.int64)} for seed in range(2)]


class TestGenAIWeightOnlyQuantization(PassContract):
    pass_name = "GenAIWeightOnlyQuantization"
    configs = [{"algorithm": "rtn", "block_size": 64}, {"algorithm": "k_quant", "quantize_lm_head": False}]

    @pytest.fixture
    def input_model(self, built_fp32: ModelHandler) -> ModelHandler:
        return built_fp32

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        from olive_onnx.files import read_model_proto
        from olive_onnx.inspect import op_counts

        folder = Path(output_model.path)
        assert {p.name for p in folder.iterdir()} == {p.name for p in Path(input_model.path).iterdir()}
        counts = op_counts(read_model_proto(folder / "model.onnx"))
        assert counts["MatMulNBits"] > 0
        assert counts["MatMul"] == (0 if config.get("quantize_lm_head", True) else 1)


@pytest.mark.parametrize("algorithm", ["rtn", "k_quant", "hqq", "gptq"])
def test_each_algorithm_makes_a_model_close_to_the_float_one(algorithm: str, built_fp32: ModelHandler, tmp_path: Path, capfd) -> None:
    from olive_genai.model import GenAIModelType

    extra = {"data": "calibration"} if algorithm == "gptq" else {}
    quantized, context = run_pass("GenAIWeightOnlyQuantization", built_fp32, tmp_path / algorithm, {"algorithm": algorithm, **extra}, {"calibration": BLOCKS})
    assert "Progress" not in capfd.readouterr().out  # the quantizer's own progress bars stay quiet
    assert context.report["algorithm"] == algorithm and context.report["MatMulNBits"] > 0
    ids = BLOCKS[0]["input_ids"][:1]
    expected = GenAIModelType().create_session(built_fp32, CPU, {}).logits(ids)
    got = GenAIModelType().create_session(quantized, CPU, {}).logits(ids)
    assert 0 < np.abs(got - expected).max() < 1.0  # changed, and close on random weights
    assert quantized.attributes["weight_only"]["algorithm"] == algorithm
    assert (Path(quantized.path) / "model.onnx.data").stat().st_size < (Path(built_fp32.path) / "model.onnx.data").stat().st_size


def test_gptq_without_calibration_data_is_a_config_error() -> None:
    from pydantic import ValidationError

    from olive_genai.passes.weight_only import GenAIWeightOnlyQuantization

    with pytest.raises(ValidationError, match="gptq calibrates on text: set 'data'"):
        GenAIWeightOnlyQuantization.Config(algorithm="gptq")


def test_an_already_quantized_model_is_refused(built_int4: ModelHandler, tmp_path: Path) -> None:
    with pytest.raises(IncompatibleModelError, match="already quantized"):
        run_pass("GenAIWeightOnlyQuantization", built_int4, tmp_path / "out")
