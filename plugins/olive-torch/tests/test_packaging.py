"""A `pytorch` model as files: its size, and an output folder that can be moved and loaded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.evaluation.metric import MetricContext
from olive_core.evaluation.metrics.size import MB, SizeMetric
from olive_core.models.handler import ModelHandler
from olive_torch.pytorch_model import PyTorchModelType

CPU = AcceleratorSpec("cpu")
#: TinyNet's weights: a 4 -> 3 linear layer in float32
TINY_NET_BYTES = (4 * 3 + 3) * 4


def size_mb(handle: ModelHandler) -> float:
    context = MetricContext(model=handle, model_type=PyTorchModelType(), accelerator=CPU, session=lambda: None)
    return SizeMetric().measure(None, context)["mb"]


def test_the_size_of_a_loader_only_model_is_its_weights_not_its_loader_file(make_torch_handle, torch_files) -> None:
    handle = make_torch_handle(model_loader="nets.py:build")
    size = size_mb(handle) * MB
    assert TINY_NET_BYTES <= size < TINY_NET_BYTES + 512  # the weights and a safetensors header
    assert size != (torch_files / "nets.py").stat().st_size
    wider = size_mb(make_torch_handle(model_loader="nets.py:build", loader_kwargs={"width": 40})) * MB
    assert abs((wider - size) - 36 * 3 * 4) <= 8  # 36 more inputs to each of 3 outputs (header padding aside)


def test_the_size_of_a_state_dict_model_is_its_file(make_torch_handle, torch_files) -> None:
    handle = make_torch_handle(model_path="state.safetensors", model_loader="nets.py:build")
    assert size_mb(handle) * MB == (torch_files / "state.safetensors").stat().st_size


def _workflow(folder: Path, model_config: dict, io_config: dict) -> Path:
    workflow = {
        "input_model": {"type": "pytorch", "config": {**model_config, "io_config": io_config}},
        "metrics": [{"name": "size", "type": "size"}],
        "engine": {"output_dir": "out", "cache": {"type": "local", "config": {"dir": "cache"}}},
    }
    (folder / "workflow.json").write_text(json.dumps(workflow))
    return folder / "workflow.json"


def _load_moved(folder: Path) -> list[np.ndarray]:
    """The model of a moved output folder, as a user loads it: model.json's handle, paths from the folder."""
    described = json.loads((folder / "model.json").read_text())
    described.pop("olive")
    handle = ModelHandler(**described)
    handle = handle.model_copy(
        update={"path": str(folder / handle.path), "files": [str(folder / f) for f in handle.files]}
    )
    session = PyTorchModelType().create_session(handle, CPU, {})
    return session.run({"x": np.ones((2, 4), dtype=np.float32)})


@pytest.mark.parametrize(
    "model_config",
    [{"model_loader": "nets.py:build"}, {"model_path": "state.safetensors", "model_loader": "nets.py:build"}],
    ids=["loader-only", "state-dict"],
)
def test_an_output_folder_names_its_loader_relatively_and_loads_after_a_move(
    torch_files, tmp_path, tiny_net_io, model_config
) -> None:
    import olive_core

    workflow_dir = tmp_path / "workflow"
    workflow_dir.mkdir()
    for name in ("nets.py", "state.safetensors"):
        shutil.copy(torch_files / name, workflow_dir / name)
    result = olive_core.run(_workflow(workflow_dir, model_config, tiny_net_io))
    assert result.ok
    expected = _load_moved(workflow_dir / "out" / "model")

    moved = tmp_path / "elsewhere" / "model"
    shutil.move(workflow_dir / "out" / "model", moved)
    shutil.rmtree(workflow_dir)  # neither the loader nor the weights may be read from the old place
    described = json.loads((moved / "model.json").read_text())
    assert described["attributes"]["model_loader"] == "nets.py:build"
    assert (moved / "nets.py").is_file() and (moved / described["path"]).is_file()
    assert described["attributes"]["model_format"] in ("safetensors", "torch_save")
    (y,) = _load_moved(moved)
    np.testing.assert_allclose(y, expected[0])


def test_packaging_a_model_whose_loader_file_is_gone_is_a_load_error(make_torch_handle, torch_files, tmp_path) -> None:
    from olive_core.errors import ModelLoadError

    shutil.copy(torch_files / "nets.py", tmp_path / "gone.py")
    handle = make_torch_handle(model_path="state.safetensors", model_loader="nets.py:build")
    handle = handle.derive(attributes={"model_loader": f"{tmp_path / 'gone.py'}:build"})
    (tmp_path / "gone.py").unlink()
    (tmp_path / "out").mkdir()
    with pytest.raises(ModelLoadError, match="gone.py' does not exist"):
        PyTorchModelType().package(handle, tmp_path / "out")
