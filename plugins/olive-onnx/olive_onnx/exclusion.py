"""Which nodes a quantizer keeps in float: found from the graph's structure, never from export names.

A *quantizable node* is a node of an op type the quantizer handles whose weight (input 1) is an
initializer (a linear layer, an attention's packed projection, a convolution). A *level* groups
them by depth: the number of quantizable nodes before a node on the longest path from the inputs.
The Q, K and V projections of one attention share a level; an MLP has one level per layer. Levels
do not depend on node names, so ``first_layers``/``last_layers`` mean the same for any exporter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from olive_core.errors import ConfigError

if TYPE_CHECKING:
    import onnx

#: op types ORT's INT8 quantizers handle whose input 1 is a weight
WEIGHTED_OPS = ("MatMul", "Gemm", "Conv", "Attention", "EmbedLayerNormalization", "Gather", "ConvTranspose")
#: of those, what the quantizers handle when the workflow names no op types
DEFAULT_OPS = ("MatMul", "Gemm", "Conv", "Attention")


@dataclass(frozen=True)
class QuantizableNode:
    name: str
    op_type: str
    activation: str  # the input that is quantized at run time
    weight: str  # the initializer that is quantized ahead of time
    level: int


def quantizable_nodes(model: onnx.ModelProto, op_types: Iterable[str] | None) -> list[QuantizableNode]:
    """The graph's quantizable nodes in graph (topological) order, each with its level."""
    wanted = set(op_types) if op_types else set(DEFAULT_OPS)
    wanted &= set(WEIGHTED_OPS)
    initializers = {t.name for t in model.graph.initializer}
    producer: dict[str, int] = {}
    depth: list[int] = []  # quantizable nodes on the longest path up to and including node i
    found = []
    for index, node in enumerate(model.graph.node):
        before = max((depth[producer[name]] for name in node.input if name in producer), default=0)
        weighted = (
            node.op_type in wanted
            and len(node.input) > 1
            and node.input[1] in initializers
            and node.input[0] not in initializers
            and bool(node.name)
        )
        if weighted:
            found.append(QuantizableNode(node.name, node.op_type, node.input[0], node.input[1], before))
        depth.append(before + (1 if weighted else 0))
        for output in node.output:
            producer[output] = index
    return found


def levels(nodes: list[QuantizableNode]) -> list[int]:
    return sorted({node.level for node in nodes})


def positional_exclusions(
    nodes: list[QuantizableNode], first_layers: int, last_layers: int, op_types: Iterable[str], all_op_nodes: list[str]
) -> dict[str, list[str]]:
    """Node names kept in float by position (first/last levels) and by op type, each list in graph order."""
    found = levels(nodes)
    if first_layers + last_layers > len(found):
        raise ConfigError(
            f"exclude.first_layers ({first_layers}) + exclude.last_layers ({last_layers}) exceed the "
            f"{len(found)} levels of quantizable nodes this graph has: nothing would be quantized",
            path="exclude",
            hint=f"keep their sum below {len(found)}",
        )
    first = set(found[:first_layers])
    last = set(found[len(found) - last_layers :]) if last_layers else set()
    return {
        "first_layers": [n.name for n in nodes if n.level in first],
        "last_layers": [n.name for n in nodes if n.level in last],
        "op_types": list(all_op_nodes) if op_types else [],
    }


def nodes_of_types(model: onnx.ModelProto, op_types: Iterable[str]) -> list[str]:
    types = set(op_types)
    return [node.name for node in model.graph.node if node.op_type in types and node.name]
