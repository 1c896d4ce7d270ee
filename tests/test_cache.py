"""The local cache: real diskcache/SQLite on disk; damaged entries are recomputed, never trusted."""

from __future__ import annotations

from pathlib import Path

import pytest

from olive_core.cache.local import ARTIFACT_MARK, LocalCache, LocalCacheConfig, default_cache_dir
from olive_core.models.handler import ModelHandler


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


def test_paths_outside_the_staging_folder_stay_as_they_are(cache, tmp_path):
    outside = tmp_path / "user-model.bin"
    outside.write_bytes(b"x")
    with cache.staging() as folder:
        stored = cache.put_model("ef" * 32, ModelHandler(type="toy", path=str(outside)), folder, {})
    assert stored.path == str(outside)
    assert ARTIFACT_MARK not in cache.get_model("ef" * 32).path


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
    database = root / "meta" / "cache.db"
    database.write_bytes(b"this is not an sqlite database" * 100)
    second = LocalCache(LocalCacheConfig(dir=str(root)))
    assert second.get_model("bc" * 32) is None  # nothing damaged is trusted
    assert "damaged" in caplog.text
    assert any(p.name.startswith("meta.damaged-") for p in root.iterdir())
    _store(second, "bc" * 32)
    assert second.get_model("bc" * 32) is not None
    second.gc()
    assert not any(p.name.startswith("meta.damaged-") for p in root.iterdir())
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
