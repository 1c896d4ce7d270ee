"""Models for the olive-onnx tests: a tiny BERT exported once per session, and small hand-built graphs."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from olive_core.accelerators import AcceleratorSpec
from olive_core.models import ModelHandler
from olive_core.passes import PassContext
from olive_core.plugins import create_plugin_manager

os.environ.setdefault("HF_HUB_OFFLINE", "1")

BERT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
NUM_HEADS, HIDDEN_SIZE = 2, 32


def onnx_handle(path: Path | str, **fields: object) -> ModelHandler:
    return ModelHandler(type="onnx", path=str(path), **fields)


def bert_feed(batch: int = 2, sequence: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, sequence), dtype=np.int64)
    mask[:, sequence - 2 :] = 0  # some padding, as real batches have
    return {
        "input_ids": rng.integers(0, 100, (batch, sequence), dtype=np.int64),
        "attention_mask": mask,
        "token_type_ids": np.zeros((batch, sequence), dtype=np.int64),
    }


@pytest.fixture(scope="session")
def tiny_bert_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT (hidden 32, 2 heads), TorchScript-exported with dynamic batch and sequence."""
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=100,
        hidden_size=HIDDEN_SIZE,
        num_hidden_layers=2,
        num_attention_heads=NUM_HEADS,
        intermediate_size=37,
    )
    torch.manual_seed(0)
    model = BertModel._from_config(config, attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        # transformers 5 reorders forward()'s positional arguments: call it by keyword
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    example = tuple(torch.from_numpy(v) for v in bert_feed(1, 8).values())
    axes = {name: {0: "batch", 1: "sequence"} for name in (*BERT_INPUTS, "last_hidden_state")}
    target = tmp_path_factory.mktemp("tiny-bert") / "model.onnx"
    with warnings.catch_warnings():
        # the TorchScript exporter is deprecated, and tracing warns about shape-dependent Python
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(model),
            example,
            str(target),
            input_names=list(BERT_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    return target


@pytest.fixture
def tiny_bert(tiny_bert_file: Path) -> ModelHandler:
    return onnx_handle(tiny_bert_file)


@pytest.fixture(scope="session")
def fused_bert_file(tiny_bert_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT after ORT's transformer fusions (Attention, SkipLayerNorm, ...)."""
    from onnxruntime.transformers import optimizer

    target = tmp_path_factory.mktemp("fused-bert") / "model.onnx"
    fused = optimizer.optimize_model(
        str(tiny_bert_file), model_type="bert", num_heads=NUM_HEADS, hidden_size=HIDDEN_SIZE
    )
    fused.save_model_to_file(str(target))
    return target


@pytest.fixture
def fused_bert(fused_bert_file: Path) -> ModelHandler:
    return onnx_handle(fused_bert_file)


def matmul_graph(
    weight_type: int = TensorProto.FLOAT, extra_nodes: list[onnx.NodeProto] | None = None, k: int = 64, n: int = 32
) -> onnx.ModelProto:
    """x[batch, k] @ W[k, n] + b, then Relu: the smallest graph every pass can work on."""
    rng = np.random.default_rng(0)
    np_type = helper.tensor_dtype_to_np_dtype(weight_type)
    weight = numpy_helper.from_array((rng.standard_normal((k, n)) * 0.1).astype(np_type), "W")
    bias = numpy_helper.from_array(np.zeros(n, dtype=np_type), "B")
    io_type = weight_type if weight_type in (TensorProto.FLOAT, TensorProto.FLOAT16) else TensorProto.FLOAT
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["xw"], name="matmul"),
        helper.make_node("Add", ["xw", "B"], ["xwb"], name="add"),
        helper.make_node("Relu", ["xwb"], ["y"], name="relu"),
        *(extra_nodes or []),
    ]
    graph = helper.make_graph(
        nodes,
        "matmul",
        [helper.make_tensor_value_info("x", io_type, ["batch", k])],
        [helper.make_tensor_value_info("y", io_type, ["batch", n])],
        initializer=[weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.fixture
def save_onnx(tmp_path: Path) -> Callable[..., Path]:
    """Save a ModelProto under tmp_path: ``save_onnx(model, "name.onnx", external=False)``."""

    def save(model: onnx.ModelProto, name: str = "model.onnx", external: bool = False) -> Path:
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if external:
            onnx.save_model(
                model, str(target), save_as_external_data=True, location=f"{target.name}.data", size_threshold=0
            )
        else:
            onnx.save_model(model, str(target))
        return target

    return save


@pytest.fixture
def matmul_model(save_onnx: Callable[..., Path]) -> ModelHandler:
    return onnx_handle(save_onnx(matmul_graph(), "matmul/model.onnx"))


CPU_SPEC = AcceleratorSpec("cpu", "CPUExecutionProvider")


def run_pass(
    pass_name: str,
    model: ModelHandler,
    output_dir: Path,
    config: dict[str, Any] | None = None,
    data: Callable[[str], Any] | None = None,
) -> tuple[ModelHandler, PassContext]:
    """Check and run one registered pass the way the engine does; return its output and context."""
    registry = create_plugin_manager().registry
    pass_class = registry.load("pass", pass_name)
    the_pass, parsed = pass_class(), pass_class.Config(**(config or {}))
    context = PassContext(accelerator=CPU_SPEC, step=pass_name, data=data)
    the_pass.check_input(model, parsed, context)
    output_dir.mkdir(parents=True, exist_ok=True)
    return the_pass.run(model, parsed, output_dir, context), context


def assert_close_to(input_model: ModelHandler, output_model: ModelHandler, minimum: float = 0.98) -> None:
    """The output model computes nearly what the input model does (cosine of the outputs)."""
    from olive_onnx.runtime import create_session

    feed = bert_feed(batch=2, sequence=10, seed=7)
    (expected,) = create_session(input_model, CPU_SPEC, {}).run(feed)
    (actual,) = create_session(output_model, CPU_SPEC, {}).run(feed)
    expected, actual = expected.reshape(-1), actual.reshape(-1)
    cosine = float(expected @ actual / (np.linalg.norm(expected) * np.linalg.norm(actual)))
    assert cosine > minimum, f"cosine similarity {cosine:.4f} <= {minimum}"
