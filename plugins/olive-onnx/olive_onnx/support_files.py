"""The config and tokenizer files an ONNX model folder holds beside its .onnx file.

An exported model keeps its ``config.json`` and tokenizer next to ``model.onnx``; a user of the
optimized model needs them, so they travel as the handle's ``files`` through every pass to the
output folder. The names are olive-torch's (the files an HF folder carries). The folder comes
from somewhere else: a symlink or a ``modules.json`` path that leads out of it is skipped with a
warning, never read or copied into an output folder or a shared cache.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path, PureWindowsPath

logger = logging.getLogger(__name__)


def folder_support_files(folder: Path) -> list[Path]:
    """Support files of the model in ``folder`` that lie inside it, plus sentence-transformers
    module folders (pooling, normalization) that ``modules.json`` names."""
    from olive_torch.hf_model import SUPPORT_FILES

    folder = Path(folder)
    found = [folder / name for name in SUPPORT_FILES if (folder / name).is_file()]
    found = [path for path in found if _stays_inside(path, folder)]
    modules = folder / "modules.json"
    if modules in found:
        for sub in _module_folders(modules):
            path = _inside(folder, sub)
            if path is None:
                logger.warning("'%s' names '%s', outside the model folder: not carried", modules, sub)
            elif path.is_dir() and _stays_inside(path, folder):
                found.append(path)
    return found


def _module_folders(modules: Path) -> list[str]:
    try:
        entries = json.loads(modules.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        logger.warning("'%s' cannot be read (%s): its module folders are not carried", modules, exc)
        return []
    paths = [entry.get("path") for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
    return [path for path in paths if isinstance(path, str) and path]


def _inside(folder: Path, relative: str) -> Path | None:
    """``folder / relative`` unless ``relative`` is absolute or climbs out with ``..``."""
    if os.path.isabs(relative) or PureWindowsPath(relative).is_absolute() or PureWindowsPath(relative).drive:
        return None
    parts = Path(relative.replace("\\", "/")).parts
    return None if ".." in parts else folder / relative


def _stays_inside(path: Path, folder: Path) -> bool:
    """False, with a warning, when ``path`` or anything under it resolves outside ``folder``.

    Copying follows links, so linked sub-folders are walked too (each real folder once).
    """
    root = folder.resolve()
    if not _check(path, root):
        return False
    if path.is_dir():
        seen: set[Path] = set()
        for directory, subdirs, names in os.walk(path, followlinks=True):
            seen.add(Path(directory).resolve())
            if not all(_check(Path(directory) / name, root) for name in (*subdirs, *names)):
                return False
            subdirs[:] = [d for d in subdirs if (Path(directory) / d).resolve() not in seen]
    return True


def _check(entry: Path, root: Path) -> bool:
    if entry.resolve().is_relative_to(root):
        return True
    logger.warning("'%s' leads to '%s', outside the model folder: not carried", entry, entry.resolve())
    return False
