"""The `pytorch` model type: a module from a loader function, a state dict, TorchScript or torch.export.

The file format is recognised from its header when the handle is made (zip entries, safetensors
header, pickle opcodes), without importing torch, so a wrong or damaged file, or a pickled
module, fails before any pass runs. ``model_loader`` is checked there too (:mod:`olive_torch.loaders`).
"""

from __future__ import annotations

import importlib.util
import json
import struct
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from olive_core.errors import ModelLoadError
from olive_core.models.handler import ModelHandler
from olive_core.models.hashing import hash_json, hash_path
from olive_core.models.io_config import IoConfig
from olive_core.models.model_type import InferenceSession, ModelType, ModelTypeConfig

from olive_torch.loaders import is_file_spec, loader_file, resolve_loader
from olive_torch.pickles import foreign_globals

from olive_torch.devices import TORCH_DEVICES

if TYPE_CHECKING:
    from olive_core.accelerators import AcceleratorSpec

#: suffixes that must be a format olive recognises; other files are handed to model_loader
TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".pt2", ".safetensors", ".jit", ".torchscript")
_WEIGHTS_ONLY = ("safetensors", "torch_save")
#: handle attributes that decide which code runs when the model loads
CODE_ATTRIBUTES = ("model_loader", "loader_kwargs", "trusted_modules")


class PyTorchModelConfig(ModelTypeConfig):
    """``input_model.config`` of a `pytorch` model."""

    model_path: str | None = Field(
        default=None,
        description="a TorchScript file, a torch.export .pt2 file, a state dict (.pt/.pth/.bin/.safetensors, "
        "with model_loader), or any file or folder model_loader reads; relative to the workflow's folder",
    )
    model_loader: str | None = Field(
        default=None,
        description="'file.py:function' (a file in the workflow's folder or below it) or 'package.module:function' "
        "(its package must be in trusted_modules) returning the nn.Module; called with no argument when model_path "
        "is a state dict (loaded into the module), else with model_path. The workflow runs this code",
    )
    trusted_modules: list[str] = Field(
        default_factory=list,
        description="the opt-in to run installed code: packages (top-level names, or dotted modules) a "
        "'package.module:function' model_loader may come from; standard-library and process-spawning modules "
        "(os, subprocess, ...) only when listed here by name",
    )
    loader_kwargs: dict[str, Any] = Field(default_factory=dict, description="keyword arguments for model_loader")
    io_config: IoConfig | None = Field(
        default=None,
        description="inputs (in call order, with example shapes and dtypes) and outputs; "
        "required unless model_path is a .pt2 file, which records them",
    )

    @model_validator(mode="after")
    def _check_sources(self) -> PyTorchModelConfig:
        if not self.model_path and not self.model_loader:
            raise ValueError("give model_path, model_loader, or both")
        if self.model_loader is not None and ":" not in self.model_loader:
            raise ValueError(
                f"model_loader '{self.model_loader}' must be 'package.module:function' or 'file.py:function'"
            )
        if self.io_config is None and not (self.model_path or "").endswith(".pt2"):
            raise ValueError(
                "io_config is required: a PyTorch module does not say its input names, shapes and dtypes "
                "(only a torch.export .pt2 file records them)"
            )
        if self.io_config is not None and not self.io_config.output_names:
            raise ValueError("io_config.output_names is empty: name each output the model returns")
        return self


def detect_format(path: Path, has_loader: bool) -> str:
    """``exported_program``, ``torchscript``, ``safetensors``, ``torch_save`` or ``loader_path``."""
    if path.is_dir():
        if not has_loader:
            raise ModelLoadError(f"'{path}' is a folder", hint="give model_loader, which is called with the folder")
        return "loader_path"
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        _check_safetensors(path)
        return "safetensors"
    with path.open("rb") as handle:
        head = handle.read(4)
    if zipfile.is_zipfile(path):
        return _zip_format(path)
    if head.startswith(b"PK"):
        raise ModelLoadError(f"'{path}' is a damaged or truncated zip archive", hint="save or download it again")
    if head[:1] == b"\x80":  # a pickle: torch.save's legacy (non-zip) format
        _refuse_pickled_objects(path)
        return "torch_save"
    if has_loader and suffix not in TORCH_SUFFIXES:
        return "loader_path"
    raise ModelLoadError(
        f"'{path}' is not a PyTorch file: neither a zip archive (torch.save, TorchScript, torch.export) "
        "nor safetensors nor a pickle",
        hint="check model_path; a file of your own format needs a model_loader that reads it",
    )


def _zip_format(path: Path) -> str:
    names = zipfile.ZipFile(path).namelist()
    entries = {name.split("/", 1)[-1] for name in names}
    if any(entry.startswith("models/") for entry in entries) and "archive_format" in entries:
        return "exported_program"
    if "constants.pkl" in entries or any(entry.startswith("code/") for entry in entries):
        return "torchscript"
    if "data.pkl" in entries:
        _refuse_pickled_objects(path)
        return "torch_save"
    raise ModelLoadError(f"'{path}' is a zip archive but not one PyTorch writes", hint="check model_path")


def _check_safetensors(path: Path) -> None:
    size = path.stat().st_size
    try:
        with path.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > size - 8:
                raise ValueError(f"header of {length} bytes in a file of {size}")
            header = json.loads(handle.read(length))
        if not isinstance(header, dict):
            raise ValueError("header is not a JSON object")
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise ModelLoadError(
            f"'{path}' is not a valid safetensors file: {exc}", hint="the file may be truncated; save it again"
        ) from exc


