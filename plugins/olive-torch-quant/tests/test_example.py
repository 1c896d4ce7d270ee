"""The lora-classifier example, PyTorch part: finetune and merge in a real `olive run`.

The ONNX part (convert, quantize) needs olive-onnx and runs in test_example_onnx.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from olive_core.testing.workflows import run_olive
from olive_torch_quant.testing import example_steps


def test_finetuning_and_merging_raise_held_out_accuracy(prepared_example: Path) -> None:
    workflow = json.loads((prepared_example / "workflow.json").read_text())
    for step in ("convert", "quantize"):
        del workflow["passes"][step]
    workflow["engine"]["output_dir"] = "output-torch"
    (prepared_example / "workflow-torch.json").write_text(json.dumps(workflow))
    done = run_olive("run", "workflow-torch.json", cwd=prepared_example)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    record = json.loads((prepared_example / "output-torch" / "run.json").read_text())
    assert all(c["error"] is None for c in record["candidates"])
    accuracy = example_steps(prepared_example).accuracy_after_each_step(record)
    assert list(accuracy) == ["input", "finetune", "finetune+merge"]
    assert accuracy["input"] < 0.75, "the base model has not learned what 'not' does"
    assert accuracy["finetune"] >= 0.95 and accuracy["finetune+merge"] == accuracy["finetune"]

    finetune = next(m for m in record["models"].values() if m["step"] == "finetune")
    curve = finetune["report"]["loss_curve"]
    assert len(curve) == finetune["report"]["optimizer_steps"]
    # a tenth of the steps at each end: one step's loss is one small batch's, noisy on any CPU
    tenth = max(len(curve) // 10, 1)
    assert sum(curve[-tenth:]) < sum(curve[:tenth]) / 10
    best = prepared_example / "output-torch" / "model"
    assert (best / "model.safetensors").is_file() and (best / "tokenizer.json").is_file()
    assert not list(best.rglob("*.bin")) and not list(best.rglob("*.pt")), "nothing that needs unpickling"
