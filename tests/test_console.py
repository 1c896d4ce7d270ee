"""What ``olive run`` prints: progress with counts and times, full metric names without a
terminal, a table that fits one, and a --dry-run that says what sets candidates apart."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from olive_core.cli.progress import Progress, format_against, format_duration
from olive_core.cli.report import ValueNames, describe_point, flatten_point, varying_options
from olive_core.engine.events import TrialDone, TrialPlan, planned_trials
from olive_core.engine.result import CandidateResult, StepRecord
from olive_core.evaluation.goals import GoalResult
from olive_core.evaluation.result import Evaluation

ANSI = re.compile(r"\x1b\[")
#: five knob settings of ToyObjective, scored by the metric named below (long, as real ones are)
KNOBS = [{"a": 0.0, "b": 0}, {"a": 1.0, "b": 1}, {"a": 1.5, "b": 2}, {"a": 1.5, "b": 3, "c": True}, {"a": -2.0, "b": 4}, {"a": 3.0, "b": 3}, {"a": 1.0, "b": 3}]
LONG = "accuracy_on_validation"


@pytest.fixture
def knob_workflow(write_workflow):
    def write(knobs=KNOBS, **sections):
        return write_workflow(
            passes={"knobs": {"type": "ToyObjective", "config": knobs}},
            metrics=[{"name": LONG, "type": "toy_objective", "goals": {"loss": {"threshold": 3.0}}}],
            search={"objectives": [{"metric": f"{LONG}-loss"}]},
            **sections,
        )

    return write


def _olive(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OLIVE_PLUGINS": "olive_core.testing.toy"}
    return subprocess.run([sys.executable, "-m", "olive_core", *args], check=False, capture_output=True, text=True, env=env, cwd=cwd)


# -- progress ------------------------------------------------------------------------------------


def test_progress_counts_trials_and_gives_each_its_key_metrics(invoke, knob_workflow):
    result = invoke("run", str(knob_workflow(KNOBS[:3])))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "3 trials planned" in out
    assert re.search(r"trial 1 of 3 started \([\d.]+s elapsed, estimating time left\)", out)
    assert re.search(r"trial 2 of 3 started \([\d.]+s elapsed, about [\d.]+s left\)", out)
    assert "  knobs: running" in out and "  evaluating" in out
    assert re.search(rf"trial 1 of 3 done in [\d.]+s: {LONG}-loss 13.25 \(goal <= 3: missed\)", out)
    assert re.search(rf"trial 2 of 3 done in [\d.]+s: {LONG}-loss 6.25 \(goal <= 3: missed\)", out)
    assert re.search(rf"trial 3 of 3 done in [\d.]+s: {LONG}-loss 3 \(goal <= 3: met\)", out)


def test_cached_steps_are_marked(invoke, knob_workflow):
    path = knob_workflow(KNOBS[:2])
    invoke("run", str(path))
    out = invoke("run", str(path)).output
    assert "  knobs: from cache" in out and "trial 2 of 2 done in" in out and "(all steps from cache)" in out


def test_a_failed_trial_says_why(invoke, write_workflow):
    out = invoke("run", str(write_workflow(passes={"scale": {"type": "ToyScale"}, "f": {"type": "ToyFlaky", "config": {"always_fail": True}}}))).output
    assert re.search(r"trial 1 of 1 failed after [\d.]+s: pass 'f' \(ToyFlaky\) failed: .*configured to always fail", out)


def test_a_space_with_ranges_counts_to_max_trials(invoke, write_workflow):
    path = write_workflow(passes={"scale": {"type": "ToyScale", "config": {}}}, search={"strategy": "random", "max_trials": 3})
    out = invoke("run", str(path)).output
    assert "3 trials planned" in out and "trial 3 of 3 done" in out and "trial 4" not in out


def test_the_estimate_comes_from_the_pace_of_finished_trials():
    clock = [0.0]
    console = _PlainConsole()
    progress = Progress(console.console, clock=lambda: clock[0])
    progress.event("trials_planned", TrialPlan(total=5, accelerator="cpu", objectives=["m-loss"]))
    progress.event("trial_started", 0)
    assert "estimating time left" in progress.status()
    clock[0] = 30.0
    progress.event("step_started", "quantize")
    assert progress.status() == "trial 1 of 5: quantize (30.0s elapsed, estimating time left)"
    clock[0] = 60.0
    progress.event("trial_done", _done(0, seconds=60.0))
    progress.event("trial_started", 1)
    assert progress.status() == "trial 2 of 5: starting (1:00 elapsed, about 4:00 left)"  # 4 more at 60 s each
    clock[0] = 90.0
    progress.event("trial_done", _done(1, seconds=30.0, cached=True))
    assert "about 2:15 left" in progress.status()  # 3 more at 45 s each
    lines = console.text().splitlines()
    assert lines[0] == "5 trials planned"
    assert "trial 1 of 5 done in 1:00: m-loss 0.5 (goal <= 1: met)" in lines
    assert "trial 2 of 5 done in 30.0s (all steps from cache): m-loss 0.5 (goal <= 1: met)" in lines


def test_a_time_limit_bounds_the_estimate():
    clock = [0.0]
    progress = Progress(_PlainConsole().console, clock=lambda: clock[0])
    progress.event("trials_planned", TrialPlan(total=None, accelerator="cpu", max_time_s=100.0))
    progress.event("trial_started", 0)
    clock[0] = 10.0
    progress.event("trial_done", _done(0, seconds=10.0))
    progress.event("trial_started", 1)
    assert progress.status() == "trial 2: starting (10.0s elapsed, about 1:30 left)"


def test_planned_trials_take_the_smallest_bound_per_accelerator():
    assert planned_trials(162, None, 1) == 162
    assert planned_trials(162, 10, 2) == 20
    assert planned_trials(None, 7, 1) == 7
    assert planned_trials(None, None, 3) is None
    assert format_duration(59.94) == "59.9s" and format_duration(3725) == "1:02:05"


# -- the table with and without a terminal -------------------------------------------------------


def test_without_a_terminal_lines_are_plain_and_names_whole(knob_workflow, tmp_path):
    done = _olive("run", str(knob_workflow()), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout + done.stderr
    assert not ANSI.search(text) and "\u2026" not in text and "\r" not in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert [row.split("|")[1].strip() for row in rows[1:]] == [f"{LONG}-loss", f"{LONG}-quality"]
    assert len(rows[0].split("|")) - 2 == 2 + 6  # metric, input, six candidates: nothing dropped to fit
    assert "trial 7 of 7 done" in text and "(1 more candidate(s) in run.json)" in text


def test_on_a_terminal_the_table_fits_and_no_name_is_cut(knob_workflow, tmp_path):
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))  # 60 columns
    env = {**os.environ, "OLIVE_PLUGINS": "olive_core.testing.toy", "TERM": "xterm"}
    env.pop("COLUMNS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "olive_core", "run", str(knob_workflow())], stdin=secondary, stdout=secondary, stderr=secondary, env=env, cwd=tmp_path
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait() == 0
    os.close(primary)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert ANSI.search(text)  # a terminal gets colours and a live status line
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert "\u2026" not in plain
    assert f"{LONG}-loss" in plain and f"{LONG}-quality" in plain
    table = [line for line in plain.splitlines() if line.startswith(("\u2503", "\u2502"))]
    assert table and max(len(line) for line in table) <= 60
    assert "more candidate(s) in run.json" in plain


# -- what sets candidates apart ----------------------------------------------------------------


def test_dry_run_shows_what_differs_and_what_is_cached(invoke, write_workflow):
    path = write_workflow(
        passes={
            "scale": {"type": "ToyScale", "config": {"factor": 2.0}},
            "round": {"type": "ToyRound", "config": [{"decimals": 0}, {"decimals": 1}, {"decimals": 2, "round_bias": False}]},
        }
    )
    before = invoke("run", str(path), "--dry-run").output
    assert "steps: scale (ToyScale) -> round (ToyRound)" in before
    assert "candidates: 3, differing in:" in before
    assert "  round: decimals (0, 1, 2); round_bias (True, False)" in before
    candidates = [line for line in before.splitlines() if re.match(r"  \d\. ", line)]
    assert candidates == [
        "  1. scale -> round [decimals=0, round_bias=True]",
        "  2. scale -> round [decimals=1, round_bias=True]",
        "  3. scale -> round [decimals=2, round_bias=False]",
    ]
    assert "cached: nothing yet" in before
    invoke("run", str(path))
    after = invoke("run", str(path), "--dry-run").output
    assert "cached: scale (all), round (all); 3 of 3 candidate(s) entirely" in after
    assert "  1. scale (cached) -> round [decimals=0, round_bias=True] (cached)" in after


def test_dry_run_shows_skipped_optional_steps(invoke, write_workflow):
    path = write_workflow(passes={"scale": {"type": "ToyScale", "config": {"factor": 2.0}, "optional": True}, "round": {"type": "ToyRound"}})
    out = invoke("run", str(path), "--dry-run").output
    assert "  scale: run or skipped" in out
    assert "  1. scale -> round" in out and "  2. round; skips scale" in out


def test_long_values_are_abbreviated_uniquely():
    six = [f"/model/layer.{i}/MatMul" for i in range(6)]
    other_six = [f"/model/layer.{i}/Add" for i in range(6)]
    points = [{"q": {"exclude": []}}, {"q": {"exclude": six}}, {"q": {"exclude": other_six}}, {"q": {"exclude": ["a"]}}]
    varying = varying_options(points)
    names = ValueNames(points, varying)
    shown = [names("q", "exclude", point["q"]["exclude"]) for point in points]
    assert shown[0] == "[]" and shown[3] == '["a"]'
    assert shown[1].startswith("[6 items]#") and shown[2].startswith("[6 items]#") and shown[1] != shown[2]


def test_what_differs_inside_an_object_option_is_named_by_its_key():
    """exclude {most_sensitive, measure, op_types, ...}: the K that differs is shown, not '{6 keys}'."""
    exclude = {"measure": "one_at_a_time", "op_types": [], "first_layers": 0, "last_layers": 0, "nodes": []}
    points = [flatten_point({"q": {"exclude": {**exclude, "most_sensitive": k}, "per_channel": True}}) for k in (0, 2)]
    varying = varying_options(points)
    assert varying == {"q": ["exclude.most_sensitive"]}
    names = ValueNames(points, varying)
    assert [describe_point(point, varying, names) for point in points] == ["q: exclude.most_sensitive=0", "q: exclude.most_sensitive=2"]


def test_a_value_next_to_its_goal_shows_the_digits_that_set_it_apart():
    assert format_against(0.989996, 0.99) == "0.989996"  # at 4 or 5 digits it would read "0.99"
    assert format_against(0.99, 0.99) == "0.99"
    assert format_against(0.99314, 0.99) == "0.9931"


# -- helpers -------------------------------------------------------------------------------------


class _PlainConsole:
    def __init__(self) -> None:
        from olive_core.cli.console import make_console

        self.stream = io.StringIO()
        self.console = make_console(self.stream)

    def text(self) -> str:
        return self.stream.getvalue()


def _done(index: int, seconds: float, cached: bool = False) -> TrialDone:
    evaluation = Evaluation(values={"m-loss": 0.5}, directions={"m-loss": "min"}, goals={"m-loss": GoalResult(met=True, target=1.0, missed_by=0.0)})
    from olive_core.models.handler import ModelHandler

    candidate = CandidateResult(index=index, accelerator="cpu", point={}, model=ModelHandler(type="toy", path="x"), evaluation=evaluation)
    record = StepRecord(model_id="m", parent_id="p", step="s", pass_type="T", pass_version="1", config={}, accelerator="cpu", status="cached" if cached else "ran")
    return TrialDone(candidate, [record], seconds)
