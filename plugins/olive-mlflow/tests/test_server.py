"""A real ``mlflow server`` on 127.0.0.1: a MiniLM-shaped toy run logged and registered there, and
the server killed mid-run."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from mlflow import MlflowClient

from olive_core.cli.main import cli
from olive_core.engine.api import run
from olive_mlflow.testing import minilm_shaped, toy_search


def test_a_run_logs_to_a_server_and_registers_the_best_model(mlflow_server, toy_manager, tmp_path):
    path = minilm_shaped(tmp_path, {"tracking_uri": mlflow_server.url, "experiment": "minilm-toy", "register_model": "minilm-toy-int8"})
    result = run(path, manager=toy_manager)
    assert result.ok and len(result.candidates) == 3
    client = MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)
    experiment = client.get_experiment_by_name("minilm-toy")
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("olive.kind") == "workflow"]
    children = {r.data.tags["olive.candidate"]: r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id}
    assert parent.info.status == "FINISHED" and sorted(children) == ["1", "2", "3"]
    assert sorted(c.data.params["quantize.decimals"] for c in children.values()) == ["1", "2", "3"]
    (version,) = client.search_model_versions("name = 'minilm-toy-int8'")
    best = result.best_candidates[0]
    assert version.run_id == children[str(best.index + 1)].info.run_id
    assert float(version.tags["olive.metric.similarity-cosine_min"]) == best.evaluation.values["similarity-cosine_min"]
    downloaded = Path(client.download_artifacts(version.run_id, "model", str(tmp_path / "downloaded")))
    expected = tmp_path / "out" / "model"
    assert sorted(p.name for p in downloaded.iterdir()) == sorted(p.name for p in expected.iterdir())
    assert all((downloaded / f.name).read_bytes() == f.read_bytes() for f in expected.iterdir())
    assert any(f.is_file() for f in mlflow_server.artifacts.rglob("weights.json"))  # stored in the server's artifact root


def test_the_server_killed_mid_run_costs_one_warning_and_nothing_else(mlflow_server, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.setenv("OLIVE_PLUGINS", "olive_core.testing.toy,server_killer")
    monkeypatch.setenv("OLIVE_MLFLOW_TEST_SERVER_PID", str(mlflow_server.process.pid))
    monkeypatch.setenv("OLIVE_MLFLOW_TEST_SERVER_DB", mlflow_server.backend_uri.removeprefix("sqlite:///"))
    path = toy_search(tmp_path, {"tracking_uri": mlflow_server.url, "experiment": "killed", "timeout_s": 30})
    result = CliRunner().invoke(cli, ["run", str(path)], catch_exceptions=False)
    assert mlflow_server.process.poll() is not None  # the server is gone
    assert result.exit_code == 0, result.output
    assert result.output.count("is off for the rest of this run") == 1
    assert result.output.lower().count("warning") == 1, result.output
    record = json.loads((tmp_path / "out" / "run.json").read_text())  # olive's own outputs lost nothing
    assert len(record["candidates"]) == 4 and all(c["metrics"] for c in record["candidates"]) and record["best"]
    assert (tmp_path / "out" / "model" / "weights.json").is_file() and (tmp_path / "out" / "report.html").is_file()
    stored = MlflowClient(tracking_uri=mlflow_server.backend_uri)  # the server's own records, read without it
    (parent,) = stored.search_runs([stored.get_experiment_by_name("killed").experiment_id], filter_string="tags.`olive.kind` = 'workflow'")
    assert parent.data.tags["olive.run_id"] == record["run_id"]
    assert parent.data.params["passes.round.config.1.decimals"] == "3"
