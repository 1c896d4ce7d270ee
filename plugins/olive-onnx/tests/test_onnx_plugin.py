"""The plugin's registrations and its import cost."""

from __future__ import annotations

import subprocess
import sys

import pytest

from olive_core.accelerators import Accelerator

import olive_onnx.accelerators as accelerators
from olive_onnx import plugin

HEAVY = ("torch", "onnx", "onnxruntime", "transformers", "onnxscript")
PASSES = {
    "OnnxConversion",
    "OnnxTransformersOptimization",
    "OnnxDynamicQuantization",
    "OnnxStaticQuantization",
    "OnnxFloat16",
    "OnnxInt4WeightOnly",
    "OnnxGraphOptimization",
    "OnnxSessionTuning",
}


def _loaded_after_import(*modules: str) -> list[str]:
    code = f"import sys\nimport {', '.join(modules)}\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in result.stdout.strip().split(",") if m]


def test_plugin_module_imports_nothing_heavy() -> None:
    assert _loaded_after_import("olive_onnx.plugin") == []


def test_light_modules_import_nothing_heavy() -> None:
    # the model type, the runtime and every pass module (but not conversion, which is not ours)
    modules = [
        "olive_onnx.model",
        "olive_onnx.runtime",
        "olive_onnx.settings",
        "olive_onnx.files",
        "olive_onnx.accelerators",
        *(f"olive_onnx.passes.{name}" for name in (
            "transformers_optimization", "dynamic_quantization", "static_quantization", "float16", "int4",
            "graph_optimization", "session_tuning",
        )),
    ]  # fmt: skip
    assert _loaded_after_import(*modules) == []


def test_listing_plugins_imports_nothing_heavy() -> None:
    code = (
        "from olive_core.plugins import create_plugin_manager\n"
        "m = create_plugin_manager(); m.plugin_infos()\n"
        f"print(','.join(x for x in {HEAVY!r} if __import__('sys').modules.get(x)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_declares_the_plugin_api() -> None:
    assert plugin.olive_plugin_api.split(".")[0] == "1"


def test_registers_its_components(olive_plugin_manager) -> None:  # type: ignore[no-untyped-def]
    registry = olive_plugin_manager.registry
    ours = {c.name for c in registry.components("pass") if c.source.distribution == "olive-onnx"}
    assert ours == PASSES
    assert registry.get("pass", "OnnxConversion").import_path == "olive_onnx.passes.conversion:OnnxConversion"
    assert registry.get("model_type", "onnx").source.distribution == "olive-onnx"
    for device in ("gpu", "npu"):
        accelerator = registry.load("accelerator", device)
        assert isinstance(accelerator, Accelerator) and accelerator.name == device


def test_built_in_provider_availability_follows_onnxruntime(monkeypatch: pytest.MonkeyPatch) -> None:
    providers = {provider.name: provider for provider in accelerators.BUILT_IN_PROVIDERS}
    monkeypatch.setattr(accelerators, "available_providers", lambda: ["CPUExecutionProvider"])
    assert not any(provider.is_available() for provider in providers.values())
    monkeypatch.setattr(accelerators, "available_providers", lambda: ["DmlExecutionProvider", "CPUExecutionProvider"])
    assert providers["DmlExecutionProvider"].is_available() and not providers["CUDAExecutionProvider"].is_available()


def test_each_device_prefers_its_usual_provider_and_registers_them_apart(olive_plugin_manager) -> None:  # type: ignore[no-untyped-def]
    registry = olive_plugin_manager.registry
    for device, first in (("gpu", "CUDAExecutionProvider"), ("npu", "OpenVINOExecutionProvider")):
        ours = [c.load() for c in registry.components("execution_provider") if c.source.distribution == "olive-onnx"]
        ranked = sorted((p for p in ours if p.device == device), key=lambda p: -p.priority)
        assert ranked[0].name == first


def test_a_gpu_workflow_on_a_machine_without_one_says_which_providers_it_looked_for(tmp_path, olive_plugin_manager) -> None:  # type: ignore[no-untyped-def]
    import json

    from olive_core.engine.api import load_workflow
    from olive_core.errors import ConfigError

    model = tmp_path / "m.onnx"
    workflow = {"input_model": {"type": "onnx", "config": {"model_path": str(model)}}, "accelerators": [{"device": "gpu"}]}
    (tmp_path / "w.json").write_text(json.dumps(workflow))
    with pytest.raises(ConfigError, match=r"accelerators.0.device: no execution provider of 'gpu' is available here \(CUDAExecutionProvider, "):
        load_workflow(tmp_path / "w.json", olive_plugin_manager)
