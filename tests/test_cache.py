"""The local cache: real SQLite and folders on disk; damaged or foreign entries are recomputed, never trusted."""

from __future__ import annotations

from pathlib import Path

import pytest

from olive_core.cache.local import LocalCache, LocalCacheConfig, default_cache_dir
from olive_core.models.handler import ModelHandler
from olive_core.testing import CacheBackendContract


@pytest.fixture
def cache(tmp_path: Path) -> LocalCache:
    store = LocalCache(LocalCacheConfig(dir=str(tmp_path / "cache")))
    yield store
    store.close()


def _store(cache: LocalCache, model_id: str, content: bytes = b"weights") -> ModelHandler:
    with cache.staging() as folder:
        (folder / "model.bin").write_bytes(content)
        (folder / "extra.txt").write_text("tokenizer")
        handle = ModelHandler(type="toy", path=str(folder / "model.bin"), files=[str(folder / "extra.txt")], attributes={"a": 1})
        return cache.put_model(model_id, handle, folder, {"pass_type": "ToyScale"})


def test_put_then_get_resolves_paths_into_the_cache(cache):
    stored = _store(cache, "ab" * 32)
    again = cache.get_model("ab" * 32)
    assert again == stored
    assert Path(again.path).read_bytes() == b"weights"
    assert Path(again.path).parent == cache.artifacts / "ab" / ("ab" * 32)
    assert Path(again.files[0]).read_text() == "tokenizer"
    assert again.attributes == {"a": 1}


def test_staging_folder_is_removed_after_use(cache):
    _store(cache, "cd" * 32)
    assert list(cache.staging_root.iterdir()) == []


def test_a_model_path_outside_the_staging_folder_is_refused(cache, tmp_path):
    from olive_core.errors import CacheError

    outside = tmp_path / "user-model.bin"
    outside.write_bytes(b"x")
    with cache.staging() as folder, pytest.raises(CacheError, match="outside the folder its pass wrote"):
        cache.put_model("ef" * 32, ModelHandler(type="toy", path=str(outside)), folder, {})
    assert cache.get_model("ef" * 32) is None


def test_a_missing_artifact_is_a_miss_and_the_record_is_dropped(cache):
    stored = _store(cache, "12" * 32)
    Path(stored.path).unlink()
    assert cache.get_model("12" * 32) is None
    assert list(cache.entries()) == []


def test_a_truncated_artifact_is_a_miss(cache):
    stored = _store(cache, "34" * 32, content=b"0123456789")
    Path(stored.path).write_bytes(b"01234")
    assert cache.get_model("34" * 32) is None


def test_folder_without_record_from_a_killed_run_is_replaced(cache):
    model_id = "56" * 32
    orphan = cache.artifacts / model_id[:2] / model_id
    orphan.mkdir(parents=True)
    (orphan / "half-written.bin").write_bytes(b"partial")
    assert cache.get_model(model_id) is None
    stored = _store(cache, model_id)
    assert not (orphan / "half-written.bin").exists()
    assert Path(stored.path).read_bytes() == b"weights"


def test_gc_removes_orphans_and_staging_leftovers(cache):
    _store(cache, "78" * 32)
    orphan = cache.artifacts / "9a" / ("9a" * 32)
    orphan.mkdir(parents=True)
    (orphan / "x").write_bytes(b"12345")
    leftover = cache.staging_root / "step-killed"
    leftover.mkdir()
    (leftover / "y").write_bytes(b"123")
    report = cache.gc()
    assert report.removed_orphans == 2 and report.freed_bytes == 8 and report.removed_entries == 0
    assert cache.get_model("78" * 32) is not None


def test_damaged_metadata_database_is_set_aside(tmp_path, caplog):
    root = tmp_path / "cache"
    first = LocalCache(LocalCacheConfig(dir=str(root)))
    _store(first, "bc" * 32)
    first.close()
    for part in root.glob("records.sqlite*"):
        part.unlink()
    (root / "records.sqlite").write_bytes(b"this is not an sqlite database" * 100)
    second = LocalCache(LocalCacheConfig(dir=str(root)))
    assert second.get_model("bc" * 32) is None  # nothing damaged is trusted
    assert "damaged" in caplog.text
    assert any(p.name.startswith("records.damaged-") for p in root.iterdir())
    _store(second, "bc" * 32)
    assert second.get_model("bc" * 32) is not None
    second.gc()
    assert not any(p.name.startswith("records.damaged-") for p in root.iterdir())
    second.close()


def test_records_roundtrip(cache):
    assert cache.get_record("evaluation", "k") is None
    cache.put_record("evaluation", "k", {"latency-p50": 1.5})
    assert cache.get_record("evaluation", "k") == {"latency-p50": 1.5}


def test_entries_size_and_clear(cache):
    _store(cache, "de" * 32)
    entries = list(cache.entries())
    assert [(e.model_id, e.type, e.pass_type, e.size_bytes) for e in entries] == [("de" * 32, "toy", "ToyScale", 16)]
    assert cache.size_bytes() > 16
    cache.clear()
    assert list(cache.entries()) == [] and cache.get_model("de" * 32) is None


def test_default_location_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OLIVE_CACHE_DIR", str(tmp_path / "env-cache"))
    assert default_cache_dir() == tmp_path / "env-cache"
    monkeypatch.delenv("OLIVE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "olive-core"


def test_unwritable_location_is_a_clear_error(tmp_path):
    from olive_core.errors import CacheError

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CacheError, match="cannot create the cache folder"):
        LocalCache(LocalCacheConfig(dir=str(blocker / "cache")))


