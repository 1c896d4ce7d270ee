"""The `pytorch` model type: every format, and a clear error for every unusable file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import ConfigError, ModelLoadError
from olive_torch.io import resolve_io_config
from olive_torch.loading import import_loader, load_torch_model
from olive_torch.pytorch_model import PyTorchModelConfig, PyTorchModelType

CPU = AcceleratorSpec("cpu")


@pytest.fixture(scope="module")
def reference(torch_files: Path) -> tuple[np.ndarray, np.ndarray]:
    """An input and what TinyNet (the weights every file holds) returns for it."""
    import torch

    net = import_loader(f"{torch_files / 'nets.py'}:build")().eval()
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return x.numpy(), net(x).numpy()


@pytest.mark.parametrize(
    ("config", "model_format"),
    [
        ({"model_loader": "nets.py:build"}, "loader"),
        ({"model_path": "state.pt", "model_loader": "nets.py:build"}, "torch_save"),
        ({"model_path": "state.safetensors", "model_loader": "nets.py:build"}, "safetensors"),
        ({"model_path": "weights-folder", "model_loader": "nets.py:build_from_folder"}, "loader_path"),
        ({"model_path": "scripted.pt"}, "torchscript"),
        ({"model_path": "exported.pt2", "io_config": None}, "exported_program"),
    ],
)
def test_every_format_runs_with_the_same_weights(make_torch_handle, reference, config, model_format) -> None:
    handle = make_torch_handle(**config)
    assert handle.attributes["model_format"] == model_format
    PyTorchModelType().check(handle)
    session = PyTorchModelType().create_session(handle, CPU, {})
    x, expected = reference
    (y,) = session.run({session.input_names[0]: x})
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_an_exported_program_records_its_io_config(make_torch_handle) -> None:
    io = resolve_io_config(make_torch_handle(model_path="exported.pt2", io_config=None))
    assert io.input_names == ["x"] and io.input_shapes == [[2, 4]] and io.input_types == ["float32"]
    assert io.dynamic_axes == {"x": {0: "batch_size"}} and len(io.output_names) == 1


def test_content_id_changes_with_loader_kwargs(make_torch_handle) -> None:
    model_type = PyTorchModelType()
    one = model_type.content_id(make_torch_handle(model_loader="nets.py:build"))
    assert one == model_type.content_id(make_torch_handle(model_loader="nets.py:build"))
    assert one != model_type.content_id(make_torch_handle(model_loader="nets.py:build", loader_kwargs={"width": 5}))


@pytest.mark.parametrize("model_loader", [None, "nets.py:build"])
def test_a_pickled_module_is_named_a_pickled_module_not_a_state_dict(make_torch_handle, model_loader) -> None:
    with pytest.raises(ModelLoadError, match="a pickled module .*which olive does not unpickle") as error:
        make_torch_handle(model_path="pickled_module.pt", model_loader=model_loader)
    assert "pickled_module.pt" in str(error.value) and "torch.nn.modules.linear.Linear" in str(error.value)
    assert "state dict" not in str(error.value).split("hint:")[0]
    assert "state_dict" in error.value.hint and "TorchScript" in error.value.hint


@pytest.mark.parametrize(
    ("save_kwargs", "what"),
    [({"pickle_protocol": 4}, "module"), ({"_use_new_zipfile_serialization": False}, "module"), ({}, "os.system")],
)
def test_a_pickle_of_any_object_is_refused_from_its_opcodes_without_unpickling(
    make_torch_handle, tmp_path, save_kwargs, what
) -> None:
    import torch

    path = tmp_path / "object.pt"
    if what == "os.system":  # what a malicious file holds: a call to os.system on unpickling
        path.write_bytes(b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.")
    else:
        torch.save(torch.nn.Sequential(torch.nn.Linear(4, 3)), path, **save_kwargs)
    with pytest.raises(ModelLoadError, match="which olive does not unpickle") as error:
        make_torch_handle(model_path=str(path), model_loader="nets.py:build")
    expected = "pickled Python objects (os.system)" if what == "os.system" else "a pickled module (torch.nn.modules"
    assert expected in str(error.value)


def test_a_legacy_state_dict_is_still_a_state_dict(make_torch_handle, torch_files, tmp_path) -> None:
    import torch

    state = torch.load(torch_files / "state.pt", weights_only=True)
    torch.save(state, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    handle = make_torch_handle(model_path=str(tmp_path / "legacy.pt"), model_loader="nets.py:build")
    assert handle.attributes["model_format"] == "torch_save"
    assert torch.equal(load_torch_model(handle).lin.weight, state["lin.weight"])


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("garbage.pt", "is not a PyTorch file"),
        ("truncated.pt", "damaged or truncated"),
        ("truncated.safetensors", "not a valid safetensors file"),
    ],
)
def test_broken_files_are_named(make_torch_handle, file, message) -> None:
    with pytest.raises(ModelLoadError, match=message) as error:
        make_torch_handle(model_path=file, model_loader="nets.py:build")
    assert file in str(error.value)


def test_missing_file_is_named(make_torch_handle) -> None:
    with pytest.raises(ModelLoadError, match="nope.pt' does not exist"):
        make_torch_handle(model_path="nope.pt")


def test_state_dict_without_a_loader(make_torch_handle) -> None:
    with pytest.raises(ModelLoadError, match="weights only") as error:
        make_torch_handle(model_path="state.safetensors")
    assert "model_loader" in error.value.hint


def test_weights_that_do_not_fit_the_module(make_torch_handle) -> None:
    handle = make_torch_handle(model_path="state.pt", model_loader="nets.py:build", loader_kwargs={"width": 5})
    with pytest.raises(ModelLoadError, match="do not fit"):
        load_torch_model(handle)


@pytest.mark.parametrize(
    ("loader", "message"),
    [("nets.py:no_such_function", "cannot be imported"), ("nets.py:not_a_module", "not a torch.nn.Module")],
)
def test_unusable_loaders(make_torch_handle, loader, message) -> None:
    with pytest.raises(ModelLoadError, match=message):
        load_torch_model(make_torch_handle(model_loader=loader))


def test_io_config_is_required_where_it_cannot_be_derived(tiny_net_io) -> None:
    with pytest.raises(ValidationError, match="io_config is required"):
        PyTorchModelConfig(model_path="state.pt", model_loader="nets.py:build")
    with pytest.raises(ValidationError, match="model_path, model_loader"):
        PyTorchModelConfig(io_config=tiny_net_io)
    with pytest.raises(ValidationError, match="output_names"):
        PyTorchModelConfig(model_loader="nets.py:build", io_config={**tiny_net_io, "output_names": []})


def test_io_config_with_more_inputs_than_forward_takes(make_torch_handle, tiny_net_io) -> None:
    io = {**tiny_net_io, "input_names": ["x", "mask"], "input_shapes": [[2, 4], [2, 4]], "input_types": None}
    handle = make_torch_handle(model_loader="nets.py:build", io_config=io)
    with pytest.raises(ConfigError, match="names 2 inputs") as error:
        PyTorchModelType().create_session(handle, CPU, {})
    assert "io_config.input_names" in str(error.value)


def test_a_cached_pytorch_handle_gets_its_loader_from_its_parent_not_the_cache(tmp_path):
    from olive_core.models.handler import ModelHandler
    from olive_torch.pytorch_model import PyTorchModelType

    parent = ModelHandler(type="pytorch", path="w.safetensors", attributes={"model_loader": "/w/nets.py:build", "loader_kwargs": {"n": 1}})
    planted = ModelHandler(
        type="pytorch",
        path="w2.safetensors",
        attributes={"model_loader": "/tmp/evil.py:build", "trusted_modules": ["os"], "model_format": "safetensors"},
    )
    restored = PyTorchModelType().from_cache(planted, parent).attributes
    assert restored == {"model_loader": "/w/nets.py:build", "loader_kwargs": {"n": 1}, "trusted_modules": None, "model_format": "safetensors"}
