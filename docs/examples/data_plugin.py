"""A data plugin: a loader of .npy arrays (a sample per row) and a pre-processing step that standardizes a field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from olive_core import hookimpl
from olive_core.errors import DataError
from olive_core.evaluation import DataComponent, DataComponentConfig, DataContext
from olive_core.registry import Registrar

olive_plugin_api = "1.0"

Sample = dict[str, Any]  # one sample: field name -> value (a number, a list, an array)


class NpyRowsConfig(DataComponentConfig):
    path: str = Field(description="a .npy file; a relative path starts at the workflow file's folder")
    field: str = Field(default="x", min_length=1, description="the sample field each row becomes (a model input name)")


class NpyRows(DataComponent):
    """Load a 2-D .npy array: each row is one sample, under the field `field`."""

    role = "load"
    Config = NpyRowsConfig
    uses_model = False  # the samples do not depend on the input model: its id stays out of the data's cache key

    def __call__(self, value: None, config: NpyRowsConfig, context: DataContext) -> list[Sample]:
        path = context.resolve(config.path)
        try:
            rows = np.load(path, allow_pickle=False)  # never unpickle a data file
        except (OSError, ValueError) as exc:
            raise DataError(
                f"data '{context.name}': '{path}' is not a .npy array: {exc}",
                hint=f"check data.{context.name}.load.config.path",
            ) from exc
        if rows.ndim != 2:
            raise DataError(f"data '{context.name}': '{path}' has shape {rows.shape}; expected (samples, features)")
        return [{config.field: row} for row in rows]

    def source_files(self, config: NpyRowsConfig, context: DataContext) -> list[Path]:
        return [context.resolve(config.path)]  # its content enters the data's cache key


class StandardizeConfig(DataComponentConfig):
    field: str = Field(default="x", description="the field to standardize")
    epsilon: float = Field(default=1e-6, gt=0, le=1.0, description="added to the standard deviation")


class Standardize(DataComponent):
    """Standardize a field over all samples: subtract the mean, divide by the standard deviation."""

    role = "preprocess"
    Config = StandardizeConfig
    uses_model = False

    def __call__(self, value: list[Sample], config: StandardizeConfig, context: DataContext) -> list[Sample]:
        missing = next((sample for sample in value if config.field not in sample), None)
        if missing is not None:
            raise DataError(
                f"data '{context.name}': a sample has no field '{config.field}'", hint=f"its fields: {sorted(missing)}"
            )
        stacked = np.stack([np.asarray(sample[config.field], dtype=np.float64) for sample in value])
        mean, std = stacked.mean(axis=0), stacked.std(axis=0) + config.epsilon
        return [{**sample, config.field: (row - mean) / std} for sample, row in zip(value, stacked)]


@hookimpl
def register_data_components(register: Registrar) -> None:
    register("npy_rows", NpyRows)
    register("standardize", Standardize)
