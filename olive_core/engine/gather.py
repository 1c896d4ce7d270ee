"""Bring every file of a model into one folder, so that the folder alone holds the model.

A pass may return a handle that still points outside its output folder: a pass that only sets
attributes (session tuning) returns its input's path, and most passes carry their input's extra
files (tokenizer, config). A cache entry must hold all its files (a cache may move, be pulled
onto another machine, or be written by someone else), so before an output is cached its
outside files are copied in: hard-linked when they come from the cache itself (its files never
change), copied when they belong to the user.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from olive_core.models.handler import ModelHandler
from olive_core.models.model_type import ModelType

_IGNORED = shutil.ignore_patterns("__pycache__", ".git")


def gather_model(model_type: ModelType, handle: ModelHandler, folder: Path, link_from: Path | None = None) -> ModelHandler:
    """``handle`` with every file outside ``folder`` copied into it (files the pass wrote win)."""
    folder = folder.resolve()
    sources = [Path(p) for p in model_type.model_files(handle)]
    if all(_inside(source, folder) for source in sources):
        return handle
    moved: dict[str, str] = {}
    for index, source in enumerate(sources):
        if _inside(source, folder) or not source.exists():
            continue
        linkable = link_from is not None and _inside(source, link_from.resolve())
        if index == 0 and source.is_dir():  # a folder model (an HF folder) becomes the folder itself
            _merge_tree(source, folder, linkable)
            moved[str(source)] = str(folder)
            continue
        target = folder / source.name
        if not target.exists():
            _copy(source, target, linkable)
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


def _copy(source: Path, target: Path, linkable: bool) -> None:
    if source.is_dir():
        shutil.copytree(source, target, ignore=_IGNORED, copy_function=_linker(linkable))
    else:
        _linker(linkable)(str(source), str(target))


def _merge_tree(source: Path, target: Path, linkable: bool) -> None:
    """Copy ``source``'s contents into ``target`` without replacing what ``target`` has."""
    copy = _linker(linkable)

    def keep_existing(src: str, dst: str) -> None:
        if not os.path.exists(dst):
            copy(src, dst)

    shutil.copytree(source, target, ignore=_IGNORED, copy_function=keep_existing, dirs_exist_ok=True)


def _linker(linkable: bool):  # noqa: ANN202 - a copy_function for shutil
    def link_or_copy(src: str, dst: str) -> None:
        if linkable:
            try:
                os.link(src, dst)
                return
            except OSError:  # another file system, or links not allowed: copy
                pass
        shutil.copy2(src, dst)

    return link_or_copy
