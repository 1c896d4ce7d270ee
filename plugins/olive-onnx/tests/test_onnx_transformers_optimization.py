"""OnnxTransformersOptimization on the tiny BERT: fusions happen, are reported, and keep the outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from olive_core.errors import ConfigError
from olive_core.models import ModelHandler
from olive_core.testing import PassContract
from olive_core.testing.steps import CPU, run_pass

from olive_onnx.files import read_model_proto
from olive_onnx.inspect import float_precision, op_counts
from olive_onnx.runtime import create_session
from olive_onnx.testing import HIDDEN_SIZE, NUM_HEADS, bert_feed


class TestOnnxTransformersOptimization(PassContract):
    pass_name = "OnnxTransformersOptimization"
    configs = [{}, {"opt_level": 0, "float16": True, "optimization_options": {"enable_gelu_approximation": True}}]

    @pytest.fixture
    def input_model(self, tiny_bert: ModelHandler) -> ModelHandler:
        return tiny_bert

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        counts = op_counts(read_model_proto(Path(output_model.path)))
        assert counts["Attention"] == 2
        assert counts["EmbedLayerNormalization"] == 1
        assert counts["SkipLayerNormalization"] == 4
        gelu = "FastGelu" if config.get("optimization_options") else "BiasGelu"
        assert counts[gelu] == 2, counts
        assert output_model.attributes["fused_ops"]["Attention"] == 2
        graph = read_model_proto(Path(output_model.path))
        assert float_precision(graph) == ("float16" if config.get("float16") else "float32")


def test_reports_fusions_and_detected_attention_shape(tiny_bert: ModelHandler, tmp_path: Path) -> None:
    output, context = run_pass("OnnxTransformersOptimization", tiny_bert, tmp_path)
    assert context.report["detected_attention_shape"] == {"num_heads": NUM_HEADS, "hidden_size": HIDDEN_SIZE}
    assert context.report["fused_ops"] == {
        "Attention": 2,
        "EmbedLayerNormalization": 1,
        "SkipLayerNormalization": 4,
        "BiasGelu": 2,
    }
    assert context.warnings == []
    feed = bert_feed(batch=2, sequence=12)
    (expected,) = create_session(tiny_bert, CPU, {}).run(feed)
    (fused,) = create_session(output, CPU, {}).run(feed)
    np.testing.assert_allclose(fused, expected, atol=1e-4)


def test_warns_when_attention_is_not_fused(matmul_model: ModelHandler, tmp_path: Path) -> None:
    _, context = run_pass("OnnxTransformersOptimization", matmul_model, tmp_path)
    assert len(context.warnings) == 1
    assert "no Attention or MultiHeadAttention was fused for model_type 'bert'" in context.warnings[0]


def test_unknown_fusion_option_is_a_config_error(tiny_bert: ModelHandler, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="enable_magic"):
        run_pass("OnnxTransformersOptimization", tiny_bert, tmp_path, {"optimization_options": {"enable_magic": True}})
