"""The `diffusers` model type: handles from folders (or hub ids), adapters, identity, the torch pipeline."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from olive_core.errors import DataError, ModelLoadError
from olive_core.models import ModelHandler
from olive_core.testing.steps import input_handle

from olive_diffusion.session import PipelineSession
from olive_diffusion.testing import STEPS, TEXT_LENGTH, create_session, prompt_feed


def test_handle_records_generation_adapters_and_pipeline_io(lora_model: ModelHandler, tiny_lora: Path) -> None:
    assert lora_model.type == "diffusers"
    assert lora_model.io_config.input_names == ["input_ids", "seed"]
    assert lora_model.attributes["generation"]["num_inference_steps"] == STEPS
    (adapter,) = lora_model.attributes["lora_adapters"]
    assert adapter == {
        "name": "tiny-lora",
        "path": str(tiny_lora),
        "format": "diffusers",
        "scale": 1.0,
        "component": "unet",
    }


def test_peft_adapter_folders_are_recognized(tiny_pipeline: Path, tiny_peft_lora: Path) -> None:
    handle = input_handle(
        "diffusers",
        tiny_pipeline.parent,
        model_path=str(tiny_pipeline),
        lora_adapters=[{"path": str(tiny_peft_lora), "name": "style"}],
    )
    (adapter,) = handle.attributes["lora_adapters"]
    assert (adapter["name"], adapter["format"]) == ("style", "peft")
    assert adapter["path"].endswith("adapter_model.safetensors")


def test_content_id_follows_weights_adapters_and_generation(
    tiny_pipeline: Path, tiny_lora: Path, base_model: ModelHandler, lora_model: ModelHandler, tmp_path: Path
) -> None:
    other_steps = input_handle(
        "diffusers", tmp_path, model_path=str(tiny_pipeline), generation={"num_inference_steps": STEPS + 1}
    )
    assert len({base_model.id, lora_model.id, other_steps.id}) == 3
    adapter = shutil.copytree(tiny_lora.parent, tmp_path / "adapter") / tiny_lora.name
    same = input_handle(
        "diffusers",
        tmp_path,
        model_path=str(tiny_pipeline),
        lora_adapters=[{"path": str(adapter), "name": "tiny-lora"}],
        generation={"num_inference_steps": STEPS},
    )
    assert same.id == lora_model.id  # where the adapter lives is not part of it
    adapter.write_bytes(adapter.read_bytes()[:-4] + b"\0\0\0\0")
    changed = input_handle(
        "diffusers",
        tmp_path,
        model_path=str(tiny_pipeline),
        lora_adapters=[{"path": str(adapter), "name": "tiny-lora"}],
        generation={"num_inference_steps": STEPS},
    )
    assert changed.id != lora_model.id


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing_folder", "is not a diffusers pipeline folder"),
        ("missing_adapter", "does not exist"),
        ("pickled_adapter", "only as safetensors"),
        ("duplicate_names", "two LoRA adapters are named"),
        ("empty_adapter_folder", "holds neither"),
    ],
)
def test_mistakes_are_named(tiny_pipeline: Path, tiny_lora: Path, tmp_path: Path, setup: str, message: str) -> None:
    config: dict = {"model_path": str(tiny_pipeline)}
    if setup == "missing_folder":
        config["model_path"] = str(tmp_path / "nowhere")
    elif setup == "missing_adapter":
        config["lora_adapters"] = [{"path": "nothing.safetensors"}]
    elif setup == "pickled_adapter":
        (tmp_path / "adapter.bin").write_bytes(b"\x80\x04")
        config["lora_adapters"] = [{"path": "adapter.bin"}]
    elif setup == "duplicate_names":
        config["lora_adapters"] = [{"path": str(tiny_lora)}, {"path": str(tiny_lora)}]
    else:
        (tmp_path / "empty").mkdir()
        config["lora_adapters"] = [{"path": "empty"}]
    with pytest.raises(ModelLoadError, match=message):
        input_handle("diffusers", tmp_path, **config)


def test_an_unreachable_hub_id_says_what_to_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="hub pipeline") as error:
        input_handle("diffusers", tmp_path, model_path="no-such-owner/no-such-pipeline")
    assert "HF_HUB_OFFLINE" in str(error.value)


def test_torch_pipeline_generates_seeded_images_and_times_each_step(lora_model: ModelHandler) -> None:
    session = create_session(lora_model)
    assert isinstance(session, PipelineSession)
    generation = session.generate(prompt_feed((3, 4)))
    assert generation.images.shape == (2, 64, 64, 3) and generation.images.dtype == np.float32
    assert 0.0 <= generation.images.min() and generation.images.max() <= 1.0
    assert len(generation.step_seconds) == STEPS and sum(generation.step_seconds) < generation.seconds
    # image i depends on prompt i and seed i only, whatever else is in the batch
    (alone,) = session.run({name: value[1:] for name, value in prompt_feed((3, 4)).items()})
    np.testing.assert_allclose(alone[0], generation.images[1], atol=1e-5)


def test_lora_changes_the_images(base_model: ModelHandler, lora_model: ModelHandler) -> None:
    feed = prompt_feed((5,))
    (base,) = create_session(base_model).run(feed)
    (adapted,) = create_session(lora_model).run(feed)
    assert np.abs(base - adapted).max() > 1e-3


def test_inputs_that_do_not_fit_are_data_errors(base_model: ModelHandler) -> None:
    session = create_session(base_model)
    with pytest.raises(DataError, match="no seed"):
        session.run({"input_ids": prompt_feed()["input_ids"]})
    with pytest.raises(DataError, match=rf"\[batch, {TEXT_LENGTH}\]"):
        session.run({"input_ids": np.zeros((1, 5), np.int64), "seed": np.zeros(1, np.int64)})
