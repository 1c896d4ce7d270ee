"""StructuredPruning: layers really shrink, config.json says so, and the model loads back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from olive_core.errors import IncompatibleModelError
from olive_core.models import ModelHandler
from olive_core.testing import PassContract
from olive_torch.testing import hf_handle
from olive_torch_quant.structured_pruning import StructuredPruning
from olive_torch_quant.testing import load, outputs


def parameters(model: ModelHandler) -> int:
    return sum(p.numel() for p in load(model).parameters())


class TestStructuredPruning(PassContract):
    pass_name = "StructuredPruning"
    configs = [{}, {"ratio": 0.5, "round_to": 8}]

    @pytest.fixture
    def input_model(self, classifier: ModelHandler) -> ModelHandler:
        return classifier

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        hf_config = json.loads((Path(output_model.path) / "config.json").read_text())
        assert hf_config["intermediate_size"] == {0.25: 48, 0.5: 32}[config.get("ratio", 0.25)]
        module = load(output_model)
        layer = module.bert.encoder.layer[0]
        assert layer.intermediate.dense.out_features == layer.output.dense.in_features == hf_config["intermediate_size"]
        assert parameters(output_model) < parameters(input_model)


def test_ffn_pruning_keeps_the_strongest_channels(classifier, run_pass) -> None:
    import torch

    original = load(classifier)
    output, ctx = run_pass(StructuredPruning, classifier, {"ratio": 0.25})
    pruned = load(output)
    up = original.bert.encoder.layer[1].intermediate.dense.weight
    down = original.bert.encoder.layer[1].output.dense.weight
    scores = up.pow(2).sum(1) + down.pow(2).sum(0)
    kept = scores.topk(48).indices.sort().values
    assert torch.equal(pruned.bert.encoder.layer[1].intermediate.dense.weight, up[kept])
    assert torch.equal(pruned.bert.encoder.layer[1].output.dense.weight, down[:, kept])
    report = ctx.report
    assert (report["intermediate_size_before"], report["intermediate_size_after"], report["blocks"]) == (64, 48, 2)
    assert report["parameters_after"] == parameters(output) < report["parameters_before"]
    assert outputs(output).shape == outputs(classifier).shape


def test_attention_heads_of_a_grouped_query_model(tiny_llama_dir, run_pass) -> None:
    model = hf_handle(tiny_llama_dir, task="text-generation")
    output, ctx = run_pass(StructuredPruning, model, {"target": "attention_heads", "ratio": 0.5})
    hf_config = json.loads((Path(output.path) / "config.json").read_text())
    assert (hf_config["num_attention_heads"], hf_config["num_key_value_heads"], hf_config["head_dim"]) == (2, 1, 8)
    attention = load(output).model.layers[0].self_attn
    assert attention.q_proj.out_features == 16 and attention.k_proj.out_features == 8
    assert attention.o_proj.in_features == 16
    assert ctx.report["attention_heads_after"] == 2 and ctx.report["parameter_reduction"] > 0
    assert output.attributes["num_attention_heads"] == 2  # what graph optimizers read
    assert outputs(output).shape == outputs(model).shape


def test_bert_heads_are_refused_with_the_reason(classifier) -> None:
    from olive_torch_quant.testing import context

    with pytest.raises(IncompatibleModelError, match="hidden_size / num_attention_heads"):
        StructuredPruning().check_input(classifier, StructuredPruning.Config(target="attention_heads"), context())


def test_pytorch_models_are_refused(mlp) -> None:
    from olive_torch_quant.testing import context

    with pytest.raises(IncompatibleModelError, match="takes hf models"):
        StructuredPruning().check_input(mlp, StructuredPruning.Config(), context())
