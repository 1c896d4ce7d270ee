"""What every file loader shares: path resolution, clear file errors, field selection."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from olive_core.errors import DataError
from olive_core.evaluation.data import LABEL_KEY, DataComponent, DataComponentConfig, DataContext, Role


class FieldsConfig(DataComponentConfig):
    columns: list[str] | None = Field(default=None, description="keep only these fields (default: all)")
    label: str | None = Field(default=None, description="the field that holds the label; renamed to 'label'")


class FileLoaderConfig(FieldsConfig):
    path: str = Field(description="the data file; a relative path starts at the workflow file's folder")


def select_fields(samples: list[dict[str, Any]], config: FieldsConfig, where: str) -> list[dict[str, Any]]:
    """Keep ``columns`` (plus the label) and rename ``label`` to 'label'; name missing fields."""
    if not samples or (config.columns is None and config.label is None):
        return samples
    available = list(samples[0])
    wanted = list(config.columns) if config.columns is not None else available
    if config.label is not None and config.label not in wanted:
        wanted.append(config.label)
    missing = [name for name in wanted if name not in samples[0]]
    if missing:
        raise DataError(
            f"{where} has no field '{missing[0]}'",
            hint=f"its fields are: {', '.join(available) or 'none'}",
        )
    rename = {config.label: LABEL_KEY} if config.label is not None else {}
    return [{rename.get(name, name): sample[name] for name in wanted} for sample in samples]


class FileLoader(DataComponent):
    """Base of loaders that read one local file or folder given by ``config.path``."""

    role: ClassVar[Role] = "load"
    Config: ClassVar[type[FileLoaderConfig]] = FileLoaderConfig
    uses_model: ClassVar[bool] = False
    #: what the loader expects, for messages
    what: ClassVar[str] = "file"

    def __call__(self, value: Any, config: FileLoaderConfig, context: DataContext) -> list[dict[str, Any]]:
        path = context.resolve(config.path)
        if not path.exists():
            raise DataError(
                f"data '{context.name}': {self.what} '{path}' does not exist",
                hint=f"check data.{context.name}.load.config.path (relative paths start at {context.base_dir})",
            )
        samples = self.read(path, config, context)
        return select_fields(samples, config, f"data '{context.name}': '{path}'")

    def source_files(self, config: FileLoaderConfig, context: DataContext) -> list[Path]:
        return [context.resolve(config.path)]

    @abstractmethod
    def read(self, path: Path, config: Any, context: DataContext) -> list[dict[str, Any]]:
        """Read every sample of the file; raise DataError naming the file if it is not readable."""


def unreadable(path: Path, context: DataContext, what: str, reason: str, hint: str | None = None) -> DataError:
    return DataError(f"data '{context.name}': '{path}' is not {what}: {reason}", hint=hint)


def read_text(path: Path, context: DataContext, what: str) -> str:
    if path.is_dir():
        raise unreadable(path, context, what, "it is a folder")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise unreadable(path, context, what, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise unreadable(path, context, what, str(exc)) from exc
