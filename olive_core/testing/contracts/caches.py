"""CacheBackendContract: what a plugin's cache backend tests subclass.

    class TestAzureCache(CacheBackendContract):
        @pytest.fixture
        def backend(self, tmp_path, azurite):
            cache = AzureCache(AzureCacheConfig(...))
            yield cache
            cache.close()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from olive_core.cache.backend import CacheBackend, GcReport
from olive_core.errors import CacheError
from olive_core.models.handler import ModelHandler
from olive_core.testing.contracts.checks import check_config

MODEL_ID = "c0" * 32


def store(backend: CacheBackend, model_id: str = MODEL_ID, content: bytes = b"weights") -> ModelHandler:
    """Put a two-file model into the cache the way the engine does: through a staging folder."""
    with backend.staging() as folder:
        (folder / "model.bin").write_bytes(content)
        (folder / "extra.txt").write_text("tokenizer")
        handle = ModelHandler(type="toy", path=str(folder / "model.bin"), files=[str(folder / "extra.txt")], attributes={"a": 1})
        return backend.put_model(model_id, handle, folder, {"pass_type": "ContractPass"})


class CacheBackendContract:
    """Subclass with a ``backend`` fixture yielding a fresh, empty backend (closed afterwards)."""

    @pytest.fixture
    def backend(self) -> Any:
        raise NotImplementedError("a CacheBackendContract subclass must define a 'backend' fixture")

    def test_config_is_strict_documented_and_bounded(self, backend: CacheBackend) -> None:
        check_config(type(backend).Config)

    def test_a_stored_model_comes_back_with_readable_files(self, backend: CacheBackend) -> None:
        stored = store(backend)
        again = backend.get_model(MODEL_ID)
        assert again is not None and again.attributes == {"a": 1}
        assert Path(again.path).read_bytes() == b"weights" and Path(again.files[0]).read_text() == "tokenizer"
        assert stored.path == again.path

    def test_an_unknown_model_and_record_are_misses(self, backend: CacheBackend) -> None:
        assert backend.get_model("d1" * 32) is None
        assert backend.get_record("evaluation", "nothing") is None

    def test_records_round_trip_as_json(self, backend: CacheBackend) -> None:
        value = {"values": {"latency-p50": 1.5}, "nested": [1, "two", None]}
        backend.put_record("evaluation", "key", value)
        assert backend.get_record("evaluation", "key") == value

    def test_staging_folders_are_removed(self, backend: CacheBackend) -> None:
        with backend.staging() as folder:
            (folder / "partial").write_text("x")
        assert not folder.exists()

    def test_a_damaged_entry_is_a_miss_never_trusted(self, backend: CacheBackend) -> None:
        stored = store(backend, content=b"0123456789")
        Path(stored.path).write_bytes(b"01234")
        assert backend.get_model(MODEL_ID) is None

    def test_a_model_with_files_outside_its_staging_folder_is_refused(self, backend: CacheBackend, tmp_path: Path) -> None:
        outside = tmp_path / "user-file.bin"
        outside.write_bytes(b"x")
        with backend.staging() as folder, pytest.raises(CacheError):
            backend.put_model("e2" * 32, ModelHandler(type="toy", path=str(outside)), folder, {})

    def test_entries_size_clear_and_gc(self, backend: CacheBackend) -> None:
        store(backend)
        assert [entry.model_id for entry in backend.entries()] == [MODEL_ID]
        assert backend.size_bytes() > 0
        assert isinstance(backend.gc(), GcReport) and backend.get_model(MODEL_ID) is not None
        backend.clear()
        assert list(backend.entries()) == [] and backend.get_model(MODEL_ID) is None
