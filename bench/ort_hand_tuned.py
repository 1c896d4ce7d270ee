"""A hand-tuned ONNX Runtime MiniLM, written with ORT's own tools and no olive at all.

It is the practical limit on this machine: what an engineer gets by exporting, fusing and then
trying quantization settings by hand. Export is TorchScript of the model loaded with eager
attention (the graph ORT's BERT fusion recognizes fully); every candidate setting below is
built, its cosine against PyTorch measured, and its batch-8 latency screened in interleaved
rounds; the fastest one whose cosine mean reaches the bar wins.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import harness
import minilm
import numpy as np

#: the FFN down-projection of each layer (its input, after GELU, has the widest activation range),
#: matched by name in whatever graph the export wrote (keeping only the last layer's in FP32 was
#: tried too: it changed the cosine by less than 1e-4)
FFN_OUTPUT = r"layer\.\d+/output/dense/MatMul$"


@dataclass(frozen=True)
class Setting:
    """One quantization recipe to try on the fused FP32 graph."""

    name: str
    kind: str  # "dynamic" or "static"
    per_channel: bool = True
    reduce_range: bool = False
    op_types: tuple[str, ...] | None = None
    exclude: str | None = None  # a regular expression over node names: these stay FP32
    quant_format: str = "QDQ"
    extra: dict[str, Any] = field(default_factory=dict)


SETTINGS = (
    Setting("dynamic-per-channel", "dynamic"),
    Setting("dynamic-per-channel-reduce-range", "dynamic", reduce_range=True),
    Setting("dynamic-per-channel-ffn-out-fp32", "dynamic", exclude=FFN_OUTPUT),
    Setting("dynamic-per-channel-reduce-range-ffn-out-fp32", "dynamic", reduce_range=True, exclude=FFN_OUTPUT),
    Setting("dynamic-per-channel-matmul-only", "dynamic", op_types=("MatMul",)),
    Setting("dynamic-per-channel-matmul-only-ffn-out-fp32", "dynamic", op_types=("MatMul",), exclude=FFN_OUTPUT),
    Setting("static-qdq-matmul-per-channel", "static", op_types=("MatMul",)),
    Setting("static-qdq-matmul-per-channel-ffn-out-fp32", "static", op_types=("MatMul",), exclude=FFN_OUTPUT),
)  # fmt: skip


@contextlib.contextmanager
def scratch_directory() -> Iterator[Path]:
    """ORT's quantizers leave large temporary files in the working directory when they fail."""
    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="ort-hand-tuned-") as folder:
        os.chdir(folder)
        try:
            yield Path(folder)
        finally:
            os.chdir(previous)


def export(target: Path) -> Path:
    """TorchScript export of the eager-attention model, dynamic batch and sequence axes."""
    import torch
    from transformers import AutoModel

    class LastHiddenState(torch.nn.Module):
        """Keyword inputs in, one tensor out: what the tracer can export."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(minilm.model_path()), attn_implementation="eager").eval()

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = LastHiddenState()
    batch = minilm.tokenize(minilm.sentences(2), 2)[0]
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    target.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model,
            tuple(torch.from_numpy(batch[name]) for name in names),
            str(target),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    return target


def fuse(source: Path, target: Path) -> Path:
    """ORT's BERT fusion: EmbedLayerNormalization, Attention, SkipLayerNormalization, BiasGelu."""
    from onnxruntime.transformers import optimizer

    optimized = optimizer.optimize_model(str(source), model_type="bert", num_heads=12, hidden_size=384)
    optimized.save_model_to_file(str(target))
    return target


