"""LoRAFinetuning and MergeLoRA: an adapter that learns, loads back, and merges to the same outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from olive_core.errors import DataError, IncompatibleModelError
from olive_core.models import ModelHandler
from olive_core.passes import PassContext
from olive_core.testing import PassContract
from olive_torch_quant.lora import LoRAFinetuning
from olive_torch_quant.merge import MergeLoRA
from olive_torch_quant.quantization import TorchAOQuantization
from olive_torch_quant.testing import context, load, outputs

QUICK = {"data": "train", "epochs": 2, "learning_rate": 5e-3}


def accuracy(model: ModelHandler, batches: list[dict[str, np.ndarray]]) -> float:
    import torch

    module = load(model)
    correct = total = 0
    with torch.inference_mode():
        for batch in batches:
            inputs = {k: torch.from_numpy(v) for k, v in batch.items() if k != "labels"}
            predicted = module(**inputs).logits.argmax(-1).numpy()
            correct, total = correct + int((predicted == batch["labels"]).sum()), total + len(predicted)
    return correct / total


@pytest.fixture
def adapted(classifier, review_batches, run_pass) -> tuple[ModelHandler, PassContext]:
    return run_pass(
        LoRAFinetuning, classifier, {**QUICK, "epochs": 4, "learning_rate": 2e-2}, context({"train": review_batches})
    )


class TestLoRAFinetuning(PassContract):
    pass_name = "LoRAFinetuning"
    configs = [QUICK, {**QUICK, "r": 4, "gradient_accumulation_steps": 2, "target_modules": ["query", "key", "value"]}]

    @pytest.fixture(autouse=True)
    def _data(self, review_batches: list[dict[str, np.ndarray]]) -> None:
        self.batches = review_batches

    def make_context(self) -> PassContext:
        return context({"train": self.batches})

    @pytest.fixture
    def input_model(self, classifier: ModelHandler) -> ModelHandler:
        return classifier

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        adapter = Path(output_model.path) / "adapter"
        assert (adapter / "adapter_config.json").is_file() and (adapter / "adapter_model.safetensors").is_file()
        assert (Path(output_model.path) / "model.safetensors").is_file()
        assert output_model.attributes["adapter"] == "adapter"
        module = load(output_model)
        assert type(module).__name__ == "BertForSequenceClassification"
        assert any("lora_A" in name for name, _ in module.named_modules()), "olive-torch applies the adapter"


class TestMergeLoRA(PassContract):
    pass_name = "MergeLoRA"

    @pytest.fixture
    def input_model(self, adapted: tuple[ModelHandler, PassContext]) -> ModelHandler:
        return adapted[0]

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        assert not output_model.attributes.get("adapter")
        assert not (Path(output_model.path) / "adapter").exists()
        assert type(load(output_model)).__name__ == "BertForSequenceClassification"
        assert float((outputs(output_model) - outputs(input_model)).abs().max()) < 1e-4


def test_training_learns_and_the_loss_curve_is_reported(classifier, review_batches, adapted) -> None:
    output, ctx = adapted
    report = ctx.report
    curve = report["loss_curve"]
    assert len(curve) == report["optimizer_steps"] == 4 * 4  # 64 samples in micro-batches of 16, 4 epochs
    assert np.mean(curve[-4:]) < np.mean(curve[:4])
    assert report["train_samples"] == 64 and 0 < report["trainable_parameters"] < report["total_parameters"]
    assert report["target_modules"] == ["query", "value"]  # peft's default for BERT
    assert accuracy(output, review_batches) > accuracy(classifier, review_batches)


def test_training_is_a_pure_function_of_its_inputs(classifier, review_batches, run_pass) -> None:
    ctx = context({"train": review_batches})
    first, first_ctx = run_pass(LoRAFinetuning, classifier, QUICK, ctx)
    second, second_ctx = run_pass(LoRAFinetuning, classifier, QUICK, context({"train": review_batches}))
    assert first_ctx.report["loss_curve"] == second_ctx.report["loss_curve"]
    assert float((outputs(first) - outputs(second)).abs().max()) == 0.0


def test_gradient_accumulation_makes_fewer_steps(classifier, review_batches, run_pass) -> None:
    _, ctx = run_pass(
        LoRAFinetuning,
        classifier,
        {**QUICK, "epochs": 1, "batch_size": 8, "gradient_accumulation_steps": 3},
        context({"train": review_batches}),
    )
    assert ctx.report["optimizer_steps"] == 3  # 8 micro-batches: 3 + 3 + the 2 left at the epoch's end


def test_a_pytorch_model_with_target_modules_trains_and_merges(mlp, mlp_batches, run_pass) -> None:
    config = {"data": "train", "target_modules": ["0", "2"], "epochs": 5, "learning_rate": 1e-2, "batch_size": 8}
    output, ctx = run_pass(LoRAFinetuning, mlp, config, context({"train": mlp_batches}))
    assert output.type == "pytorch" and output.attributes["model_loader"] == mlp.attributes["model_loader"]
    assert [Path(f).name for f in output.files] == ["adapter"]
    assert ctx.report["final_loss"] < ctx.report["first_loss"]
    assert float((outputs(output) - outputs(mlp)).abs().max()) > 1e-3, "the adapter is applied on load"
    merged, merge_ctx = run_pass(MergeLoRA, output)
    assert merged.files == [] and not merged.attributes.get("adapter")
    assert float((outputs(merged) - outputs(output)).abs().max()) < 1e-4
    assert merge_ctx.report["max_abs_diff_on_dummy_inputs"] < 1e-4


def test_labels_kept_apart_by_the_loader_are_explained(classifier, review_batches, run_pass) -> None:
    without_labels = [{k: v for k, v in batch.items() if k != "labels"} for batch in review_batches]
    with pytest.raises(DataError, match="loader's 'label' option"):
        run_pass(LoRAFinetuning, classifier, QUICK, context({"train": without_labels}))


def test_refusals(classifier, mlp, adapted, run_pass) -> None:
    with pytest.raises(IncompatibleModelError, match="needs target_modules"):
        LoRAFinetuning().check_input(mlp, LoRAFinetuning.Config(data="train"), context())
    with pytest.raises(IncompatibleModelError, match="carries none"):
        MergeLoRA().check_input(classifier, MergeLoRA.Config(), context())
    with pytest.raises(IncompatibleModelError, match="carries a LoRA adapter"):
        TorchAOQuantization().check_input(adapted[0], TorchAOQuantization.Config(), context())
    with pytest.raises(IncompatibleModelError, match="carries a LoRA adapter"):
        LoRAFinetuning().check_input(adapted[0], LoRAFinetuning.Config(data="train"), context())


@pytest.mark.parametrize("adapter", ["../elsewhere", "/tmp"])
def test_merge_refuses_an_adapter_attribute_outside_the_model_folder(mlp: ModelHandler, adapter: str) -> None:
    # a handle from a cache record someone else wrote must not make peft read (or the hub fetch) it
    from olive_core.errors import ModelLoadError
    from olive_torch_quant.merge import MergeLoRAConfig

    model = mlp.derive(attributes={"adapter": adapter})
    with pytest.raises(ModelLoadError, match="outside the model's folder"):
        MergeLoRA().check_input(model, MergeLoRAConfig(), context())
