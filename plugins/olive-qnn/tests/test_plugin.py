"""What olive-qnn registers, what `olive plugins`, `olive passes` and `olive run --dry-run` show
of it, and that discovering it imports nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from olive_core.cli.main import cli
from olive_core.plugins import create_plugin_manager
from olive_qnn.testing import cnn_workflow

HEAVY = ("torch", "onnx", "onnxruntime", "onnxruntime_qnn")

REGISTERED = {
    "execution_provider": {"QNNExecutionProvider"},
    "pass": {"QnnPreprocess", "QnnQuantization", "QnnContextBinary"},
    "metric": {"npu_coverage"},
    "recipe": {"qnn-npu"},
}


def test_registers_its_components_from_its_distribution() -> None:
    registry = create_plugin_manager().registry
    for kind, names in REGISTERED.items():
        for name in names:
            component = registry.get(kind, name)
            assert component.source.distribution == "olive-qnn"
            assert isinstance(component.target, str), "components are registered by import path"


def test_olive_plugins_lists_it() -> None:
    listing = json.loads(CliRunner().invoke(cli, ["plugins", "--json"]).output)
    qnn = next(plugin for plugin in listing["plugins"] if plugin["distribution"] == "olive-qnn")
    assert set(qnn["components"]["pass"]) == REGISTERED["pass"]
    assert set(qnn["components"]["execution_provider"]) == REGISTERED["execution_provider"]


def test_olive_passes_shows_where_a_pass_runs_and_what_it_needs_of_its_input() -> None:
    shown = CliRunner().invoke(cli, ["passes", "QnnContextBinary"])
    assert shown.exit_code == 0, shown.output
    assert "runs on: npu (QNNExecutionProvider)" in shown.output
    assert "input must be: a QDQ ONNX model (QnnQuantization makes one)" in shown.output
    assert "input must be: static input shapes (QnnPreprocess fixes them)" in shown.output
    quantization = CliRunner().invoke(cli, ["passes", "QnnQuantization"]).output
    assert "activation_type ('uint8' | 'uint16', default 'uint16')" in quantization
    assert "[searchable: ['uint8', 'uint16']]" in quantization


def test_a_dry_run_targeting_the_cpu_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    file = tmp_path / "workflow.json"
    file.write_text(json.dumps(cnn_workflow(tmp_path, accelerators=[{"device": "cpu"}], metrics=[])))
    result = CliRunner().invoke(cli, ["run", str(file), "--dry-run"])
    assert result.exit_code == 2, result.output
    assert "passes.compile.type: QnnContextBinary runs on npu only, but the workflow targets 'cpu'" in result.output
    assert not (tmp_path / "cache").exists() and not (tmp_path / "output").exists()


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
