"""Shapes and io configs come from the components' own configs; unsupported pipelines are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from olive_core.errors import ConfigError, ModelLoadError

from olive_diffusion.configs import read_model_index
from olive_diffusion.generation import GenerationConfig
from olive_diffusion.shapes import component_io_config, fixed_image_size, pipeline_io_config, read_pipeline_shapes
from olive_diffusion.testing import TEXT_LENGTH


def test_shapes_are_read_from_the_component_configs(tiny_pipeline: Path) -> None:
    shapes = read_pipeline_shapes(tiny_pipeline)
    assert shapes.text_length == TEXT_LENGTH  # the tokenizer's model_max_length
    assert (shapes.vocab_size, shapes.text_hidden_size) == (1000, 32)
    assert (shapes.latent_channels, shapes.latent_size) == (4, 32)
    assert shapes.vae_scale_factor == 2 and shapes.image_size == 64
    assert shapes.size_multiple == 4  # VAE x2, UNet downsamples x2


def test_unet_batch_doubles_under_classifier_free_guidance(tiny_pipeline: Path) -> None:
    shapes = read_pipeline_shapes(tiny_pipeline)
    guided = component_io_config("unet", shapes, guidance=True)
    plain = component_io_config("unet", shapes, guidance=False)
    assert guided.input_shapes == [[2, 4, 32, 32], [2], [2, TEXT_LENGTH, 32]]
    assert plain.input_shapes[0][0] == 1
    assert guided.dynamic_axes["sample"] == {0: "batch", 2: "latent_height", 3: "latent_width"}
    decoder = component_io_config("vae_decoder", shapes, image_size=(32, 48), dynamic_image_size=False)
    assert decoder.input_shapes == [[1, 4, 16, 24]] and decoder.dynamic_axes["latent_sample"] == {0: "batch"}
    assert fixed_image_size("vae_decoder", decoder, shapes) == (32, 48)
    assert fixed_image_size("unet", guided, shapes) is None


def test_text_length_falls_back_to_the_encoder_positions(tiny_pipeline: Path, tmp_path: Path) -> None:
    copy = shutil.copytree(tiny_pipeline, tmp_path / "copy")
    (copy / "tokenizer" / "tokenizer_config.json").unlink()
    assert read_pipeline_shapes(copy).text_length == TEXT_LENGTH  # max_position_embeddings


def test_pipeline_io_config_names_prompts_seeds_and_images(tiny_pipeline: Path) -> None:
    io = pipeline_io_config(read_pipeline_shapes(tiny_pipeline))
    assert io.input_names == ["input_ids", "seed"] and io.output_names == ["images"]
    assert io.input_shapes == [[1, TEXT_LENGTH], [1]] and io.input_types == ["int64", "int64"]


def _edit(folder: Path, relative: str, **changes: object) -> None:
    path = folder / relative
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


@pytest.mark.parametrize(
    ("relative", "changes", "message"),
    [
        ("model_index.json", {"text_encoder_2": ["transformers", "CLIPTextModelWithProjection"]}, "SDXL"),
        ("model_index.json", {"unet": [None, None]}, "names no unet"),
        ("unet/config.json", {"in_channels": 9}, "inpainting"),
        ("unet/config.json", {"cross_attention_dim": 64}, "different pipelines"),
    ],
)
def test_unsupported_pipelines_are_refused_by_name(
    tiny_pipeline: Path, tmp_path: Path, relative: str, changes: dict, message: str
) -> None:
    copy = shutil.copytree(tiny_pipeline, tmp_path / "copy")
    _edit(copy, relative, **changes)
    with pytest.raises(ModelLoadError, match=message):
        read_model_index(copy)
        read_pipeline_shapes(copy)


def test_generation_size_must_fit_the_vae_and_unet(tiny_pipeline: Path) -> None:
    shapes = read_pipeline_shapes(tiny_pipeline)
    assert GenerationConfig().image_size(shapes) == (64, 64)
    assert GenerationConfig(height=32, width=48).image_size(shapes) == (32, 48)
    with pytest.raises(ConfigError, match="multiple of 4") as error:
        GenerationConfig(height=30).image_size(shapes, field="input_model.config.generation")
    assert error.value.path == "input_model.config.generation.height"
