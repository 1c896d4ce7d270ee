"""MagnitudePruning and NMSparsity: the sparsity asked for is in the weights and in the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from olive_core.errors import IncompatibleModelError
from olive_core.models import ModelHandler
from olive_core.testing import PassContract
from olive_torch_quant.magnitude_pruning import MagnitudePruning
from olive_torch_quant.nm_sparsity import NMSparsity
from olive_torch_quant.quantization import TorchAOQuantization
from olive_torch_quant.testing import load, outputs


def linear_weights(model: ModelHandler) -> dict[str, Any]:
    import torch

    return {
        name: layer.weight.detach() for name, layer in load(model).named_modules() if isinstance(layer, torch.nn.Linear)
    }


def zero_fraction(weights: list[Any]) -> float:
    return sum(int((w == 0).sum()) for w in weights) / sum(w.numel() for w in weights)


class TestMagnitudePruning(PassContract):
    pass_name = "MagnitudePruning"
    configs = [{}, {"sparsity": 0.7, "scope": "global", "skip_modules": ["classifier"]}]

    @pytest.fixture
    def input_model(self, classifier: ModelHandler) -> ModelHandler:
        return classifier

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        assert (Path(output_model.path) / "model.safetensors").is_file()
        weights = linear_weights(output_model)
        pruned = [
            w
            for name, w in weights.items()
            if name != "classifier" or "classifier" not in config.get("skip_modules", [])
        ]
        assert zero_fraction(pruned) == pytest.approx(config.get("sparsity", 0.5), abs=0.01)
        if config.get("skip_modules"):
            assert zero_fraction([weights["classifier"]]) == 0


class TestNMSparsity(PassContract):
    pass_name = "NMSparsity"
    configs = [{}, {"n": 1, "m": 4, "skip_modules": ["classifier"]}]

    @pytest.fixture
    def input_model(self, classifier: ModelHandler) -> ModelHandler:
        return classifier

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        n, m = config.get("n", 2), config.get("m", 4)
        for name, weight in linear_weights(output_model).items():
            if name == "classifier" and config.get("skip_modules"):
                continue
            nonzero_per_group = (weight.reshape(-1, m) != 0).sum(dim=1)
            assert int(nonzero_per_group.max()) <= n, name


def test_layer_scope_prunes_every_layer_alike_and_reports_it(classifier, run_pass) -> None:
    output, ctx = run_pass(MagnitudePruning, classifier, {"sparsity": 0.5})
    for name, weight in linear_weights(output).items():
        assert zero_fraction([weight]) == pytest.approx(0.5, abs=0.02), name
    report = ctx.report
    assert report["target_sparsity"] == 0.5 and report["achieved_sparsity"] == pytest.approx(0.5, abs=0.01)
    assert 0 < report["model_sparsity"] < report["achieved_sparsity"]  # embeddings and norms stay dense
    assert report["nonzero_parameters"] < report["parameters"]


def test_global_scope_prunes_small_layers_more(mlp, run_pass) -> None:
    import torch

    # scale the second layer's weights down: one global threshold takes more of them
    module = load(mlp)
    with torch.no_grad():
        module[2].weight.mul_(0.01)
    from safetensors.torch import save_file

    scaled = Path(mlp.path).parent / "scaled.safetensors"
    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(scaled))
    model = mlp.model_copy(update={"path": str(scaled)})
    output, _ = run_pass(MagnitudePruning, model, {"sparsity": 0.5, "scope": "global"})
    weights = linear_weights(output)
    assert zero_fraction([weights["2"]]) == 1.0 and zero_fraction([weights["0"]]) < 0.5


def test_pytorch_model_is_saved_as_safetensors_for_its_loader(mlp, run_pass) -> None:
    output, ctx = run_pass(NMSparsity, mlp)
    assert output.type == "pytorch" and output.path.endswith(".safetensors")
    assert output.attributes["model_format"] == "safetensors"
    assert ctx.report["pattern"] == "2:4" and ctx.report["achieved_sparsity"] == 0.5
    assert outputs(output).shape == outputs(mlp).shape


def test_layers_that_m_does_not_divide_stay_dense(mlp, run_pass) -> None:
    output, ctx = run_pass(NMSparsity, mlp, {"n": 2, "m": 64})
    assert ctx.report["pruned_layers"] == 1 and "stay dense" in ctx.warnings[0]  # the first layer takes 32 inputs
    assert zero_fraction([linear_weights(output)["0"]]) == 0


def test_n_must_be_below_m() -> None:
    with pytest.raises(ValueError, match="smaller than m"):
        NMSparsity.Config(n=4, m=4)


def test_a_quantized_model_is_refused(classifier, run_pass) -> None:
    quantized, ctx = run_pass(TorchAOQuantization, classifier)
    for pass_class in (MagnitudePruning, NMSparsity):
        with pytest.raises(IncompatibleModelError, match="already quantized"):
            pass_class().check_input(quantized, pass_class.Config(), ctx)
