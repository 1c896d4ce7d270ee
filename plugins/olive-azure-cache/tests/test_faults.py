"""Remote trouble never costs a run: the server stopping mid-run, a damaged blob, wrong
credentials, an unreachable endpoint; and secrets stay out of every message and log."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, unquote

from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

from olive_core import hookimpl
from olive_core.engine.api import run
from olive_core.plugins import create_plugin_manager
from olive_core.testing.workflows import TOY
from olive_azure_cache.testing import ACCOUNT, ACCOUNT_KEY, CONNECTION_ENV, Azurite


def _statuses(result) -> list[str]:
    return [result.steps[model_id].status for model_id in result.candidates[0].lineage]


def _pending(cache_dir: Path) -> list[Path]:
    return list((cache_dir / "remote-pending").rglob("*.json"))


def _shared_models(server: Azurite, container: str) -> set[str]:
    return {Path(b.name).stem for b in server.container(container).list_blobs(name_starts_with="manifests/")}


class StopServerAfterStep:
    """An observer plugin that stops the emulator once a given step has run."""

    def __init__(self, server: Azurite, step: str) -> None:
        self.server, self.step = server, step

    @hookimpl
    def on_pass_end(self, step: str) -> None:
        if step == self.step and self.server.process is not None:
            self.server.stop()


def test_server_stopping_mid_run_loses_nothing(private_azurite, azure_config, container_name, write_workflow, toy_manager, tmp_path, caplog):
    path = write_workflow({"type": "azure", "config": azure_config(private_azurite)})
    toy_manager.register(StopServerAfterStep(private_azurite, "scale"))
    with caplog.at_level(logging.WARNING):
        first = run(path, manager=toy_manager, cache_dir=tmp_path / "one")
    assert first.ok and _statuses(first) == ["ran", "ran"]
    assert caplog.text.count("is unavailable") == 1  # said once, not per entry
    assert "entries not uploaded" in caplog.text
    assert _pending(tmp_path / "one")  # remembered for later

    private_azurite.start()
    again = run(path, manager=create_plugin_manager(extra_plugins=[TOY]), cache_dir=tmp_path / "one")
    assert _statuses(again) == ["cached", "cached"]
    assert _pending(tmp_path / "one") == []  # the next run uploaded the rest
    assert _shared_models(private_azurite, container_name) == set(first.candidates[0].lineage)

    elsewhere = run(path, manager=create_plugin_manager(extra_plugins=[TOY]), cache_dir=tmp_path / "two")
    assert _statuses(elsewhere) == ["cached", "cached"]
    assert elsewhere.steps[elsewhere.candidates[0].lineage[1]].report == {"decimals": 1}


def test_a_corrupted_remote_blob_is_recomputed(azurite, azure_config, container_name, write_workflow, toy_manager, tmp_path, caplog):
    path = write_workflow({"type": "azure", "config": azure_config()})
    first = run(path, manager=toy_manager, cache_dir=tmp_path / "one")
    scale_id = first.candidates[0].lineage[0]
    container = azurite.container(container_name)
    blob = next(container.list_blobs(name_starts_with=f"artifacts/{scale_id}/"))
    container.upload_blob(blob.name, b'{"weights": [[9, 9], [9, 9]], "bias": [0, 0]}', overwrite=True)

    with caplog.at_level(logging.WARNING):
        second = run(path, manager=toy_manager, cache_dir=tmp_path / "two")
    assert "is damaged" in caplog.text
    assert _statuses(second) == ["ran", "cached"]  # the damaged step is recomputed, the intact one reused
    weights = json.loads((second.output_dir / "model" / "weights.json").read_text())["weights"]
    assert weights == [[2.5, -5.0], [0.2, 7.5]]

    third = run(path, manager=toy_manager, cache_dir=tmp_path / "three")
    assert _statuses(third) == ["cached", "cached"]  # the recomputed entry replaced the damaged one


def test_a_remote_manifest_naming_files_outside_its_entry_is_damaged(azurite, azure_config, container_name, write_workflow, toy_manager, tmp_path, caplog):
    """Someone with write access to the container cannot make a run read a file elsewhere."""
    path = write_workflow({"type": "azure", "config": azure_config()})
    first = run(path, manager=toy_manager, cache_dir=tmp_path / "one")
    scale_id = first.candidates[0].lineage[0]
    container = azurite.container(container_name)
    manifest_name = f"manifests/{scale_id}.json"
    manifest = json.loads(container.download_blob(manifest_name).readall())
    secret = tmp_path / "secret.json"
    secret.write_text('{"weights": [[1, 1], [1, 1]], "bias": [0, 0]}')
    manifest["handle"]["path"] = str(secret)
    container.upload_blob(manifest_name, json.dumps(manifest).encode(), overwrite=True)

    with caplog.at_level(logging.WARNING):
        second = run(path, manager=toy_manager, cache_dir=tmp_path / "two")
    assert second.ok and "is damaged" in caplog.text and "outside the folder" in caplog.text
    assert _statuses(second) == ["ran", "cached"]
    assert str(secret) not in (second.output_dir / "run.json").read_text()


def _olive(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "olive_core", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "OLIVE_PLUGINS": TOY, **env},
        cwd=cwd,
        timeout=120,
    )


def test_wrong_credentials_are_one_clear_error_and_no_secret_is_printed(azurite, azure_config, write_workflow, tmp_path):
    wrong_key = base64.b64encode(b"not the key of this account, 64 bytes long, for the signature!!").decode()
    config = azure_config()
    path = write_workflow({"type": "azure", "config": config})
    result = _olive("run", str(path), "--cache-dir", str(tmp_path / "cache"), env={CONNECTION_ENV: azurite.connection_string(wrong_key)}, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output  # the run is not lost: it goes on locally
    assert output.count("refused the credentials") == 1, output
    assert f"${CONNECTION_ENV}" in output and "olive cache push" in output
    assert "Traceback" not in output
    run_json = (tmp_path / "out" / "run.json").read_text()
    for text in (output, run_json):
        assert wrong_key not in text and wrong_key[:16] not in text and ACCOUNT_KEY[:16] not in text
    assert _pending(tmp_path / "cache")


def test_an_unreachable_endpoint_costs_nothing_but_a_warning(azure_config, write_workflow, toy_manager, tmp_path, caplog, monkeypatch):
    nowhere = Azurite(Path("unused"), tmp_path / "unused")  # a free port nobody listens on
    path = write_workflow({"type": "azure", "config": azure_config(nowhere, retries=0)})
    with caplog.at_level(logging.WARNING):
        result = run(path, manager=toy_manager, cache_dir=tmp_path / "cache")
    assert result.ok and _statuses(result) == ["ran", "ran"]
    assert caplog.text.count("is unavailable") == 1
    assert len(_pending(tmp_path / "cache")) == 4  # two models and their two step records


def test_a_sas_token_never_reaches_the_debug_logs(azurite, container_name, write_workflow, tmp_path):
    token = generate_account_sas(
        ACCOUNT,
        ACCOUNT_KEY,
        ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, write=True, delete=True, list=True, add=True, create=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    signature = parse_qs(token)["sig"][0]
    config = {"account_url": azurite.account_url, "sas_token_env": "OLIVE_TEST_SAS", "container": container_name}
    path = write_workflow({"type": "azure", "config": config})
    result = _olive("run", str(path), "--debug", "--cache-dir", str(tmp_path / "cache"), env={"OLIVE_TEST_SAS": token}, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "sig=***" in output  # request URLs were logged, scrubbed
    for secret in (signature, unquote(signature), token):
        assert secret not in output
    assert len(_shared_models(azurite, container_name)) == 2  # the token did work
