"""Real toy workflows on the azure cache: two machines (two local cache folders) share results."""

from __future__ import annotations

import json

from olive_core.engine.api import run


def _statuses(result) -> list[str]:
    return [result.steps[model_id].status for model_id in result.candidates[0].lineage]


def test_a_second_machine_reuses_the_first_ones_results(write_workflow, azure_config, toy_manager, tmp_path):
    path = write_workflow({"type": "azure", "config": azure_config()})
    first = run(path, manager=toy_manager, cache_dir=tmp_path / "machine-one", output_dir=tmp_path / "out-one")
    assert first.ok and _statuses(first) == ["ran", "ran"]

    second = run(path, manager=toy_manager, cache_dir=tmp_path / "machine-two", output_dir=tmp_path / "out-two")
    assert second.ok and _statuses(second) == ["cached", "cached"]
    assert second.candidates[0].model.id == first.candidates[0].model.id
    assert second.steps[second.candidates[0].lineage[1]].report == {"decimals": 1}  # the step record came along
    one = json.loads((tmp_path / "out-one" / "model" / "weights.json").read_text())
    two = json.loads((tmp_path / "out-two" / "model" / "weights.json").read_text())
    assert one == two


def test_run_json_records_the_variable_name_never_the_secret(write_workflow, azure_config, azurite, toy_manager, tmp_path):
    path = write_workflow({"type": "azure", "config": azure_config(dir="cache")})
    result = run(path, manager=toy_manager)
    text = (result.output_dir / "run.json").read_text()
    assert azurite.connection_string() not in text
    assert "AccountKey" not in text and "Eby8vdM02x" not in text
    assert json.loads(text)["workflow"]["engine"]["cache"]["config"]["container"]
    assert (tmp_path / "cache" / "artifacts").is_dir()  # the workflow's relative dir is the local tier
