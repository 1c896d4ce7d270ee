"""Build the example's inputs: a tiny Stable Diffusion pipeline and a LoRA adapter, from configs.

    python prepare.py [FOLDER]     # default: build/ beside this file

Writes FOLDER/tiny-sd (a diffusers pipeline folder, ~6 MB) and FOLDER/tiny-lora (a diffusers
LoRA file for its UNet and text encoder). Nothing is downloaded; the weights are random but
seeded, so every run builds the same models.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def prepare(folder: Path) -> tuple[Path, Path]:
    from olive_diffusion.tiny import build_tiny_lora, build_tiny_pipeline

    pipeline = folder / "tiny-sd"
    adapter = folder / "tiny-lora"
    if not (pipeline / "model_index.json").is_file():
        build_tiny_pipeline(pipeline)
    if not (adapter / "pytorch_lora_weights.safetensors").is_file():
        build_tiny_lora(pipeline, adapter)
    return pipeline, adapter


if __name__ == "__main__":
    target = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else HERE / "build"
    for path in prepare(target):
        print(path)
