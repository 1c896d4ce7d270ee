"""PassContext.require_data: a pass that reads data fails on its `data` field before anything runs."""

from __future__ import annotations

import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import ConfigError
from olive_core.passes import PassContext

CPU = AcceleratorSpec(device="cpu", execution_provider="CPUExecutionProvider")


def test_no_data_named_is_an_error_on_the_data_field() -> None:
    context = PassContext(accelerator=CPU, data=lambda name: [])
    with pytest.raises(ConfigError, match="SomeQuantizer needs calibration data") as error:
        context.require_data(None, "SomeQuantizer")
    assert error.value.path == "data"


def test_a_run_that_reads_no_data_is_an_error_naming_the_data_config() -> None:
    with pytest.raises(ConfigError, match="SomeQuantizer was given no way to read data config 'calib'"):
        PassContext(accelerator=CPU).require_data("calib", "SomeQuantizer")


def test_the_reader_prepares_the_data_only_when_called() -> None:
    read: list[str] = []

    def data(name: str) -> list[dict[str, int]]:
        read.append(name)
        return [{"x": 1}]

    reader = PassContext(accelerator=CPU, data=data).require_data("calib", "SomeQuantizer")
    assert read == []
    assert list(reader()) == [{"x": 1}] and read == ["calib"]


def test_pass_records_are_json_in_the_cache_and_outlive_the_run(tmp_path) -> None:
    """What a pass learns once per (model, data) (a sensitivity ranking) is kept by the run's cache."""
    from olive_core.cache.local import LocalCache, LocalCacheConfig
    from olive_core.passes import PassRecords

    cache = LocalCache(LocalCacheConfig(dir=str(tmp_path)))
    records = PassRecords(cache.get_record, cache.put_record, "pass:SomeQuantizer")
    records.put("model-and-data", {"ranking": [["node", 0.5]]})
    other = PassRecords(cache.get_record, cache.put_record, "pass:OtherPass")
    assert other.get("model-and-data") is None
    cache.close()

    reopened = LocalCache(LocalCacheConfig(dir=str(tmp_path)))
    again = PassRecords(reopened.get_record, reopened.put_record, "pass:SomeQuantizer")
    assert again.get("model-and-data") == {"ranking": [["node", 0.5]]}
    reopened.close()
