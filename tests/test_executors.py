"""Executors as plugins: core's inline and process, search.executor, olive run --executor, and
what the engine does when an executor cannot start, loses a trial, or cannot share the cache."""

from __future__ import annotations

import json
import textwrap
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from olive_core import hookimpl
from olive_core.cache.local import LocalCache
from olive_core.engine.api import load_workflow, run, with_executor
from olive_core.engine.executors import ExecutorConfig, TrialExecutor
from olive_core.errors import ConfigError, ExecutorError
from olive_core.plugins import create_plugin_manager
from olive_core.testing.contracts.executors import ExecutorContract, comparable, toy_search

TOY = "olive_core.testing.toy"


class TestInline(ExecutorContract):
    @pytest.fixture
    def executor_section(self) -> dict[str, Any]:
        return {"type": "inline"}


class TestProcess(ExecutorContract):
    @pytest.fixture
    def executor_section(self) -> dict[str, Any]:
        return {"type": "process", "config": {"max_workers": 2}}


class ThreadsConfig(ExecutorConfig):
    max_workers: int = Field(default=2, ge=1, le=8, description="threads")


class ThreadTrials(TrialExecutor):
    """A plugin's executor: trials on threads of this process, through picklable requests."""

    Config = ThreadsConfig
    started: list[int | None] = []  # noqa: RUF012 - what start() was told, for the test to read

    def start(self, parallel_trials: int | None) -> Executor:
        self.started.append(parallel_trials)
        self.slots = parallel_trials or self.config.max_workers  # type: ignore[attr-defined]
        self.pool = ThreadPoolExecutor(self.config.max_workers)  # type: ignore[attr-defined]
        return self.pool

    def close(self) -> None:
        self.pool.shutdown(wait=True)


class Unreachable(TrialExecutor):
    def start(self, parallel_trials: int | None) -> Executor:
        raise ExecutorError("cannot reach the scheduler at tcp://192.0.2.1:8786", hint="start it")


class Broken(TrialExecutor):
    def start(self, parallel_trials: int | None) -> Executor:
        raise RuntimeError("no such cluster")


class LosesTrialTwo(TrialExecutor):
    """Runs trials inline, except the second, whose worker 'dies' (its future fails)."""

    def start(self, parallel_trials: int | None) -> Executor:
        from olive_core.engine.executors import InlineExecutor

        inline = InlineExecutor()

        class Losing(Executor):
            def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
                if args[0].index == 1:
                    lost: Future[Any] = Future()
                    lost.set_exception(ConnectionResetError("worker tcp://10.0.0.7:4242 died"))
                    return lost
                return inline.submit(fn, *args, **kwargs)

        return Losing()


class ElsewhereConfig(ExecutorConfig):
    same_machine: bool = Field(default=False, description="every worker runs on this machine")


class Elsewhere(ThreadTrials):
    """Says its workers may run on other machines, unless told they all run here."""

    Config = ElsewhereConfig  # type: ignore[assignment]
    same_machine_option = "same_machine"

    def start(self, parallel_trials: int | None) -> Executor:
        self.pool = ThreadPoolExecutor(2)
        return self.pool

    @classmethod
    def on_this_machine(cls, config: Any) -> bool:
        return config.same_machine


class SharedCache(LocalCache):
    """A local cache that claims a remote tier (what makes a cache safe across machines)."""

    has_remote = True


class ExecutorPlugin:
    olive_plugin_api = "1.0"

    @hookimpl
    def register_executors(self, register: Any) -> None:
        register("threads", ThreadTrials)
        register("unreachable", Unreachable)
        register("broken", Broken)
        register("loses-two", LosesTrialTwo)
        register("elsewhere", Elsewhere)

    @hookimpl
    def register_cache_backends(self, register: Any) -> None:
        register("shared", SharedCache)


@pytest.fixture
def manager() -> Any:
    manager = create_plugin_manager(entry_points=False, extra_plugins=[TOY])
    manager.register(ExecutorPlugin(), name="executors")
    return manager


