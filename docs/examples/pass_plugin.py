"""A pass plugin: clip the weights of core's toy model (a linear model stored as JSON) to a limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import Field

from olive_core import hookimpl
from olive_core.errors import IncompatibleModelError, PassError
from olive_core.models import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext, Searchable
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


class ClipWeightsConfig(PassConfig):
    limit: Annotated[float, Searchable(low=0.5, high=8.0, log=True)] = Field(
        default=4.0, gt=0, le=1e6, description="largest absolute weight kept"
    )
    clip_bias: Annotated[bool, Searchable()] = Field(default=False, description="clip the bias too")


class ClipWeights(Pass):
    """Clip a toy model's weights to [-limit, limit].

    `olive passes ClipWeights` shows the first paragraph of this docstring.
    """

    Config = ClipWeightsConfig
    version = "1"  # enters the cache key of every model it makes: bump it when its output changes
    input_types = ("toy",)
    output_type = None  # the output keeps its input's type
    input_constraints = ("not clipped already",)

    def check_input(self, model: ModelHandler, config: ClipWeightsConfig, context: PassContext) -> None:
        super().check_input(model, config, context)  # the model type, devices and providers
        if "clip_limit" in model.attributes:
            raise IncompatibleModelError(
                f"ClipWeights: the model is clipped already (limit {model.attributes['clip_limit']})",
                hint="clip once: drop one of the two steps",
            )

    def run(
        self, model: ModelHandler, config: ClipWeightsConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        data = json.loads(Path(model.path).read_text())
        if not isinstance(data.get("weights"), list):
            raise PassError("ClipWeights", f"'{model.path}' has no 'weights' list")

        def clip(value: float) -> float:
            return max(-config.limit, min(config.limit, value))

        weights = [[clip(w) for w in row] for row in data["weights"]]
        bias = [clip(b) for b in data["bias"]] if config.clip_bias else data["bias"]
        clipped = sum(w != c for row, new in zip(data["weights"], weights) for w, c in zip(row, new))
        if clipped == 0:
            context.warn(f"no weight is larger than {config.limit}: the model is unchanged")
        context.report["clipped_weights"] = clipped  # lands in run.json with this step
        target = output_dir / "weights.json"  # only under output_dir: it becomes the cached artifact
        target.write_text(json.dumps({"weights": weights, "bias": bias}))
        return model.derive(path=str(target), attributes={"clip_limit": config.limit})


@hookimpl
def register_passes(register: Registrar) -> None:
    register("ClipWeights", ClipWeights)
