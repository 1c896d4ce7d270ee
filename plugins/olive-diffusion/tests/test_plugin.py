"""The plugin's registrations and its import cost."""

from __future__ import annotations

import subprocess
import sys

from olive_core.plugins import create_plugin_manager

HEAVY = ("torch", "diffusers", "transformers", "peft", "onnx", "onnxruntime", "safetensors")

REGISTERED = {
    "model_type": {"diffusers", "onnx_diffusion"},
    "pass": {"DiffusionMergeLoRA", "DiffusionOnnxConversion", "DiffusionComponentPass"},
    "metric": {"pipeline_latency", "image_similarity"},
    "data_component": {"diffusion_prompts"},
}


def _loaded_after(code: str) -> list[str]:
    script = f"import sys\n{code}\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return [name for name in result.stdout.strip().split(",") if name]


def test_registers_its_components_from_its_distribution() -> None:
    registry = create_plugin_manager().registry
    for kind, names in REGISTERED.items():
        for name in names:
            component = registry.get(kind, name)
            assert component.source.distribution == "olive-diffusion"
            assert isinstance(component.target, str), "components are registered by import path"
            component.load()


def test_plugin_module_imports_nothing_heavy() -> None:
    assert _loaded_after("import olive_diffusion.plugin") == []


def test_light_modules_import_nothing_heavy() -> None:
    modules = [
        "olive_diffusion.diffusers_model",
        "olive_diffusion.onnx_model",
        "olive_diffusion.data",
        "olive_diffusion.metrics.latency",
        "olive_diffusion.metrics.image_similarity",
        "olive_diffusion.passes.merge_lora",
        "olive_diffusion.passes.conversion",
        "olive_diffusion.passes.component_pass",
    ]
    assert _loaded_after(f"import {', '.join(modules)}") == []


def test_listing_plugins_and_validating_configs_imports_nothing_heavy() -> None:
    code = (
        "from olive_core.plugins import create_plugin_manager\n"
        "m = create_plugin_manager(); m.plugin_infos()\n"
        "cls = m.registry.load('pass', 'DiffusionComponentPass')\n"
        "cls.Config(pass_type='OnnxFloat16', components=['unet'])"
    )
    assert _loaded_after(code) == []
