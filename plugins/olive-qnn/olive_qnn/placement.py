"""Which nodes of a model QNN takes and which it leaves to the CPU, asked of ONNX Runtime itself.

Runs use QNN with CPU fallback disabled, so a model with one refused node does not load at all;
to learn which nodes those are, a session is opened with fallback enabled and ORT records where
it placed each node (``session.record_ep_graph_assignment_info``). The listed nodes are those
after ORT's graph rewrites; a compiled model lists its EPContext nodes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from olive_core.errors import ModelLoadError

from olive_qnn.graph import QDQ_OPS

if TYPE_CHECKING:
    from olive_core.accelerators import AcceleratorSpec
    from olive_onnx.api import SessionSettings

PROVIDER = "QNNExecutionProvider"
#: the session entries that let nodes fall back to the CPU and record where each one went
RECORDING = {"session.disable_cpu_ep_fallback": "0", "session.record_ep_graph_assignment_info": "1"}
#: QNN hands a graph's first Q and last DQ to the CPU when fallback is enabled, unless told not
#: to; runs without fallback keep them on the NPU, so the measurement keeps them there too
KEEP_IO_QUANTIZATION = {"offload_graph_io_quantization": "0"}
#: the error QNN raises when it cannot finalize a graph (measured: float Gather or CumSum, no soc_model set)
MEM_ALLOC = "QNN_COMMON_ERROR_MEM_ALLOC"


@dataclass(frozen=True)
class PlacedNode:
    name: str
    op_type: str
    provider: str


@dataclass(frozen=True)
class Placement:
    nodes: tuple[PlacedNode, ...]

    @property
    def on_cpu(self) -> list[PlacedNode]:
        return [node for node in self.nodes if node.provider != PROVIDER]

    def coverage(self) -> float:
        """The fraction of nodes QNN runs (1.0 for an empty list: nothing is left to the CPU)."""
        return 1.0 - len(self.on_cpu) / len(self.nodes) if self.nodes else 1.0

    def describe_cpu(self, limit: int = 20) -> str:
        """``Erf x6 (erf_1, erf_2, ...); Det x1 (det)``: op types with their node names.

        The Q/DQ nodes around a refused op go with it to the CPU; they are counted after the ops
        that sent them there (alone, they are the graph's first Q or last DQ).
        """
        counts = Counter(node.op_type for node in self.on_cpu)
        ops = sorted(counts, key=lambda op: (op in QDQ_OPS, -counts[op], op))
        parts = []
        for op in ops:
            names = [node.name or "<unnamed>" for node in self.on_cpu if node.op_type == op]
            shown = ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")
            parts.append(f"{op} x{counts[op]} ({shown})")
        return "; ".join(parts)


def measure_placement(model_file: Path, accelerator: AcceleratorSpec, settings: SessionSettings) -> Placement:
    """Open a recording session with CPU fallback enabled; return where ORT placed every node."""
    from olive_onnx.api import open_session, session_options

    settings = settings.model_copy(update={"provider_options": {**settings.provider_options, **KEEP_IO_QUANTIZATION}})
    options = session_options(settings)
    options.log_severity_level = 4  # QNN logs each node it refuses as an error; they are reported here instead
    try:
        session = open_session(model_file, accelerator, settings, options=options, config_entries=RECORDING)
    except ModelLoadError as exc:
        raise mem_alloc_error(exc, model_file) or exc
    nodes = [
        PlacedNode(node.name, node.op_type, subgraph.ep_name)
        for subgraph in session.get_provider_graph_assignment_info()
        for node in subgraph.get_nodes()
    ]
    return Placement(tuple(nodes))


def mem_alloc_error(exc: BaseException, model_file: Path) -> ModelLoadError | None:
    """QNN's finalize failure, named with the ops measured to cause it; None for other errors."""
    text = " ".join(str(e) for e in (exc, exc.__cause__) if e is not None)
    if MEM_ALLOC not in text:
        return None
    from olive_onnx.api import read_model_proto

    suspects = [n for n in read_model_proto(model_file).graph.node if n.op_type in ("Gather", "CumSum")]
    named = ", ".join(f"{n.op_type} '{n.name}'" for n in suspects[:5]) + (", ..." if len(suspects) > 5 else "")
    return ModelLoadError(
        f"QNN could not finalize the graph of '{model_file}' ({MEM_ALLOC})"
        + (f"; float Gather and CumSum fail this way when no soc_model is set, and it has {named}" if suspects else ""),
        hint="set the provider option soc_model for the target chip (e.g. '57'), or quantize the model (QnnQuantization)",
    )
