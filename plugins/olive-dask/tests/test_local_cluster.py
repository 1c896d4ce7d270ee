"""The embedded LocalCluster: the executor contract (the toy search finds what inline finds, a
rerun is fully cached), the plugin's registration, and its config's errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from olive_core.engine.api import run
from olive_core.errors import ConfigError
from olive_core.plugins import create_plugin_manager
from olive_core.testing import ExecutorContract
from olive_core.testing.contracts.checks import heavy_modules_after_import
from olive_core.testing.contracts.executors import toy_search


class TestLocalCluster(ExecutorContract):
    @pytest.fixture
    def executor_section(self) -> dict[str, Any]:
        return {"type": "dask", "config": {"n_workers": 2, "threads_per_worker": 1, "memory_limit": "1GiB"}}


def test_the_plugin_registers_dask_and_imports_nothing_heavy():
    manager = create_plugin_manager()
    assert manager.registry.get("executor", "dask").source.distribution == "olive-dask"
    assert heavy_modules_after_import("olive_dask.plugin") == []
    import subprocess
    import sys

    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, olive_dask.plugin, olive_dask.config; print('distributed' in sys.modules)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert loaded.stdout.strip() == "False"  # Dask loads when a run starts it, not to list or validate


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"address": "tcp://127.0.0.1:8786", "n_workers": 4}, "n_workers shape the embedded LocalCluster"),
        ({"same_machine": True}, "same_machine describes the workers of a scheduler at 'address'"),
        ({"memory_limit": "lots"}, "search.executor.config.memory_limit: expected 'auto'"),
        ({"address": "http://sched/x:1"}, "search.executor.config.address: expected a scheduler address"),
        ({"n_wokers": 2}, "search.executor.config.n_wokers: unknown field 'n_wokers'"),
    ],
)
def test_a_bad_config_is_one_error_naming_the_field(tmp_path, config, message):
    with pytest.raises(ConfigError, match="search.executor") as raised:
        run(toy_search(tmp_path, {"type": "dask", "config": config}, "bad"), manager=create_plugin_manager())
    assert message in str(raised.value)
    assert not (tmp_path / "out-bad").exists()


def test_run_json_says_where_the_trials_ran(tmp_path):
    run(toy_search(tmp_path, {"type": "dask", "config": {"n_workers": 2}}, "where"), manager=create_plugin_manager())
    record = json.loads((tmp_path / "out-where" / "run.json").read_text())
    executor = record["executor"]
    assert executor["type"] == "dask" and executor["embedded"] and executor["workers"] == 2 and executor["slots"] == 2
    assert executor["address"].startswith("tcp://127.0.0.1:")
    assert len({c["worker"] for c in record["candidates"]}) == 2  # both worker processes ran trials
