"""ModelType: what a plugin implements to make a kind of model loadable, hashable and runnable."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel

from olive_core.bounds import STRICT_CONFIG
from olive_core.errors import ModelLoadError
from olive_core.models.handler import ModelHandler
from olive_core.models.hashing import hash_path

if TYPE_CHECKING:
    import numpy as np

    from olive_core.accelerators import AcceleratorSpec


class InferenceSession(Protocol):
    """A model ready to run on one accelerator: numpy arrays in, numpy arrays out."""

    input_names: list[str]
    output_names: list[str]

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Run one batch; ``inputs`` maps every input name to an array."""
        ...


class ModelTypeConfig(BaseModel):
    """Base of a model type's ``input_model.config``: unknown fields are an error."""

    model_config = STRICT_CONFIG


class ModelType(ABC):
    """A kind of model. Subclasses live in plugins and keep heavy imports inside methods."""

    #: the config of ``input_model`` when a workflow names this type
    Config: ClassVar[type[ModelTypeConfig]] = ModelTypeConfig

    @abstractmethod
    def create_handle(self, name: str, config: Any, base_dir: Path) -> ModelHandler:
        """Turn a validated ``input_model.config`` into a handle; relative paths resolve from
        ``base_dir`` (the workflow file's folder). Raise :class:`ModelLoadError` for a missing
        or unreadable model, naming the file."""

    def check(self, handle: ModelHandler) -> None:
        """Cheaply verify the model is readable as this type (header, not a full load)."""
        if not Path(handle.path).exists():
            raise ModelLoadError(f"model file or folder '{handle.path}' does not exist")

    def content_id(self, handle: ModelHandler) -> str:
        """The identity of an input model: by default a hash of its files."""
        return hash_path(Path(handle.path))

    def model_files(self, handle: ModelHandler) -> list[Path]:
        """Files and folders that make up the model, for packaging: the path by default."""
        return [Path(handle.path), *(Path(f) for f in handle.files)]

    def runs_on(self, accelerator: AcceleratorSpec) -> bool:
        """Whether this type's runtime can run models on ``accelerator``. An input model that
        cannot (a PyTorch model in an NPU run) is measured on the CPU as the reference that
        candidates compare with, and its measurement says so. Default: any accelerator."""
        return True

    def from_cache(self, cached: ModelHandler, parent: ModelHandler) -> ModelHandler:
        """A model read back from a cache, made safe to use before anything loads it.

        A cache may be written by someone else, so whatever in a handle decides which code runs
        when the model loads (a loader function, a trust_remote_code flag) must come from
        ``parent``, the model this run made or validated, never from the cache record.
        Default: the handle unchanged, for types whose handles name no code.
        """
        return cached

    def package(self, handle: ModelHandler, folder: Path) -> ModelHandler:
        """The handle ready to be written into the output folder ``folder``, so the folder can move.

        Called before :meth:`model_files` are copied into ``folder`` (the caller then makes
        ``path`` and ``files`` relative to it). A type whose handle names files other than its
        model files (a loader's source file), or whose files are made on demand, copies them into
        ``folder`` here and returns the handle naming them inside it, relative to the model's
        folder where an attribute names them. Default: the handle unchanged.
        """
        return handle

    @abstractmethod
    def create_session(
        self, handle: ModelHandler, accelerator: AcceleratorSpec, settings: dict[str, Any]
    ) -> InferenceSession:
        """Load the model for inference on ``accelerator``; ``settings`` are runtime options
        (threads, session options) from the workflow or from tuning passes."""
