"""What runs code: load_kwargs of `hf` models and model_loader of `pytorch` models, refused
when the handle is made unless the workflow opts in, and refused again when a handle that did
not come from a workflow (a cache record) is loaded."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from olive_core.errors import ConfigError, ModelLoadError
from olive_torch.data import HfTokenize, HfTokenizeConfig
from olive_torch.loading import load_torch_model
from olive_torch.pytorch_model import PyTorchModelConfig, PyTorchModelType

# -- hf load_kwargs ----------------------------------------------------------------------------


def test_load_kwargs_weights_only_false_is_refused_without_trust(make_hf_handle, tiny_bert_dir: Path) -> None:
    with pytest.raises(ConfigError, match="unpickle") as error:
        make_hf_handle(tiny_bert_dir, load_kwargs={"weights_only": False})
    assert str(error.value).startswith("input_model.config.load_kwargs.weights_only:")
    assert "trust_remote_code: true" in error.value.hint


def test_load_kwargs_weights_only_false_is_allowed_with_trust_remote_code(make_hf_handle, tiny_bert_dir: Path) -> None:
    handle = make_hf_handle(tiny_bert_dir, load_kwargs={"weights_only": False}, trust_remote_code=True)
    assert handle.attributes["load_kwargs"] == {"weights_only": False}


def test_load_kwargs_weights_only_true_and_use_safetensors_false_are_allowed(
    make_hf_handle, tiny_bert_dir: Path
) -> None:
    # transformers reads .bin weights with torch.load(weights_only=True) when safetensors are off
    make_hf_handle(tiny_bert_dir, load_kwargs={"weights_only": True, "use_safetensors": False})


def test_trust_remote_code_smuggled_inside_load_kwargs_is_refused(make_hf_handle, tiny_bert_dir: Path) -> None:
    with pytest.raises(ConfigError, match="belongs in input_model.config") as error:
        make_hf_handle(tiny_bert_dir, load_kwargs={"trust_remote_code": True})
    assert "input_model.config.load_kwargs.trust_remote_code" in str(error.value)


@pytest.mark.parametrize(
    ("load_kwargs", "field"),
    [
        ({"use_kernels": True}, "use_kernels"),
        ({"attn_implementation": "kernels-community/flash-attn"}, "attn_implementation"),
        ({"attn_implementation": "paged|someone/kernel@main:attention"}, "attn_implementation"),
    ],
)
def test_load_kwargs_naming_hub_kernels_are_refused_without_trust(
    make_hf_handle, tiny_bert_dir, load_kwargs, field
) -> None:
    with pytest.raises(ConfigError, match="hub") as error:
        make_hf_handle(tiny_bert_dir, load_kwargs=load_kwargs)
    assert f"input_model.config.load_kwargs.{field}" in str(error.value)
    make_hf_handle(tiny_bert_dir, load_kwargs=load_kwargs, trust_remote_code=True)


def test_a_cached_hf_handle_with_weights_only_false_is_refused_at_load(make_hf_handle, tiny_bert_dir: Path) -> None:
    handle = make_hf_handle(tiny_bert_dir).derive(attributes={"load_kwargs": {"weights_only": False}})
    with pytest.raises(ConfigError, match="unpickle"):
        load_torch_model(handle)


def test_an_explicit_tokenizer_shipping_code_does_not_run_it(tiny_bert_dir: Path, copy_model, tmp_path: Path) -> None:
    import json

    from olive_core.evaluation.data import DataContext

    folder = copy_model(tiny_bert_dir)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["auto_map"] = {"AutoTokenizer": ["tokenization_custom.CustomTokenizer", None]}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    marker = tmp_path / "tokenizer-code-ran"
    (folder / "tokenization_custom.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    config = HfTokenizeConfig(tokenizer=str(folder), max_length=8)
    out = HfTokenize()([{"text": "hello world"}], config, DataContext(model=None))
    assert out[0]["input_ids"].shape == (8,) and not marker.exists()


# -- pytorch model_loader ----------------------------------------------------------------------


IO = {"input_names": ["x"], "input_shapes": [[2, 4]], "output_names": ["y"]}


def pytorch_handle(base_dir: Path, loader: str, **config):
    return PyTorchModelType().create_handle(
        "input_model", PyTorchModelConfig(model_loader=loader, io_config=IO, **config), base_dir
    )


@pytest.fixture
def tattler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An importable package that records being imported, with a loader function."""
    name = f"olive_tattler_{tmp_path.name.replace('-', '_')}"
    (tmp_path / "site" / name).mkdir(parents=True)
    (tmp_path / "site" / name / "__init__.py").write_text(
        textwrap.dedent(
            f"""
            from pathlib import Path
            Path({str(tmp_path / "imported")!r}).write_text('yes')

            def build():
                import torch
                return torch.nn.Linear(4, 3)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return name


@pytest.mark.parametrize("loader", ["subprocess:check_call", "os:system", "builtins:eval", "sh:ls", "os.path:join"])
def test_a_stdlib_or_process_spawning_loader_is_refused_when_the_handle_is_made(tmp_path: Path, loader: str) -> None:
    with pytest.raises(ConfigError, match="standard-library or process-spawning") as error:
        pytorch_handle(tmp_path, loader)
    assert str(error.value).startswith("input_model.config.model_loader:")
    assert ".py file beside the workflow" in error.value.hint


def test_a_module_loader_from_an_untrusted_package_is_refused_before_it_is_imported(tmp_path, tattler) -> None:
    with pytest.raises(ConfigError, match="not in trusted_modules") as error:
        pytorch_handle(tmp_path, f"{tattler}:build")
    assert "input_model.config.model_loader" in str(error.value)
    assert f"add '{tattler}' to input_model.config.trusted_modules" in error.value.hint
    assert not (tmp_path / "imported").exists() and tattler not in sys.modules


def test_a_module_loader_from_a_trusted_package_loads(tmp_path, tattler) -> None:
    handle = pytorch_handle(tmp_path, f"{tattler}:build", trusted_modules=[tattler])
    assert handle.attributes["trusted_modules"] == [tattler]
    assert type(load_torch_model(handle)).__name__ == "Linear"


def test_a_stdlib_loader_listed_by_name_in_trusted_modules_is_allowed(tmp_path: Path) -> None:
    handle = pytorch_handle(tmp_path, "subprocess:check_call", trusted_modules=["subprocess"])
    assert handle.attributes["model_loader"] == "subprocess:check_call"


def test_a_malformed_module_loader_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="neither 'package.module:function'"):
        pytorch_handle(tmp_path, "os;rm -rf:x", trusted_modules=["os"])


@pytest.mark.parametrize("where", ["parent", "absolute", "symlink"])
def test_a_loader_file_outside_the_workflow_folder_is_refused(tmp_path: Path, where: str) -> None:
    workflow_dir = tmp_path / "workflow"
    workflow_dir.mkdir()
    (tmp_path / "evil.py").write_text("raise SystemExit('ran')\n")
    if where == "symlink":
        (workflow_dir / "linked.py").symlink_to(tmp_path / "evil.py")
    loader = {"parent": "../evil.py:build", "absolute": f"{tmp_path / 'evil.py'}:build", "symlink": "linked.py:build"}[
        where
    ]
    with pytest.raises(ConfigError, match="outside the workflow's folder") as error:
        pytorch_handle(workflow_dir, loader)
    assert "input_model.config.model_loader" in str(error.value) and "beside the workflow" in error.value.hint


def test_a_loader_file_in_a_folder_below_the_workflow_is_allowed(tmp_path: Path, torch_files: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "nets.py").write_text((torch_files / "nets.py").read_text())
    handle = pytorch_handle(tmp_path, "models/nets.py:build")
    assert handle.attributes["model_loader"] == f"{(tmp_path / 'models' / 'nets.py').resolve()}:build"


def test_a_cached_pytorch_handle_naming_a_stdlib_loader_is_refused_at_load(make_torch_handle) -> None:
    handle = make_torch_handle(model_loader="nets.py:build").derive(
        attributes={"model_loader": "subprocess:check_call"}
    )
    with pytest.raises(ModelLoadError, match="standard-library or process-spawning"):
        load_torch_model(handle)
