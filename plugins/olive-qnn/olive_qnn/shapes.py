"""Which input dims a QnnPreprocess config fixes: the config checked against the graph, then applied.

QNN's HTP compiles fixed shapes only. Sizes come by dim name (``dim_values``, fixed wherever the
name appears in the graph) or by input (``input_shapes``, which also covers unnamed dims); every
mistake (an unknown input or name, a rank or size that disagrees, a dim left without a size) is a
ConfigError naming the input and the dim before any work is done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from olive_core.errors import ConfigError, did_you_mean

from olive_qnn.graph import dynamic_dims, feed_inputs

if TYPE_CHECKING:
    import onnx


@dataclass
class ShapePlan:
    """What to fix: sizes by dim name, and whole shapes of inputs that have unnamed dims."""

    by_name: dict[str, int] = field(default_factory=dict)
    by_input: dict[str, list[int]] = field(default_factory=dict)

    def empty(self) -> bool:
        return not self.by_name and not self.by_input


def plan_shapes(model: onnx.ModelProto, dim_values: dict[str, int], input_shapes: dict[str, list[int]]) -> ShapePlan:
    """Check the config against the graph's inputs; return what :func:`apply_plan` will fix."""
    inputs = {value.name: value for value in feed_inputs(model)}
    plan = ShapePlan()
    for name, shape in input_shapes.items():
        if name not in inputs:
            raise ConfigError(
                f"'{name}' is not an input of the model; its inputs are {', '.join(inputs)}",
                path=f"input_shapes.{name}",
                hint=did_you_mean(name, inputs) or "name the model's inputs",
            )
        dims = inputs[name].type.tensor_type.shape.dim
        if len(dims) != len(shape):
            raise ConfigError(
                f"input '{name}' has rank {len(dims)}, but input_shapes gives {len(shape)} sizes ({shape})",
                path=f"input_shapes.{name}",
                hint="give one size per axis",
            )
        for axis, (dim, size) in enumerate(zip(dims, shape)):
            if dim.HasField("dim_value") and dim.dim_value > 0 and dim.dim_value != size:
                raise ConfigError(
                    f"input '{name}' axis {axis} is fixed at {dim.dim_value}, but input_shapes gives {size}",
                    path=f"input_shapes.{name}",
                    hint=f"keep {dim.dim_value} there: a fixed size cannot change",
                )
            if dim.HasField("dim_param") and dim.dim_param:
                _agree(plan.by_name, dim.dim_param, size, f"input_shapes.{name}")
        plan.by_input[name] = list(shape)
    known = {dim.name for dim in dynamic_dims(model) if dim.name}
    for name, size in dim_values.items():
        if name not in known:
            raise ConfigError(
                f"no input of the model has a dim named '{name}'; its dynamic dims are "
                f"{', '.join(sorted(known)) or 'none'}",
                path=f"dim_values.{name}",
                hint=did_you_mean(name, known) or "name a symbolic dim of an input",
            )
        _agree(plan.by_name, name, size, f"dim_values.{name}")
    for dim in dynamic_dims(model):
        if dim.input in plan.by_input or (dim.name and dim.name in plan.by_name):
            continue
        fix = f"dim_values: {{'{dim.name}': <size>}}" if dim.name else f"input_shapes: {{'{dim.input}': [...]}}"
        raise ConfigError(
            f"{dim} is dynamic and the config gives it no size; QNN compiles fixed shapes only",
            path="dim_values" if dim.name else "input_shapes",
            hint=f"set {fix}",
        )
    plan.by_input = {name: shape for name, shape in plan.by_input.items() if _has_dynamic(inputs[name])}
    return plan


def _agree(sizes: dict[str, int], name: str, size: int, path: str) -> None:
    if sizes.get(name, size) != size:
        raise ConfigError(
            f"dim '{name}' is given two sizes, {sizes[name]} and {size}",
            path=path,
            hint="a dim name is one size everywhere it appears: give one value",
        )
    sizes[name] = size


def _has_dynamic(value: onnx.ValueInfoProto) -> bool:
    return any(not (dim.HasField("dim_value") and dim.dim_value > 0) for dim in value.type.tensor_type.shape.dim)


def apply_plan(model: onnx.ModelProto, plan: ShapePlan) -> list[str]:
    """Fix the planned dims in place (inputs, outputs and value infos); return the outputs that
    shape inference could not fix (they keep a dynamic dim)."""
    from onnxruntime.tools.onnx_model_utils import fix_output_shapes, make_dim_param_fixed, make_input_shape_fixed

    for name, size in plan.by_name.items():
        make_dim_param_fixed(model.graph, name, size)
    for name, shape in plan.by_input.items():
        make_input_shape_fixed(model.graph, name, shape)
    fix_output_shapes(model)
    return [value.name for value in model.graph.output if _has_dynamic(value)]
