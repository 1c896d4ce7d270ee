"""New initializers of ORT's preprocessing renamed, so ORT's own fusions can run again at load.

ORT's preprocessing for QNN runs ORT's basic graph optimizations and saves the result. Their
MatMul+Add fusion names the shape initializers it adds ``gemm_input_shape``, ``gemm_output_shape``,
...; when a CPU session loads that model at the default optimization level, the same fusion runs
on the MatMuls left and picks those names again: "Attempt to replace the existing tensor", and
the model does not load (measured on MiniLM and a one-layer BERT with onnxruntime 1.32). Renamed,
they no longer clash.
"""

from __future__ import annotations

from pathlib import Path

SUFFIX = "/qnn_preprocess"


def rename_added_initializers(model_file: Path, known: set[str], external: bool) -> int:
    """Give every initializer not in ``known`` (the input's) a suffix; rewrite the model; return how many."""
    from olive_onnx.api import load_model, save_model

    model = load_model(model_file)
    renames = {tensor.name: tensor.name + SUFFIX for tensor in model.graph.initializer if tensor.name not in known}
    if not renames:
        return 0
    for tensor in model.graph.initializer:
        tensor.name = renames.get(tensor.name, tensor.name)
    for value in [*model.graph.input, *model.graph.value_info]:
        value.name = renames.get(value.name, value.name)
    for node in model.graph.node:
        for index, name in enumerate(node.input):
            if name in renames:
                node.input[index] = renames[name]
    save_model(model, model_file.parent, external_data=external)
    return len(renames)
