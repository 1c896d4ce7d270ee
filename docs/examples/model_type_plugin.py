"""A model type plugin: a linear model saved with numpy (`weight` and `bias` arrays in an .npz file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from olive_core import hookimpl
from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import ModelLoadError
from olive_core.models import InferenceSession, IoConfig, ModelHandler, ModelType, ModelTypeConfig
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


class NpzLinearConfig(ModelTypeConfig):
    model_path: str = Field(description="the .npz file; a relative path starts at the workflow file's folder")


def read_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The model's arrays; never unpickles (the file may come from anyone)."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            weight, bias = arrays["weight"], arrays["bias"]
    except Exception as exc:  # not an .npz, a pickle, an array missing: the same to the user
        raise ModelLoadError(f"'{path}' is not an npz_linear model (an .npz with 'weight' and 'bias'): {exc}") from exc
    if weight.ndim != 2 or bias.shape != (weight.shape[1],):
        raise ModelLoadError(f"'{path}': weight {weight.shape} and bias {bias.shape} do not make a linear layer")
    return weight, bias


class NpzLinearSession:
    """An inference session: numpy arrays in, a list of arrays (in output_names order) out."""

    input_names = ["x"]
    output_names = ["y"]

    def __init__(self, weight: np.ndarray, bias: np.ndarray) -> None:
        self.weight, self.bias = weight, bias

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        return [inputs["x"] @ self.weight + self.bias]


class NpzLinearModelType(ModelType):
    """A linear layer y = x @ weight + bias, stored as numpy arrays and run with numpy."""

    Config = NpzLinearConfig

    def create_handle(self, name: str, config: NpzLinearConfig, base_dir: Path) -> ModelHandler:
        path = Path(config.model_path).expanduser()
        path = path if path.is_absolute() else base_dir / path
        if not path.is_file():
            raise ModelLoadError(f"{name}: '{path}' does not exist", hint="check input_model.config.model_path")
        weight, _ = read_arrays(path)
        io_config = IoConfig(
            input_names=["x"],
            input_shapes=[[1, weight.shape[0]]],
            input_types=["float32"],
            output_names=["y"],
            dynamic_axes={"x": {0: "batch"}},
        )
        return ModelHandler(type="npz_linear", path=str(path), io_config=io_config)

    def check(self, handle: ModelHandler) -> None:
        read_arrays(Path(handle.path))  # cheap: reads the header and two small arrays

    def runs_on(self, accelerator: AcceleratorSpec) -> bool:
        return accelerator.device == "cpu"  # numpy runs on the CPU only

    def create_session(
        self, handle: ModelHandler, accelerator: AcceleratorSpec, settings: dict[str, Any]
    ) -> InferenceSession:
        weight, bias = read_arrays(Path(handle.path))
        return NpzLinearSession(weight.astype(np.float32), bias.astype(np.float32))


@hookimpl
def register_model_types(register: Registrar) -> None:
    register("npz_linear", NpzLinearModelType)
