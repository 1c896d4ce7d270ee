"""Inputs that fit a model's signature, for timing it when no data set is given.

Shapes come from the handle's io_config when it has example shapes, else from the graph: a
symbolic first dimension is the batch, any other symbolic dimension the sequence length, unless
``dim_values`` names it. Values are plausible rather than meaningful: zeros for integer inputs
(a valid token id and segment id), ones for masks, small random numbers for floats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from olive_core.errors import ConfigError

if TYPE_CHECKING:
    from olive_core.models import ModelHandler

    from olive_onnx.inspect import InputSpec


def concrete_shape(spec: InputSpec, batch_size: int, sequence_length: int, dim_values: dict[str, int]) -> list[int]:
    shape = []
    for axis, dim in enumerate(spec.dims):
        if isinstance(dim, int) and dim > 0:
            shape.append(dim)
        elif isinstance(dim, str) and dim in dim_values:
            shape.append(dim_values[dim])
        else:
            shape.append(batch_size if axis == 0 else sequence_length)
    return shape


def dummy_value(name: str, dtype: str, shape: list[int], rng: np.random.Generator) -> np.ndarray:
    kind = np.dtype(dtype).kind
    if kind == "b":
        return np.ones(shape, dtype=bool)
    if kind in "iu":
        fill = 1 if "mask" in name.lower() else 0
        return np.full(shape, fill, dtype=dtype)
    if kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    raise ConfigError(
        f"cannot make a dummy value for input '{name}' of dtype {dtype}",
        hint="give the pass a model whose inputs are numeric tensors",
    )


def dummy_inputs(
    handle: ModelHandler,
    specs: list[InputSpec],
    batch_size: int = 1,
    sequence_length: int = 128,
    dim_values: dict[str, int] | None = None,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """One batch for every graph input in ``specs``.

    Example shapes in the handle's io_config take precedence; dtypes always come from the graph,
    which is what the session checks against.
    """
    dim_values = dim_values or {}
    rng = np.random.default_rng(seed)
    io = handle.io_config
    io_shapes: dict[str, list[int]] = {}
    if io is not None and io.input_shapes:
        io_shapes = dict(zip(io.input_names, io.input_shapes, strict=True))
    inputs = {}
    for spec in specs:
        shape = io_shapes.get(spec.name) or concrete_shape(spec, batch_size, sequence_length, dim_values)
        inputs[spec.name] = dummy_value(spec.name, spec.dtype, list(shape), rng)
    return inputs
