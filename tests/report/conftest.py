"""A finished toy run shaped like a real one: real latency, similarity and size metrics on two
objectives with a similarity goal, some candidates missing it and some failing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from olive_core.engine.api import run
from olive_core.plugins import create_plugin_manager
from olive_core.testing.toy import write_toy_model

TOY = "olive_core.testing.toy"

FAST_TIMING = {"warmup_runs": 1, "repeat_runs": 5}


def toy_sections(tmp_path: Path, objectives: int = 2) -> dict[str, Any]:
    data = tmp_path / "eval.jsonl"
    data.write_text("".join(f'{{"x": [{i * 0.5 + 0.1}, {1.7 - i}]}}\n' for i in range(6)))
    keys = ["latency-p50", "similarity-cosine_mean"][:objectives]
    return {
        "data": {"eval": {"load": {"type": "jsonl", "config": {"path": str(data)}}, "batch_size": 2}},
        "metrics": [
            {"name": "latency", "type": "latency", "data": "eval", "config": FAST_TIMING, "sub_metrics": ["p50", "p90"]},
            {"name": "similarity", "type": "similarity", "data": "eval", "sub_metrics": ["cosine_mean", "cosine_min"],
             "goals": {"cosine_mean": {"threshold": 0.999}}},
            {"name": "size", "type": "size"},
        ],
        "passes": {
            # rounding to 0 decimals moves the outputs enough to miss the similarity goal
            "round": {"type": "ToyRound", "config": [{"decimals": 0}, {"decimals": 1}, {"decimals": 2}, {"decimals": 3}]},
            "check": {"type": "ToyFlaky", "config": [{"always_fail": False}, {"always_fail": True}]},
        },
        "search": {"objectives": [{"metric": key, "priority": rank} for rank, key in enumerate(keys, start=1)]},
    }


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of a finished toy run: 8 candidates, 4 failed; run.json and report.html
    in it. Made once per module: the tests only read it."""
    folder = tmp_path_factory.mktemp("toy-run")
    model = write_toy_model(folder / "input" / "weights.json", [[1.23456, -2.5], [0.125, 3.75]], [0.5, -0.25])
    workflow = {
        "input_model": {"type": "toy", "config": {"model_path": str(model)}},
        "engine": {"output_dir": "out", "cache": {"type": "local", "config": {"dir": "cache"}}},
        **toy_sections(folder),
    }
    path = folder / "workflow.json"
    path.write_text(json.dumps(workflow))
    with pytest.MonkeyPatch.context() as env:  # as tests/conftest.py isolates each test
        for name in ("OLIVE_DISABLE_PLUGINS", "OLIVE_PLUGINS", "OLIVE_NO_ENTRY_POINTS", "OLIVE_STRICT_PLUGINS"):
            env.delenv(name, raising=False)
        result = run(path, manager=create_plugin_manager(extra_plugins=[TOY]))
    assert len(result.candidates) == 8 and sum(not c.ok for c in result.candidates) == 4
    return result.output_dir
