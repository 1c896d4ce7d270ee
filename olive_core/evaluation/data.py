"""Data components: load samples, pre-process them into model inputs, post-process outputs.

A data config chains them: ``load`` gives a list of samples (dicts), each ``preprocess`` step
maps samples to samples, the engine batches them (stacking arrays key by key), the model runs,
and each ``postprocess`` step maps a batch's outputs to what metrics compare.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    import numpy as np

    from olive_core.models.handler import ModelHandler

Role = Literal["load", "preprocess", "postprocess"]


class DataComponentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class DataContext:
    """What a data component may use: the input model (for its tokenizer), the workflow folder."""

    model: ModelHandler | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    name: str = ""


class DataComponent(ABC):
    """One step of a data config. ``role`` says where in the chain it may stand."""

    role: ClassVar[Role]
    Config: ClassVar[type[DataComponentConfig]] = DataComponentConfig

    @abstractmethod
    def __call__(self, value: Any, config: Any, context: DataContext) -> Any:
        """``load``: ``value`` is None, return a list of sample dicts.
        ``preprocess``: ``value`` is the list of samples, return a new list.
        ``postprocess``: ``value`` is ``(outputs, batch)`` where ``outputs`` maps output names
        to arrays and ``batch`` is the input batch; return a dict of arrays."""

    @classmethod
    def description(cls) -> str:
        return (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")


Batch = dict[str, "np.ndarray"]
