"""``olive cache`` on the azure backend (through --workflow): list --remote, push, pull, delete."""

from __future__ import annotations

import base64

import pytest
from click.testing import CliRunner

from olive_core.cli.main import cli
from olive_core.testing.workflows import TOY
from olive_azure_cache.testing import CONNECTION_ENV


@pytest.fixture
def olive(monkeypatch):
    monkeypatch.setenv("OLIVE_PLUGINS", TOY)  # the workflows use the toy model type
    runner = CliRunner()

    def call(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return call


@pytest.fixture
def workflows(write_workflow, azure_config, tmp_path):
    """A workflow on the local cache only, and the same one with the azure backend on that folder."""
    local = write_workflow({"type": "local", "config": {"dir": "cache"}}, name="local.json")
    azure = write_workflow({"type": "azure", "config": azure_config(dir="cache")}, name="azure.json")
    return local, azure


def test_push_list_pull_delete(olive, workflows, tmp_path):
    local, azure = workflows
    assert olive("run", str(local)).exit_code == 0  # two models, made before the remote existed

    empty = olive("cache", "list", "--remote", "-w", str(azure))
    assert empty.exit_code == 0 and "0 model(s) in azure://devstoreaccount1/" in empty.output

    pushed = olive("cache", "push", "-w", str(azure))
    assert pushed.exit_code == 0, pushed.output
    assert "pushed 2 model(s) and 2 record(s)" in pushed.output and "0 already there" in pushed.output
    again = olive("cache", "push", "-w", str(azure))
    assert "pushed 0 model(s)" in again.output and "2 already there" in again.output

    listing = olive("cache", "list", "--remote", "-w", str(azure))
    assert "2 model(s) in azure://" in listing.output and "ToyScale" in listing.output and "ToyRound" in listing.output
    first_id = listing.output.split()[0]

    elsewhere = str(tmp_path / "elsewhere")
    pulled = olive("cache", "pull", "-w", str(azure), "--cache-dir", elsewhere, first_id)
    assert pulled.exit_code == 0 and "pulled 1 model(s) and 1 record(s)" in pulled.output
    everything = olive("cache", "pull", "-w", str(azure), "--cache-dir", elsewhere)
    assert "pulled 1 model(s)" in everything.output and "1 already there" in everything.output
    assert "2 model(s) in " + elsewhere in olive("cache", "list", "-w", str(azure), "--cache-dir", elsewhere).output

    deleted = olive("cache", "delete", "-w", str(azure), first_id, "--yes")
    assert deleted.exit_code == 0 and "deleted 1 model(s)" in deleted.output
    assert "1 model(s) in azure://" in olive("cache", "list", "--remote", "-w", str(azure)).output
    assert olive("cache", "delete", "-w", str(azure), "--all", "--yes").exit_code == 0
    assert "0 model(s) in azure://" in olive("cache", "list", "--remote", "-w", str(azure)).output
    assert "2 model(s) in" in olive("cache", "list", "-w", str(azure)).output  # the local copies stay


def test_unknown_and_ambiguous_ids_are_errors(olive, workflows):
    local, azure = workflows
    olive("run", str(local))
    olive("cache", "push", "-w", str(azure))
    missing = olive("cache", "pull", "-w", str(azure), "zzzz")
    assert missing.exit_code == 2 and "no model 'zzzz'" in missing.output
    ambiguous = olive("cache", "delete", "-w", str(azure), "", "--yes")
    assert ambiguous.exit_code == 2 and "matches 2 models" in ambiguous.output
    neither = olive("cache", "delete", "-w", str(azure))
    assert neither.exit_code == 2 and "or pass --all" in neither.output


def test_remote_commands_with_wrong_credentials_fail_clearly(olive, workflows, monkeypatch, azurite):
    _, azure = workflows
    wrong_key = base64.b64encode(b"w" * 64).decode()
    monkeypatch.setenv(CONNECTION_ENV, azurite.connection_string(wrong_key))
    result = olive("cache", "list", "--remote", "-w", str(azure))
    assert result.exit_code == 2
    assert result.output.startswith("error: listing azure://") and "403" in result.output
    assert f"hint: check the connection string in ${CONNECTION_ENV}" in result.output
    assert wrong_key not in result.output and "Traceback" not in result.output
