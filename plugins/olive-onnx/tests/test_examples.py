"""The repository's examples, run for real (MiniLM's demo workflow runs in test_commands_minilm.py, beside
`olive optimize`, which makes the same model)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from olive_core.testing.workflows import run_olive

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"


@pytest.fixture
def example_copy(tmp_path: Path):
    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("output", ".cache", "build"))
        return target

    return copy


def test_accuracy_example_compares_fp32_and_int8(example_copy):
    folder = example_copy("accuracy")
    prepared = subprocess.run([sys.executable, str(folder / "prepare.py")], capture_output=True, text=True)
    assert prepared.returncode == 0, prepared.stderr
    done = run_olive("run", str(folder / "workflow.json"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    record = json.loads((folder / "output" / "run.json").read_text())
    fp32 = record["input_model"]["metrics"]["values"]["accuracy-accuracy"]
    assert fp32 > 0.9
    by_format = {}
    for candidate in record["candidates"]:
        quantize = candidate["configs"]["quantize"]
        key = quantize["quant_format"] if quantize else "fp32-onnx"
        by_format[key] = candidate["metrics"]["values"]["accuracy-accuracy"]
        assert candidate["metrics"]["goals"]["accuracy-accuracy"]["met"]
    assert set(by_format) == {"QDQ", "QOperator", "fp32-onnx"}
    assert by_format["fp32-onnx"] == pytest.approx(fp32)
    assert all(abs(accuracy - fp32) <= 0.02 for accuracy in by_format.values())
    assert "accuracy-accuracy" in done.stdout + done.stderr  # the metrics table is printed


def test_text_classifier_search_keeps_accuracy_within_half_a_point(example_copy):
    """examples/text-classifier on a corner of its space (dynamic or static, 0 or 2 most sensitive
    nodes in float): the accuracy-drop goal holds, and no node is named anywhere."""
    example_copy("lora-classifier")  # its review templates are the classifier's
    folder = example_copy("text-classifier")
    prepared = subprocess.run([sys.executable, str(folder / "prepare.py")], capture_output=True, text=True)
    assert prepared.returncode == 0, prepared.stderr
    workflow = json.loads((folder / "search.json").read_text())
    assert "nodes_to_exclude" not in json.dumps(workflow)
    for step in workflow["passes"]["quantize"]:
        step["search"] = {"exclude": {"choices": [{"most_sensitive": 0}, {"most_sensitive": 2}], "ordered": True}, "smooth_quant": [False]}
        if step["type"] == "OnnxStaticQuantization":
            step["config"]["calibrate_method"] = "MinMax"
    for metric in workflow["metrics"]:
        if metric["type"] == "latency":
            metric["config"].update(warmup_runs=1, repeat_runs=2, batches=2)
    (folder / "search.json").write_text(json.dumps(workflow))
    done = run_olive("run", str(folder / "search.json"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    record = json.loads((folder / "output" / "run.json").read_text())
    fp32 = record["input_model"]["metrics"]["values"]["accuracy-accuracy"]
    assert fp32 > 0.8
    candidates = record["candidates"]
    assert sorted((c["configs"]["quantize"]["type"], c["configs"]["quantize"]["exclude"]["most_sensitive"]) for c in candidates) == [
        ("OnnxDynamicQuantization", 0), ("OnnxDynamicQuantization", 2), ("OnnxStaticQuantization", 0), ("OnnxStaticQuantization", 2)
    ]  # fmt: skip
    best = candidates[record["best"][0]["candidate"]]
    assert best["metrics"]["goals"]["accuracy-accuracy"]["met"]
    assert best["metrics"]["values"]["accuracy-accuracy"] >= fp32 - 0.005
    quantize = [m for m in record["models"].values() if m["step"] == "quantize" and m["config"]["exclude"]["most_sensitive"] == 2]
    assert quantize and all(len(m["report"]["excluded"]["most_sensitive"]) == 2 for m in quantize)
