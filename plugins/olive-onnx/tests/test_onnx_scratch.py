"""Every ONNX pass writes only inside its step's output folder, never beside the input model.

The tests run as root, which ignores a read-only folder's mode; so besides making the input's
folder read-only, they compare each watched folder's listing and modification time before and
after: a file created and deleted again (ORT's ``*-inferred.onnx``) still changes the time.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from olive_core.testing.steps import run_pass
from olive_onnx.files import read_model_proto
from olive_onnx.scratch import scratch_space, stage_input
from olive_onnx.testing import bert_feed, matmul_graph, onnx_handle


def _calibration(name: str) -> list[dict[str, np.ndarray]]:
    return [bert_feed(2, 8, seed=i) for i in range(2)]


#: (pass, config, needs calibration data); every pass of olive-onnx that reads an ONNX model
PASSES: list[tuple[str, dict[str, Any], bool]] = [
    ("OnnxDynamicQuantization", {}, False),
    ("OnnxStaticQuantization", {"data": "calib", "op_types_to_quantize": ["MatMul"]}, True),
    ("OnnxInt4WeightOnly", {"block_size": 32}, False),
    ("OnnxFloat16", {}, False),
    ("OnnxGraphOptimization", {}, False),
    ("OnnxTransformersOptimization", {"opt_level": 1}, False),
    ("OnnxSessionTuning", {"intra_op_num_threads": [1], "warmup_runs": 0, "rounds": 1, "runs_per_round": 1}, False),
]


def _state(folder: Path) -> tuple[list[str], int]:
    return sorted(p.name for p in folder.iterdir()), folder.stat().st_mtime_ns


@pytest.fixture
def watched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """A current directory and a temp folder that no pass may write to."""
    folders = {"current directory": tmp_path / "cwd", "temp folder": tmp_path / "tmp"}
    for folder in folders.values():
        folder.mkdir()
    monkeypatch.chdir(folders["current directory"])
    monkeypatch.setattr(tempfile, "tempdir", str(folders["temp folder"]))
    yield folders


def _read_only_copy(source: Path, folder: Path, external: bool = False) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(source, folder / "model.onnx")
    if external:
        shutil.copy(source.parent / "model.onnx.data", folder / "model.onnx.data")
    folder.chmod(0o555)
    return folder / "model.onnx"


@pytest.mark.parametrize("pass_name, config, calibrated", PASSES, ids=[p[0] for p in PASSES])
def test_pass_on_a_model_in_a_read_only_folder_writes_only_in_its_output_dir(
    tmp_path: Path, tiny_bert_file: Path, watched: dict[str, Path], pass_name: str, config: dict, calibrated: bool
) -> None:
    model_file = _read_only_copy(tiny_bert_file, tmp_path / "read-only")
    folders = {"input model's folder": model_file.parent, **watched}
    before = {name: _state(folder) for name, folder in folders.items()}
    output_dir = tmp_path / "step"
    try:
        output, _ = run_pass(
            pass_name, onnx_handle(model_file), output_dir, config, data=_calibration if calibrated else None
        )
    finally:
        model_file.parent.chmod(0o755)
    for name, folder in folders.items():
        assert _state(folder) == before[name], f"{pass_name} wrote in the {name} ({folder})"
    # the output holds the model only: the scratch folder is gone, so it is not cached
    assert {p.name for p in output_dir.iterdir()} <= {"model.onnx", "model.onnx.data"}
    assert read_model_proto(Path(output.path)).graph.node


def test_quantization_of_a_model_with_external_data_in_a_read_only_folder(
    tmp_path: Path, save_onnx: Callable[..., Path], watched: dict[str, Path]
) -> None:
    source = save_onnx(matmul_graph(k=64, n=64), "source/model.onnx", external=True)
    model_file = _read_only_copy(source, tmp_path / "read-only", external=True)
    before = _state(model_file.parent)
    try:
        output, _ = run_pass("OnnxDynamicQuantization", onnx_handle(model_file), tmp_path / "step")
    finally:
        model_file.parent.chmod(0o755)
    assert _state(model_file.parent) == before
    assert {p.name for p in (tmp_path / "step").iterdir()} == {"model.onnx"}
    assert "MatMulInteger" in {node.op_type for node in read_model_proto(Path(output.path)).graph.node}


def test_scratch_space_restores_the_process_and_is_removed_on_failure(tmp_path: Path) -> None:
    cwd, tempdir = Path.cwd(), tempfile.tempdir
    with pytest.raises(RuntimeError), scratch_space(tmp_path / "out") as scratch:
        assert Path.cwd() == scratch and tempfile.gettempdir() == str(scratch)
        assert scratch.parent == (tmp_path / "out").resolve()
        (scratch / "leftover.onnx").write_bytes(b"x" * 10)  # what a failed ORT call leaves
        raise RuntimeError("the tool failed")
    assert Path.cwd() == cwd and tempfile.tempdir == tempdir
    assert list((tmp_path / "out").iterdir()) == []


def test_input_on_another_file_system_is_copied_into_the_scratch_folder(
    tmp_path: Path, save_onnx: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    model_file = save_onnx(matmul_graph(), "ext/model.onnx", external=True)

    def cross_device(source: Any, target: Any) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(os, "link", cross_device)
    (tmp_path / "scratch").mkdir()
    staged = stage_input(model_file, tmp_path / "scratch")
    assert staged.parent != model_file.parent
    assert staged.read_bytes() == model_file.read_bytes()
    assert (staged.parent / "model.onnx.data").read_bytes() == (model_file.parent / "model.onnx.data").read_bytes()
