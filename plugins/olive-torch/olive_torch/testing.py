"""Tiny Hugging Face models for tests, built from configs with random weights: no hub access.

Used by olive-torch's tests and by the plugins built on it (olive-onnx exports the same tiny
BERT). Only tests import this module; the plugin itself never does, so torch and transformers
load here at call time like everywhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from olive_core.models.handler import ModelHandler
from olive_core.testing.steps import input_handle

WORDS = ["hello", "world", "the", "a", "cat", "dog", "sat", "on", "mat", "is", "good", "bad", "movie", "very"]
#: BERT's special tokens, WORDS, then filler up to 100 entries
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS] + [f"tok{i}" for i in range(100 - 5 - len(WORDS))]

#: a 2-layer BERT, hidden 32 with 2 heads: small enough to export and run in a second
TINY_BERT = {
    "vocab_size": len(VOCAB),
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 37,
}


def save_tiny_tokenizer(folder: Path, vocab: Sequence[str] = VOCAB) -> None:
    """A word-piece BERT tokenizer over ``vocab`` (special tokens first), saved into ``folder``."""
    from transformers import BertTokenizer

    BertTokenizer(vocab={word: index for index, word in enumerate(vocab)}).save_pretrained(folder)


def save_tiny_bert(folder: Path, model_class: str = "BertModel", vocab: Sequence[str] = VOCAB, **config: Any) -> Path:
    """A tiny BERT of a transformers class (seed 0) and its tokenizer, saved into ``folder``;
    ``config`` replaces or adds BertConfig fields of :data:`TINY_BERT`."""
    import torch
    import transformers

    torch.manual_seed(0)
    bert_config = transformers.BertConfig(**{**TINY_BERT, "vocab_size": len(vocab), **config})
    getattr(transformers, model_class)(bert_config).save_pretrained(folder)
    save_tiny_tokenizer(folder, vocab)
    return folder


def hf_handle(folder: Path, task: str, **config: Any) -> ModelHandler:
    """The handle ``olive run`` makes for an ``hf`` input model in ``folder``, loaded for ``task``."""
    return input_handle("hf", folder, model_path=str(folder), task=task, **config)