def test_a_backend_without_a_remote_tier_says_so(cache):
    from olive_core.errors import CacheError

    assert not cache.has_remote
    calls = (cache.remote_entries, cache.push, cache.pull, lambda: cache.delete_remote(["ab" * 32]))
    for call in calls:
        with pytest.raises(CacheError, match="has no remote tier") as error:
            call()
        assert "--workflow" in str(error.value)


def test_progress_goes_to_the_callback_else_to_the_log(cache, caplog):
    cache.report_progress("waiting for 1 upload")
    assert "waiting for 1 upload" in caplog.text
    lines: list[str] = []
    cache.progress = lines.append
    cache.report_progress("waiting for 0 uploads")
    assert lines == ["waiting for 0 uploads"] and "0 uploads" not in caplog.text


def test_step_lock_serializes_the_same_model_id(cache):
    import threading
    import time

    order: list[str] = []

    def hold(name: str) -> None:
        with cache.step_lock("ab" * 32):
            order.append(f"{name}-in")
            time.sleep(0.2)
            order.append(f"{name}-out")

    first = threading.Thread(target=hold, args=("a",))
    first.start()
    time.sleep(0.05)
    hold("b")
    first.join()
    assert order == ["a-in", "a-out", "b-in", "b-out"]


# -- a cache written by someone else ----------------------------------------------------------


def _plant(cache: LocalCache, key: str, value: object) -> None:
    """Write a row straight into the SQLite file, as another program could."""
    import sqlite3

    with sqlite3.connect(cache.root / "records.sqlite") as db:
        db.execute("INSERT OR REPLACE INTO records (key, value) VALUES (?, ?)", (key, value))


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # unpickling this writes the marker file
        return (Path.write_text, (self.marker, "pwned"))


def test_a_pickle_planted_in_the_metadata_never_runs(cache, tmp_path, caplog):
    import pickle

    marker = tmp_path / "pwned"
    payload = pickle.dumps(_RunsCode(marker))
    _plant(cache, "model:" + "aa" * 32, payload)
    _plant(cache, "evaluation:k", payload)
    _plant(cache, "step:" + "aa" * 32, payload.decode("latin-1"))
    assert cache.get_model("aa" * 32) is None
    assert cache.get_record("evaluation", "k") is None
    assert cache.get_record("step", "aa" * 32) is None
    assert list(cache.entries()) == []
    cache.gc()
    assert not marker.exists()
    assert "damaged" in caplog.text


def test_olive_cache_list_on_a_planted_pickle_runs_nothing(cache, tmp_path):
    import pickle

    from click.testing import CliRunner

    from olive_core.cli.main import cli

    marker = tmp_path / "pwned"
    _store(cache, "ab" * 32)
    _plant(cache, "model:" + "cd" * 32, pickle.dumps(_RunsCode(marker)))
    result = CliRunner().invoke(cli, ["cache", "list", "--cache-dir", str(cache.root)])
    assert result.exit_code == 0, result.output
    assert "1 model(s)" in result.output and not marker.exists()


def test_a_record_whose_paths_leave_its_folder_is_damaged(cache, tmp_path):
    import json

    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    for path in (str(secret), "$artifact/../../../secret.txt"):
        handle = {"type": "toy", "path": path, "files": [], "attributes": {}}
        _plant(cache, "model:" + "ee" * 32, json.dumps({"handle": handle, "manifest": {}, "info": {}, "created": 0}))
        assert cache.get_model("ee" * 32) is None
    stored = _store(cache, "ef" * 32)
    record = cache._records.get("model:" + "ef" * 32)
    record["handle"]["files"] = [str(secret)]
    _plant(cache, "model:" + "ef" * 32, json.dumps(record))
    assert cache.get_model("ef" * 32) is None and not Path(stored.path).exists()


def test_a_manifest_naming_files_outside_or_links_is_damaged(cache, tmp_path):
    import json

    stored = _store(cache, "fa" * 32)
    record = cache._records.get("model:" + "fa" * 32)
    record["manifest"]["../../x"] = 1
    _plant(cache, "model:" + "fa" * 32, json.dumps(record))
    assert cache.get_model("fa" * 32) is None

    stored = _store(cache, "fb" * 32)
    target = tmp_path / "elsewhere.bin"
    target.write_bytes(b"weights")  # same size as the real file
    Path(stored.path).unlink()
    Path(stored.path).symlink_to(target)
    assert cache.get_model("fb" * 32) is None


def test_a_store_of_another_format_is_set_aside(tmp_path, caplog):
    import sqlite3

    root = tmp_path / "cache"
    root.mkdir()
    with sqlite3.connect(root / "records.sqlite") as db:
        db.execute("CREATE TABLE Settings (key TEXT, value)")  # e.g. a diskcache file
    store = LocalCache(LocalCacheConfig(dir=str(root)))
    assert "damaged" in caplog.text
    _store(store, "ab" * 32)
    assert store.get_model("ab" * 32) is not None
    store.close()


def test_gc_counts_the_bytes_of_damaged_entries_it_removes(cache):
    stored = _store(cache, "dd" * 32, content=b"0123456789")
    Path(stored.path).write_bytes(b"01234")  # truncated: 5 bytes, plus extra.txt's 9
    report = cache.gc()
    assert report.removed_entries == 1 and report.freed_bytes == 5 + len("tokenizer")
    assert not (cache.artifacts / "dd" / ("dd" * 32)).exists()


class TestLocalCacheContract(CacheBackendContract):
    """The local cache meets the suite every cache backend plugin runs."""

    @pytest.fixture
    def backend(self, tmp_path: Path) -> LocalCache:
        store = LocalCache(LocalCacheConfig(dir=str(tmp_path / "contract-cache")))
        yield store
        store.close()