def test_hook_register_executors(manager, tmp_path, monkeypatch):
    monkeypatch.setenv("OLIVE_PLUGINS", TOY)
    assert manager.registry.get("executor", "threads").source.name == "executors"
    assert manager.registry.names("executor")[:2] == ["broken", "elsewhere"] and {"inline", "process"} <= set(manager.registry.names("executor"))
    ThreadTrials.started.clear()
    inline = run(toy_search(tmp_path, None, "inline"), manager=manager)
    threads = run(toy_search(tmp_path, {"type": "threads", "config": {"max_workers": 3}}, "threads"), manager=manager)
    assert comparable(threads) == comparable(inline)
    assert ThreadTrials.started == [None]  # parallel_trials not written: the executor chooses
    record = json.loads((tmp_path / "out-threads" / "run.json").read_text())
    assert record["executor"] == {"type": "threads", "slots": 3}


def test_a_registered_executor_must_be_a_trial_executor():
    class Plugin:
        olive_plugin_api = "1.0"

        @hookimpl
        def register_executors(self, register: Any) -> None:
            register("pool", "concurrent.futures:ThreadPoolExecutor")

    manager = create_plugin_manager(entry_points=False)
    manager.register(Plugin(), name="pool-plugin")
    with pytest.raises(Exception, match="executor 'pool' from .* is .*ThreadPoolExecutor.*, not a TrialExecutor"):
        manager.registry.load("executor", "pool")


def test_the_default_executor_follows_parallel_trials(write_workflow, toy_manager, tmp_path, monkeypatch):
    monkeypatch.setenv("OLIVE_PLUGINS", TOY)
    run(write_workflow(), manager=toy_manager)
    assert json.loads((tmp_path / "out" / "run.json").read_text())["executor"] == {"type": "inline", "slots": 1}
    run(write_workflow(search={"parallel_trials": 2}), manager=toy_manager)
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["executor"] == {"type": "process", "slots": 2, "workers": 2}
    assert record["candidates"][0]["worker"].split(" pid ")[1].isdigit()


def test_an_executor_that_cannot_start_stops_the_run_before_any_work(manager, tmp_path):
    with pytest.raises(ExecutorError, match="cannot reach the scheduler at tcp://192.0.2.1:8786"):
        run(toy_search(tmp_path, {"type": "unreachable"}, "x"), manager=manager)
    with pytest.raises(ExecutorError, match="executor 'broken' could not start: RuntimeError: no such cluster"):
        run(toy_search(tmp_path, {"type": "broken"}, "x"), manager=manager)
    out = tmp_path / "out-x"
    assert not (out / "run.json").exists() and not (out / "run.log").exists()
    assert not any((tmp_path / "cache-x" / "artifacts").iterdir())  # no step ran


def test_a_trial_its_executor_loses_fails_alone_with_the_reason(manager, tmp_path):
    result = run(toy_search(tmp_path, {"type": "loses-two"}, "lost"), manager=manager)
    lost = result.candidate(1)
    assert lost.error == "the executor could not run this trial: ConnectionResetError: worker tcp://10.0.0.7:4242 died"
    assert len(result.candidates) == 18 and result.ok
    record = json.loads((tmp_path / "out-lost" / "run.json").read_text())
    assert record["candidates"][1]["error"] == lost.error


def test_a_local_cache_is_refused_with_workers_on_other_machines(manager, tmp_path):
    with pytest.raises(ConfigError) as raised:
        run(toy_search(tmp_path, {"type": "elsewhere"}, "far"), manager=manager)
    message = str(raised.value)
    assert "engine.cache.type: the 'local' cache keeps its results in a folder of this machine" in message
    assert "engine.cache.type: azure" in message and "search.executor.config.same_machine: true" in message
    assert not (tmp_path / "out-far").exists() and not (tmp_path / "cache-far").exists()
    # every worker here, or a cache with a remote tier: allowed
    near = run(toy_search(tmp_path, {"type": "elsewhere", "config": {"same_machine": True}}, "near"), manager=manager)
    assert len(near.candidates) == 18 and near.ok
    shared = load_workflow(toy_search(tmp_path, {"type": "elsewhere"}, "shared", {"type": "shared"}), manager)
    assert shared.resolved.executor.type == "elsewhere" and shared.resolved.cache.type == "shared"


