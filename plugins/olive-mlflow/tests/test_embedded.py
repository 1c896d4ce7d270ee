"""The embedded SQLite store (no server): what a run logs, read back with mlflow.MlflowClient."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow import MlflowClient

from olive_core import hookimpl
from olive_core.engine.api import run
from olive_core.plugins import create_plugin_manager
from olive_core.testing.workflows import TOY
from olive_mlflow.recorder import default_tracking_uri
from olive_mlflow.testing import toy_search

SECRET = "mlfl0w-s3cret-token"


def children_of(client: MlflowClient, parent) -> dict[int, object]:
    runs = client.search_runs([parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    return {int(r.data.tags["olive.candidate"]) - 1: r for r in runs}


def parents(client: MlflowClient, experiment: str) -> list:
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    return client.search_runs([experiment_id], filter_string="tags.`olive.kind` = 'workflow'", order_by=["attributes.start_time ASC"])


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """One toy search of 4 candidates tracked in the default store, its model registered."""
    tmp = tmp_path_factory.mktemp("embedded")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("OLIVE_MLFLOW_TEST_TOKEN", SECRET)
    path = toy_search(tmp, {"experiment": "toys", "register_model": "toy-best"})
    workflow = json.loads(path.read_text())
    workflow["input_model"]["config"]["attributes"] = {"hf_token": "${OLIVE_MLFLOW_TEST_TOKEN}"}
    path.write_text(json.dumps(workflow))
    result = run(path, manager=create_plugin_manager(extra_plugins=[TOY]))
    monkeypatch.undo()
    client = MlflowClient(tracking_uri=default_tracking_uri(tmp / "out"))
    return tmp, result, client


def test_one_parent_and_a_nested_run_per_candidate(searched):
    _, result, client = searched
    (parent,) = parents(client, "toys")
    assert parent.info.status == "FINISHED" and parent.data.tags["olive.run_id"] == result.run_id
    assert parent.data.params["passes.scale.config.1.factor"] == "0.5" and parent.data.params["passes.round.type"] == "ToyRound"
    assert parent.data.tags["olive.version"] and parent.data.tags["olive.plugin.olive-mlflow"] and parent.data.tags["olive.cpu.flags"]
    assert parent.data.tags["mlflow.note.content"] == "toy search for the olive-mlflow tests"
    assert parent.data.metrics["olive.candidates"] == 4 and parent.data.metrics["olive.steps_cached"] == 2  # the scales, reused
    assert parent.data.metrics["input/size-mb"] == result.input_evaluation.values["size-mb"]
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} >= {"run.json", "report.html", "workflow.json"}
    children = children_of(client, parent)
    assert sorted(children) == [0, 1, 2, 3]
    for candidate in result.candidates:
        child = children[candidate.index]
        assert child.info.status == "FINISHED"
        assert child.data.params["scale.factor"] == str(candidate.point["scale"]["factor"])
        assert child.data.params["round.decimals"] == str(candidate.point["round"]["decimals"])
        assert child.data.params["round.type"] == "ToyRound"
        assert child.data.tags["olive.lineage"] == " > ".join(candidate.lineage)
        for name, measured in candidate.evaluation.values.items():
            assert child.data.metrics[name] == pytest.approx(measured)
    best = children[result.best[0]]
    assert best.data.tags["olive.best"] == "true"
    assert parent.data.metrics["best/similarity-max_abs_error"] == pytest.approx(result.best_candidates[0].evaluation.values["similarity-max_abs_error"])


def test_the_best_model_is_logged_and_registered_with_its_metrics(searched, tmp_path):
    tmp, result, client = searched
    (version,) = client.search_model_versions("name = 'toy-best'")
    best = result.best_candidates[0]
    assert version.run_id == children_of(client, parents(client, "toys")[0])[best.index].info.run_id
    assert float(version.tags["olive.metric.similarity-max_abs_error"]) == pytest.approx(best.evaluation.values["similarity-max_abs_error"])
    downloaded = Path(client.download_artifacts(version.run_id, "model", str(tmp_path)))
    expected = tmp / "out" / "model"
    assert sorted(p.name for p in downloaded.iterdir()) == sorted(p.name for p in expected.iterdir())
    for file in expected.iterdir():
        assert (downloaded / file.name).read_bytes() == file.read_bytes()


def test_secrets_reach_mlflow_as_references_only(searched):
    tmp, _, client = searched
    (parent,) = parents(client, "toys")
    assert parent.data.params["input_model.config.attributes.hf_token"] == "${OLIVE_MLFLOW_TEST_TOKEN}"
    for path in (tmp / "out" / "mlflow").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_failed_candidate_is_a_failed_run_with_its_reason(searched, toy_manager):
    tmp, _, client = searched
    # the same store, another experiment (made here: MLflow would put its artifacts in ./mlruns)
    client.create_experiment("failing", artifact_location=(tmp / "failing-artifacts").as_uri())
    path = toy_search(
        tmp,
        {"experiment": "failing", "tracking_uri": default_tracking_uri(tmp / "out")},
        name="failing.json",
        passes={"flaky": {"type": "ToyFlaky", "config": [{}, {"always_fail": True}]}},
        engine={"output_dir": "out-failing", "cache": {"type": "local", "config": {"dir": "cache"}}},
    )
    result = run(path, manager=toy_manager)
    children = children_of(client, parents(client, "failing")[0])
    assert children[0].info.status == "FINISHED"
    assert children[1].info.status == "FAILED" and "configured to always fail" in children[1].data.tags["olive.error"]
    assert children[1].data.tags["olive.step.flaky"] == "failed" and result.candidates[1].error in children[1].data.tags["olive.error"]


class InterruptAfterSecond:
    olive_plugin_api = "1.0"

    @hookimpl
    def on_candidate_end(self, run_id, candidate, steps):
        if candidate.index == 1:
            raise KeyboardInterrupt


def test_an_interrupted_run_is_resumed_and_cached_work_logged_as_such(tmp_path, toy_manager):
    path = toy_search(tmp_path, {"experiment": "resumed"})
    toy_manager.register(InterruptAfterSecond(), name="interrupt")
    with pytest.raises(KeyboardInterrupt):
        run(path, manager=toy_manager)
    toy_manager.unregister(name="interrupt")
    run(path, manager=toy_manager)
    client = MlflowClient(tracking_uri=default_tracking_uri(tmp_path / "out"))
    interrupted, resumed = parents(client, "resumed")
    assert interrupted.info.status == "KILLED" and len(children_of(client, interrupted)) == 2
    assert resumed.info.status == "FINISHED" and resumed.data.tags["olive.resumed_from"] == interrupted.info.run_id
    assert resumed.data.tags["olive.work"] == "partly cached"
    children = children_of(client, resumed)
    assert [children[i].data.tags["olive.work"] for i in range(4)] == ["cached", "cached", "ran", "partly cached"]
    assert not any(k.startswith("time_s/") for k in children[0].data.metrics)  # no time logged for work not done
    assert children[0].data.tags["olive.evaluation"] == "cached" and children[2].data.metrics["time_s/scale"] >= 0
    run(path, manager=toy_manager)  # a finished workflow run again: all cached, no resume
    again = parents(client, "resumed")[-1]
    assert again.data.tags["olive.work"] == "cached" and "olive.resumed_from" not in again.data.tags
