"""The plugin's registration, and that discovering it stays cheap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import olive_torch.plugin

HEAVY = ("torch", "transformers", "onnx", "onnxruntime", "safetensors")


def test_declares_the_plugin_api() -> None:
    assert olive_torch.plugin.olive_plugin_api == "1.0"


def test_registers_its_components(olive_plugin_manager) -> None:
    registry = olive_plugin_manager.registry
    assert {"hf", "pytorch"} <= set(registry.names("model_type"))
    assert "hf_tokenize" in registry.names("data_component")
    assert registry.get("model_type", "hf").source.distribution == "olive-torch"
    assert registry.load("data_component", "hf_tokenize").role == "preprocess"


def test_discovery_and_handles_load_no_heavy_framework(tiny_bert_dir: Path) -> None:
    # Listing plugins, resolving our classes and making an hf handle must not import torch.
    code = f"""
import json, sys
from pathlib import Path
import olive_torch.plugin
from olive_core.plugins import create_plugin_manager
registry = create_plugin_manager().registry
hf = registry.load("model_type", "hf")
registry.load("model_type", "pytorch")
registry.load("data_component", "hf_tokenize")
hf().create_handle("m", hf.Config(model_path={str(tiny_bert_dir)!r}), Path("."))
print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))
"""
    env = {**os.environ, "OLIVE_STRICT_PLUGINS": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
