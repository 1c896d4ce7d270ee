"""The `onnx` model type: handles, checks of bad and unsafe files, content ids, packaged files."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto

from olive_core.errors import ModelLoadError
from olive_core.testing.steps import CPU, run_pass

from olive_onnx.model import OnnxModelConfig, OnnxModelType
from olive_onnx.testing import matmul_graph, onnx_handle


@pytest.fixture
def model_type() -> OnnxModelType:
    return OnnxModelType()


def _set_location(model_file: Path, location: str) -> None:
    """Rewrite the external data location of every external tensor, as a crafted model would."""
    model = onnx.load(str(model_file), load_external_data=False)
    for tensor in model.graph.initializer:
        if tensor.data_location == TensorProto.EXTERNAL:
            for entry in tensor.external_data:
                if entry.key == "location":
                    entry.value = location
    onnx.save_model(model, str(model_file))


def test_handle_from_a_file_relative_to_the_workflow(model_type: OnnxModelType, save_onnx: Callable[..., Path]) -> None:
    model_file = save_onnx(matmul_graph(), "models/m.onnx")
    config = OnnxModelConfig(model_path="models/m.onnx")
    handle = model_type.create_handle("input", config, model_file.parent.parent)
    assert handle.type == "onnx" and Path(handle.path) == model_file.resolve()


def test_io_config_is_read_from_the_graph(model_type: OnnxModelType, tiny_bert_file: Path) -> None:
    handle = model_type.create_handle("input", OnnxModelConfig(model_path=str(tiny_bert_file)), Path("/"))
    io = handle.io_config
    assert io is not None
    assert io.input_names == ["input_ids", "attention_mask", "token_type_ids"]
    assert io.input_types == ["int64", "int64", "int64"]
    assert io.output_names == ["last_hidden_state"]
    assert io.dynamic_axes is not None and io.dynamic_axes["input_ids"] == {0: "batch", 1: "sequence"}
    assert io.input_shapes is None


def test_a_given_io_config_is_kept(model_type: OnnxModelType, save_onnx: Callable[..., Path]) -> None:
    model_file = save_onnx(matmul_graph(), "io/model.onnx")
    io = {"input_names": ["x"], "input_shapes": [[1, 64]], "input_types": ["float32"]}
    handle = model_type.create_handle("input", OnnxModelConfig(model_path=str(model_file), io_config=io), Path("/"))
    assert handle.io_config is not None and handle.io_config.input_shapes == [[1, 64]]


def test_handle_from_a_folder_with_one_model(model_type: OnnxModelType, save_onnx: Callable[..., Path]) -> None:
    model_file = save_onnx(matmul_graph(), "folder/model.onnx", external=True)
    handle = model_type.create_handle("input", OnnxModelConfig(model_path=str(model_file.parent)), Path("/"))
    assert Path(handle.path) == model_file.resolve()


def test_folder_with_two_models_is_ambiguous(model_type: OnnxModelType, save_onnx: Callable[..., Path]) -> None:
    first = save_onnx(matmul_graph(), "two/a.onnx")
    save_onnx(matmul_graph(), "two/b.onnx")
    with pytest.raises(ModelLoadError, match=r"2 \.onnx files \(a\.onnx, b\.onnx\)"):
        model_type.create_handle("input", OnnxModelConfig(model_path=str(first.parent)), Path("/"))


def test_missing_model_names_the_path(model_type: OnnxModelType, tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="nope.onnx"):
        model_type.create_handle("input", OnnxModelConfig(model_path="nope.onnx"), tmp_path)


@pytest.mark.parametrize("content", [b"", b"this is not a protobuf at all" * 20], ids=["empty", "garbage"])
def test_garbage_is_refused_with_the_file_name(model_type: OnnxModelType, tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(content)
    with pytest.raises(ModelLoadError, match="bad.onnx"):
        model_type.check(onnx_handle(bad))


def test_truncated_model_is_refused(model_type: OnnxModelType, tiny_bert_file: Path, tmp_path: Path) -> None:
    data = tiny_bert_file.read_bytes()
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="truncated.onnx"):
        model_type.check(onnx_handle(truncated))


def test_a_valid_model_with_external_data_passes(model_type: OnnxModelType, save_onnx: Callable[..., Path]) -> None:
    model_file = save_onnx(matmul_graph(), "ext/model.onnx", external=True)
    model_type.check(onnx_handle(model_file))
    files = model_type.model_files(onnx_handle(model_file, files=["/some/tokenizer.json"]))
    assert files == [model_file, model_file.parent / "model.onnx.data", Path("/some/tokenizer.json")]


@pytest.mark.parametrize(
    "location, message",
    [
        ("../outside.data", "outside the model's folder"),
        ("sub/../../outside.data", "outside the model's folder"),
        ("/etc/passwd", "absolute path"),
        ("C:\\Windows\\win.ini", "absolute path"),
    ],
)
def test_external_data_outside_the_folder_is_refused(
    model_type: OnnxModelType, save_onnx: Callable[..., Path], location: str, message: str
) -> None:
    model_file = save_onnx(matmul_graph(), "unsafe/model.onnx", external=True)
    shutil.copy(model_file.parent / "model.onnx.data", model_file.parent.parent / "outside.data")
    _set_location(model_file, location)
    with pytest.raises(ModelLoadError, match=message) as raised:
        model_type.check(onnx_handle(model_file))
    assert str(model_file) in str(raised.value)
    # neither may the content id, a session or a pass read it
    with pytest.raises(ModelLoadError):
        model_type.content_id(onnx_handle(model_file))
    with pytest.raises(ModelLoadError, match=message):
        model_type.create_session(onnx_handle(model_file), CPU, {})
    with pytest.raises(ModelLoadError, match=message):
        run_pass("OnnxDynamicQuantization", onnx_handle(model_file), model_file.parent / "out")


def test_external_data_through_a_symlink_is_refused(model_type: OnnxModelType, save_onnx: Callable[..., Path]) -> None:
    model_file = save_onnx(matmul_graph(), "link/model.onnx", external=True)
    outside = model_file.parent.parent / "secret.data"
    (model_file.parent / "model.onnx.data").rename(outside)
    os.symlink(outside, model_file.parent / "model.onnx.data")
    with pytest.raises(ModelLoadError, match="symbolic link"):
        model_type.check(onnx_handle(model_file))


def test_missing_external_data_is_refused(model_type: OnnxModelType, save_onnx: Callable[..., Path]) -> None:
    model_file = save_onnx(matmul_graph(), "gone/model.onnx", external=True)
    (model_file.parent / "model.onnx.data").unlink()
    with pytest.raises(ModelLoadError, match="does not exist"):
        model_type.check(onnx_handle(model_file))


def test_content_id_covers_model_and_external_data_only(
    model_type: OnnxModelType, save_onnx: Callable[..., Path]
) -> None:
    model_file = save_onnx(matmul_graph(), "hash/model.onnx", external=True)
    handle = onnx_handle(model_file)
    first = model_type.content_id(handle)
    (model_file.parent / "notes.txt").write_text("unrelated")
    assert model_type.content_id(handle) == first
    data = model_file.parent / "model.onnx.data"
    data.write_bytes(bytes(reversed(data.read_bytes())))
    assert model_type.content_id(handle) != first


def test_content_id_is_the_same_for_a_folder_or_its_file(
    model_type: OnnxModelType, save_onnx: Callable[..., Path]
) -> None:
    model_file = save_onnx(matmul_graph(), "same/model.onnx")
    assert model_type.content_id(onnx_handle(model_file)) == model_type.content_id(onnx_handle(model_file.parent))
