"""The engine end to end on the toy plugin: chains, cache reuse, lineage, retries, output folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from olive_core.engine.api import create_engine, run
from olive_core.models.hashing import derived_model_id, hash_path


def _run_json(result) -> dict:
    return json.loads((result.output_dir / "run.json").read_text())


def test_chain_runs_and_output_folder_is_complete(write_workflow, toy_manager, toy_model, tmp_path):
    result = run(write_workflow(), manager=toy_manager)
    assert result.ok and result.best == [0]
    model_dir = tmp_path / "out" / "model"
    model = json.loads((model_dir / "model.json").read_text())
    assert model["path"] == "weights.json" and model["type"] == "toy"
    weights = json.loads((model_dir / model["path"]).read_text())["weights"]
    assert weights == [[2.5, -5.0], [0.2, 7.5]]  # scaled by 2, rounded to 1 decimal
    assert model["olive"]["lineage"] == result.candidates[0].lineage


def test_run_json_records_config_versions_lineage_and_best(write_workflow, toy_manager, toy_model):
    result = run(write_workflow(), manager=toy_manager)
    record = _run_json(result)
    assert record["workflow"]["passes"]["scale"] == {"type": "ToyScale", "config": {"factor": 2.0}}
    assert record["versions"]["olive-core"] and record["versions"]["plugins"]["olive-core"]
    assert record["input_model"]["id"] == hash_path(toy_model)
    scale_id, round_id = record["candidates"][0]["lineage"]
    assert record["models"][scale_id]["parent_id"] == record["input_model"]["id"]
    assert record["models"][round_id]["parent_id"] == scale_id
    assert record["models"][round_id]["report"] == {"decimals": 1}
    assert record["best"] == [{"candidate": 0, "model_id": round_id, "output": "model"}]


def test_derived_ids_are_full_hashes_of_their_inputs(write_workflow, toy_manager, toy_model):
    result = run(write_workflow(), manager=toy_manager)
    scale_id = result.candidates[0].lineage[0]
    expected = derived_model_id(hash_path(toy_model), "ToyScale", "1", {"factor": 2.0}, "cpu-CPUExecutionProvider")
    assert scale_id == expected and len(scale_id) == 64


def test_second_run_takes_every_step_from_the_cache(write_workflow, toy_manager):
    first = run(write_workflow(), manager=toy_manager)
    assert [r.status for r in first.steps.values()] == ["ran", "ran"]
    second = run(write_workflow(), manager=toy_manager)
    assert [r.status for r in second.steps.values()] == ["cached", "cached"]
    assert second.steps[second.candidates[0].lineage[1]].report == {"decimals": 1}
    assert second.candidates[0].model.id == first.candidates[0].model.id


def test_alternatives_share_their_prefix_through_the_cache(write_workflow, toy_manager, tmp_path):
    path = write_workflow(passes={
        "scale": {"type": "ToyScale", "config": {"factor": 2.0}},
        "round": {"type": "ToyRound", "config": [{"decimals": 0}, {"decimals": 1}, {"decimals": 2}]},
    })
    result = run(path, manager=toy_manager)
    assert len(result.candidates) == 3
    statuses = [result.steps[c.lineage[0]].status for c in result.candidates]
    assert len(set(c.lineage[0] for c in result.candidates)) == 1 and statuses[0] == "ran"
    # no metrics: nothing to rank by, so every candidate is written
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir()) == ["model-1", "model-2", "model-3"]


def test_a_changed_config_reruns_only_the_steps_after_it(write_workflow, toy_manager):
    run(write_workflow(), manager=toy_manager)
    result = run(write_workflow(passes={
        "scale": {"type": "ToyScale", "config": {"factor": 2.0}},
        "round": {"type": "ToyRound", "config": {"decimals": 2}},
    }), manager=toy_manager)
    assert [r.status for r in result.steps.values()] == ["cached", "ran"]


def test_a_failing_pass_is_reported_and_the_run_is_not_ok(write_workflow, toy_manager):
    path = write_workflow(passes={"flaky": {"type": "ToyFlaky", "config": {"always_fail": True}}})
    result = run(path, manager=toy_manager)
    assert not result.ok
    assert result.candidates[0].error == "pass 'flaky' (ToyFlaky) failed: pass 'ToyFlaky' failed: configured to always fail"
    record = _run_json(result)
    assert record["best"] == [] and record["candidates"][0]["error"]
    assert not (result.output_dir / "model").exists()


def test_retries_then_success(write_workflow, toy_manager, tmp_path):
    counter = tmp_path / "attempts"
    engine_section = {"output_dir": "out", "retries": 2, "cache": {"type": "local", "config": {"dir": "cache"}}}
    path = write_workflow(passes={"flaky": {"type": "ToyFlaky", "config": {"fail_times": 2, "counter_file": str(counter)}}}, engine=engine_section)
    result = run(path, manager=toy_manager)
    assert result.ok
    record = next(iter(result.steps.values()))
    assert record.attempts == 3 and not record.used_fallback and counter.read_text() == "3"


def test_fallback_config_after_failures(write_workflow, toy_manager):
    path = write_workflow(passes={"flaky": {"type": "ToyFlaky", "config": {"always_fail": True}, "fallback": {"always_fail": False}}})
    result = run(path, manager=toy_manager)
    assert result.ok
    record = next(iter(result.steps.values()))
    assert record.used_fallback and record.config == {"fail_times": 0, "counter_file": "", "always_fail": False, "sleep_s": 0.0, "needs_data": False, "crash": False}


def test_an_incompatible_model_is_not_retried(write_workflow, toy_manager):
    engine_section = {"output_dir": "out", "retries": 3, "cache": {"type": "local", "config": {"dir": "cache"}}}
    path = write_workflow(passes={"r1": {"type": "ToyRound"}, "r2": {"type": "ToyRound"}}, engine=engine_section)
    result = run(path, manager=toy_manager)
    assert not result.ok
    assert "already rounded" in result.candidates[0].error
    assert result.steps[result.candidates[0].lineage[1]].attempts == 1


def test_a_step_failing_in_one_candidate_does_not_stop_the_others(write_workflow, toy_manager):
    path = write_workflow(passes={"flaky": {"type": "ToyFlaky", "config": [{"always_fail": True}, {"always_fail": False}]}})
    result = run(path, manager=toy_manager)
    assert result.ok and result.best == [1] and not result.candidates[0].ok


def test_no_passes_writes_the_input_model(write_workflow, toy_manager, toy_model, tmp_path):
    result = run(write_workflow(passes={}), manager=toy_manager)
    assert result.ok
    assert (tmp_path / "out" / "model" / "model.json").exists()


def test_dry_run_plans_without_running(write_workflow, toy_manager):
    engine = create_engine(write_workflow(), manager=toy_manager)
    input_model, plans, size = engine.plan()
    assert size == 1 and [s.cached for s in plans[0]] == [False, False]
    assert not engine.output_dir.exists()
    run(write_workflow(), manager=toy_manager)
    _, plans, _ = create_engine(write_workflow(), manager=toy_manager).plan()
    assert [s.cached for s in plans[0]] == [True, True]


def test_a_rerun_replaces_the_output_without_leftovers(write_workflow, toy_manager, tmp_path):
    run(write_workflow(), manager=toy_manager)
    run(write_workflow(), manager=toy_manager)
    entries = list((tmp_path / "out").iterdir())
    assert [p.name for p in entries if p.is_dir()] == ["model"] and {"run.json", "report.html"} <= {p.name for p in entries}
    assert [p.name for p in entries if p.name.startswith(".")] == []  # no staging folder or temporary file


def test_search_with_exhaustive_strategy_covers_the_searchable_fields(write_workflow, toy_manager):
    path = write_workflow(
        passes={"round": {"type": "ToyRound", "config": {"round_bias": True}}},
        search={"strategy": "exhaustive"},
    )
    result = run(path, manager=toy_manager)
    assert sorted(c.point["round"]["decimals"] for c in result.candidates) == [0, 1, 2, 3]
    assert all(c.point["round"]["round_bias"] is True for c in result.candidates)  # written = pinned


def test_search_overrides_narrow_and_pin(write_workflow, toy_manager):
    path = write_workflow(
        passes={"round": {"type": "ToyRound", "search": {"decimals": [1, 3], "round_bias": False}}},
        search={"strategy": "exhaustive", "max_trials": 5},
    )
    result = run(path, manager=toy_manager)
    assert [c.point["round"]["decimals"] for c in result.candidates] == [1, 3]


def test_max_trials_stops_early(write_workflow, toy_manager):
    path = write_workflow(passes={"round": {"type": "ToyRound"}}, search={"strategy": "exhaustive", "max_trials": 3})
    result = run(path, manager=toy_manager)
    assert len(result.candidates) == 3 and result.stopped_early == "reached max_trials=3"


def test_output_dir_and_cache_dir_overrides(write_workflow, toy_manager, tmp_path):
    result = run(write_workflow(), manager=toy_manager, output_dir=tmp_path / "elsewhere", cache_dir=tmp_path / "c2")
    assert result.output_dir == (tmp_path / "elsewhere").resolve()
    assert (tmp_path / "c2" / "artifacts").is_dir()


def test_secrets_never_reach_run_json(write_workflow, toy_manager, monkeypatch):
    monkeypatch.setenv("TOY_PATH_SECRET", "unused")
    workflow = write_workflow(engine={"output_dir": "out", "cache": {"type": "local", "config": {"dir": "${CACHE_DIR:-cache}"}}})
    result = run(workflow, manager=toy_manager)
    text = (result.output_dir / "run.json").read_text()
    assert "${CACHE_DIR:-cache}" in text  # recorded as written, before expansion


@pytest.mark.parametrize("accelerators", [[{"device": "cpu"}], [{"device": "cpu", "provider": "CPUExecutionProvider"}]])
def test_accelerator_enters_the_lineage(write_workflow, toy_manager, accelerators):
    result = run(write_workflow(accelerators=accelerators), manager=toy_manager)
    assert {r.accelerator for r in result.steps.values()} == {"cpu-CPUExecutionProvider"}


def test_python_api_accepts_a_dict(toy_manager, toy_model, tmp_path):
    result = run(
        {"input_model": {"type": "toy", "config": {"model_path": str(toy_model)}}, "passes": {"s": {"type": "ToyScale"}}},
        manager=toy_manager,
        output_dir=tmp_path / "o",
        cache_dir=tmp_path / "c",
    )
    assert result.ok and Path(result.output_dir, "model", "model.json").exists()


def test_packaging_keeps_extra_folders_apart_from_the_model(tmp_path):
    from olive_core.engine.output import write_model
    from olive_core.models.handler import ModelHandler
    from olive_core.testing.toy import ToyModelType

    source = tmp_path / "src"
    (source / "pooling").mkdir(parents=True)
    (source / "pooling" / "config.json").write_text('{"pooling": true}')
    (source / "config.json").write_text('{"model": true}')
    (source / "weights.json").write_text("{}")
    handle = ModelHandler(type="toy", path=str(source / "weights.json"), files=[str(source / "config.json"), str(source / "pooling")])
    packaged = write_model(ToyModelType(), handle, tmp_path / "out" / "model", {})
    out = tmp_path / "out" / "model"
    assert (out / "config.json").read_text() == '{"model": true}'
    assert (out / "pooling" / "config.json").read_text() == '{"pooling": true}'
    assert packaged.path == str(out / "weights.json")
    assert oct((out / "model.json").stat().st_mode & 0o777) == "0o644"


def test_a_killed_run_loses_nothing_and_leaves_nothing_trusted(write_workflow, tmp_path):
    """SIGKILL during a pass: the finished step is reused, the half-written one is recomputed."""
    import os
    import signal
    import subprocess
    import sys
    import time

    slow = write_workflow(passes={"scale": {"type": "ToyScale", "config": {"factor": 2.0}}, "slow": {"type": "ToyFlaky", "config": {"sleep_s": 60}}})
    env = {**os.environ, "OLIVE_PLUGINS": "olive_core.testing.toy"}
    process = subprocess.Popen([sys.executable, "-m", "olive_core", "run", str(slow), "-q"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staging = tmp_path / "cache" / "staging"
    deadline = time.monotonic() + 60
    while not list(staging.glob("*/partial.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert list(staging.glob("*/partial.json")), "the slow pass never started"
    assert not (tmp_path / "out" / "model").exists()

    from olive_core.engine.api import run
    from olive_core.plugins import create_plugin_manager

    quick = write_workflow(passes={"scale": {"type": "ToyScale", "config": {"factor": 2.0}}, "slow": {"type": "ToyFlaky", "config": {"sleep_s": 0}}})
    result = run(quick, manager=create_plugin_manager(extra_plugins=["olive_core.testing.toy"]))
    assert result.ok
    assert [r.status for r in result.steps.values()] == ["cached", "ran"]
    assert not (Path(result.candidates[0].model.path).parent / "partial.json").exists()
    from olive_core.cache.local import LocalCache, LocalCacheConfig

    cache = LocalCache(LocalCacheConfig(dir=str(tmp_path / "cache")))
    assert cache.gc().removed_orphans == 1  # the killed run's staging folder
    assert list(staging.iterdir()) == []
    cache.close()


def test_data_a_pass_reads_enters_its_cache_key(write_workflow, toy_manager, tmp_path):
    """Editing calibration/training data must not reuse a model made from the old data."""
    from olive_core.errors import ConfigError

    data = tmp_path / "train.jsonl"
    data.write_text('{"x": [1.0, 2.0]}\n')
    sections = {
        "data": {"train": {"load": {"type": "jsonl", "config": {"path": str(data)}}}},
        "passes": {"fit": {"type": "ToyFit", "config": {"data": "train"}}},
    }
    first = run(write_workflow(**sections), manager=toy_manager)
    again = run(write_workflow(**sections), manager=toy_manager)
    assert [r.status for r in again.steps.values()] == ["cached"]
    data.write_text('{"x": [3.0, 4.0]}\n')
    changed = run(write_workflow(**sections), manager=toy_manager)
    assert [r.status for r in changed.steps.values()] == ["ran"]
    assert changed.candidates[0].lineage != first.candidates[0].lineage
    with pytest.raises(ConfigError, match=r"passes.fit.config.data: no data named 'tran'"):
        run(write_workflow(**{**sections, "passes": {"fit": {"type": "ToyFit", "config": {"data": "tran"}}}}), manager=toy_manager)


def test_a_pass_reading_data_keeps_its_step_name(write_workflow, toy_manager, tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text('{"x": [1.0, 2.0]}\n')
    result = run(write_workflow(data={"train": {"load": {"type": "jsonl", "config": {"path": str(data)}}}}, passes={"fit": {"type": "ToyFit", "config": {"data": "train"}}}), manager=toy_manager)
    assert list(result.candidates[0].point) == ["fit"] and next(iter(result.steps.values())).step == "fit"


def test_an_output_that_shares_its_input_file_is_cached_with_its_own_copy(write_workflow, toy_manager, toy_model, tmp_path):
    """An attributes-only pass returns its input's path; the cache entry must still hold the model."""
    import os

    steps = {"scale": {"type": "ToyScale", "config": {"factor": 2.0}}, "knobs": {"type": "ToyObjective"}}
    result = run(write_workflow(passes=steps), manager=toy_manager)
    scaled, knobs = (Path(result.steps[model_id].model_id) for model_id in result.candidates[0].lineage)
    cache = tmp_path / "cache" / "artifacts"
    scaled_file = cache / scaled.name[:2] / scaled.name / "weights.json"
    knobs_file = cache / knobs.name[:2] / knobs.name / "weights.json"
    assert knobs_file.read_bytes() == scaled_file.read_bytes()
    # copied, not linked: ONNX refuses external data files with several links
    assert os.stat(knobs_file).st_ino != os.stat(scaled_file).st_ino and os.stat(scaled_file).st_nlink == 1
    assert Path(result.candidates[0].model.path) == knobs_file

    alone = run(write_workflow(name="alone.json", passes={"knobs": {"type": "ToyObjective"}}), manager=toy_manager)
    copied = Path(alone.candidates[0].model.path)
    assert copied.parent.parent.parent == cache and copied.read_bytes() == toy_model.read_bytes()


