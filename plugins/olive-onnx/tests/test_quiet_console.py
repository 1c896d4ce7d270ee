"""ONNX Runtime's C++ logger writes to descriptor 2 directly: during ``olive run`` its lines go
to the run's log, never to the console (``olive_core.cli.capture``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from olive_core.cli.main import cli

REMOVED = "Removing initializer 'unused_weight'"


def _model_with_an_unused_initializer(path: Path) -> Path:
    """Identity with an initializer no node reads: ORT warns about it from C++ when loading."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    unused = numpy_helper.from_array(np.ones((4,), np.float32), "unused_weight")
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y], [unused])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_onnx_runtime_log_lines_go_to_the_run_log(tmp_path: Path, capfd) -> None:
    model = _model_with_an_unused_initializer(tmp_path / "model.onnx")
    workflow = {
        "input_model": {"type": "onnx", "config": {"model_path": str(model)}},
        "data": {"d": {"load": {"type": "synthetic", "config": {"num_samples": 2, "shapes": {"x": [4]}}}}},
        "metrics": [{"name": "latency", "type": "latency", "data": "d", "config": {"warmup_runs": 1, "repeat_runs": 2}}],
        "engine": {"output_dir": "out", "cache": {"type": "local", "config": {"dir": "cache"}}},
    }
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(workflow))
    result = CliRunner().invoke(cli, ["run", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out, err = capfd.readouterr()
    assert REMOVED not in result.output + out + err
    log = (tmp_path / "out" / "run.log").read_text()
    assert REMOVED in log and "\x1b[" not in log  # ORT colours the line even for a file: the log has it plain
