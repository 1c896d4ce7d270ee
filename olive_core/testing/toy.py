"""A toy plugin for tests: a JSON linear model run with numpy, and a few passes over it.

Real components (a model type with a runtime, passes that write models), small enough to run
the engine end to end in milliseconds. Load it with
``create_plugin_manager(extra_plugins=["olive_core.testing.toy"])`` or ``OLIVE_PLUGINS``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from olive_core import hookimpl
from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import IncompatibleModelError, ModelLoadError, PassError
from olive_core.evaluation.metric import Metric, MetricContext
from olive_core.models.handler import ModelHandler
from olive_core.models.io_config import IoConfig
from olive_core.models.model_type import ModelType, ModelTypeConfig
from olive_core.passes.base import Pass, PassConfig, PassContext
from olive_core.passes.searchable import Searchable
from olive_core.tracking import Tracker, TrackerConfig
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


def write_toy_model(path: Path, weights: list[list[float]], bias: list[float]) -> Path:
    """Write a toy model file: ``y = x @ weights + bias``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"weights": weights, "bias": bias}))
    return path


def read_toy_model(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
        assert isinstance(data["weights"], list) and isinstance(data["bias"], list)
        return data
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise ModelLoadError(f"'{path}' is not a toy model (JSON with 'weights' and 'bias'): {exc}") from exc


class ToyModelConfig(ModelTypeConfig):
    model_path: str = Field(description="a toy model JSON file")
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="extra attributes of the handle (e.g. a token), to test how handles are recorded"
    )


class ToySession:
    input_names = ["x"]
    output_names = ["y"]

    def __init__(self, path: Path) -> None:
        import numpy as np

        data = read_toy_model(path)
        self.weights = np.asarray(data["weights"], dtype=np.float32)
        self.bias = np.asarray(data["bias"], dtype=np.float32)

    def run(self, inputs: dict[str, Any]) -> list[Any]:
        return [inputs["x"] @ self.weights + self.bias]


class ToyModelType(ModelType):
    """A linear model stored as JSON and run with numpy."""

    Config = ToyModelConfig

    def create_handle(self, name: str, config: Any, base_dir: Path) -> ModelHandler:
        path = Path(config.model_path)
        path = path if path.is_absolute() else base_dir / path
        if not path.is_file():
            raise ModelLoadError(f"{name}: toy model file '{path}' does not exist")
        data = read_toy_model(path)
        inputs = len(data["weights"])
        return ModelHandler(
            type="toy",
            path=str(path),
            io_config=IoConfig(input_names=["x"], input_shapes=[[1, inputs]], input_types=["float32"], output_names=["y"]),
            attributes=dict(config.attributes),
        )

    def check(self, handle: ModelHandler) -> None:
        read_toy_model(Path(handle.path))

    def create_session(self, handle: ModelHandler, accelerator: AcceleratorSpec, settings: dict[str, Any]) -> ToySession:
        return ToySession(Path(handle.path))


def _rewrite(model: ModelHandler, output_dir: Path, change: Any, **attributes: Any) -> ModelHandler:
    data = read_toy_model(Path(model.path))
    weights, bias = change(data["weights"], data["bias"])
    path = write_toy_model(output_dir / "weights.json", weights, bias)
    return model.derive(path=str(path), attributes=attributes)


class ToyScaleConfig(PassConfig):
    factor: Annotated[float, Searchable(low=0.25, high=4.0, log=True)] = Field(default=1.0, description="multiply weights by this")


