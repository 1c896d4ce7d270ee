"""Values from ${VAR} and secret fields never reach run.json, model.json, the cache, logs or hooks."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from olive_core import hookimpl
from olive_core.cli.main import cli
from olive_core.engine.api import load_workflow, run
from olive_core.errors import ConfigError
from olive_core.redaction import REDACTED, Redactor, is_secret_key

TOKEN = "hf_tokenvalue_7f3a9c"
NOTE = "note-value-5b2e81"


@pytest.mark.parametrize(
    "key", ["token", "hf_token", "use_auth_token", "password", "api_key", "apiKey", "AccountKey", "connection_string", "sas", "client_secret", "credentials"]
)
def test_names_of_secret_fields(key):
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key", ["tokenizer", "max_tokens", "pad_token", "bos_token", "token_type_ids", "connection_string_env", "secret_name", "path", "keys"]
)
def test_names_that_are_not_secrets(key):
    assert not is_secret_key(key)


def test_values_from_variables_become_their_reference_wherever_they_appear():
    redact = Redactor()
    redact.remember("HF_TOKEN", TOKEN)
    redact.remember("DEVICE", "cpu")
    assert redact.text(TOKEN) == "${HF_TOKEN}"
    assert redact.text(f"https://x/?t={TOKEN}&a=1") == "https://x/?t=${HF_TOKEN}&a=1"
    assert redact.text("cpu") == "${DEVICE}"
    assert redact.text("cpu-CPUExecutionProvider") == "cpu-CPUExecutionProvider"  # short values: whole texts only
    data = {"a": [TOKEN, {"b": f"x{TOKEN}"}], "n": 3, "flag": True}
    assert redact(data) == {"a": ["${HF_TOKEN}", {"b": "x${HF_TOKEN}"}], "n": 3, "flag": True}


def test_secret_fields_written_in_clear_are_masked_and_references_kept():
    raw = {"config": {"connection_string": "AccountKey=abc", "sas_token": "${SAS}", "dir": "x", "connection_string_env": "AZ_CONN"}}
    assert Redactor()(raw)["config"] == {
        "connection_string": REDACTED,
        "sas_token": "${SAS}",
        "dir": "x",
        "connection_string_env": "AZ_CONN",
    }
    assert Redactor()({"api_key": 1234, "use_auth_token": True, "token": None}) == {"api_key": REDACTED, "use_auth_token": True, "token": None}


def test_scrubbing_logs_only_while_guarding(caplog):
    redact = Redactor()
    redact.remember("HF_TOKEN", TOKEN)
    logger = logging.getLogger("olive_core.test")
    with caplog.at_level(logging.WARNING), redact.guarding_logs():
        logger.warning("loading with %s", TOKEN)
    assert TOKEN not in caplog.text and "${HF_TOKEN}" in caplog.text


# -- a whole run --------------------------------------------------------------------------------


class HookRecorder:
    """Records every lifecycle hook's arguments as JSON text, the way a tracker would log them."""

    olive_plugin_api = "1.0"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def _keep(self, **kwargs: Any) -> None:
        self.texts.append(json.dumps(kwargs, default=lambda o: o.model_dump() if hasattr(o, "model_dump") else repr(o)))

    @hookimpl
    def on_workflow_start(self, run_id, workflow):
        self._keep(workflow=workflow)

    @hookimpl
    def on_pass_start(self, run_id, step, pass_type, model, config):
        self._keep(model=model, config=config)

    @hookimpl
    def on_pass_end(self, run_id, step, pass_type, model, error, cached):
        self._keep(model=model, error=error)

    @hookimpl
    def on_evaluation_end(self, run_id, model, metrics):
        self._keep(model=model)

    @hookimpl
    def on_workflow_end(self, run_id, result):
        self._keep(candidates=[(c.point, c.error, c.model) for c in result.candidates], input=result.input_model)


