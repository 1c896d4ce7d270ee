"""Accuracy family for classification: accuracy, F1, precision, recall against the data's labels."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from olive_core.bounds import Index, Int64
from olive_core.errors import DataError
from olive_core.evaluation.batching import describe_array
from olive_core.evaluation.metric import Direction, Metric, MetricConfig, MetricContext
from olive_core.evaluation.postprocess import pick_output

Average = Literal["macro", "micro", "weighted", "binary"]


class AccuracyConfig(MetricConfig):
    output: str | Index = Field(default=0, description="the post-processed output holding predictions (name or index)")
    average: Average = Field(
        default="macro",
        description="how per-class F1/precision/recall combine: macro (unweighted mean), weighted (by support), "
        "micro (global counts), binary (the positive class only)",
    )
    pos_label: Int64 | str = Field(default=1, description="the positive class for average 'binary'")


def classification_scores(labels: np.ndarray, predictions: np.ndarray, average: Average = "macro", pos_label: Any = 1) -> dict[str, float]:
    """accuracy, precision, recall and f1; a class never predicted (or never present) scores 0.

    Classes are the union of labels and predictions, as in the usual definition of macro
    averaging, so a wrongly predicted class that never occurs still lowers the average.
    """
    labels = np.asarray(labels).ravel()
    predictions = np.asarray(predictions).ravel()
    if labels.shape != predictions.shape:
        raise ValueError(f"{labels.size} labels but {predictions.size} predictions")
    accuracy = float(np.mean(labels == predictions)) if labels.size else 0.0
    classes = np.unique(np.concatenate([labels, predictions]))
    if average == "binary":
        classes = np.asarray([pos_label])
    true_pos = np.array([np.sum((predictions == c) & (labels == c)) for c in classes], dtype=np.float64)
    predicted = np.array([np.sum(predictions == c) for c in classes], dtype=np.float64)
    support = np.array([np.sum(labels == c) for c in classes], dtype=np.float64)
    if average == "micro":
        precision = _ratio(true_pos.sum(), predicted.sum())
        recall = _ratio(true_pos.sum(), support.sum())
        return {"accuracy": accuracy, "precision": precision, "recall": recall, "f1": _f1(precision, recall)}
    per_precision = np.array([_ratio(t, p) for t, p in zip(true_pos, predicted)])
    per_recall = np.array([_ratio(t, s) for t, s in zip(true_pos, support)])
    per_f1 = np.array([_f1(p, r) for p, r in zip(per_precision, per_recall)])
    if average == "weighted":
        weights = support / support.sum() if support.sum() else np.zeros_like(support)
    else:  # macro, and binary (one class)
        weights = np.full(len(classes), 1.0 / len(classes))
    return {
        "accuracy": accuracy,
        "precision": float(per_precision @ weights),
        "recall": float(per_recall @ weights),
        "f1": float(per_f1 @ weights),
    }


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


class AccuracyMetric(Metric):
    """Classification scores of the post-processed predictions against the labels of the data.

    Predictions are class ids or labels (use the ``argmax`` or ``logits_to_labels``
    post-processor); raw scores with one more axis than the labels are reduced by argmax.
    """

    Config = AccuracyConfig
    sub_metrics: ClassVar[dict[str, Direction]] = {"accuracy": "max", "f1": "max", "precision": "max", "recall": "max"}

    def measure(self, config: AccuracyConfig, context: MetricContext) -> dict[str, float]:
        if context.labels is None or context.outputs is None:
            raise DataError(
                "metric 'accuracy' needs labels, and its data has no 'label' field",
                hint="name the label field with the loader's 'label' option",
            )
        outputs = context.outputs()
        predictions = []
        for batch_outputs in outputs:
            name = pick_output(batch_outputs, config.output, "metric 'accuracy'")
            predictions.append(np.asarray(batch_outputs[name]))
        labels = np.concatenate([np.asarray(batch) for batch in context.labels])
        predicted = np.concatenate(predictions)
        if predicted.ndim == labels.ndim + 1 and predicted.dtype.kind == "f":
            predicted = np.argmax(predicted, axis=-1)
        if predicted.shape != labels.shape:
            raise DataError(
                f"metric 'accuracy': predictions are {describe_array(predicted)} but labels are {describe_array(labels)}",
                hint="add an 'argmax' or 'logits_to_labels' post-processing step, or pick the right output",
            )
        return classification_scores(labels, predicted, config.average, config.pos_label)
