"""The olive command, run as a user runs it: a subprocess for start-up, CliRunner for the rest."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from olive_core.cli.main import cli
from olive_core.version import __version__


def test_help_and_version_in_a_real_process():
    result = subprocess.run([sys.executable, "-m", "olive_core", "--help"], capture_output=True, text=True, check=True)
    for command in ("run", "plugins", "passes", "schema", "cache"):
        assert command in result.stdout
    version = subprocess.run([sys.executable, "-m", "olive_core", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"olive-core {__version__}"


def test_run_writes_output_and_prints_where(invoke, write_workflow, tmp_path):
    result = invoke("run", str(write_workflow()))
    assert result.exit_code == 0, result.output
    assert "best model in" in result.output
    assert (tmp_path / "out" / "model" / "model.json").exists()


def test_run_quiet_prints_only_the_output_folder(invoke, write_workflow, tmp_path):
    result = invoke("run", str(write_workflow()), "-q", "-o", str(tmp_path / "q"))
    assert result.exit_code == 0
    assert result.output.strip() == str((tmp_path / "q").resolve())


def test_run_dry_run_runs_nothing(invoke, write_workflow, tmp_path):
    result = invoke("run", str(write_workflow()), "--dry-run")
    assert result.exit_code == 0
    assert "workflow is valid" in result.output and "scale (ToyScale) -> round (ToyRound)" in result.output
    assert not (tmp_path / "out").exists()


def test_user_error_is_one_screen_without_traceback(invoke, write_workflow):
    path = write_workflow(passes={"q": {"type": "ToyRound", "config": {"decimal": 1}}})
    result = invoke("run", str(path))
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert "passes.q.config.decimal: unknown field 'decimal'" in result.output
    assert len(result.output.splitlines()) < 25


def test_debug_shows_the_traceback(monkeypatch, write_workflow):
    monkeypatch.setenv("OLIVE_PLUGINS", "olive_core.testing.toy")
    path = write_workflow(passes={"q": {"type": "ToyRound", "config": {"decimal": 1}}})
    result = CliRunner().invoke(cli, ["run", str(path), "--debug"])
    assert result.exit_code != 0 and result.exception is not None


def test_missing_workflow_file(invoke, tmp_path):
    result = invoke("run", str(tmp_path / "nope.json"))
    assert result.exit_code == 2 and "nope.json' does not exist" in result.output


def test_run_that_produces_no_model_exits_non_zero(invoke, write_workflow):
    result = invoke("run", str(write_workflow(passes={"f": {"type": "ToyFlaky", "config": {"always_fail": True}}})))
    assert result.exit_code == 1
    assert "no model produced" in result.output and "configured to always fail" in result.output


def test_plugins_lists_components_and_json(invoke):
    text = invoke("plugins")
    assert text.exit_code == 0 and "olive-core" in text.output and "ToyScale" in text.output
    data = json.loads(invoke("plugins", "--json").output)
    toy = next(p for p in data["plugins"] if p["name"] == "olive_core.testing.toy")
    assert toy["components"]["pass"] == ["ToyChatty", "ToyFit", "ToyFlaky", "ToyObjective", "ToyOrdered", "ToyRound", "ToyScale"]
    assert data["failures"] == []


def test_passes_lists_and_shows_options(invoke):
    listing = invoke("passes")
    assert "ToyRound" in listing.output and "Round a toy model's weights" in listing.output
    detail = invoke("passes", "ToyRound")
    assert "decimals (int, default 2)" in detail.output
    assert "[searchable: [0, 1, 2, 3], ordered]" in detail.output


def test_passes_shows_a_pass_that_keeps_its_input_type_as_same_as_input(invoke):
    assert "input: toy -> output: same as input" in invoke("passes", "ToyFlaky").output
    assert "input: toy -> output: toy" in invoke("passes", "ToyRound").output


def test_cache_gc_reports_the_bytes_of_a_damaged_entry(invoke, write_workflow, tmp_path):
    cache_dir = tmp_path / "cache"
    invoke("run", str(write_workflow()))
    damaged = next(cache_dir.glob("artifacts/*/*/weights.json"))
    size = damaged.stat().st_size
    damaged.write_text("{")
    gc = invoke("cache", "gc", "--cache-dir", str(cache_dir))
    assert gc.exit_code == 0 and "removed 1 damaged" in gc.output and "freed 0 B" not in gc.output
    assert size > 1 and "freed 1 B" in gc.output  # the damaged file as it is now


def test_passes_unknown_name_suggests(invoke):
    result = invoke("passes", "ToyRond")
    assert result.exit_code == 2 and "did you mean 'ToyRound'?" in result.output


def test_schema_includes_component_options(invoke):
    schema = json.loads(invoke("schema").output)
    step = schema["$defs"]["PassStepConfig"]
    one, several = step["properties"]["type"]["anyOf"]
    assert "ToyRound" in one["enum"] and "ToyRound" in several["items"]["enum"]
    rule = next(r for r in step["allOf"] if r["if"]["properties"]["type"]["const"] == "ToyRound")
    config = rule["then"]["properties"]["config"]["anyOf"][0]
    assert "decimals" in config["properties"] and config["additionalProperties"] is False


def test_schema_validates_a_workflow_file(invoke, write_workflow):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(invoke("schema").output)
    workflow = json.loads(write_workflow().read_text())
    jsonschema.validate(workflow, schema)
    workflow["passes"]["round"]["config"]["decimal"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(workflow, schema)


def test_cache_commands(invoke, write_workflow, tmp_path):
    cache_dir = str(tmp_path / "cache")
    invoke("run", str(write_workflow()))
    listing = invoke("cache", "list", "--cache-dir", cache_dir)
    assert "2 model(s)" in listing.output and "ToyScale" in listing.output
    assert "in " + cache_dir in invoke("cache", "size", "--cache-dir", cache_dir).output
    gc = invoke("cache", "gc", "--cache-dir", cache_dir)
    assert gc.exit_code == 0 and "removed 0 damaged" in gc.output
    cleared = invoke("cache", "clear", "--cache-dir", cache_dir, "--yes")
    assert cleared.exit_code == 0
    assert "0 model(s)" in invoke("cache", "list", "--cache-dir", cache_dir).output


def test_remote_cache_commands_need_a_backend_with_a_remote_tier(invoke, tmp_path):
    for args in (["push"], ["pull"], ["delete", "--all", "--yes"], ["list", "--remote"]):
        result = invoke("cache", *args, "--cache-dir", str(tmp_path / "cache"))
        assert result.exit_code == 2, args
        assert "cache backend 'local' has no remote tier" in result.output and "--workflow" in result.output


def test_cache_commands_open_the_cache_a_workflow_configures(invoke, write_workflow, tmp_path):
    path = write_workflow(engine={"output_dir": "out", "cache": {"type": "local", "config": {"dir": "wf-cache"}}})
    invoke("run", str(path))
    listing = invoke("cache", "list", "--workflow", str(path))
    assert listing.exit_code == 0 and "2 model(s) in " + str(tmp_path / "wf-cache") in listing.output
    assert "0 model(s)" in invoke("cache", "list", "-w", str(path), "--cache-dir", str(tmp_path / "other")).output
    pushed = invoke("cache", "push", "-w", str(path))
    assert pushed.exit_code == 2 and "cache backend 'local' has no remote tier" in pushed.output
