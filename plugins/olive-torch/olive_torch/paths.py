"""Paths a model's own files (or a handle's attributes) name stay inside the model's folder.

A model folder is data from somewhere else: a ``modules.json`` naming ``../x``, an adapter
attribute naming ``/home/me``, or a symlink to ``~/.ssh`` must never make olive read or copy a
file from outside it into an output folder or a (shared) cache.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from olive_core.models.handler import ModelHandler


def model_folder(handle: ModelHandler) -> Path:
    """The folder a handle's relative paths start at: an hf model's or a folder model's own
    folder, else the folder holding the model file."""
    path = Path(handle.path)
    return path if handle.type == "hf" or path.is_dir() else path.parent


def link_root(folder: Path) -> Path:
    """Where symlinks inside ``folder`` may point: the folder itself, or for a Hugging Face cache
    snapshot (``models--org--name/snapshots/<rev>``, whose files link to ``../../blobs``) the
    repository's cache folder."""
    folder = Path(folder)
    parent = folder.parent
    if parent.name == "snapshots" and parent.parent.name.startswith(("models--", "datasets--")):
        return parent.parent
    return folder


def is_inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` lies inside ``folder`` (or is it), by name and once symlinks are resolved."""
    folder = Path(folder)
    lexical = Path(os.path.normpath(Path(path).absolute()))
    if not lexical.is_relative_to(Path(os.path.normpath(folder.absolute()))):
        return False
    return Path(path).resolve().is_relative_to(link_root(folder).resolve())


def inside(folder: Path, relative: str | os.PathLike[str]) -> Path | None:
    """``folder / relative`` when it stays inside ``folder``; None when it escapes (``..``, an
    absolute path, a symlink pointing out)."""
    relative = Path(relative)
    if relative.is_absolute() or relative.drive:
        return None
    candidate = Path(folder) / relative
    return candidate if is_inside(candidate, folder) else None


def escaping_links(folder: Path, within: Path | None = None) -> list[Path]:
    """Symlinks under ``folder`` whose target lies outside ``within`` (default: ``folder``)."""
    root = link_root(Path(within or folder)).resolve()
    found = []
    for directory, subdirs, names in os.walk(folder):
        for name in [*subdirs, *names]:
            entry = Path(directory) / name
            if entry.is_symlink() and not entry.resolve().is_relative_to(root):
                found.append(entry)
    return found
