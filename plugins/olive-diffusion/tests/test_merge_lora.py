"""DiffusionMergeLoRA: adapters folded into the UNet and text encoder, checked against the unmerged pipeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from olive_core.errors import IncompatibleModelError, ModelLoadError
from olive_core.models import ModelHandler
from olive_core.testing import PassContract
from olive_core.testing.steps import input_handle, run_pass
from olive_diffusion.testing import create_session, prompt_feed


class TestDiffusionMergeLoRAContract(PassContract):
    pass_name = "DiffusionMergeLoRA"

    @pytest.fixture
    def input_model(self, lora_model: ModelHandler) -> ModelHandler:
        return lora_model

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        folder = Path(output_model.path)
        assert output_model.attributes["lora_adapters"] == [] and output_model.attributes["merged_lora"] == [
            "tiny-lora"
        ]
        assert (folder / "model_index.json").is_file() and (
            folder / "unet" / "diffusion_pytorch_model.safetensors"
        ).is_file()
        assert not any(folder.rglob("*lora*")), "the merged pipeline carries no adapter files"


def test_merged_pipeline_makes_the_adapter_applied_images(lora_model: ModelHandler, merged_model: ModelHandler) -> None:
    feed = prompt_feed((7, 8))
    (adapted,) = create_session(lora_model).run(feed)
    (merged,) = create_session(merged_model).run(feed)
    np.testing.assert_allclose(merged, adapted, atol=1e-4)


def test_merge_reports_what_it_merged_and_how_close(lora_model: ModelHandler, tmp_path: Path) -> None:
    _, context = run_pass("DiffusionMergeLoRA", lora_model, tmp_path / "out", {"check_batch_sizes": [1]})
    assert context.report["components"] == ["text_encoder", "unet"]
    assert context.report["adapters"] == [{"name": "tiny-lora", "format": "diffusers", "scale": 1.0}]
    assert all(diff < 1e-4 for diff in context.report["max_abs_diff"].values())


def test_peft_adapter_with_a_scale_merges_into_the_unet(
    tiny_pipeline: Path, tiny_peft_lora: Path, tmp_path: Path
) -> None:
    model = input_handle(
        "diffusers",
        tmp_path,
        model_path=str(tiny_pipeline),
        lora_adapters=[{"path": str(tiny_peft_lora), "scale": 0.5}],
        generation={"num_inference_steps": 1},
    )
    merged, context = run_pass("DiffusionMergeLoRA", model, tmp_path / "out", {"check_batch_sizes": [1]})
    assert context.report["components"] == ["unet"]
    feed = prompt_feed((1,))
    np.testing.assert_allclose(create_session(merged).run(feed)[0], create_session(model).run(feed)[0], atol=1e-4)


def test_a_pipeline_without_adapters_is_refused(base_model: ModelHandler, tmp_path: Path) -> None:
    with pytest.raises(IncompatibleModelError, match="no LoRA adapter"):
        run_pass("DiffusionMergeLoRA", base_model, tmp_path / "out")


def test_an_adapter_for_another_model_is_named(tiny_pipeline: Path, tiny_lora: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    state = load_file(str(tiny_lora))
    state = {key.replace("to_q", "to_nothing"): value for key, value in state.items()}
    save_file(state, str(tmp_path / "foreign.safetensors"))
    model = input_handle(
        "diffusers", tmp_path, model_path=str(tiny_pipeline), lora_adapters=[{"path": "foreign.safetensors"}]
    )
    with pytest.raises(ModelLoadError, match="foreign"):
        run_pass("DiffusionMergeLoRA", model, tmp_path / "out", {"check_batch_sizes": [1]})


def test_the_export_refuses_unmerged_adapters(lora_model: ModelHandler, tmp_path: Path) -> None:
    with pytest.raises(IncompatibleModelError, match="DiffusionMergeLoRA"):
        run_pass("DiffusionOnnxConversion", lora_model, tmp_path / "out")


def test_merged_folder_keeps_the_untouched_parts(tiny_pipeline: Path, merged_model: ModelHandler) -> None:
    merged = Path(merged_model.path)
    for relative in (
        "vae/diffusion_pytorch_model.safetensors",
        "scheduler/scheduler_config.json",
        "tokenizer/tokenizer.json",
    ):
        assert (merged / relative).read_bytes() == (tiny_pipeline / relative).read_bytes()
    assert json.loads((merged / "model_index.json").read_text())["unet"] == ["diffusers", "UNet2DConditionModel"]
