"""Each built-in loader on small files, and the errors for missing and garbage files."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from olive_core.errors import DataError
from olive_core.evaluation.data import DataContext
from olive_core.evaluation.loaders.files import CsvLoader, JsonLoader, JsonlLoader, NpzLoader, ParquetLoader, TextLinesLoader
from olive_core.evaluation.loaders.hf import HfDatasetDiskLoader, HfDatasetHubLoader
from olive_core.evaluation.loaders.synthetic import SyntheticLoader
from olive_core.models.handler import ModelHandler
from olive_core.models.io_config import IoConfig


@pytest.fixture
def context(tmp_path: Path) -> DataContext:
    return DataContext(base_dir=tmp_path, name="eval")


def load(loader: Any, context: DataContext, **config: Any) -> list[dict[str, Any]]:
    return loader()(None, loader.Config(**config), context)


def optional_module(name: str) -> Any:
    """Import a package of the `data` extra; skip without it, except in a session that installed
    the extra (OLIVE_EXPECT_EXTRAS=data, set by nox's `everything`), where a skip would hide a gap."""
    if "data" in os.environ.get("OLIVE_EXPECT_EXTRAS", "").split(","):
        return __import__(name, fromlist=["_"])
    return pytest.importorskip(name)


def test_jsonl_relative_path_columns_and_label(tmp_path: Path, context: DataContext) -> None:
    (tmp_path / "data.jsonl").write_text('{"text": "a", "y": 1, "id": 7}\n\n{"text": "b", "y": 0, "id": 8}\n')
    assert load(JsonlLoader, context, path="data.jsonl") == [
        {"text": "a", "y": 1, "id": 7},
        {"text": "b", "y": 0, "id": 8},
    ]
    assert load(JsonlLoader, context, path="data.jsonl", columns=["text"], label="y") == [
        {"text": "a", "label": 1},
        {"text": "b", "label": 0},
    ]
    with pytest.raises(DataError, match="has no field 'txt'") as error:
        load(JsonlLoader, context, path="data.jsonl", columns=["txt"])
    assert "text, y, id" in str(error.value)


def test_jsonl_garbage_names_the_file_and_line(tmp_path: Path, context: DataContext) -> None:
    (tmp_path / "bad.jsonl").write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(DataError, match=r"bad.jsonl' is not a JSON Lines file: line 2"):
        load(JsonlLoader, context, path="bad.jsonl")
    (tmp_path / "list.jsonl").write_text("[1, 2]\n")
    with pytest.raises(DataError, match="line 1 is a list"):
        load(JsonlLoader, context, path="list.jsonl")


@pytest.mark.parametrize("loader", [JsonlLoader, JsonLoader, CsvLoader, TextLinesLoader, NpzLoader, ParquetLoader])
def test_missing_file_is_named(loader: Any, tmp_path: Path, context: DataContext) -> None:
    with pytest.raises(DataError, match=r"'.*nowhere\.dat' does not exist") as error:
        load(loader, context, path="nowhere.dat")
    assert "data.eval.load.config.path" in (error.value.hint or "")


def test_binary_garbage_is_not_text(tmp_path: Path, context: DataContext) -> None:
    (tmp_path / "noise.csv").write_bytes(bytes(range(128, 256)))
    with pytest.raises(DataError, match=r"noise.csv' is not a CSV file: not UTF-8"):
        load(CsvLoader, context, path="noise.csv")


def test_json_list_columns_and_field(tmp_path: Path, context: DataContext) -> None:
    (tmp_path / "rows.json").write_text(json.dumps([{"x": [1, 2]}, {"x": [3, 4]}]))
    assert load(JsonLoader, context, path="rows.json") == [{"x": [1, 2]}, {"x": [3, 4]}]
    (tmp_path / "cols.json").write_text(json.dumps({"data": {"x": [1, 2], "label": [0, 1]}}))
    assert load(JsonLoader, context, path="cols.json", field="data") == [{"x": 1, "label": 0}, {"x": 2, "label": 1}]
    with pytest.raises(DataError, match="no top-level key 'rows'"):
        load(JsonLoader, context, path="cols.json", field="rows")
    (tmp_path / "scalar.json").write_text("42")
    with pytest.raises(DataError, match="expected a list of objects"):
        load(JsonLoader, context, path="scalar.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(DataError, match=r"broken.json' is not a JSON file: line 1"):
        load(JsonLoader, context, path="broken.json")


def test_csv_numeric_columns_and_delimiter(tmp_path: Path, context: DataContext) -> None:
    (tmp_path / "data.csv").write_text("text;score;label\nhello;0.5;1\nbye;1.5;0\n")
    assert load(CsvLoader, context, path="data.csv", delimiter=";") == [
        {"text": "hello", "score": 0.5, "label": 1},
        {"text": "bye", "score": 1.5, "label": 0},
    ]
    (tmp_path / "short.csv").write_text("a,b\n1,2\n3\n")
    with pytest.raises(DataError, match="short.csv' is not a CSV file: row 3 has 1 fields but the header has 2") as error:
        load(CsvLoader, context, path="short.csv")
    assert "delimiter" in (error.value.hint or "")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="it is empty"):
        load(CsvLoader, context, path="empty.csv")


def test_text_lines(tmp_path: Path, context: DataContext) -> None:
    (tmp_path / "lines.txt").write_text("first\n\nsecond\n")
    assert load(TextLinesLoader, context, path="lines.txt") == [{"text": "first"}, {"text": "second"}]
    assert len(load(TextLinesLoader, context, path="lines.txt", skip_empty=False, field="t")) == 3


def test_npz_rows_become_samples(tmp_path: Path, context: DataContext) -> None:
    np.savez(tmp_path / "data.npz", x=np.arange(6, dtype=np.float32).reshape(3, 2), label=np.array([0, 1, 2]))
    samples = load(NpzLoader, context, path=str(tmp_path / "data.npz"))
    assert len(samples) == 3
    assert samples[1]["x"].tolist() == [2.0, 3.0] and int(samples[1]["label"]) == 1
    np.savez(tmp_path / "ragged.npz", x=np.zeros((3, 2)), y=np.zeros(2))
    with pytest.raises(DataError, match=r"differ in length on axis 0 \(x: 3, y: 2\)"):
        load(NpzLoader, context, path="ragged.npz")
    (tmp_path / "garbage.npz").write_text("not a zip")
    with pytest.raises(DataError, match="garbage.npz' is not a NumPy .npz file: it is not a zip archive"):
        load(NpzLoader, context, path="garbage.npz")
    (tmp_path / "truncated.npz").write_bytes((tmp_path / "data.npz").read_bytes()[:40])
    with pytest.raises(DataError, match="truncated.npz' is not a NumPy .npz file"):
        load(NpzLoader, context, path="truncated.npz")


def test_parquet_without_pyarrow_or_pandas_says_what_to_install(
    tmp_path: Path, context: DataContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data.parquet").write_bytes(b"PAR1")
    for module in ("pyarrow", "pyarrow.parquet", "pandas"):
        monkeypatch.setitem(sys.modules, module, None)  # makes `import` raise ImportError
    with pytest.raises(DataError, match="data.parquet' needs pyarrow") as error:
        load(ParquetLoader, context, path="data.parquet")
    assert error.value.hint == "pip install pyarrow"


def test_parquet_with_pyarrow(tmp_path: Path, context: DataContext) -> None:
    pa = optional_module("pyarrow")
    pq = optional_module("pyarrow.parquet")
    pq.write_table(pa.table({"text": ["a", "b"], "label": [1, 0]}), tmp_path / "data.parquet")
    assert load(ParquetLoader, context, path="data.parquet") == [{"text": "a", "label": 1}, {"text": "b", "label": 0}]
    (tmp_path / "garbage.parquet").write_text("nope")
    with pytest.raises(DataError, match="garbage.parquet' is not a Parquet file"):
        load(ParquetLoader, context, path="garbage.parquet")


def test_hf_loaders_without_datasets_say_what_to_install(
    tmp_path: Path, context: DataContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)
    (tmp_path / "saved").mkdir()
    with pytest.raises(DataError, match="needs the 'datasets' package") as error:
        load(HfDatasetDiskLoader, context, path="saved")
    assert error.value.hint == "pip install datasets"
    with pytest.raises(DataError, match="needs the 'datasets' package"):
        load(HfDatasetHubLoader, context, path="glue", name="mrpc")
    with pytest.raises(DataError, match="dataset folder '.*absent' does not exist"):
        load(HfDatasetDiskLoader, context, path="absent")


def test_hf_dataset_disk_round_trip(tmp_path: Path, context: DataContext) -> None:
    datasets = optional_module("datasets")
    datasets.DatasetDict({"test": datasets.Dataset.from_dict({"s": ["a", "b"], "y": [1, 0]})}).save_to_disk(tmp_path / "ds")
    assert load(HfDatasetDiskLoader, context, path="ds", label="y") == [{"s": "a", "label": 1}, {"s": "b", "label": 0}]
    with pytest.raises(DataError, match="has no split 'train'"):
        load(HfDatasetDiskLoader, context, path="ds", split="train")


def test_synthetic_follows_the_io_config(tmp_path: Path) -> None:
    io_config = IoConfig(
        input_names=["input_ids", "attention_mask", "pixels"],
        input_shapes=[[1, 8], [1, 8], [1, 3, 2, 2]],
        input_types=["int64", "int64", "float32"],
    )
    context = DataContext(model=ModelHandler(type="x", path="m", io_config=io_config), base_dir=tmp_path, name="synthetic")
    config = SyntheticLoader.Config(num_samples=5, seed=3, int_range=(5, 9), ranges={"attention_mask": (1, 1)})
    samples = SyntheticLoader()(None, config, context)
    assert len(samples) == 5
    first = samples[0]
    assert first["input_ids"].shape == (8,) and first["input_ids"].dtype == np.int64
    assert first["input_ids"].min() >= 5 and first["input_ids"].max() <= 9
    assert (first["attention_mask"] == 1).all()
    assert first["pixels"].shape == (3, 2, 2) and first["pixels"].dtype == np.float32
    again = SyntheticLoader()(None, config, context)
    assert all((a["pixels"] == b["pixels"]).all() for a, b in zip(samples, again))  # same seed, same data


def test_synthetic_needs_an_io_config(context: DataContext) -> None:
    context.model = ModelHandler(type="x", path="m")
    with pytest.raises(DataError, match="needs the model's io_config"):
        SyntheticLoader()(None, SyntheticLoader.Config(), context)
