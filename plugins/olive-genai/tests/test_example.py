"""The tiny-llm example end to end, as a user runs it: prepare.py, then `olive run` in a subprocess.

prepare.py trains for fewer steps here (``--steps``) so the test stays near two minutes; the
model still learns enough that perplexity is far below chance, which is what the ordering
checks need. Speed is not checked: on a shared machine the tiny model's tokens per second move
too much to order candidates by it.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "tiny-llm"
PERPLEXITY, SIZE, AGREEMENT = "perplexity-perplexity", "size-mb", "agreement-agreement"


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLIVE_")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A copy of the example, prepared with a short training and run through `olive run`."""
    folder = tmp_path_factory.mktemp("example") / "tiny-llm"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("output*", ".cache", "build", "__pycache__"))
    done = run([sys.executable, "prepare.py", "--steps", "60"], folder)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    olive = shutil.which("olive", path=str(Path(sys.executable).parent)) or "olive"
    done = run([olive, "run", "workflow.json"], folder)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return folder, json.loads((folder / "output" / "run.json").read_text())


def made(record: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Metrics of every candidate that produced a model, by how it was made."""
    found = {}
    for candidate in record["candidates"]:
        if candidate["error"] is None:
            build, quantize = candidate["configs"]["build"], candidate["configs"].get("quantize")
            name = build["precision"] if quantize is None else f"{build['precision']}+{quantize['algorithm']}"
            if quantize is not None and quantize["algorithm"] == "rtn" and not quantize["symmetric"]:
                name += "-asymmetric"
            found[name] = candidate["metrics"]["values"]
    return found


def test_prepare_writes_the_model_and_text_files(example_run: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = example_run
    build = folder / "build"
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in (build / "model").iterdir()}
    for name in ("heldout.txt", "calibration.txt", "prompts.txt"):
        assert len((build / name).read_text().splitlines()) >= 16


def test_the_workflow_compares_fp32_and_int4_outputs(example_run: tuple[Path, dict[str, Any]]) -> None:
    folder, record = example_run
    base = record["input_model"]["metrics"]["values"]
    models = made(record)
    assert set(models) == {"fp32", "int4", "fp32+rtn", "fp32+rtn-asymmetric", "fp32+hqq", "fp32+gptq"}
    # quantizing the builder's INT4 output again is refused before any work
    refused = [c for c in record["candidates"] if c["error"] is not None]
    assert len(refused) == 4 and all("already quantized" in c["error"] for c in refused)

    # the model learned something: far below the 512-token vocabulary's chance perplexity
    assert 1.0 < base[PERPLEXITY] < 30.0
    fp32 = models.pop("fp32")
    assert fp32[PERPLEXITY] == pytest.approx(base[PERPLEXITY], rel=0.005), "same weights, another runtime"
    assert fp32[AGREEMENT] >= 0.95
    for name, int4 in models.items():
        assert math.isfinite(int4[PERPLEXITY]), name
        # INT4 weights lose a little, never gain much, and do not break the model
        assert fp32[PERPLEXITY] * 0.98 <= int4[PERPLEXITY] <= fp32[PERPLEXITY] * 1.5, name
        assert int4[AGREEMENT] <= fp32[AGREEMENT] + 1e-9, name
        assert int4[SIZE] < 0.5 * fp32[SIZE], name

    best = record["candidates"][record["best"][0]["candidate"]]
    assert best["metrics"]["all_goals_met"]
    assert best["metrics"]["values"][PERPLEXITY] <= base[PERPLEXITY] * 1.03
    assert (folder / "output" / "model" / "genai_config.json").is_file()


def test_onnxruntime_genai_reads_the_tokenizer(example_run: tuple[Path, dict[str, Any]]) -> None:
    """The README says og.Tokenizer loads the trained byte-level BPE and agrees with transformers."""
    import onnxruntime_genai as og
    from transformers import PreTrainedTokenizerFast

    folder, _ = example_run
    ours = og.Tokenizer(og.Model(str(folder / "output" / "model")))
    theirs = PreTrainedTokenizerFast.from_pretrained(folder / "build" / "model")
    for line in (folder / "build" / "heldout.txt").read_text().splitlines()[:50]:
        assert list(ours.encode(line)) == theirs(line, add_special_tokens=False)["input_ids"]
        assert ours.decode(ours.encode(line)) == line


def test_report_prints_a_row_per_model(example_run: tuple[Path, dict[str, Any]]) -> None:
    folder, record = example_run
    spec = importlib.util.spec_from_file_location("tiny_llm_report", folder / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    table = module.markdown(record)
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 1 + 6  # the header, the input, six models
    assert "| best |" in table and "4 candidate(s) refused" in table
