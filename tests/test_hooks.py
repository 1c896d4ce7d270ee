"""One test per hook: each is called by core as documented, with the documented arguments."""

from __future__ import annotations

import json
from typing import Any

import pytest

from olive_core import hookimpl
from olive_core.engine.api import run
from olive_core.plugins import create_plugin_manager
from olive_core.testing.toy import ToyModelType, ToyScale


class Recorder:
    """A plugin object recording lifecycle calls."""

    olive_plugin_api = "1.0"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    def on_workflow_start(self, run_id, workflow):
        self.calls.append(("on_workflow_start", {"run_id": run_id, "workflow": workflow}))

    @hookimpl
    def on_pass_start(self, run_id, step, pass_type, model, config):
        self.calls.append(("on_pass_start", {"step": step, "pass_type": pass_type, "config": config}))

    @hookimpl
    def on_pass_end(self, run_id, step, pass_type, model, error, cached):
        self.calls.append(("on_pass_end", {"step": step, "cached": cached, "error": error, "ok": model is not None}))

    @hookimpl
    def on_evaluation_end(self, run_id, model, metrics):
        self.calls.append(("on_evaluation_end", {"metrics": metrics}))

    @hookimpl
    def on_workflow_end(self, run_id, result):
        self.calls.append(("on_workflow_end", {"ok": result.ok}))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture
def recorder(toy_manager):
    plugin = Recorder()
    toy_manager.register(plugin, name="recorder")
    return plugin


def _registering(hook_name: str, name: str, target: Any) -> Any:
    class Plugin:
        olive_plugin_api = "1.0"

    def impl(register):
        register(name, target)

    impl.__name__ = hook_name
    setattr(Plugin, hook_name, staticmethod(hookimpl(impl)))
    return Plugin


def _check_registration(hook, kind, target):
    manager = create_plugin_manager(entry_points=False)
    manager.register(_registering(hook, "my-component", target), name="mine")
    component = manager.registry.get(kind, "my-component")
    assert component.source.name == "mine"
    return component


def test_hook_register_passes():
    assert _check_registration("register_passes", "pass", ToyScale).load() is ToyScale


def test_hook_register_model_types():
    assert _check_registration("register_model_types", "model_type", ToyModelType).load() is ToyModelType


def test_hook_register_accelerators():
    accelerator = _check_registration("register_accelerators", "accelerator", "olive_core.accelerators:CPU").load()
    assert accelerator.name == "cpu"


def test_hook_register_execution_providers():
    provider = _check_registration("register_execution_providers", "execution_provider", "olive_core.accelerators:CPU_PROVIDER").load()
    assert provider.name == "CPUExecutionProvider" and provider.device == "cpu"


def test_hook_register_metrics():
    from olive_core.evaluation.metric import Metric

    component = _check_registration("register_metrics", "metric", "olive_core.testing.toy:ToyScale")
    with pytest.raises(Exception, match="not a Metric"):
        component.load()  # the registrar's type check: a pass is not a metric
    assert Metric


def test_hook_register_data_components():
    component = _check_registration("register_data_components", "data_component", "olive_core.testing.toy:ToyScale")
    with pytest.raises(Exception, match="not a DataComponent"):
        component.load()


def test_hook_register_search_strategies():
    from olive_core.search.exhaustive import ExhaustiveSearch

    component = _check_registration("register_search_strategies", "search_strategy", "olive_core.search.exhaustive:ExhaustiveSearch")
    assert component.load() is ExhaustiveSearch


def test_hook_register_cache_backends():
    from olive_core.cache.local import LocalCache

    assert _check_registration("register_cache_backends", "cache_backend", "olive_core.cache.local:LocalCache").load() is LocalCache


def test_hook_register_commands():
    import click

    command = _check_registration("register_commands", "command", "olive_core.cli.run:run").load()
    assert isinstance(command, click.Command) and command.name == "run"


def test_hook_register_recipes():
    from olive_core.recipes import Recipe

    assert issubclass(_check_registration("register_recipes", "recipe", "olive_core.recipes:Recipe").load(), Recipe)


def test_hook_on_workflow_start(write_workflow, toy_manager, recorder):
    run(write_workflow(), manager=toy_manager)
    name, kwargs = recorder.calls[0]
    assert name == "on_workflow_start"
    assert kwargs["workflow"]["passes"]["scale"]["type"] == "ToyScale" and kwargs["run_id"]


def test_hook_on_pass_start(write_workflow, toy_manager, recorder):
    run(write_workflow(), manager=toy_manager)
    starts = [kwargs for name, kwargs in recorder.calls if name == "on_pass_start"]
    assert [s["step"] for s in starts] == ["scale", "round"]
    assert starts[0]["config"] == {"factor": 2.0}
    run(write_workflow(), manager=toy_manager)  # all cached: no pass starts
    assert len([n for n in recorder.names() if n == "on_pass_start"]) == 2


def test_hook_on_pass_end(write_workflow, toy_manager, recorder):
    run(write_workflow(), manager=toy_manager)
    run(write_workflow(), manager=toy_manager)
    ends = [kwargs for name, kwargs in recorder.calls if name == "on_pass_end"]
    assert [e["cached"] for e in ends] == [False, False, True, True]
    assert all(e["ok"] and e["error"] is None for e in ends)


def test_hook_on_evaluation_end(write_workflow, toy_manager, recorder, tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(json.dumps({"x": [1.0, 2.0]}) for _ in range(4)))
    workflow = write_workflow(
        data={"points": {"load": {"type": "jsonl", "config": {"path": str(data)}}}},
        metrics=[{"name": "size", "type": "size"}],
    )
    run(workflow, manager=toy_manager)
    evaluations = [kwargs for name, kwargs in recorder.calls if name == "on_evaluation_end"]
    assert len(evaluations) == 2  # the input model and the one candidate
    assert all(set(e["metrics"]) == {"size-mb"} and e["metrics"]["size-mb"] > 0 for e in evaluations)


def test_hook_on_workflow_end(write_workflow, toy_manager, recorder):
    run(write_workflow(), manager=toy_manager)
    assert recorder.calls[-1] == ("on_workflow_end", {"ok": True})


def test_hook_register_trackers():
    from olive_core.testing.toy import ToyTracker

    assert _check_registration("register_trackers", "tracker", "olive_core.testing.toy:ToyTracker").load() is ToyTracker
    with pytest.raises(Exception, match="not a Tracker"):
        _check_registration("register_trackers", "tracker", "olive_core.testing.toy:ToyScale").load()


def test_hook_on_candidate_end(write_workflow, toy_manager):
    class CandidateRecorder:
        olive_plugin_api = "1.0"

        def __init__(self) -> None:
            self.ended: list[tuple[int, bool, list[str]]] = []

        @hookimpl
        def on_candidate_end(self, run_id, candidate, steps):
            self.ended.append((candidate.index, candidate.ok, [s.status for s in steps]))

    plugin = CandidateRecorder()
    toy_manager.register(plugin, name="candidates")
    path = write_workflow(passes={"flaky": {"type": "ToyFlaky", "config": [{}, {"always_fail": True}]}})
    run(path, manager=toy_manager)
    run(path, manager=toy_manager)
    assert plugin.ended == [(0, True, ["ran"]), (1, False, ["failed"]), (0, True, ["cached"]), (1, False, ["failed"])]
