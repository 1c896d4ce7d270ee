"""The run's log: what libraries print during ``olive run`` goes to <output>/run.log, not the console.

The toy pass ToyChatty prints the way libraries do: ``print``, a progress bar redrawn with
carriage returns, a third-party logger's warning, and raw writes to descriptors 1 and 2.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from olive_core.cli.capture import capture_output
from olive_core.cli.main import cli
from olive_core.engine.api import run
from olive_core.engine.runlog import LOG_FILE

SECRET_TEXT = "chatty-secret-4d1f9a"
CLEAR_TOKEN = "clear-token-8c2e71"
LIBRARY_LINES = ("print: ", "loading: 100%", "toylib warning: ", "fd1: ", "fd2: ")


@pytest.fixture
def chatty_workflow(write_workflow, toy_model):
    def write(**config):
        return write_workflow(
            input_model={"type": "toy", "config": {"model_path": str(toy_model), "attributes": {"hf_token": CLEAR_TOKEN}}},
            passes={"talk": {"type": "ToyChatty", "config": {"text": "hello", **config}}},
        )

    return write


def _olive(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``olive`` in a real process, its output piped (no terminal)."""
    environment = {**os.environ, "OLIVE_PLUGINS": "olive_core.testing.toy", **(env or {})}
    return subprocess.run([sys.executable, "-m", "olive_core", *args], check=False, capture_output=True, text=True, env=environment, cwd=cwd)


def test_library_output_goes_to_the_log_run_json_names(chatty_workflow, tmp_path):
    done = _olive("run", str(chatty_workflow()))
    assert done.returncode == 0, done.stderr
    console = done.stdout + done.stderr
    for line in LIBRARY_LINES:
        assert line not in console
    assert "trial 1 of 1 done" in console and f"goes to {tmp_path / 'out' / LOG_FILE}" in console
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["log"] == LOG_FILE
    log = (tmp_path / "out" / LOG_FILE).read_text()
    assert record["run_id"] in log.splitlines()[0]
    for line in LIBRARY_LINES:
        assert line + ("hello" if line.endswith(": ") else "") in log
    assert "loading: 0%" not in log  # a bar redrawn in place: its last state only
    lines = log.splitlines()
    running = next(i for i, text in enumerate(lines) if "talk (ToyChatty): running" in text)
    finished = next(i for i, text in enumerate(lines) if "talk (ToyChatty): done" in text)
    assert running < lines.index("fd1: hello") < finished  # in the order it happened
    assert not [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_debug_shows_library_output_live_instead(chatty_workflow, tmp_path):
    done = _olive("run", str(chatty_workflow()), "--debug")
    assert done.returncode == 0, done.stderr
    assert "fd1: hello" in done.stdout and "print: hello" in done.stdout
    assert "fd2: hello" in done.stderr and "toylib warning: hello" in done.stderr
    log = (tmp_path / "out" / LOG_FILE).read_text()
    assert "fd1: hello" not in log and "talk (ToyChatty): running" in log  # log records are still kept


def test_the_log_never_holds_a_variables_value_or_a_secret_fields_value(chatty_workflow, tmp_path):
    path = chatty_workflow(text="${CHATTY_TEXT}", print_attributes=True)
    done = _olive("run", str(path), env={"CHATTY_TEXT": SECRET_TEXT})
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "out" / LOG_FILE).read_text()
    assert "fd1: ${CHATTY_TEXT}" in log and "toylib warning: ${CHATTY_TEXT}" in log
    assert "attributes: {'hf_token': '***'}" in log
    for where in (log, done.stdout + done.stderr, (tmp_path / "out" / "run.json").read_text()):
        assert SECRET_TEXT not in where and CLEAR_TOKEN not in where


def test_olive_warnings_still_reach_the_console_and_libraries_records_do_not(invoke, write_workflow, tmp_path):
    counter = tmp_path / "count"
    path = write_workflow(
        passes={
            "talk": {"type": "ToyChatty"},
            "f": {"type": "ToyFlaky", "config": {"always_fail": True}, "fallback": {"counter_file": str(counter)}},
        }
    )
    result = invoke("run", str(path))
    assert result.exit_code == 0, result.output
    assert "warning: f: retrying with the fallback config after:" in result.output
    assert "toylib" not in result.output
    assert "toylib warning: hello from a library" in (tmp_path / "out" / LOG_FILE).read_text()


