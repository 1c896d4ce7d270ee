"""The `genai` model type: a folder ONNX Runtime GenAI loads, checked before anything opens it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from olive_core.errors import ConfigError, ModelLoadError
from olive_core.models.handler import ModelHandler
from olive_core.testing.steps import CPU
from olive_genai.model import GenAIModelType


def _copy(model: ModelHandler, tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(model.path, folder)
    return folder


def _handle(folder: Path) -> ModelHandler:
    model_type = GenAIModelType()
    return model_type.create_handle("input_model", model_type.Config(model_path=str(folder)), folder.parent)


def test_a_built_folder_is_a_genai_model_with_its_architecture(built_fp32: ModelHandler, tmp_path: Path) -> None:
    handle = _handle(_copy(built_fp32, tmp_path))
    GenAIModelType().check(handle)
    assert handle.attributes["context_length"] == 128 and handle.attributes["decoder"] == "model.onnx"
    assert GenAIModelType().content_id(handle) == GenAIModelType().content_id(_handle(Path(handle.path)))


def test_a_genai_model_goes_through_a_run_and_its_output_is_a_genai_model_again(built_fp32: ModelHandler, tmp_path: Path) -> None:
    import olive_core

    folder = _copy(built_fp32, tmp_path)
    workflow = {
        "input_model": {"type": "genai", "config": {"model_path": str(folder)}},
        "passes": {"int4": {"type": "GenAIWeightOnlyQuantization", "config": {"algorithm": "rtn"}}},
        "metrics": [{"name": "size", "type": "size"}],
        "engine": {"output_dir": "out", "cache": {"type": "local", "config": {"dir": "cache"}}},
    }
    (tmp_path / "workflow.json").write_text(json.dumps(workflow))
    result = olive_core.run(tmp_path / "workflow.json")
    assert result.ok, [c.error for c in result.candidates]
    output = tmp_path / "out" / "model"
    assert {"genai_config.json", "model.onnx", "model.onnx.data", "tokenizer.json", "model.json"} <= {p.name for p in output.iterdir()}
    assert result.candidates[0].evaluation.values["size-mb"] < result.input_evaluation.values["size-mb"]
    again = _handle(output)  # the output folder is itself a loadable genai model
    GenAIModelType().check(again)
    session = GenAIModelType().create_session(again, CPU, {})
    assert session.generate(np.array([[1, 5, 6]]), 3).tokens.shape == (1, 3)


def test_logits_of_a_text_as_long_as_the_context(built_fp32: ModelHandler) -> None:
    """Perplexity's blocks may fill the context: the generator needs room for them, not one token more."""
    handle = _handle(Path(built_fp32.path))
    session = GenAIModelType().create_session(handle, CPU, {})
    context = handle.attributes["context_length"]
    ids = np.arange(context, dtype=np.int64)[None, :] % 200
    assert session.logits(ids).shape == (1, context, 256)


@pytest.mark.parametrize("name", ["../elsewhere.onnx", "/etc/hosts", "sub/../../elsewhere.onnx"])
def test_a_genai_config_naming_a_file_outside_its_folder_is_refused(built_fp32: ModelHandler, tmp_path: Path, name: str) -> None:
    folder = _copy(built_fp32, tmp_path)
    (tmp_path / "elsewhere.onnx").write_bytes((folder / "model.onnx").read_bytes())
    config = json.loads((folder / "genai_config.json").read_text())
    config["model"]["decoder"]["filename"] = name
    (folder / "genai_config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=r"genai_config.json model.decoder.filename names .*, outside the model folder"):
        _handle(folder)


def test_a_decoder_linking_outside_its_folder_is_refused(built_fp32: ModelHandler, tmp_path: Path) -> None:
    folder = _copy(built_fp32, tmp_path)
    (tmp_path / "real.onnx").write_bytes((folder / "model.onnx").read_bytes())
    (folder / "model.onnx").unlink()
    (folder / "model.onnx").symlink_to(tmp_path / "real.onnx")
    with pytest.raises(ModelLoadError, match="outside the model folder"):
        _handle(folder)


def test_a_folder_without_tokenizer_files_is_refused(built_fp32: ModelHandler, tmp_path: Path) -> None:
    folder = _copy(built_fp32, tmp_path)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (folder / name).unlink()
    with pytest.raises(ModelLoadError, match="has no tokenizer files"):
        _handle(folder)


@pytest.mark.parametrize(("content", "message"), [(None, "has no genai_config.json"), ("{not json", "cannot be read as JSON"), ('{"model": {}}', "names no model.decoder.filename")])
def test_a_folder_that_is_not_a_genai_model_says_why(built_fp32: ModelHandler, tmp_path: Path, content: str | None, message: str) -> None:
    folder = _copy(built_fp32, tmp_path)
    if content is None:
        (folder / "genai_config.json").unlink()
    else:
        (folder / "genai_config.json").write_text(content)
    with pytest.raises(ModelLoadError, match=message):
        _handle(folder)


def test_external_data_outside_the_folder_is_refused(built_fp32: ModelHandler, tmp_path: Path) -> None:
    import onnx

    folder = _copy(built_fp32, tmp_path)
    model = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../model.onnx.data"
    onnx.save_model(model, str(folder / "model.onnx"))
    shutil.copy(folder / "model.onnx.data", tmp_path / "model.onnx.data")
    with pytest.raises(ModelLoadError, match="outside the model's folder"):
        GenAIModelType().check(_handle(folder))


def test_a_missing_genai_folder_in_a_workflow_names_the_field(tmp_path: Path) -> None:
    import olive_core

    workflow = {"input_model": {"type": "genai", "config": {"model_path": "nowhere"}}, "engine": {"output_dir": "out"}}
    (tmp_path / "workflow.json").write_text(json.dumps(workflow))
    with pytest.raises((ModelLoadError, ConfigError), match="input_model: '.*nowhere' is not a folder"):
        olive_core.run(tmp_path / "workflow.json", cache_dir=tmp_path / "cache")
