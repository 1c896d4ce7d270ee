"""A `pytorch` model as files: what its size is measured on, and what an output folder holds.

A model given only by its loader has no weights on disk: its files are a state-dict snapshot of
the module the loader builds (written once per process), so its size is the bytes of its
parameters and persistent buffers, not the size of the loader's source. In an output folder
the loader file is copied beside the weights and named relatively in model.json, so the folder
can be moved and loaded elsewhere (its relative name is resolved from the model's folder).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from olive_core.errors import ModelLoadError
from olive_core.models.handler import ModelHandler

from olive_torch.loaders import loader_file

if TYPE_CHECKING:
    import torch


@functools.cache
def _snapshot_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="olive-torch-weights-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def weights_snapshot(handle: ModelHandler, key: str) -> Path:
    """The state dict of the module the handle's loader builds, saved under a folder named by
    ``key`` (the model's content id): ``model.safetensors``, or ``model.pt`` for tensor
    subclasses (torchao) that safetensors cannot hold."""
    folder = _snapshot_root() / key
    done = [path for path in (folder / "model.safetensors", folder / "model.pt") if path.is_file()]
    if done:
        return done[0]
    from olive_torch.loading import load_torch_model

    staging = Path(tempfile.mkdtemp(dir=_snapshot_root()))
    save_state_dict(load_torch_model(handle).state_dict(), staging)
    for file in staging.iterdir():
        file.chmod(0o644)  # copied as it is into output folders, which are meant to be shared
    staging.replace(folder)
    return weights_snapshot(handle, key)


def save_state_dict(state: dict[str, torch.Tensor], folder: Path) -> Path:
    """Write a state dict into ``folder``: ``model.safetensors``, or ``model.pt`` (read back with
    ``weights_only=True`` once torchao is imported) for tensor subclasses safetensors cannot hold."""
    import torch

    if any(type(tensor) is not torch.Tensor for tensor in state.values()):
        path = folder / "model.pt"
        torch.save(dict(state), path)
    else:
        from safetensors.torch import save_file

        path = folder / "model.safetensors"
        save_file(_unshared(state), str(path))
    return path


def model_format_of(weights: Path) -> str:
    """The pytorch handle's ``model_format`` of a file :func:`save_state_dict` wrote."""
    return "safetensors" if weights.suffix == ".safetensors" else "torch_save"


def _unshared(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """safetensors refuses tensors that share memory (tied weights): copy the repeats."""
    seen: set[int] = set()
    result = {}
    for name, tensor in state.items():
        tensor = tensor.detach().contiguous()
        pointer = tensor.untyped_storage().data_ptr()
        result[name] = tensor.clone() if pointer in seen else tensor
        seen.add(pointer)
    return result


def package_pytorch(handle: ModelHandler, folder: Path, snapshot: Path | None) -> ModelHandler:
    """The handle with its loader file copied into the output folder ``folder`` and named
    relatively (from the model's folder, which ``folder`` becomes); a loader-only model becomes
    its weights ``snapshot``, copied in too, as a state dict for the same loader."""
    attributes = dict(handle.attributes)
    path = handle.path
    if snapshot is not None:
        path = str(folder / snapshot.name)
        shutil.copy2(snapshot, path)
        attributes["model_format"] = model_format_of(snapshot)
    source = loader_file(handle)
    if source is not None:
        if not source.is_file():
            raise ModelLoadError(
                f"the model's loader file '{source}' does not exist, so its output folder cannot hold it",
                hint="put the loader file back where the workflow named it, and run again",
            )
        target = _free_name(folder, source)
        if not target.exists():
            shutil.copy2(source, target)
        attributes["model_loader"] = f"{target.name}:{str(attributes['model_loader']).rpartition(':')[2]}"
    return handle.model_copy(update={"path": path, "attributes": attributes})


def _free_name(base: Path, source: Path) -> Path:
    """``base / source.name``, or a numbered name when a different file already has it."""
    target = base / source.name
    number = 1
    while target.exists() and target.read_bytes() != source.read_bytes():
        target = base / f"{source.stem}-{number}{source.suffix}"
        number += 1
    return target
