"""A test plugin: a linear model stored as .npz and run with numpy, plus a counting pre-processor.

Real components, small enough for the evaluation tests: ``logits = x @ weight + bias``.
Load it with ``create_plugin_manager(extra_plugins=[numpy_plugin.__name__])``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from olive_core import hookimpl
from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import ModelLoadError
from olive_core.evaluation.data import DataComponent, DataComponentConfig, DataContext
from olive_core.evaluation.metric import Metric, MetricContext
from olive_core.models.handler import ModelHandler
from olive_core.models.io_config import IoConfig
from olive_core.models.model_type import ModelType, ModelTypeConfig
from olive_core.registry import Registrar

olive_plugin_api = "1.0"

#: sessions created per model path, so tests can check "one session per model"
SESSIONS: dict[str, int] = {}
#: how often the counting pre-processor ran, so tests can check the data cache
PREPROCESS_CALLS: list[int] = []


def write_linear_model(path: Path, weight: Any, bias: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, weight=np.asarray(weight, dtype=np.float32), bias=np.asarray(bias, dtype=np.float32))
    return path


def read_linear_model(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return npz["weight"], npz["bias"]
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"'{path}' is not a linear model (.npz with 'weight' and 'bias'): {exc}") from exc


class LinearConfig(ModelTypeConfig):
    model_path: str = Field(description="an .npz with 'weight' [in, out] and 'bias' [out]")


class LinearSession:
    input_names = ["x"]
    output_names = ["logits"]

    def __init__(self, path: Path, settings: dict[str, Any]) -> None:
        self.weight, self.bias = read_linear_model(path)
        self.settings = settings

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        x = inputs["x"]
        if x.shape[-1] != self.weight.shape[0]:
            raise ValueError(f"x has {x.shape[-1]} features, the weight expects {self.weight.shape[0]}")
        return [x @ self.weight + self.bias]


class LinearModelType(ModelType):
    """``logits = x @ weight + bias`` from an .npz file, run with numpy."""

    Config = LinearConfig

    def create_handle(self, name: str, config: LinearConfig, base_dir: Path) -> ModelHandler:
        path = Path(config.model_path)
        path = path if path.is_absolute() else base_dir / path
        return self.handle(path)

    @staticmethod
    def handle(path: Path) -> ModelHandler:
        weight, _ = read_linear_model(path)
        io_config = IoConfig(
            input_names=["x"],
            input_shapes=[[1, int(weight.shape[0])]],
            input_types=["float32"],
            output_names=["logits"],
            dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
        )
        return ModelHandler(type="numpy_linear", path=str(path), io_config=io_config)

    def create_session(self, handle: ModelHandler, accelerator: AcceleratorSpec, settings: dict[str, Any]) -> LinearSession:
        SESSIONS[handle.path] = SESSIONS.get(handle.path, 0) + 1
        return LinearSession(Path(handle.path), settings)


class ScaleConfig(DataComponentConfig):
    field: str = "x"
    factor: float = 1.0


class ScaleField(DataComponent):
    """Multiply one numeric field of every sample (counts its calls)."""

    role: ClassVar = "preprocess"
    Config = ScaleConfig
    uses_model: ClassVar[bool] = False

    def __call__(self, value: list[dict[str, Any]], config: ScaleConfig, context: DataContext) -> list[dict[str, Any]]:
        PREPROCESS_CALLS.append(1)
        return [{**sample, config.field: np.asarray(sample[config.field], dtype=np.float32) * config.factor} for sample in value]


class OutputRangeMetric(Metric):
    """A plugin's own metric: the smallest and largest post-processed output value."""

    sub_metrics: ClassVar = {"low": "max", "high": "min"}

    def measure(self, config: Any, context: MetricContext) -> dict[str, float]:
        assert context.outputs is not None
        values = np.concatenate([np.ravel(array) for batch in context.outputs() for array in batch.values()])
        return {"low": float(values.min()), "high": float(values.max())}


#: how often ReferenceGapMetric ran the input model (once per run is the promise of ``shared``)
REFERENCE_RUNS: list[str] = []


class ReferenceGapMetric(Metric):
    """Runs the input model through its own session, once per run: the largest output gap."""

    sub_metrics: ClassVar = {"gap": "min"}

    def measure(self, config: Any, context: MetricContext) -> dict[str, float]:
        assert context.batches is not None and context.reference_session is not None and context.shared is not None

        def reference() -> list[np.ndarray]:
            REFERENCE_RUNS.append(context.reference_model.path)
            session = context.reference_session()
            return [session.run({"x": batch["x"]})[0] for batch in context.batches]

        expected = context.shared(("reference_gap", "outputs"), reference)
        session = context.session()
        got = [session.run({"x": batch["x"]})[0] for batch in context.batches]
        return {"gap": float(max(np.abs(a - b).max() for a, b in zip(got, expected)))}


@hookimpl
def register_metrics(register: Registrar) -> None:
    register("output_range", f"{__name__}:OutputRangeMetric")
    register("reference_gap", f"{__name__}:ReferenceGapMetric")


@hookimpl
def register_model_types(register: Registrar) -> None:
    register("numpy_linear", f"{__name__}:LinearModelType")


@hookimpl
def register_data_components(register: Registrar) -> None:
    register("scale_field", f"{__name__}:ScaleField")
