"""Evaluation: data components, metrics and the evaluator."""

from olive_core.evaluation.data import DataComponent, DataComponentConfig, DataContext
from olive_core.evaluation.metric import Metric, MetricConfig, MetricContext

__all__ = ["DataComponent", "DataComponentConfig", "DataContext", "Metric", "MetricConfig", "MetricContext"]
