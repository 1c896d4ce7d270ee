"""ExecutorContract: what a plugin's executor tests subclass.

    class TestDaskLocalCluster(ExecutorContract):
        @pytest.fixture
        def executor_section(self):
            return {"type": "dask", "config": {"n_workers": 2}}

The suite runs a toy search shaped like examples/minilm/search.json (a conversion, an optional
step, two optional steps with alternative configs, two of which refuse each other's output) on
the executor and inline, and compares what they found. Workers build their plugin manager from
installed plugins and ``OLIVE_PLUGINS``: the suite sets ``OLIVE_PLUGINS`` to the toy plugin
before the executor starts; a fixture that starts its own workers must give them that too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from olive_core.engine.api import run
from olive_core.engine.result import WorkflowResult
from olive_core.plugins import create_plugin_manager
from olive_core.testing.contracts.checks import check_config
from olive_core.testing.workflows import TOY, write_toy_input
#: metrics that measure time: they differ between any two runs, so results compare without them
TIMING_METRICS = ("latency",)


def toy_search(folder: Path, executor: dict[str, Any] | None, name: str, cache: dict[str, Any] | None = None) -> Path:
    """Write the toy search's workflow (and its model and data) under ``folder``; return its path."""
    model = folder / "input" / "weights.json"
    if not model.exists():
        write_toy_input(folder)
        points = [{"x": [0.1 * i, 1.0 - 0.05 * i]} for i in range(8)]
        (folder / "points.jsonl").write_text("\n".join(json.dumps(point) for point in points))
    search: dict[str, Any] = {  # no strategy: each list of alternatives is tried in full, as written
        "objectives": [{"metric": "similarity-cosine_mean"}, {"metric": "size-mb", "priority": 2}],
    }
    if executor is not None:
        search["executor"] = executor
    workflow = {
        "input_model": {"type": "toy", "config": {"model_path": str(model)}},
        "data": {"points": {"load": {"type": "jsonl", "config": {"path": str(folder / "points.jsonl")}}, "batch_size": 4}},
        "metrics": [
            {"name": "latency", "type": "latency", "data": "points", "config": {"warmup_runs": 1, "repeat_runs": 3}},
            {"name": "similarity", "type": "similarity", "data": "points", "config": {"output": "y"}},
            {"name": "size", "type": "size"},
        ],
        "passes": {
            "convert": {"type": "ToyScale", "config": {"factor": 2.0}},
            "fuse": {"type": "ToyFlaky", "optional": True},
            "dynamic": {"type": "ToyRound", "config": [{"decimals": 1}, {"decimals": 2}], "optional": True},
            "static": {"type": "ToyRound", "config": [{"decimals": 0, "round_bias": False}, {"decimals": 3}], "optional": True},
        },
        "search": search,
        "engine": {"output_dir": f"out-{name}", "cache": cache or {"type": "local", "config": {"dir": f"cache-{name}"}}},
    }
    path = folder / f"{name}.json"
    path.write_text(json.dumps(workflow))
    return path


def comparable(result: WorkflowResult) -> dict[str, Any]:
    """What two runs of one search must agree on, whatever ran their trials: candidates, their
    lineage, errors and metrics (timing excluded), and the best."""
    candidates = [
        (
            c.index,
            c.point,
            c.lineage,
            c.error,
            {k: v for k, v in (c.evaluation.values if c.evaluation else {}).items() if not k.startswith(TIMING_METRICS)},
        )
        for c in result.candidates
    ]
    return {"candidates": candidates, "best": result.best, "pareto": result.pareto}


class ExecutorContract:
    """Subclass with an ``executor_section`` fixture: the workflow's ``search.executor``."""

    @pytest.fixture
    def executor_section(self) -> dict[str, Any]:
        raise NotImplementedError("an ExecutorContract subclass must define an 'executor_section' fixture")

    @pytest.fixture(autouse=True)
    def _toy_plugin_in_workers(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OLIVE_PLUGINS", TOY)

    def test_config_is_strict_documented_and_bounded(self, executor_section: dict[str, Any]) -> None:
        executor = create_plugin_manager().registry.load("executor", executor_section["type"])
        check_config(executor.Config)
        executor.Config.model_validate(executor_section.get("config", {}))

    def test_the_toy_search_finds_what_inline_finds(self, executor_section: dict[str, Any], tmp_path: Path) -> None:
        manager = create_plugin_manager(extra_plugins=[TOY])
        inline = run(toy_search(tmp_path, {"type": "inline"}, "inline"), manager=manager)
        other = run(toy_search(tmp_path, executor_section, "other"), manager=manager)
        assert len(other.candidates) == 18 and any("already rounded" in (c.error or "") for c in other.candidates)
        assert comparable(other) == comparable(inline)
        record = json.loads((tmp_path / "out-other" / "run.json").read_text())
        assert record["executor"]["type"] == executor_section["type"]
        if not create_plugin_manager().registry.load("executor", executor_section["type"]).in_process:
            assert all(c["worker"] for c in record["candidates"])  # each trial says which process ran it

    def test_a_rerun_is_fully_cached(self, executor_section: dict[str, Any], tmp_path: Path) -> None:
        manager = create_plugin_manager(extra_plugins=[TOY])
        path = toy_search(tmp_path, executor_section, "twice")
        first = run(path, manager=manager)
        again = run(path, manager=manager)
        assert {r.status for r in again.steps.values() if r.status != "failed"} == {"cached"}
        assert all(c.evaluation.cached for c in again.candidates if c.ok)
        assert comparable(again) == comparable(first)
