"""A real `dask scheduler` and two `dask worker` processes on 127.0.0.1, the workflow pointed at
the scheduler: the toy search finds what inline finds; a worker SIGKILLed mid-trial loses
nothing; an unreachable scheduler, and a local cache with workers that may be elsewhere, are
one clear error before any work."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from olive_core.cli.main import cli
from olive_core.engine.api import run
from olive_core.plugins import create_plugin_manager
from olive_core.testing.contracts.executors import comparable, toy_search
from olive_core.testing.ports import free_port


def test_a_running_scheduler_finds_what_inline_finds_and_a_killed_worker_loses_nothing(dask_processes, tmp_path):
    cluster = dask_processes({"w1": {}, "w2": {}})
    manager = create_plugin_manager()
    remote = {"type": "dask", "config": {"address": cluster.address, "same_machine": True}}
    inline = run(toy_search(tmp_path, {"type": "inline"}, "inline"), manager=manager)
    on_cluster = run(toy_search(tmp_path, remote, "remote"), manager=manager)
    assert comparable(on_cluster) == comparable(inline)
    assert json.loads((tmp_path / "out-remote" / "run.json").read_text())["executor"]["address"] == cluster.address

    # trials that each sleep in a pass; w1 is SIGKILLed while it runs one
    path = _slow_search(tmp_path, remote)
    finished: list = []
    runner = threading.Thread(target=lambda: finished.append(run(path, manager=manager)))
    runner.start()
    _wait_until_busy(cluster, "w1")
    cluster.kill("w1")
    runner.join(timeout=300)
    assert finished, "the run did not finish after its worker was killed"
    result = finished[0]
    assert len(result.candidates) == 4
    assert all(c.ok for c in result.candidates), [c.error for c in result.candidates]  # the scheduler moved the trial to w2
    assert {c.worker for c in result.candidates} != set()
    cache = tmp_path / "cache-slow"
    assert any((cache / "staging").iterdir())  # the killed pass's leftovers: staged, never an entry
    again = run(path, manager=manager)
    assert {record.status for record in again.steps.values()} == {"cached"}  # a rerun is fully cached
    assert [c.lineage for c in again.candidates] == [c.lineage for c in result.candidates]


def _slow_search(folder: Path, executor: dict) -> Path:
    path = toy_search(folder, executor, "slow")
    workflow = json.loads(path.read_text())
    workflow["passes"] = {
        "convert": {"type": "ToyScale", "config": {"factor": 2.0}},
        "slow": {"type": "ToyFlaky", "config": [{"sleep_s": 2.0 + i / 100} for i in range(4)]},
    }
    workflow["metrics"] = [m for m in workflow["metrics"] if m["type"] == "size"]
    workflow["search"]["objectives"] = [{"metric": "size-mb"}]
    path.write_text(json.dumps(workflow))
    return path


def _wait_until_busy(cluster, name: str) -> None:
    """Until the named worker is running a task (a trial inside its sleeping pass)."""
    from distributed import Client

    address = cluster.worker_address(name)
    deadline = time.monotonic() + 120
    with Client(cluster.address, timeout=10) as client:
        while time.monotonic() < deadline:
            if client.processing().get(address):
                time.sleep(1.0)  # well inside the pass's 2 s sleep
                return
            time.sleep(0.1)
    pytest.fail(f"worker {name} never got a trial")


def test_an_unreachable_scheduler_is_one_error_before_any_work(tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    path = toy_search(tmp_path, {"type": "dask", "config": {"address": address, "same_machine": True, "connect_timeout_s": 2}}, "down")
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["run", str(path)], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert f"error: cannot reach the Dask scheduler at {address} within 2 s" in result.output
    assert "Traceback" not in result.output and len(result.output.splitlines()) < 12
    assert time.monotonic() - started < 60
    assert not (tmp_path / "out-down" / "run.json").exists()
    assert not any((tmp_path / "cache-down" / "artifacts").iterdir())  # no step ran


def test_a_local_cache_with_a_remote_scheduler_is_refused(tmp_path):
    path = toy_search(tmp_path, {"type": "dask", "config": {"address": "tcp://10.0.0.5:8786"}}, "far")
    result = CliRunner().invoke(cli, ["run", str(path)], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "engine.cache.type: the 'local' cache keeps its results in a folder of this machine, but executor 'dask'" in result.output
    assert "engine.cache.type: azure" in result.output and "search.executor.config.same_machine: true" in result.output
    assert not (tmp_path / "out-far").exists() and not (tmp_path / "cache-far").exists()
