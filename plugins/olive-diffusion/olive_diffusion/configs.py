"""Reading a diffusers pipeline folder's JSON files (no diffusers import), with errors that name the file.

A pipeline folder comes from somewhere else, and ``model_index.json`` names modules that loading
imports (importing runs their code) and sub-folders that loading reads. Its entries are checked
when a handle is made: libraries only those diffusers itself loads components from, class names
plain identifiers, sub-folders plain names that stay inside the folder.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path, PureWindowsPath
from typing import Any

from olive_core.errors import ModelLoadError

MODEL_INDEX = "model_index.json"

#: model_index.json entries every supported pipeline has
REQUIRED_ENTRIES = ("text_encoder", "tokenizer", "unet", "vae", "scheduler")

#: the libraries diffusers loads pipeline components from: the keys of its LOADABLE_CLASSES
#: (diffusers/pipelines/pipeline_loading_utils.py; a test keeps the two equal)
LOADABLE_LIBRARIES = ("diffusers", "transformers", "onnxruntime.training")


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelLoadError(
            f"'{path}' does not exist", hint="the pipeline folder is incomplete; save it again"
        ) from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(
            f"'{path}' cannot be read as JSON: {exc}", hint="restore the file from the pipeline's source"
        ) from exc
    if not isinstance(data, dict):
        raise ModelLoadError(f"'{path}' holds a JSON {type(data).__name__}, not an object")
    return data


def read_model_index(folder: Path) -> dict[str, Any]:
    """model_index.json, refusing pipelines this plugin cannot run (SDXL, inpainting, missing parts)
    and entries that would import other modules or read outside the folder."""
    index = read_json(folder / MODEL_INDEX)
    for name, value in index.items():
        if not name.startswith("_"):
            check_index_entry(folder, name, value)
    present = {name for name, value in index.items() if not name.startswith("_") and _is_component(value)}
    missing = [name for name in REQUIRED_ENTRIES if name not in present]
    if missing:
        raise ModelLoadError(
            f"'{folder}' is not a Stable-Diffusion-style pipeline: {MODEL_INDEX} names no {', '.join(missing)}",
            hint="olive-diffusion runs pipelines with one CLIP text encoder, a UNet, a VAE, a scheduler and a tokenizer",
        )
    if "text_encoder_2" in present:
        raise ModelLoadError(
            f"'{folder}' is an SDXL-style pipeline (two text encoders), which olive-diffusion does not run yet",
            hint="use a Stable Diffusion 1.x/2.x-style pipeline",
        )
    return index


def check_index_entry(folder: Path, name: str, value: Any) -> None:
    """One model_index.json entry: a sub-folder name and [library, class] diffusers would load."""
    if not (isinstance(value, list) and len(value) == 2 and value != [None, None]):
        return  # a pipeline setting (requires_safety_checker) or an absent component
    where = f"'{folder / MODEL_INDEX}' entry '{name}'"
    fix = "restore model_index.json as save_pretrained wrote it, or use a pipeline from a source you trust"
    library, class_name = value
    if not isinstance(library, str) or not isinstance(class_name, str):
        raise ModelLoadError(f"{where} is {json.dumps(value)}, not [library, class name]", hint=fix)
    if not is_loadable_library(library):
        raise ModelLoadError(
            f"{where} names the library '{library}', which diffusers does not load components from "
            f"(it loads from {', '.join(LOADABLE_LIBRARIES)} and its own pipeline modules); importing "
            "it would run its code",
            hint=fix,
        )
    if not class_name.isidentifier():
        raise ModelLoadError(f"{where} names the class '{class_name}', which is not a class name", hint=fix)
    if not _plain_name(name):
        raise ModelLoadError(f"{where}: '{name}' is not a sub-folder name (it must not contain / or ..)", hint=fix)
    sub_folder = folder / name
    if sub_folder.exists() and not sub_folder.resolve().is_relative_to(folder.resolve()):
        raise ModelLoadError(
            f"{where}: its folder '{sub_folder}' is a link to '{sub_folder.resolve()}', outside the pipeline folder",
            hint="copy the component into the pipeline folder (cp -rL) instead of linking it",
        )


def is_loadable_library(library: str) -> bool:
    """One of diffusers' component libraries, or one of its own pipeline modules (``stable_diffusion``
    names the safety checker); found on disk, without importing diffusers."""
    return library in LOADABLE_LIBRARIES or (library.isidentifier() and library in _diffusers_pipeline_modules())


@functools.lru_cache(maxsize=1)
def _diffusers_pipeline_modules() -> frozenset[str]:
    spec = importlib.util.find_spec("diffusers")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    pipelines = Path(next(iter(spec.submodule_search_locations))) / "pipelines"
    return (
        frozenset(p.name for p in pipelines.iterdir() if (p / "__init__.py").is_file())
        if pipelines.is_dir()
        else frozenset()
    )


def _plain_name(name: str) -> bool:
    return (
        bool(name)
        and name not in (".", "..")
        and "/" not in name
        and "\\" not in name
        and not PureWindowsPath(name).drive
    )


def _is_component(value: Any) -> bool:
    """model_index.json writes absent components as [null, null]."""
    return isinstance(value, list) and len(value) == 2 and value[0] is not None and value[1] is not None


def read_component_config(folder: Path, sub_folder: str, name: str = "config.json") -> dict[str, Any]:
    return read_json(folder / sub_folder / name)


def scheduler_class_name(folder: Path) -> str:
    """The ``_class_name`` of ``scheduler/scheduler_config.json``, checked to be a plain class name
    (the runtime looks it up in diffusers and refuses anything but a scheduler)."""
    path = folder / "scheduler" / "scheduler_config.json"
    name = read_json(path).get("_class_name")
    if not isinstance(name, str) or not name.isidentifier():
        raise ModelLoadError(
            f"'{path}' names the scheduler class {json.dumps(name)}, which is not a class name",
            hint='restore the scheduler folder from the source pipeline (e.g. {"_class_name": "PNDMScheduler", ...})',
        )
    return name
