"""Hugging Face tasks: which Auto class loads each, and what the model returns for it.

Plain data, no transformers import: the model type reads it to validate a workflow and to
derive io configs before anything heavy loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

BATCH_AXIS = "batch_size"
SEQUENCE_AXIS = "sequence_length"

Task = Literal[
    "feature-extraction",
    "text-classification",
    "token-classification",
    "question-answering",
    "fill-mask",
    "text-generation",
]


@dataclass(frozen=True)
class TaskSpec:
    """How a task's model is loaded and which of its outputs an exported model keeps."""

    auto_class: str
    #: output name -> dynamic axes of that output
    outputs: dict[str, dict[int, str]]


_PER_TOKEN = {0: BATCH_AXIS, 1: SEQUENCE_AXIS}

TASKS: dict[str, TaskSpec] = {
    "feature-extraction": TaskSpec("AutoModel", {"last_hidden_state": _PER_TOKEN}),
    "text-classification": TaskSpec("AutoModelForSequenceClassification", {"logits": {0: BATCH_AXIS}}),
    "token-classification": TaskSpec("AutoModelForTokenClassification", {"logits": _PER_TOKEN}),
    "question-answering": TaskSpec(
        "AutoModelForQuestionAnswering", {"start_logits": _PER_TOKEN, "end_logits": _PER_TOKEN}
    ),
    "fill-mask": TaskSpec("AutoModelForMaskedLM", {"logits": _PER_TOKEN}),
    # Exported without the key/value cache: one forward pass over the whole sequence.
    "text-generation": TaskSpec("AutoModelForCausalLM", {"logits": _PER_TOKEN}),
}
