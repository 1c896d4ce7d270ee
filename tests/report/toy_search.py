"""The toy search the report tests show: real latency, similarity and size metrics on two
objectives with a similarity goal, some candidates missing it and some failing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FAST_TIMING = {"warmup_runs": 1, "repeat_runs": 5}


def toy_sections(tmp_path: Path, objectives: int = 2) -> dict[str, Any]:
    """The search's data, metrics, passes and search sections (8 candidates, 4 of which fail)."""
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
