"""The `hf` model type: handles, identity, refusals and loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from olive_core.errors import ConfigError, ModelLoadError
from olive_core.models.handler import ModelHandler
from olive_torch.hf_model import HfModelType, hf_support_files
from olive_torch.loading import load_torch_model


def test_handle_of_a_folder_derives_its_io_config(make_hf_handle, tiny_bert_dir: Path) -> None:
    handle = make_hf_handle(tiny_bert_dir)
    assert handle.type == "hf" and Path(handle.path) == tiny_bert_dir.resolve()
    io = handle.io_config
    assert io.input_names == ["input_ids", "attention_mask", "token_type_ids"]
    assert io.input_types == ["int64"] * 3 and io.output_names == ["last_hidden_state"]
    assert io.dynamic_axes["input_ids"] == {0: "batch_size", 1: "sequence_length"}
    assert handle.attributes["task"] == "feature-extraction"
    assert handle.attributes["model_type"] == "bert" and handle.attributes["num_attention_heads"] == 2


def test_relative_path_starts_at_the_workflow_folder(tiny_bert_dir: Path) -> None:
    config = HfModelType.Config(model_path=tiny_bert_dir.name, batch_size=3, sequence_length=5)
    handle = HfModelType().create_handle("input_model", config, tiny_bert_dir.parent)
    assert Path(handle.path) == tiny_bert_dir.resolve()
    assert handle.io_config.input_shapes == [[3, 5]] * 3


@pytest.mark.parametrize(
    ("task", "outputs", "class_name"),
    [
        ("text-classification", {"logits": {0: "batch_size"}}, "BertForSequenceClassification"),
        ("question-answering", {"start_logits": {0: "batch_size", 1: "sequence_length"}}, "BertForQuestionAnswering"),
        ("fill-mask", {"logits": {0: "batch_size", 1: "sequence_length"}}, "BertForMaskedLM"),
    ],
)
def test_task_picks_the_auto_class_and_outputs(make_hf_handle, tiny_classifier_dir: Path, task, outputs, class_name) -> None:
    handle = make_hf_handle(tiny_classifier_dir, task=task)
    for name, axes in outputs.items():
        assert name in handle.io_config.output_names and handle.io_config.dynamic_axes[name] == axes
    assert type(load_torch_model(handle)).__name__ == class_name


def test_load_kwargs_reach_from_pretrained(make_hf_handle, tiny_bert_dir: Path) -> None:
    model = load_torch_model(make_hf_handle(tiny_bert_dir, load_kwargs={"attn_implementation": "eager"}))
    assert model.config._attn_implementation == "eager" and not model.training


def test_content_id_covers_files_and_how_the_model_is_loaded(make_hf_handle, tiny_bert_dir: Path, copy_model) -> None:
    model_type = HfModelType()
    base = model_type.content_id(make_hf_handle(tiny_bert_dir))
    assert base == model_type.content_id(make_hf_handle(tiny_bert_dir))
    assert base != model_type.content_id(make_hf_handle(tiny_bert_dir, task="fill-mask"))
    changed = copy_model(tiny_bert_dir)
    (changed / "vocab.txt").write_text("changed")
    assert base != model_type.content_id(make_hf_handle(changed))


def test_content_id_does_not_change_with_the_hub_token(make_hf_handle, tiny_bert_dir: Path) -> None:
    model_type = HfModelType()
    first = model_type.content_id(make_hf_handle(tiny_bert_dir, load_kwargs={"token": "hf_one", "attn_implementation": "eager"}))
    rotated = model_type.content_id(make_hf_handle(tiny_bert_dir, load_kwargs={"token": "hf_two", "attn_implementation": "eager"}))
    assert first == rotated
    assert first != model_type.content_id(make_hf_handle(tiny_bert_dir, load_kwargs={"token": "hf_one"}))


def test_content_id_of_a_hub_id_is_its_id_and_revision() -> None:
    def handle(revision: str) -> ModelHandler:
        return ModelHandler(type="hf", path="org/model", attributes={"hub_id": True, "revision": revision, "task": "fill-mask"})

    model_type = HfModelType()
    assert model_type.content_id(handle("abc")) == model_type.content_id(handle("abc"))
    assert model_type.content_id(handle("abc")) != model_type.content_id(handle("def"))
    assert model_type.model_files(handle("abc")) == []


def test_missing_folder_is_named(make_hf_handle, tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist") as error:
        make_hf_handle(tmp_path / "nope")
    assert str(tmp_path / "nope") in str(error.value)


def test_unknown_hub_id_offline_is_a_clear_error(make_hf_handle) -> None:
    with pytest.raises(ModelLoadError, match="neither a local folder nor a hub model") as error:
        make_hf_handle("surely-not-an-org/surely-not-a-model")
    assert "HF_HUB_OFFLINE" in error.value.hint


def test_folder_without_config_json(make_hf_handle, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="no config.json"):
        make_hf_handle(tmp_path / "empty")


def test_unreadable_config_json(make_hf_handle, tiny_bert_dir: Path, copy_model) -> None:
    folder = copy_model(tiny_bert_dir)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="config.json' cannot be read as JSON"):
        make_hf_handle(folder)


def test_remote_code_is_refused_unless_trusted(make_hf_handle, tiny_bert_dir: Path, copy_model) -> None:
    folder = copy_model(tiny_bert_dir)
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "modeling_custom.CustomModel"}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="needs code shipped with the model") as error:
        make_hf_handle(folder)
    assert "trust_remote_code: true" in error.value.hint
    assert make_hf_handle(folder, trust_remote_code=True).attributes["trust_remote_code"] is True


def test_unknown_architecture_fails_to_load_with_a_hint(make_hf_handle, tiny_bert_dir: Path, copy_model) -> None:
    folder = copy_model(tiny_bert_dir)
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "surely_not_an_architecture"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError) as error:
        load_torch_model(make_hf_handle(folder))
    assert str(folder.resolve()) in str(error.value) and "trust_remote_code" in error.value.hint


def test_io_config_override_with_an_input_the_model_lacks(make_hf_handle, tiny_bert_dir: Path) -> None:
    from olive_core.accelerators import AcceleratorSpec

    io = {"input_names": ["input_ids", "pixel_values"], "output_names": ["last_hidden_state"]}
    handle = make_hf_handle(tiny_bert_dir, io_config=io)
    with pytest.raises(ConfigError, match="pixel_values") as error:
        HfModelType().create_session(handle, AcceleratorSpec("cpu"), {})
    assert "io_config.input_names" in str(error.value) and "token_type_ids" in error.value.hint


def test_io_config_override_with_an_output_the_model_lacks(make_hf_handle, tiny_bert_dir: Path) -> None:
    from olive_core.accelerators import AcceleratorSpec
    from olive_torch.io import dummy_inputs

    handle = make_hf_handle(tiny_bert_dir, io_config={"input_names": ["input_ids"], "output_names": ["logits"]})
    session = HfModelType().create_session(handle, AcceleratorSpec("cpu"), {})
    with pytest.raises(ConfigError, match="no output named 'logits'") as error:
        session.run({name: t.numpy() for name, t in dummy_inputs(handle).items()})
    assert "last_hidden_state" in error.value.hint


def test_support_files_of_a_sentence_transformers_folder(make_hf_handle, minilm_dir: Path) -> None:
    names = {path.name for path in hf_support_files(make_hf_handle(minilm_dir))}
    assert {"config.json", "tokenizer.json", "vocab.txt", "modules.json", "1_Pooling"} <= names
    assert not any(name.endswith((".safetensors", ".bin")) for name in names)


# -- paths from a model's own files stay inside its folder -------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the model with a file no output may receive."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("not for the output")
    return folder


def test_modules_json_naming_folders_outside_the_model_copies_none_of_them(
    make_hf_handle, tiny_bert_dir: Path, copy_model, outside: Path, caplog
) -> None:
    folder = copy_model(tiny_bert_dir)
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text("{}")
    escaping = ["../outside", str(outside), "1_Pooling/../../outside"]
    modules = [{"path": "1_Pooling"}, *({"path": path} for path in escaping)]
    (folder / "modules.json").write_text(json.dumps(modules))
    found = hf_support_files(make_hf_handle(folder))
    assert folder / "1_Pooling" in found
    assert not [path for path in found if "outside" in str(path)]
    assert caplog.text.count("outside the model folder: not copied") == 3


def test_a_support_file_or_folder_linking_outside_the_model_is_not_copied(
    make_hf_handle, tiny_bert_dir: Path, copy_model, outside: Path
) -> None:
    folder = copy_model(tiny_bert_dir)
    (folder / "1_Pooling").mkdir()
    (folder / "modules.json").write_text(json.dumps([{"path": "1_Pooling"}]))
    handle = make_hf_handle(folder)
    # links added after the handle was made: as a folder from a cache record may hold them
    (folder / "1_Pooling" / "config.json").symlink_to(outside / "secret.txt")
    (folder / "tokenizer.json").unlink()
    (folder / "tokenizer.json").symlink_to(outside / "secret.txt")
    names = {path.name for path in hf_support_files(handle)}
    assert "config.json" in names and not {"tokenizer.json", "1_Pooling"} & names


def test_a_model_folder_with_a_symlink_leading_out_is_refused(
    make_hf_handle, tiny_bert_dir, copy_model, outside
) -> None:
    folder = copy_model(tiny_bert_dir)
    (folder / "notes.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(ModelLoadError, match="symlink") as error:
        make_hf_handle(folder)
    assert "notes.txt" in str(error.value) and "cp -L" in error.value.hint


def test_a_hub_cache_snapshot_whose_files_link_to_its_blobs_is_accepted(
    make_hf_handle, tiny_bert_dir, tmp_path
) -> None:
    repo = tmp_path / "models--org--tiny"
    snapshot = repo / "snapshots" / "abc123"
    (repo / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    for file in tiny_bert_dir.iterdir():
        (repo / "blobs" / file.name).write_bytes(file.read_bytes())
        (snapshot / file.name).symlink_to(Path("../../blobs") / file.name)
    handle = make_hf_handle(snapshot)
    assert {"config.json", "tokenizer.json"} <= {path.name for path in hf_support_files(handle)}


@pytest.mark.parametrize("adapter", ["../outside", "/tmp", "adapter/../../outside"])
def test_an_adapter_attribute_outside_the_model_folder_is_refused(
    make_hf_handle, tiny_bert_dir, outside, adapter
) -> None:
    handle = make_hf_handle(tiny_bert_dir).derive(attributes={"adapter": adapter})
    with pytest.raises(ModelLoadError, match="outside the model's folder") as error:
        load_torch_model(handle)
    assert adapter in str(error.value)


def test_a_cached_hf_handle_gets_trust_remote_code_from_its_parent_not_the_cache(tmp_path):
    from olive_core.models.handler import ModelHandler
    from olive_torch.hf_model import HfModelType

    parent = ModelHandler(type="hf", path=str(tmp_path), attributes={"trust_remote_code": False})
    planted = ModelHandler(type="hf", path=str(tmp_path / "x"), attributes={"trust_remote_code": True, "task": "fill-mask"})
    restored = HfModelType().from_cache(planted, parent)
    assert restored.attributes == {"trust_remote_code": False, "task": "fill-mask"}
    trusting = parent.derive(attributes={"trust_remote_code": True})
    assert HfModelType().from_cache(planted, trusting).attributes["trust_remote_code"] is True