def _refuse_pickled_objects(path: Path) -> None:
    """A torch.save file holding more than tensors: unpickling it would run code."""
    foreign = foreign_globals(path)
    if foreign:
        modules = [name for name in foreign if name.startswith(("torch.nn.", "__main__."))]
        what = f"a pickled module ({modules[0]})" if modules else f"pickled Python objects ({foreign[0]})"
        raise ModelLoadError(
            f"'{path}' holds {what}, which olive does not unpickle: loading it could run arbitrary code",
            hint="save a state dict (torch.save(model.state_dict(), path)) and give model_loader; "
            "or save the model as TorchScript (torch.jit.save) or with torch.export.save",
        )


def _loader_source(handle: ModelHandler) -> str | None:
    """A hash of the loader's source file, so editing the loader changes the model's identity."""
    file = loader_file(handle)
    try:
        if file is None:
            module = str(handle.attributes["model_loader"]).rpartition(":")[0]
            file = Path(importlib.util.find_spec(module).origin)  # type: ignore[union-attr,arg-type]
        return hash_path(file)
    except Exception:  # not findable without running it: the spec string identifies it
        return None


class PyTorchModelType(ModelType):
    """A torch.nn.Module: from a loader function, a state dict, a TorchScript or a torch.export file."""

    Config = PyTorchModelConfig

    def create_handle(self, name: str, config: PyTorchModelConfig, base_dir: Path) -> ModelHandler:
        loader = None
        if config.model_loader:  # checked before anything else is read: a loader runs code
            field = f"{name}.config.model_loader"
            loader = resolve_loader(config.model_loader, base_dir, config.trusted_modules, field)
        if config.model_path:
            path = Path(config.model_path).expanduser()
            path = (path if path.is_absolute() else base_dir / path).resolve()
            if not path.exists():
                raise ModelLoadError(
                    f"{name}: model file '{path}' does not exist",
                    hint="check model_path; relative paths start at the workflow file's folder",
                )
            model_format = detect_format(path, has_loader=loader is not None)
            self._check_loader_use(path, model_format, loader)
            location = str(path)
        else:
            model_format = "loader"
            location = loader.rpartition(":")[0] if loader and is_file_spec(loader) else str(loader)
        attributes = {"model_format": model_format, "model_loader": loader, "loader_kwargs": dict(config.loader_kwargs)}
        if config.trusted_modules:
            attributes["trusted_modules"] = list(config.trusted_modules)
        return ModelHandler(type="pytorch", path=location, io_config=config.io_config, attributes=attributes)

    @staticmethod
    def _check_loader_use(path: Path, model_format: str, loader: str | None) -> None:
        if model_format in _WEIGHTS_ONLY and loader is None:
            raise ModelLoadError(
                f"'{path}' holds weights only (a state dict), not the module's code",
                hint="give model_loader, a function that builds the module the weights are loaded into; "
                "or save the model as TorchScript (torch.jit.save) or with torch.export.save",
            )
        if model_format in ("torchscript", "exported_program") and loader is not None:
            raise ModelLoadError(
                f"'{path}' is a complete {model_format.replace('_', ' ')}; model_loader '{loader}' would not be used",
                hint="remove model_loader from input_model.config",
            )

    def check(self, handle: ModelHandler) -> None:
        if handle.attributes.get("model_format") != "loader" or handle.path.endswith(".py"):
            super().check(handle)

    def runs_on(self, accelerator: AcceleratorSpec) -> bool:
        """The torch runtime runs on the CPU and CUDA GPUs (not on an NPU's provider)."""
        return accelerator.device in TORCH_DEVICES

    def from_cache(self, cached: ModelHandler, parent: ModelHandler) -> ModelHandler:
        """The loader (and what it is called with and trusted by) is the parent's, which this run
        checked: a cache record naming another loader would run code the workflow never named."""
        trusted = parent.attributes if parent.type == "pytorch" else {}
        return cached.derive(attributes={key: trusted.get(key) for key in CODE_ATTRIBUTES})

    def content_id(self, handle: ModelHandler) -> str:
        loader = handle.attributes.get("model_loader")
        exists = handle.attributes.get("model_format") != "loader"
        return hash_json(
            {
                "files": hash_path(Path(handle.path)) if exists else None,
                "loader": loader,
                "loader_source": _loader_source(handle) if loader else None,
                "loader_kwargs": handle.attributes.get("loader_kwargs"),
                "io_config": handle.io_config.model_dump(mode="json") if handle.io_config else None,
            }
        )

    def model_files(self, handle: ModelHandler) -> list[Path]:
        """The weights file or folder; for a model built by its loader alone, a snapshot of the
        state dict it builds (see :mod:`olive_torch.packaging`), so its size is its weights'."""
        if handle.attributes.get("model_format") == "loader":
            return [self._snapshot(handle)]
        return super().model_files(handle) if Path(handle.path).exists() else []

    def package(self, handle: ModelHandler, folder: Path) -> ModelHandler:
        from olive_torch.packaging import package_pytorch

        snapshot = self._snapshot(handle) if handle.attributes.get("model_format") == "loader" else None
        return package_pytorch(handle, folder, snapshot)

    def _snapshot(self, handle: ModelHandler) -> Path:
        from olive_torch.packaging import weights_snapshot

        return weights_snapshot(handle, self.content_id(handle))

    def create_session(
        self, handle: ModelHandler, accelerator: AcceleratorSpec, settings: dict[str, Any]
    ) -> InferenceSession:
        from olive_torch.runtime import create_torch_session

        return create_torch_session(handle, accelerator, settings)
