"""The INT8 quantizers' options: exclusion by sensitivity, op type and position; static calibration
options; SmoothQuant. Models are tiny graphs built here, one with a deliberately fragile node."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from olive_onnx.exclusion import quantizable_nodes
from olive_onnx.files import read_model_proto
from olive_onnx.inspect import op_counts
from olive_onnx.testing import bert_feed, onnx_handle
from onnx import TensorProto, helper, numpy_helper
from pydantic import ValidationError

from olive_core.errors import ConfigError
from olive_core.models import ModelHandler
from olive_core.passes import PassContext, PassRecords
from olive_core.testing.steps import CPU, run_pass

WIDTH, LAYERS, FRAGILE = 16, 6, 3
#: names that say nothing of the order (an exporter's names need not)
NAMES = ["n_e", "n_b", "n_f", "n_a", "n_d", "n_c"]


def mlp(outlier: float = 300.0, last_op: str = "MatMul") -> onnx.ModelProto:
    """Six linear layers with Tanh between; the input of layer FRAGILE has one channel ``outlier``
    times larger than the others (its producer's column scaled up, its own row scaled down: the
    float model is unchanged), so quantizing that layer's input per tensor wipes out the rest."""
    rng = np.random.default_rng(0)
    nodes, initializers, current = [], [], "x"
    for layer in range(LAYERS):
        weight = (rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH)).astype(np.float32)
        if layer == FRAGILE - 1:
            weight[:, 0] *= outlier
        if layer == FRAGILE:
            weight[0, :] /= outlier
        initializers.append(numpy_helper.from_array(weight, f"W{layer}"))
        out = f"h{layer}"
        op = last_op if layer == LAYERS - 1 else "MatMul"
        nodes.append(helper.make_node(op, [current, f"W{layer}"], [out], name=NAMES[layer]))
        current = out
        if layer not in (FRAGILE - 1, LAYERS - 1):  # the outlier reaches the fragile layer unsquashed
            nodes.append(helper.make_node("Tanh", [out], [f"t{layer}"], name=f"tanh{layer}"))
            current = f"t{layer}"
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", WIDTH])],
        [helper.make_tensor_value_info(current, TensorProto.FLOAT, ["batch", WIDTH])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def mlp_data(batches: int = 4, rows: int = 8) -> Callable[[str], list[dict[str, np.ndarray]]]:
    def data(name: str) -> list[dict[str, np.ndarray]]:
        rng = np.random.default_rng(1)
        return [{"x": rng.standard_normal((rows, WIDTH)).astype(np.float32)} for _ in range(batches)]

    return data


def outputs(model: ModelHandler, feed: dict[str, np.ndarray]) -> np.ndarray:
    from olive_onnx.runtime import create_session

    (value,) = create_session(model, CPU, {}).run(feed)
    return np.asarray(value)


def cosine_error(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    return float(np.mean(1 - (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))))


def run_with(
    pass_name: str,
    model: ModelHandler,
    out: Path,
    config: dict[str, Any],
    data: Callable[[str], Any] | None = None,
    records: PassRecords | None = None,
) -> tuple[ModelHandler, PassContext]:
    """run_pass, with a record store and data keys as a workflow gives them."""
    from olive_core.plugins import create_plugin_manager

    pass_class = create_plugin_manager().registry.load("pass", pass_name)
    the_pass, parsed = pass_class(), pass_class.Config(**config)
    context = PassContext(
        accelerator=CPU, step=pass_name, data=data, data_key=lambda name: f"key-of-{name}", records=records
    )
    the_pass.check_input(model, parsed, context)
    out.mkdir(parents=True, exist_ok=True)
    return the_pass.run(model, parsed, out, context), context


class DictRecords(PassRecords):
    def __init__(self) -> None:
        self.store: dict[str, str] = {}
        super().__init__(self._get, self._put, "pass:test")

    def _get(self, namespace: str, key: str) -> dict[str, Any] | None:
        raw = self.store.get(f"{namespace}:{key}")
        return None if raw is None else json.loads(raw)

    def _put(self, namespace: str, key: str, value: dict[str, Any]) -> None:
        self.store[f"{namespace}:{key}"] = json.dumps(value)  # plain JSON: what the cache keeps


@pytest.fixture
def fragile(save_onnx: Callable[..., Path]) -> ModelHandler:
    return onnx_handle(save_onnx(mlp(), "fragile/model.onnx"))


def float_nodes(model: ModelHandler) -> set[str]:
    """Names of the MatMul/Gemm nodes left in float in a dynamically quantized output."""
    graph = read_model_proto(Path(model.path)).graph
    return {node.name for node in graph.node if node.op_type in ("MatMul", "Gemm")}


# -- sensitivity ---------------------------------------------------------------------------------


@pytest.mark.parametrize("measure", ["one_at_a_time", "qdq_loss", "activation_range"])
@pytest.mark.parametrize("static", [False, True])
def test_sensitivity_ranks_the_fragile_node_first(fragile: ModelHandler, measure: str, static: bool) -> None:
    from olive_onnx.files import load_model
    from olive_onnx.sensitivity import rank

    proto = load_model(fragile.path)
    nodes = quantizable_nodes(proto, None)
    feeds = mlp_data()("calib")
    options = {"measure": measure, "per_channel": True, "static": static}
    ranking, cached = rank(proto, Path(fragile.path), nodes, lambda: feeds, options)
    assert ranking[0][0] == NAMES[FRAGILE], ranking
    assert not cached and sorted(name for name, _ in ranking) == sorted(NAMES)


def test_most_sensitive_keeps_exactly_the_top_ranked_nodes_in_float(fragile: ModelHandler, tmp_path: Path) -> None:
    config = {"data": "calib", "exclude": {"most_sensitive": 2}}
    output, context = run_with("OnnxDynamicQuantization", fragile, tmp_path / "q", config, mlp_data())
    top = [name for name, _ in context.report["sensitivity"]["top"]]
    assert context.report["excluded"] == {"most_sensitive": top[:2]}
    assert top[0] == NAMES[FRAGILE]
    assert float_nodes(output) == set(top[:2])
    assert op_counts(read_model_proto(Path(output.path)))["MatMulInteger"] == LAYERS - 2


def test_keeping_the_fragile_node_in_float_repairs_the_output(fragile: ModelHandler, tmp_path: Path) -> None:
    feed = mlp_data()("calib")[0]
    reference = outputs(fragile, feed)
    plain, _ = run_with("OnnxDynamicQuantization", fragile, tmp_path / "plain", {})
    kept, _ = run_with(
        "OnnxDynamicQuantization", fragile, tmp_path / "kept", {"data": "calib", "exclude": {"most_sensitive": 1}},
        mlp_data(),
    )  # fmt: skip
    assert cosine_error(reference, outputs(kept, feed)) < cosine_error(reference, outputs(plain, feed)) / 10


def test_the_ranking_is_computed_once_and_kept_as_json(fragile: ModelHandler, tmp_path: Path) -> None:
    records = DictRecords()
    reads: list[str] = []

    def data(name: str) -> list[dict[str, np.ndarray]]:
        reads.append(name)
        return mlp_data()(name)

    config = {"data": "calib", "exclude": {"most_sensitive": 1}}
    _first, context1 = run_with("OnnxDynamicQuantization", fragile, tmp_path / "a", config, data, records)
    assert context1.report["sensitivity"]["cached"] is False and len(records.store) == 1
    (stored,) = records.store.values()
    assert json.loads(stored)["ranking"][0][0] == NAMES[FRAGILE]
    reads.clear()
    config2 = {"data": "calib", "exclude": {"most_sensitive": 3}}
    _second, context2 = run_with("OnnxDynamicQuantization", fragile, tmp_path / "b", config2, data, records)
    assert context2.report["sensitivity"]["cached"] is True and reads == []
    assert context2.report["excluded"]["most_sensitive"][0] == NAMES[FRAGILE]
    # another measure is another ranking
    config3 = {"data": "calib", "exclude": {"most_sensitive": 1, "measure": "activation_range"}}
    _, context3 = run_with("OnnxDynamicQuantization", fragile, tmp_path / "c", config3, data, records)
    assert context3.report["sensitivity"]["cached"] is False and len(records.store) == 2


def test_the_ranking_on_a_bert_keeps_the_static_path_working(tiny_bert: ModelHandler, tmp_path: Path) -> None:
    def data(name: str) -> list[dict[str, np.ndarray]]:
        return [bert_feed(2, 8, seed=i) for i in range(2)]

    config = {"data": "calib", "op_types_to_quantize": ["MatMul"], "exclude": {"most_sensitive": 3}}
    output, context = run_with("OnnxStaticQuantization", tiny_bert, tmp_path / "q", config, data)
    kept = context.report["excluded"]["most_sensitive"]
    assert len(kept) == 3
    graph = read_model_proto(Path(output.path)).graph
    for node in graph.node:
        if node.name in kept:  # a float MatMul still reads a float (not dequantized) weight
            assert not any(i.endswith("_DequantizeLinear_Output") for i in node.input[1:]), node


# -- exclusion by op type and position -------------------------------------------------------------


def test_exclude_op_types(save_onnx: Callable[..., Path], tmp_path: Path) -> None:
    model = onnx_handle(save_onnx(mlp(last_op="Gemm"), "gemm/model.onnx"))
    output, context = run_pass("OnnxStaticQuantization", model, tmp_path / "q", {"data": "calib", "exclude": {"op_types": ["Gemm"]}}, mlp_data())  # fmt: skip
    counts = op_counts(read_model_proto(Path(output.path)))
    assert counts["Gemm"] == 1 and context.report["excluded"] == {"op_types": [NAMES[-1]]}
    assert counts["QuantizeLinear"] > 0


@pytest.mark.parametrize("first, last", [(1, 0), (0, 2), (2, 1)])
def test_first_and_last_layers_come_from_the_graph_not_the_names(
    fragile: ModelHandler, tmp_path: Path, first: int, last: int
) -> None:
    config = {"exclude": {"first_layers": first, "last_layers": last}}
    output, _context = run_pass("OnnxDynamicQuantization", fragile, tmp_path / "q", config)
    expected = set(NAMES[:first]) | set(NAMES[LAYERS - last :] if last else [])
    assert float_nodes(output) == expected


def test_a_level_groups_an_attentions_projections(tiny_bert: ModelHandler, tmp_path: Path) -> None:
    """BERT: the first level is layer 0's Q, K and V projections; the last is the final FFN output."""
    output, context = run_pass(
        "OnnxDynamicQuantization", tiny_bert, tmp_path / "q", {"exclude": {"first_layers": 1, "last_layers": 1}}
    )
    excluded = context.report["excluded"]
    assert len(excluded["first_layers"]) == 3 and len(excluded["last_layers"]) == 1
    assert op_counts(read_model_proto(Path(output.path)))["MatMulInteger"] == 12 - 4


# -- errors ------------------------------------------------------------------------------------------


def test_more_layers_than_the_graph_has_is_one_clear_error(fragile: ModelHandler, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="exceed the 6 levels") as raised:
        run_pass("OnnxDynamicQuantization", fragile, tmp_path / "q", {"exclude": {"first_layers": 4, "last_layers": 3}})
    assert raised.value.path == "exclude"


@pytest.mark.parametrize(
    "config, what",
    [({"exclude": {"most_sensitive": 2}}, "exclude.most_sensitive"), ({"smooth_quant": True}, "smooth_quant")],
)
def test_options_that_read_data_need_a_data_name(
    fragile: ModelHandler, tmp_path: Path, config: dict, what: str
) -> None:
    with pytest.raises(ConfigError, match=f"{what} measures the model on data") as raised:
        run_pass("OnnxDynamicQuantization", fragile, tmp_path / "q", config, mlp_data())
    assert raised.value.path == "data" and not (tmp_path / "q").exists()


@pytest.mark.parametrize(
    "config, field",
    [
        ({"exclude": {"most_sensitive": -1}}, "exclude.most_sensitive"),
        ({"exclude": {"measure": "guess"}}, "exclude.measure"),
        ({"exclude": {"most_sensitive": 2, "names": ["a"]}}, "exclude.names"),
        ({"smooth_quant_alpha": 1.5}, "smooth_quant_alpha"),
    ],
)
def test_bad_option_values_are_refused_by_name(config: dict, field: str) -> None:
    from olive_onnx.passes.dynamic_quantization import OnnxDynamicQuantizationConfig

    with pytest.raises(ValidationError) as raised:
        OnnxDynamicQuantizationConfig(**config)
    (error,) = raised.value.errors()
    assert ".".join(map(str, error["loc"])) == field


def test_more_sensitive_nodes_than_the_graph_has_keeps_all_and_warns(fragile: ModelHandler, tmp_path: Path) -> None:
    config = {"data": "calib", "exclude": {"most_sensitive": 12}}
    output, context = run_pass("OnnxDynamicQuantization", fragile, tmp_path / "q", config, mlp_data())
    assert float_nodes(output) == set(NAMES)
    assert any("most_sensitive is 12 but 6 nodes" in w for w in context.warnings)


# -- static calibration options ----------------------------------------------------------------------


def activation_zero_points(model: ModelHandler) -> list[int]:
    graph = read_model_proto(Path(model.path)).graph
    from olive_onnx.files import load_model

    values = {t.name: numpy_helper.to_array(t) for t in load_model(model.path).graph.initializer}
    weights = {n.input[0] for n in graph.node if n.op_type == "QuantizeLinear" and n.input[0] in values}
    return [
        int(np.asarray(values[n.input[2]]).reshape(-1)[0])
        for n in graph.node
        if n.op_type == "QuantizeLinear" and n.input[0] not in weights and len(n.input) > 2
    ]


@pytest.mark.parametrize("symmetric", [False, True])
def test_symmetric_activations_have_zero_point_zero(fragile: ModelHandler, tmp_path: Path, symmetric: bool) -> None:
    config = {"data": "calib", "activation_symmetric": symmetric, "activation_type": "QUInt8"}
    output, _ = run_pass("OnnxStaticQuantization", fragile, tmp_path / "q", config, mlp_data())
    points = activation_zero_points(output)
    assert points
    assert all(p == 128 for p in points) if symmetric else any(p != 128 for p in points)


@pytest.mark.parametrize("method", ["MinMax", "Entropy", "Percentile"])
def test_calibration_in_chunks_gives_the_ranges_of_one_pass(
    fragile: ModelHandler, tmp_path: Path, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory is bounded by a chunk; MinMax merges exactly, histograms merge into the same bins."""
    from onnxruntime.quantization import calibrate

    held: list[int] = []
    for cls in (calibrate.MinMaxCalibrater, calibrate.HistogramCalibrater):
        original = cls.collect_data

        def spy(self: Any, reader: Any, original: Any = original) -> Any:
            counted = []

            class Counting:
                def get_next(self_inner: Any) -> Any:
                    batch = reader.get_next()
                    if batch is not None:
                        counted.append(1)
                    return batch

            result = original(self, Counting())
            held.append(len(counted))
            return result

        monkeypatch.setattr(cls, "collect_data", spy)
    common = {"data": "calib", "calibrate_method": method, "max_calibration_samples": 1000}
    data = mlp_data(batches=6, rows=4)
    chunked, context = run_pass(
        "OnnxStaticQuantization", fragile, tmp_path / "c", {**common, "calibration_chunk": 2}, data
    )
    assert held == [2, 2, 2] and context.report["calibration_samples"] == 24
    held.clear()
    whole, _ = run_pass("OnnxStaticQuantization", fragile, tmp_path / "w", {**common, "calibration_chunk": 100}, data)
    assert held == [6]
    feed = data("calib")[0]
    if method == "MinMax":
        np.testing.assert_array_equal(outputs(chunked, feed), outputs(whole, feed))
    else:
        np.testing.assert_allclose(outputs(chunked, feed), outputs(whole, feed), rtol=0.05, atol=0.05)


# -- SmoothQuant ---------------------------------------------------------------------------------------


def test_smooth_quant_keeps_the_float_outputs(fragile: ModelHandler) -> None:
    from olive_onnx.files import load_model
    from olive_onnx.smooth_quant import smooth

    proto = load_model(fragile.path)
    smoothed, report = smooth(proto, mlp_data()("calib"), alpha=0.5)
    assert report.smoothed == LAYERS
    import onnxruntime

    feed = mlp_data()("calib")[1]
    before = onnxruntime.InferenceSession(proto.SerializeToString()).run(None, feed)[0]
    after = onnxruntime.InferenceSession(smoothed.SerializeToString()).run(None, feed)[0]
    np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-5)


def test_smooth_quant_folds_into_a_layer_norm_read_only_by_matmuls(save_onnx: Callable[..., Path]) -> None:
    from olive_onnx.smooth_quant import smooth

    rng = np.random.default_rng(3)
    gamma = rng.uniform(0.5, 1.5, WIDTH).astype(np.float32)
    gamma[2] = 40.0  # an outlier channel, as LayerNorm scales make them in transformers
    nodes = [
        helper.make_node("LayerNormalization", ["x", "g", "b"], ["ln"], name="ln", axis=-1),
        helper.make_node("MatMul", ["ln", "Wq"], ["q"], name="q"),
        helper.make_node("MatMul", ["ln", "Wk"], ["k"], name="k"),
        helper.make_node("Add", ["q", "k"], ["y"], name="sum"),
    ]
    inits = [
        numpy_helper.from_array(gamma, "g"),
        numpy_helper.from_array(rng.standard_normal(WIDTH).astype(np.float32), "b"),
        numpy_helper.from_array(rng.standard_normal((WIDTH, 8)).astype(np.float32), "Wq"),
        numpy_helper.from_array(rng.standard_normal((WIDTH, 8)).astype(np.float32), "Wk"),
    ]
    graph = helper.make_graph(
        nodes, "ln", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", WIDTH])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 8])], initializer=inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    smoothed, report = smooth(model, mlp_data()("calib"), alpha=0.5)
    assert (report.smoothed, report.folded, report.mul_nodes) == (1, 1, [])
    assert "Mul" not in {n.op_type for n in smoothed.graph.node}
    import onnxruntime

    feed = mlp_data()("calib")[0]
    before = onnxruntime.InferenceSession(model.SerializeToString()).run(None, feed)[0]
    after = onnxruntime.InferenceSession(smoothed.SerializeToString()).run(None, feed)[0]
    np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("pass_name", ["OnnxDynamicQuantization", "OnnxStaticQuantization"])
def test_smooth_quant_reduces_the_int8_error_of_an_outlier_channel(
    fragile: ModelHandler, tmp_path: Path, pass_name: str
) -> None:
    feed = mlp_data()("calib")[2]
    reference = outputs(fragile, feed)
    errors = {}
    for smooth_quant in (False, True):
        config = {"data": "calib", "smooth_quant": smooth_quant}
        output, context = run_pass(pass_name, fragile, tmp_path / str(smooth_quant), config, mlp_data())
        errors[smooth_quant] = cosine_error(reference, outputs(output, feed))
    assert context.report["smooth_quant"]["smoothed"] == LAYERS
    assert errors[True] < errors[False] / 3, errors
