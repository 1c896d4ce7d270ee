"""The plugin's registrations, what `olive plugins` and `olive passes` show, and its import cost."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from olive_core.cli.main import cli
from olive_core.plugins import create_plugin_manager

HEAVY = ("torch", "transformers", "onnx", "onnxruntime", "onnxruntime_genai")

REGISTERED = {
    "model_type": {"genai"},
    "pass": {"GenAIModelBuilder", "GenAIKVCacheExport", "GenAIWeightOnlyQuantization"},
    "metric": {"perplexity", "token_agreement", "generation_latency"},
    "data_component": {"text_blocks", "prompts"},
    "recipe": {"genai-language-models"},
}


def test_registers_its_components_from_its_distribution() -> None:
    registry = create_plugin_manager().registry
    for kind, names in REGISTERED.items():
        for name in names:
            component = registry.get(kind, name)
            assert component.source.distribution == "olive-genai"
            assert isinstance(component.target, str), "components are registered by import path"
            component.load()


def test_olive_plugins_lists_it_and_olive_passes_shows_the_builders_options() -> None:
    listing = json.loads(CliRunner().invoke(cli, ["plugins", "--json"]).output)
    genai = next(plugin for plugin in listing["plugins"] if plugin["distribution"] == "olive-genai")
    assert set(genai["components"]["pass"]) == REGISTERED["pass"]
    shown = CliRunner().invoke(cli, ["passes", "GenAIModelBuilder"])
    assert shown.exit_code == 0, shown.output
    assert "input: hf -> output: genai" in shown.output
    for option in ("precision", "block_size", "symmetric", "accuracy_level", "algorithm", "quantize_embeddings", "quantize_lm_head"):
        assert f"    {option} (" in shown.output
    assert "[searchable: ['fp32', 'int8', 'int4']]" in shown.output


def test_discovery_and_every_component_class_load_nothing_heavy() -> None:
    code = f"""
import sys
from olive_core.plugins import create_plugin_manager
registry = create_plugin_manager().registry
for kind, names in {REGISTERED!r}.items():
    for name in names:
        cls = registry.load(kind, name)
        getattr(cls, "Config", None) and cls.Config.model_json_schema()
print(",".join(m for m in {HEAVY!r} if m in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"loaded: {result.stdout.strip()}"
