"""Names and paths read from a pipeline's own files: only libraries diffusers loads from, plain
class names, and folders that stay inside the pipeline folder."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from olive_core.errors import ModelLoadError
from olive_core.models import ModelHandler
from olive_core.testing.steps import input_handle

from olive_diffusion.configs import LOADABLE_LIBRARIES, MODEL_INDEX
from olive_diffusion.loading import load_part
from olive_diffusion.manifest import MANIFEST_FILE
from olive_diffusion.testing import create_session

#: a module that records being imported: importing a module runs its code
PLANTED = "olive_planted_module"


@pytest.fixture
def pipeline_copy(tiny_pipeline: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_pipeline, tmp_path / "pipeline"))


def _edit_index(folder: Path, **entries: Any) -> None:
    index = json.loads((folder / MODEL_INDEX).read_text())
    index.update(entries)
    (folder / MODEL_INDEX).write_text(json.dumps(index))


@pytest.fixture
def planted_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / f"{PLANTED}.py").write_text("import sys\nsys.modules[__name__].RAN = True\nclass UNet: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, PLANTED, raising=False)
    return PLANTED


def test_model_index_library_outside_diffusers_list_is_refused_without_importing_it(
    pipeline_copy: Path, tmp_path: Path, planted_module: str
) -> None:
    _edit_index(pipeline_copy, unet=[planted_module, "UNet"])
    with pytest.raises(
        ModelLoadError, match=rf"model_index\.json' entry 'unet' names the library '{PLANTED}'"
    ) as error:
        input_handle("diffusers", tmp_path, model_path=str(pipeline_copy))
    assert str(pipeline_copy / MODEL_INDEX) in str(error.value) and error.value.hint
    with pytest.raises(ModelLoadError, match="which diffusers does not load components from"):
        load_part(pipeline_copy, "unet")  # the exporter's loader reads the same entry
    assert planted_module not in sys.modules


def test_an_unused_entry_naming_another_library_is_refused_too(pipeline_copy: Path, tmp_path: Path) -> None:
    # diffusers' from_pretrained reads every entry, not only the parts olive-diffusion uses
    _edit_index(pipeline_copy, feature_extractor=["subprocess", "Popen"])
    with pytest.raises(ModelLoadError, match="entry 'feature_extractor' names the library 'subprocess'"):
        input_handle("diffusers", tmp_path, model_path=str(pipeline_copy))


def test_diffusers_pipeline_modules_and_absent_parts_are_accepted(pipeline_copy: Path, tmp_path: Path) -> None:
    # what StableDiffusionPipeline.save_pretrained writes for a pipeline with its safety checker
    _edit_index(
        pipeline_copy, safety_checker=["stable_diffusion", "StableDiffusionSafetyChecker"], image_encoder=[None, None]
    )
    input_handle("diffusers", tmp_path, model_path=str(pipeline_copy))


def test_known_libraries_are_those_of_the_installed_diffusers() -> None:
    from diffusers.pipelines.pipeline_loading_utils import LOADABLE_CLASSES

    assert set(LOADABLE_LIBRARIES) == set(LOADABLE_CLASSES)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (["diffusers", "os.system"], "names the class 'os.system', which is not a class name"),
        (["diffusers", 3], r'is \["diffusers", 3\], not \[library, class name\]'),
        (["diffusers", None], r'is \["diffusers", null\]'),
    ],
)
def test_model_index_class_names_must_be_plain_names(
    pipeline_copy: Path, tmp_path: Path, entry: list[Any], message: str
) -> None:
    _edit_index(pipeline_copy, unet=entry)
    with pytest.raises(ModelLoadError, match=message):
        input_handle("diffusers", tmp_path, model_path=str(pipeline_copy))


@pytest.mark.parametrize("class_name", ["is_torch_available", "DDIMPipelineOutputThatDoesNotExist", "SchedulerMixin"])
def test_model_index_class_that_diffusers_would_not_load_as_a_model_is_refused_at_load(
    pipeline_copy: Path, class_name: str
) -> None:
    _edit_index(pipeline_copy, vae=["diffusers", class_name])
    with pytest.raises(ModelLoadError, match=rf"entry 'vae' names diffusers\.{class_name}, which is not a model class"):
        load_part(pipeline_copy, "vae")


def test_model_index_sub_folder_names_must_stay_inside(pipeline_copy: Path, tmp_path: Path) -> None:
    _edit_index(pipeline_copy, **{"../unet": ["diffusers", "UNet2DConditionModel"]})
    with pytest.raises(ModelLoadError, match=r"entry '\.\./unet': '\.\./unet' is not a sub-folder name"):
        input_handle("diffusers", tmp_path, model_path=str(pipeline_copy))


def test_model_index_sub_folder_linking_outside_is_refused(pipeline_copy: Path, tmp_path: Path) -> None:
    shutil.move(pipeline_copy / "unet", tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", pipeline_copy / "unet")
    with pytest.raises(ModelLoadError, match="entry 'unet': its folder .* outside the pipeline folder"):
        input_handle("diffusers", tmp_path, model_path=str(pipeline_copy))


@pytest.fixture
def onnx_copy(onnx_model: ModelHandler, tmp_path: Path) -> Path:
    return Path(shutil.copytree(onnx_model.path, tmp_path / "onnx-pipeline"))


def _edit_manifest(folder: Path, component: str, path: str) -> None:
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["components"][component]["path"] = path
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../outside/model.onnx", "must name a file in a sub-folder"),
        ("/tmp/outside/model.onnx", "is absolute"),
        ("model.onnx", "must name a file in a sub-folder"),
    ],
)
def test_pipeline_json_component_path_leaving_the_folder_is_refused(
    onnx_copy: Path, tmp_path: Path, path: str, message: str
) -> None:
    _edit_manifest(onnx_copy, "unet", path)
    with pytest.raises(ModelLoadError, match=rf"pipeline\.json': the unet's path '{path}' {message}"):
        input_handle("onnx_diffusion", tmp_path, model_path=str(onnx_copy))


def test_pipeline_json_component_folder_linking_outside_is_refused(onnx_copy: Path, tmp_path: Path) -> None:
    shutil.move(onnx_copy / "unet", tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", onnx_copy / "unet")
    with pytest.raises(ModelLoadError, match="the unet's path 'unet/model.onnx' leads to .* outside the pipeline"):
        input_handle("onnx_diffusion", tmp_path, model_path=str(onnx_copy))


def test_scheduler_class_name_must_be_a_plain_name(onnx_copy: Path, tmp_path: Path) -> None:
    config_file = onnx_copy / "scheduler" / "scheduler_config.json"
    config = json.loads(config_file.read_text())
    config["_class_name"] = "os.system"
    config_file.write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=r"scheduler_config\.json' names the scheduler class \"os\.system\""):
        input_handle("onnx_diffusion", tmp_path, model_path=str(onnx_copy))


def test_scheduler_class_name_that_is_not_a_scheduler_is_refused(onnx_copy: Path, tmp_path: Path) -> None:
    handle = input_handle("onnx_diffusion", tmp_path, model_path=str(onnx_copy))
    config_file = onnx_copy / "scheduler" / "scheduler_config.json"
    config = json.loads(config_file.read_text())
    config["_class_name"] = "UNet2DConditionModel"
    config_file.write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="names 'UNet2DConditionModel', which is not a diffusers scheduler"):
        create_session(handle)


def test_model_bases_are_loadable_classes_of_diffusers() -> None:
    from diffusers.pipelines.pipeline_loading_utils import LOADABLE_CLASSES

    from olive_diffusion.loading import MODEL_BASES

    assert all(base in LOADABLE_CLASSES[library] for library, base in MODEL_BASES.items())
