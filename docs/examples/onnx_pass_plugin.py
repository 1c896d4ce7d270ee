"""A plugin that builds on another: a pass on olive-onnx's `onnx` models, written with olive-onnx's stable API."""

from __future__ import annotations

from pathlib import Path

from olive_core import hookimpl
from olive_core.models import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


class OnnxStripDocStrings(Pass):
    """Remove the doc strings of an ONNX graph's nodes: a smaller file, the same computation."""

    Config = PassConfig  # no options
    input_types = ("onnx",)  # a model type olive-onnx registers: named, never imported
    output_type = "onnx"

    def run(self, model: ModelHandler, config: PassConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        from olive_onnx.api import derive_output, load_model, save_model  # onnx loads when the pass runs

        proto = load_model(model.path)  # refuses external data that points outside the model's folder
        stripped = 0
        for node in proto.graph.node:
            if node.doc_string:
                node.doc_string, stripped = "", stripped + 1
        context.report["stripped_doc_strings"] = stripped
        return derive_output(model, save_model(proto, output_dir))


@hookimpl
def register_passes(register: Registrar) -> None:
    register("OnnxStripDocStrings", OnnxStripDocStrings)
