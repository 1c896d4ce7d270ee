"""Data components: load samples, pre-process them into model inputs, post-process outputs.

A data config chains them: ``load`` gives a list of samples (dicts), each ``preprocess`` step
maps samples to samples, the evaluator batches them (stacking arrays key by key, the ``label``
key kept apart), the model runs, and each ``postprocess`` step maps a batch's outputs to what
metrics compare.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel

from olive_core.bounds import STRICT_CONFIG

if TYPE_CHECKING:
    import numpy as np

    from olive_core.models.handler import ModelHandler

Role = Literal["load", "preprocess", "postprocess"]

#: the sample field that holds the label; batching keeps it apart from the model inputs
LABEL_KEY = "label"


class DataComponentConfig(BaseModel):
    model_config = STRICT_CONFIG


@dataclass
class DataContext:
    """What a data component may use: the input model (for its tokenizer), the workflow folder."""

    model: ModelHandler | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    name: str = ""

    def resolve(self, path: str) -> Path:
        """A path from a data config: relative paths start at the workflow file's folder."""
        resolved = Path(path).expanduser()
        return resolved if resolved.is_absolute() else self.base_dir / resolved


class DataComponent(ABC):
    """One step of a data config. ``role`` says where in the chain it may stand.

    Loaded and pre-processed data is cached by content hash: the key holds each step's
    registered name, ``version`` and config, the hashes of the files ``source_files`` names, and
    the input model's id when a step ``uses_model``.
    """

    role: ClassVar[Role]
    Config: ClassVar[type[DataComponentConfig]] = DataComponentConfig
    #: bump when the output for the same config and files changes, so cached data is rebuilt
    version: ClassVar[str] = "1"
    #: whether the output depends on the input model (its tokenizer, its io_config). True by
    #: default because a wrong cache hit is worse than a miss; file loaders set it False.
    uses_model: ClassVar[bool] = True

    @abstractmethod
    def __call__(self, value: Any, config: Any, context: DataContext) -> Any:
        """``load``: ``value`` is None, return a list of sample dicts.
        ``preprocess``: ``value`` is the list of samples, return a new list.
        ``postprocess``: ``value`` is ``(outputs, batch)`` where ``outputs`` maps output names
        to arrays and ``batch`` is the input batch; return a dict of arrays."""

    def source_files(self, config: Any, context: DataContext) -> list[Path]:
        """Local files or folders this step reads; their content enters the data cache key."""
        return []

    @classmethod
    def description(cls) -> str:
        return (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")


Batch = dict[str, "np.ndarray"]
