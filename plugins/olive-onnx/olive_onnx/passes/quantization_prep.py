"""What both INT8 quantizers do before calling ONNX Runtime: SmoothQuant, then the nodes kept in float.

Imports onnx and onnxruntime: import it inside a pass's ``run``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from olive_core.models import ModelHandler
from olive_core.passes import PassContext
from olive_onnx.calibration import DataConfigReader
from olive_onnx.exclusion import nodes_of_types, positional_exclusions, quantizable_nodes
from olive_onnx.files import load_model, save_model
from olive_onnx.inspect import graph_inputs
from olive_onnx.passes.quantization_common import QuantizationConfig


@dataclass
class Prepared:
    model_file: Path  # what ONNX Runtime quantizes (the smoothed copy when SmoothQuant ran)
    nodes_to_exclude: list[str]


def feeds(
    config: QuantizationConfig, context: PassContext, pass_name: str, inputs: Any, rows: int
) -> Iterator[dict[str, np.ndarray]]:
    """Batches of the pass's data, checked against the graph's inputs, ``rows`` rows at most; read lazily."""
    batches = context.require_data(config.data, pass_name)()
    reader = DataConfigReader(batches, inputs, str(config.data), rows)
    reader.require_data()
    while (batch := reader.get_next()) is not None:
        yield batch


def prepare(
    model: ModelHandler,
    source: Path,
    config: QuantizationConfig,
    context: PassContext,
    scratch: Path,
    pass_name: str,
    static: bool,
) -> Prepared:
    """Smooth ``source`` if asked, then resolve ``exclude`` on the graph that will be quantized."""
    from olive_onnx.sensitivity import rank, ranking_key
    from olive_onnx.smooth_quant import smooth

    excluded = list(config.nodes_to_exclude)
    if not (config.smooth_quant or config.exclude.active):
        return Prepared(source, excluded)
    proto = load_model(source)
    inputs = graph_inputs(proto)
    if config.smooth_quant:
        rows = config.max_calibration_samples
        proto, smoothing = smooth(
            proto, feeds(config, context, pass_name, inputs, rows), config.smooth_quant_alpha, skip_nodes=excluded
        )
        source = save_model(proto, scratch / "smoothed")
        excluded += smoothing.mul_nodes  # the smoothing Muls stay in float
        context.report["smooth_quant"] = smoothing.as_dict()
    if not config.exclude.active:
        return Prepared(source, excluded)

    exclude = config.exclude
    nodes = quantizable_nodes(proto, config.op_types_to_quantize)
    included = set(config.nodes_to_include) if config.nodes_to_include else None
    nodes = [n for n in nodes if n.name not in excluded and (included is None or n.name in included)]
    by_rule = positional_exclusions(
        nodes, exclude.first_layers, exclude.last_layers, exclude.op_types, nodes_of_types(proto, exclude.op_types)
    )
    chosen: dict[str, list[str]] = {rule: names for rule, names in by_rule.items() if names}
    if exclude.op_types and not by_rule["op_types"]:
        context.warn(f"exclude.op_types {exclude.op_types}: the graph has no node of these types")
    ruled_out = {name for names in by_rule.values() for name in names}
    if exclude.most_sensitive:
        rankable = [n for n in nodes if n.name not in ruled_out]
        if exclude.most_sensitive > len(rankable):
            context.warn(
                f"exclude.most_sensitive is {exclude.most_sensitive} but {len(rankable)} nodes are left to "
                "rank: all of them stay in float"
            )
        options = {
            "measure": exclude.measure,
            "per_channel": config.per_channel,
            "static": static,
            "samples": exclude.sensitivity_samples,
            "smooth_quant": config.smooth_quant_alpha if config.smooth_quant else None,
        }
        records, key = context.records, None
        if records is not None and context.data_key is not None:
            key = ranking_key(_model_key(model, source), context.data_key(str(config.data)), options, rankable)
        ranking, cached = rank(
            proto,
            source,
            rankable,
            lambda: list(feeds(config, context, pass_name, inputs, exclude.sensitivity_samples)),
            options,
            records,
            key,
        )
        chosen["most_sensitive"] = [name for name, _ in ranking[: exclude.most_sensitive]]
        context.report["sensitivity"] = {
            "measure": exclude.measure,
            "cached": cached,
            "top": [[name, round(score, 8)] for name, score in ranking[:12]],
        }
    context.report["excluded"] = chosen
    for names in chosen.values():
        excluded += [name for name in names if name not in excluded]
    return Prepared(source, excluded)


def _model_key(model: ModelHandler, source: Path) -> str:
    """The model's content id in a workflow; a hash of its file outside one."""
    if model.id:
        return model.id
    digest = hashlib.sha256()
    with source.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
