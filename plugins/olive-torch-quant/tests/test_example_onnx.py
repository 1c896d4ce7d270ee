"""The lora-classifier example end to end: finetune, merge, convert to ONNX, quantize.

It needs olive-onnx, which this plugin does not depend on: it runs where every plugin is
installed (nox's "everything" session) and is skipped elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from olive_core.testing.workflows import run_olive
from olive_torch_quant.testing import example_steps

pytest.importorskip("olive_onnx")


def test_accuracy_after_each_step_of_the_example(prepared_example: Path) -> None:
    done = run_olive("run", "workflow.json", cwd=prepared_example)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    record = json.loads((prepared_example / "output" / "run.json").read_text())
    accuracy = example_steps(prepared_example).accuracy_after_each_step(record)
    assert list(accuracy) == [
        "input",
        "finetune",
        "finetune+merge",
        "finetune+merge+convert",
        "finetune+merge+convert+quantize",
    ]
    assert accuracy["input"] < 0.75 and accuracy["finetune"] >= 0.95
    assert accuracy["finetune+merge+convert"] == accuracy["finetune+merge"] == accuracy["finetune"]
    assert accuracy["finetune+merge+convert+quantize"] >= accuracy["finetune"] - 0.03
    # the two chains that quantize without converting are refused before any work
    refused = [c for c in record["candidates"] if c["error"]]
    assert len(refused) == 2 and all("takes onnx models" in c["error"] for c in refused)

    best = record["candidates"][record["best"][0]["candidate"]]
    assert best["configs"]["quantize"] is not None, "the INT8 model is as accurate and smaller"
    assert (prepared_example / "output" / "model" / "model.onnx").is_file()
