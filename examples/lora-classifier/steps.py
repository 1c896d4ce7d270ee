"""Print the held-out accuracy after each step of the chain, read from output/run.json.

The workflow marks merge, convert and quantize optional, so the run evaluates every prefix of
finetune -> merge -> convert -> quantize as a candidate of its own (and the input model first).
Two other combinations are tried too and refused before any work: ONNX quantization without
the conversion before it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHAIN = ("finetune", "merge", "convert", "quantize")
METRIC = "accuracy-accuracy"


def accuracy_after_each_step(record: dict[str, Any]) -> dict[str, float]:
    """``{"input": a0, "finetune": a1, "finetune+merge": a2, ...}`` for each prefix of the chain."""
    by_length = {0: ("input", record["input_model"]["metrics"]["values"][METRIC])}
    for candidate in record["candidates"]:
        steps = [step for step in CHAIN if candidate["configs"].get(step) is not None]
        if candidate["error"] is None and steps == list(CHAIN[: len(steps)]):
            by_length[len(steps)] = ("+".join(steps), candidate["metrics"]["values"][METRIC])
    return dict(by_length[length] for length in sorted(by_length))


def main() -> int:
    record = json.loads((HERE / "output" / "run.json").read_text(encoding="utf-8"))
    finetune = next(model for model in record["models"].values() if model["step"] == "finetune")
    curve = finetune["report"]["loss_curve"]
    print(f"LoRA training: {len(curve)} steps, loss {curve[0]:.3f} -> {curve[-1]:.3f}")
    for chain, accuracy in accuracy_after_each_step(record).items():
        print(f"{chain:<36} accuracy {accuracy:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
