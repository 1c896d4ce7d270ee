"""Metric: measures one aspect of a model and returns named sub-metrics with directions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel

from olive_core.bounds import STRICT_CONFIG

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

    import numpy as np

    from olive_core.accelerators import AcceleratorSpec
    from olive_core.models.handler import ModelHandler
    from olive_core.models.model_type import InferenceSession, ModelType

Direction = Literal["min", "max"]


class MetricConfig(BaseModel):
    model_config = STRICT_CONFIG


@dataclass
class MetricContext:
    """Everything a metric may need, built by the evaluator for one model.

    The callables are lazy and memoized by the evaluator: a metric that never asks for a
    session (``size``) never makes one, and outputs shared by two metrics are computed once.
    """

    model: ModelHandler
    model_type: ModelType
    accelerator: AcceleratorSpec
    #: creates (once) and returns an inference session for the model
    session: Callable[[], InferenceSession]
    #: runtime settings the session was made with (threads, ...), recorded with the result
    settings: dict[str, Any] = field(default_factory=dict)
    #: the metric's data as batches (inputs only, labels removed), or None when it has no data
    batches: list[dict[str, np.ndarray]] | None = None
    #: labels per batch, when the data has a 'label' field
    labels: list[np.ndarray] | None = None
    #: the batches fitted to the session's inputs (extra keys dropped, dtypes cast); makes the session
    model_inputs: Callable[[], list[dict[str, np.ndarray]]] | None = None
    #: post-processed outputs per batch, computed once per model and data
    outputs: Callable[[], list[dict[str, np.ndarray]]] | None = None
    #: the same for the input model, on the same data (for the input model itself: its own outputs)
    reference_outputs: Callable[[], list[dict[str, np.ndarray]]] | None = None
    #: the plugin that registered the model type, so a child process can rebuild it by name
    model_type_plugin: str = ""
    #: the input model, its type and (created once per run) its session: for metrics that compare
    #: with it by running it their own way (greedy generation), not through ``reference_outputs``
    reference_model: ModelHandler | None = None
    reference_model_type: ModelType | None = None
    reference_session: Callable[[], InferenceSession] | None = None
    #: ``shared(key, compute)``: ``compute()`` once per run for this key (a reference result that
    #: every candidate's measurement compares with); keys should start with the metric's name
    shared: Callable[[Hashable, Callable[[], Any]], Any] | None = None


class Metric(ABC):
    """Subclass, declare ``sub_metrics`` with their directions, implement :meth:`measure`."""

    Config: ClassVar[type[MetricConfig]] = MetricConfig
    #: sub-metric name -> "min" (lower is better) or "max"
    sub_metrics: ClassVar[dict[str, Direction]] = {}
    needs_data: ClassVar[bool] = True
    needs_reference: ClassVar[bool] = False
    #: enters the evaluation cache key: bump it when the same model and config measure differently
    version: ClassVar[str] = "1"

    @abstractmethod
    def measure(self, config: Any, context: MetricContext) -> dict[str, float]:
        """Return a value for every sub-metric in ``sub_metrics``."""

    @classmethod
    def description(cls) -> str:
        return (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
