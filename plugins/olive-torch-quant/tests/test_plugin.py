"""The plugin's registration, and that discovering it and resolving its passes stays cheap."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import olive_torch_quant.plugin

HEAVY = ("torch", "torchao", "peft", "transformers", "safetensors", "onnx", "onnxruntime")


def test_declares_the_plugin_api() -> None:
    assert olive_torch_quant.plugin.olive_plugin_api == "1.0"


def test_registers_its_passes_under_its_distribution(olive_plugin_manager) -> None:
    registry = olive_plugin_manager.registry
    assert set(olive_torch_quant.plugin.PASSES) <= set(registry.names("pass"))
    for name in olive_torch_quant.plugin.PASSES:
        assert registry.get("pass", name).source.distribution == "olive-torch-quant"
        assert registry.load("pass", name).__name__ == name


def test_discovery_and_pass_classes_load_no_heavy_framework() -> None:
    code = f"""
import json, sys
from olive_core.plugins import create_plugin_manager
registry = create_plugin_manager().registry
for name in {sorted(olive_torch_quant.plugin.PASSES)!r}:
    cls = registry.load("pass", name)
    cls.Config.model_json_schema()
print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))
"""
    env = {**os.environ, "OLIVE_STRICT_PLUGINS": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_torchaos_expected_import_warnings_are_dropped_and_others_kept() -> None:
    # transformers imports torchao when it is installed: a CPU build warns about CUDA libraries
    code = """
import logging
logging.basicConfig(level=logging.WARNING)
import olive_torch_quant.plugin
from transformers import BertForSequenceClassification
logging.getLogger("torchao").warning("something else torchao says")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ})
    assert result.returncode == 0, result.stderr
    assert "something else torchao says" in result.stderr
    for expected in ("Failed to load", "Detected no triton", "is an Enum subclass"):
        assert expected not in result.stderr


def test_olive_passes_shows_that_its_passes_keep_the_input_type() -> None:
    from click.testing import CliRunner

    from olive_core.cli.main import cli

    for name in ("MagnitudePruning", "NMSparsity", "TorchAOQuantization", "LoRAFinetuning", "MergeLoRA"):
        result = CliRunner().invoke(cli, ["passes", name])
        assert result.exit_code == 0, result.output
        assert "input: hf, pytorch -> output: same as input" in result.output
    assert "input: hf -> output: hf" in CliRunner().invoke(cli, ["passes", "StructuredPruning"]).output