def test_with_executor_replaces_the_section_and_keeps_a_same_type_config():
    raw = {"search": {"strategy": "exhaustive", "executor": {"type": "dask", "config": {"n_workers": 3}}}}
    assert with_executor(raw, "dask") == raw
    assert with_executor(raw, "process")["search"] == {"strategy": "exhaustive", "executor": {"type": "process"}}
    assert with_executor({}, "inline") == {"search": {"executor": {"type": "inline"}}}
    assert with_executor(raw, None) is raw


def test_olive_run_executor_option(invoke, write_workflow, tmp_path):
    path = write_workflow(passes={"chatty": {"type": "ToyChatty", "config": [{"text": "one"}, {"text": "two"}]}})
    result = invoke("run", str(path), "--executor", "process")
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["executor"]["type"] == "process" and record["workflow"]["search"]["executor"] == {"type": "process"}
    assert all(c["worker"] and c["error"] is None for c in record["candidates"])
    log = (tmp_path / "out" / "run.log").read_text()
    assert "toylib warning: one" in log and "toylib warning: two" in log  # logged in the workers, kept in the run's log


def test_olive_run_unknown_executor_is_one_error_and_nothing_written(invoke, write_workflow, tmp_path):
    result = invoke("run", str(write_workflow()), "--executor", "cluster-of-mine")
    assert result.exit_code == 2
    assert "search.executor.type: unknown executor 'cluster-of-mine'" in result.output and "Traceback" not in result.output
    assert "installed executors: " in result.output and "inline" in result.output and "process" in result.output
    assert not (tmp_path / "out").exists()


def test_dask_without_its_plugin_says_what_to_install(write_workflow):
    manager = create_plugin_manager(entry_points=False, extra_plugins=[TOY])
    with pytest.raises(ConfigError, match="search.executor.type: unknown executor 'dask'") as raised:
        run(write_workflow(search={"executor": {"type": "dask"}}), manager=manager)
    assert "pip install olive-dask" in str(raised.value)


