"""Trackers (``tracking: [{type, config}]``): fed every lifecycle call, never the run's failure."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from olive_core import hookimpl
from olive_core.engine.api import load_workflow, run
from olive_core.errors import ConfigError
from olive_core.testing import TrackerContract
from olive_core.tracking import STOPPED_BY_INTERRUPT

SECRET = "tr4cker-s3cret-value"


@pytest.fixture
def tracked(write_workflow, tmp_path):
    """A toy workflow with two candidates and toy trackers configured by keyword arguments."""

    def write(*trackers: dict, **sections) -> Path:
        entries = [{"type": "toy", "config": {"path": str(tmp_path / f"calls-{i}.jsonl"), **t}} for i, t in enumerate(trackers)]
        sections.setdefault("passes", {"scale": {"type": "ToyScale", "config": [{"factor": 2.0}, {"factor": 3.0}]}})
        return write_workflow(tracking=entries, **sections)

    return write


def calls(tmp_path: Path, index: int = 0) -> list[dict]:
    path = tmp_path / f"calls-{index}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def tracker_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "olive_core.tracking" and r.levelno == logging.WARNING]


def test_a_tracker_gets_every_lifecycle_call_of_its_run_in_order(tracked, toy_manager, tmp_path, caplog):
    result = run(tracked({}), manager=toy_manager)
    assert result.ok
    names = [c["call"] for c in calls(tmp_path)]
    assert names == ["on_workflow_start"] + ["on_pass_start", "on_pass_end", "on_candidate_end"] * 2 + ["on_workflow_end", "close"]
    candidates = [c for c in calls(tmp_path) if c["call"] == "on_candidate_end"]
    assert [(c["index"], c["point"], c["steps"]) for c in candidates] == [(0, {"scale": {"factor": 2.0}}, ["ran"]), (1, {"scale": {"factor": 3.0}}, ["ran"])]
    start = calls(tmp_path)[0]
    assert start["workflow"]["passes"]["scale"]["type"] == "ToyScale" and start["run_id"] == result.run_id
    assert start["cpu"]["logical_cores"] >= 1
    assert calls(tmp_path)[-2] == {"call": "on_workflow_end", "ok": True, "candidates": 2, "best": result.best, "stopped_early": None}
    assert tracker_warnings(caplog) == []
    assert not toy_manager.has_plugin(f"olive-tracking-{result.run_id}")  # registered for its run only


def test_cached_steps_reach_the_tracker_as_cached(tracked, toy_manager, tmp_path):
    run(tracked({}), manager=toy_manager)
    (tmp_path / "calls-0.jsonl").unlink()
    run(tracked({}), manager=toy_manager)
    again = calls(tmp_path)
    assert [c["steps"] for c in again if c["call"] == "on_candidate_end"] == [["cached"], ["cached"]]
    assert [c["cached"] for c in again if c["call"] == "on_pass_end"] == [True, True]
    assert not [c for c in again if c["call"] == "on_pass_start"]  # nothing ran


class Interrupter:
    """Ctrl-C after the first candidate."""

    olive_plugin_api = "1.0"

    @hookimpl
    def on_candidate_end(self, run_id, candidate, steps):
        raise KeyboardInterrupt


def test_a_run_stopped_by_ctrl_c_says_so_to_its_trackers(tracked, toy_manager, tmp_path, caplog):
    toy_manager.register(Interrupter(), name="interrupter")
    with pytest.raises(KeyboardInterrupt):
        run(tracked({}), manager=toy_manager)
    end = calls(tmp_path)[-2]
    assert end["call"] == "on_workflow_end" and end["stopped_early"] == STOPPED_BY_INTERRUPT and end["candidates"] == 1
    assert json.loads((tmp_path / "out" / "run.json").read_text())["stopped_early"] == STOPPED_BY_INTERRUPT
    assert tracker_warnings(caplog) == []


def test_a_failing_tracker_is_one_warning_and_the_run_goes_on(tracked, toy_manager, tmp_path, caplog):
    result = run(tracked({"fail_on": "on_pass_end"}, {}), manager=toy_manager)
    assert result.ok and len(result.candidates) == 2
    assert [c["call"] for c in calls(tmp_path, 0)] == ["on_workflow_start", "on_pass_start", "close"]  # nothing after
    assert len(calls(tmp_path, 1)) == 9  # the other tracker is not affected
    (warning,) = tracker_warnings(caplog)
    assert "tracker 'toy' (tracking.0) is off for the rest of this run: RuntimeError: toy tracker failed in on_pass_end" in warning
    assert json.loads((tmp_path / "out" / "run.json").read_text())["best"]


def test_a_tracker_that_does_not_answer_costs_the_run_its_timeout_only(tracked, toy_manager, tmp_path, caplog):
    # the tracker sleeps an hour in its first call: the run ends anyway, after timeout_s
    result = run(tracked({"hang_on": "on_workflow_start", "hang_s": 3600, "timeout_s": 0.3}), manager=toy_manager)
    assert result.ok and (tmp_path / "out" / "run.json").exists()
    (warning,) = tracker_warnings(caplog)
    assert "tracker 'toy' (tracking.0) is off" in warning and "timeout_s=0.3" in warning
    assert calls(tmp_path) == []


def test_a_tracker_whose_constructor_fails_is_one_warning(tracked, toy_manager, tmp_path, caplog, monkeypatch):
    from olive_core.testing.toy import ToyTracker

    def broken(self, config, context):
        raise ValueError("cannot connect")

    monkeypatch.setattr(ToyTracker, "__init__", broken)
    assert run(tracked({}), manager=toy_manager).ok
    assert tracker_warnings(caplog) == ["tracker 'toy' (tracking.0) is off for the rest of this run: ValueError: cannot connect (the run goes on; run.json records everything)"]


def test_secrets_of_a_tracker_config_are_never_recorded(tracked, toy_manager, tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("TRACKER_TOKEN", SECRET)
    result = run(tracked({"token": "${TRACKER_TOKEN}", "fail_on": "on_candidate_end"}), manager=toy_manager)
    assert result.ok
    (warning,) = tracker_warnings(caplog)
    assert SECRET not in warning and "refused token ${TRACKER_TOKEN}" in warning  # the tracker's own error, scrubbed
    start = calls(tmp_path)[0]
    assert start["workflow"]["tracking"][0]["config"]["token"] == "${TRACKER_TOKEN}"
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path


def test_a_secret_written_in_clear_is_redacted_too(tracked, toy_manager, tmp_path):
    run(tracked({"token": SECRET}), manager=toy_manager)
    assert calls(tmp_path)[0]["workflow"]["tracking"][0]["config"]["token"] == "***"
    assert SECRET not in (tmp_path / "out" / "run.json").read_text()


def test_trials_on_another_executor_still_reach_the_tracker_per_candidate(tracked, toy_manager, tmp_path, monkeypatch):
    monkeypatch.setenv("OLIVE_PLUGINS", "olive_core.testing.toy")  # workers build their own manager
    path = tracked({}, search={"parallel_trials": 2})
    with ThreadPoolExecutor(max_workers=2) as executor:
        result = run(path, manager=toy_manager, executor=executor)
    assert result.ok
    ended = sorted(c["index"] for c in calls(tmp_path) if c["call"] == "on_candidate_end")
    assert ended == [0, 1]  # the pass calls happened in the workers' own managers


def test_an_unknown_tracker_is_a_config_error_naming_the_entry(tracked, toy_manager, tmp_path):
    path = tracked({})
    workflow = json.loads(path.read_text())
    workflow["tracking"].append({"type": "mlfow"})
    path.write_text(json.dumps(workflow))
    with pytest.raises(ConfigError) as exc:
        load_workflow(path, toy_manager)
    assert "tracking.1.type: unknown tracker 'mlfow'" in str(exc.value)


def test_a_bad_tracker_field_is_a_config_error_with_its_path(tracked, toy_manager):
    with pytest.raises(ConfigError) as exc:
        load_workflow(tracked({"timeout_s": -1}), toy_manager)
    assert "tracking.0.config.timeout_s" in str(exc.value)


def test_olive_run_with_a_bad_tracker_exits_2_and_writes_nothing(invoke, tracked, tmp_path):
    result = invoke("run", str(tracked({"colour": "red"})))
    assert result.exit_code == 2 and "tracking.0.config.colour: unknown field 'colour'" in result.output
    assert not (tmp_path / "out").exists()


def test_olive_run_with_a_failing_tracker_exits_0_with_one_warning(invoke, tracked, tmp_path):
    result = invoke("run", str(tracked({"fail_on": "on_workflow_start"})))
    assert result.exit_code == 0, result.output
    assert result.output.count("is off for the rest of this run") == 1
    assert json.loads((tmp_path / "out" / "run.json").read_text())["best"]


class TestToyTrackerMeetsTheContract(TrackerContract):
    tracker_type = "toy"

    @pytest.fixture
    def tracker_config(self, tmp_path):
        return {"path": str(tmp_path / "calls.jsonl")}
