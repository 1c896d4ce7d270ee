"""Loaders of local files: JSON Lines, JSON, CSV, plain text, NumPy .npz, Parquet."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from pydantic import Field

from olive_core.errors import DataError
from olive_core.evaluation.data import DataContext
from olive_core.evaluation.loaders.base import FileLoader, FileLoaderConfig, read_text, unreadable


def _object_or_error(value: Any, path: Path, context: DataContext, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise unreadable(path, context, "a data file", f"{where} is a {type(value).__name__}, not an object of fields")
    return value


class JsonlLoader(FileLoader):
    """One sample per line of a JSON Lines file; blank lines are skipped."""

    what = "JSON Lines file"

    def read(self, path: Path, config: FileLoaderConfig, context: DataContext) -> list[dict[str, Any]]:
        samples = []
        for number, line in enumerate(read_text(path, context, "a JSON Lines file").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise unreadable(path, context, "a JSON Lines file", f"line {number}, column {exc.colno}: {exc.msg}") from exc
            samples.append(_object_or_error(value, path, context, f"line {number}"))
        return samples


class JsonConfig(FileLoaderConfig):
    field: str | None = Field(
        default=None, description="the key of the top-level object that holds the samples (e.g. 'data')"
    )


class JsonLoader(FileLoader):
    """A JSON file holding a list of sample objects, or an object of equal-length columns."""

    Config = JsonConfig
    what = "JSON file"

    def read(self, path: Path, config: JsonConfig, context: DataContext) -> list[dict[str, Any]]:
        try:
            data = json.loads(read_text(path, context, "a JSON file"))
        except json.JSONDecodeError as exc:
            raise unreadable(path, context, "a JSON file", f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
        if config.field is not None:
            if not isinstance(data, dict) or config.field not in data:
                keys = ", ".join(data) if isinstance(data, dict) else "none: it is not an object"
                raise DataError(f"data '{context.name}': '{path}' has no top-level key '{config.field}'", hint=f"its keys: {keys}")
            data = data[config.field]
        if isinstance(data, list):
            return [_object_or_error(item, path, context, f"item {i}") for i, item in enumerate(data)]
        if isinstance(data, dict) and data and all(isinstance(column, list) for column in data.values()):
            return _columns_to_samples(data, path, context)
        raise unreadable(
            path,
            context,
            "a data file",
            "expected a list of objects or an object of equal-length lists",
            hint="name the key that holds the samples with 'field'",
        )


def _columns_to_samples(columns: dict[str, list[Any]], path: Path, context: DataContext) -> list[dict[str, Any]]:
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}: {length}" for name, length in lengths.items())
        raise unreadable(path, context, "a data file", f"its columns differ in length ({shown})")
    names = list(columns)
    return [dict(zip(names, row)) for row in zip(*columns.values())]


class CsvConfig(FileLoaderConfig):
    delimiter: str = Field(default=",", min_length=1, max_length=1, description="the field separator")


class CsvLoader(FileLoader):
    """A CSV file with a header row; a column whose every value is a number becomes numeric."""

    Config = CsvConfig
    what = "CSV file"

    def read(self, path: Path, config: CsvConfig, context: DataContext) -> list[dict[str, Any]]:
        text = read_text(path, context, "a CSV file")
        reader = csv.reader(io.StringIO(text), delimiter=config.delimiter)
        try:
            rows = [row for row in reader if row]
        except csv.Error as exc:
            raise unreadable(path, context, "a CSV file", f"line {reader.line_num}: {exc}") from exc
        if not rows:
            raise unreadable(path, context, "a CSV file", "it is empty; expected a header row")
        header, body = rows[0], rows[1:]
        for number, row in enumerate(body, start=2):
            if len(row) != len(header):
                raise unreadable(
                    path, context, "a CSV file", f"row {number} has {len(row)} fields but the header has {len(header)}",
                    hint=f"is the delimiter '{config.delimiter}' right?",
                )
        columns = {name: _numeric([row[i] for row in body]) for i, name in enumerate(header)}
        return [dict(zip(header, values)) for values in zip(*columns.values())] if body else []


def _numeric(values: list[str]) -> list[Any]:
    """The column as ints, else floats, else the strings as they are."""
    for convert in (int, float):
        try:
            return [convert(value) for value in values]
        except ValueError:
            continue
    return values


class TextLinesConfig(FileLoaderConfig):
    field: str = Field(default="text", description="the field each line goes into")
    skip_empty: bool = Field(default=True, description="skip blank lines")


class TextLinesLoader(FileLoader):
    """One sample per line of a text file: ``{"text": line}``."""

    Config = TextLinesConfig
    what = "text file"

    def read(self, path: Path, config: TextLinesConfig, context: DataContext) -> list[dict[str, Any]]:
        lines = read_text(path, context, "a text file").splitlines()
        return [{config.field: line} for line in lines if line.strip() or not config.skip_empty]


class NpzLoader(FileLoader):
    """A NumPy .npz file of arrays that share their first axis: sample i takes row i of each."""

    what = "NumPy .npz file"

    def read(self, path: Path, config: FileLoaderConfig, context: DataContext) -> list[dict[str, Any]]:
        import numpy as np

        try:
            with path.open("rb") as handle:
                magic = handle.read(4)
        except OSError as exc:
            raise unreadable(path, context, "a NumPy .npz file", str(exc)) from exc
        if magic != b"PK\x03\x04":
            raise unreadable(path, context, "a NumPy .npz file", "it is not a zip archive of arrays", hint="write it with numpy.savez")
        try:
            with np.load(path, allow_pickle=False) as npz:
                if not isinstance(npz, np.lib.npyio.NpzFile):
                    raise ValueError("it holds one array, not named arrays (save it with numpy.savez)")
                arrays = {name: npz[name] for name in npz.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise unreadable(path, context, "a NumPy .npz file", str(exc)) from exc
        if not arrays:
            raise unreadable(path, context, "a data file", "it holds no arrays")
        scalars = [name for name, array in arrays.items() if array.ndim == 0]
        if scalars:
            raise unreadable(path, context, "a data file", f"array '{scalars[0]}' is a scalar; every array needs a sample axis")
        lengths = {name: len(array) for name, array in arrays.items()}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{name}: {length}" for name, length in lengths.items())
            raise unreadable(path, context, "a data file", f"its arrays differ in length on axis 0 ({shown})")
        count = next(iter(lengths.values()))
        return [{name: array[i] for name, array in arrays.items()} for i in range(count)]


class ParquetLoader(FileLoader):
    """A Parquet file, read with pyarrow (or pandas); one sample per row."""

    what = "Parquet file"

    def read(self, path: Path, config: FileLoaderConfig, context: DataContext) -> list[dict[str, Any]]:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            return self._read_with_pandas(path, context)
        try:
            return pq.read_table(path).to_pylist()
        except Exception as exc:  # pyarrow's ArrowInvalid and OSError, without importing pyarrow's error types
            raise unreadable(path, context, "a Parquet file", str(exc)) from exc

    def _read_with_pandas(self, path: Path, context: DataContext) -> list[dict[str, Any]]:
        try:
            import pandas
        except ImportError:
            raise DataError(
                f"data '{context.name}': reading the Parquet file '{path}' needs pyarrow, which is not installed",
                hint="pip install pyarrow",
            ) from None
        try:
            return pandas.read_parquet(path).to_dict("records")
        except ImportError as exc:  # pandas without a Parquet engine
            raise DataError(
                f"data '{context.name}': reading the Parquet file '{path}' needs pyarrow: {exc}", hint="pip install pyarrow"
            ) from exc
        except Exception as exc:
            raise unreadable(path, context, "a Parquet file", str(exc)) from exc


__all__ = [
    "JsonlLoader",
    "JsonLoader",
    "CsvLoader",
    "TextLinesLoader",
    "NpzLoader",
    "ParquetLoader",
]
