"""Built-in post-processors: map a batch's outputs to what metrics compare.

Each one transforms one output, chosen by name or index (the first by default), and returns
only the result, under the output's name or ``to``, so that the metrics that follow compare
exactly what the data config says; ``keep_others`` keeps the other outputs beside it.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from olive_core.bounds import Axis, Index
from olive_core.errors import DataError
from olive_core.evaluation.batching import describe_batch
from olive_core.evaluation.data import Batch, DataComponent, DataComponentConfig, DataContext, Role


class OutputStepConfig(DataComponentConfig):
    output: str | Index = Field(default=0, description="the output to transform: its name or index")
    to: str | None = Field(default=None, description="name of the result (default: the output's name)")
    keep_others: bool = Field(default=False, description="keep the other outputs beside the result")


class OutputStep(DataComponent):
    """Base of post-processors that transform one output."""

    role: ClassVar[Role] = "postprocess"
    Config: ClassVar[type[OutputStepConfig]] = OutputStepConfig
    uses_model: ClassVar[bool] = False

    def __call__(self, value: tuple[dict[str, np.ndarray], Batch], config: OutputStepConfig, context: DataContext) -> dict[str, np.ndarray]:
        outputs, batch = value
        name = pick_output(outputs, config.output, f"data '{context.name}': {type(self).__name__}")
        result = self.transform(np.asarray(outputs[name]), batch, config, context)
        kept = {k: v for k, v in outputs.items() if k != name} if config.keep_others else {}
        return {**kept, config.to or name: result}

    @abstractmethod
    def transform(self, array: np.ndarray, batch: Batch, config: Any, context: DataContext) -> np.ndarray:
        """The new value of the chosen output; ``batch`` is the input batch (attention masks)."""


def pick_output(outputs: dict[str, np.ndarray], output: str | int, where: str) -> str:
    """The name of the output that ``output`` (a name or an index) designates; ``where`` starts messages."""
    names = list(outputs)
    if isinstance(output, int):
        if not -len(names) <= output < len(names):
            raise DataError(f"{where} asks for output {output}, but there are {len(names)}: {describe_batch(outputs)}")
        return names[output]
    if output not in outputs:
        raise DataError(
            f"{where} asks for output '{output}', which is not among the outputs",
            hint=f"its outputs: {describe_batch(outputs)}",
        )
    return output


class SelectOutput(OutputStep):
    """Keep one output (by name or index), optionally renamed."""

    def transform(self, array: np.ndarray, batch: Batch, config: OutputStepConfig, context: DataContext) -> np.ndarray:
        return array


class AxisConfig(OutputStepConfig):
    axis: Axis = Field(default=-1, description="the axis to reduce")


class Argmax(OutputStep):
    """The index of the largest value along an axis (class ids from scores)."""

    Config = AxisConfig

    def transform(self, array: np.ndarray, batch: Batch, config: AxisConfig, context: DataContext) -> np.ndarray:
        return np.argmax(array, axis=config.axis)


class L2NormalizeConfig(AxisConfig):
    eps: float = Field(default=1e-12, gt=0, le=1, description="smallest norm divided by, so zero vectors stay zero")


def as_float(array: np.ndarray) -> np.ndarray:
    """Floats stay as they are (fp16 outputs included); integers become float32."""
    return array if array.dtype.kind == "f" else array.astype(np.float32)


def l2_normalize(array: np.ndarray, axis: int = -1, eps: float = 1e-12) -> np.ndarray:
    norms = np.linalg.norm(array, axis=axis, keepdims=True)
    return array / np.maximum(norms, eps)


class L2Normalize(OutputStep):
    """Scale vectors to unit length along an axis."""

    Config = L2NormalizeConfig

    def transform(self, array: np.ndarray, batch: Batch, config: L2NormalizeConfig, context: DataContext) -> np.ndarray:
        return l2_normalize(as_float(array), config.axis, config.eps)


class MeanPoolConfig(OutputStepConfig):
    mask: str = Field(default="attention_mask", description="input field that marks real tokens (1) and padding (0)")
    normalize: bool = Field(default=False, description="l2-normalize the pooled vectors (sentence embeddings)")


def masked_mean(hidden: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Mean over axis 1 of ``[batch, tokens, ...]``, counting only tokens whose mask is set."""
    if mask is None:
        return hidden.mean(axis=1)
    weights = mask.astype(hidden.dtype).reshape(mask.shape + (1,) * (hidden.ndim - mask.ndim))
    total = (hidden * weights).sum(axis=1)
    return total / np.maximum(weights.sum(axis=1), 1e-9)


class MeanPool(OutputStep):
    """Mean of token vectors weighted by the batch's attention mask: sentence embeddings."""

    Config = MeanPoolConfig

    def transform(self, array: np.ndarray, batch: Batch, config: MeanPoolConfig, context: DataContext) -> np.ndarray:
        if array.ndim < 3:
            raise DataError(
                f"data '{context.name}': mean_pool needs token vectors [batch, tokens, hidden], got shape {list(array.shape)}",
                hint="choose the token-level output (e.g. 'last_hidden_state') with 'output'",
            )
        mask = batch.get(config.mask)
        if mask is not None and tuple(mask.shape) != tuple(array.shape[:2]):
            raise DataError(
                f"data '{context.name}': mean_pool's mask '{config.mask}' has shape {list(mask.shape)}, "
                f"but the output has {list(array.shape)}; their first two axes must match"
            )
        pooled = masked_mean(as_float(array), mask)
        return l2_normalize(pooled) if config.normalize else pooled


class LogitsToLabelsConfig(OutputStepConfig):
    labels: list[Any] | None = Field(
        default=None, description="label per class id (e.g. ['negative', 'positive']); default: the class ids"
    )
    threshold: float = Field(default=0.0, description="for one logit per sample: class 1 when the logit is above it")


class LogitsToLabels(OutputStep):
    """Class labels from logits: argmax over classes, or a threshold for a single binary logit."""

    Config = LogitsToLabelsConfig

    def transform(self, array: np.ndarray, batch: Batch, config: LogitsToLabelsConfig, context: DataContext) -> np.ndarray:
        if array.ndim == 1 or array.shape[-1] == 1:
            ids = (array.reshape(array.shape[0], -1)[:, 0] > config.threshold).astype(np.int64)
        else:
            ids = np.argmax(array, axis=-1)
        if config.labels is None:
            return ids
        if int(ids.max(initial=0)) >= len(config.labels):
            raise DataError(
                f"data '{context.name}': logits_to_labels got class id {int(ids.max())} but 'labels' names {len(config.labels)} classes"
            )
        return np.asarray(config.labels)[ids]
