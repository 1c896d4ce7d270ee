"""Graph facts: quantized or FP16 models, attention shape, graph inputs, dummy inputs."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from olive_core.models.io_config import IoConfig

from olive_onnx.dummy_inputs import dummy_inputs
from olive_onnx.files import read_model_proto
from olive_onnx.inspect import (
    InputSpec,
    detect_attention_shape,
    float_precision,
    graph_inputs,
    quantization_evidence,
)
from olive_onnx.testing import HIDDEN_SIZE, NUM_HEADS, matmul_graph, onnx_handle


def test_a_float_model_shows_no_quantization() -> None:
    assert quantization_evidence(matmul_graph()) == []
    assert float_precision(matmul_graph()) == "float32"


def test_quantized_ops_are_evidence() -> None:
    model = matmul_graph(extra_nodes=[helper.make_node("DynamicQuantizeLinear", ["y"], ["q", "s", "z"])])
    assert quantization_evidence(model) == ["quantized ops DynamicQuantizeLinearx1"]


def test_int8_weights_are_evidence() -> None:
    (evidence,) = quantization_evidence(matmul_graph(weight_type=TensorProto.INT8))
    assert evidence.startswith("2 int8/int4 initializers (W, B")


def test_fp16_weights_make_an_fp16_model() -> None:
    assert float_precision(matmul_graph(weight_type=TensorProto.FLOAT16)) == "float16"


def test_attention_shape_is_detected_from_a_transformers_export(tiny_bert_file) -> None:  # type: ignore[no-untyped-def]
    # transformers 5 reshapes with -1 heads, which ORT's own detection cannot read
    assert detect_attention_shape(read_model_proto(tiny_bert_file)) == (NUM_HEADS, HIDDEN_SIZE)


def test_attention_shape_from_a_constant_reshape() -> None:
    nodes = [
        helper.make_node("MatMul", ["x", "Wq"], ["q"]),
        helper.make_node("Reshape", ["q", "shape"], ["q4"]),
    ]
    graph = helper.make_graph(
        nodes,
        "attn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 64])],
        [helper.make_tensor_value_info("q4", TensorProto.FLOAT, None)],
        initializer=[
            helper.make_tensor("Wq", TensorProto.FLOAT, [64, 64], np.zeros(64 * 64, np.float32)),
            helper.make_tensor("shape", TensorProto.INT64, [4], [0, 0, 4, 16]),
        ],
    )
    assert detect_attention_shape(helper.make_model(graph)) == (4, 64)
    assert detect_attention_shape(matmul_graph()) is None


def test_graph_inputs_skip_initializers() -> None:
    model = matmul_graph()
    model.graph.input.append(helper.make_tensor_value_info("W", TensorProto.FLOAT, [64, 32]))
    assert graph_inputs(model) == [InputSpec("x", "float32", ("batch", 64))]


def test_dummy_inputs_follow_graph_and_io_config() -> None:
    specs = [
        InputSpec("input_ids", "int64", ("batch", "sequence")),
        InputSpec("attention_mask", "int64", ("batch", "sequence")),
        InputSpec("past", "float32", ("batch", 2, "past_sequence", 8)),
    ]
    handle = onnx_handle("unused.onnx")
    inputs = dummy_inputs(handle, specs, batch_size=2, sequence_length=16, dim_values={"past_sequence": 3})
    assert inputs["input_ids"].shape == (2, 16) and not inputs["input_ids"].any()
    assert inputs["attention_mask"].all()
    assert inputs["past"].shape == (2, 2, 3, 8) and inputs["past"].dtype == np.float32
    with_io = handle.model_copy(
        update={"io_config": IoConfig(input_names=["input_ids"], input_shapes=[[4, 7]], input_types=["int32"])}
    )
    ids = dummy_inputs(with_io, specs[:1])["input_ids"]
    assert ids.shape == (4, 7) and ids.dtype == np.int64  # the graph's dtype is what a session checks


@pytest.mark.parametrize("weight_type", [TensorProto.UINT8, TensorProto.INT4])
def test_other_integer_weights_are_evidence(weight_type: int) -> None:
    model = onnx.ModelProto()
    model.CopyFrom(matmul_graph())
    model.graph.initializer.append(helper.make_tensor("q", weight_type, [2], [1, 2]))
    assert quantization_evidence(model)
