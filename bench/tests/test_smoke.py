"""Every benchmark script runs end to end on its smallest setting, so that none can rot.

Benchmarks are not tests: nothing here checks a figure. It checks that each script finishes,
writes its results file with the machine, versions and settings, and that the README tables
can be rendered from those files. The scripts share one scratch folder, in the order
``make bench`` runs them, so the quality benchmark reuses the search's cached models. Without
bench/.venv-olive-ai the scripts skip the incumbent and say so; so does this test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1]
#: a smoke run of one script; generous, as the machine may be busy with other tests
TIMEOUT_S = 1800


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bench")
    return {"work": root / "work", "results": root / "results"}


def run_smoke(script: str, folders: dict[str, Path]) -> dict[str, Any]:
    command = [sys.executable, str(BENCH / script), "--smoke", "--work-dir", str(folders["work"]),
               "--results-dir", str(folders["results"])]  # fmt: skip
    done = subprocess.run(command, cwd=BENCH, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    print(done.stdout[-6000:])
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    result = json.loads((folders["results"] / script.replace(".py", ".json")).read_text())
    assert result["settings"]["smoke"] is True
    assert {"machine", "versions", "load_average", "git", "figures"} <= set(result)
    for note in result["notes"]:
        warnings.warn(f"{script}: {note}", stacklevel=1)
    return result


@pytest.fixture(scope="module")
def olive_ai_venv() -> str | None:
    """bench/.venv-olive-ai, made as `make -C bench venv-olive-ai` makes it (nothing when it is
    there); returns why it could not be made, or None. The scripts that compare with olive-ai
    use it when it exists, so the comparison path runs here, not only in `make bench`."""
    done = subprocess.run(["make", "-C", str(BENCH), "venv-olive-ai"], capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return None
    return f"`make -C bench venv-olive-ai` failed ({done.returncode}): {(done.stderr or done.stdout)[-600:]}"


def test_search_efficiency(folders: dict[str, Path]) -> None:
    result = run_smoke("search_efficiency.py", folders)
    for problem in ("toy", "toy-ordered", "minilm"):
        figures = result["figures"][problem]
        assert figures["space_size"] == len(figures["exhaustive_values"])
        assert {"exhaustive", "random", "nevergrad:NGOpt"} <= set(figures["strategies"])
    ordered = result["figures"]["toy-ordered"]
    assert ordered["space_size"] == 169 and ordered["optimum"] == 0 and ordered["tolerance"] == 0
    assert "nevergrad:NGOpt:categorical" in ordered["strategies"]


def test_minilm_quality(folders: dict[str, Path], olive_ai_venv: str | None) -> None:
    result = run_smoke("minilm_quality.py", folders)
    variants = result["figures"]["variants"]
    expected = {"pytorch-fp32", "ours-default", "ours-search-best", "ours-search-best-0.995", "ort-hand-tuned"}
    assert expected <= set(variants)
    assert ("olive-ai" in variants) != any("olive-ai skipped" in note for note in result["notes"])
    for figures in variants.values():
        assert {"b1", "b8", "cosine_mean", "cosine_min"} <= set(figures)


def test_tool_overhead(folders: dict[str, Path], olive_ai_venv: str | None) -> None:
    result = run_smoke("tool_overhead.py", folders)
    figures = result["figures"]
    assert "ours" in figures["startup"]
    assert {"core alone", "core + olive-onnx", "core[search] + olive-onnx"} <= set(figures["size"])
    assert any(name.startswith("ours") for name in figures["workflow"]["cached_rerun"])


def test_the_olive_ai_comparison_path(folders: dict[str, Path], olive_ai_venv: str | None) -> None:
    """olive-ai ran in its own venv on MiniLM, and our harness measured the model it wrote."""
    if olive_ai_venv is not None:
        pytest.skip(f"olive-ai cannot be installed here: {olive_ai_venv}")
    quality = json.loads((folders["results"] / "minilm_quality.json").read_text())
    theirs = quality["figures"]["variants"]["olive-ai"]
    assert theirs["b1"]["p50"] > 0 and theirs["b8"]["p50"] > 0
    assert theirs["cosine_mean"] > 0.95  # its dynamic INT8 MiniLM, not a broken model
    ours = quality["figures"]["variants"]["ours-default"]
    assert {"b1_speedup_vs_olive_ai", "b8_speedup_vs_olive_ai"} <= set(ours)
    assert "olive-ai" in quality["versions"].get("olive-ai venv", {})
    overhead = json.loads((folders["results"] / "tool_overhead.json").read_text())
    assert "olive-ai" in overhead["figures"]["startup"]
    assert overhead["figures"]["size"]["olive-ai[cpu]"]["mib"] > 0


def test_genai_speed(folders: dict[str, Path]) -> None:
    result = run_smoke("genai_speed.py", folders)
    variants = result["figures"]["variants"]
    assert set(variants) == {"pytorch-fp32", "ours-fp32", "ours-int4", "builder-cli-int4"}
    for figures in variants.values():
        assert {"ttft_ms", "decode_tps", "ttft_speedup", "decode_speedup", "agreement_with_pytorch"} <= set(figures)
    assert "decode_vs_hand" in variants["ours-int4"]
    # fp32 ONNX Runtime GenAI greedy-decodes what PyTorch does; random weights give nearly flat
    # logits, where another CPU's rounding could flip a late pick, so not every token is required
    assert variants["ours-fp32"]["agreement_with_pytorch"]["share"] >= 0.75
    assert len(result["figures"]["targets"]) == 4


def test_optimize_vs_demo(folders: dict[str, Path]) -> None:
    result = run_smoke("optimize_vs_demo.py", folders)
    figures = result["figures"]
    assert set(figures["variants"]) == {"demo", "optimize"}
    assert set(figures["latency_ratio_optimize_over_demo"]) == {"b1", "b8"}
    assert isinstance(figures["same_model_file"], bool) and isinstance(figures["same_chain"], bool)


def test_dask_overhead(folders: dict[str, Path]) -> None:
    result = run_smoke("dask_overhead.py", folders)
    toy = result["figures"]["toy"]
    assert set(toy["per_trial_ms"]) == {"inline", "dask"} and "median" in toy["overhead_ms_per_trial"]
    assert toy["same_results"] is True  # the same losses whichever executor ran the trials
    assert {"inline", "dask"} == set(result["figures"]["minilm"]["wall_s"])


def test_sensitivity_measures(folders: dict[str, Path]) -> None:
    result = run_smoke("sensitivity_measures.py", folders)
    measures = result["figures"]["measures"]
    assert set(measures) == {"one_at_a_time", "qdq_loss", "activation_range"}
    for measure in measures.values():
        assert [row["k"] for row in measure["rows"]] == [0, 1] and len(measure["top"]) == 12
        assert measure["rows"][0]["cosine_mean"] == measures["qdq_loss"]["rows"][0]["cosine_mean"]  # K=0: the same model


def test_readme_tables_render_from_the_results(folders: dict[str, Path], tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- results:start -->\nSTALE-TABLES\n<!-- results:end -->\nafter\n")
    done = subprocess.run(
        [sys.executable, str(BENCH / "report.py"), "--results-dir", str(folders["results"]), "--readme", str(readme)],
        cwd=BENCH, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "STALE-TABLES" not in text
    assert "SMOKE SETTINGS" in text