class _Calibration:
    """ORT's CalibrationDataReader protocol over tokenized batches."""

    def __init__(self, batches: list[minilm.Batch]) -> None:
        self._batches = iter(batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def excluded_nodes(model: Path, pattern: str | None) -> list[str]:
    """Names of the graph's nodes that ``pattern`` matches (none without a pattern)."""
    if pattern is None:
        return []
    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    return [node.name for node in graph.node if re.search(pattern, node.name)]


def quantize(fused: Path, setting: Setting, target: Path, calibration: list[minilm.Batch]) -> list[str]:
    """Quantize ``fused`` into ``target``; returns the nodes kept in FP32 by name."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

    exclude = excluded_nodes(fused, setting.exclude)
    if setting.exclude is not None and not exclude:
        raise ValueError(f"no node of {fused.name} matches {setting.exclude!r}")
    common = {
        "per_channel": setting.per_channel,
        "reduce_range": setting.reduce_range,
        "weight_type": QuantType.QInt8,
        "op_types_to_quantize": list(setting.op_types) if setting.op_types else None,
        "nodes_to_exclude": exclude or None,
        # the fused ops' outputs have no inferred type; without a default the quantizer fails
        "extra_options": {"DefaultTensorType": onnx.TensorProto.FLOAT, **setting.extra},
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    with scratch_directory() as scratch:
        if setting.kind == "dynamic":
            quantize_dynamic(str(fused), str(target), **common)
        else:
            inferred = scratch / "inferred.onnx"
            onnx.save(SymbolicShapeInference.infer_shapes(onnx.load(str(fused)), auto_merge=True), str(inferred))
            quantize_static(
                str(inferred),
                str(target),
                _Calibration(calibration),
                quant_format=getattr(QuantFormat, setting.quant_format),
                activation_type=QuantType.QInt8,
                calibrate_method=CalibrationMethod.MinMax,
                **common,
            )
    return exclude


def build(
    folder: Path,
    reference: np.ndarray,
    texts: list[str],
    settings: tuple[Setting, ...] = SETTINGS,
    cosine_bar: float = 0.995,
    rounds: int = 3,
    log: Callable[[str], None] = print,
) -> tuple[Path, dict[str, Any]]:
    """Export, fuse, try every setting; returns the chosen model and what each setting scored.

    The choice: the fastest batch-8 median among settings whose cosine mean reaches
    ``cosine_bar``; if none does, the one with the highest cosine mean.
    """
    fp32 = export(folder / "exported.onnx")
    fused = fuse(fp32, folder / "fused.onnx")
    batches = minilm.tokenize(texts, 8)
    calibration = minilm.tokenize(texts[:32], 8)
    tried: dict[str, dict[str, Any]] = {}
    runners: dict[str, minilm.Runner] = {}
    for setting in settings:
        target = folder / f"{setting.name}.onnx"
        try:
            kept = quantize(fused, setting, target, calibration)
        except Exception as exc:  # noqa: BLE001 - a setting ORT cannot apply is a finding, not a crash
            tried[setting.name] = {"setting": asdict(setting), "error": f"{type(exc).__name__}: {exc}"[:500]}
            log(f"  {setting.name}: failed ({type(exc).__name__})")
            continue
        runner = minilm.onnx_runner(setting.name, target)
        scores = minilm.cosines(runner.embeddings(batches), reference)
        tried[setting.name] = {
            "setting": asdict(setting),
            "fp32_nodes": kept,
            **scores,
            "size_mb": runner.size_mb,
            "path": str(target),
        }
        runners[setting.name] = runner
        log(f"  {setting.name}: cosine mean {scores['cosine_mean']:.4f} min {scores['cosine_min']:.4f}")
    if not runners:
        raise RuntimeError("no quantization setting could be applied")
    screen = batches[: min(4, len(batches))]
    cycle = {name: minilm.cycling(runner, screen) for name, runner in runners.items()}
    timings = harness.interleave(cycle, rounds=rounds, warmup=1, repeats=4)
    for name, timing in timings.items():
        tried[name]["screen_b8_p50_ms"] = timing.summary()["p50"]
        log(f"  {name}: screen b8 p50 {tried[name]['screen_b8_p50_ms']:.1f} ms")
    good = [name for name in runners if tried[name]["cosine_mean"] >= cosine_bar]
    if good:
        chosen = min(good, key=lambda name: tried[name]["screen_b8_p50_ms"])
        why = f"fastest screened setting with cosine mean >= {cosine_bar}"
    else:
        chosen = max(runners, key=lambda name: tried[name]["cosine_mean"])
        why = f"no setting reached cosine mean {cosine_bar}: the most accurate one"
    log(f"  chosen: {chosen} ({why})")
    return Path(tried[chosen]["path"]), {"chosen": chosen, "why": why, "cosine_bar": cosine_bar, "tried": tried}