def test_a_pass_returning_another_type_than_it_declares_fails_clearly(write_workflow, toy_manager, monkeypatch):
    from olive_core.testing.toy import ToyScale

    monkeypatch.setattr(ToyScale, "output_type", "onnx")
    result = run(write_workflow(), manager=toy_manager)
    assert not result.ok
    assert "ToyScale declares 'onnx' outputs but returned a 'toy' model" in result.candidates[0].error


@pytest.mark.parametrize("output_dir", [".", ".."])
def test_an_output_folder_holding_the_workflow_is_refused_before_any_work(write_workflow, toy_manager, tmp_path, output_dir):
    from olive_core.errors import ConfigError

    path = write_workflow(engine={"output_dir": output_dir, "cache": {"type": "local", "config": {"dir": "cache"}}})
    with pytest.raises(ConfigError, match=r"engine.output_dir: the output folder .* holds the workflow's own folder"):
        run(path, manager=toy_manager)
    assert not (tmp_path / "cache" / "artifacts").exists() or not any((tmp_path / "cache" / "artifacts").iterdir())


def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(write_workflow, toy_manager, tmp_path):
    from olive_core.errors import ConfigError

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=r"the output folder '.*a-file/out' cannot be written: '.*a-file' is a file"):
        run(write_workflow(), manager=toy_manager, output_dir=blocker / "out")
    with pytest.raises(ConfigError, match=r"the output folder '/proc/olive-out' cannot be written"):
        run(write_workflow(), manager=toy_manager, output_dir="/proc/olive-out")  # read-only even for root
    assert not any((tmp_path / "cache").glob("artifacts/*/*"))


def test_an_input_model_inside_the_output_folder_is_refused(write_workflow, toy_manager, toy_model, tmp_path):
    from olive_core.errors import ConfigError

    with pytest.raises(ConfigError, match="lies in the output folder"):
        run(write_workflow(), manager=toy_manager, output_dir=toy_model.parent)


def test_a_model_from_the_cache_passes_through_its_type_with_its_parent(write_workflow, toy_manager, monkeypatch):
    """What decides which code runs must come from this run's parent, not from a cache record."""
    from olive_core.testing.toy import ToyModelType

    path = write_workflow()
    run(path, manager=toy_manager)
    seen: list[tuple[str, str]] = []

    def from_cache(self, cached, parent):
        seen.append((cached.id, parent.id))
        return cached.derive(attributes={"checked": True})

    monkeypatch.setattr(ToyModelType, "from_cache", from_cache)
    again = run(path, manager=toy_manager)
    scale, rounded = again.candidates[0].lineage
    assert seen == [(scale, again.input_model.id), (rounded, scale)]
    assert again.candidates[0].model.attributes["checked"] is True
