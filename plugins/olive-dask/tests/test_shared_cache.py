"""Two workers with separate local cache folders, sharing an Azurite-backed `azure` cache: a step
computed on one is pulled, not recomputed, by the other (the pass counts its executions)."""

from __future__ import annotations

import json
import uuid

from olive_core.cache.local import LocalCache, LocalCacheConfig
from olive_core.engine.api import run
from olive_core.plugins import create_plugin_manager
from olive_core.testing.toy import write_toy_model

CONNECTION_ENV = "OLIVE_TEST_AZURE_CONNECTION"


def test_a_step_made_on_one_worker_is_pulled_by_the_other(dask_processes, azurite, tmp_path, monkeypatch):
    import olive_azure_cache  # noqa: F401 - installed with olive-dask's tests (noxfile); a missing one fails here

    monkeypatch.setenv(CONNECTION_ENV, azurite.connection_string())
    folders = {name: tmp_path / f"cache-{name}" for name in ("a", "b")}
    cluster = dask_processes(
        {name: {"OLIVE_CACHE_DIR": str(folder), CONNECTION_ENV: azurite.connection_string()} for name, folder in folders.items()}
    )
    model = write_toy_model(tmp_path / "input" / "weights.json", [[1.23456, -2.5], [0.125, 3.75]], [0.5, -0.25])
    counter = tmp_path / "convert-runs"
    container = f"olive-{uuid.uuid4().hex[:12]}"

    def workflow(name: str, worker: str, decimals: int) -> str:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({
            "input_model": {"type": "toy", "config": {"model_path": str(model)}},
            "passes": {
                "convert": {"type": "ToyFlaky", "config": {"counter_file": str(counter)}},  # counts its executions
                "round": {"type": "ToyRound", "config": {"decimals": decimals}},
            },
            "search": {"executor": {"type": "dask", "config": {"address": cluster.address, "workers": [worker]}}},
            # no local folder named: each worker keeps its local tier in its own OLIVE_CACHE_DIR
            "engine": {"output_dir": f"out-{name}", "cache": {"type": "azure", "config": {
                "connection_string_env": CONNECTION_ENV, "container": container, "retries": 1, "timeout_s": 5}}},
        }))  # fmt: skip
        return str(path)

    manager = create_plugin_manager()
    first = run(workflow("first", "a", 1), manager=manager)
    second = run(workflow("second", "b", 2), manager=manager)
    assert first.ok and second.ok
    assert counter.read_text() == "1"  # convert ran once, on a; b pulled it from the shared container
    convert_id = first.candidates[0].lineage[0]
    assert second.candidates[0].lineage[0] == convert_id
    assert [second.steps[i].status for i in second.candidates[0].lineage] == ["cached", "ran"]
    assert first.candidates[0].worker != second.candidates[0].worker
    for name in ("a", "b"):  # both local tiers now hold it: b's by pulling
        local = LocalCache(LocalCacheConfig(dir=str(folders[name])))
        try:
            assert local.get_model(convert_id) is not None
        finally:
            local.close()
