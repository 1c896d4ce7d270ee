"""An ONNX model given as a folder carries its config and tokenizer files to the output, and
nothing from outside the folder."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import onnx
import pytest

import olive_core
from olive_core.models import ModelHandler

from olive_onnx.model import OnnxModelConfig, OnnxModelType
from olive_onnx.testing import matmul_graph

SUPPORT = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def _model_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    onnx.save_model(matmul_graph(), str(folder / "model.onnx"))
    for name in SUPPORT:
        (folder / name).write_text(json.dumps({"name": name}))
    (folder / "notes.txt").write_text("not a support file")
    return folder


def _handle(model_path: Path) -> ModelHandler:
    return OnnxModelType().create_handle("input_model", OnnxModelConfig(model_path=str(model_path)), model_path.parent)


def test_onnx_folder_input_carries_its_config_and_tokenizer_files(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path / "exported")
    assert sorted(Path(f).name for f in _handle(folder).files) == sorted(SUPPORT)
    assert _handle(folder / "model.onnx").files == []  # a file names only itself


def test_onnx_folder_input_keeps_its_tokenizer_and_config_files_in_the_output(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path / "exported")
    workflow = {
        "input_model": {"type": "onnx", "config": {"model_path": "exported"}},
        "passes": {"quantize": {"type": "OnnxDynamicQuantization"}},
    }
    (tmp_path / "workflow.json").write_text(json.dumps(workflow))
    result = olive_core.run(tmp_path / "workflow.json", output_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    assert result.ok
    written = {p.name for p in (tmp_path / "out" / "model").iterdir()}
    assert set(SUPPORT) <= written and "notes.txt" not in written
    assert (tmp_path / "out" / "model" / "tokenizer.json").read_text() == (folder / "tokenizer.json").read_text()


def test_support_file_linking_outside_the_folder_is_not_carried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _model_folder(tmp_path / "exported")
    secret = tmp_path / "secret.json"
    secret.write_text('{"token": "do not copy"}')
    (folder / "tokenizer.json").unlink()
    os.symlink(secret, folder / "tokenizer.json")
    os.symlink(folder / "config.json", folder / "vocab.json")  # a link that stays inside is fine
    with caplog.at_level(logging.WARNING, logger="olive_torch.hf_model"):
        files = {Path(f).name for f in _handle(folder).files}
    assert "tokenizer.json" not in files and {"config.json", "vocab.json"} <= files
    assert "tokenizer.json" in caplog.text and "outside the model folder" in caplog.text


@pytest.mark.parametrize(
    "module_path", ["../outside", "/etc", "1_Pooling"], ids=["dotdot", "absolute", "escaping-link"]
)
def test_modules_json_folders_outside_the_folder_are_not_carried(tmp_path: Path, module_path: str) -> None:
    folder = _model_folder(tmp_path / "exported")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("secret")
    if module_path == "1_Pooling":
        (folder / "1_Pooling").mkdir()
        os.symlink(tmp_path / "outside" / "secret.txt", folder / "1_Pooling" / "config.json")
    (folder / "2_Normalize").mkdir()
    (folder / "2_Normalize" / "config.json").write_text("{}")
    modules = [{"idx": 0, "path": module_path}, {"idx": 1, "path": "2_Normalize"}]
    (folder / "modules.json").write_text(json.dumps(modules))
    files = {Path(f).name for f in _handle(folder).files}
    assert "2_Normalize" in files and "modules.json" in files
    assert not files & {"outside", "etc", "1_Pooling"}


def test_content_id_of_a_folder_input_follows_its_tokenizer(tmp_path: Path) -> None:
    folder = _model_folder(tmp_path / "exported")
    model_type = OnnxModelType()
    first = model_type.content_id(_handle(folder))
    (folder / "notes.txt").write_text("edited")
    assert model_type.content_id(_handle(folder)) == first
    (folder / "tokenizer.json").write_text('{"other": "vocabulary"}')
    assert model_type.content_id(_handle(folder)) != first