def test_olive_run_refuses_an_unsafe_topology_with_exit_2(invoke, write_workflow, tmp_path, monkeypatch):
    module = tmp_path / "far_executor.py"
    module.write_text(textwrap.dedent('''
        from concurrent.futures import ThreadPoolExecutor
        from olive_core import hookimpl
        from olive_core.engine.executors import TrialExecutor
        olive_plugin_api = "1.0"

        class Far(TrialExecutor):
            def start(self, parallel_trials):
                return ThreadPoolExecutor(1)

            @classmethod
            def on_this_machine(cls, config):
                return False

        @hookimpl
        def register_executors(register):
            register("far", Far)
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("OLIVE_PLUGINS", f"{TOY},far_executor")
    from click.testing import CliRunner

    from olive_core.cli.main import cli

    result = CliRunner().invoke(cli, ["run", str(write_workflow()), "--executor", "far"], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "engine.cache.type: the 'local' cache keeps its results in a folder of this machine" in result.output
    assert "same_machine" not in result.output  # this executor has no such option to suggest
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()


def test_olive_plugins_lists_core_executors(invoke):
    result = invoke("plugins")
    assert "  executors: inline, process" in result.output
    data = json.loads(invoke("plugins", "--json").output)
    core = next(p for p in data["plugins"] if p["distribution"] == "olive-core")
    assert core["components"]["executor"] == ["inline", "process"]


def test_trial_request_survives_pickling(write_workflow, toy_manager):
    """What a worker gets travels by pickle (process pools, Dask): nothing in it may refuse."""
    import pickle

    from olive_core.accelerators import AcceleratorSpec
    from olive_core.engine.trial import TrialRequest
    from olive_core.models.handler import ModelHandler

    request = TrialRequest(
        raw_workflow=json.loads(Path(write_workflow()).read_text()),
        source="w.json",
        base_dir="/tmp",
        manager_recipe=toy_manager.recipe,
        cache_dir=None,
        run_id="r",
        accelerator=AcceleratorSpec("cpu", "CPUExecutionProvider"),
        input_model=ModelHandler(type="toy", path="/x"),
        index=0,
        point={},
    )
    assert pickle.loads(pickle.dumps(request)) == request


@pytest.mark.parametrize("executor", ["inline", "process"])
def test_a_mistake_found_in_a_worker_stops_the_run_as_it_does_inline(executor, write_workflow, toy_manager, tmp_path, monkeypatch):
    """A pass's check_input that asks for data the workflow lacks is the user's to fix, wherever
    the trial ran: the run stops with that error (its hint included), not a 'lost trial'."""
    monkeypatch.setenv("OLIVE_PLUGINS", TOY)
    passes = {"scale": {"type": "ToyScale", "config": [{"factor": 1.0}, {"factor": 2.0}]}, "calibrate": {"type": "ToyFlaky", "config": {"needs_data": True}}}
    search = {"executor": {"type": executor, "config": {"max_workers": 2}} if executor == "process" else {"type": executor}}
    with pytest.raises(ConfigError) as raised:
        run(write_workflow(passes=passes, search=search), manager=toy_manager)
    assert type(raised.value) is ConfigError and raised.value.path == "data"
    assert str(raised.value) == "data: ToyFlaky needs calibration data\n  hint: set 'data' to the name of an entry in the workflow's 'data'"
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["stopped_early"] == "stopped by an error: ConfigError: data: ToyFlaky needs calibration data"


def test_olive_errors_cross_process_boundaries_whole():
    """A worker's error reaches the engine by pickle; a subclass with its own arguments must not
    break the pool that carries it (PassError did) nor lose its fields."""
    import pickle

    from olive_core.errors import ConfigErrors, DataError, PassError

    errors = [
        ConfigError("unknown pass", path="passes.q.type", source="w.json", hint="did you mean 'ToyRound'?"),
        ConfigErrors([ConfigError("bad", path="a"), ConfigError("worse", path="b")]),
        PassError("quantize", "the model is FP16", hint="convert it to FP32 first"),
        DataError("input 'x' has shape (2,), the model wants (3,)"),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error) and vars(copy).keys() == vars(error).keys()
    assert pickle.loads(pickle.dumps(errors[2])).reason == "the model is FP16"
    assert [str(e) for e in pickle.loads(pickle.dumps(errors[1])).errors] == ["a: bad", "b: worse"]


def test_a_worker_that_dies_loses_its_trial_and_later_trials_run(write_workflow, toy_manager, tmp_path, monkeypatch):
    """A worker killed mid-trial (out of memory, a native crash) breaks a process pool: that trial
    is lost with the reason, and the next trial gets a new pool instead of a broken one."""
    monkeypatch.setenv("OLIVE_PLUGINS", TOY)
    passes = {
        "scale": {"type": "ToyScale", "config": [{"factor": 1.0}, {"factor": 2.0}]},
        "crash": {"type": "ToyFlaky", "config": {"crash": True}, "optional": True},
    }
    search = {"executor": {"type": "process", "config": {"max_workers": 1}}}
    result = run(write_workflow(passes=passes, search=search), manager=toy_manager)
    crashed = [c.index for c in result.candidates if c.point.get("crash") is not None]
    survived = [c.index for c in result.candidates if c.index not in crashed]
    assert len(crashed) == 2 and len(survived) == 2 and min(crashed) < max(survived)  # one ran after a crash
    for index in crashed:
        assert result.candidate(index).error.startswith("the executor could not run this trial: BrokenProcessPool")
    assert all(result.candidate(index).error is None and result.candidate(index).model for index in survived)
