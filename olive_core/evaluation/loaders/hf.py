"""Loaders of Hugging Face datasets: a folder saved with ``save_to_disk``, or a hub dataset.

``datasets`` is imported only when one of these loaders runs; it is not a core dependency.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from olive_core.errors import DataError
from olive_core.evaluation.data import DataComponent, DataContext, Role
from olive_core.evaluation.loaders.base import FieldsConfig, select_fields


def _import_datasets(context: DataContext, what: str) -> Any:
    try:
        import datasets
    except ImportError:
        raise DataError(
            f"data '{context.name}': loading {what} needs the 'datasets' package, which is not installed",
            hint="pip install datasets",
        ) from None
    return datasets


def _pick_split(loaded: Any, split: str | None, context: DataContext, where: str) -> Any:
    """A DatasetDict's split (the only one when none is named); a Dataset as it is."""
    if not hasattr(loaded, "keys"):
        return loaded
    splits = list(loaded.keys())
    if split is None and len(splits) == 1:
        return loaded[splits[0]]
    if split not in splits:
        named = f"has no split '{split}'" if split is not None else "has several splits"
        raise DataError(f"data '{context.name}': {where} {named}", hint=f"set 'split' to one of: {', '.join(splits)}")
    return loaded[split]


def _samples(dataset: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in dataset]


class HfDiskConfig(FieldsConfig):
    path: str = Field(description="folder written by Dataset.save_to_disk; relative to the workflow file")
    split: str | None = Field(default=None, description="split of a saved DatasetDict (default: its only split)")


class HfDatasetDiskLoader(DataComponent):
    """A Hugging Face dataset saved to disk with ``save_to_disk``."""

    role: ClassVar[Role] = "load"
    Config = HfDiskConfig
    uses_model: ClassVar[bool] = False

    def __call__(self, value: Any, config: HfDiskConfig, context: DataContext) -> list[dict[str, Any]]:
        path = context.resolve(config.path)
        if not path.is_dir():
            raise DataError(
                f"data '{context.name}': dataset folder '{path}' does not exist",
                hint=f"check data.{context.name}.load.config.path (write it with Dataset.save_to_disk)",
            )
        datasets = _import_datasets(context, "a dataset saved to disk")
        try:
            loaded = datasets.load_from_disk(str(path))
        except Exception as exc:  # datasets raises FileNotFoundError/ValueError for foreign folders
            raise DataError(
                f"data '{context.name}': '{path}' is not a dataset saved with save_to_disk: {exc}",
                hint="write it with datasets' Dataset.save_to_disk, or use another loader",
            ) from exc
        dataset = _pick_split(loaded, config.split, context, f"dataset '{path}'")
        return select_fields(_samples(dataset), config, f"data '{context.name}': dataset '{path}'")

    def source_files(self, config: HfDiskConfig, context: DataContext) -> list[Path]:
        return [context.resolve(config.path)]


class HfHubConfig(FieldsConfig):
    path: str = Field(description="dataset id on the hub, e.g. 'glue'")
    name: str | None = Field(default=None, description="dataset configuration, e.g. 'mrpc'")
    split: str = Field(default="validation", description="split to load; slicing works, e.g. 'validation[:200]'")
    revision: str | None = Field(default=None, description="git revision; pin it so cached data stays right")
    data_files: list[str] | None = Field(default=None, description="files of a generic dataset ('csv', 'json', ...)")


class HfDatasetHubLoader(DataComponent):
    """A dataset from the Hugging Face hub, through ``datasets.load_dataset`` (needs network or its cache)."""

    role: ClassVar[Role] = "load"
    Config = HfHubConfig
    uses_model: ClassVar[bool] = False

    def __call__(self, value: Any, config: HfHubConfig, context: DataContext) -> list[dict[str, Any]]:
        datasets = _import_datasets(context, "a hub dataset")
        where = f"hub dataset '{config.path}'" + (f" ({config.name})" if config.name else "")
        try:
            dataset = datasets.load_dataset(
                config.path, config.name, split=config.split, revision=config.revision, data_files=config.data_files
            )
        except Exception as exc:  # network, unknown id or split: all surface as the user's to fix
            raise DataError(
                f"data '{context.name}': cannot load {where}, split '{config.split}': {type(exc).__name__}: {exc}",
                hint="check the id, name and split, and that the hub (or its local cache) can be reached",
            ) from exc
        return select_fields(_samples(dataset), config, f"data '{context.name}': {where}")