def test_an_error_during_the_run_reaches_the_console_and_leaves_no_folder(invoke, write_workflow, toy_model, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("not json")
    result = invoke("run", str(write_workflow(input_model={"type": "toy", "config": {"model_path": str(broken)}})))
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith("error: ") and "is not a toy model" in result.output
    assert not (tmp_path / "out").exists()


def test_trials_in_worker_processes_are_captured_too(write_workflow, tmp_path):
    path = write_workflow(
        passes={"talk": {"type": "ToyChatty", "config": [{"text": "one"}, {"text": "two"}]}},
        search={"parallel_trials": 2},
    )
    done = _olive("run", str(path))
    assert done.returncode == 0, done.stderr
    assert "fd1:" not in done.stderr + done.stdout
    assert "trial 1 of 2 done" in done.stderr and "trial 2 of 2 done" in done.stderr
    log = (tmp_path / "out" / LOG_FILE).read_text()
    assert "fd1: one" in log and "fd2: two" in log


SLOW_CLOSING_CACHE = """
from olive_core import hookimpl
from olive_core.cache.local import LocalCache

olive_plugin_api = "1.0"


class SlowClosingCache(LocalCache):
    def close(self):
        self.report_progress("waiting for 1 upload")
        super().close()


@hookimpl
def register_cache_backends(register):
    register("slow_closing", SlowClosingCache)
"""


def test_a_cache_waiting_as_it_closes_after_the_run_is_still_shown(write_workflow, tmp_path):
    (tmp_path / "slow_closing.py").write_text(SLOW_CLOSING_CACHE)
    path = write_workflow(engine={"output_dir": "out", "cache": {"type": "slow_closing", "config": {"dir": "cache"}}})
    done = _olive("run", str(path), env={"OLIVE_PLUGINS": "olive_core.testing.toy,slow_closing", "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "waiting for 1 upload" in done.stderr and "Traceback" not in done.stderr


def test_the_python_api_writes_the_log_of_its_records(write_workflow, toy_manager, tmp_path):
    result = run(write_workflow(), manager=toy_manager)
    log = (tmp_path / "out" / LOG_FILE).read_text()
    assert result.run_id in log and "scale (ToyScale): running" in log and "trial 1 done" in log
    assert json.loads((tmp_path / "out" / "run.json").read_text())["log"] == LOG_FILE


def _wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_killed_run_leaves_a_run_json_and_a_log_of_the_same_run(write_workflow, tmp_path):
    """Killed before its first trial ends: the previous run's pair stays; after it: the new pair."""
    out = tmp_path / "out"
    first = _olive("run", str(write_workflow()))
    assert first.returncode == 0, first.stderr
    previous = json.loads((out / "run.json").read_text())["run_id"]

    slow = write_workflow(
        "slow.json",
        passes={"f": {"type": "ToyFlaky", "config": [{"sleep_s": 0.0}, {"sleep_s": 60.0}]}},
    )
    env = {**os.environ, "OLIVE_PLUGINS": "olive_core.testing.toy"}
    process = subprocess.Popen(
        [sys.executable, "-m", "olive_core", "run", str(slow)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for(lambda: json.loads((out / "run.json").read_text())["run_id"] != previous)
        _wait_for(lambda: list((tmp_path / "cache" / "staging").glob("*/partial.json")))  # the 60 s trial runs
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    record = json.loads((out / "run.json").read_text())
    log = (out / LOG_FILE).read_text()
    assert record["log"] == LOG_FILE and record["run_id"] in log.splitlines()[0] and previous not in log
    assert "trial 2 started" in log  # the log goes on past the run.json that names it

    slower = write_workflow("slower.json", passes={"f": {"type": "ToyFlaky", "config": {"sleep_s": 60.0}}})
    process = subprocess.Popen(
        [sys.executable, "-m", "olive_core", "run", str(slower)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def new_run_at_work() -> bool:
        live = [p for p in out.glob(".run.log.*") if record["run_id"] not in p.name]
        return bool(live) and "f (ToyFlaky): running" in live[0].read_text()

    try:
        _wait_for(new_run_at_work)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert json.loads((out / "run.json").read_text())["run_id"] == record["run_id"]  # no trial ended: the pair stands
    assert (out / LOG_FILE).read_text().splitlines()[0] == log.splitlines()[0]

    done = _olive("run", str(write_workflow()))
    assert done.returncode == 0, done.stderr
    assert not list(out.glob(".run.log.*"))  # what the killed runs left is cleared


def test_capture_sends_lines_to_the_sink_and_gives_the_terminal_back(capfd):
    lines: list[str] = []
    with capture_output(lines.append) as terminal:
        print("python print")
        os.write(1, b"raw fd1\n")
        os.write(2, b"raw fd2 without newline")
        sys.stderr.write("\r 10%\r 90%\r100%\n")
        import ctypes

        ctypes.CDLL(None).printf(b"printf from C\n")
        terminal.stderr.write("olive's own line\n")
        terminal.drain()
        assert "raw fd1" in lines  # handed over on demand, before the block ends
    print("after the capture")
    assert lines == ["python print", "raw fd1", "100%", "printf from C"]  # a redrawn bar: its last state
    out, err = capfd.readouterr()
    assert "olive's own line" in err and "after the capture" in out
    assert "raw fd1" not in out + err and "printf from C" not in out + err


def test_capture_is_off_with_debug(capfd):
    lines: list[str] = []
    with capture_output(lines.append, enabled=False):
        os.write(1, b"shown\n")
    assert lines == [] and "shown" in capfd.readouterr().out


def test_under_the_cli_runner_olive_lines_reach_it_and_library_output_the_log(invoke, chatty_workflow, tmp_path):
    """Under CliRunner (no descriptors behind sys.stdout), olive's lines still reach the runner."""
    result = invoke("run", str(chatty_workflow()))
    assert result.exit_code == 0
    assert "trial 1 of 1 started" in result.output and "done:" in result.output
    assert "fd1: hello" in (tmp_path / "out" / LOG_FILE).read_text()


def test_debug_in_the_cli_runner_does_not_capture(monkeypatch, chatty_workflow, capfd, tmp_path):
    monkeypatch.setenv("OLIVE_PLUGINS", "olive_core.testing.toy")
    result = CliRunner().invoke(cli, ["run", str(chatty_workflow()), "--debug"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "fd1: hello" in capfd.readouterr().out
