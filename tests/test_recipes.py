"""describe_model tells what kind of model a command-line argument names; choose_recipe picks the
recipe that writes its workflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from olive_core import hookimpl
from olive_core.errors import ConfigError
from olive_core.plugins import create_plugin_manager
from olive_core.recipes import ModelSource, Recipe, Request, choose_recipe, describe_model, text_data


def test_an_onnx_file_and_a_folder_holding_one_are_onnx_models(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"")
    (tmp_path / "config.json").write_text("{}")  # an exported folder keeps the HF config beside it
    assert describe_model(str(tmp_path / "model.onnx")) == ModelSource(str(tmp_path / "model.onnx"), "onnx", tmp_path / "model.onnx")
    assert describe_model(str(tmp_path)).kind == "onnx"


def test_a_folder_with_config_json_is_a_hugging_face_model_with_its_architecture(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}))
    source = describe_model(str(tmp_path))
    assert source.kind == "hf" and source.path == tmp_path and source.architecture == "LlamaForCausalLM"


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An offline Hugging Face cache in tmp_path (huggingface_hub reads its settings at import)."""
    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return tmp_path / "hub"


def test_a_name_that_is_no_path_is_a_hub_id(hub_cache: Path) -> None:
    assert describe_model("sentence-transformers/all-MiniLM-L6-v2") == ModelSource("sentence-transformers/all-MiniLM-L6-v2", "hf")
    assert describe_model("gpt2").kind == "hf"


def test_a_hub_id_is_described_by_its_config_json_from_the_hub_cache(hub_cache: Path) -> None:
    snapshot = hub_cache / "models--acme--tiny-llm" / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0123abcd")
    (snapshot / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    source = describe_model("acme/tiny-llm")
    assert source.kind == "hf" and source.path is None and source.architecture == "LlamaForCausalLM"
    assert describe_model("acme/not-cached").config is None  # offline: unknown, the run will say why


def test_a_loader_makes_a_pytorch_model(tmp_path: Path) -> None:
    (tmp_path / "weights.pt").write_bytes(b"")
    source = describe_model(str(tmp_path / "weights.pt"), loader="build.py:build")
    assert source.kind == "pytorch" and source.loader == "build.py:build" and source.path == tmp_path / "weights.pt"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing", "no file or folder"),
        (lambda d: d / "../x/./missing.onnx", "no file or folder"),
        (lambda d: (d / "weights.pt").write_bytes(b"x") and d / "weights.pt", "is a PyTorch file"),
        (lambda d: (d / "notes.txt").write_text("hi") and d / "notes.txt", "is not a model olive recognises"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "holds neither a config.json"),
    ],
)
def test_what_is_not_a_model_is_one_error_naming_the_argument(tmp_path: Path, make: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        describe_model(str(make(tmp_path)))
    assert error.value.path == "MODEL"


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "\udcff"])
def test_a_damaged_config_json_is_named(tmp_path: Path, text: str) -> None:
    (tmp_path / "config.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(ConfigError, match="config.json"):
        describe_model(str(tmp_path))


class Generic(Recipe):
    model_kinds = ("hf",)

    def workflow(self, request: Request) -> dict[str, Any]:
        return {"by": "generic"}


class LanguageModels(Generic):
    priority = 10

    def accepts(self, request: Request) -> bool:
        return super().accepts(request) and (request.model.architecture or "").endswith("ForCausalLM")

    def workflow(self, request: Request) -> dict[str, Any]:
        return {"by": "language models"}


class Recipes:
    olive_plugin_api = "1.0"

    @hookimpl
    def register_recipes(self, register: Any) -> None:
        register("generic", Generic)
        register("language-models", LanguageModels)


def _request(architecture: str, **changes: Any) -> Request:
    return Request(task="optimize", model=ModelSource("m", "hf", None, {"architectures": [architecture]}), **changes)


def test_the_accepting_recipe_with_the_highest_priority_writes_the_workflow() -> None:
    manager = create_plugin_manager(entry_points=False)
    manager.register(Recipes(), name="recipes")
    assert choose_recipe(_request("LlamaForCausalLM"), manager.registry)[0] == "language-models"
    assert choose_recipe(_request("BertModel"), manager.registry)[0] == "generic"
    with pytest.raises(ConfigError, match="no installed recipe can optimize a 'hf' model \\(BertModel\\) on npu at int4") as error:
        choose_recipe(_request("BertModel", device="npu", precision="int4"), manager.registry)
    assert "generic: optimize/quantize/convert hf on cpu at fp32/fp16/int8/int4" in str(error.value)


def test_a_registered_recipe_must_be_a_recipe() -> None:
    from olive_core.errors import PluginError

    class NotRecipes:
        olive_plugin_api = "1.0"

        @hookimpl
        def register_recipes(self, register: Any) -> None:
            register("odd", dict)

    manager = create_plugin_manager(entry_points=False)
    manager.register(NotRecipes(), name="odd")
    with pytest.raises(PluginError, match="recipe 'odd' .* not a Recipe"):
        manager.registry.load("recipe", "odd")


def test_text_data_reads_txt_as_lines_and_jsonl_as_records(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("\nfirst text\nsecond\n")
    (tmp_path / "b.jsonl").write_text('{"text": "one"}\n\n{"text": "two", "label": 1}\n')
    assert text_data(tmp_path / "a.txt") == {"type": "text_lines", "config": {"path": str(tmp_path / "a.txt")}}
    assert text_data(tmp_path / "b.jsonl") == {"type": "jsonl", "config": {"path": str(tmp_path / "b.jsonl")}}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("data.csv", b"text\nhello\n", "is a '.csv' file; olive reads text data from .txt or .jsonl files"),
        ("data.txt", b"\xff\xfe\x00broken", "is not UTF-8 text"),
        ("data.txt", b"\n  \n", "holds no text"),
        ("data.jsonl", b'{"text": "ok"}\n{not json\n', "line 2 is not JSON"),
        ("data.jsonl", b'{"sentence": "no text field"}\n', "line 1 is not an object with a text field 'text'"),
        ("data.jsonl", b'["a list"]\n', "line 1 is not an object with a text field 'text'"),
    ],
)
def test_a_data_file_text_data_cannot_read_is_one_error_naming_data(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ConfigError, match=message) as error:
        text_data(tmp_path / name)
    assert error.value.path == "--data"
