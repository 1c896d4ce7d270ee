"""DiffusionComponentPass: any ONNX pass per component, lineage per component, keep what runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from olive_core.errors import PassError
from olive_core.models import ModelHandler
from olive_core.passes.searchable import search_space
from olive_core.testing import PassContract
from olive_core.testing.steps import run_pass

from olive_diffusion.manifest import read_manifest
from olive_diffusion.passes.component_pass import DiffusionComponentPassConfig
from olive_diffusion.testing import create_session, prompt_feed

#: fusions ONNX Runtime has CPU kernels for (the others make CUDA-only ops such as NhwcConv and GroupNorm)
CPU_FUSIONS = {
    "enable_nhwc_conv": False,
    "enable_group_norm": False,
    "enable_skip_group_norm": False,
    "enable_bias_splitgelu": False,
    "enable_packed_qkv": False,
    "enable_packed_kv": False,
    "enable_bias_add": False,
}


class TestDiffusionComponentPassContract(PassContract):
    pass_name = "DiffusionComponentPass"
    configs = [{"pass_type": "OnnxFloat16", "components": ["vae_decoder"]}]

    @pytest.fixture
    def input_model(self, onnx_model: ModelHandler) -> ModelHandler:
        return onnx_model

    def test_search_space_is_valid(self, pass_class: Any) -> None:
        # pass_type has no sensible default, so the space is checked on the first config instead
        defaults = pass_class.Config(**self.configs[0])
        assert search_space(pass_class.Config) == {} and defaults.on_failure == "fail"

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        before, after = read_manifest(Path(input_model.path)), read_manifest(Path(output_model.path))
        assert [entry.pass_type for entry in after.components["vae_decoder"].lineage] == [
            "DiffusionOnnxConversion",
            "OnnxFloat16",
        ]
        assert after.components["unet"] == before.components["unet"], "components not named are kept as they are"


def test_fusion_per_component_keeps_the_images(onnx_model: ModelHandler, tmp_path: Path) -> None:
    # the UNet's fusion (Attention, MultiHeadAttention) is checked by the example's test, which fuses every component
    fused, context = run_pass(
        "DiffusionComponentPass",
        onnx_model,
        tmp_path / "fused",
        {
            "pass_type": "OnnxTransformersOptimization",
            "config": {"optimization_options": CPU_FUSIONS},
            "components": ["text_encoder"],
        },
    )
    assert context.report["components"]["text_encoder"]["fused_ops"]["SkipLayerNormalization"] > 0
    lineage = read_manifest(Path(fused.path)).components["text_encoder"].lineage
    assert lineage[-1].config["model_type"] == "clip" and lineage[-1].parent == lineage[-2].id
    feed = prompt_feed((1, 2))
    np.testing.assert_allclose(create_session(fused).run(feed)[0], create_session(onnx_model).run(feed)[0], atol=1e-3)


def test_a_component_that_cannot_run_here_fails_or_keeps_its_input(onnx_model: ModelHandler, tmp_path: Path) -> None:
    # ORT's default vae fusions make NhwcConv and GroupNorm, which have CUDA kernels only
    config = {"pass_type": "OnnxTransformersOptimization", "components": ["vae_decoder"]}
    with pytest.raises(PassError, match="vae_decoder.*NhwcConv"):
        run_pass("DiffusionComponentPass", onnx_model, tmp_path / "fail", config)
    kept, context = run_pass(
        "DiffusionComponentPass", onnx_model, tmp_path / "keep", {**config, "on_failure": "keep_input"}
    )
    assert "NhwcConv" in context.report["components"]["vae_decoder"]["kept_input"]
    assert any("vae_decoder: kept its input model" in warning for warning in context.warnings)
    assert len(read_manifest(Path(kept.path)).components["vae_decoder"].lineage) == 1


def test_per_component_config_and_defaults_merge() -> None:
    config = DiffusionComponentPassConfig(
        pass_type="OnnxTransformersOptimization",
        config={"opt_level": 0},
        component_config={"unet": {"model_type": "vae", "num_heads": 8}},
    )
    assert config.effective_config("text_encoder") == {"model_type": "clip", "opt_level": 0}
    assert config.effective_config("unet") == {"model_type": "vae", "opt_level": 0, "num_heads": 8}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"pass_type": "OnnxFloat61"}, "did you mean 'OnnxFloat16'"),
        ({"pass_type": "OnnxConversion"}, "must take and make 'onnx' models"),
        ({"pass_type": "OnnxFloat16", "config": {"keep_io_typos": True}}, "keep_io_typos"),
        ({"pass_type": "OnnxFloat16", "components": ["vae"]}, "components"),
        (
            {"pass_type": "OnnxTransformersOptimization", "component_config": {"unet": {"model_type": "mystery"}}},
            "for the unet",
        ),
    ],
)
def test_configs_are_checked_before_anything_runs(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DiffusionComponentPassConfig(**config)


def test_session_tuning_per_component_reaches_the_pipeline(onnx_model: ModelHandler, tmp_path: Path) -> None:
    tuning = {
        "intra_op_num_threads": [1],
        "dim_values": {"latent_height": 8, "latent_width": 8},
        "warmup_runs": 1,
        "rounds": 1,
        "runs_per_round": 2,
    }
    tuned, context = run_pass(
        "DiffusionComponentPass",
        onnx_model,
        tmp_path / "tuned",
        {"pass_type": "OnnxSessionTuning", "config": tuning, "components": ["vae_decoder"]},
    )
    entry = read_manifest(Path(tuned.path)).components["vae_decoder"]
    assert (Path(tuned.path) / entry.path).is_file(), "the tuned component is copied into the new pipeline"
    best = context.report["components"]["vae_decoder"]["session_tuning"]["best"]
    assert entry.attributes["session_options"] == best
    session = create_session(tuned, {})
    assert session.sessions["vae_decoder"].settings.intra_op_num_threads == best.get("intra_op_num_threads")
