"""ModelHandler: a typed, serializable handle to a model on disk (or on a hub)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from olive_core.models.io_config import IoConfig


class ModelHandler(BaseModel):
    """Where a model lives and what it is; loading it is its model type's job.

    ``path`` is a local file or folder, or (for types that allow it) a hub id. ``files`` are
    extra files that travel with the model to the output folder (a tokenizer, a config), and
    ``attributes`` hold what passes learn and later steps need (session options chosen by
    tuning, fused-op counts, the HF task).
    """

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="registered model type, e.g. 'hf', 'pytorch' or 'onnx'")
    path: str = Field(description="local file or folder, or a hub id")
    id: str = Field(default="", description="content id: a hash of the files, or of the lineage")
    io_config: IoConfig | None = None
    files: list[str] = Field(default_factory=list, description="extra files to ship with the model")
    attributes: dict[str, Any] = Field(default_factory=dict)

    @property
    def local_path(self) -> Path:
        return Path(self.path)

    def derive(self, **changes: Any) -> ModelHandler:
        """A copy with some fields changed; attributes are merged, not replaced."""
        attributes = {**self.attributes, **changes.pop("attributes", {})}
        return self.model_copy(update={**changes, "attributes": attributes}, deep=True)
