"""Small ONNX models for tests: the tiny BERT exported, a hand-built MatMul graph, their inputs.

Used by olive-onnx's tests and by the plugins built on it. Only tests import this module; the
plugin itself never does. Passes run through ``olive_core.testing.steps.run_pass``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from olive_core.models.handler import ModelHandler
from olive_core.testing.steps import CPU
from olive_torch.testing import TINY_BERT

BERT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
#: the tiny BERT's shape, which ORT's transformer fusions are told
NUM_HEADS, HIDDEN_SIZE = TINY_BERT["num_attention_heads"], TINY_BERT["hidden_size"]


def onnx_handle(path: Path | str, **fields: object) -> ModelHandler:
    """A plain ``onnx`` handle of a file (no content id: not an input model)."""
    return ModelHandler(type="onnx", path=str(path), **fields)


def bert_feed(batch: int = 2, sequence: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """Random BERT inputs, the last two positions padded, as real batches have."""
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, sequence), dtype=np.int64)
    mask[:, sequence - 2 :] = 0
    return {
        "input_ids": rng.integers(0, 100, (batch, sequence), dtype=np.int64),
        "attention_mask": mask,
        "token_type_ids": np.zeros((batch, sequence), dtype=np.int64),
    }


def export_tiny_bert(target: Path) -> Path:
    """olive-torch's tiny BERT (seed 0, eager attention) exported by TorchScript to ``target``,
    its last hidden state the output, batch and sequence dynamic."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    model = BertModel._from_config(BertConfig(**TINY_BERT), attn_implementation="eager").eval()

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
    target.parent.mkdir(parents=True, exist_ok=True)
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


def assert_close_to(input_model: ModelHandler, output_model: ModelHandler, minimum: float = 0.98) -> None:
    """The output model computes nearly what the input model does (cosine of the outputs on BERT inputs)."""
    from olive_onnx.runtime import create_session

    feed = bert_feed(batch=2, sequence=10, seed=7)
    (expected,) = create_session(input_model, CPU, {}).run(feed)
    (actual,) = create_session(output_model, CPU, {}).run(feed)
    expected, actual = expected.reshape(-1), actual.reshape(-1)
    cosine = float(expected @ actual / (np.linalg.norm(expected) * np.linalg.norm(actual)))
    assert cosine > minimum, f"cosine similarity {cosine:.4f} <= {minimum}"
