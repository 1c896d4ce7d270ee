"""OnnxGraphOptimization: ORT's optimizations saved to a file that still computes the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from olive_core.errors import ConfigError
from olive_core.models import ModelHandler
from olive_core.passes import PassContext
from olive_core.accelerators import AcceleratorSpec
from olive_core.testing import PassContract
from olive_core.testing.steps import CPU, run_pass

from olive_onnx.files import read_model_proto
from olive_onnx.inspect import op_counts
from olive_onnx.runtime import create_session
from olive_onnx.testing import bert_feed


class TestOnnxGraphOptimization(PassContract):
    pass_name = "OnnxGraphOptimization"
    configs = [{}, {"level": "basic"}, {"level": "all", "disabled_optimizers": ["MatMulAddFusion"]}]

    @pytest.fixture
    def input_model(self, tiny_bert: ModelHandler) -> ModelHandler:
        return tiny_bert

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        before = sum(op_counts(read_model_proto(Path(input_model.path))).values())
        after = sum(op_counts(read_model_proto(Path(output_model.path))).values())
        assert after < before
        feed = bert_feed()
        (expected,) = create_session(input_model, CPU, {}).run(feed)
        (actual,) = create_session(output_model, CPU, {}).run(feed)
        np.testing.assert_allclose(actual, expected, atol=1e-4)


def test_reports_node_counts_and_provider(tiny_bert: ModelHandler, tmp_path: Path) -> None:
    _, context = run_pass("OnnxGraphOptimization", tiny_bert, tmp_path, {"level": "extended"})
    assert context.report["execution_provider"] == "CPUExecutionProvider"
    assert context.report["nodes"]["after"] < context.report["nodes"]["before"]


def test_level_all_says_it_is_hardware_specific() -> None:
    from olive_onnx.passes.graph_optimization import OnnxGraphOptimizationConfig

    assert "hardware" in OnnxGraphOptimizationConfig.model_fields["level"].description


def test_an_unavailable_provider_is_an_error(tiny_bert: ModelHandler, tmp_path: Path) -> None:
    from olive_onnx.passes.graph_optimization import OnnxGraphOptimization

    context = PassContext(accelerator=AcceleratorSpec("gpu", "CUDAExecutionProvider"))
    with pytest.raises(ConfigError, match="available providers"):
        OnnxGraphOptimization().run(tiny_bert, OnnxGraphOptimization.Config(), tmp_path, context)
