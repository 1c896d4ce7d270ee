"""The example workflow, run for real: LoRA merge -> export -> fuse -> optional FP16 -> evaluate."""

from __future__ import annotations

import json
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from olive_diffusion.manifest import read_manifest

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "tiny-diffusion"


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-diffusion")
    for name in ("workflow.json", "prompts.txt", "prepare.py"):
        shutil.copy(EXAMPLE / name, folder / name)
    runpy.run_path(str(folder / "prepare.py"))["prepare"](folder / "build")  # torch is loaded here already
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    olive = Path(sys.executable).parent / "olive"
    command = (
        [str(olive), "run", "workflow.json"]
        if olive.exists()
        else [sys.executable, "-m", "olive_core.cli.main", "run", "workflow.json"]
    )
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return folder


def test_example_runs_and_keeps_the_images(example_run: Path) -> None:
    record = json.loads((example_run / "output" / "run.json").read_text())
    assert len(record["candidates"]) == 2 and all(c["error"] is None for c in record["candidates"])
    best = record["candidates"][record["best"][0]["candidate"]]
    values = best["metrics"]["values"]
    assert values["images-psnr_min"] > 40 and values["images-ssim_min"] > 0.99
    assert values["latency-step_p50"] > 0 and values["latency-image_p50"] > values["latency-step_p50"]
    steps = [record["models"][model_id] for model_id in best["lineage"]]
    assert [step["step"] for step in steps][:3] == ["merge_lora", "convert", "fuse"]
    assert set(steps[2]["report"]["components"]) == {"text_encoder", "unet", "vae_encoder", "vae_decoder"}
    assert steps[2]["report"]["components"]["unet"]["fused_ops"]["Attention"] > 0


def test_example_output_is_a_self_describing_onnx_pipeline(example_run: Path) -> None:
    model = example_run / "output" / "model"
    described = json.loads((model / "model.json").read_text())
    assert described["type"] == "onnx_diffusion" and described["path"] == "."
    manifest = read_manifest(model)
    for name, entry in manifest.components.items():
        passes = [item.pass_type for item in entry.lineage]
        assert passes[:2] == ["DiffusionOnnxConversion", "OnnxTransformersOptimization"], name
        assert (model / entry.path).is_file()
