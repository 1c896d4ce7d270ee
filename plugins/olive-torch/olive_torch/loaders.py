"""``model_loader``: a function that builds a `pytorch` model, named as ``file.py:function`` or
``package.module:function``.

A workflow naming a loader runs it. When the handle is made, a file must lie in the workflow's
folder (or below it) and a module must come from a package the workflow trusts
(:mod:`olive_torch.trust`); both are checked from the spec's text before anything is imported.
A packaged model names its loader file relative to its own folder, so the folder can move.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from olive_core.errors import ConfigError, ModelLoadError
from olive_core.models.handler import ModelHandler

from olive_torch.paths import is_inside, model_folder
from olive_torch.trust import check_module_loader, is_risky_module, is_trusted


def is_file_spec(spec: str) -> bool:
    return spec.rpartition(":")[0].endswith(".py")


def resolve_loader(spec: str, base_dir: Path, trusted_modules: Iterable[str], field: str) -> str:
    """The spec with its file made absolute (symlinks resolved), once it passed the checks."""
    if not is_file_spec(spec):
        check_module_loader(spec, trusted_modules, field)
        return spec
    module, _, function = spec.rpartition(":")
    file = Path(module).expanduser()
    file = file if file.is_absolute() else base_dir / file
    if not file.is_file():
        raise ModelLoadError(
            f"model_loader file '{file}' does not exist", hint="relative paths start at the workflow's folder"
        )
    if not is_inside(file, base_dir):
        raise ConfigError(
            f"model_loader '{spec}' is outside the workflow's folder '{base_dir}' (it is '{file.resolve()}')",
            path=field,
            hint="a workflow runs only loader files that travel with it: put the loader beside the workflow "
            "file or in a folder below it",
        )
    if not function.isidentifier():
        raise ConfigError(f"model_loader '{spec}' does not name a function after ':'", path=field)
    return f"{file.resolve()}:{function}"


def loader_spec(handle: ModelHandler) -> str:
    """The handle's loader with a relative file (as a packaged model.json names it) made
    absolute from the model's folder."""
    spec = str(handle.attributes["model_loader"])
    module, _, function = spec.rpartition(":")
    if is_file_spec(spec) and not Path(module).is_absolute():
        return f"{model_folder(handle) / module}:{function}"
    return spec


def loader_file(handle: ModelHandler) -> Path | None:
    """The loader's source file, for a ``file.py`` loader."""
    spec = loader_spec(handle) if handle.attributes.get("model_loader") else ""
    return Path(spec.rpartition(":")[0]) if spec and is_file_spec(spec) else None


def import_loader(spec: str, trusted_modules: Iterable[str] = ()) -> Callable[..., Any]:
    """Import ``"package.module:function"`` or ``"/path/to/file.py:function"``.

    A handle reaching here may come from a cache record rather than a workflow: a standard
    library or process-spawning module is refused unless ``trusted_modules`` names it.
    """
    module_name, _, attr = spec.rpartition(":")
    if (
        not module_name.endswith(".py")
        and is_risky_module(module_name)
        and not is_trusted(module_name, trusted_modules)
    ):
        raise ModelLoadError(
            f"model_loader '{spec}' names a standard-library or process-spawning module, which olive does not "
            "import as a loader",
            hint="write the loader in a .py file beside the workflow",
        )
    try:
        if module_name.endswith(".py"):
            file = Path(module_name)
            # One module per file content: editing the loader file gives a fresh import.
            unique = "olive_torch_loader_" + hashlib.sha256(file.read_bytes()).hexdigest()[:16]
            module = sys.modules.get(unique)
            if module is None:
                module_spec = importlib.util.spec_from_file_location(unique, file)
                module = importlib.util.module_from_spec(module_spec)  # type: ignore[arg-type]
                module_spec.loader.exec_module(module)  # type: ignore[union-attr]
                sys.modules[unique] = module
        else:
            module = importlib.import_module(module_name)
        loader = getattr(module, attr)
    except Exception as exc:
        raise ModelLoadError(
            f"model_loader '{spec}' cannot be imported: {type(exc).__name__}: {exc}",
            hint="write it as 'package.module:function' (importable) or 'file.py:function'",
        ) from exc
    if not callable(loader):
        raise ModelLoadError(f"model_loader '{spec}' is a {type(loader).__name__}, not a function")
    return loader
