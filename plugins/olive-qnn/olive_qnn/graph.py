"""Facts about an ONNX graph that the QNN passes decide on: dynamic input dims, QDQ, EPContext nodes.

Each function takes a ``ModelProto`` read without its weights and only reads its fields, so this
module imports no framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from olive_core.errors import IncompatibleModelError

if TYPE_CHECKING:
    import onnx

QDQ_OPS = frozenset({"QuantizeLinear", "DequantizeLinear"})


@dataclass(frozen=True)
class DynamicDim:
    """One input dimension without a fixed size: a named one (``dim_param``) or an unnamed one."""

    input: str
    axis: int
    name: str | None

    def __str__(self) -> str:
        return f"input '{self.input}' axis {self.axis}" + (f" ('{self.name}')" if self.name else " (unnamed)")


def feed_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """The graph inputs a caller feeds (initializers listed as inputs left out)."""
    initializers = {tensor.name for tensor in model.graph.initializer}
    return [value for value in model.graph.input if value.name not in initializers]


def dynamic_dims(model: onnx.ModelProto) -> list[DynamicDim]:
    """Every input dimension QNN cannot compile: a symbolic name, or no size at all."""
    found = []
    for value in feed_inputs(model):
        for axis, dim in enumerate(value.type.tensor_type.shape.dim):
            if dim.HasField("dim_value") and dim.dim_value > 0:
                continue
            found.append(DynamicDim(value.name, axis, dim.dim_param if dim.HasField("dim_param") else None))
    return found


def refuse_dynamic(model: onnx.ModelProto, model_file: str, pass_name: str) -> None:
    """QNN's HTP compiles fixed shapes only: with a dynamic dim left, every node fails its validation."""
    dims = dynamic_dims(model)
    if not dims:
        return
    named = sorted({dim.name for dim in dims if dim.name})
    example = ", ".join(f"'{name}': 1" for name in named) or "..."
    raise IncompatibleModelError(
        f"{pass_name} needs fixed input shapes (QNN compiles nothing else), but {dims[0]} of '{model_file}' is "
        f"dynamic" + (f", and {len(dims) - 1} more dim(s)" if len(dims) > 1 else ""),
        hint=f"put QnnPreprocess before it with dim_values {{{example}}} or input_shapes for each input",
    )


def is_qdq(model: onnx.ModelProto) -> bool:
    return any(node.op_type in QDQ_OPS for node in model.graph.node)


def epcontext_nodes(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    """The EPContext nodes of a compiled model (a context binary holds the compiled graph)."""
    return [node for node in model.graph.node if node.op_type == "EPContext"]


def node_attribute(node: onnx.NodeProto, name: str) -> str | None:
    """A string or int attribute of a node, as text; None when absent."""
    for attribute in node.attribute:
        if attribute.name == name:
            if attribute.s:
                return attribute.s.decode("utf-8", errors="replace")
            return str(attribute.i)
    return None
