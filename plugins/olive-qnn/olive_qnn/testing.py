"""Tiny models, inputs and workflows for tests on QNN's HTP simulator, built in the tests (no downloads).

Only tests import this module; the plugin itself never does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from olive_core.accelerators import AcceleratorSpec
from olive_core.models.handler import ModelHandler
from olive_core.testing.steps import CPU


@functools.cache
def qnn_accelerator(**options: str) -> AcceleratorSpec:
    """The npu accelerator with QNN (and these provider options), as validation resolves it."""
    from olive_core.config.validation import accelerator_spec
    from olive_core.plugins import create_plugin_manager

    provider = create_plugin_manager().registry.load("execution_provider", "QNNExecutionProvider")
    return accelerator_spec(provider, options)


def tiny_cnn_file(folder: Path, dynamic_batch: bool = False) -> Path:
    """Conv/Relu/MaxPool twice and a Gemm, 1x3x16x16 -> 1x4: every op QNN's HTP takes."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 4),
    ).eval()  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "model.onnx"
    axes = {"x": {0: "N"}, "y": {0: "N"}} if dynamic_batch else None
    torch.onnx.export(model, (torch.randn(1, 3, 16, 16),), str(target), input_names=["x"], output_names=["y"], dynamic_axes=axes, opset_version=17, dynamo=False)
    return target


def onnx_handle(model_file: Path) -> ModelHandler:
    """An ``onnx`` handle of the file with its content id, as the engine makes one (not checked:
    it also stands for pass outputs, whose EP-context nodes the ONNX checker does not know)."""
    from olive_onnx.model import OnnxModelType

    model_type = OnnxModelType()
    handle = model_type.create_handle("input_model", model_type.Config(model_path=str(model_file)), model_file.parent)
    return handle.model_copy(update={"id": model_type.content_id(handle)})


def gelu_cnn_file(folder: Path) -> Path:
    """Conv then GELU, which the TorchScript exporter writes as Div/Erf/Add/Mul/Mul (QNN refuses Erf)."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.GELU()).eval()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "model.onnx"
    torch.onnx.export(model, (torch.randn(1, 3, 16, 16),), str(target), input_names=["x"], output_names=["y"], opset_version=17, dynamo=False)
    return target


def tiny_bert_file(folder: Path, layers: int = 1) -> Path:
    """A one-layer BERT (random weights, no download) with an arithmetic attention mask, as the
    MiniLM example exports it (examples/qnn-minilm/minilm_qnn.py)."""
    import torch
    from transformers import BertConfig, BertModel

    class ArithmeticMask(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
            extended = (attention_mask[:, None, None, :].to(torch.float32) - 1.0) * 100.0
            return self.bert(input_ids=input_ids, attention_mask=extended, token_type_ids=token_type_ids).last_hidden_state

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=layers, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=32, attn_implementation="eager",
    )  # fmt: skip
    model = ArithmeticMask(BertModel(config)).eval()
    ids = torch.ones(1, 16, dtype=torch.int64)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "model.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    torch.onnx.export(model, (ids, ids, torch.zeros_like(ids)), str(target), input_names=names, output_names=["last_hidden_state"], opset_version=17, dynamo=False)
    return target


def onnx_file(folder: Path, nodes: list, inputs: list, outputs: list, initializers: list = ()) -> Path:
    """A one-off graph written with onnx.helper (opset 17)."""
    import onnx
    from onnx import helper

    graph = helper.make_graph(nodes, folder.name, inputs, outputs, list(initializers))
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(folder / "model.onnx"))
    return folder / "model.onnx"


def det_model_file(folder: Path) -> Path:
    """Mul then Det, an op QNN's HTP has no kernel for."""
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.linspace(0.5, 1.5, 16, dtype=np.float32).reshape(1, 4, 2, 2), "w")
    return onnx_file(
        folder,
        [helper.make_node("Mul", ["x", "w"], ["m"], name="scale"), helper.make_node("Det", ["m"], ["y"], name="the_det")],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [weight],
    )


def images(count: int = 8, seed: int = 0, shape: tuple[int, ...] = (1, 3, 16, 16)) -> list[dict[str, np.ndarray]]:
    """Random normal inputs ``x`` of the CNN's shape, one batch each."""
    rng = np.random.default_rng(seed)
    return [{"x": rng.standard_normal(shape, dtype=np.float32)} for _ in range(count)]


def calibration(shape: tuple[int, ...] = (1, 3, 16, 16)) -> Callable[[str], list[dict[str, np.ndarray]]]:
    """``PassContext.data``: any data name gives the same random images."""
    return lambda name: images(8, seed=1, shape=shape)


def quantized(
    model: ModelHandler, folder: Path, shape: tuple[int, ...] = (1, 3, 16, 16), accelerator: AcceleratorSpec = CPU, **config: object
) -> ModelHandler:
    """The model through QnnQuantization (uint8 activations unless told), calibrated on random inputs ``x``."""
    from olive_core.passes import PassContext

    from olive_qnn.passes.quantization import QnnQuantization

    the_pass = QnnQuantization()
    settings = the_pass.Config(**{"data": "calib", "activation_type": "uint8", **config})
    context = PassContext(accelerator=accelerator, step="quantize", data=calibration(shape))
    folder.mkdir(parents=True, exist_ok=True)
    the_pass.check_input(model, settings, context)
    return onnx_handle_of(the_pass.run(model, settings, folder, context))


def onnx_handle_of(produced: ModelHandler) -> ModelHandler:
    """A pass's output as the engine hands it on: with its content id."""
    return onnx_handle(Path(produced.path))


def cnn_workflow(folder: Path, dynamic: bool = False, **changes: Any) -> dict[str, Any]:
    """Float CNN -> QnnPreprocess -> QnnQuantization (uint8 | uint16) -> QnnContextBinary on QNN."""
    model = tiny_cnn_file(folder / "cnn", dynamic_batch=dynamic)
    base: dict[str, Any] = {
        "input_model": {"type": "onnx", "config": {"model_path": str(model)}},
        "accelerators": [{"device": "npu", "provider": "QNNExecutionProvider"}],
        "data": {
            "images": {
                "load": {"type": "synthetic", "config": {"num_samples": 8, "shapes": {"x": [3, 16, 16]}, "float_range": [-2, 2]}},
                "batch_size": 1,
            }
        },
        "metrics": [
            {"name": "similarity", "type": "similarity", "data": "images", "sub_metrics": ["cosine_mean"]},
            {"name": "npu", "type": "npu_coverage", "goals": {"coverage": {"threshold": 1.0}}},
        ],
        "passes": {
            "preprocess": {"type": "QnnPreprocess", "config": {"dim_values": {"N": 1}} if dynamic else {}},
            "quantize": {
                "type": "QnnQuantization",
                "config": [{"data": "images", "activation_type": "uint8"}, {"data": "images", "activation_type": "uint16"}],
            },
            "compile": {"type": "QnnContextBinary"},
        },
        "search": {"objectives": [{"metric": "similarity-cosine_mean"}]},
        "engine": {"output_dir": str(folder / "output"), "cache": {"type": "local", "config": {"dir": str(folder / "cache")}}},
    }
    base.update(changes)
    if not base["metrics"]:
        base["search"] = {}
    return base
