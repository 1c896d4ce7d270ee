"""Bring every file of a model into one folder, so that the folder alone holds the model.

A pass may return a handle that still points outside its output folder: a pass that only sets
attributes (session tuning) returns its input's path, and most passes carry their input's extra
files (tokenizer, config). A cache entry must hold all its files (a cache may move, be pulled
onto another machine, or be written by someone else), so before an output is cached its
outside files are copied in. Copied, never hard-linked: ONNX and ONNX Runtime refuse external
data files with more than one link, as a guard against link attacks.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from olive_core.errors import ModelLoadError
from olive_core.models.handler import ModelHandler
from olive_core.models.model_type import ModelType

_IGNORED = shutil.ignore_patterns("__pycache__", ".git")


def gather_model(model_type: ModelType, handle: ModelHandler, folder: Path) -> ModelHandler:
    """``handle`` with every file outside ``folder`` copied into it; files already there win.

    The first of the model's files is the model itself: a folder model (an HF folder) is
    copied as the folder's contents, other files and folders keep their names.
    """
    folder = folder.resolve()
    sources = [Path(p) for p in model_type.model_files(handle)]
    if all(_inside(source, folder) for source in sources):
        return handle
    moved: dict[str, str] = {}
    for index, source in enumerate(sources):
        if _inside(source, folder):
            continue
        if not source.exists():
            raise ModelLoadError(
                f"'{source}', a file of the {handle.type} model '{handle.path}', does not exist",
                hint="the model's files were moved or deleted; run the step again",
            )
        if index == 0 and source.is_dir():
            shutil.copytree(source, folder, ignore=_IGNORED, copy_function=_copy_if_absent, dirs_exist_ok=True)
            moved[str(source)] = str(folder)
            continue
        target = folder / source.name
        if not target.exists():
            if source.is_dir():
                shutil.copytree(source, target, ignore=_IGNORED)
            else:
                shutil.copy2(source, target)
        moved[str(source)] = str(target)
    return handle.model_copy(
        update={"path": moved.get(handle.path, handle.path), "files": [moved.get(f, f) for f in handle.files]}
    )


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
    except ValueError:
        return False
    return True


def _copy_if_absent(source: str, target: str) -> None:
    if not Path(target).exists():
        shutil.copy2(source, target)