@pytest.fixture
def secrets_workflow(write_workflow, tmp_path, monkeypatch):
    """A workflow whose input model carries a token and whose pass options come from variables;
    one candidate fails with an error quoting a variable's value."""
    counter_dir = tmp_path / f"counter-{NOTE}"
    counter_dir.mkdir()
    monkeypatch.setenv("TOY_TOKEN", TOKEN)
    monkeypatch.setenv("TOY_NOTE", NOTE)
    monkeypatch.setenv("TOY_COUNTER", str(counter_dir / "count"))
    monkeypatch.setenv("TOY_MISSING", str(tmp_path / f"missing-{NOTE}" / "count"))
    model = json.loads(write_workflow().read_text())["input_model"]
    model["config"]["attributes"] = {"load_kwargs": {"token": "${TOY_TOKEN}"}, "note": "${TOY_NOTE}"}
    return write_workflow(
        input_model=model,
        passes={"flaky": {"type": "ToyFlaky", "config": [{"counter_file": "${TOY_COUNTER}"}, {"counter_file": "${TOY_MISSING}"}]}},
        metrics=[{"name": "size", "type": "size"}],
    )


def _leaks(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and (TOKEN.encode() in p.read_bytes() or NOTE.encode() in p.read_bytes())]


def test_no_value_from_a_variable_reaches_outputs_cache_logs_or_hooks(secrets_workflow, toy_manager, tmp_path, caplog):
    recorder = HookRecorder()
    toy_manager.register(recorder, name="recorder")
    with caplog.at_level(logging.DEBUG):
        result = run(secrets_workflow, manager=toy_manager)
    assert result.ok and any(c.error for c in result.candidates)  # the second alternative failed
    assert NOTE in result.candidates[1].error  # the caller's own result keeps the real values
    output, cache = tmp_path / "out", tmp_path / "cache"
    assert (output / "model" / "model.json").is_file()
    assert _leaks(output) == [] and _leaks(cache) == []
    run_json = json.loads((output / "run.json").read_text())
    assert run_json["input_model"]["attributes"] == {"load_kwargs": {"token": "${TOY_TOKEN}"}, "note": "${TOY_NOTE}"}
    assert "${TOY_MISSING}" in run_json["candidates"][1]["error"]
    assert TOKEN not in caplog.text and NOTE not in caplog.text
    assert recorder.texts and not any(TOKEN in text or NOTE in text for text in recorder.texts)


def test_the_cli_prints_no_value_from_a_variable(secrets_workflow, monkeypatch):
    monkeypatch.setenv("OLIVE_PLUGINS", "olive_core.testing.toy")
    outcome = CliRunner().invoke(cli, ["run", str(secrets_workflow)])
    assert outcome.exit_code == 0, outcome.output
    assert NOTE not in outcome.output and TOKEN not in outcome.output


def test_a_validation_error_does_not_quote_a_variable(write_workflow, toy_manager, monkeypatch):
    monkeypatch.setenv("TOY_DECIMALS", NOTE)
    path = write_workflow(passes={"round": {"type": "ToyRound", "config": {"decimals": "${TOY_DECIMALS}"}}})
    with pytest.raises(ConfigError) as error:
        load_workflow(path, toy_manager)
    assert "passes.round.config.decimals" in str(error.value) and NOTE not in str(error.value)


def test_clear_values_of_secret_fields_are_scrubbed_from_texts_too():
    """What a library prints (run.log) is text: a secret field's clear value is found there too."""
    redact = Redactor()
    redact.remember("HF_TOKEN", TOKEN)
    redact.remember_secrets({"a": {"password": "hunter2-long", "sas_token": "${SAS}", "hf_token": TOKEN}, "b": [{"api_key": "k-123456"}]})
    assert redact.text("login with hunter2-long") == "login with ***"
    assert redact.text("key k-123456 sent") == "key *** sent"
    assert redact.text(f"t={TOKEN}") == "t=${HF_TOKEN}"  # a variable's value keeps its reference
    assert redact.text("${SAS}") == "${SAS}" and redact({"password": "hunter2-long"}) == {"password": REDACTED}
