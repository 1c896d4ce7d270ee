"""AzureCache against Azurite: the cache protocol, read-through between two local folders, the
remote layout, verification of downloads, and the background uploads awaited at close."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import pytest

from olive_core.models.handler import ModelHandler
from olive_azure_cache.cache import AzureCache
from olive_azure_cache.config import AzureCacheConfig
from olive_azure_cache.pending import Upload
from olive_azure_cache.uploader import Uploader


@pytest.fixture
def open_cache(azure_config, tmp_path):
    """Open an AzureCache on a local folder of its own (a 'machine'); closed after the test."""
    opened: list[AzureCache] = []

    def make(machine: str, **fields) -> AzureCache:
        cache = AzureCache(AzureCacheConfig(**azure_config(dir=str(tmp_path / machine), **fields)))
        opened.append(cache)
        return cache

    yield make
    for cache in opened:
        cache.close()


def _store(cache: AzureCache, model_id: str, content: bytes = b"weights") -> ModelHandler:
    with cache.staging() as folder:
        (folder / "model.bin").write_bytes(content)
        (folder / "tokenizer").mkdir()
        (folder / "tokenizer" / "vocab.txt").write_text("a b c")
        handle = ModelHandler(type="toy", path=str(folder / "model.bin"), files=[str(folder / "tokenizer")], attributes={"a": 1})
        return cache.put_model(model_id, handle, folder, {"pass_type": "ToyScale", "step": "scale"})


def test_a_second_machine_reads_through_and_keeps_a_local_copy(open_cache):
    first = open_cache("one")
    _store(first, "ab" * 32)
    first.put_record("evaluation", "k1", {"latency-p50": 1.5})
    first.close()

    second = open_cache("two")
    got = second.get_model("ab" * 32)
    assert got is not None and Path(got.path).read_bytes() == b"weights"
    assert Path(got.path).is_relative_to(second.local.root)
    assert (Path(got.files[0]) / "vocab.txt").read_text() == "a b c"
    assert got.attributes == {"a": 1}
    assert second.get_record("evaluation", "k1") == {"latency-p50": 1.5}
    assert second.local.get_model("ab" * 32) is not None  # stored locally: the next read is local
    assert second.local.get_record("evaluation", "k1") == {"latency-p50": 1.5}
    assert [(e.model_id, e.pass_type) for e in second.entries()] == [("ab" * 32, "ToyScale")]


def test_misses_are_misses(open_cache):
    cache = open_cache("one")
    assert cache.get_model("cd" * 32) is None
    assert cache.get_record("evaluation", "nothing") is None


def test_remote_layout_manifest_lists_files_with_sha256(open_cache, azurite, container_name):
    cache = open_cache("one", prefix="team/olive")
    _store(cache, "ef" * 32)
    cache.close()
    names = sorted(blob.name for blob in azurite.container(container_name).list_blobs())
    manifest_name = f"team/olive/manifests/{'ef' * 32}.json"
    assert manifest_name in names
    manifest = json.loads(azurite.container(container_name).download_blob(manifest_name).readall())
    assert set(manifest["files"]) == {"model.bin", "tokenizer/vocab.txt"}
    assert manifest["files"]["model.bin"]["size"] == 7 and len(manifest["files"]["model.bin"]["sha256"]) == 64
    assert manifest["handle"]["path"] == "$artifact/model.bin"
    upload = manifest["upload_id"]
    assert f"team/olive/artifacts/{'ef' * 32}/{upload}/model.bin" in names
    assert f"team/olive/records/step/{'ef' * 32}.json" not in names  # only what was put
    assert [e.model_id for e in cache.remote_entries()] == ["ef" * 32]
    entry = next(cache.remote_entries())
    assert (entry.type, entry.pass_type, entry.size_bytes) == ("toy", "ToyScale", 12)


def test_a_corrupted_blob_is_detected_hidden_and_replaced(open_cache, azurite, container_name, caplog):
    first = open_cache("one")
    _store(first, "12" * 32)
    first.close()
    container = azurite.container(container_name)
    blob = next(b.name for b in container.list_blobs() if b.name.endswith("/model.bin"))
    container.upload_blob(blob, b"WEIGHTS", overwrite=True)  # same size, other bytes

    second = open_cache("two")
    with caplog.at_level(logging.WARNING):
        assert second.get_model("12" * 32) is None
    assert "is damaged" in caplog.text and "sha256" in caplog.text
    assert second.local.get_model("12" * 32) is None  # nothing damaged was kept
    assert list(second.remote_entries()) == []  # removed, so that nobody else uses it
    assert list(container.list_blobs(name_starts_with="artifacts/")) == []
    _store(second, "12" * 32)  # recomputed
    second.close()
    third = open_cache("three")
    assert Path(third.get_model("12" * 32).path).read_bytes() == b"weights"


def test_a_manifest_naming_files_outside_its_folder_is_refused(open_cache, azurite, container_name):
    cache = open_cache("one")
    _store(cache, "34" * 32)
    cache.close()
    container = azurite.container(container_name)
    name = f"manifests/{'34' * 32}.json"
    manifest = json.loads(container.download_blob(name).readall())
    manifest["files"]["../../escape.bin"] = manifest["files"].pop("model.bin")
    container.upload_blob(name, json.dumps(manifest).encode(), overwrite=True)
    other = open_cache("two")
    assert other.get_model("34" * 32) is None
    assert not (other.local.root.parent / "escape.bin").exists()


def test_close_waits_for_uploads_with_a_progress_line(open_cache):
    cache = open_cache("one")
    release = threading.Event()
    send = cache.transfers.send
    cache.transfers.send = lambda job: release.wait(10) and send(job)  # hold the uploader until close waits
    lines: list[str] = []
    cache.progress = lambda line: (lines.append(line), release.set())
    _store(cache, "56" * 32)
    cache.close()
    assert lines and lines[0].startswith("waiting for ") and cache.remote_location in lines[0]
    assert [e.model_id for e in open_cache("two").remote_entries()] == ["56" * 32]
    assert cache.pending.count() == 0


def test_uploads_an_earlier_run_left_pending_go_with_the_next_use(open_cache):
    first = open_cache("one")
    first.status._up = False  # as after an outage: stored locally, remembered as pending
    _store(first, "78" * 32)
    first.close()
    assert first.pending.count() == 1
    again = open_cache("one")
    assert again.get_model("78" * 32) is not None  # a run's first use resumes the backlog
    again.close()
    assert again.pending.count() == 0
    assert [e.model_id for e in again.remote_entries()] == ["78" * 32]


def test_the_upload_queue_is_bounded():
    release = threading.Event()
    done: list[str] = []
    uploader = Uploader(lambda job: release.wait(10) and not done.append(job.key), lambda: True, size=1)
    uploader.submit(Upload("record", "a", "n"))  # taken by the worker, which waits
    time.sleep(0.1)
    uploader.submit(Upload("record", "b", "n"))  # fills the queue
    third = threading.Thread(target=uploader.submit, args=(Upload("record", "c", "n"),))
    third.start()
    third.join(0.3)
    assert third.is_alive()  # waits for room in the queue
    release.set()
    third.join(5)
    uploader.close(lambda remaining: None)
    assert done == ["a", "b", "c"] and uploader.uploaded == 3


def test_a_missing_container_is_not_created_when_told_not_to(open_cache, caplog):
    cache = open_cache("one", create_container=False)
    with caplog.at_level(logging.WARNING):
        assert cache.get_model("9a" * 32) is None
    assert "does not exist (create_container is false)" in caplog.text
    assert not cache.status.up