class ToyScale(Pass):
    """Multiply a toy model's weights by a factor."""

    Config = ToyScaleConfig
    input_types = ("toy",)
    output_type = "toy"

    def run(self, model: ModelHandler, config: ToyScaleConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        def scale(weights: list[list[float]], bias: list[float]) -> tuple[list[list[float]], list[float]]:
            return [[w * config.factor for w in row] for row in weights], bias

        return _rewrite(model, output_dir, scale)


class ToyRoundConfig(PassConfig):
    decimals: Annotated[int, Searchable(choices=(0, 1, 2, 3))] = Field(default=2, description="decimals to keep")
    round_bias: Annotated[bool, Searchable()] = Field(default=True, description="round the bias too")


class ToyRound(Pass):
    """Round a toy model's weights: the toy's quantization (refuses an already-rounded model)."""

    Config = ToyRoundConfig
    input_types = ("toy",)
    output_type = "toy"

    def check_input(self, model: ModelHandler, config: PassConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        if model.attributes.get("rounded"):
            raise IncompatibleModelError("ToyRound: the model is already rounded", hint="round only once")

    def run(self, model: ModelHandler, config: ToyRoundConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        def round_all(weights: list[list[float]], bias: list[float]) -> tuple[list[list[float]], list[float]]:
            rounded = [[round(w, config.decimals) for w in row] for row in weights]
            return rounded, [round(b, config.decimals) for b in bias] if config.round_bias else bias

        context.report["decimals"] = config.decimals
        return _rewrite(model, output_dir, round_all, rounded=True)


class ToyFlakyConfig(PassConfig):
    fail_times: int = Field(default=0, ge=0, description="fail this many times (counted in counter_file), then succeed")
    counter_file: str = Field(default="", description="file counting runs (and attempts across retries)")
    always_fail: bool = Field(default=False, description="fail every time")
    sleep_s: float = Field(default=0.0, ge=0, description="work this long first (for tests that kill a run)")
    needs_data: bool = Field(default=False, description="refuse before running, as a pass not given the data it needs")
    crash: bool = Field(default=False, description="end a worker process at once, as a crash in native code does")


class ToyFlaky(Pass):
    """Copy a toy model, failing on purpose as configured (for retry, fallback and executor tests)."""

    Config = ToyFlakyConfig
    input_types = ("toy",)
    output_type = None  # a copy keeps its input's type

    def check_input(self, model: ModelHandler, config: PassConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        if config.needs_data:  # type: ignore[attr-defined]
            context.require_data(None, "ToyFlaky")

    def run(self, model: ModelHandler, config: ToyFlakyConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        if config.crash:
            import multiprocessing
            import os

            if multiprocessing.parent_process() is None:  # never the test run's own process
                raise PassError("ToyFlaky", "crash is for worker processes only")
            os._exit(70)
        if config.sleep_s:
            import time

            (output_dir / "partial.json").write_text("{")  # what a killed pass leaves behind
            time.sleep(config.sleep_s)
        if config.always_fail:
            raise PassError("ToyFlaky", "configured to always fail")
        if config.counter_file:
            context.report["counter_file"] = config.counter_file
            counter = Path(config.counter_file)
            count = int(counter.read_text()) if counter.exists() else 0
            counter.write_text(str(count + 1))
            if count < config.fail_times:
                raise RuntimeError(f"flaky failure {count + 1} of {config.fail_times}")
        return _rewrite(model, output_dir, lambda w, b: (w, b))


class ToyFitConfig(PassConfig):
    data: str = Field(description="the workflow data config whose mean input becomes the bias")


class ToyFit(Pass):
    """Set the bias from the mean of a data config's 'x' inputs: a pass that reads data."""

    Config = ToyFitConfig
    input_types = ("toy",)
    output_type = "toy"

    def run(self, model: ModelHandler, config: ToyFitConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        import numpy as np

        batches = list(context.data(config.data)) if context.data else []
        mean = float(np.mean([batch["x"] for batch in batches])) if batches else 0.0
        return _rewrite(model, output_dir, lambda w, b: (w, [mean for _ in b]))


class ToyChattyConfig(PassConfig):
    text: str = Field(default="hello from a library", max_length=1000, description="what the pass prints")
    print_attributes: bool = Field(default=False, description="also print the input model's attributes")


class ToyChatty(Pass):
    """Copy a toy model while printing the way libraries do: ``print``, a progress bar redrawn
    with carriage returns, a warning, and raw writes to descriptors 1 and 2 (as C++ code does)."""

    Config = ToyChattyConfig
    input_types = ("toy",)
    output_type = "toy"

    def run(self, model: ModelHandler, config: ToyChattyConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        import logging
        import os
        import sys

        print(f"print: {config.text}")
        sys.stderr.write("".join(f"\rloading: {percent}%" for percent in (0, 50, 100)) + "\n")
        logging.getLogger("toylib").warning("toylib warning: %s", config.text)
        os.write(1, f"fd1: {config.text}\n".encode())
        os.write(2, f"fd2: {config.text}\n".encode())
        if config.print_attributes:
            os.write(2, f"attributes: {model.attributes}\n".encode())
        return _rewrite(model, output_dir, lambda w, b: (w, b))


class ToyObjectiveConfig(PassConfig):
    a: Annotated[float, Searchable(low=-4.0, high=4.0)] = Field(default=0.0, description="continuous knob")
    b: Annotated[int, Searchable(choices=(0, 1, 2, 3, 4))] = Field(default=0, description="discrete knob")
    c: Annotated[bool, Searchable()] = Field(default=False, description="switch")


def toy_loss(a: float, b: int, c: bool) -> float:
    """The synthetic objective: 0 at a=1.5, b=3, c=True."""
    return (a - 1.5) ** 2 + (b - 3) ** 2 + (0.0 if c else 2.0)


def toy_quality(a: float, b: int, c: bool) -> float:
    """A second objective that trades off against the loss: best at a=-2."""
    return -abs(a + 2.0)


class ToyObjective(Pass):
    """Record its knobs in the model, so a metric can score them: search tests with a known optimum."""

    Config = ToyObjectiveConfig
    input_types = ("toy",)
    output_type = "toy"

    def run(self, model: ModelHandler, config: ToyObjectiveConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        # attributes only: the output shares its input's file (the engine gives it its own copy)
        return model.derive(attributes={"knobs": config.model_dump()})


class ToyObjectiveMetric(Metric):
    """Score a toy model by the knobs ToyObjective recorded in it."""

    sub_metrics = {"loss": "min", "quality": "max"}
    needs_data = False

    def measure(self, config: Any, context: MetricContext) -> dict[str, float]:
        knobs = context.model.attributes.get("knobs", {"a": 0.0, "b": 0, "c": False})
        return {"loss": toy_loss(**knobs), "quality": toy_quality(**knobs)}


#: where ToyOrdered's loss is 0: each knob an integer of 0..12
ORDERED_OPTIMUM = {"i": 9, "j": 4}


class ToyOrderedConfig(PassConfig):
    i: Annotated[int, Searchable(choices=tuple(range(13)))] = Field(default=0, description="ordered knob, 0..12")
    j: Annotated[int, Searchable(choices=tuple(range(13)))] = Field(default=0, description="ordered knob, 0..12")


def ordered_loss(i: int, j: int) -> float:
    """Squared distance to ORDERED_OPTIMUM: neighbouring values score alike, as quantization
    settings such as "how many nodes stay in float" do."""
    return float((i - ORDERED_OPTIMUM["i"]) ** 2 + (j - ORDERED_OPTIMUM["j"]) ** 2)


class ToyOrdered(Pass):
    """Record two ordered knobs in the model (169 points): a search space whose order matters."""

    Config = ToyOrderedConfig
    input_types = ("toy",)
    output_type = "toy"

    def run(self, model: ModelHandler, config: ToyOrderedConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        return model.derive(attributes={"ordered_knobs": config.model_dump()})


class ToyOrderedMetric(Metric):
    """Score a toy model by the knobs ToyOrdered recorded in it."""

    sub_metrics = {"loss": "min"}
    needs_data = False

    def measure(self, config: Any, context: MetricContext) -> dict[str, float]:
        return {"loss": ordered_loss(**context.model.attributes.get("ordered_knobs", {"i": 0, "j": 0}))}


class ToyTrackerConfig(TrackerConfig):
    path: str = Field(description="a JSON-lines file the tracker appends one line to per call it receives")
    fail_on: str | None = Field(default=None, description="raise in this call (e.g. 'on_candidate_end'), quoting the token")
    hang_on: str | None = Field(default=None, description="in this call, sleep hang_s first (a service that does not answer)")
    hang_s: float = Field(default=0.0, ge=0, le=3600, description="how long hang_on sleeps")
    token: str = Field(default="", description="a credential, to check that none is recorded")


class ToyTracker(Tracker):
    """Writes every call it gets to a JSON-lines file; fails or hangs on request (tracker tests)."""

    Config = ToyTrackerConfig

    def _write(self, call: str, **fields: Any) -> None:
        config: ToyTrackerConfig = self.config  # type: ignore[assignment]
        if call == config.hang_on:
            import time

            time.sleep(config.hang_s)
        if call == config.fail_on:
            raise RuntimeError(f"toy tracker failed in {call}: server refused token {config.token}")
        with open(config.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"call": call, **fields}, default=str) + "\n")

    def on_workflow_start(self, workflow: dict[str, Any]) -> None:
        self._write("on_workflow_start", workflow=workflow, run_id=self.context.run_id, cpu=self.context.cpu)

    def on_pass_start(self, step: str, pass_type: str, model: ModelHandler, config: dict[str, Any]) -> None:
        self._write("on_pass_start", step=step, config=config)

    def on_pass_end(self, step: str, pass_type: str, model: ModelHandler | None, error: str | None, cached: bool) -> None:
        self._write("on_pass_end", step=step, cached=cached, error=error)

    def on_evaluation_end(self, model: ModelHandler, metrics: dict[str, float]) -> None:
        self._write("on_evaluation_end", metrics=metrics)

    def on_candidate_end(self, candidate: Any, steps: list[Any]) -> None:
        self._write("on_candidate_end", index=candidate.index, ok=candidate.ok, point=candidate.point, steps=[s.status for s in steps])

    def on_workflow_end(self, result: Any) -> None:
        self._write("on_workflow_end", ok=result.ok, candidates=len(result.candidates), best=result.best, stopped_early=result.stopped_early)

    def close(self) -> None:
        self._write("close")


@hookimpl
def register_trackers(register: Registrar) -> None:
    register("toy", ToyTracker)


@hookimpl
def register_metrics(register: Registrar) -> None:
    register("toy_objective", ToyObjectiveMetric)
    register("toy_ordered", ToyOrderedMetric)


@hookimpl
def register_model_types(register: Registrar) -> None:
    register("toy", ToyModelType)


@hookimpl
def register_passes(register: Registrar) -> None:
    register("ToyScale", ToyScale)
    register("ToyRound", ToyRound)
    register("ToyFlaky", ToyFlaky)
    register("ToyObjective", ToyObjective)
    register("ToyOrdered", ToyOrdered)
    register("ToyFit", ToyFit)
    register("ToyChatty", ToyChatty)
