"""The example plugin, installed as a wheel: a real `olive run` and the PassContract suite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from olive_core.models.handler import ModelHandler
from olive_core.testing import PassContract


def make_onnx_model(path: Path) -> Path:
    """A one-MatMul ONNX model: y = x @ W."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(3, 2), name="W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
        initializer=[weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path)
    return path


class TestOnnxAddMetadataContract(PassContract):
    pass_name = "OnnxAddMetadata"
    configs = [{"metadata": {"owner": "search-team"}}, {"metadata": {"owner": "x"}, "overwrite": False}]

    @pytest.fixture
    def input_model(self, tmp_path: Path) -> ModelHandler:
        return ModelHandler(type="onnx", path=str(make_onnx_model(tmp_path / "in" / "model.onnx")))

    def check_output(self, config, input_model, output_model):
        import onnx

        props = {p.key: p.value for p in onnx.load(output_model.path).metadata_props}
        assert props["owner"] == config["metadata"]["owner"]


def _olive() -> str:
    return shutil.which("olive", path=str(Path(sys.executable).parent)) or "olive"


def test_installed_as_a_distribution_not_from_the_source_tree():
    from importlib import metadata

    import olive_example_plugin

    assert metadata.version("olive-example-plugin") == "0.1.0"
    assert "site-packages" in olive_example_plugin.__file__


def test_real_olive_run_uses_the_published_pass(tmp_path):
    import onnx

    model = make_onnx_model(tmp_path / "model" / "model.onnx")
    workflow = {
        "input_model": {"type": "onnx", "config": {"model_path": str(model)}},
        "passes": {"stamp": {"type": "OnnxAddMetadata", "config": {"metadata": {"owner": "search-team", "ticket": "OPT-42"}}}},
        "engine": {"output_dir": "out", "cache": {"type": "local", "config": {"dir": "cache"}}},
    }
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(workflow))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLIVE_")}
    done = subprocess.run([_olive(), "run", str(path)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    described = json.loads((tmp_path / "out" / "model" / "model.json").read_text())
    output = onnx.load(tmp_path / "out" / "model" / described["path"])
    assert {p.key: p.value for p in output.metadata_props} == {"owner": "search-team", "ticket": "OPT-42"}
    listing = subprocess.run([_olive(), "plugins"], capture_output=True, text=True, env=env, check=True).stdout
    assert "olive-example-plugin 0.1.0" in listing and "OnnxAddMetadata" in listing
