"""report.html as every run writes it, read as HTML (the browser test checks it drawn): the
headline, one point and one row per candidate, the lineage's step reports, the environment,
escaping of everything that comes from run.json, and a run that a report failure cannot fail."""

from __future__ import annotations

import json
import logging
import re
from html import unescape
from pathlib import Path

import pytest

from olive_core.engine.api import run
from olive_core.engine.machine import _read_cpuinfo
from olive_core.engine.result import RUN_FORMAT
from olive_core.report import write_report
from olive_core.report.figure import BEST, CANDIDATES_MET, CANDIDATES_MISSED, PARETO

from .toy_search import toy_sections


def _page(folder: Path) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


def _figure(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="scatter-figure">(.*?)</script>', page, re.DOTALL)
    assert match, "the page has no scatter figure"
    return json.loads(match.group(1))


def _traces(page: str) -> dict[str, dict]:
    return {trace["uid"]: trace for trace in _figure(page)["data"]}


def _text(fragment: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", fragment))


def test_every_run_writes_a_self_contained_report_beside_run_json(toy_run):
    record = json.loads((toy_run / "run.json").read_text())
    assert record["format"] == RUN_FORMAT
    page = _page(toy_run)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page), "the page loads nothing from outside itself"
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "Plotly" in page  # plotly.js is inlined
    assert not list(toy_run.glob(".report.html.*")), "no temporary file is left behind"


def test_one_point_per_measured_candidate_with_pareto_best_and_goal(toy_run):
    record = json.loads((toy_run / "run.json").read_text())
    traces = _traces(_page(toy_run))
    measured = [c for c in record["candidates"] if c["metrics"] is not None]
    plotted = traces[CANDIDATES_MET]["customdata"] + traces[CANDIDATES_MISSED]["customdata"]
    assert sorted(plotted) == sorted(c["index"] + 1 for c in measured)
    missed = {c["index"] + 1 for c in measured if not c["metrics"]["all_goals_met"]}
    assert set(traces[CANDIDATES_MISSED]["customdata"]) == missed and missed, "the fixture has a candidate missing its goal"
    assert set(traces[PARETO]["customdata"]) == {p["candidate"] + 1 for p in record["pareto"]}
    assert traces[BEST]["customdata"] == [record["best"][0]["candidate"] + 1]
    x = {c["index"] + 1: c["metrics"]["values"]["latency-p50"] for c in measured}
    assert dict(zip(traces[CANDIDATES_MET]["customdata"], traces[CANDIDATES_MET]["x"])) == {
        k: v for k, v in x.items() if k not in missed
    }
    layout = _figure(_page(toy_run))["layout"]
    assert layout["xaxis"]["title"]["text"].startswith("latency-p50")
    assert layout["yaxis"]["title"]["text"].startswith("similarity-cosine_mean")
    goal = record["candidates"][0]["metrics"]["goals"]["similarity-cosine_mean"]["target"]
    assert [s["y0"] for s in layout["shapes"]] == [goal], "the similarity goal is drawn as a line"


def test_headline_says_which_metrics_the_speed_up_and_quality_come_from(toy_run):
    record = json.loads((toy_run / "run.json").read_text())
    best = record["candidates"][record["best"][0]["candidate"]]
    before, after = record["input_model"]["metrics"]["values"], best["metrics"]["values"]
    headline = _text(re.search(r'<section class="headline best" id="headline">(.*?)</section>', _page(toy_run), re.DOTALL).group(1))
    assert f"Best model: candidate #{best['index'] + 1} (written to model/)" in headline
    ratio = before["latency-p50"] / after["latency-p50"]
    word = "faster" if ratio >= 1 else "slower"
    assert f"{max(ratio, 1 / ratio):.2f}× {word}" in headline and "by latency-p50" in headline
    assert f"{after['similarity-cosine_mean']:.4g}" in headline and "by similarity-cosine_mean" in headline
    assert "round (ToyRound) → check (ToyFlaky)" in headline


def test_table_has_every_candidate_failed_ones_with_their_reason(toy_run):
    record = json.loads((toy_run / "run.json").read_text())
    page = _page(toy_run)
    table = re.search(r'<table class="sortable-table" id="candidates">(.*?)</table>', page, re.DOTALL).group(1)
    rows = dict(re.findall(r'<tr id="candidate-(\d+)" class="[^"]*">(.*?)</tr>', table, re.DOTALL))
    assert sorted(int(i) for i in rows) == [c["index"] for c in record["candidates"]]
    for candidate in record["candidates"]:
        text = _text(rows[str(candidate["index"])])
        if candidate["error"]:
            assert "failed: " + candidate["error"] in text
        else:
            assert f"{candidate['metrics']['values']['similarity-cosine_mean']:.4g}" in text
    header = _text(re.search(r"<thead>(.*?)</thead>", table, re.DOTALL).group(1))
    assert "latency-p50 ↓" in header and "similarity-cosine_mean ↑" in header and "round" in header
    assert "input model" in _text(re.search(r'<tbody class="reference">(.*?)</tbody>', table, re.DOTALL).group(1))


def test_lineage_shows_each_step_report_and_environment_its_cpu(toy_run):
    record = json.loads((toy_run / "run.json").read_text())
    page = _page(toy_run)
    lineage = _text(re.search(r'<ol class="steps" id="lineage">(.*?)</ol>', page, re.DOTALL).group(1))
    best = record["candidates"][record["best"][0]["candidate"]]
    for model_id in best["lineage"]:
        step = record["models"][model_id]
        assert step["step"] in lineage and step["pass_type"] in lineage
    decimals = record["models"][best["lineage"][0]]["report"]["decimals"]
    assert re.search(rf"decimals\s+{decimals}", lineage), "the step's report is shown"
    environment = _text(re.search(r'<table class="kv" id="environment">(.*?)</table>', page, re.DOTALL).group(1))
    assert record["versions"]["python"] in environment and "olive-core" in environment
    cpu = record["cpu"]
    assert cpu["logical_cores"] and cpu["model"] in environment
    if cpu["flags"]:
        assert all(flag in environment for flag in cpu["flags"])


def test_text_from_run_json_is_escaped(toy_run, tmp_path):
    """A pass config, a failure reason, a step report or a metric name holding markup stays text."""
    record = json.loads((toy_run / "run.json").read_text())
    attack = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 1">'
    failed = next(c for c in record["candidates"] if c["error"])
    failed["error"] = attack
    failed["configs"]["round"] = {"decimals": attack}
    best = record["candidates"][record["best"][0]["candidate"]]
    record["models"][best["lineage"][0]]["report"] = {attack: [attack, {"nested": attack}]}
    record["models"][best["lineage"][0]]["warnings"] = [attack]
    best["metrics"]["values"]["x-" + attack] = 1.0
    best["metrics"]["directions"]["x-" + attack] = "max"
    record["workflow"]["search"]["objectives"][1]["metric"] = "x-" + attack
    record["workflow_file"] = attack
    record["stopped_early"] = "</script>" + attack
    source = tmp_path / "attack" / "run.json"
    source.parent.mkdir()
    source.write_text(json.dumps(record))
    page = write_report(source).read_text(encoding="utf-8")
    assert "<script>window" not in page and "<img src=x" not in page and 'onerror="' not in page
    assert page.count("</script>") == page.count("<script")  # nothing ended a script element early
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in page
    traces = _traces(page)
    assert "x-" + attack not in json.dumps(_figure(page)), "plot labels are escaped for plotly.js too"
    assert traces[CANDIDATES_MET]["customdata"] or traces[CANDIDATES_MISSED]["customdata"]


def test_one_objective_is_plotted_against_size(write_workflow, toy_manager, tmp_path):
    result = run(write_workflow(**toy_sections(tmp_path, objectives=1)), manager=toy_manager)
    layout = _figure(_page(result.output_dir))["layout"]
    assert layout["xaxis"]["title"]["text"].startswith("latency-p50")
    assert layout["yaxis"]["title"]["text"].startswith("size-mb")


def test_a_run_without_metrics_says_there_is_nothing_to_plot(write_workflow, toy_manager):
    result = run(write_workflow(), manager=toy_manager)
    page = _page(result.output_dir)
    assert 'id="scatter"' not in page and "measured no metric" in page
    assert "Best model: candidate #1" in _text(page)


def test_a_run_whose_candidates_all_failed_says_so(write_workflow, toy_manager):
    result = run(write_workflow(passes={"check": {"type": "ToyFlaky", "config": {"always_fail": True}}}), manager=toy_manager)
    assert not result.ok
    page = _text(_page(result.output_dir))
    assert "No model produced: all 1 candidates failed" in page and "configured to always fail" in page


def test_a_report_that_cannot_be_made_never_fails_the_run(write_workflow, toy_manager, monkeypatch, caplog):
    def broken(content):
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr("olive_core.report.render_page", broken)
    with caplog.at_level(logging.WARNING, logger="olive_core.engine.engine"):
        result = run(write_workflow(), manager=toy_manager)
    assert result.ok and (result.output_dir / "run.json").exists()
    assert not (result.output_dir / "report.html").exists()
    assert not list(result.output_dir.glob(".report.html.*"))
    assert "report.html was not written: the renderer broke" in caplog.text


def test_a_rerun_whose_report_fails_leaves_no_report_of_the_previous_run(write_workflow, toy_manager, monkeypatch):
    first = run(write_workflow(), manager=toy_manager)
    assert first.run_id in _page(first.output_dir)
    monkeypatch.setattr("olive_core.report.render_page", lambda content: (_ for _ in ()).throw(OSError("disk full")))
    second = run(write_workflow(), manager=toy_manager)
    assert json.loads((second.output_dir / "run.json").read_text())["run_id"] == second.run_id
    assert not (second.output_dir / "report.html").exists(), "a page of the first run would contradict run.json"


@pytest.mark.parametrize(
    ("text", "model", "flags"),
    [
        ("processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu sse4_2 avx avx2 avx512f avx512_vnni amx_int8 ht\n\nprocessor\t: 1\nflags\t: fpu\n",
         "AMD EPYC 9R14", ["amx_int8", "avx", "avx2", "avx512_vnni", "avx512f", "sse4_2"]),
        ("processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd asimddp sve i8mm bf16 crc32\nCPU part\t: 0xd40\n",
         None, ["asimd", "asimddp", "bf16", "i8mm", "sve"]),
    ],
)
def test_cpu_flags_are_read_from_cpuinfo(tmp_path, text, model, flags):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(text)
    assert _read_cpuinfo(cpuinfo) == (model, flags)
    assert _read_cpuinfo(tmp_path / "absent") == (None, None)
