"""TorchAOQuantization: each scheme on an hf and a pytorch model, saved and loaded back safely."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from olive_core.errors import IncompatibleModelError
from olive_core.models import ModelHandler
from olive_core.testing import PassContract
from olive_torch_quant.quantization import TorchAOQuantization
from olive_torch_quant.testing import context, load, outputs


def quantized_layers(module: Any) -> dict[str, str]:
    from torchao.utils import TorchAOBaseTensor

    return {
        name: type(layer.weight).__name__
        for name, layer in module.named_modules()
        if isinstance(getattr(layer, "weight", None), TorchAOBaseTensor)
    }


class TestTorchAOQuantization(PassContract):
    pass_name = "TorchAOQuantization"
    configs = [
        {},
        {"scheme": "int8_weight_only", "group_size": 32, "skip_modules": ["classifier"]},
        {"scheme": "int4_weight_only_unpacked", "group_size": 32},
    ]

    @pytest.fixture
    def input_model(self, classifier: ModelHandler) -> ModelHandler:
        return classifier

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        folder = Path(output_model.path)
        assert (folder / "model.safetensors").is_file() and not list(folder.glob("*.bin"))
        assert json.loads((folder / "config.json").read_text())["quantization_config"]["quant_method"] == "torchao"
        assert (folder / "tokenizer_config.json").is_file(), "the tokenizer travels with the model"
        layers = quantized_layers(load(output_model))
        expected = {"int8_dynamic": "Int8Tensor", "int8_weight_only": "Int8Tensor"}.get(
            config.get("scheme", "int8_dynamic"), "IntxUnpackedToInt8Tensor"
        )
        assert layers and set(layers.values()) == {expected}
        assert ("classifier" in layers) == ("classifier" not in config.get("skip_modules", []))
        assert output_model.attributes["quantization"]["library"] == "torchao"
        difference = (outputs(output_model).float() - outputs(input_model).float()).abs().max()
        assert float(difference) < 0.1


def test_int4_on_a_pytorch_model_uses_the_cpu_int4_kernel_and_loads_with_weights_only(mlp, run_pass) -> None:
    import torch

    output, ctx = run_pass(TorchAOQuantization, mlp, {"scheme": "int4_weight_only", "group_size": 32})
    assert output.type == "pytorch" and output.attributes["model_format"] == "torch_save"
    # the kernel packs blocks of 16 output rows: the 2-logit head stays float
    assert quantized_layers(load(output)) == {"0": "Int4OpaqueTensor"}
    assert ctx.report["float_layer_names"] == ["2"]
    state = torch.load(output.path, weights_only=True)  # torchao allow-lists its tensor classes
    assert type(state["0.weight"]).__name__ == "Int4OpaqueTensor"
    assert float((outputs(output) - outputs(mlp)).abs().max()) < 0.1
    assert ctx.report["weights_mb_after"] < ctx.report["weights_mb_before"]


def test_layers_the_group_size_does_not_divide_stay_float_with_a_warning(mlp, run_pass) -> None:
    # the first layer takes 32 inputs: groups of 64 do not fit it
    output, ctx = run_pass(TorchAOQuantization, mlp, {"scheme": "int4_weight_only_unpacked", "group_size": 64})
    assert list(quantized_layers(load(output))) == ["2"]
    assert ctx.report["float_layer_names"] == ["0"] and "stay float" in ctx.warnings[0]


@pytest.mark.parametrize("scheme", ["int8_dynamic", "int8_weight_only", "int4_weight_only_unpacked"])
def test_pytorch_models_keep_their_loader(mlp, run_pass, scheme: str) -> None:
    output, _ = run_pass(
        TorchAOQuantization,
        mlp,
        {"scheme": scheme, "group_size": 32} if scheme != "int8_dynamic" else {"scheme": scheme},
    )
    assert output.attributes["model_loader"] == mlp.attributes["model_loader"]
    assert len(quantized_layers(load(output))) == 2


def test_refuses_an_already_quantized_model(classifier, run_pass) -> None:
    quantized, _ = run_pass(TorchAOQuantization, classifier)
    with pytest.raises(IncompatibleModelError, match="already quantized"):
        TorchAOQuantization().check_input(quantized, TorchAOQuantization.Config(), context())
    # also when only config.json says so (a model quantized elsewhere)
    foreign = quantized.model_copy(
        update={"attributes": {k: v for k, v in quantized.attributes.items() if k != "quantization"}}
    )
    with pytest.raises(IncompatibleModelError, match="already quantized"):
        TorchAOQuantization().check_input(foreign, TorchAOQuantization.Config(), context())


def test_refuses_int4_packing_where_it_cannot_be_saved_or_run(classifier, mlp) -> None:
    int4 = TorchAOQuantization.Config(scheme="int4_weight_only")
    with pytest.raises(IncompatibleModelError, match="no safetensors form"):
        TorchAOQuantization().check_input(classifier, int4, context())
    with pytest.raises(IncompatibleModelError, match="CPU int4 kernel"):
        TorchAOQuantization().check_input(mlp, int4, context(device="gpu"))


def test_group_sizes_the_scheme_cannot_take_are_refused() -> None:
    with pytest.raises(ValueError, match="group_size does not apply"):
        TorchAOQuantization.Config(scheme="int8_dynamic", group_size=32)
    with pytest.raises(ValueError, match="32, 64 or 128"):
        TorchAOQuantization.Config(scheme="int4_weight_only", group_size=16)


def test_skipping_every_layer_is_an_error(mlp, run_pass) -> None:
    with pytest.raises(IncompatibleModelError, match="no nn.Linear layer left"):
        run_pass(TorchAOQuantization, mlp, {"skip_modules": ["*"]})
