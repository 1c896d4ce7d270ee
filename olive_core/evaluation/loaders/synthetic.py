"""Synthetic inputs from the model's io_config: the data for latency when no real data is at hand."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from olive_core.bounds import Int64, Seed
from olive_core.errors import DataError
from olive_core.evaluation.data import DataComponent, DataComponentConfig, DataContext, Role
from olive_core.models.io_config import Dimension


class SyntheticConfig(DataComponentConfig):
    num_samples: int = Field(default=16, ge=1, le=1_000_000, description="how many samples to make")
    seed: Seed = Field(default=0, description="random seed: the same seed gives the same data")
    batch_axis: bool = Field(
        default=True, description="the io_config shapes start with the batch axis, which samples leave out"
    )
    int_range: tuple[Int64, Int64] = Field(default=(0, 99), description="inclusive range of integer inputs")
    float_range: tuple[float, float] = Field(default=(0.0, 1.0), description="range of float inputs (uniform)")
    shapes: dict[str, list[Dimension]] = Field(
        default_factory=dict, description="per input: the shape of one sample, overriding the io_config"
    )
    dtypes: dict[str, str] = Field(default_factory=dict, description="per input: numpy dtype, overriding the io_config")
    ranges: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="per input: its value range, e.g. {'attention_mask': [1, 1]}"
    )

    @model_validator(mode="after")
    def _ranges_ordered(self) -> SyntheticConfig:
        for name, (low, high) in {"int_range": self.int_range, "float_range": self.float_range, **self.ranges}.items():
            if low > high:
                raise ValueError(f"range of '{name}' has low {low} above high {high}")
        return self


class SyntheticLoader(DataComponent):
    """Random inputs shaped and typed by the model's io_config (shapes, dtypes, int ranges, seed)."""

    role: ClassVar[Role] = "load"
    Config = SyntheticConfig
    uses_model: ClassVar[bool] = True

    def __call__(self, value: Any, config: SyntheticConfig, context: DataContext) -> list[dict[str, Any]]:
        import numpy as np

        specs = input_specs(config, context)
        rng = np.random.default_rng(config.seed)
        samples = []
        for _ in range(config.num_samples):
            sample = {}
            for name, (shape, dtype) in specs.items():
                sample[name] = _random(rng, np.dtype(dtype), shape, config.ranges.get(name), config)
            samples.append(sample)
        return samples


def input_specs(config: SyntheticConfig, context: DataContext) -> dict[str, tuple[list[int], str]]:
    """Per input: the shape of one sample and its dtype."""
    io_config = context.model.io_config if context.model is not None else None
    if io_config is None:
        raise DataError(
            f"data '{context.name}': the synthetic loader needs the model's io_config (input names, shapes, dtypes), "
            "and the input model has none",
            hint="give the model an io_config, or use a file loader",
        )
    specs = {}
    for index, name in enumerate(io_config.input_names):
        if name in config.shapes:
            shape = list(config.shapes[name])
        elif io_config.input_shapes is not None:
            shape = list(io_config.input_shapes[index])
            shape = shape[1:] if config.batch_axis and shape else shape
        else:
            raise DataError(
                f"data '{context.name}': the io_config gives no shape for input '{name}'",
                hint=f"set data.{context.name}.load.config.shapes.{name}",
            )
        dtype = config.dtypes.get(name) or (io_config.input_types[index] if io_config.input_types else "float32")
        specs[name] = (shape, dtype)
    return specs


def _random(rng: Any, dtype: Any, shape: list[int], value_range: tuple[float, float] | None, config: SyntheticConfig) -> Any:
    if dtype.kind == "b":
        return rng.integers(0, 1, size=shape, endpoint=True).astype(dtype)
    if dtype.kind in "iu":
        low, high = value_range if value_range is not None else config.int_range
        return rng.integers(int(low), int(high), size=shape, endpoint=True).astype(dtype)
    if dtype.kind == "f":
        low, high = value_range if value_range is not None else config.float_range
        return rng.uniform(low, high, size=shape).astype(dtype)
    raise DataError(f"the synthetic loader cannot make inputs of dtype {dtype}", hint="set its dtype in 'dtypes'")
