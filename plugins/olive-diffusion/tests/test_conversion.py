"""DiffusionOnnxConversion: every component exported with io configs from its config, one lineage entry each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import onnx
import pytest

from olive_core.errors import ConfigError
from olive_core.models import ModelHandler
from olive_core.testing import PassContract
from olive_core.testing.steps import input_handle

from olive_diffusion.manifest import read_manifest
from olive_diffusion.testing import TEXT_LENGTH


class TestDiffusionOnnxConversionContract(PassContract):
    pass_name = "DiffusionOnnxConversion"
    # one small component at a fixed size keeps the contract quick; the full export is the onnx_model fixture
    configs = [{"components": ["vae_decoder"], "dynamic_image_size": False}]

    @pytest.fixture
    def input_model(self, merged_model: ModelHandler) -> ModelHandler:
        return merged_model

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        manifest = read_manifest(Path(output_model.path))
        assert list(manifest.components) == ["vae_decoder"]
        decoder = manifest.components["vae_decoder"]
        assert decoder.io_config.input_shapes == [[1, 4, 32, 32]]
        graph = onnx.load(str(Path(output_model.path) / decoder.path), load_external_data=False).graph
        dims = [d.dim_value or d.dim_param for d in graph.input[0].type.tensor_type.shape.dim]
        assert dims == ["batch", 4, 32, 32]


def test_every_component_is_exported_with_its_own_io_config(onnx_model: ModelHandler) -> None:
    folder = Path(onnx_model.path)
    manifest = read_manifest(folder)
    assert list(manifest.components) == ["text_encoder", "unet", "vae_encoder", "vae_decoder"]
    assert manifest.shapes.text_length == TEXT_LENGTH and manifest.generation.num_inference_steps == 2
    unet = manifest.components["unet"]
    assert unet.path == "unet/model.onnx" and unet.io_config.input_names == [
        "sample",
        "timestep",
        "encoder_hidden_states",
    ]
    graph = onnx.load(str(folder / unet.path), load_external_data=False).graph
    sample = [d.dim_value or d.dim_param for d in graph.input[0].type.tensor_type.shape.dim]
    assert sample == ["batch", 4, "latent_height", "latent_width"]
    assert (folder / "scheduler" / "scheduler_config.json").is_file() and (folder / "tokenizer").is_dir()


def test_lineage_has_one_entry_per_component(onnx_model: ModelHandler, merged_model: ModelHandler) -> None:
    manifest = read_manifest(Path(onnx_model.path))
    ids = set()
    for name, entry in manifest.components.items():
        (first,) = entry.lineage
        assert first.pass_type == "DiffusionOnnxConversion" and first.config["exporter"] == "torchscript"
        assert first.report["max_abs_diff"] < 1e-4, f"{name} differs from PyTorch"
        ids.add(first.id)
    assert len(ids) == 4


def test_output_folder_is_an_onnx_diffusion_input_model(onnx_model: ModelHandler) -> None:
    again = input_handle("onnx_diffusion", Path(onnx_model.path).parent, model_path=onnx_model.path)
    assert again.io_config == onnx_model.io_config
    assert again.attributes["generation"] == onnx_model.attributes["generation"]


def test_a_size_a_fixed_export_cannot_take_is_refused(merged_model: ModelHandler, tmp_path: Path) -> None:
    from olive_core.testing.steps import run_pass

    fixed, _ = run_pass(
        "DiffusionOnnxConversion",
        merged_model,
        tmp_path / "fixed",
        {"components": ["vae_decoder"], "dynamic_image_size": False},
    )
    with pytest.raises(ConfigError, match="exported for 64x64 images only") as error:
        input_handle("onnx_diffusion", tmp_path, model_path=fixed.path, generation={"height": 32, "width": 32})
    assert error.value.path == "input_model.config.generation.height"
