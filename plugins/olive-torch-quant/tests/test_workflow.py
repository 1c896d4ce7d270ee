"""The passes inside a real run: prune then quantize through the engine, the cache and the torch runtime."""

from __future__ import annotations

import json
from pathlib import Path


import olive_core
from olive_torch_quant.testing import sentences


def test_prune_then_quantize_runs_evaluates_and_reuses_the_cache(tiny_classifier_dir: Path, tmp_path: Path) -> None:
    lines = [json.dumps({"text": text, "labels": label}) for text, label in sentences(32, seed=3)]
    (tmp_path / "test.jsonl").write_text("\n".join(lines) + "\n")
    workflow = {
        "input_model": {"type": "hf", "config": {"model_path": str(tiny_classifier_dir), "task": "text-classification"}},
        "data": {
            "test": {
                "load": {"type": "jsonl", "config": {"path": "test.jsonl", "label": "labels"}},
                "preprocess": [{"type": "hf_tokenize", "config": {"max_length": 8}}],
                "batch_size": 8,
            }
        },
        "metrics": [{"name": "accuracy", "type": "accuracy", "data": "test"}, {"name": "size", "type": "size"}],
        "passes": {
            "prune": {"type": "MagnitudePruning", "config": {"sparsity": 0.3, "skip_modules": ["classifier"]}},
            "quantize": {"type": "TorchAOQuantization", "config": {"scheme": "int8_weight_only", "skip_modules": ["classifier"]}},
        },
    }
    (tmp_path / "workflow.json").write_text(json.dumps(workflow))

    first = olive_core.run(tmp_path / "workflow.json", output_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    assert first.ok, [c.error for c in first.candidates]
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    reports = {model["step"]: model["report"] for model in record["models"].values()}
    assert abs(reports["prune"]["achieved_sparsity"] - 0.3) < 0.01 and reports["prune"]["nonzero_parameters"] > 0
    assert reports["quantize"]["quantized_layers"] == 13 and reports["quantize"]["float_layer_names"] == ["classifier"]
    values = record["candidates"][0]["metrics"]["values"]
    assert 0 <= values["accuracy-accuracy"] <= 1 and values["size-mb"] > 0
    packaged = tmp_path / "out" / "model"
    assert json.loads((packaged / "config.json").read_text())["quantization_config"]["quant_method"] == "torchao"
    assert (packaged / "tokenizer.json").is_file()

    again = olive_core.run(tmp_path / "workflow.json", output_dir=tmp_path / "out-2", cache_dir=tmp_path / "cache")
    rerun = json.loads((tmp_path / "out-2" / "run.json").read_text())
    assert all(model["status"] == "cached" for model in rerun["models"].values())
    assert again.candidates[0].evaluation.values["accuracy-accuracy"] == values["accuracy-accuracy"]


def test_a_cache_record_naming_another_loader_does_not_run_it(mlp_files: tuple[Path, Path], tmp_path: Path) -> None:
    """A cache may be written by someone else: the loader of a cached model is the one the workflow named."""
    import shutil
    import sqlite3

    weights, loader = mlp_files
    for file in (weights, loader):
        shutil.copy(file, tmp_path / file.name)
    evil = tmp_path / "elsewhere" / "evil.py"
    evil.parent.mkdir()
    marker = tmp_path / "evil-ran"
    evil.write_text(f"from pathlib import Path\ndef build_mlp():\n    Path({str(marker)!r}).write_text('ran')\n")
    workflow = {
        "input_model": {
            "type": "pytorch",
            "config": {
                "model_path": weights.name,
                "model_loader": f"{loader.name}:build_mlp",
                "io_config": {"input_names": ["features"], "input_shapes": [[2, 32]], "output_names": ["logits"]},
            },
        },
        "metrics": [{"name": "size", "type": "size"}],
        "data": {"d": {"load": {"type": "synthetic", "config": {"num_samples": 2}}}},
        "passes": {"prune": {"type": "MagnitudePruning", "config": {"sparsity": 0.5}}},
    }
    workflow["metrics"].append({"name": "latency", "type": "latency", "data": "d", "config": {"repeat_runs": 1, "warmup_runs": 0}})
    (tmp_path / "workflow.json").write_text(json.dumps(workflow))
    first = olive_core.run(tmp_path / "workflow.json", cache_dir=tmp_path / "cache")
    assert first.ok, [c.error for c in first.candidates]

    with sqlite3.connect(tmp_path / "cache" / "records.sqlite") as db:
        for key, value in db.execute("SELECT key, value FROM records WHERE key LIKE 'model:%'").fetchall():
            record = json.loads(value)
            record["handle"]["attributes"]["model_loader"] = f"{evil}:build_mlp"
            record["handle"]["attributes"]["trusted_modules"] = ["evil"]
            db.execute("UPDATE records SET value = ? WHERE key = ?", (json.dumps(record), key))
        db.execute("DELETE FROM records WHERE key LIKE 'evaluation:%'")  # so the cached model is loaded again

    again = olive_core.run(tmp_path / "workflow.json", cache_dir=tmp_path / "cache", output_dir=tmp_path / "out-2")
    assert again.ok, [c.error for c in again.candidates]
    assert [record.status for record in again.steps.values()] == ["cached"]
    assert not marker.exists()
    assert again.candidates[0].model.attributes["model_loader"].endswith(f"{loader.name}:build_mlp")
